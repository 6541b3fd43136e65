"""Setting up a scan point: the checkpoint of a security lane, or the stop, direction and departure
(bus number, scheduled time) of a bus marshal.

The departure dialog lists today's departures of the stop from the timetable posted at the
accreditation centre (event config, [[bus.departures]]): the next one is highlighted, Enter takes
it, 1-9 take the first nine. A bus that is not on the timetable gets its time typed instead."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from regdesk.config import EventConfig, ScheduledDeparture
from regdesk.domain.buses import TO_VENUE, bus_direction
from regdesk.services import scanning
from regdesk.services.scanning import Departure, ScanError, ScanPoint, direction_choices, normalise_time
from regdesk.services.station import Station
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


class CheckpointDialog(FitsSmallTerminals, ModalScreen[ScanPoint | None]):
    DEFAULT_CSS = dialog_css("CheckpointDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#cp-checkpoint"

    def __init__(self, config, current: ScanPoint | None) -> None:  # noqa: ANN001 (EventConfig)
        super().__init__()
        self.config = config
        self.current = current

    def compose(self) -> ComposeResult:
        options = [(p.name, p.code) for p in self.config.checkpoints]
        value = self.current.code if self.current else options[0][1]
        with Vertical(id="dialog"):
            yield Static("Security checkpoint of this lane", classes="dialog-title")
            yield Select(options, value=value, allow_blank=False, id="cp-checkpoint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cp-cancel")
                yield Button("Use this checkpoint", variant="primary", id="cp-ok")

    @on(Button.Pressed, "#cp-ok")
    def submit(self) -> None:
        self.dismiss(ScanPoint("security", str(self.query_one("#cp-checkpoint", Select).value)))

    @on(Button.Pressed, "#cp-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class DepartureRequest:
    point: ScanPoint
    bus: str
    time: str


class TimetableList(OptionList):
    """Today's posted departures; a digit key takes the departure with that number."""

    async def _on_key(self, event: events.Key) -> None:
        if event.character and event.character in "123456789":
            index = int(event.character) - 1
            if index < self.option_count:
                event.stop()
                event.prevent_default()
                self.highlighted = index
                self.action_select()
                return


def _direction_word(direction: str, config: EventConfig) -> str:
    return f"to the {config.venue_stop.short}" if bus_direction(direction) == TO_VENUE else "to the hotels"


class DepartureDialog(FitsSmallTerminals, ModalScreen[DepartureRequest | None]):
    DEFAULT_CSS = (
        dialog_css("DepartureDialog")
        + """
    DepartureDialog > #dialog { width: 76; }
    DepartureDialog .dep-row { height: auto; }
    DepartureDialog .dep-row > Vertical { width: 1fr; height: auto; }
    DepartureDialog .dep-row > Vertical:first-of-type { margin-right: 2; }
    DepartureDialog #dep-timetable { height: auto; max-height: 8; }
    DepartureDialog.-short #dep-timetable { max-height: 5; border: none; padding: 0; }
    DepartureDialog #dep-bus, DepartureDialog #dep-time { width: 1fr; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(
        self, station: Station, point: ScanPoint | None, departure: Departure | None, *, first_time: bool = False
    ) -> None:
        super().__init__()
        self.station = station
        self.config = station.config
        self.point = point
        self.departure = departure
        self.first_time = first_time
        self._shown: tuple[ScheduledDeparture, ...] = ()

    @property
    def AUTO_FOCUS(self) -> str:  # noqa: N802 (Textual's name)
        # The proposed stop is on screen; the next posted departure is one Enter away.
        has_timetable = self.point is not None and bool(scanning.timetable(self.station, self.point))
        return "#dep-timetable" if has_timetable else "#dep-bus"

    def compose(self) -> ComposeResult:
        stops = [(p.name, p.code) for p in self.config.bus_stops]
        title = "Where is this bus stop?" if self.first_time else "Bus stop and departure"
        with Vertical(id="dialog"):
            yield Static(title, classes="dialog-title")
            if self.first_time:
                yield Static(
                    "Choose the stop and direction this lane boards (proposed from the station's name).",
                    classes="dialog-text",
                )
            with Horizontal(classes="dep-row"):
                with Vertical():
                    yield Label("Stop", classes="dialog-label")
                    yield Select(
                        stops, value=self.point.code if self.point else stops[0][1], allow_blank=False, id="dep-stop"
                    )
                with Vertical():
                    yield Label("Direction", classes="dialog-label")
                    yield Select(
                        direction_choices(self.station.config),
                        value=self.point.direction if self.point else TO_VENUE,
                        allow_blank=False,
                        id="dep-direction",
                    )
            yield Label("", id="dep-timetable-label", classes="dialog-label")
            yield TimetableList(id="dep-timetable")
            with Horizontal(classes="dep-row"):
                with Vertical():
                    yield Label("Bus number", classes="dialog-label")
                    yield Input(self.departure.bus if self.departure else "", id="dep-bus", max_length=16)
                with Vertical():
                    yield Label("Other time (HH:MM)", classes="dialog-label")
                    yield Input(
                        self.departure.time if self.departure else "", id="dep-time", max_length=5, restrict=r"[0-9:.]*"
                    )
            yield Static("", id="dep-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="dep-cancel")
                yield Button("Save", variant="primary", id="dep-ok")

    def on_mount(self) -> None:
        self._show_timetable()

    def _point(self) -> ScanPoint:
        return ScanPoint(
            "bus", str(self.query_one("#dep-stop", Select).value), str(self.query_one("#dep-direction", Select).value)
        )

    @on(Select.Changed)
    def _show_timetable(self) -> None:
        point = self._point()
        self._shown = scanning.timetable(self.station, point)
        listing = self.query_one("#dep-timetable", TimetableList)
        listing.clear_options()
        listing.add_options(
            [
                Option(
                    f"{i if i <= 9 else ' '}  {d.time}  {_direction_word(d.direction, self.station.config)}"
                    + (f"  ({d.route})" if d.route else ""),
                    id=str(i - 1),
                )
                for i, d in enumerate(self._shown, start=1)
            ]
        )
        label = self.query_one("#dep-timetable-label", Label)
        if not self._shown:
            listing.display = False
            label.update("No posted departure today at this stop: type the time below.")
            return
        listing.display = True
        label.update("Timetable (posted at the accreditation centre): Enter or 1-9")
        current = (
            self.departure.time
            if self.departure and (self.departure.stop, self.departure.direction) == (point.code, point.direction)
            else ""
        )
        proposed = scanning.proposed_departure(self.station, point)
        wanted = current or (proposed.time if proposed else "")
        times = [d.time for d in self._shown]
        listing.highlighted = times.index(wanted) if wanted in times else 0

    @on(OptionList.OptionSelected, "#dep-timetable")
    def _taken(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        time = self._shown[int(str(event.option.id))].time
        self.dismiss(DepartureRequest(self._point(), self.query_one("#dep-bus", Input).value.strip(), time))

    @on(Input.Submitted, "#dep-bus")
    def _to_time(self) -> None:
        self.query_one("#dep-time", Input).focus()

    @on(Input.Submitted, "#dep-time")
    @on(Button.Pressed, "#dep-ok")
    def submit(self) -> None:
        time = self.query_one("#dep-time", Input).value
        try:
            time = normalise_time(time)
        except ScanError as exc:
            self.query_one("#dep-error", Static).update(str(exc))
            return
        if not time and self._shown and self.query_one("#dep-timetable", TimetableList).highlighted is not None:
            time = self._shown[self.query_one("#dep-timetable", TimetableList).highlighted or 0].time
        self.dismiss(DepartureRequest(self._point(), self.query_one("#dep-bus", Input).value.strip(), time))

    @on(Button.Pressed, "#dep-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
