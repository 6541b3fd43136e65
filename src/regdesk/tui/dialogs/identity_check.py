"""Identity check: document type and ONLY the last 4 characters of its number (never the whole number).

A passport reader may type the document's MRZ into the last-4 field: the dialog then takes the type
and the last 4 characters from it (services/idcheck.py) and records the check with the document's
warnings (expired, name). A passport already read at the search box arrives as `document`.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from regdesk.services import idcheck
from regdesk.services.desk import DOCUMENT_TYPES
from regdesk.services.desk_view import DOCUMENT_LABELS
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css
from regdesk.tui.widgets.mrz_input import MrzInput, MrzRead


@dataclass(frozen=True)
class IdentityCheckResult:
    document_type: str
    last4: str
    document: idcheck.DocumentRead | None = None  # read by a passport reader (never the full number)


class IdentityCheckDialog(FitsSmallTerminals, ModalScreen[IdentityCheckResult | None]):
    DEFAULT_CSS = (
        dialog_css("IdentityCheckDialog")
        + """
    IdentityCheckDialog #id-last4 { width: 16; }
    IdentityCheckDialog #id-document { color: $success; }
    IdentityCheckDialog #id-document.-warning { color: $warning; text-style: bold; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    # Passport is preselected, so the usual case is: type 4 characters, Enter.
    AUTO_FOCUS = "#id-last4"

    def __init__(self, participant_name: str, document: idcheck.DocumentRead | None = None) -> None:
        super().__init__()
        self.participant_name = participant_name
        self.document = document

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Identity check · {self.participant_name}", classes="dialog-title")
            yield Static(
                "Compare the document with the person. Record its type and only the LAST 4 characters "
                "of its number (or read it with the passport reader): the full number is never stored.",
                classes="dialog-text",
            )
            yield Static(
                self._document_words(),
                id="id-document",
                markup=False,
                classes="dialog-text" + (" -warning" if self.document and self.document.expired else ""),
            )
            yield Label("Document type", classes="dialog-label")
            yield Select(
                [(DOCUMENT_LABELS[t], t) for t in DOCUMENT_TYPES],
                value=self.document.document_type if self.document else "passport",
                allow_blank=False,
                id="id-type",
            )
            yield Label("Last 4 characters of the document number", classes="dialog-label")
            yield MrzInput(
                placeholder="e.g. 4821",
                max_length=4,
                restrict=r"[A-Za-z0-9]*",
                id="id-last4",
                value=self.document.last4 if self.document else "",
            )
            yield Static("", id="id-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="id-cancel")
                yield Button("Record check", variant="primary", id="id-ok")

    def on_mount(self) -> None:
        self.query_one("#id-document").display = self.document is not None

    def _document_words(self) -> str:
        if self.document is None:
            return ""
        return f"From the passport reader: {self.document.summary()}"

    @on(MrzRead)
    def _passport_read(self, event: MrzRead) -> None:
        event.stop()
        try:
            document = idcheck.read(self.app.station, event.text)  # type: ignore[attr-defined]
        except idcheck.DocumentUnreadable as exc:
            self.query_one("#id-error", Static).update(f"Passport not read: {exc.problem}.")
            self.app.bell()
            return
        self.dismiss(IdentityCheckResult(document.document_type, document.last4, document))

    @on(Input.Submitted, "#id-last4")
    @on(Button.Pressed, "#id-ok")
    def submit(self) -> None:
        last4 = self.query_one("#id-last4", Input).value.strip().upper()
        if len(last4) != 4:
            self.query_one("#id-error", Static).update("Type exactly the last 4 characters of the document number.")
            self.query_one("#id-last4", Input).focus()
            return
        doc_type = self.query_one("#id-type", Select).value
        document = self.document
        if document is not None and (document.last4 != last4 or document.document_type != doc_type):
            document = None  # the clerk typed another document: a manual check
        self.dismiss(IdentityCheckResult(str(doc_type), last4, document))

    @on(Button.Pressed, "#id-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
