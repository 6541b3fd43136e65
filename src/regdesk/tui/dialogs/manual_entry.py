"""Manual entry at a scan point for a damaged badge: find the person by name, a supervisor
confirms with name + PIN; the scan is recorded as manual with the supervisor's name."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from regdesk.services import lookup, operators
from regdesk.services.station import Station
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


@dataclass(frozen=True)
class ManualEntryRequest:
    participant_id: str
    supervisor: str
    pin: str
    note: str


class ManualEntryDialog(FitsSmallTerminals, ModalScreen[ManualEntryRequest | None]):
    DEFAULT_CSS = (
        dialog_css("ManualEntryDialog")
        + """
    ManualEntryDialog > #dialog { width: 90; border: thick $warning; }
    ManualEntryDialog.-short > #dialog { border: tall $warning; }
    ManualEntryDialog #me-results { height: 7; }
    ManualEntryDialog.-short #me-results { height: 4; border: none; padding: 0; }
    ManualEntryDialog #me-confirm { height: auto; }
    ManualEntryDialog #me-supervisor-box { width: 1fr; height: auto; margin-right: 2; }
    ManualEntryDialog #me-pin-box { width: 1fr; height: auto; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#me-query"

    def __init__(self, station: Station) -> None:
        super().__init__()
        self.station = station
        self._hits: dict[str, lookup.SearchHit] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Manual entry · damaged badge", classes="dialog-title")
            yield Static(
                "Find the person by name, compare with their identity document, then a supervisor "
                "confirms. Recorded as a manual scan.",
                classes="dialog-text",
            )
            yield Label("Name, delegation or accreditation id", classes="dialog-label")
            yield Input(id="me-query", max_length=120)
            yield OptionList(id="me-results")
            # Name and PIN side by side: the whole card, buttons included, fits a 40-row terminal.
            with Horizontal(id="me-confirm"):
                with Vertical(id="me-supervisor-box"):
                    yield Label("Supervisor name", classes="dialog-label")
                    yield Input(id="me-supervisor", max_length=120)
                with Vertical(id="me-pin-box"):
                    yield Label("Supervisor passphrase", classes="dialog-label")
                    yield Input(id="me-pin", password=True, max_length=200)
            yield Label("Note (optional)", classes="dialog-label")
            yield Input(id="me-note", max_length=200, placeholder="e.g. QR torn, name checked on passport")
            yield Static("", id="me-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="me-cancel")
                yield Button("Check entry", variant="warning", id="me-ok")

    @on(Input.Changed, "#me-query")
    def _query_changed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, exclusive=True, group="manual-search")
    def _search(self, query: str) -> None:
        hits = lookup.search(self.station, query, limit=30) if len(query.strip()) >= 2 else []
        self.app.call_from_thread(self._show_hits, hits)

    def _show_hits(self, hits: list[lookup.SearchHit]) -> None:
        self._hits = {h.accreditation_id: h for h in hits}
        results = self.query_one("#me-results", OptionList)
        results.clear_options()
        results.add_options(
            [
                Option(
                    f"{h.name}  ·  {h.delegation}  ·  {h.category}  ·  {h.status.replace('_', ' ')}",
                    id=h.accreditation_id,
                )
                for h in hits
            ]
        )
        if hits:
            results.highlighted = 0

    @on(Input.Submitted, "#me-query")
    def _to_results(self) -> None:
        self.query_one("#me-results", OptionList).focus()

    @on(OptionList.OptionSelected, "#me-results")
    def _to_supervisor(self) -> None:
        self.query_one("#me-supervisor", Input).focus()

    @on(Input.Submitted, "#me-supervisor")
    def _to_pin(self) -> None:
        self.query_one("#me-pin", Input).focus()

    def _selected(self) -> str | None:
        results = self.query_one("#me-results", OptionList)
        if results.highlighted is None or results.option_count == 0:
            return None
        return results.get_option_at_index(results.highlighted).id

    @on(Input.Submitted, "#me-pin")
    @on(Input.Submitted, "#me-note")
    @on(Button.Pressed, "#me-ok")
    def submit(self) -> None:
        participant_id = self._selected()
        supervisor = self.query_one("#me-supervisor", Input).value.strip()
        pin = self.query_one("#me-pin", Input).value
        error = self.query_one("#me-error", Static)
        if participant_id is None:
            error.update("Find and select the person first.")
            return
        if not supervisor or not pin:
            error.update("A supervisor must confirm with name and passphrase.")
            return
        error.update("Checking the supervisor's passphrase...")
        self._authenticate(ManualEntryRequest(participant_id, supervisor, pin, self.query_one("#me-note", Input).value))

    @work(thread=True, exclusive=True, group="manual-auth")
    def _authenticate(self, request: ManualEntryRequest) -> None:
        ok = operators.authenticate_supervisor(self.station, request.supervisor, request.pin)
        self.app.call_from_thread(self._authenticated, request, ok)

    def _authenticated(self, request: ManualEntryRequest, ok: bool) -> None:
        if not ok:
            self.query_one("#me-error", Static).update("Supervisor name or passphrase is wrong.")
            self.query_one("#me-pin", Input).value = ""
            return
        self.dismiss(request)

    @on(Button.Pressed, "#me-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
