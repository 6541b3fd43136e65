"""The AUDIT screen (supervisors): every event, newest first, with station, operator, local time and
what it changed; one filter line narrows it (`kind:badge op:ana station:westin day:2017-12-01 CH-12`).

Rows come from services/audit.py, which never shows a token, a PIN hash or more than the last 4
characters of a document, and refuses anyone but a supervisor. Queries run in a thread worker.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from regdesk.domain import authority
from regdesk.services import audit, operators

PAGE = 300
FILTER_HINT = "kind:badge  op:ana  station:westin  day:2017-12-01  CH-12 / ABCD-EFGH"


class AuditScreen(Screen):
    DEFAULT_CSS = """
    AuditScreen #audit-title { text-style: bold; padding: 0 1; height: 1; }
    AuditScreen #audit-filter { margin: 0 1; }
    AuditScreen #audit-info { color: $text-muted; padding: 0 1; height: 1; }
    AuditScreen #audit-table { height: 1fr; margin: 0 1; }
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
        yield Static("Audit · every recorded event, newest first", id="audit-title")
        yield Input(placeholder=FILTER_HINT, id="audit-filter")
        yield Static("", id="audit-info")
        table: DataTable = DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Local time", "Station", "Operator", "Event", "What it changed")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        operator = getattr(self.app, "operator", None)
        try:
            refusal = authority.act_refusal(authority.Act.READ_AUDIT, operator.role if operator else None,
                                            self.app.station.role)
            if refusal:
                raise operators.NotAllowed(refusal)
        except operators.NotAllowed as exc:
            self.query_one("#audit-info", Static).update(str(exc))
            self.query_one("#audit-filter", Input).disabled = True
            return
        self.allowed = True
        self.action_refresh()

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
            rows = audit.list_audit(self.app.station, filters,  # type: ignore[attr-defined]
                                    viewer_role=operator.role if operator else None, limit=PAGE, before=before)
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
        for row in rows:
            table.add_row(row.local_time, row.station, row.operator, row.kind.replace("_", " "), row.summary,
                          key=row.event_id)
        self.rows.extend(rows)
        more = " · F6 for older events" if len(rows) == PAGE else ""
        what = "matching the filter" if not self.filters.is_empty() else "in the log"
        self.query_one("#audit-info", Static).update(f"{len(self.rows)} events {what} shown{more}")
