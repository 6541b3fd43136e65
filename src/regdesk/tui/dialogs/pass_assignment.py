"""A supervisor corrects a temporary pass's assignment (supervisor screen, ctrl+a): the pass number,
the accreditation id of the person who really holds it (empty: un-assign, the pass is unused again)
and why. The screen's worker records it (services/passes.override_assignment); this dialog only asks."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from regdesk.domain.passes import normalise_pass_serial
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


@dataclass(frozen=True)
class PassAssignmentRequest:
    serial: str  # as typed (a bare number is resolved by the service)
    participant_id: str  # "" = un-assign
    reason: str


class PassAssignmentDialog(FitsSmallTerminals, ModalScreen[PassAssignmentRequest | None]):
    DEFAULT_CSS = (
        dialog_css("PassAssignmentDialog")
        + """
    PassAssignmentDialog > #dialog { border: thick #0d47a1; }
    PassAssignmentDialog #override-serial { width: 20; }
    PassAssignmentDialog #override-participant { width: 30; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#override-serial"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Correct a temporary pass's assignment", classes="dialog-title")
            yield Static(
                "Give the pass to the person who really holds it, or leave the accreditation number "
                "empty to take it back to the unused stock. Scan points follow this once it reaches them.",
                classes="dialog-text",
            )
            yield Label("Pass number (e.g. TP-KQX-0012 or KQX12)", classes="dialog-label")
            yield Input(placeholder="TP-KQX-0012", max_length=14, id="override-serial")
            yield Label("Accreditation number of the holder (empty: un-assign)", classes="dialog-label")
            yield Input(max_length=64, id="override-participant")
            yield Label("Why (recorded in the audit)", classes="dialog-label")
            yield Input(max_length=400, id="override-reason")
            yield Static("", id="override-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="override-cancel")
                yield Button("Record", variant="primary", id="override-ok")

    def _value(self, field: str) -> str:
        return self.query_one(f"#override-{field}", Input).value.strip()

    @on(Input.Submitted)
    @on(Button.Pressed, "#override-ok")
    def submit(self) -> None:
        error = self.query_one("#override-error", Static)
        if normalise_pass_serial(self._value("serial")) is None:
            error.update("Type the number printed on the pass, e.g. TP-KQX-0012.")
            return
        if not self._value("reason"):
            error.update("Say why the assignment is changed: the audit keeps it.")
            return
        self.dismiss(PassAssignmentRequest(self._value("serial"), self._value("participant"), self._value("reason")))

    @on(Button.Pressed, "#override-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
