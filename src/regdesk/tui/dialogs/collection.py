"""Collection by a focal point: tick the members whose badges the collector takes, record the
collector's identity document (type + last 4, or read with the passport reader) and the
reference of the letter that authorises it. Returns a `CollectionRequest`; the desk issues the
batch (services/collection.py) and says member by member what happened.

Members who cannot collect (withdrawn, already holding a badge) are listed but cannot be ticked.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static
from textual.widgets.selection_list import Selection

from regdesk.services import idcheck
from regdesk.services.collection import DelegationRoster, authorisation_problem
from regdesk.services.desk import DOCUMENT_TYPES
from regdesk.services.desk_view import DOCUMENT_LABELS
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css
from regdesk.tui.widgets.mrz_input import MrzInput, MrzRead


@dataclass(frozen=True)
class CollectionRequest:
    collector_id: str
    member_ids: tuple[str, ...]
    document_type: str
    last4: str
    authorisation: str
    details: dict | None = None  # what a passport reader added about the collector's document


class CollectionDialog(FitsSmallTerminals, ModalScreen[CollectionRequest | None]):
    DEFAULT_CSS = (
        dialog_css("CollectionDialog")
        + """
    CollectionDialog > #dialog { width: 76; }
    CollectionDialog #co-members { height: auto; max-height: 8; border: none; padding: 0; background: $panel; }
    CollectionDialog #co-members:focus { background: $panel-lighten-1; }
    CollectionDialog .co-row { height: auto; width: 100%; }
    CollectionDialog #co-type { width: 1fr; }
    CollectionDialog #co-last4 { width: 16; margin-left: 1; }
    CollectionDialog #co-document { color: $success; height: auto; }
    CollectionDialog #co-document.-warning { color: $warning; text-style: bold; }
    CollectionDialog.-short #co-members { max-height: 6; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#co-members"

    def __init__(self, roster: DelegationRoster, collector_id: str, collector_name: str) -> None:
        super().__init__()
        self.roster = roster
        self.collector_id = collector_id
        self.collector_name = collector_name
        self.document: idcheck.DocumentRead | None = None
        self.name_matches = True

    def compose(self) -> ComposeResult:
        roster = self.roster
        with Vertical(id="dialog"):
            yield Static(f"Collection by a focal point · {roster.delegation}", classes="dialog-title", markup=False)
            use = f" · {roster.use_text}" if roster.use_text else ""
            yield Static(
                f"Collector: {self.collector_name} ({self.collector_id}){use}",
                id="co-collector",
                classes="dialog-text",
                markup=False,
            )
            yield Label("Members whose badges they collect (space ticks)", classes="dialog-label")
            yield SelectionList[str](
                *[
                    Selection(
                        f"{m.name}{' (head)' if m.role == 'head' else ''} · {m.state_words}",
                        m.accreditation_id,
                        False,
                        disabled=not m.can_collect,
                    )
                    for m in roster.members
                ],
                id="co-members",
            )
            yield Label("Collector's document: type and last 4 (or read the passport)", classes="dialog-label")
            with Horizontal(classes="co-row"):
                yield Select(
                    [(DOCUMENT_LABELS[t], t) for t in DOCUMENT_TYPES], value="passport", allow_blank=False, id="co-type"
                )
                yield MrzInput(placeholder="last 4", max_length=4, restrict=r"[A-Za-z0-9]*", id="co-last4")
            yield Static("", id="co-document", markup=False)
            yield Label("Authorisation: reference of the note verbale or letter", classes="dialog-label")
            yield MrzInput(placeholder="e.g. NV 123/2017 of the Permanent Mission", max_length=300, id="co-auth")
            yield Static("", id="co-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="co-cancel")
                yield Button("Issue the ticked badges", variant="primary", id="co-ok")

    def on_mount(self) -> None:
        self.query_one("#co-document").display = False

    def _error(self, text: str, focus: str | None = None) -> None:
        self.query_one("#co-error", Static).update(text)
        if focus:
            self.set_focus(self.query_one(focus))

    # --- the collector's document from a passport reader -----------------------------------------

    @on(MrzRead)
    def _passport_read(self, event: MrzRead) -> None:
        event.stop()
        if event.field.id == "co-auth":
            self._error(
                "A passport was read into the authorisation: nothing of it was kept. Read it into the document field.",
                "#co-last4",
            )
            self.app.bell()
            return
        self._read(event.text)

    @work(thread=True, exit_on_error=False, group="collector-document", description="collector's passport")
    def _read(self, text: str) -> None:
        station = self.app.station  # type: ignore[attr-defined]
        try:
            document = idcheck.read(station, text)
            _participant, names, warnings, _notes = idcheck.assess(station, self.collector_id, document)
        except idcheck.DocumentUnreadable as exc:
            self.app.call_from_thread(self._error, f"Passport not read: {exc.problem}.", "#co-last4")
            return
        self.app.call_from_thread(self._document_read, document, names.matches, tuple(warnings))

    def _document_read(self, document: idcheck.DocumentRead, name_matches: bool, warnings: tuple[str, ...]) -> None:
        self.document = document
        self.name_matches = name_matches
        self.query_one("#co-type", Select).value = document.document_type
        self.query_one("#co-last4", Input).value = document.last4
        shown = self.query_one("#co-document", Static)
        shown.update(" ".join((f"Read: {document.summary()}.", *warnings)))
        shown.set_class(bool(warnings), "-warning")
        shown.display = True
        self._error("", "#co-auth")
        if warnings:
            self.app.bell()

    # --- submit ------------------------------------------------------------------------------------

    @on(Input.Submitted, "#co-last4")
    def _next_field(self) -> None:
        self.set_focus(self.query_one("#co-auth"))

    @on(Input.Submitted, "#co-auth")
    @on(Button.Pressed, "#co-ok")
    def submit(self) -> None:
        members = tuple(self.query_one("#co-members", SelectionList).selected)
        doc_type = str(self.query_one("#co-type", Select).value)
        last4 = self.query_one("#co-last4", Input).value.strip().upper()
        authorisation = self.query_one("#co-auth", Input).value.strip()
        if not members:
            self._error("Tick at least one member (space).", "#co-members")
            return
        if len(last4) != 4:
            self._error("The collector's document: type exactly its last 4 characters, or read it.", "#co-last4")
            return
        problem = authorisation_problem(authorisation)
        if problem:
            self._error(f"Authorisation: {problem}.", "#co-auth")
            return
        details = None
        document = self.document
        if document is not None and document.last4 == last4 and document.document_type == doc_type:
            details = {"read_by": "mrz", "expired": document.expired, "name_matches": self.name_matches}
        self.dismiss(CollectionRequest(self.collector_id, members, doc_type, last4, authorisation, details))

    @on(Button.Pressed, "#co-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
