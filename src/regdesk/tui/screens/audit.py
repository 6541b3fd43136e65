"""The AUDIT screen (supervisors): every event, newest first, with station, operator, local time, the
participant it is about and what it changed; one filter line narrows it (`kind:badge op:ana
station:westin day:2017-12-01 CH-12`, or a participant's name: `gomez camacho`).

Columns follow the terminal: "What it changed" takes the width that is left and wraps, so every
column stays in view from 80 columns up (narrow terminals get a short time and cut names).

Rows come from services/audit.py, which never shows a token, a PIN hash or more than the last 4
characters of a document, and refuses anyone but a supervisor. Queries run in a thread worker.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Input, Static

from regdesk.domain import authority
from regdesk.domain.words import plural
from regdesk.services import audit, operators
from regdesk.tui.widgets.keys_footer import KeysFooter
from regdesk.tui.widgets.status_bar import StatusBar

PAGE = 300
FILTER_HINT = "a name (gomez camacho), kind:badge op:ana station:westin day:2017-12-01, CH-12, ABCD-EFGH"
NARROW_COLUMNS = 110
# (label, width on a wide terminal, label and width under NARROW_COLUMNS); width 0: no column;
# None: the width that is left. Narrow: operator and station share a column, the participant's name
# leads the sentence.
COLUMNS = (
    ("Local time", 19, "Local time", 11),
    ("Station", 15, "", 0),
    ("Operator", 12, "By · station", 15),
    ("Event", 17, "Event", 12),
    ("Participant", 20, "", 0),
    ("What it changed", None, "What it changed", None),
)
MIN_SUMMARY = 24


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


class AuditScreen(Screen):
    DEFAULT_CSS = """
    AuditScreen #audit-title { text-style: bold; padding: 0 1; height: 1; }
    AuditScreen #audit-filter { margin: 0 1; }
    AuditScreen #audit-info { color: $text-muted; padding: 0 1; height: 1; }
    AuditScreen #audit-table { height: 1fr; margin: 0 1; }
    AuditScreen #audit-filter.-textual-compact { margin: 0 1; }
    """
    BINDINGS = [
        Binding("f5", "refresh", "Refresh", id="audit.refresh"),
        Binding("f6", "older", "Older events", id="audit.older"),
        Binding("escape", "clear_filter", "Clear filter", id="audit.clear", show=False),
    ]
    AUTO_FOCUS = "#audit-filter"

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[audit.AuditRow] = []
        self.filters = audit.AuditFilter()
        self._debounce: Timer | None = None
        self._ticket = 0
        self.allowed = False

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("Audit · every recorded event, newest first", id="audit-title")
        yield Input(placeholder=FILTER_HINT, id="audit-filter")
        yield Static("", id="audit-info")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield KeysFooter()  # fits the width: Sign out never clipped (widgets/keys_footer.py)

    def on_mount(self) -> None:
        self._widths = self._column_widths(self.app.size.width)
        self._add_columns()
        self.query_one("#audit-filter", Input).compact = self.app.size.height < 32
        operator = getattr(self.app, "operator", None)
        try:
            refusal = authority.act_refusal(
                authority.Act.READ_AUDIT, operator.role if operator else None, self.app.station.role
            )
            if refusal:
                raise operators.NotAllowed(refusal)
        except operators.NotAllowed as exc:
            self.query_one("#audit-info", Static).update(str(exc))
            self.query_one("#audit-filter", Input).disabled = True
            return
        self.allowed = True
        self.action_refresh()

    def on_resize(self, event) -> None:  # noqa: ANN001 (events.Resize)
        self.query_one("#audit-filter", Input).compact = event.size.height < 32
        widths = self._column_widths(event.size.width)
        if widths != self._widths:
            self._widths = widths
            table = self.query_one("#audit-table", DataTable)
            table.clear(columns=True)
            self._add_columns()
            self._add_rows(self.rows)

    @staticmethod
    def _column_widths(width: int) -> tuple[int, ...]:
        """Each column's width; "What it changed" gets what is left (2 columns of padding per cell)."""
        narrow = width < NARROW_COLUMNS
        fixed = [n if narrow else w for _, w, _, n in COLUMNS[:-1]]
        shown = sum(1 for w in fixed if w) + 1
        used = sum(fixed) + 2 * shown + 4  # cell padding, table margins and scrollbar
        return (*fixed, max(MIN_SUMMARY, width - used))

    def _add_columns(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        narrow = self._widths[0] < 19
        for (label, _, narrow_label, _), width in zip(COLUMNS, self._widths, strict=False):
            if width:
                table.add_column(narrow_label if narrow else label, width=width)

    def _add_rows(self, rows: list[audit.AuditRow]) -> None:
        table = self.query_one("#audit-table", DataTable)
        time_w, station_w, operator_w, event_w, who_w, summary_w = self._widths
        narrow = time_w < 19
        for row in rows:
            cells: list[object] = [row.local_time[5:16] if narrow else row.local_time]
            if station_w:
                cells += [clip(row.station, station_w), clip(row.operator, operator_w)]
            else:
                cells.append(clip(f"{row.operator} · {row.station}", operator_w))
            cells.append(clip(row.kind.replace("_", " "), event_w))
            summary = row.summary
            if who_w:
                cells.append(clip(row.participant_name, who_w))
            elif row.participant_name:  # no room for a column: the name leads the sentence
                summary = f"{row.participant_name}: {summary}"
            cells.append(Text(summary))
            table.add_row(*cells, key=row.event_id, height=None)

    # --- filtering --------------------------------------------------------------------------------

    @on(Input.Changed, "#audit-filter")
    def _filter_changed(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.3, self._apply_filter)

    @on(Input.Submitted, "#audit-filter")
    def _apply_filter(self) -> None:
        if self._debounce is not None:
            self._debounce.stop()
            self._debounce = None
        text = self.query_one("#audit-filter", Input).value
        try:
            self.filters = audit.parse_filter(text)
        except audit.AuditError as exc:
            self.query_one("#audit-info", Static).update(str(exc))
            return
        self.action_refresh()

    def action_clear_filter(self) -> None:
        self.query_one("#audit-filter", Input).value = ""
        self._apply_filter()

    # --- loading ----------------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.allowed:
            self._ticket += 1
            self._load(self._ticket, self.filters, None)

    def action_older(self) -> None:
        if self.allowed and self.rows:
            self._ticket += 1
            self._load(self._ticket, self.filters, self.rows[-1].cursor)

    @work(thread=True, exclusive=True, group="audit")
    def _load(self, ticket: int, filters: audit.AuditFilter, before: str | None) -> None:
        operator = getattr(self.app, "operator", None)
        try:
            rows = audit.list_audit(
                self.app.station,
                filters,  # type: ignore[attr-defined]
                viewer_role=operator.role if operator else None,
                limit=PAGE,
                before=before,
            )
        except (operators.NotAllowed, audit.AuditError) as exc:
            self.app.call_from_thread(self.query_one("#audit-info", Static).update, str(exc))
            return
        self.app.call_from_thread(self._show, ticket, rows, before is not None)

    def _show(self, ticket: int, rows: list[audit.AuditRow], append: bool) -> None:
        if ticket != self._ticket:
            return  # a newer filter was typed meanwhile
        table = self.query_one("#audit-table", DataTable)
        if not append:
            table.clear()
            self.rows = []
        self._add_rows(rows)
        self.rows.extend(rows)
        more = " · F6 for older events" if len(rows) == PAGE else ""
        what = "matching the filter" if not self.filters.is_empty() else "in the log"
        self.query_one("#audit-info", Static).update(f"{plural(len(self.rows), 'event')} {what} shown{more}")
