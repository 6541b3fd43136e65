"""What the security and bus scan screens share.

- One always-focused ScanInput (bottom); nothing else can take focus; bindings are F-keys only,
  so a scanner typing into a screen whose focus slipped can never trigger an action.
- Scans go, in order, through one queue to one worker thread that owns the `Scanner`: the UI
  never waits on the database, no scan is dropped or reordered (an `exclusive` worker would
  cancel the previous scan), and results come back as messages.
- The verdict fills the screen and goes back to READY by itself after `hold_seconds`, or at the
  next scan. A denial rings the bell. The last scans stay listed next to (or, on a narrow terminal,
  under) the verdict.
- Ctrl+Q asks first: a lane must not close on a stray key press.
- Layout follows the terminal: `-narrow` (under 110 columns) puts the list under the verdict,
  `-short` (under 32 rows) drops margins and borders so an 80x24 terminal shows everything.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import get_current_worker

from regdesk.config import EventConfig
from regdesk.domain.passes import format_pass_serial
from regdesk.domain.verdict import Outcome
from regdesk.domain.words import plural
from regdesk.services import photos, scanning
from regdesk.services.station import Station
from regdesk.tui.heap import tidy_heap
from regdesk.tui.widgets.keys_footer import KeysFooter
from regdesk.tui.widgets.photo import PhotoView
from regdesk.tui.widgets.recent_scans import RecentScan, RecentScans
from regdesk.tui.widgets.scan_input import ScanInput
from regdesk.tui.widgets.status_bar import StatusBar
from regdesk.tui.widgets.verdict_panel import ScanView, VerdictPanel, block_width

SCAN_CSS = str(Path(__file__).resolve().parents[1] / "scan.tcss")
NARROW_COLUMNS = 110  # below: the recent scans go under the verdict
SHORT_ROWS = 32  # below: no margins, one-line scan field

_STOP = object()

OVER_CAPACITY_TITLE = "OVER CAPACITY"
OVER_CAPACITY_ACTION = "Close this departure now (F4): send the next people to the next bus"


def view_of(result: scanning.ScanResult, config: EventConfig) -> ScanView:
    holder = result.holder
    detail = ""
    if result.entries_today is not None:
        if result.counted:
            detail = f"Entry {result.entries_today} today"
        else:
            detail = plural(result.entries_today, "entry", "entries") + " today"
    state, title, reason = str(result.outcome), result.verdict.title, result.verdict.text
    action = scanning.next_step(config, result)
    if result.headcount is not None:
        detail = f"On board {result.headcount} / {result.capacity}"
    if result.over_capacity:
        # Recorded as a valid boarding, but never shown as a green VALID: the bus is overfull.
        state, title = "over", OVER_CAPACITY_TITLE
        reason = (
            f"OVER CAPACITY \u2013 {result.headcount}/{result.capacity}: boarding recorded, "
            f"{plural(result.headcount or 0, 'person', 'people')} on a bus for {result.capacity}"
        )
        action = OVER_CAPACITY_ACTION
    return ScanView(
        state=state,
        title=title,
        reason=reason,
        action=action,
        note=result.verdict.note,
        name=holder.name if holder else "",
        name_latin=holder.name_latin if holder else "",
        delegation=holder.delegation if holder else "",
        category_name=holder.category_name if holder else "",
        category_colour=holder.category_colour if holder else "",
        serial=result.serial,
        detail=detail,
        manual=result.manual,
        temporary_pass=result.temporary_pass,
    )


def recent_of(result: scanning.ScanResult, view: ScanView, config: EventConfig) -> RecentScan:
    holder = result.holder
    name = (holder.name_latin or holder.name) if holder else ""
    verdict = "OVER CAP." if view.state == "over" else view.title
    reason = result.verdict.text if view.state != "over" else f"boarded, {result.headcount}/{result.capacity}"
    return RecentScan(
        config.local(result.scanned_at).strftime("%H:%M:%S"),
        view.state,
        verdict,
        name or (_serial_label(result) if result.claimed_serial else ""),
        reason,
    )


def _serial_label(result: scanning.ScanResult) -> str:
    if result.temporary_pass:
        return f"pass {format_pass_serial(result.claimed_serial)}"
    return f"badge {result.claimed_serial[:4]}-{result.claimed_serial[4:]}"


# From a verdict's handler to its frame on screen, with room to spare (a frame every 4 ms, painted
# in under 20 even at 100,000 participants).
ANSWER_PAINTED_S = 0.05


@dataclass
class PhotoLoaded(Message):
    """The holder's photo, read and decoded after the verdict was shown (None: none on file)."""

    participant_id: str
    image: Any


@dataclass
class ScanDone(Message):
    result: scanning.ScanResult


@dataclass
class ScanFailed(Message):
    """The scan could not be decided or recorded (database trouble): the officer must scan again."""

    text: str


@dataclass
class ScannerReady(Message):
    """The worker built (or rebuilt) its Scanner; `info` is plain data for the header."""

    info: dict[str, Any]


@dataclass
class DepartureRolled(Message):
    """The local day changed: yesterday's open departure was closed and today's opened."""

    closed: scanning.Departure
    headcount: int
    info: dict[str, Any]


class ScanScreen(Screen):
    CSS_PATH = SCAN_CSS
    AUTO_FOCUS = "#scan"
    POINT_KIND = ""  # security | bus
    hold_seconds: float = 4.0  # how long a verdict stays before READY

    BINDINGS = [
        Binding("f2", "manual", "Manual entry", tooltip="Damaged badge: find the person by name (supervisor)"),
        # The app's own ctrl+q runs first and asks through `action_confirm_quit`; this one (a
        # priority binding too, so the app's hidden one does not replace it) puts "^q Quit" in the footer.
        Binding("ctrl+q", "confirm_quit", "Quit", id="scan.quit", priority=True),
    ]

    def __init__(
        self,
        station: Station | None = None,
        operator: str | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self._station = station
        self._operator = operator
        self._jobs: queue.Queue = queue.Queue()
        self._reset_timer: Timer | None = None
        self.scanner_info: dict[str, Any] = {}
        self.results: list[scanning.ScanResult] = []  # this session's results, newest last
        self.session_counts = {"valid": 0, "denied": 0, "repeat": 0}

    # -- context from the app (the shell sets app.station / app.operator after login) --

    @property
    def station(self) -> Station:
        return self._station or self.app.station  # type: ignore[attr-defined]

    @property
    def operator_name(self) -> str:
        if self._operator:
            return self._operator
        operator = getattr(self.app, "operator", None)
        return str(getattr(operator, "name", operator) or "scanner")

    # -- layout --

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield Static("", id="point-line", markup=False)
        with Horizontal(id="scan-body"):
            with Horizontal(id="verdict-row"):
                yield VerdictPanel()
                yield PhotoView(id="holder-photo")
            yield RecentScans()
        yield Static("", id="session-line", markup=False)
        yield ScanInput()
        yield KeysFooter()  # fits the width: Sign out never clipped (widgets/keys_footer.py)

    def on_mount(self) -> None:
        self.query_one(PhotoView).clear()
        self.query_one(VerdictPanel).show_ready("Starting...")
        self._fit(self.app.size.width, self.app.size.height)
        self.start_lane()

    def start_lane(self) -> None:
        """Start the scan worker (the bus screen first asks a fresh station where it stands)."""
        self._scan_worker()

    def on_resize(self, event) -> None:  # noqa: ANN001 (events.Resize)
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_COLUMNS, "-narrow")
        self.set_class(height < SHORT_ROWS, "-short")
        self.query_one(VerdictPanel).compact = height < SHORT_ROWS  # no row kept under the headline

    def on_unmount(self) -> None:
        self._jobs.put(_STOP)

    def on_screen_resume(self) -> None:
        # Back from a dialog (or from another mode): the scanner must type into the scan input.
        self.query_one(ScanInput).focus()

    # -- the worker: one thread, one Scanner, jobs in order --

    def make_scanner(self) -> scanning.Scanner:
        """Build the Scanner for the station's configured point (runs in the worker thread)."""
        point = scanning.configured_point(self.station)
        if point is None or point.kind != self.POINT_KIND:
            point = scanning.default_point(self.station)
            scanning.configure_point(self.station, point)
        return scanning.Scanner(self.station, self.operator_name, point)

    def describe(self, scanner: scanning.Scanner) -> dict[str, Any]:
        return {"point": scanner.point, "label": scanner.point.label(self.station.config)}

    @work(thread=True, group="scan-worker", exit_on_error=False, name="scan-worker")
    def _scan_worker(self) -> None:
        worker = get_current_worker()
        try:
            scanner = self.make_scanner()
        except Exception as exc:  # noqa: BLE001 - shown to the officer, never a crash
            self.post_message(ScanFailed(f"Scan point not ready: {exc}"))
            return
        self.post_message(ScannerReady(self.describe(scanner)))
        reported = scanner.closed_at_day_change
        while not worker.is_cancelled:
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                try:
                    scanner.roll_day()  # midnight passed while the lane was idle
                    scanner.housekeeping(force=True)  # the lane is idle: a good moment
                except Exception:  # noqa: BLE001 - e.g. locked by a backup; try again next pause
                    pass
                if scanner.closed_at_day_change is not reported:
                    reported = scanner.closed_at_day_change
                    self.post_message(self._rolled(scanner))
                continue
            if job is _STOP:
                break
            try:
                outcome = job(scanner)
            except scanning.ScanError as exc:
                outcome = ScanFailed(str(exc))
            except Exception as exc:  # noqa: BLE001 - e.g. database locked or disk full
                outcome = ScanFailed(f"Not recorded ({type(exc).__name__}): scan again")
            if isinstance(outcome, scanning.Scanner):  # the point was changed: use the new one
                scanner.close()
                scanner = outcome
                outcome = ScannerReady(self.describe(scanner))
            if outcome is not None:
                self.post_message(outcome)
            if scanner.closed_at_day_change is not reported:  # a scan after midnight rolled the day
                reported = scanner.closed_at_day_change
                self.post_message(self._rolled(scanner))
        scanner.close()

    def _rolled(self, scanner: scanning.Scanner) -> DepartureRolled:
        closed = scanner.closed_at_day_change
        assert closed is not None
        return DepartureRolled(closed, scanner.day_change_headcount, self.describe(scanner))

    def submit_job(self, job: Callable[[scanning.Scanner], Message | scanning.Scanner | None]) -> None:
        """Run `job(scanner)` in the scan worker, after every job queued before it. It returns a
        message to post, or a new Scanner to use from now on."""
        self._jobs.put(job)

    # -- scans --

    @on(ScanInput.Scanned)
    def _on_scanned(self, event: ScanInput.Scanned) -> None:
        event.stop()
        code = event.code
        self.station.give_way.someone_waits()  # a sync in this process waits between its chunks
        self.submit_job(lambda scanner: ScanDone(scanner.scan(code)))

    @on(ScanDone)
    def _on_scan_done(self, event: ScanDone) -> None:
        result = event.result
        self.results.append(result)
        del self.results[:-50]
        self.session_counts[str(result.outcome)] = self.session_counts.get(str(result.outcome), 0) + 1
        view = view_of(result, self.station.config)
        # The photo comes after the verdict: the verdict is committed and on screen first; its
        # slot is set now (so the verdict does not move when it arrives), and the photo is read
        # and decoded in a thread of its own once this frame is painted.
        photo = self.query_one(PhotoView)
        with_photo = result.holder is not None and result.holder_in_mirror and self._room_for_photo(view.title)
        keep_slot = not with_photo and self._keeps_photo_slot(view.title)
        self.query_one(VerdictPanel).show(view)
        if with_photo:
            assert result.holder is not None
            photo.show(result.holder.participant_id, None, loading=True)
            self.app.after_painted(partial(self._load_photo, result.holder.participant_id))  # type: ignore[attr-defined]
        elif keep_slot:
            photo.blank()
        else:
            photo.clear()
        self.query_one(RecentScans).add(recent_of(result, view, self.station.config))
        if result.outcome is Outcome.DENIED:
            self.app.bell()
        elif result.over_capacity and scanning.over_capacity_bell(self.station):
            self.app.bell()
        self._update_session_line()
        self.after_result(result)
        self._schedule_ready()
        self._answered()
        self.app.after_painted(tidy_heap)  # type: ignore[attr-defined]

    @on(ScanFailed)
    def _on_scan_failed(self, event: ScanFailed) -> None:
        self._no_one_in_photo_slot("ERROR")  # nobody's photo beside an error
        self.query_one(VerdictPanel).show(
            ScanView(
                state="error", title="ERROR", reason=event.text, action="Nothing was recorded: scan the badge again"
            )
        )
        self.app.bell()
        self._schedule_ready()
        self._answered()

    def _answered(self) -> None:
        # The sync goes on once this verdict is on screen: a frame is painted within a few
        # milliseconds of the handler (Textual's callbacks "after refresh" may run before it).
        self.set_timer(ANSWER_PAINTED_S, self.station.give_way.answered)

    @on(ScannerReady)
    def _on_scanner_ready(self, event: ScannerReady) -> None:
        self.scanner_info = event.info
        self.refresh_point_line()
        self.query_one(VerdictPanel).show_ready()
        self._no_one_in_photo_slot("READY")

    @on(DepartureRolled)
    def _on_departure_rolled(self, event: DepartureRolled) -> None:
        self.scanner_info = event.info
        self.refresh_point_line()
        closed = event.closed
        day = closed.local_day(self.station.config)
        self.notify(
            f"{closed.label} of {day:%a} {day.day} {day:%b} ({plural(event.headcount, 'person', 'people')} "
            "on board) was left open: closed at the day change, counted on its own day.",
            title="New day, new departure",
            timeout=30,
        )

    def after_result(self, result: scanning.ScanResult) -> None:
        """Hook for the bus screen (headcount)."""

    def _schedule_ready(self) -> None:
        if self._reset_timer is not None:
            self._reset_timer.stop()
        self._reset_timer = self.set_timer(self.hold_seconds, self._back_to_ready)

    def _back_to_ready(self) -> None:
        self._reset_timer = None
        self.query_one(VerdictPanel).show_ready()
        self._no_one_in_photo_slot("READY")

    def _keeps_photo_slot(self, title: str) -> bool:
        """On a screen tall enough for a steady verdict (VerdictPanel.steady), the photo slot stays
        beside it, blank when no one is shown: the next verdict is painted without moving anything.
        Not where the verdict's block letters need the slot's columns."""
        return self.query_one(VerdictPanel).steady and self._room_for_photo(title)

    def _no_one_in_photo_slot(self, title: str) -> None:
        photo = self.query_one(PhotoView)
        if self._keeps_photo_slot(title):
            photo.blank()
        else:
            photo.clear()

    def _photo_columns(self) -> int:
        width = self.query_one(PhotoView).styles.width
        return int(width.value) if width is not None and width.unit.name == "CELLS" else 26

    def _verdict_width(self, with_photo: bool) -> int | None:
        """The verdict panel's content width once the photo slot is shown or hidden."""
        row = self.query_one("#verdict-row").size.width
        if not row:
            return None
        panel = self.query_one(VerdictPanel)
        padding = panel.styles.padding.left + panel.styles.padding.right
        return max(1, row - padding - (self._photo_columns() if with_photo else 0))

    def _room_for_photo(self, title: str) -> bool:
        """The verdict's block letters come first: the photo only where they still fit beside it."""
        needed = block_width(title)
        width = self._verdict_width(True)
        return not needed or width is None or width >= needed

    @work(thread=True, group="photo", exclusive=True, exit_on_error=False)
    def _load_photo(self, participant_id: str) -> None:
        try:
            jpeg = photos.load_photo(self.station, participant_id)
            image = photos.decode(jpeg) if jpeg else None
        except Exception:  # noqa: BLE001 - a photo that cannot be read is shown as missing
            image = None
        self.post_message(PhotoLoaded(participant_id, image))

    @on(PhotoLoaded)
    def _on_photo_loaded(self, event: PhotoLoaded) -> None:
        photo = self.query_one(PhotoView)
        if photo.shown_for == event.participant_id:  # still the scan on screen
            photo.show(event.participant_id, event.image)

    def _update_session_line(self) -> None:
        c = self.session_counts
        passes = (
            f" · {c['temporary']} temporary pass{'es' if c['temporary'] != 1 else ''}" if c.get("temporary") else ""
        )
        self.query_one("#session-line", Static).update(  # one line of fixed size: no layout needed
            f"This session: {c.get('valid', 0)} valid{passes} · {c.get('denied', 0)} denied · "
            f"{c.get('repeat', 0)} repeat",
            layout=False,
        )

    # -- quitting --

    def action_confirm_quit(self) -> None:
        from regdesk.tui.dialogs.confirm import ConfirmDialog

        def done(yes: bool | None) -> None:
            if yes:
                self.app.exit()

        self.app.push_screen(
            ConfirmDialog(
                "Quit regdesk?",
                "This lane stops checking badges until regdesk is started again. To hand over to "
                "a colleague, sign out instead (F8).",
                yes="Quit",
                no="Keep scanning",
            ),
            done,
        )

    def refresh_point_line(self) -> None:
        self.query_one("#point-line", Static).update(self.scanner_info.get("label", ""))

    # -- manual entry (damaged badge) --

    def action_manual(self) -> None:
        from regdesk.tui.dialogs.manual_entry import ManualEntryDialog, ManualEntryRequest

        def done(request: ManualEntryRequest | None) -> None:
            if request is not None:
                self.station.give_way.someone_waits()
                self.submit_job(
                    lambda scanner: ScanDone(
                        scanner.manual(
                            request.participant_id, supervisor=request.supervisor, pin=request.pin, note=request.note
                        )
                    )
                )

        self.app.push_screen(ManualEntryDialog(self.station), done)
