"""Identity check: document type and ONLY the last 4 characters of its number (never the whole number)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from regdesk.services.desk import DOCUMENT_TYPES
from regdesk.services.desk_view import DOCUMENT_LABELS
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


@dataclass(frozen=True)
class IdentityCheckResult:
    document_type: str
    last4: str


class IdentityCheckDialog(FitsSmallTerminals, ModalScreen[IdentityCheckResult | None]):
    DEFAULT_CSS = dialog_css("IdentityCheckDialog") + """
    IdentityCheckDialog #id-last4 { width: 16; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    # Passport is preselected, so the usual case is: type 4 characters, Enter.
    AUTO_FOCUS = "#id-last4"

    def __init__(self, participant_name: str) -> None:
        super().__init__()
        self.participant_name = participant_name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Identity check · {self.participant_name}", classes="dialog-title")
            yield Static("Compare the document with the person. Record its type and only the LAST 4 characters "
                         "of its number: the full number is never stored.", classes="dialog-text")
            yield Label("Document type", classes="dialog-label")
            yield Select([(DOCUMENT_LABELS[t], t) for t in DOCUMENT_TYPES], value="passport", allow_blank=False,
                         id="id-type")
            yield Label("Last 4 characters of the document number", classes="dialog-label")
            yield Input(placeholder="e.g. 4821", max_length=4, restrict=r"[A-Za-z0-9]*", id="id-last4")
            yield Static("", id="id-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="id-cancel")
                yield Button("Record check", variant="primary", id="id-ok")

    @on(Input.Submitted, "#id-last4")
    @on(Button.Pressed, "#id-ok")
    def submit(self) -> None:
        last4 = self.query_one("#id-last4", Input).value.strip().upper()
        if len(last4) != 4:
            self.query_one("#id-error", Static).update("Type exactly the last 4 characters of the document number.")
            self.query_one("#id-last4", Input).focus()
            return
        doc_type = self.query_one("#id-type", Select).value
        self.dismiss(IdentityCheckResult(str(doc_type), last4))

    @on(Button.Pressed, "#id-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
