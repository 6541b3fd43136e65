"""Setting up a scan point: the checkpoint of a security lane, or the stop, direction and departure
(bus number, scheduled time) of a bus marshal."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from regdesk.config import EventConfig
from regdesk.services.scanning import DIRECTIONS, Departure, ScanError, ScanPoint, normalise_time
from regdesk.tui.dialogs._base import dialog_css


class CheckpointDialog(ModalScreen[ScanPoint | None]):
    DEFAULT_CSS = dialog_css("CheckpointDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#cp-checkpoint"

    def __init__(self, config: EventConfig, current: ScanPoint | None) -> None:
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


class DepartureDialog(ModalScreen[DepartureRequest | None]):
    DEFAULT_CSS = dialog_css("DepartureDialog") + """
    DepartureDialog #dep-bus, DepartureDialog #dep-time { width: 20; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#dep-bus"

    def __init__(self, config: EventConfig, point: ScanPoint | None, departure: Departure | None) -> None:
        super().__init__()
        self.config = config
        self.point = point
        self.departure = departure

    def compose(self) -> ComposeResult:
        stops = [(p.name, p.code) for p in self.config.bus_stops]
        with Vertical(id="dialog"):
            yield Static("Bus stop and departure", classes="dialog-title")
            yield Label("Stop", classes="dialog-label")
            yield Select(stops, value=self.point.code if self.point else stops[0][1], allow_blank=False,
                         id="dep-stop")
            yield Label("Direction", classes="dialog-label")
            yield Select([(label, code) for code, label in DIRECTIONS.items()],
                         value=self.point.direction if self.point else "to_icc", allow_blank=False,
                         id="dep-direction")
            yield Label("Bus number", classes="dialog-label")
            yield Input(self.departure.bus if self.departure else "", id="dep-bus", max_length=16)
            yield Label("Departure time (HH:MM, local)", classes="dialog-label")
            yield Input(self.departure.time if self.departure else "", id="dep-time", max_length=5,
                        restrict=r"[0-9:.]*")
            yield Static("", id="dep-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="dep-cancel")
                yield Button("Save", variant="primary", id="dep-ok")

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
        point = ScanPoint("bus", str(self.query_one("#dep-stop", Select).value),
                          str(self.query_one("#dep-direction", Select).value))
        self.dismiss(DepartureRequest(point, self.query_one("#dep-bus", Input).value.strip(), time))

    @on(Button.Pressed, "#dep-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
