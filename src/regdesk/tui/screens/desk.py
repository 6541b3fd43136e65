"""The DESK screen: find the participant, check the identity document, issue and print the badge.

Handlers stay instant: every service call runs in a thread worker and reports back with a message
(tui/messages.py). Keys are function keys only, because the search box receives barcode-scanner
input and a single printable letter bound to an action would fire on a scan.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import WorkerState, get_current_worker

from regdesk.domain.token import format_serial
from regdesk.services import desk, lookup
from regdesk.services.desk_view import DOCUMENT_LABELS, ParticipantCard, participant_card
from regdesk.tui import messages as m
from regdesk.tui.dialogs.confirm import ConfirmDialog
from regdesk.tui.dialogs.identity_check import IdentityCheckDialog, IdentityCheckResult
from regdesk.tui.dialogs.override import OverrideDialog
from regdesk.tui.widgets.participant_detail import ParticipantDetail
from regdesk.tui.widgets.participant_table import ParticipantTable
from regdesk.tui.widgets.status_bar import StatusBar

SEARCH_LIMIT = 50
# Live search waits for a short pause in typing; a scanner's burst of keys costs one lookup, not twenty.
TYPING_PAUSE = 0.12
ACTION_GROUP = "desk-action"
PARTICIPANT_ACTIONS = ("check_id", "issue", "replace", "reprint", "override")


class SearchInput(Input):
    """The search box. Scanners configured with an LF suffix send ctrl+j: treat it like Enter."""

    BINDINGS = [Binding("ctrl+j", "submit", show=False)]


class DeskScreen(Screen):
    CSS_PATH = "../desk.tcss"
    AUTO_FOCUS = "#search"
    BINDINGS = [
        Binding("f2", "check_id", "Check ID", id="desk.check_id", tooltip="Record the identity document seen"),
        Binding("f3", "issue", "Issue & print", id="desk.issue"),
        Binding("f4", "replace", "Replace lost", id="desk.replace", tooltip="Revoke the lost badge, issue a new one"),
        Binding("f5", "reprint", "Reprint", id="desk.reprint"),
        Binding("f6", "override", "Supervisor override", id="desk.override"),
        Binding("escape", "new_search", "New search", id="desk.new_search"),
        Binding("down", "focus_results", "Results", show=False, id="desk.focus_results"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._search_ticket = 0
        self._card_ticket = 0
        self._typing_timer: Timer | None = None
        self._selected: str | None = None
        self._card: ParticipantCard | None = None
        self._busy: str | None = None  # description of the running desk action
        self._refused: m.IssueWasRefused | None = None  # last overridable refusal (checked against the card)
        self._outcome_for: str | None = None  # whose action the outcome panel describes

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="desk-left"):
            yield SearchInput(placeholder="Name, delegation, accreditation id, badge serial, or scan the code",
                              id="search", max_length=120)
            yield Static("Type to search. ↓ moves into the results, Esc starts a new search.", id="results-caption")
            colours = {c.code: c.colour for c in self.station.config.categories}
            yield ParticipantTable(category_colours=colours, id="results")
        with Vertical(id="desk-right"):
            yield ParticipantDetail(id="detail")
            yield Static("", id="outcome")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def station(self):  # the app owns the station; screens never open their own
        return self.app.station  # type: ignore[attr-defined]

    @property
    def operator_name(self) -> str:
        return self.app.operator.name  # type: ignore[attr-defined]

    @property
    def table(self) -> ParticipantTable:
        return self.query_one("#results", ParticipantTable)

    @property
    def search_box(self) -> Input:
        return self.query_one("#search", Input)

    def _outcome(self, text: str, tone: str = "", about: str | None = None) -> None:
        self._outcome_for = (about or self._selected) if text else None
        outcome = self.query_one("#outcome", Static)
        outcome.set_classes(f"-{tone}" if tone else "")
        outcome.update(Text(text))  # plain text: reason codes look like [markup]

    # --- search ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._warm_search_index()

    @work(thread=True, exit_on_error=False, group="warm", description="build the search index")
    def _warm_search_index(self) -> None:
        # At conference scale the first build takes seconds: do it while the clerk reads the screen,
        # not on their first keystroke.
        lookup.index_for(self.station)

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        if self._typing_timer is not None:
            self._typing_timer.stop()
        self._typing_timer = self.set_timer(TYPING_PAUSE, lambda: self._start_search(event.value, False))

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._typing_timer is not None:
            self._typing_timer.stop()
            self._typing_timer = None
        self._start_search(event.value, True)

    def _start_search(self, query: str, submitted: bool) -> None:
        self._search_ticket += 1
        if not query.strip():
            self.table.clear()
            self.query_one("#results-caption", Static).update("Type to search.")
            return
        self._lookup(self._search_ticket, query, submitted)

    @work(thread=True, exclusive=True, exit_on_error=False, group="lookup", description="participant search")
    def _lookup(self, ticket: int, query: str, submitted: bool) -> None:
        hits = lookup.search(self.station, query, limit=SEARCH_LIMIT)
        if not get_current_worker().is_cancelled:
            self.post_message(m.SearchFinished(ticket, query, hits, submitted))

    def on_search_finished(self, message: m.SearchFinished) -> None:
        if message.ticket != self._search_ticket:
            return  # a newer query is on its way
        hits = message.hits
        self.table.show_hits(hits)
        caption = self.query_one("#results-caption", Static)
        if not hits:
            caption.update(Text(f"No participant matches “{message.query}”."))
            self._selected = None
            self._card = None
            self.query_one("#detail", ParticipantDetail).clear_card()
            self.refresh_bindings()
            if message.submitted:
                self.app.bell()
            return
        more = " (first matches only: type more to narrow)" if len(hits) >= SEARCH_LIMIT else ""
        caption.update(Text(f"{len(hits)} match{'es' if len(hits) != 1 else ''} for “{message.query}”{more}"))
        self._select(hits[0].accreditation_id)
        if message.submitted:
            if len(hits) == 1:
                # A scanned or typed exact code: the person is selected; the next scan replaces the text.
                self.search_box.select_all()
            else:
                self.table.focus()

    def action_focus_results(self) -> None:
        if self.table.row_count:
            self.table.focus()

    def action_new_search(self) -> None:
        if self._typing_timer is not None:
            self._typing_timer.stop()  # a search for the text just cleared must not fire afterwards
            self._typing_timer = None
        self._search_ticket += 1
        self.search_box.clear()
        self.search_box.focus()
        self.table.clear()
        self.query_one("#results-caption", Static).update("Type to search.")
        self._selected, self._card, self._refused = None, None, None
        self.query_one("#detail", ParticipantDetail).clear_card()
        self._outcome("")
        self.refresh_bindings()

    def on_key(self, event: events.Key) -> None:
        # If focus slipped to the results, typed or scanned characters still go to the search box.
        if event.is_printable and event.character and self.focused is self.table:
            event.stop()
            self.search_box.focus()
            self.search_box.insert_text_at_cursor(event.character)

    # --- selection and the detail card ----------------------------------------------------------

    @on(DataTable.RowHighlighted, "#results")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value and event.row_key.value != self._selected:
            self._select(event.row_key.value)

    @on(DataTable.RowSelected, "#results")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        self.search_box.focus()
        self.search_box.select_all()

    def _select(self, participant_id: str) -> None:
        self._selected = participant_id
        self.refresh_bindings()  # actions wait for this participant's card
        self._reload_card()

    def _reload_card(self) -> None:
        if self._selected is None:
            return
        self._card_ticket += 1
        self._load_card(self._card_ticket, self._selected)

    @work(thread=True, exclusive=True, exit_on_error=False, group="card", description="participant card")
    def _load_card(self, ticket: int, participant_id: str) -> None:
        card = participant_card(self.station, participant_id)
        if not get_current_worker().is_cancelled:
            self.post_message(m.CardLoaded(ticket, card))

    def on_card_loaded(self, message: m.CardLoaded) -> None:
        if message.ticket != self._card_ticket:
            return
        card = message.card
        detail = self.query_one("#detail", ParticipantDetail)
        if card is None or card.accreditation_id != self._selected:
            self._card = None
            detail.clear_card()
        else:
            self._card = card
            if self._outcome_for not in (None, card.accreditation_id):
                self._outcome("")  # the outcome shown was about someone else
            if self._refused and self._refused.participant_id != card.accreditation_id:
                self._refused = None
            detail.show_card(card)
            self.table.set_status(card.accreditation_id, card.status)
        self.refresh_bindings()

    # --- actions --------------------------------------------------------------------------------

    @property
    def current_card(self) -> ParticipantCard | None:
        """The card on screen, only while it is the selected participant's (never a stale one)."""
        card = self._card
        return card if card is not None and card.accreditation_id == self._selected else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in PARTICIPANT_ACTIONS:
            return True
        card = self.current_card
        if action == "override":
            # Only offered right after a refusal a supervisor may set aside.
            return bool(self._refused and card and self._refused.participant_id == card.accreditation_id
                        and not self._busy) or False
        if card is None or self._busy:
            return None
        if action in ("replace", "reprint"):
            return True if card.holds_badge else None
        return True

    def _start(self, what: str) -> bool:
        if self._busy:
            self.app.bell()
            return False
        self._busy = what
        self.refresh_bindings()
        return True

    def _done(self) -> None:
        self._busy = None
        self.refresh_bindings()
        self._reload_card()

    def action_check_id(self) -> None:
        card = self.current_card
        if card is None or self._busy:
            return

        def record(result: IdentityCheckResult | None) -> None:
            if result is not None and self._start("identity check"):
                self._outcome("Recording the identity check…", "info")
                self._record_check(card.accreditation_id, result)

        self.app.push_screen(IdentityCheckDialog(card.name), record)

    def action_issue(self) -> None:
        card = self.current_card
        if card is not None and self._start("issue"):
            self._outcome(f"Issuing a badge for {card.name}…", "info")
            self._issue(card.accreditation_id, False, None)

    def action_replace(self) -> None:
        card = self.current_card
        if card is None or not card.holds_badge or self._busy:
            return
        old = format_serial(card.current_serial)

        def confirmed(yes: bool | None) -> None:
            if yes and self._start("replace"):
                self._outcome(f"Replacing badge {old}…", "info")
                self._issue(card.accreditation_id, True, None)

        self.app.push_screen(ConfirmDialog(
            f"Replace lost badge · {card.name}",
            f"Badge {old} will be revoked: every scan point will refuse it from now on. A new badge is issued "
            "and printed. The identity document must have been checked again (F2).",
            yes="Revoke and replace"), confirmed)

    def action_override(self) -> None:
        card, refused = self.current_card, self._refused
        if card is None or refused is None or refused.participant_id != card.accreditation_id or self._busy:
            return

        def granted(request: desk.OverrideRequest | None) -> None:
            if request is not None and self._start("override"):
                self._outcome("Checking the supervisor and issuing…", "info")
                self._issue(card.accreditation_id, refused.replace, request)

        self.app.push_screen(OverrideDialog(card.name, refused.refusal, refused.text), granted)

    def action_reprint(self) -> None:
        card = self.current_card
        if card is not None and card.holds_badge and self._start("reprint"):
            self._outcome(f"Printing badge {format_serial(card.current_serial)} again…", "info")
            self._reprint(card.accreditation_id, card.current_serial)

    # --- workers (service calls) ----------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="record identity check")
    def _record_check(self, participant_id: str, result: IdentityCheckResult) -> None:
        try:
            desk.record_identity_check(self.station, participant_id, result.document_type, result.last4,
                                       self.operator_name)
        except desk.DeskError as exc:
            self.post_message(m.DeskActionFailed(participant_id, "Identity check", str(exc)))
            return
        self.post_message(m.IdentityRecorded(participant_id, result.document_type, result.last4))

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="issue badge")
    def _issue(self, participant_id: str, replace: bool, override: desk.OverrideRequest | None) -> None:
        try:
            badge = desk.issue_badge(self.station, participant_id, operator=self.operator_name, replace=replace,
                                     override=override)
        except desk.IssueRefused as refused:
            self.post_message(m.IssueWasRefused(participant_id, str(refused.refusal), str(refused),
                                                tuple(str(r) for r in refused.all_refusals), refused.overridable,
                                                replace))
            return
        except desk.DeskError as exc:
            self.post_message(m.DeskActionFailed(participant_id, "Issue", str(exc)))
            return
        self.post_message(m.BadgeIssued(participant_id, badge.serial, badge.issue_no, badge.replaced_serial,
                                        badge.override_event_id is not None))
        self._print_now(participant_id, badge.serial)

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="reprint badge")
    def _reprint(self, participant_id: str, serial: str) -> None:
        self._print_now(participant_id, serial)

    def _print_now(self, participant_id: str, serial: str) -> None:
        """Runs inside a worker thread. Any failure here leaves the badge issued: say so, offer reprint."""
        try:
            outcome = desk.print_badge(self.station, serial, operator=self.operator_name)
        except Exception as exc:  # noqa: BLE001 - renderer, disk or printer: all mean "reprint later"
            self.post_message(m.PrintFailed(participant_id, serial, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(m.BadgePrinted(participant_id, serial, outcome.pdf_path, outcome.printed, outcome.message))

    # --- results of the workers -----------------------------------------------------------------

    def on_identity_recorded(self, message: m.IdentityRecorded) -> None:
        label = DOCUMENT_LABELS.get(message.document_type, message.document_type)
        self._outcome(f"Identity checked: {label} ····{message.last4}. Next: F3 to issue and print.", "ok",
                      message.participant_id)
        self._done()

    def on_issue_was_refused(self, message: m.IssueWasRefused) -> None:
        others = [r for r in message.all_refusals if r != message.refusal]
        text = f"NOT ISSUED · {message.text}  [{message.refusal}]"
        if others:
            text += f"\nAlso: {', '.join(others)}"
        if message.overridable:
            self._refused = message
            text += "\nA supervisor may override this rule: press F6."
        else:
            self._refused = None
        self._outcome(text, "error", message.participant_id)
        self.app.bell()
        self._done()

    def on_desk_action_failed(self, message: m.DeskActionFailed) -> None:
        self._outcome(f"{message.action} not done: {message.text}", "error", message.participant_id)
        self.app.bell()
        self._done()

    def on_badge_issued(self, message: m.BadgeIssued) -> None:
        self._refused = None
        text = f"BADGE {format_serial(message.serial)} ISSUED (issue {message.issue_no})"
        if message.replaced_serial:
            text += f"; badge {format_serial(message.replaced_serial)} revoked"
        if message.overridden:
            text += "; supervisor override recorded"
        self._outcome(text + ". Printing…", "ok", message.participant_id)
        self._reload_card()

    def on_badge_printed(self, message: m.BadgePrinted) -> None:
        where = "sent to the printer" if message.printed else "PDF saved, no printer configured"
        text = f"BADGE {format_serial(message.serial)} READY: {where}.\n{message.text}"
        if str(message.pdf_path) not in message.text:
            text += f"\nPDF: {message.pdf_path}"
        self._outcome(text, "ok", message.participant_id)
        self._done()

    def on_print_failed(self, message: m.PrintFailed) -> None:
        self._outcome(f"Badge {format_serial(message.serial)} IS ISSUED, but printing failed: {message.error}\n"
                      "Press F5 to reprint it.", "warn", message.participant_id)
        self.app.bell()
        self._done()

    def on_worker_state_changed(self, event) -> None:
        worker = event.worker
        if event.state == WorkerState.ERROR:
            self._outcome(f"Unexpected error during {worker.description}: {worker.error}", "error")
            if worker.group == ACTION_GROUP:
                self._busy = None
                self.refresh_bindings()
        elif event.state == WorkerState.CANCELLED and worker.group == ACTION_GROUP:
            self._busy = None
            self.refresh_bindings()
