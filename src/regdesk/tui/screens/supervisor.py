"""The SUPERVISOR screen: how the day is going at a glance, conflicts to resolve, and the export of
the day's tallies.

Every few seconds a thread worker recomputes the day's tallies (services/tallies.py) and posts
them back; the tables are updated in place by row key, so nothing flickers. The export runs in
another worker and reports progress into a progress bar; the screen never waits on the database.
An open conflict is resolved here (Enter on its row, or ctrl+r): the same service as `regdesk
resolve`. Keys are function keys and ctrl+letters, never printable letters: the filter box takes typing.

Under 110 columns the two halves stack and the body scrolls (Tab moves from table to table), and
long cells are cut with an ellipsis so every column stays in view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, ProgressBar, Sparkline, Static
from textual.worker import Worker, WorkerState

from regdesk.domain.words import plural
from regdesk.services import alerts, conflicts, exports, tallies
from regdesk.services.tallies import ConflictRow, DayTallies, no_show_label
from regdesk.tui.dialogs.export_tallies import ExportTalliesDialog
from regdesk.tui.widgets.keyed_table import KeyedTable
from regdesk.tui.widgets.keys_footer import KeysFooter
from regdesk.tui.widgets.status_bar import StatusBar

REFRESH_SECONDS = 5.0
NO_SHOW_ROWS = 300  # the list is filtered, not scrolled through: beyond this, narrow the filter
NARROW_COLUMNS = 110
CONFLICT_WHY = {conflicts.DUPLICATE: "two valid badges", conflicts.QUOTA: "delegation over quota"}


@dataclass
class TalliesLoaded(Message):
    ticket: int
    tallies: DayTallies
    version: int  # tallies.data_version when computed
    closed: bool  # collection had closed when computed


@dataclass
class AlertsLoaded(Message):
    summary: alerts.AlertSummary


@dataclass
class ExportProgress(Message):
    done: int
    total: int
    text: str

    def can_replace(self, message: Message) -> bool:  # a flood of progress collapses into the latest
        return isinstance(message, ExportProgress)


@dataclass
class PassesPrinted(Message):
    text: str  # what was printed and where
    error: str = ""


@dataclass
class ExportFinished(Message):
    out_dir: Path
    files: int
    day: date


@dataclass
class ConflictLoaded(Message):
    conflict: conflicts.Conflict | None
    error: str = ""


def clip(text: str, width: int | None) -> str:
    """Cut a table cell to `width` characters with an ellipsis (None: no limit)."""
    if width is None or len(text) <= width:
        return text
    return text[: max(1, width - 1)] + "…"


def _pct(value: float) -> str:
    return f"{value:.0f}%"


def _n(value: int) -> str:
    return f"{value:,}"


def _hhmm(iso: str) -> str:
    return iso[11:16] if len(iso) >= 16 else iso


class SupervisorScreen(Screen):
    CSS_PATH = "../supervisor.tcss"
    AUTO_FOCUS = "#counters"
    # Most used first: a narrow footer shows the first ones (ctrl+p lists every key).
    BINDINGS = [
        Binding("f2", "previous_day", "◀ Day", id="supervisor.previous_day"),
        Binding("f3", "next_day", "Day ▶", id="supervisor.next_day"),
        Binding("ctrl+r", "resolve", "Resolve", id="supervisor.resolve", tooltip="Resolve an open conflict"),
        Binding("f6", "export", "Export", id="supervisor.export", tooltip="Export the day's tallies"),
        Binding("f4", "today", "Today", id="supervisor.today"),
        Binding("f5", "refresh", "Refresh", id="supervisor.refresh"),
        Binding("ctrl+e", "export", "Export", show=False, id="supervisor.export_ctrl"),
        Binding("ctrl+f", "filter", "Filter no-shows", show=False, id="supervisor.filter"),
        Binding(
            "ctrl+t",
            "print_passes",
            "Temporary passes",
            show=False,
            id="supervisor.print_passes",
            tooltip="Print a day's stock of temporary passes (on a desk station)",
        ),
        Binding(
            "ctrl+a",
            "pass_assignment",
            "Pass assignment",
            show=False,
            id="supervisor.pass_assignment",
            tooltip="Re-assign a temporary pass to another person, or un-assign it (with a reason)",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._ticket = 0
        self._latest: DayTallies | None = None
        self._open: list[ConflictRow] = []
        self._day: date | None = None
        self._exporting = False
        # (day, data version, collection closed?) on screen: skip refreshes that would show the same
        self._shown: tuple[date, int, bool] | None = None
        self._forced = False  # F5 asked for a computation that has not arrived yet
        self._loading: Worker[None] | None = None  # the tallies computation on its way, if any

    @property
    def station(self):  # noqa: ANN201 (the app's Station)
        return self.app.station  # type: ignore[attr-defined]

    @property
    def day(self) -> date:
        if self._day is None:
            self._day = tallies.current_day(self.station)
        return self._day

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="day-title")
        yield Static("", id="alert-hint")  # on top: security alerts are seen at any terminal size
        yield Static("", id="conflict-hint")
        with VerticalScroll(id="supervisor-body", can_focus=False):
            with Vertical(id="supervisor-left"):
                yield KeyedTable([("measure", "Measure"), ("today", "Today"), ("total", "So far")], id="counters")
                yield Static("Venue entries by hour", id="entries-caption", classes="spark-caption")
                yield Sparkline([0] * 24, id="entries-spark")
                yield Static("Badges issued by hour", id="badges-caption", classes="spark-caption")
                yield Sparkline([0] * 24, id="badges-spark")
                yield Static("00    04    08    12    16    20  23", classes="spark-axis")
            with Vertical(id="supervisor-right"):
                yield Static("Conflicts and overrides", classes="panel-title")
                yield KeyedTable(
                    [("time", "Time"), ("what", "What"), ("who", "Who"), ("why", "Why"), ("by", "By")], id="queue"
                )
                yield Static("No-shows", classes="panel-title", id="no-show-title")
                yield Input(placeholder="Filter by delegation", id="no-show-filter", max_length=80)
                yield KeyedTable(
                    [
                        ("delegation", "Delegation"),
                        ("name", "Name"),
                        ("category", "Cat."),
                        ("role", "Role"),
                        ("id", "Accreditation"),
                    ],
                    id="no-shows",
                )
        with Horizontal(id="export-bar"):
            yield Static("", id="export-status")
            yield ProgressBar(total=100, show_eta=False, id="export-progress")
        yield KeysFooter()  # fits the width: Sign out never clipped (widgets/keys_footer.py)

    def on_mount(self) -> None:
        self._show_day_title()
        self.query_one("#export-bar").display = False
        self.query_one("#conflict-hint").display = False
        self.query_one("#alert-hint").display = False
        self._fit(self.app.size.width)
        self.action_refresh()
        self.set_interval(REFRESH_SECONDS, self._tick)

    def on_resize(self, event) -> None:  # noqa: ANN001 (events.Resize)
        self._fit(event.size.width)
        if self._latest is not None:
            # Cells are cut to the new width. The newest tallies when the refresh comes, not those of
            # the resize: a computation that lands in between must not be painted over by older ones.
            self.call_after_refresh(self._show_latest)

    def _fit(self, width: int) -> bool:
        """Returns whether the layout changed."""
        narrow = width < NARROW_COLUMNS
        changed = narrow != self.has_class("-narrow")
        self.set_class(narrow, "-narrow")
        self.query_one(KeysFooter).compact = width < 160  # the supervisor's footer holds many keys
        if changed:
            self._show_day_title()
        return changed

    def _queue_widths(self) -> tuple[int, int, int, int]:
        """What, who, why and by share what the queue's width leaves after the time column."""
        narrow = self.has_class("-narrow")
        width = self.query_one("#queue", KeyedTable).size.width
        if not width:  # not laid out yet: estimate from the terminal
            width = self.app.size.width - (3 if narrow else 57)
        what = 17 if narrow else 22
        room = max(30, width - 11 - what - 2 * 5 - 2)  # time, what, cell padding, scrollbar
        who = by = room * 3 // 10
        return what, who, room - who - by, by

    def _cell(self, wide: int | None, narrow: int) -> int | None:
        """The longest a cell may be: `narrow` on a narrow terminal, else `wide` (None: no limit)."""
        return narrow if self.has_class("-narrow") else wide

    # --- loading --------------------------------------------------------------------------------

    def _tick(self) -> None:
        # A tick never supersedes a computation still on its way (an F5, or the tick before on a busy
        # machine): each new one would cancel the last and nothing would ever be shown.
        if self._loading is not None and self._loading.state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        self._ticket += 1
        self._loading = self._load(self._ticket, self.day, force=self._forced)

    def action_refresh(self) -> None:
        self._forced = True
        self._ticket += 1
        self._loading = self._load(self._ticket, self.day, force=True)

    @work(
        thread=True,
        exclusive=True,
        group="supervisor-tallies",
        exit_on_error=False,
        description="Computing the day's tallies",
    )
    def _load(self, ticket: int, day: date, force: bool) -> None:
        # At a large meeting a computation costs a second or two of CPU: only redo it when an event
        # arrived (recorded here or synced in) or the day changed.
        version = tallies.data_version(self.station)
        # The words and the no-show list change when collection closes, with no event to tell.
        closed = self.station.config.collection_closes_utc <= self.station.clock.now()
        if not force and self._shown == (day, version, closed):
            return
        self.post_message(AlertsLoaded(alerts.summary(self.station)))
        result = tallies.day_tallies(self.station, day)
        len(result.no_shows)  # build the list here, in the worker, not on the UI thread
        self.post_message(TalliesLoaded(ticket, result, version, closed))

    def on_alerts_loaded(self, message: AlertsLoaded) -> None:
        found = message.summary
        hint = self.query_one("#alert-hint", Static)
        hint.display = not found.quiet
        if found.quiet:
            return
        parts = []
        if found.total:
            latest = found.latest[0]
            parts.append(
                f"⚠ {plural(found.total, 'security alert')}. Latest, {latest.local_time} at "
                f"{latest.station}: {latest.text}"
            )
        if found.held:
            parts.append(
                f"{plural(found.held, 'event')} from other stations wait for their station's signature "
                "(they arrive with its next sync)"
            )
        hint.update(Text(" · ".join(parts) + ". F7 audit, filter kind:security_alert"))

    def on_tallies_loaded(self, message: TalliesLoaded) -> None:
        if message.ticket != self._ticket:
            return  # an older computation finished late: the newer one is coming
        self._shown = (message.tallies.day, message.version, message.closed)
        self._forced = False
        self._latest = message.tallies
        self._open = list(message.tallies.open_conflicts)
        self._show(message.tallies)

    def _show_latest(self) -> None:
        if self._latest is not None:
            self._show(self._latest)

    def _show(self, t: DayTallies) -> None:
        b, s, bus = t.badges, t.security, t.buses
        counts = t.delegation_counts
        waiting = no_show_label(t.collection_closed)
        counters = [
            ("issued", ("Badges issued", _n(b.issued), _n(b.issued_cum))),
            ("replaced", ("Badges replaced", _n(b.replaced), _n(b.replaced_cum))),
            ("revoked", ("Badges revoked", _n(b.revoked), _n(b.revoked_cum))),
            (
                "collected",
                ("Collected / on the list", "", f"{_n(b.collected)}/{_n(b.pre_registered)} {_pct(b.collected_pct)}"),
            ),
            ("delegations", ("Delegations complete", "", _n(counts["complete"]))),
            ("delegations_partial", ("Delegations partly collected", "", _n(counts["partial"]))),
            ("delegations_none", ("Delegations with no badge yet", "", _n(counts["not_collected"]))),
            ("no_shows", (waiting, "", _n(t.no_show_count))),
            ("entries", ("Venue entries", _n(s.entries), _n(s.entries_cum))),
            ("people", ("People entered", _n(s.distinct_people), _n(s.distinct_people_cum))),
            ("denied", ("Entries denied", _n(s.denied), _n(s.denied_cum))),
            ("boardings", ("Bus boardings", _n(bus.boardings), _n(bus.boardings_cum))),
            ("over_capacity", ("Buses over capacity", _n(bus.over_capacity), "")),
            ("overrides", ("Overrides", _n(len(t.overrides)), "")),
            ("open_conflicts", ("Conflicts open", "", _n(len(self._open)))),
        ]
        if b.by_proxy_cum:  # only once a focal point collected for their delegation
            counters.insert(3, ("by_proxy", ("Collected by focal points", _n(b.by_proxy), _n(b.by_proxy_cum))))
        self.query_one("#counters", KeyedTable).sync(counters)

        entries = [h.entries for h in t.hourly]
        badges = [h.badges for h in t.hourly]
        self.query_one("#entries-spark", Sparkline).data = entries
        self.query_one("#badges-spark", Sparkline).data = badges
        self.query_one("#entries-caption", Static).update(self._spark_caption("Venue entries by hour", entries))
        self.query_one("#badges-caption", Static).update(self._spark_caption("Badges issued by hour", badges))

        # Open conflicts first (they wait for a decision), then the day's decisions by time.
        what_w, who_w, why_w, by_w = self._queue_widths()
        queue: list[tuple[str, tuple[str, ...]]] = [
            (
                f"conflict:{c.conflict_id}",
                (
                    c.time_local[5:16].replace("T", " "),
                    "OPEN conflict",
                    clip(c.participant_name or c.participant_id, who_w),
                    clip(CONFLICT_WHY.get(c.kind, c.reason), why_w),
                    clip(c.station_name, by_w),
                ),
            )
            for c in self._open
        ]
        decided: list[tuple[str, str, tuple[str, ...]]] = []
        for c in t.conflicts:
            if c.state == "resolved":
                decided.append(
                    (
                        c.time_local,
                        f"resolved:{c.conflict_id}:{c.time_local}",
                        (
                            _hhmm(c.time_local),
                            clip("conflict resolved", what_w),
                            clip(c.participant_name or c.participant_id, who_w),
                            clip(f"{c.resolution}: {c.reason}", why_w),
                            clip(c.resolved_by, by_w),
                        ),
                    )
                )
        for o in t.overrides:
            decided.append(
                (
                    o.time_local,
                    f"override:{o.event_id}",
                    (
                        _hhmm(o.time_local),
                        clip(f"override {o.rule.replace('_', ' ')}", what_w),
                        clip(o.participant_name or o.participant_id, who_w),
                        clip(o.reason, why_w),
                        clip(f"{o.supervisor} / {o.operator}", by_w),
                    ),
                )
            )
        queue += [(key, cells) for _, key, cells in sorted(decided)]
        self.query_one("#queue", KeyedTable).sync(queue)
        hint = self.query_one("#conflict-hint", Static)
        hint.display = bool(self._open)
        hint.update(
            f"{plural(len(self._open), 'open conflict')} between desks: select it in the queue and press "
            "Enter, or press ctrl+r to resolve it"
        )
        self._show_no_shows()

    @staticmethod
    def _spark_caption(title: str, values: list[int]) -> str:
        total = sum(values)
        if not total:
            return f"{title}: none yet"
        peak = max(range(24), key=lambda h: values[h])
        return f"{title}: {total:,} · peak {peak:02d}:00 ({values[peak]:,})"

    def _show_no_shows(self) -> None:
        t = self._latest
        if t is None:
            return
        wanted = self.query_one("#no-show-filter", Input).value.strip().casefold()
        matching = [n for n in t.no_shows if wanted in n.delegation.casefold()] if wanted else list(t.no_shows)
        shown = matching[:NO_SHOW_ROWS]
        delegation_w, name_w = self._cell(None, 20), self._cell(None, 30)
        rows = [
            (
                n.accreditation_id,
                (
                    clip(n.delegation, delegation_w),
                    clip(n.name_latin or n.name, name_w),
                    n.category,
                    "head" if n.delegation_role == "head" else "",
                    n.accreditation_id,
                ),
            )
            for n in shown
        ]
        self.query_one("#no-shows", KeyedTable).sync(rows)
        waiting = no_show_label(t.collection_closed)
        more = f", first {len(shown):,} shown: narrow the filter" if len(matching) > len(shown) else ""
        label = f"{waiting}: {len(matching):,}" + (f" of {len(t.no_shows):,} match" if wanted else "") + more
        self.query_one("#no-show-title", Static).update(label)

    @on(Input.Changed, "#no-show-filter")
    def _filter_changed(self) -> None:
        self._show_no_shows()  # filters the list already in memory: no database work per keystroke

    def action_filter(self) -> None:
        self.query_one("#no-show-filter", Input).focus()

    # --- conflicts ------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#queue")
    def _queue_row_chosen(self, event: DataTable.RowSelected) -> None:
        key = str(event.row_key.value)
        if key.startswith("conflict:"):
            self._open_conflict(key.removeprefix("conflict:"))

    def action_resolve(self) -> None:
        """ctrl+r: the open conflict under the queue's cursor, else the first open one."""
        if not self._open:
            self.notify("No open conflict to resolve.", timeout=5)
            return
        queue = self.query_one("#queue", KeyedTable)
        keys = queue.keys()
        chosen = keys[queue.cursor_row] if 0 <= queue.cursor_row < len(keys) else ""
        if not chosen.startswith("conflict:"):
            chosen = f"conflict:{self._open[0].conflict_id}"
        self._open_conflict(chosen.removeprefix("conflict:"))

    def _open_conflict(self, key: str) -> None:
        self._load_conflict(key)

    @work(thread=True, exclusive=True, group="supervisor-conflict", exit_on_error=False)
    def _load_conflict(self, key: str) -> None:
        try:
            self.post_message(ConflictLoaded(conflicts.get_conflict(self.station, key)))
        except conflicts.ConflictError as exc:
            self.post_message(ConflictLoaded(None, str(exc)))

    def on_conflict_loaded(self, message: ConflictLoaded) -> None:
        from regdesk.tui.dialogs.resolve_conflict import ResolveConflictDialog

        if message.conflict is None:
            self.notify(message.error, severity="warning", timeout=10)
            self.action_refresh()
            return
        operator = getattr(self.app, "operator", None)
        # authority: who may resolve is the services' rule (domain.authority, Act.RESOLVE_CONFLICT); this only prefills.
        supervisor = operator.name if operator is not None and operator.role == "supervisor" else ""

        def done(result: conflicts.Resolution | None) -> None:
            if result is None:
                return
            kept = ", ".join(f"{s[:4]}-{s[4:]}" for s in result.kept_serials)
            revoked = ", ".join(f"{s[:4]}-{s[4:]}" for s in result.revoked_serials)
            self.notify(
                f"Kept {kept}" + (f"; revoked {revoked}: denied at every scan point" if revoked else "") + ".",
                title="Conflict resolved",
                timeout=10,
            )
            self.action_refresh()

        self.app.push_screen(ResolveConflictDialog(self.station, message.conflict, supervisor=supervisor), done)

    # --- days -----------------------------------------------------------------------------------

    def _show_day_title(self) -> None:
        today = tallies.current_day(self.station)
        note = " (today)" if self.day == today else ""
        if self.has_class("-narrow"):
            text = (
                f"Tallies for {self.day:%a} {self.day.day} {self.day:%b %Y}{note} · local day · "
                f"refreshed every {REFRESH_SECONDS:.0f} s"
            )
        else:
            text = (
                f"Tallies for {self.day:%A} {self.day.day} {self.day:%B %Y}{note} · local day, "
                f"{self.station.config.timezone} · refreshes every {REFRESH_SECONDS:.0f} s"
            )
        self.query_one("#day-title", Static).update(text)

    def _set_day(self, day: date) -> None:
        days = tallies.tally_days(self.station.config)
        self._day = min(max(day, days[0]), days[-1]) if day not in days and days else day
        self._show_day_title()
        self.action_refresh()

    def action_previous_day(self) -> None:
        self._set_day(self.day - timedelta(days=1))

    def action_next_day(self) -> None:
        self._set_day(self.day + timedelta(days=1))

    def action_today(self) -> None:
        self._set_day(tallies.current_day(self.station))

    # --- temporary passes ---------------------------------------------------------------------

    def action_print_passes(self) -> None:
        from regdesk.tui.dialogs.print_passes import PrintPassesDialog

        day = self.day if self.day in self.station.config.valid_days else self.station.config.valid_days[0]
        self.app.push_screen(PrintPassesDialog(day, self.station.config.valid_days), self._print_passes_chosen)

    def _print_passes_chosen(self, request) -> None:  # noqa: ANN001 (PrintPassesRequest | None)
        if request is not None:
            self.notify(f"Signing {request.count} temporary passes for {request.day.isoformat()}…")
            self._print_passes(request.day, request.count)

    @work(
        thread=True,
        exclusive=True,
        group="supervisor-passes",
        exit_on_error=False,
        description="Printing temporary passes",
    )
    def _print_passes(self, day: date, count: int) -> None:
        from regdesk.services import passes

        operator = getattr(self.app, "operator", None)
        try:
            run = passes.print_passes(self.station, day=day, count=count, operator=operator.name if operator else "")
        except passes.PassError as exc:
            self.post_message(PassesPrinted("", str(exc)))
            return
        data = run.as_json()
        first, last = (passes.domain.format_pass_serial(data[k]) for k in ("first", "last"))
        self.post_message(
            PassesPrinted(f"{data['count']} temporary passes for {data['day']}, {first} to {last}: {run.pdf_path}")
        )

    def action_pass_assignment(self) -> None:
        from regdesk.tui.dialogs.pass_assignment import PassAssignmentDialog

        self.app.push_screen(PassAssignmentDialog(), self._pass_assignment_chosen)

    def _pass_assignment_chosen(self, request) -> None:  # noqa: ANN001 (PassAssignmentRequest | None)
        if request is not None:
            self._override_assignment(request.serial, request.participant_id, request.reason)

    @work(thread=True, exclusive=True, group="supervisor-passes", exit_on_error=False, description="Pass assignment")
    def _override_assignment(self, serial: str, participant_id: str, reason: str) -> None:
        from regdesk.services import passes

        operator = getattr(self.app, "operator", None)
        try:
            done = passes.override_assignment(
                self.station, serial, participant_id, operator=operator.name if operator else "", reason=reason
            )
        except passes.PassError as exc:
            self.post_message(PassesPrinted("", f"assignment not changed: {exc}"))
            return
        data = done.as_json()
        was = done.previous_participant_id or "nobody"
        now = f"re-assigned to {participant_id}" if participant_id else "un-assigned: back in the unused stock"
        self.post_message(PassesPrinted(f"Pass {data['pass']} {now} (was {was})"))

    def on_passes_printed(self, message: PassesPrinted) -> None:
        if message.error:
            what = "Temporary pass" if message.error.startswith("assignment") else "Passes not printed"
            self.notify(f"{what}: {message.error}", severity="error", timeout=15)
        else:
            self.notify(message.text, title="Temporary passes", timeout=15)
        self.action_refresh()

    # --- export ---------------------------------------------------------------------------------

    def action_export(self) -> None:
        if self._exporting:
            self.notify("An export is already running.", severity="warning")
            return
        day = self.day
        default = self.station.output_dir / f"tallies-{day.isoformat()}"
        self.app.push_screen(
            ExportTalliesDialog(default, f"Tallies of {day:%a %d %b %Y}"), lambda path: self._start_export(path, day)
        )

    def _start_export(self, path: Path | None, day: date) -> None:
        if path is None:
            return
        self._exporting = True
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=100, progress=0)
        self.query_one("#export-status", Static).update(f"Exporting to {path} …")
        self.query_one("#export-bar").display = True
        self._export(path, day)

    @work(thread=True, exclusive=True, group="supervisor-export", exit_on_error=False, description="Exporting tallies")
    def _export(self, path: Path, day: date) -> None:
        result = exports.export_tallies(
            self.station,
            path,
            [day],
            progress=lambda done, total, text: self.post_message(ExportProgress(done, total, text)),
        )
        self.post_message(ExportFinished(result.out_dir, len(result.files), day))

    def on_export_progress(self, message: ExportProgress) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=message.total, progress=message.done)
        self.query_one("#export-status", Static).update(message.text)

    def on_export_finished(self, message: ExportFinished) -> None:
        self._exporting = False
        self.query_one("#export-progress", ProgressBar).update(
            progress=self.query_one("#export-progress", ProgressBar).total or 100
        )
        self.query_one("#export-status", Static).update(
            f"Exported {plural(message.files, 'file')} for {message.day.isoformat()} to {message.out_dir}"
        )
        self.notify(f"Tallies exported: {plural(message.files, 'file')} in {message.out_dir}", title="Export done")

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if event.worker.group == "supervisor-export":
            self._exporting = False
            self.query_one("#export-status", Static).update(f"Export failed: {error}")
            self.notify(f"Export failed: {error}", severity="error", timeout=10)
        else:
            self.notify(f"Could not compute the tallies: {error}", severity="error", timeout=10)
