"""The regdesk Textual application: sign-in, then the screen for the station's role.

Everything the app needs comes through the constructor (`make_app`), so the CLI and the tests
build it the same way. Screens reach the station as `self.app.station` and the signed-in
operator as `self.app.operator` (an OperatorSession; `.name` goes on every recorded event).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import WorkerFailed

from regdesk.domain import authority
from regdesk.errors import RegdeskError, explain, is_machine_failure
from regdesk.tui import input_delivery
from regdesk.tui.dialogs.message import MessageDialog
from regdesk.tui.heap import settle_heap
from regdesk.tui.modes import MODE_SCREENS, ROLE_START_MODE, load_screen_class
from regdesk.tui.screens.login import LoginScreen
from regdesk.tui.widgets.scan_input import TERMINATOR_KEYS as SCAN_TERMINATORS
from regdesk.tui.widgets.scan_input import ScanInput

if TYPE_CHECKING:  # imported when the station opens, after the sign-in screen is drawn
    from regdesk.services.operators import OperatorSession
    from regdesk.services.station import Station
    from regdesk.services.station_front import StationFront

# Supervisors switch screens with function keys (never printable letters: scan and search inputs
# live on these screens); which screens, and at which station, is authority.SCREENS.
MODE_KEYS = tuple((mode, rule.key, rule.label) for mode, rule in authority.SCREENS.items())

SIGNIN_MODE = "signin"
SWITCH_INTERVAL = 0.001  # seconds
AFTER_PAINTED_LIMIT_S = 0.5  # `after_painted` work runs by then even if no frame comes

REGDESK_THEME = Theme(
    name="regdesk",
    primary="#1B75BB",  # close to UN blue, calm on a dark background
    secondary="#4FA3D9",
    accent="#5DB7E8",
    success="#3FAE6A",
    warning="#E0A030",
    error="#E05252",
    foreground="#E6EDF3",
    background="#0E1620",
    surface="#15202C",
    panel="#1C2A39",
    dark=True,
)


class RegdeskApp(App):
    TITLE = "regdesk"
    CSS_PATH = "app.tcss"
    # Screens get -short below 32 rows (a netbook's 80x24) so their stylesheets can tighten up.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        *(
            Binding(key, f"mode('{mode}')", label, id=f"app.mode.{mode}", tooltip=f"Switch to the {label} screen")
            for mode, key, label in MODE_KEYS
        ),
        Binding("f8", "sign_out", "Sign out", id="app.sign_out"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True, show=False),
    ]

    def __init__(
        self,
        station: Station | StationFront,
        *,
        operator: OperatorSession | None = None,
        opener: Callable[[], Station] | None = None,
    ) -> None:
        """`station`: the opened station; or, with `opener`, the station's front (what the sign-in
        screen shows), the station then being opened by `opener` in a thread after the first frame."""
        from regdesk.tui.widgets import photo

        photo.prepare()  # asks the terminal about graphics now: once Textual runs, it owns stdin
        super().__init__()
        # While a sync merges in a thread of this process, the screen's thread gets the interpreter
        # back after at most 1 ms instead of Python's default 5 ms, at every one of the handoffs
        # a scan or a keystroke makes (each SQLite call, each worker message).
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.front: Station | StationFront = station
        self._handling = 0  # messages being handled by the app itself (see _post_message)
        self._after_painted: list[Callable[[], object]] = []
        self._after_painted_batch = 0  # a new one each time the list fills: its own time limit
        self._opened: Future[Station] = Future()
        self._opener = opener
        self._opening = False
        if opener is None:
            self._opened.set_result(station)  # type: ignore[arg-type]
        self.operator: OperatorSession | None = operator
        self.is_demo = station.setting("demo") == "1"
        self.add_mode(SIGNIN_MODE, self._login_screen)
        for mode in MODE_SCREENS:
            self.add_mode(mode, self._screen_factory(mode))
        self.register_theme(REGDESK_THEME)
        self.theme = "regdesk"

    @property
    def station(self) -> Station:
        """The opened station. While it is still opening (the first second of `regdesk tui`), the
        caller waits for it; a station that failed to open raises what open_station raised."""
        return self._opened.result()

    @property
    def station_ready(self) -> bool:
        return self._opened.done() and self._opened.exception() is None

    def when_station_ready(self, callback: Callable[[], object]) -> None:
        """Run `callback` on the UI thread once the station is open (at once if it is)."""
        if self._opened.done():
            if self._opened.exception() is None:
                callback()
            return

        def on_ui_thread(future: Future[Station]) -> None:
            if future.exception() is None:
                with contextlib.suppress(RuntimeError):  # the app ended while the station opened
                    self.call_from_thread(callback)

        self._opened.add_done_callback(on_ui_thread)

    def close_station(self, timeout: float = 30.0) -> None:
        """After the app ended: close the station, once it has opened if it was still opening."""
        if self._opener is not None and not self._opening:
            return  # the app ended before its first frame: the station was never opened
        if not self._opened.done():
            try:
                self._opened.exception(timeout=timeout)
            except TimeoutError:
                return  # still opening after all that time: the process exit ends it
        if self._opened.exception() is None:
            self._opened.result().close()

    def _open_station_behind(self) -> None:
        opener = self._opener
        assert opener is not None
        self._opening = True

        def open_it() -> None:
            try:
                station = opener()
            except BaseException as exc:  # noqa: BLE001 - reported on screen, then the app ends
                self._opened.set_exception(exc)
                self.call_from_thread(self._station_failed, exc)
                return
            # From now on the bars and the rules read the station itself, not what was read before it
            # opened (the same file, but an act must never rest on an earlier reading).
            self.front = station
            self._opened.set_result(station)
            # While the operator types: the screen they will get (its modules import the services
            # it uses, about half a second), so signing in only has to draw it.
            mode = self.start_mode
            if mode is not None:
                with contextlib.suppress(Exception):  # importing it for real later says what is wrong
                    load_screen_class(mode)

        threading.Thread(target=open_it, name="open-station", daemon=True).start()

    def _station_failed(self, error: BaseException) -> None:
        if isinstance(error, RegdeskError) or is_machine_failure(error):
            message, status = explain(error, self.front.data_dir)
            self.exit(return_code=status, message=f"regdesk: {message}")
        elif isinstance(error, Exception):
            super()._handle_exception(error)
        else:
            self.exit(return_code=1)

    @staticmethod
    def _screen_factory(mode: str) -> Callable[[], Screen]:
        return partial(lambda name: load_screen_class(name)(), mode)

    @property
    def start_mode(self) -> str | None:
        mode = ROLE_START_MODE.get(self.front.role)
        return mode if mode in MODE_SCREENS else None

    def on_mount(self) -> None:
        from regdesk.tui.dialogs.lock import IdleLock  # the idle lock area's module, wired here

        self.idle_lock = IdleLock(self)
        self.idle_lock.start()
        input_delivery.install(self._driver, self.take_terminal_event)
        if self._opener is not None and not self._opened.done():
            # After the first frame: the sign-in screen is drawn before the station's imports run.
            self.call_after_refresh(self._open_station_behind)
        self.when_station_ready(self._station_services)
        if self.operator is None:
            self.switch_mode(SIGNIN_MODE)
        else:
            self._enter_start_mode()

    def _station_services(self) -> None:
        """What runs beside the screens once the station is open."""
        from regdesk.services.backup import BackupScheduler

        # Local backups on a schedule (station setting backup_minutes, default 15; 0 turns them off).
        self.backups = BackupScheduler(
            self.station,
            on_error=lambda exc: self.call_from_thread(
                self.notify, f"Automatic backup failed: {exc}", severity="error", timeout=15
            ),
        )
        self.backups.start()
        if self.start_mode == "desk":
            # At conference scale the search index takes time to read or build: do it while the clerk
            # signs in, so the first search after sign-in does not wait for it (the desk screen asks
            # again on mount; a second caller waits for this one and reuses it). After the first
            # frame: the sign-in screen is drawn first, not while this thread holds the interpreter.
            self.call_after_refresh(
                self.run_worker,
                partial(_warm_search_index, self.station),
                thread=True,
                group="warm",
                exit_on_error=False,
                description="build the search index",
            )

    def on_unmount(self) -> None:
        backups = getattr(self, "backups", None)
        if backups is not None:
            backups.stop(timeout=5)

    def take_terminal_event(self, message: Message) -> None:
        """An event from the terminal (tui/input_delivery.py). A scanner's key, arriving while the app
        has no message waiting or in hand, goes straight to the scan input: through the message
        queue each key of a 100-200 key burst cost as much again as handling it. Anything else, or
        a key behind other messages, takes the queue, so nothing overtakes what arrived before it."""
        if isinstance(message, (events.Key, events.Paste)) and self._between_messages() and self.app_focus:
            with self._context():
                if self._to_scan_input(message):
                    self._touch_idle_lock()
                    return
        self.post_message(message)

    def _between_messages(self) -> bool:
        """No message queued, none being handled."""
        return not (self._closing or self._closed or self._handling or self._message_queue.qsize())

    def after_painted(self, callback: Callable[[], object]) -> None:
        """Run CALLBACK once the next frame has been written to the terminal: for work that must not
        delay an answer on screen (reading a photo in a thread, a garbage collector's pass).

        Textual's `call_after_refresh` is not that: it runs when the screen's message queue is
        empty, which can come before the widgets a handler changed have asked for their repaint, so
        the work started before the frame that shows the answer, and competed with it. If no frame
        comes (nothing changed on screen), CALLBACK runs after AFTER_PAINTED_LIMIT_S anyway."""
        if not self._after_painted:
            self._after_painted_batch += 1
            self.set_timer(AFTER_PAINTED_LIMIT_S, partial(self._run_after_painted, self._after_painted_batch))
        self._after_painted.append(callback)

    def _display(self, screen: Screen, renderable: object) -> None:  # type: ignore[override]
        super()._display(screen, renderable)  # type: ignore[arg-type]
        if self._after_painted and renderable is not None:
            # After this frame's write: the loop's next turn, not inside Textual's painting.
            asyncio.get_running_loop().call_soon(self._run_after_painted)

    def _run_after_painted(self, batch: int | None = None) -> None:
        if batch is not None and batch != self._after_painted_batch:
            return  # the time limit of callbacks a frame already ran
        callbacks, self._after_painted = self._after_painted, []
        for callback in callbacks:
            try:
                callback()
            except Exception as error:  # noqa: BLE001 - as Textual reports a failing callback
                self._handle_exception(error)

    async def _dispatch_message(self, message: Message) -> None:
        self._handling += 1  # a handler may await: its message is in hand until it returns
        try:
            await super()._dispatch_message(message)
        finally:
            self._handling -= 1

    def _touch_idle_lock(self) -> None:
        idle_lock = getattr(self, "idle_lock", None)
        if idle_lock is not None:
            idle_lock.touch()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self._touch_idle_lock()
        if isinstance(event, (events.Key, events.Paste)) and self._to_scan_input(event):
            return
        await super().on_event(event)

    def _to_scan_input(self, event: events.Key | events.Paste) -> bool:
        """A scanner's burst into a focused ScanInput, key by key in arrival order, without the
        binding checks and forwarding each key would otherwise cost (widgets/scan_input.py). Scan
        screens bind F-keys and ctrl+q only, so no printable key or terminator is a binding there."""
        focused = self.screen.focused
        if not isinstance(focused, ScanInput) or focused.disabled:
            return False
        if isinstance(event, events.Paste):
            # Taken here like the keys around it, not forwarded through the input's own queue:
            # keys typed after a paste would otherwise land before the pasted text.
            focused.take_pasted(event.text)
        elif event.key in SCAN_TERMINATORS:
            focused.submit_scan()
        elif event.is_printable and event.character:
            focused.take_typed(event.character)
        else:
            return False
        event.stop()
        event.prevent_default()
        return True

    def _handle_exception(self, error: Exception) -> None:
        """An error nobody caught (Textual's one hook for it). A RegdeskError, whose message is meant
        for the operator, or a failure of the machine (disk full, database busy or damaged):
        - in a worker (the worker has ended, the screens are fine): a notification, and the
          station keeps running;
        - in a handler (Textual stops that widget's messages): the app ends with that one line.
        Anything else is a bug: Textual's own report."""
        original = error.error if isinstance(error, WorkerFailed) else error
        if not (isinstance(original, RegdeskError) or is_machine_failure(original)):
            super()._handle_exception(error)
            return
        message, status = explain(original, self.front.data_dir)
        if isinstance(error, WorkerFailed):
            self.notify(message, title="Not done", severity="error", timeout=20)
            self.bell()
        else:
            self.exit(return_code=status, message=f"regdesk: {message}")

    # --- sign-in / sign-out ---------------------------------------------------------------------

    def _login_screen(self) -> LoginScreen:
        return LoginScreen(self.front, demo=self.is_demo)

    def on_login_screen_signed_in(self, message: LoginScreen.SignedIn) -> None:
        self.operator = message.operator
        self._enter_start_mode()

    def _enter_start_mode(self) -> None:
        mode = self.start_mode
        if mode is None:
            self.push_screen(
                MessageDialog(
                    "No screen for this station",
                    f"This regdesk has no screen for a {self.front.role} station yet.",
                    error=True,
                ),
                lambda _: self.run_worker(self.action_sign_out()),
            )
            return
        self.switch_mode(mode)
        self.call_after_refresh(settle_heap)

    async def action_sign_out(self) -> None:
        self.operator = None
        # A fresh sign-in screen, then drop every mode's screens so the next operator starts clean
        # (no previous search or participant left on screen).
        if self.current_mode != SIGNIN_MODE:
            await self.remove_mode(SIGNIN_MODE)
            self.add_mode(SIGNIN_MODE, self._login_screen)
        await self.switch_mode(SIGNIN_MODE)
        for mode in MODE_SCREENS:
            await self.remove_mode(mode)
            self.add_mode(mode, self._screen_factory(mode))
        self.refresh_bindings()

    # --- supervisor mode switching --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "mode":
            mode = str(parameters[0]) if parameters else ""
            if not self._may_open(mode):
                return False
            return None if mode == self.current_mode else True
        if action == "sign_out":
            return self.operator is not None and self.current_mode != SIGNIN_MODE
        return True

    def _may_open(self, mode: str) -> bool:
        return (
            self.operator is not None
            and mode in MODE_SCREENS
            and authority.may_open(mode, self.operator.role, self.front.role)
        )

    async def action_quit(self) -> None:
        # A scan lane asks first (a stray ctrl+q must not stop the checks); a second ctrl+q on
        # its question quits.
        confirm = getattr(self.screen, "action_confirm_quit", None)
        if confirm is not None:
            confirm()
            return
        await super().action_quit()

    def action_mode(self, mode: str) -> None:
        if self._may_open(mode):
            self.switch_mode(mode)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        keys = {mode: (key, label) for mode, key, label in MODE_KEYS}
        for mode in MODE_SCREENS:
            if mode != self.current_mode and self._may_open(mode):
                key, label = keys.get(mode, ("", mode.capitalize()))
                hint = f" ({key.upper()})" if key else ""
                yield SystemCommand(
                    f"Screen: {label}", f"Switch to the {label} screen{hint}", partial(self.switch_mode, mode)
                )
        if self.operator is not None:
            yield SystemCommand("Sign out", "End this operator's session (F8)", self.action_sign_out)
            # A screen may offer its own actions (the desk: check ID, issue, replace...); it applies
            # its own checks, so only what the operator could do with a key is offered.
            palette_commands = getattr(screen, "palette_commands", None)
            if palette_commands is not None:
                yield from palette_commands()


def _warm_search_index(station: Station) -> None:
    # Imported here: the search (numpy, rapidfuzz) is not needed to draw the sign-in screen.
    from regdesk.services import lookup

    lookup.index_for(station)
    settle_heap()  # the index is the largest thing the desk holds


def make_app(station: Station, *, operator: str | OperatorSession | None = None) -> RegdeskApp:
    """The one way to build the app on an opened station (tests, kiosk). `operator` skips the sign-in."""
    from regdesk.services import operators
    from regdesk.services.operators import OperatorSession

    session: OperatorSession | None
    if operator is None or isinstance(operator, OperatorSession):
        session = operator
    else:
        roles = dict(operators.list_operators(station))
        if operator not in roles:
            raise ValueError(f"unknown operator {operator!r}; add it with `regdesk operator add`")
        session = OperatorSession(operator, roles[operator])
    return RegdeskApp(station, operator=session)


def make_app_opening(front: StationFront, opener: Callable[[], Station]) -> RegdeskApp:
    """The app `regdesk tui` runs: the sign-in screen drawn from the station's front at once, the
    station opened by `opener` behind it (services/station_front.py says why)."""
    return RegdeskApp(front, opener=opener)
