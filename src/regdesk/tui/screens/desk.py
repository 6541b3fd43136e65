"""The DESK screen: find the participant, check the identity document, issue and print the badge.

Handlers stay instant: every service call runs in a thread worker and reports back with a message
(tui/messages.py). Keys are function keys only, because the search box receives barcode-scanner
input and a single printable letter bound to an action would fire on a scan.

Who is selected is never remembered on its own: it is the highlighted row of the results shown
for exactly the text in the search box (`selected_id`). An empty box, results for other text (a
search still on its way) or a card for someone else mean nobody is selected, so no key acts on a
previous participant after Esc, a backspace, a resize or the command palette.

A passport reader's burst (its MRZ lines) typed into the search box is recognised by the box
itself (widgets/mrz_input.py) and never searched for: the document is checked, its holder found
(services/idcheck.py) and, when that is beyond doubt, selected and their identity check recorded
with the document type and its last 4 characters only. When it is not, the document's details
wait for the clerk to pick the person and press F2.

The printer line (above the footer, shown when the station has a printer) says how CUPS reports
each printer (idle, printing, STOPPED – paper out, offline...) and how many jobs wait, read by a
worker every few seconds. A badge that did not print stays there with its reason until it prints:
ctrl+r retries it, ctrl+o sends it to the station's other printer (`regdesk printer set NAME --second`);
both are ctrl keys because every function key from F7 to F12 already belongs to the app (screens,
sign out), and ctrl keys, unlike letters, never come from a barcode scanner.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static
from textual.worker import WorkerState, get_current_worker

from regdesk.domain.passes import format_pass_serial
from regdesk.domain.policy import MESSAGES, Refusal
from regdesk.domain.token import format_serial
from regdesk.services import collection, desk, idcheck, lookup, passes, printers
from regdesk.services.desk_view import DOCUMENT_LABELS, ParticipantCard, participant_card
from regdesk.tui import messages as m
from regdesk.tui.dialogs.assign_pass import AssignPassDialog, AssignPassRequest
from regdesk.tui.dialogs.collection import CollectionDialog, CollectionRequest
from regdesk.tui.dialogs.confirm import ConfirmDialog
from regdesk.tui.dialogs.identity_check import IdentityCheckDialog, IdentityCheckResult
from regdesk.tui.dialogs.override import OverrideDialog
from regdesk.tui.heap import settle_heap, tidy_heap
from regdesk.tui.widgets.keys_footer import KeysFooter
from regdesk.tui.widgets.mrz_input import MrzCatcher, MrzRead
from regdesk.tui.widgets.participant_detail import ParticipantDetail
from regdesk.tui.widgets.participant_table import ParticipantTable
from regdesk.tui.widgets.status_bar import StatusBar

SEARCH_LIMIT = 50
PRINTER_POLL_SECONDS = 3.0
# Live search: each key is searched at once (the results are painted well within 50 ms of it), and
# while a search is on its way the newest text waits for it, so a scanner's burst of 150 keys costs
# a few lookups, not 150. A pause above 0 searches only after that long without a key instead.
TYPING_PAUSE = 0.0
ACTION_GROUP = "desk-action"
# An action that takes longer than this greys the keys in the footer (a quick one never does).
KEYS_GREYED_AFTER = 0.25
# An issue's progress ("Issuing…", "ISSUED… Printing…") is shown only once it has lasted this long: a
# quick F3 goes from the card straight to its outcome, without two lines flickering past in a tenth
# of a second (each of them a frame the badge's thread waited for); a slow printer still says so.
PROGRESS_SHOWN_AFTER = 0.25
# A badge still printing this long after it was issued is shown on the card (a quick print shows
# the card once, with the badge printed, instead of "NOT PRINTED" for a few milliseconds first).
CARD_WHILE_PRINTING_AFTER = 0.25
PARTICIPANT_ACTIONS = ("check_id", "issue", "replace", "reprint", "override", "collect", "assign_pass")
PARTICIPANT_KEYS = {"f2", "f3", "f4", "f5", "f6", "ctrl+g", "ctrl+t"}
# Below this width the results and the participant are stacked; below the height the card is compact.
WIDE_FROM = 110
TALL_FROM = 36
# A badge's QR code is about 150 characters; room for scanner noise around it.
SEARCH_MAX_LENGTH = 400
REFUSAL_CODES = frozenset(str(r) for r in Refusal)
SEARCH_FIRST = "Search for a participant first: type a name, an accreditation number, or scan a badge."

# What the clerk can do about each refusal, with the key to press.
REFUSAL_KEYS = {
    "identity_not_checked": "Press F2 to check the identity document, then F3 to issue.",
    "already_holds_badge": "Lost badge? F2 to check the ID, then F4 to replace it. Print it again: F5.",
    "nothing_to_replace": "Press F3 to issue a first badge.",
}


class SearchInput(MrzCatcher, Input):
    """The search box. Scanners configured with an LF suffix send ctrl+j: treat it like Enter.
    A passport reader's lines are caught before they reach the box (MrzCatcher)."""

    BINDINGS = [Binding("ctrl+j", "submit", show=False)]


@dataclass(frozen=True)
class UnprintedBadge:
    participant_id: str
    serial: str
    printer: str  # where it failed ("" = the main printer)
    problem: str


class DeskScreen(Screen):
    CSS_PATH = "../desk.tcss"
    AUTO_FOCUS = "#search"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_FROM, "-wide")]
    BINDINGS = [
        Binding("f2", "check_id", "Check ID", id="desk.check_id", tooltip="Record the identity document seen"),
        Binding("f3", "issue", "Issue", id="desk.issue", tooltip="Issue and print the badge"),
        Binding("f4", "replace", "Replace", id="desk.replace", tooltip="Revoke the lost badge, issue a new one"),
        Binding("f5", "reprint", "Reprint", id="desk.reprint"),
        Binding("f6", "override", "Override", id="desk.override", tooltip="Supervisor override of a refusal"),
        # Shown only while a badge waits to be printed (ctrl+r), and while there is also a second printer
        # to send it to or the main one is not ready (ctrl+o).
        Binding(
            "ctrl+r",
            "retry_print",
            "Retry",
            id="desk.retry_print",
            tooltip="Print the badge that did not print again, on the same printer",
        ),
        Binding(
            "ctrl+o",
            "other_printer",
            "Other printer",
            id="desk.other_printer",
            tooltip="Print that badge (or the selected participant's) on the station's other printer",
        ),
        Binding("escape", "new_search", "Clear", id="desk.new_search", tooltip="Clear the search: a new participant"),
        # Off the footer (it must fit 80 columns); in the command palette and the README.
        Binding(
            "ctrl+g",
            "collect",
            "Focal point",
            show=False,
            id="desk.collect",
            tooltip="A focal point collects several members' badges with a letter",
        ),
        Binding(
            "ctrl+t",
            "assign_pass",
            "Temporary pass",
            show=False,
            id="desk.assign_pass",
            tooltip="Record which pre-printed temporary pass this person received",
        ),
        Binding("down", "focus_results", "Results", show=False, id="desk.focus_results"),
    ]
    _desk_bindings = tuple(BINDINGS)
    # Never left off a narrow footer (widgets/keys_footer.py): the desk's acts in order of a visit,
    # the override a refusal offers, and the keys of a badge that did not print. The screen keys and
    # Reprint/Replace/Clear give way first; ctrl+p (More) lists them all.
    FOOTER_KEEP = frozenset({"check_id", "issue", "override", "retry_print", "other_printer"})

    def __init__(self) -> None:
        super().__init__()
        self._search_ticket = 0
        self._card_ticket = 0
        self._typing_timer: Timer | None = None
        self._lookups_running = 0  # live searches on their way
        self._search_waiting = False  # typed text waits for the search on its way
        self._results_for: str | None = None  # the search text the results on screen were found for
        self._card: ParticipantCard | None = None
        self._card_loading: str | None = None  # whose card is on its way (the newest load)
        self._busy: str | None = None  # description of the running desk action
        self._refused: m.IssueWasRefused | None = None  # last overridable refusal (checked against the card)
        self._outcome_for: str | None = None  # whose action the outcome panel describes
        # A passport read whose holder the clerk must pick: F2 then uses it (never the full number).
        self._pending_document: idcheck.DocumentRead | None = None
        self._recent_card: str | None = None  # the last card shown: preferred by a passport read
        self._printers = printers.Printers("", "")  # as last read from the station settings
        self._printer_states: list[printers.PrinterStatus] = []
        self._unprinted: UnprintedBadge | None = None  # the last badge that did not print (ctrl+r/ctrl+o act on it)
        self._printers_reading = False  # a printer-state worker is on its way
        self._printers_again = False  # read again as soon as it is back
        self._keys_shown: tuple[bool | None, ...] | None = None  # the desk's action states the footer shows
        self._outcome_shown_lines = -1  # lines of the outcome panel as last laid out (-1: hidden)
        self._pending_progress: tuple[str, str | None] | None = None  # (text, about), see _progress
        self._progress_timer: Timer | None = None
        self._issued_notes: dict[str, str] = {}  # serial -> what its issue did besides (revoked, override)
        self._keys_timer: Timer | None = None  # greys the keys of an action that lasts
        self._card_timer: Timer | None = None  # shows the issued badge on the card while it prints

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Horizontal(id="desk-body"):
            with Vertical(id="desk-left"):
                yield SearchInput(
                    placeholder="Name, delegation, accreditation number, badge, or scan",
                    id="search",
                    max_length=SEARCH_MAX_LENGTH,
                )
                yield Static("Type to search. ↓ moves into the results, Esc starts a new search.", id="results-caption")
                colours = {c.code: c.colour for c in self.station.config.categories}
                yield ParticipantTable(category_colours=colours, id="results")
            with Vertical(id="desk-right"):
                with VerticalScroll(id="detail-scroll", can_focus=False):
                    yield ParticipantDetail(id="detail")
                yield Static("", id="outcome")
        yield Static("", id="printer-line", classes="-none")
        yield KeysFooter(compact=True, show_command_palette=False)

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

    @property
    def detail(self) -> ParticipantDetail:
        return self.query_one("#detail", ParticipantDetail)

    def on_resize(self, event: events.Resize) -> None:
        self.detail.set_compact(event.size.width < WIDE_FROM or event.size.height < TALL_FROM)
        self._show_printer_line()

    def _progress(self, text: str, about: str | None) -> None:
        """What an issue is doing, shown if it is still doing it after PROGRESS_SHOWN_AFTER; any
        outcome shown before then replaces it."""
        self._drop_progress()
        self._pending_progress = (text, about)
        self._progress_timer = self.set_timer(PROGRESS_SHOWN_AFTER, self._show_progress)

    def _show_progress(self) -> None:
        self._progress_timer = None
        if self._pending_progress is not None:
            text, about = self._pending_progress
            self._outcome(text, "info", about)

    def _drop_progress(self) -> None:
        self._pending_progress = None
        if self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None

    def _outcome(self, text: str, tone: str = "", about: str | None = None) -> None:
        self._drop_progress()  # an outcome replaces any progress still waiting to be shown
        self._outcome_for = (about or self.selected_id) if text else None
        outcome = self.query_one("#outcome", Static)
        content = Text(text)  # plain text: nothing in it is markup
        # An outcome that keeps its number of lines (F3: "Issuing…", "ISSUED… Printing…") is
        # repainted in place: a layout of the screen measures every panel again (tens of ms).
        same_size = outcome.display and bool(tone) and self._outcome_lines(outcome, text) == self._outcome_shown_lines
        outcome.set_classes(f"-{tone}" if tone else "")
        outcome.update(content, layout=not same_size)
        self._outcome_shown_lines = self._outcome_lines(outcome, text) if tone else -1
        if self._outcome_shown_lines == -2:  # just shown: its width is known once it is laid out
            self.call_after_refresh(self._remember_outcome_lines, text)

    def _remember_outcome_lines(self, text: str) -> None:
        outcome = self.query_one("#outcome", Static)
        if outcome.display and str(outcome.content) == text:
            self._outcome_shown_lines = self._outcome_lines(outcome, text)
        # On a small terminal the outcome replaces the card's "next step" line (it says the next step).
        # The class goes on that line only: a class on the card or the screen restyles all it holds.
        self.detail.set_has_outcome(bool(text))

    def _outcome_lines(self, outcome: Static, text: str) -> int:
        """How many lines the outcome panel shows for `text` at its present width (-2: unknown)."""
        width = outcome.content_size.width
        if not width:
            return -2
        lines = len(Text(text).wrap(self.app.console, width))
        cap = outcome.styles.max_height
        return min(lines, int(cap.value)) if cap is not None and cap.unit.name == "CELLS" else lines

    def _caption(self, text: str) -> None:
        # One line of fixed size (desk.tcss): no layout of the screen for each search.
        self.query_one("#results-caption", Static).update(Text(text), layout=False)

    # --- who is selected: derived, never remembered ---------------------------------------------

    @property
    def selected_id(self) -> str | None:
        """The highlighted result, if the results on screen are for exactly the text in the search box."""
        text = self.search_box.value
        if not text.strip() or self._results_for != text:
            return None
        return self.table.highlighted_id()

    @property
    def current_card(self) -> ParticipantCard | None:
        """The card on screen, only while it is the selected participant's (never a stale one)."""
        card = self._card
        selected = self.selected_id
        return card if card is not None and selected is not None and card.accreditation_id == selected else None

    # --- search ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._warm_search_index()
        self._poll_printers()
        self.set_interval(PRINTER_POLL_SECONDS, self._poll_printers)

    @work(thread=True, exit_on_error=False, group="warm", description="build the search index")
    def _warm_search_index(self) -> None:
        # At conference scale the first build takes seconds: do it while the clerk reads the screen,
        # not on their first keystroke.
        lookup.index_for(self.station)
        settle_heap()  # the index is the largest thing the desk holds: no full GC pass walks it

    def _stop_typing_timer(self) -> None:
        if self._typing_timer is not None:
            self._typing_timer.stop()
            self._typing_timer = None

    @on(Input.Changed, "#search")
    def _typed(self, event: Input.Changed) -> None:
        self._stop_typing_timer()
        if not event.value.strip():
            self._clear_results("Type to search.")
            return
        if TYPING_PAUSE > 0:
            self._typing_timer = self.set_timer(TYPING_PAUSE, lambda: self._start_search(event.value, False))
        elif self._lookups_running:
            self._search_waiting = True  # searched when the one on its way is back
        else:
            self._start_search(event.value, False)
        self._refresh_keys()  # the results on screen are for other text now: keys wait for the new ones

    def _search_what_waits(self) -> None:
        """A search came back: the text typed meanwhile is searched now."""
        if not self._search_waiting or self._lookups_running:
            return
        self._search_waiting = False
        text = self.search_box.value
        if text.strip() and text != self._results_for:
            self._start_search(text, False)

    @on(Input.Submitted, "#search")
    def _submitted(self, event: Input.Submitted) -> None:
        self._stop_typing_timer()
        self._start_search(event.value, True)

    def _start_search(self, query: str, submitted: bool) -> None:
        self._search_ticket += 1
        if not query.strip():
            self._clear_results("Type to search.")
            return
        self._lookups_running += 1
        self._lookup(self._search_ticket, query, submitted)

    def _clear_results(self, caption: str) -> None:
        """Nobody found, nobody selected: the table, the card and the last outcome all go."""
        self._search_ticket += 1  # a search still on its way must not bring its results back
        self._results_for = None
        self.table.show_hits([])
        self._caption(caption)
        self._card, self._card_loading, self._refused = None, None, None
        self.detail.clear_card()
        if not self._busy:
            self._outcome("")
        self._refresh_keys()

    @work(thread=True, exclusive=True, exit_on_error=False, group="lookup", description="participant search")
    def _lookup(self, ticket: int, query: str, submitted: bool) -> None:
        with self.station.give_way.waiting():  # a sync in this process waits between its chunks
            hits = lookup.search(self.station, query, limit=SEARCH_LIMIT)
            if not get_current_worker().is_cancelled:
                self.post_message(m.SearchFinished(ticket, query, hits, submitted))

    def on_search_finished(self, message: m.SearchFinished) -> None:
        if message.ticket != self._search_ticket or message.query != self.search_box.value:
            return  # a newer query is on its way, or the box says something else now
        hits = message.hits
        if not hits:
            shown = message.query.strip()
            if len(shown) > 40:
                shown = shown[:37] + "…"
            if message.submitted:
                # A scan (or Enter) that found nobody: the box starts empty for the next scan.
                with self.search_box.prevent(Input.Changed):
                    self.search_box.value = ""
                self._clear_results(f"No participant matches “{shown}”. Scan again or type a name.")
                self.app.bell()
            else:
                self._clear_results(f"No participant matches “{shown}”.")
            return
        self._results_for = message.query
        self.app.after_painted(tidy_heap)  # type: ignore[attr-defined] # a keystroke's garbage, after its frame
        self.table.show_hits(hits)
        more = " (first matches only: type more to narrow)" if len(hits) >= SEARCH_LIMIT else ""
        self._caption(f"{len(hits)} match{'es' if len(hits) != 1 else ''} for “{message.query.strip()}”{more}")
        self.table.move_cursor(row=0)
        self._show_selected()
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
        self._stop_typing_timer()  # a search for the text just cleared must not fire afterwards
        with self.search_box.prevent(Input.Changed):
            self.search_box.clear()
        self.search_box.focus()
        self._clear_results("Type to search.")
        self._outcome("")
        self._pending_document = None
        self._recent_card = None

    def on_key(self, event: events.Key) -> None:
        # If focus slipped to the results, typed or scanned characters still go to the search box.
        if event.is_printable and event.character and self.focused is self.table:
            event.stop()
            self.search_box.focus()
            self.search_box.insert_text_at_cursor(event.character)
        elif event.key in PARTICIPANT_KEYS and self.current_card is None and not self._busy:
            # The action keys are off while nobody is selected: say why instead of doing nothing.
            event.stop()
            self._outcome(SEARCH_FIRST, "info")

    # --- selection and the detail card ----------------------------------------------------------

    @on(DataTable.RowHighlighted, "#results")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    @on(DataTable.RowSelected, "#results")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        self.search_box.focus()
        self.search_box.select_all()

    def _show_selected(self) -> None:
        """Load the card of whoever is selected now (nobody: clear it)."""
        selected = self.selected_id
        self._refresh_keys()  # actions wait for this participant's card
        if selected is None:
            self._card = None
            self.detail.clear_card()
            return
        shown = self._card is not None and self._card.accreditation_id == selected
        if not shown and self._card_loading != selected:
            self._reload_card()

    def _reload_card(self) -> None:
        selected = self.selected_id
        if selected is None:
            return
        self._card_ticket += 1
        self._card_loading = selected
        self._load_card(self._card_ticket, selected)

    @work(thread=True, exclusive=True, exit_on_error=False, group="card", description="participant card")
    def _load_card(self, ticket: int, participant_id: str) -> None:
        card = participant_card(self.station, participant_id)
        if not get_current_worker().is_cancelled:
            self.post_message(m.CardLoaded(ticket, card))

    def on_card_loaded(self, message: m.CardLoaded) -> None:
        if message.ticket != self._card_ticket:
            return
        self._card_loading = None
        card = message.card
        if card is None or card.accreditation_id != self.selected_id:
            # The selection moved on while this card was on its way: show the right one instead.
            self._card = None
            self.detail.clear_card()
            if card is not None and self.selected_id is not None:
                self._show_selected()
        else:
            self._card = card
            self._recent_card = card.accreditation_id
            if self._outcome_for not in (None, card.accreditation_id) and not self._busy:
                self._outcome("")  # the outcome shown was about someone else
            if self._refused and self._refused.participant_id != card.accreditation_id:
                self._refused = None
            self.detail.show_card(card)
            self.table.set_status(card.accreditation_id, card.status, card.badge_delivered)
        self._refresh_keys()

    # --- actions --------------------------------------------------------------------------------

    def _action_states(self) -> tuple[bool | None, ...] | None:
        """What check_action answers for each of the desk's keys now (None before the screen is built)."""
        try:
            return tuple(self.check_action(binding.action, ()) for binding in self._desk_bindings)
        except NoMatches:
            return None

    def _refresh_keys(self) -> None:
        """Redraw the footer's keys only when one of the desk's actions changed state. Textual's footer
        rebuilds all its keys (widgets, styles, a full layout) on every refresh_bindings: done on each
        keystroke and result it was most of the time between a key and its results on screen. Keys
        work on what check_action answers when pressed, whatever the footer shows.

        While an action, a search or a card is on its way, the keys change only if it lasts: an F3
        done in a few tens of milliseconds, or a keystroke whose results and card follow at once,
        would grey every key and give it back (restyling each, twice) in the very frames that show
        the outcome or the results."""
        states = self._action_states()
        if states is not None and states == self._keys_shown:
            if self._keys_timer is not None:
                self._keys_timer.stop()
                self._keys_timer = None
            return
        waiting = self._busy or self._lookups_running or self._search_waiting or self._card_loading
        if waiting and states is not None:
            if self._keys_timer is None:
                self._keys_timer = self.set_timer(KEYS_GREYED_AFTER, self._refresh_keys_later)
            return
        self.refresh_bindings()

    def _refresh_keys_later(self) -> None:
        self._keys_timer = None
        if self._action_states() != self._keys_shown:
            self.refresh_bindings()

    def refresh_bindings(self) -> None:
        # Every redraw (also Textual's own, on focus changes) shows the states of this moment.
        if self.is_mounted:
            self._keys_shown = self._action_states()
        super().refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry_print":  # off the footer until a badge did not print
            return (None if self._busy else True) if self._unprinted is not None else False
        if action == "other_printer":  # on the footer while the main printer is in trouble
            if not (self._printers.main and self._printers.second) or self._print_target() is None:
                return False
            return None if self._busy else True
        if action not in PARTICIPANT_ACTIONS:
            return True
        card = self.current_card
        if action == "override":
            # Only offered right after a refusal a supervisor may set aside.
            return (
                bool(
                    self._refused and card and self._refused.participant_id == card.accreditation_id and not self._busy
                )
                or False
            )
        if card is None or self._busy:
            return None
        if action in ("replace", "reprint"):
            return True if card.holds_badge else None
        return True

    def palette_commands(self) -> Iterable[SystemCommand]:
        """The desk's actions in the command palette (ctrl+p), only those that apply right now."""
        card = self.current_card
        who = f" · {card.name}" if card else ""
        offers = [
            ("check_id", "Desk: Check ID (F2)", f"Record the identity document seen{who}"),
            ("issue", "Desk: Issue & print (F3)", f"Issue and print the badge{who}"),
            ("replace", "Desk: Replace lost badge (F4)", f"Revoke the lost badge and issue a new one{who}"),
            ("reprint", "Desk: Reprint (F5)", f"Print the current badge again{who}"),
            ("override", "Desk: Supervisor override (F6)", f"A supervisor sets the refusal aside{who}"),
            (
                "collect",
                "Desk: Collection by a focal point (ctrl+g)",
                f"Several members' badges at once, with a letter{who and ' · collected by' + who[2:]}",
            ),
            (
                "assign_pass",
                "Desk: Assign a temporary pass (ctrl+t)",
                f"Record which pre-printed pass the person received{who}",
            ),
        ]
        target = self._print_target()
        other = self._printers.other(target[2]) if target else ""
        offers += [
            ("retry_print", "Desk: Retry print (ctrl+r)", "Print the badge that did not print again"),
            (
                "other_printer",
                "Desk: Print on the other printer (ctrl+o)",
                f"Send the badge to {other or 'the second printer'}",
            ),
        ]
        for action, title, help_text in offers:
            if self.check_action(action, ()):
                yield SystemCommand(title, help_text, partial(self.run_action, action))
        yield SystemCommand(
            "Desk: New search (Esc)", "Clear the search and the selected participant", self.action_new_search
        )
        # authority: exporting tallies is the supervisor screen's act; offered where the app lets
        # this operator switch to that screen.
        if self.app.check_action("mode", ("supervisor",)):
            yield SystemCommand(
                "Supervisor: Export tallies", "Open the supervisor screen's export (ctrl+e there)", self._export_tallies
            )

    async def _export_tallies(self) -> None:
        await self.app.switch_mode("supervisor")
        await self.app.screen.run_action("export")

    def _start(self, what: str) -> bool:
        if self._busy:
            self.app.bell()
            return False
        self._busy = what
        self._refresh_keys()
        return True

    def _done(self) -> None:
        self._busy = None
        if self._card_timer is not None:
            self._card_timer.stop()
            self._card_timer = None
        self._refresh_keys()
        self._reload_card()

    def action_check_id(self) -> None:
        card = self.current_card
        if card is None or self._busy:
            return

        def record(result: IdentityCheckResult | None) -> None:
            if result is not None and self._start("identity check"):
                if result.document is not None:
                    self._pending_document = None  # used: a second F2 needs the document again
                self._outcome(f"Recording the identity check for {card.name}…", "info", card.accreditation_id)
                self._record_check(card.accreditation_id, result)

        self.app.push_screen(IdentityCheckDialog(card.name, self._pending_document), record)

    def action_issue(self) -> None:
        card = self.current_card
        if card is not None and self._start("issue"):
            self._progress(f"Issuing a badge for {card.name}…", card.accreditation_id)
            self._issue(card.accreditation_id, card.name, False, None)

    def action_replace(self) -> None:
        card = self.current_card
        if card is None or not card.holds_badge or self._busy:
            return
        old = format_serial(card.current_serial)

        def confirmed(yes: bool | None) -> None:
            if yes and self._start("replace"):
                self._progress(f"Replacing badge {old} of {card.name}…", card.accreditation_id)
                self._issue(card.accreditation_id, card.name, True, None)

        self.app.push_screen(
            ConfirmDialog(
                f"Replace lost badge · {card.name}",
                f"Badge {old} will be revoked: every scan point will refuse it from now on. A new badge is issued "
                "and printed. The identity document must have been checked again (F2).",
                yes="Revoke and replace",
            ),
            confirmed,
        )

    def action_override(self) -> None:
        card, refused = self.current_card, self._refused
        if card is None or refused is None or refused.participant_id != card.accreditation_id or self._busy:
            return

        def granted(request: desk.OverrideRequest | None) -> None:
            if request is not None and self._start("override"):
                self._progress("Supervisor confirmed; issuing…", card.accreditation_id)
                self._issue(card.accreditation_id, card.name, refused.replace, request)

        self.app.push_screen(OverrideDialog(card.name, refused.text), granted)

    def action_collect(self) -> None:
        """The selected participant is the focal point: pick their delegation's members."""
        card = self.current_card
        if card is None or self._busy:
            return
        self._outcome(f"Opening {card.delegation or 'the delegation'} for {card.name}…", "info", card.accreditation_id)
        self._load_roster(card.accreditation_id, card.name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="roster", description="delegation members")
    def _load_roster(self, collector_id: str, collector_name: str) -> None:
        try:
            roster = collection.roster(self.station, collector_id)
        except desk.DeskError as exc:
            self.post_message(m.DeskActionFailed(collector_id, "Collection", str(exc)))
            return
        self.post_message(m.RosterLoaded(collector_id, collector_name, roster))

    def on_roster_loaded(self, message: m.RosterLoaded) -> None:
        self._outcome("")

        def chosen(request: CollectionRequest | None) -> None:
            if request is not None and self._start("collection"):
                self._outcome(
                    f"Issuing {len(request.member_ids)} badge(s) collected by {message.collector_name}…",
                    "info",
                    message.collector_id,
                )
                self._collect(request)

        self.app.push_screen(CollectionDialog(message.roster, message.collector_id, message.collector_name), chosen)

    def action_assign_pass(self) -> None:
        """The selected participant received a pre-printed temporary pass (the desk was down)."""
        card = self.current_card
        if card is None or self._busy:
            return

        def assign(request: AssignPassRequest | None) -> None:
            if request is not None and self._start("temporary pass"):
                self._outcome(
                    f"Assigning pass {format_pass_serial(request.serial)} to {card.name}…",
                    "info",
                    card.accreditation_id,
                )
                self._assign_pass(card.accreditation_id, request)

        self.app.push_screen(AssignPassDialog(card.name), assign)

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="assign a temporary pass")
    def _assign_pass(self, participant_id: str, request: AssignPassRequest) -> None:
        try:
            assigned = passes.assign_pass(
                self.station,
                request.serial,
                participant_id,
                operator=self.operator_name,
                document_type=request.document_type,
                document_number=request.last4,
            )
        except passes.PassError as exc:
            self.post_message(m.DeskActionFailed(participant_id, "Temporary pass", str(exc)))
            return
        self.post_message(m.PassAssigned(participant_id, assigned.serial, assigned.day))

    def on_pass_assigned(self, message: m.PassAssigned) -> None:
        self._outcome(
            f"TEMPORARY PASS {format_pass_serial(message.serial)} assigned for {message.day}: scan "
            "points now show this name with it. It holds the person's place in the delegation that day.",
            "ok",
            message.participant_id,
        )
        self._done()

    def action_reprint(self) -> None:
        card = self.current_card
        if card is not None and card.holds_badge and self._start("reprint"):
            self._outcome(
                f"Printing badge {format_serial(card.current_serial)} of {card.name} again…",
                "info",
                card.accreditation_id,
            )
            self._reprint(card.accreditation_id, card.current_serial)

    # --- printers -------------------------------------------------------------------------------

    def _poll_printers(self, fresh: bool = False) -> None:
        """Read the printers' state in a worker. One reading at a time: with CUPS slow to answer, a
        tick is skipped instead of piling up threads (and no reading is cancelled half-way); `fresh`
        (after a print) reads again as soon as the reading on its way is back."""
        if self._printers_reading:
            self._printers_again = self._printers_again or fresh
            return
        self._printers_reading = True
        self._read_printers()

    @work(thread=True, exit_on_error=False, group="printers", description="printer state")
    def _read_printers(self) -> None:
        try:
            self.post_message(m.PrintersRead(printers.configured(self.station), printers.statuses(self.station)))
        except Exception as exc:  # noqa: BLE001 - a failed reading must not stop the next ones
            self.post_message(m.PrintersRead(printers.Printers("", ""), [], f"{type(exc).__name__}: {exc}"))

    def on_printers_read(self, message: m.PrintersRead) -> None:
        self._printers_reading = False
        if self._printers_again:  # a print asked for a fresh reading while this one was on its way
            self._printers_again = False
            self._poll_printers(fresh=True)
        if message.error:
            return  # keep showing the last reading; the next tick tries again
        changed = (message.printers, message.statuses) != (self._printers, self._printer_states)
        self._printers, self._printer_states = message.printers, message.statuses
        self._show_printer_line()
        if changed:  # ctrl+o follows the main printer's state
            self._refresh_keys()

    def _show_printer_line(self) -> None:
        line = self.query_one("#printer-line", Static)
        if not self._printers.main and self._unprinted is None:
            line.set_classes("-none")
            return
        wide = self.size.width >= WIDE_FROM
        parts = []
        for index, state in enumerate(self._printer_states):
            label = ("Printer " if index == 0 else "Other ") if wide else ""
            parts.append(f"{label}{state.name}: {state.summary()}")
        text = Text(" │ ".join(parts) or "Printer: none (badges are saved as PDFs)")
        tone = "-ok" if all(s.ready and not s.condition for s in self._printer_states) else "-warn"
        unprinted = self._unprinted
        if unprinted is not None:
            other = self._printers.other(unprinted.printer or self._printers.main)
            if wide:
                keys = "ctrl+r retry" + (f" · ctrl+o on {other}" if other else "")
                text.append(f"\nNOT PRINTED: badge {format_serial(unprinted.serial)} – {unprinted.problem} · {keys}")
            else:  # 80 columns: the footer's own notation for ctrl keys
                keys = "^r retry" + (f" · ^o {other}" if other else "")
                text.append(f"\nNOT PRINTED {format_serial(unprinted.serial)}: {unprinted.problem} · {keys}")
            tone = "-warn"
        line.set_classes(tone)
        line.update(text)

    def _remember_unprinted(self, unprinted: UnprintedBadge | None) -> None:
        self._unprinted = unprinted
        self._show_printer_line()
        self._refresh_keys()
        self._poll_printers(fresh=True)  # a print changes the queue: show it now, not in a few seconds

    def _print_target(self) -> tuple[str, str, str] | None:
        """(participant, serial, printer it last went to) for ctrl+o: the badge that did not print, else,
        while the main printer is not ready, the selected participant's current badge."""
        if self._unprinted is not None:
            u = self._unprinted
            return u.participant_id, u.serial, u.printer or self._printers.main
        card = self.current_card
        main = next((st for st in self._printer_states if st.name == self._printers.main), None)
        if card is not None and card.holds_badge and main is not None and not main.ready:
            return card.accreditation_id, card.current_serial, self._printers.main
        return None

    def action_retry_print(self) -> None:
        unprinted = self._unprinted
        if unprinted is None or not self._start("retry print"):
            return
        where = unprinted.printer or self._printers.main or "the output folder"
        self._outcome(
            f"Printing badge {format_serial(unprinted.serial)} again on {where}…", "info", unprinted.participant_id
        )
        self._print_again(unprinted.participant_id, unprinted.serial, unprinted.printer or None)

    def action_other_printer(self) -> None:
        target = self._print_target()
        if target is None or self._busy:
            return
        participant_id, serial, printer = target
        other = self._printers.other(printer)
        if not other:
            self._outcome(
                "No other printer is set for this station: `regdesk printer set NAME --second`.", "info", participant_id
            )
            return
        if self._start("print on the other printer"):
            self._outcome(f"Printing badge {format_serial(serial)} on {other}…", "info", participant_id)
            self._print_again(participant_id, serial, other)

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="print again")
    def _print_again(self, participant_id: str, serial: str, printer: str | None) -> None:
        # Only the participant's valid badge is ever printed: not one replaced since it failed.
        card = participant_card(self.station, participant_id)
        if card is None or card.current_serial != serial:
            self.post_message(
                m.DeskActionFailed(
                    participant_id,
                    "Print",
                    f"badge {format_serial(serial)} is no longer the participant's valid "
                    "badge (replaced or revoked since): nothing was printed",
                )
            )
            return
        self._print_now(participant_id, serial, reprint=True, printer=printer)

    # --- workers (service calls) ----------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="record identity check")
    def _record_check(self, participant_id: str, result: IdentityCheckResult) -> None:
        try:
            if result.document is not None:
                check = idcheck.record(self.station, participant_id, result.document, self.operator_name)
                found = idcheck.Identification(result.document, participant_id, (), "")
                self.post_message(m.PassportChecked(found, check))
                return
            desk.record_identity_check(
                self.station, participant_id, result.document_type, result.last4, self.operator_name
            )
        except desk.DeskError as exc:
            self.post_message(m.DeskActionFailed(participant_id, "Identity check", str(exc)))
            return
        self.post_message(m.IdentityRecorded(participant_id, result.document_type, result.last4))

    # --- a passport reader ----------------------------------------------------------------------

    @on(MrzRead, "#search")
    def _passport_read(self, event: MrzRead) -> None:
        event.stop()
        self._stop_typing_timer()
        if not self._start("passport"):
            self._outcome("A passport was read while the desk was busy: nothing of it was kept. Read it again.", "warn")
            return
        self._outcome("Reading the passport…", "info", None)
        self._read_passport(event.text, self._recent_card)

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="passport reader")
    def _read_passport(self, text: str, recent: str | None) -> None:
        try:
            document = idcheck.read(self.station, text)
        except idcheck.DocumentUnreadable as exc:
            self.post_message(m.PassportUnreadable(str(exc.problem)))
            return
        found = idcheck.identify(self.station, document, selected=recent)
        if found.participant_id is None:
            self.post_message(m.PassportNotIdentified(found))
            return
        try:
            check = idcheck.record(self.station, found.participant_id, document, self.operator_name)
        except desk.DeskError as exc:
            self.post_message(m.DeskActionFailed(found.participant_id, "Identity check", str(exc)))
            return
        self.post_message(m.PassportChecked(found, check))

    def _show_participant(self, participant_id: str) -> None:
        """Select exactly this participant, as if their accreditation number had been typed."""
        with self.search_box.prevent(Input.Changed):
            self.search_box.value = participant_id
        self._start_search(participant_id, True)

    def on_passport_checked(self, message: m.PassportChecked) -> None:
        check, document = message.check, message.identification.document
        self._pending_document = None
        lines = [f"PASSPORT READ · Identity checked: {document.summary()}."]
        lines += [f"WARNING: {w}" for w in check.warnings]
        lines.append("Next: F3 to issue and print (F4 to replace a lost badge).")
        self._outcome("\n".join(lines), "warn" if check.warnings else "ok", check.participant_id)
        if check.warnings:
            self.app.bell()
        self._busy = None
        if self.selected_id != check.participant_id:
            self._show_participant(check.participant_id)
        self._done()

    def on_passport_not_identified(self, message: m.PassportNotIdentified) -> None:
        found = message.identification
        self._pending_document = found.document
        self._busy = None
        self._refresh_keys()
        lines = [f"PASSPORT READ: {found.document.summary()}.", f"{found.note}."]
        if found.candidates:
            with self.search_box.prevent(Input.Changed):
                self.search_box.value = found.document.surname.lower()
            self.search_box.select_all()  # typing another spelling replaces it
            self._start_search(self.search_box.value, False)
            lines.append("Select the person, then F2: the passport's details are used (nothing recorded yet).")
        else:
            lines.append("Search by another spelling, select the person, then F2: the passport's details are used.")
        self._outcome("\n".join(lines), "warn", None)
        self.app.bell()

    def on_passport_unreadable(self, message: m.PassportUnreadable) -> None:
        self._busy = None
        self._refresh_keys()
        self._outcome(f"PASSPORT NOT READ · {message.text}. Nothing was recorded.", "error", None)
        self.app.bell()

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="issue badge")
    def _issue(self, participant_id: str, name: str, replace: bool, override: desk.OverrideRequest | None) -> None:
        with self.station.give_way.waiting():  # the person at the desk waits for the badge
            self._issue_and_print(participant_id, replace, override)

    def _issue_and_print(self, participant_id: str, replace: bool, override: desk.OverrideRequest | None) -> None:
        # CUPS is asked how the printer is doing while the badge is recorded, not after.
        state = desk.check_printer(self.station)
        try:
            badge = desk.issue_badge(
                self.station, participant_id, operator=self.operator_name, replace=replace, override=override
            )
        except desk.IssueRefused as refused:
            self.post_message(
                m.IssueWasRefused(
                    participant_id,
                    str(refused.refusal),
                    str(refused),
                    tuple(str(r) for r in refused.all_refusals),
                    refused.overridable,
                    replace,
                    tuple(refused.all_messages),
                )
            )
            return
        except desk.DeskError as exc:
            self.post_message(m.DeskActionFailed(participant_id, "Issue", str(exc)))
            return
        self.post_message(
            m.BadgeIssued(
                participant_id, badge.serial, badge.issue_no, badge.replaced_serial, badge.override_event_id is not None
            )
        )
        self._print_now(participant_id, badge.serial, reprint=False, state=state)

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="collection by a focal point")
    def _collect(self, request: CollectionRequest) -> None:
        check = collection.CollectorCheck(request.document_type, request.last4, request.details)
        try:
            result = collection.issue_batch(
                self.station,
                list(request.member_ids),
                collector_id=request.collector_id,
                authorisation=request.authorisation,
                check=check,
                operator=self.operator_name,
            )
        except collection.BatchRefused as refused:
            self.post_message(m.BatchWasRefused(request.collector_id, refused.outcomes))
            return
        except desk.DeskError as exc:
            self.post_message(m.DeskActionFailed(request.collector_id, "Collection", str(exc)))
            return
        self.post_message(m.BatchIssued(result))
        try:
            printed = collection.print_batch(
                self.station, [o.serial for o in result.issued], operator=self.operator_name
            )
        except Exception as exc:  # noqa: BLE001 - the badges stay issued; F5 reprints each
            self.post_message(m.BatchPrinted(result, None, f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(m.BatchPrinted(result, printed))

    @work(thread=True, exit_on_error=False, group=ACTION_GROUP, description="reprint badge")
    def _reprint(self, participant_id: str, serial: str) -> None:
        self._print_now(participant_id, serial, reprint=True)

    def _print_now(
        self,
        participant_id: str,
        serial: str,
        *,
        reprint: bool,
        printer: str | None = None,
        state: desk.StateCheck | None = None,
    ) -> None:
        """Runs inside a worker thread. Any failure here leaves the badge issued: say so, offer a retry."""
        try:
            outcome = desk.print_badge(self.station, serial, operator=self.operator_name, printer=printer, state=state)
        except Exception as exc:  # noqa: BLE001 - renderer, disk or printer: all mean "print it again later"
            self.post_message(
                m.PrintFailed(participant_id, serial, f"{type(exc).__name__}: {exc}", reprint, printer or "")
            )
            return
        self.post_message(
            m.BadgePrinted(
                participant_id,
                serial,
                outcome.pdf_path,
                outcome.printed,
                outcome.message,
                outcome.status,
                outcome.printer,
                outcome.problem,
                reprint,
            )
        )

    # --- results of the workers -----------------------------------------------------------------

    def on_identity_recorded(self, message: m.IdentityRecorded) -> None:
        label = DOCUMENT_LABELS.get(message.document_type, message.document_type)
        self._outcome(
            f"Identity checked: {label} ····{message.last4}. Next: F3 to issue and print (F4 to replace a lost badge).",
            "ok",
            message.participant_id,
        )
        self._done()

    def on_issue_was_refused(self, message: m.IssueWasRefused) -> None:
        lines = [f"NOT ISSUED · {message.text}"]
        # The first refusal in full; the others in their short words (the outcome must fit 80×24).
        lines += [
            f"Also: {MESSAGES.get(Refusal(code), code)}" for code in message.all_refusals[1:] if code in REFUSAL_CODES
        ]
        hint = REFUSAL_KEYS.get(message.refusal)
        if message.overridable:
            self._refused = message
            lines.append(hint or "A supervisor may override this rule: press F6.")
            if hint:
                lines.append("A supervisor may override it: F6.")
        else:
            self._refused = None
            if hint:
                lines.append(hint)
        self._outcome("\n".join(lines), "error", message.participant_id)
        self.app.bell()
        self._done()

    def on_desk_action_failed(self, message: m.DeskActionFailed) -> None:
        self._outcome(f"{message.action} not done: {message.text}", "error", message.participant_id)
        self.app.bell()
        self._done()

    def on_badge_issued(self, message: m.BadgeIssued) -> None:
        self._refused = None
        text = f"BADGE {format_serial(message.serial)} ISSUED (issue {message.issue_no})"
        besides = []
        if message.replaced_serial:
            besides.append(f"badge {format_serial(message.replaced_serial)} revoked")
        if message.overridden:
            besides.append("supervisor override recorded")
        # Said again with the print's outcome: this line is shown only if printing takes a while.
        self._issued_notes[message.serial] = "; ".join(besides)
        self._progress("; ".join([text, *besides]) + ". Printing…", message.participant_id)
        if self._card_timer is not None:
            self._card_timer.stop()
        self._card_timer = self.set_timer(CARD_WHILE_PRINTING_AFTER, self._card_while_printing)

    def _card_while_printing(self) -> None:
        self._card_timer = None
        if self._busy:  # still printing: the card shows the badge (issued, not printed yet)
            self._reload_card()

    def _issued_note(self, serial: str) -> str:
        """What the badge's issue did besides, as a sentence (" Badge … revoked."), or ""."""
        note = self._issued_notes.pop(serial, "")
        return f" {note[0].upper()}{note[1:]}." if note else ""

    def on_badge_printed(self, message: m.BadgePrinted) -> None:
        serial = format_serial(message.serial)
        besides = self._issued_note(message.serial)
        if message.status == desk.NOT_PRINTED:
            done = "NOT reprinted" if message.reprint else "ISSUED – NOT PRINTED"
            other = self._printers.other(message.printer)
            keys = "Press ctrl+r (or F5) to retry printing" + (f", ctrl+o to print it on {other}." if other else ".")
            self._outcome(
                f"BADGE {serial} {done} (printer {message.printer}: {message.problem}).{besides}\n"
                f"PDF: {message.pdf_path}\n{keys}",
                "warn",
                message.participant_id,
            )
            self.app.bell()
            self._remember_unprinted(
                UnprintedBadge(message.participant_id, message.serial, message.printer, message.problem)
            )
        elif message.status == desk.PDF_ONLY:
            done = "REPRINTED as PDF" if message.reprint else "ISSUED as PDF"
            self._outcome(
                f"BADGE {serial} {done} (no printer configured): print it and hand it over.{besides}\n"
                f"PDF: {message.pdf_path}",
                "ok",
                message.participant_id,
            )
        else:
            done = "REPRINTED" if message.reprint else "ISSUED AND PRINTED"
            self._outcome(
                f"BADGE {serial} {done} on {message.printer}: hand it over.{besides}\n{message.text}",
                "ok",
                message.participant_id,
            )
        self.app.after_painted(tidy_heap)  # type: ignore[attr-defined] # the issue's garbage, after its frame
        if message.status != desk.NOT_PRINTED:
            if self._unprinted is not None and self._unprinted.serial == message.serial:
                self._remember_unprinted(None)
            else:
                self._poll_printers(fresh=True)
        self._done()

    def on_print_failed(self, message: m.PrintFailed) -> None:
        done = "NOT reprinted" if message.reprint else "ISSUED – NOT PRINTED"
        besides = self._issued_note(message.serial)
        self._outcome(
            f"BADGE {format_serial(message.serial)} {done}: {message.error}{besides}\n"
            "Press ctrl+r (or F5) to retry printing.",
            "warn",
            message.participant_id,
        )
        self.app.bell()
        self._remember_unprinted(UnprintedBadge(message.participant_id, message.serial, message.printer, message.error))
        self._done()

    def _batch_lines(self, result: collection.BatchResult) -> list[str]:
        lines = [f"COLLECTED BY {result.collector_name} for {result.delegation} ({result.authorisation}):"]
        lines += [f"  ✓ {o.name}: badge {format_serial(o.serial)}" for o in result.issued]
        lines += [f"  ✗ {o.name}: NOT issued, {MESSAGES.get(Refusal(o.refusal), o.message)}" for o in result.refused]
        return lines

    def on_batch_issued(self, message: m.BatchIssued) -> None:
        self._outcome("\n".join([*self._batch_lines(message.result), "Printing…"]), "info", message.result.collector_id)

    def on_batch_was_refused(self, message: m.BatchWasRefused) -> None:
        lines = ["NOT ISSUED · the batch was refused, nothing was recorded:"]
        lines += [
            f"  {'✓' if o.issued else '✗'} {o.name}: {'can be issued' if o.issued else o.message}"
            for o in message.outcomes
        ]
        lines.append("Untick the members marked ✗ (ctrl+g again), or a supervisor issues them one by one.")
        self._outcome("\n".join(lines), "error", message.collector_id)
        self.app.bell()
        self._done()

    def on_batch_printed(self, message: m.BatchPrinted) -> None:
        lines = self._batch_lines(message.result)
        outcome = message.outcome
        if outcome is None:
            lines.append(f"ISSUED – NOT PRINTED: {message.error}. Select each member and press F5 to print.")
            tone = "warn"
        elif outcome.status == desk.NOT_PRINTED:
            lines.append(
                f"ISSUED – NOT PRINTED (printer {outcome.printer}: {outcome.problem}). PDF: {outcome.pdf_path}"
            )
            tone = "warn"
        elif outcome.status == desk.PDF_ONLY:
            lines.append(f"Badges saved as one PDF (no printer configured): {outcome.pdf_path}")
            tone = "ok"
        else:
            lines.append(f"Printed on {outcome.printer}: hand them to the collector.")
            tone = "ok"
        self._outcome("\n".join(lines), tone, message.result.collector_id)
        if tone == "warn":
            self.app.bell()
        self._done()

    def on_worker_state_changed(self, event) -> None:
        worker = event.worker
        if worker.group == "lookup" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            self._lookups_running = max(0, self._lookups_running - 1)
            self._search_what_waits()
        if event.state == WorkerState.ERROR:
            self._outcome(f"Unexpected error during {worker.description}: {worker.error}", "error")
            if worker.group == ACTION_GROUP:
                self._busy = None
                self._refresh_keys()
        elif event.state == WorkerState.CANCELLED and worker.group == ACTION_GROUP:
            self._busy = None
            self._refresh_keys()
