"""Bus boarding at a hotel stop or the ICC stop: scan, verdict, live headcount of this departure.

F2 manual entry (damaged badge, supervisor PIN) · F3 stop / direction / bus number and time ·
F4 close this departure (records it with its headcount and opens the next one).
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Static

from regdesk.services import scanning
from regdesk.tui.screens.scan_base import ScanScreen, ScannerReady

NEAR_FULL = 0.9  # share of capacity from which the headcount turns amber


class BusScreen(ScanScreen):
    POINT_KIND = "bus"
    BINDINGS = [
        *ScanScreen.BINDINGS,
        Binding("f3", "departure", "Stop / departure"),
        Binding("f4", "close_departure", "Close departure"),
    ]

    def compose(self):
        for widget in super().compose():
            yield widget
            if widget.id == "point-line":
                yield Static("", id="headcount", markup=False)

    def describe(self, scanner: scanning.Scanner) -> dict[str, Any]:
        info = super().describe(scanner)
        info.update(departure=scanner.departure, headcount=scanner.headcount, capacity=scanner.capacity)
        return info

    def refresh_point_line(self) -> None:
        info = self.scanner_info
        departure = info.get("departure")
        label = info.get("label", "")
        self.query_one("#point-line", Static).update(f"{label}  ·  {departure.label}" if departure else label)
        self._show_headcount(info.get("headcount", 0), info.get("capacity", 0))

    def _show_headcount(self, headcount: int, capacity: int) -> None:
        widget = self.query_one("#headcount", Static)
        full = bool(capacity) and headcount >= capacity
        near = bool(capacity) and not full and headcount >= capacity * NEAR_FULL
        text = f"ON BOARD  {headcount} / {capacity}"
        if full:
            text += "   BUS FULL: close this departure (F4) and board the next bus"
        widget.update(text)
        widget.set_class(full, "-full")
        widget.set_class(near, "-near")

    def after_result(self, result: scanning.ScanResult) -> None:
        if result.headcount is not None:
            self.scanner_info["headcount"] = result.headcount
            self._show_headcount(result.headcount, result.capacity or 0)

    @property
    def headcount(self) -> int:
        return int(self.scanner_info.get("headcount", 0))

    def action_departure(self) -> None:
        from regdesk.tui.dialogs.scan_point import DepartureDialog, DepartureRequest

        def done(request: DepartureRequest | None) -> None:
            if request is None:
                return
            station, operator = self.station, self.operator_name

            def apply(scanner: scanning.Scanner) -> scanning.Scanner | ScannerReady:
                if request.point == scanner.point:
                    scanner.set_departure(bus=request.bus, time=request.time)
                    return ScannerReady(self.describe(scanner))
                scanning.configure_point(station, request.point)
                scanning.start_departure(station, request.point, bus=request.bus, time=request.time)
                return scanning.Scanner(station, operator, request.point)

            self.submit_job(apply)

        self.app.push_screen(DepartureDialog(self.station.config, self.scanner_info.get("point"),
                                             self.scanner_info.get("departure")), done)

    def action_close_departure(self) -> None:
        from regdesk.tui.dialogs.confirm import ConfirmDialog

        departure = self.scanner_info.get("departure")
        if departure is None:
            return

        def close(scanner: scanning.Scanner) -> ScannerReady:
            scanner.close_departure()
            return ScannerReady(self.describe(scanner))

        def done(yes: bool | None) -> None:
            if yes:
                self.submit_job(close)

        self.app.push_screen(ConfirmDialog(
            "Close this departure?",
            f"{departure.label}: {self.headcount} on board. The next departure starts at once.",
            yes="Close departure"), done)
