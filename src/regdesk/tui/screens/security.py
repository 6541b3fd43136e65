"""Security screening at the venue: scan, read the full-screen verdict, compare the person.

F2 manual entry (damaged badge, supervisor PIN) · F3 checkpoint of this lane.
Entries per person per day are counted; re-entry is normal and shown as "Entry N today".
"""

from __future__ import annotations

from textual.binding import Binding

from regdesk.services import scanning
from regdesk.tui.screens.scan_base import ScanScreen


class SecurityScreen(ScanScreen):
    POINT_KIND = "security"
    BINDINGS = [
        *ScanScreen.BINDINGS,
        Binding("f3", "checkpoint", "Checkpoint"),
    ]

    def action_checkpoint(self) -> None:
        from regdesk.tui.dialogs.scan_point import CheckpointDialog

        def done(point: scanning.ScanPoint | None) -> None:
            if point is None:
                return
            station, operator = self.station, self.operator_name

            def switch(_old: scanning.Scanner) -> scanning.Scanner:
                scanning.configure_point(station, point)
                return scanning.Scanner(station, operator, point)

            self.submit_job(switch)

        self.app.push_screen(CheckpointDialog(self.station.config, self.scanner_info.get("point")), done)
