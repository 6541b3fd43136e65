"""Supervisor override: the supervisor signs in with name + PIN and writes why the rule is set aside."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from regdesk.services.desk import OverrideRequest
from regdesk.tui.dialogs._base import dialog_css
from regdesk.tui.widgets.fields import FORM_BINDINGS, TypeAheadForm


class OverrideDialog(TypeAheadForm, ModalScreen[OverrideRequest | None]):
    DEFAULT_CSS = dialog_css("OverrideDialog") + """
    OverrideDialog > #dialog { border: thick $warning; }
    OverrideDialog #ov-refusal { color: $warning; text-style: bold; }
    OverrideDialog #ov-pin { width: 20; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"), *FORM_BINDINGS]
    AUTO_FOCUS = "#ov-supervisor"
    FORM_FIELDS = ("ov-supervisor", "ov-pin", "ov-reason")

    def __init__(self, participant_name: str, refusal: str, refusal_text: str) -> None:
        super().__init__()
        self.participant_name = participant_name
        self.refusal = refusal
        self.refusal_text = refusal_text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Supervisor override · {self.participant_name}", classes="dialog-title")
            yield Static(f"{self.refusal_text} [{self.refusal}]", id="ov-refusal", classes="dialog-text",
                         markup=False)
            yield Static("The override is recorded with the supervisor's name and the reason.", classes="dialog-text")
            yield Label("Supervisor name", classes="dialog-label")
            yield Input(id="ov-supervisor", max_length=120)
            yield Label("Supervisor passphrase", classes="dialog-label")
            yield Input(id="ov-pin", password=True, max_length=200)
            yield Label("Reason (written, kept in the record)", classes="dialog-label")
            yield Input(id="ov-reason", max_length=300, placeholder="e.g. head of delegation confirmed in writing")
            yield Static("", id="ov-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="ov-cancel")
                yield Button("Override and issue", variant="warning", id="ov-ok")

    @on(Button.Pressed, "#ov-ok")
    def submit_form(self) -> None:
        supervisor = self.query_one("#ov-supervisor", Input).value.strip()
        pin = self.query_one("#ov-pin", Input).value
        reason = self.query_one("#ov-reason", Input).value.strip()
        missing = [label for label, value in (("supervisor name", supervisor), ("PIN", pin), ("reason", reason))
                   if not value]
        if missing:
            self.query_one("#ov-error", Static).update("Missing: " + ", ".join(missing) + ".")
            return
        self.dismiss(OverrideRequest(supervisor, pin, reason))

    @on(Button.Pressed, "#ov-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
