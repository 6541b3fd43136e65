"""Bus boarding at a hotel stop or the venue's stop: scan, verdict, live headcount of this departure.

F2 manual entry (damaged badge, supervisor) · F3 stop / direction / departure from the posted
timetable · F4 close this departure (records it with its headcount and opens the next posted one).

A fresh bus station asks where it stands before the first scan, proposing the stop its name
mentions ("Melia bus stop" -> Melia, to the venue). A boarding over the bus capacity is recorded but
shown in orange as OVER CAPACITY, with the bell (station setting bus.over_capacity_bell).
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Static

from regdesk.domain.words import plural
from regdesk.services import scanning
from regdesk.tui.screens.scan_base import ScannerReady, ScanScreen
from regdesk.tui.widgets.verdict_panel import VerdictPanel

NEAR_FULL = 0.9  # share of capacity from which the headcount turns amber


class BusScreen(ScanScreen):
    POINT_KIND = "bus"
    BINDINGS = [
        *ScanScreen.BINDINGS,
        Binding("f3", "departure", "Departure", tooltip="Stop, direction and departure (timetable)"),
        Binding("f4", "close_departure", "Close bus", tooltip="Close this departure and open the next one"),
    ]
    # Never left off a narrow footer (widgets/keys_footer.py): a marshal's two acts at the door.
    FOOTER_KEEP = frozenset({"departure", "close_departure"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._first_request: Any = None  # the stop chosen at the first sign-in, applied by the worker

    def compose(self):
        for widget in super().compose():
            yield widget
            if widget.id == "point-line":
                yield Static("", id="headcount", markup=False)

    # -- first start: where is this stop? --

    def start_lane(self) -> None:
        if scanning.configured_point(self.station) is not None:
            super().start_lane()
            return
        from regdesk.tui.dialogs.scan_point import DepartureDialog, DepartureRequest

        proposal = scanning.propose_point(self.station)
        self.query_one(VerdictPanel).show_ready("Choose this stop first (F3 changes it later)")

        def chosen(request: DepartureRequest | None) -> None:
            self._first_request = request or DepartureRequest(proposal, "", "")
            super(BusScreen, self).start_lane()

        self.app.push_screen(DepartureDialog(self.station, proposal, None, first_time=True), chosen)

    def make_scanner(self) -> scanning.Scanner:
        request, self._first_request = self._first_request, None
        if request is not None:
            scanning.configure_point(self.station, request.point)
            scanning.start_departure(self.station, request.point, bus=request.bus, time=request.time)
        return super().make_scanner()

    # -- header --

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
        over = bool(capacity) and headcount > capacity
        full = bool(capacity) and headcount == capacity
        near = bool(capacity) and headcount < capacity and headcount >= capacity * NEAR_FULL
        text = f"ON BOARD  {headcount} / {capacity}"
        if over:
            text += f"   OVER CAPACITY by {plural(headcount - capacity, 'person', 'people')}: close this bus (F4)"
        elif full:
            text += "   BUS FULL: close this departure (F4) and board the next bus"
        widget.update(text, layout=False)  # a fixed-size line (scan.tcss): no layout on every boarding
        widget.set_class(over, "-over")
        widget.set_class(full, "-full")
        widget.set_class(near, "-near")

    def after_result(self, result: scanning.ScanResult) -> None:
        if result.headcount is not None:
            self.scanner_info["headcount"] = result.headcount
            self._show_headcount(result.headcount, result.capacity or 0)

    @property
    def headcount(self) -> int:
        return int(self.scanner_info.get("headcount", 0))

    # -- departures --

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

        self.app.push_screen(
            DepartureDialog(self.station, self.scanner_info.get("point"), self.scanner_info.get("departure")), done
        )

    def action_close_departure(self) -> None:
        from regdesk.tui.dialogs.confirm import ConfirmDialog

        departure = self.scanner_info.get("departure")
        point = self.scanner_info.get("point")
        if departure is None or point is None:
            return
        upcoming = scanning.proposed_departure(self.station, point, after=departure.time or None)
        following = (
            f"The next departure, {upcoming.time} on the timetable, opens at once."
            if upcoming
            else "A new departure opens at once (none left on today's timetable: set its time with F3)."
        )

        def close(scanner: scanning.Scanner) -> ScannerReady:
            scanner.close_departure()
            return ScannerReady(self.describe(scanner))

        def done(yes: bool | None) -> None:
            if yes:
                self.submit_job(close)

        self.app.push_screen(
            ConfirmDialog(
                "Close this departure?",
                f"{departure.label}: {plural(self.headcount, 'person', 'people')} on board. {following}",
                yes="Close departure",
            ),
            done,
        )
