"""Assign a temporary pass: the number printed on the pass, and the identity document seen (type and
ONLY its last 4 characters). The desk records which person holds which pre-printed pass; scan
points then show the name with TEMPORARY PASS (services/passes.py)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from regdesk.domain.passes import normalise_pass_serial
from regdesk.services.desk import DOCUMENT_TYPES
from regdesk.services.desk_view import DOCUMENT_LABELS
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


@dataclass(frozen=True)
class AssignPassRequest:
    serial: str  # TP0012
    document_type: str
    last4: str


class AssignPassDialog(FitsSmallTerminals, ModalScreen[AssignPassRequest | None]):
    DEFAULT_CSS = (
        dialog_css("AssignPassDialog")
        + """
    AssignPassDialog > #dialog { border: thick #0d47a1; }
    AssignPassDialog #pass-serial { width: 20; }
    AssignPassDialog #pass-last4 { width: 16; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#pass-serial"

    def __init__(self, participant_name: str) -> None:
        super().__init__()
        self.participant_name = participant_name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Temporary pass · {self.participant_name}", classes="dialog-title", markup=False)
            yield Static(
                "Record who holds a pre-printed pass. Type the number printed on it, check an identity "
                "document (only its last 4 characters are kept).",
                classes="dialog-text",
            )
            yield Label("Pass number (e.g. TP-KQX-0012 or KQX12)", classes="dialog-label")
            yield Input(placeholder="TP-KQX-0012", max_length=14, id="pass-serial")
            yield Label("Document type", classes="dialog-label")
            yield Select(
                [(DOCUMENT_LABELS[t], t) for t in DOCUMENT_TYPES],
                value="passport",
                allow_blank=False,
                id="pass-doc-type",
            )
            yield Label("Last 4 characters of the document number", classes="dialog-label")
            yield Input(placeholder="e.g. 4821", max_length=4, restrict=r"[A-Za-z0-9]*", id="pass-last4")
            yield Static("", id="pass-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="pass-cancel")
                yield Button("Assign pass", variant="primary", id="pass-ok")

    def _error(self, text: str, field: str) -> None:
        self.query_one("#pass-error", Static).update(text)
        self.query_one(field, Input).focus()

    @on(Input.Submitted, "#pass-serial")
    def _next_field(self) -> None:
        if normalise_pass_serial(self.query_one("#pass-serial", Input).value) is None:
            self._error("Type the number printed on the pass, e.g. TP-0012 or 12.", "#pass-serial")
            return
        self.query_one("#pass-error", Static).update("")
        self.query_one("#pass-last4", Input).focus()

    @on(Input.Submitted, "#pass-last4")
    @on(Button.Pressed, "#pass-ok")
    def submit(self) -> None:
        serial = normalise_pass_serial(self.query_one("#pass-serial", Input).value)
        if serial is None:
            self._error("Type the number printed on the pass, e.g. TP-0012 or 12.", "#pass-serial")
            return
        last4 = self.query_one("#pass-last4", Input).value.strip().upper()
        if len(last4) != 4:
            self._error("Type exactly the last 4 characters of the document number.", "#pass-last4")
            return
        self.dismiss(AssignPassRequest(serial, str(self.query_one("#pass-doc-type", Select).value), last4))

    @on(Button.Pressed, "#pass-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
