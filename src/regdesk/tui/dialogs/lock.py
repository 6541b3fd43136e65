"""Idle lock: after a few idle minutes the screen is covered until the operator (or a supervisor)
types a PIN. Nothing of the screen underneath shows while locked (names, document digits).

Wiring for the app (two lines in RegdeskApp, owned by the app shell):

    # on_mount:
    self.idle_lock = IdleLock(self); self.idle_lock.start()
    # on_event (before super()):
    if isinstance(event, events.InputEvent): self.idle_lock.touch()

The idle time comes from the station setting "lock_minutes" (default 5; 0 = never lock). The lock
needs `app.station` and `app.operator` (.name, .role); it locks only while someone is signed in.
A supervisor who unlocks for someone else is reported in the result, so the app can decide whether
the session continues under the supervisor's name (it stays the operator's by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from regdesk.domain import authority
from regdesk.tui.dialogs._base import FitsSmallTerminals

if TYPE_CHECKING:  # the lock only acts once someone signed in, on the opened station
    from regdesk.services.station import Station
    from regdesk.services.station_front import StationFront

DEFAULT_LOCK_MINUTES = 5.0


@dataclass(frozen=True)
class Unlocked:
    name: str  # who typed the PIN
    role: str
    by_supervisor: bool  # a supervisor unlocked another operator's screen


def lock_minutes(station: Station | StationFront) -> float:
    try:
        return float(station.setting("lock_minutes", str(DEFAULT_LOCK_MINUTES)))
    except ValueError:
        return DEFAULT_LOCK_MINUTES


def check_unlock(station: Station, locked_for: str, name: str, secret: str) -> Unlocked | str:
    """Unlocked, or the message to show. The operator's own PIN, or any supervisor's passphrase.
    Wrong attempts count in the station-wide throttle (services/operators.py), like the sign-in."""
    from regdesk.services import operators

    name = name.strip() or locked_for
    try:
        operator = operators.sign_in(station, name, secret, where="lock")
    except operators.SignInRefused as exc:
        return str(exc)[:1].upper() + str(exc)[1:] + "."
    if operator.name != locked_for and operator.role != authority.OperatorRole.SUPERVISOR:
        return f"Only {locked_for} or a supervisor can unlock this screen."
    return Unlocked(operator.name, operator.role, by_supervisor=operator.name != locked_for)


class LockScreen(FitsSmallTerminals, ModalScreen[Unlocked]):
    """Covers the whole screen; Escape does nothing; only a right PIN dismisses it."""

    DEFAULT_CSS = """
    LockScreen { align: center middle; background: $background 100%; }
    LockScreen > #lock { width: 60; max-width: 100%; height: auto; padding: 1 2; border: thick $warning;
                         background: $surface; }
    LockScreen .lock-title { text-style: bold; width: 100%; margin-bottom: 1; }
    LockScreen .lock-label { margin-top: 1; color: $text-muted; }
    LockScreen #lock-pin { width: 100%; }
    LockScreen #lock-error { color: $error; text-style: bold; height: auto; margin-top: 1; }
    LockScreen #lock-buttons { height: auto; width: 100%; align-horizontal: right; margin-top: 1; }
    LockScreen > #lock { max-width: 100%; max-height: 100%; overflow-y: auto; }
    LockScreen.-short > #lock { padding: 0 1; border: tall $warning; }
    LockScreen.-short .lock-title { margin-bottom: 0; }
    LockScreen.-short .lock-label, LockScreen.-short #lock-error, LockScreen.-short #lock-buttons { margin-top: 0; }
    LockScreen.-short Input { height: 1; border: none; padding: 0 1; background: $panel-lighten-1; }
    LockScreen.-short Input:focus { background: $primary 40%; }
    LockScreen.-short Button { height: 1; border: none; min-width: 12; }
    """
    BINDINGS = [Binding("escape", "ignore", show=False, priority=True)]
    AUTO_FOCUS = "#lock-pin"

    @dataclass
    class Checked(Message):
        result: Unlocked | str

    def __init__(self, station: Station, operator_name: str) -> None:
        super().__init__()
        self.station = station
        self.operator_name = operator_name
        self._checking = False

    def compose(self) -> ComposeResult:
        with Vertical(id="lock"):
            yield Static("Screen locked", classes="lock-title")
            yield Static(
                f"Locked after inactivity. {self.operator_name}: type your PIN to go on. "
                "A supervisor can unlock with their own name and passphrase.",
                markup=False,
            )
            yield Label("Name", classes="lock-label")
            yield Input(self.operator_name, id="lock-name", max_length=120)
            yield Label("PIN or passphrase", classes="lock-label")
            yield Input(id="lock-pin", password=True, max_length=200)
            yield Static("", id="lock-error")
            with Horizontal(id="lock-buttons"):
                yield Button("Unlock", variant="primary", id="lock-ok")

    def action_ignore(self) -> None:
        """Escape must not dismiss the lock."""

    @on(Input.Submitted)
    @on(Button.Pressed, "#lock-ok")
    def try_unlock(self) -> None:
        if self._checking:
            return
        pin_input = self.query_one("#lock-pin", Input)
        secret, pin_input.value = pin_input.value, ""
        self._checking = True
        self.query_one("#lock-error", Static).update("Checking…")
        self._check(self.query_one("#lock-name", Input).value, secret)

    @work(thread=True, exclusive=True, exit_on_error=False, group="unlock", description="check the PIN")
    def _check(self, name: str, secret: str) -> None:
        self.post_message(self.Checked(check_unlock(self.station, self.operator_name, name, secret)))

    def on_lock_screen_checked(self, message: Checked) -> None:
        self._checking = False
        if isinstance(message.result, str):
            self.query_one("#lock-error", Static).update(message.result)
            self.query_one("#lock-pin", Input).focus()
            return
        self.dismiss(message.result)


class IdleLock:
    """Pushes a LockScreen when no key or mouse input came for `minutes` (see module docstring)."""

    def __init__(
        self,
        app: App,
        *,
        minutes: float | None = None,
        now: Callable[[], float] = time.monotonic,
        on_unlock: Callable[[Unlocked], Any] | None = None,
    ) -> None:
        self.app = app
        self.minutes = lock_minutes(app.front) if minutes is None else minutes  # type: ignore[attr-defined]
        self.now = now
        self.on_unlock = on_unlock
        self.last_input = now()
        self.locked = False

    @property
    def enabled(self) -> bool:
        return self.minutes > 0

    def touch(self) -> None:
        self.last_input = self.now()

    def start(self, every: float = 5.0) -> None:
        if self.enabled:
            self.app.set_interval(min(every, self.minutes * 60 / 4), self.check, name="idle-lock")

    def check(self) -> bool:
        """Lock if idle for long enough; returns whether the screen is locked now."""
        operator = getattr(self.app, "operator", None)
        if not self.enabled or self.locked or operator is None:
            return self.locked
        if self.now() - self.last_input >= self.minutes * 60:
            self.lock()
        return self.locked

    def lock(self) -> None:
        operator = getattr(self.app, "operator", None)
        if operator is None or self.locked:
            return
        self.locked = True
        self.app.push_screen(LockScreen(self.app.station, operator.name), self._unlocked)  # type: ignore[attr-defined]

    def _unlocked(self, result: Unlocked | None) -> None:
        self.locked = False
        self.touch()
        if result is not None and self.on_unlock is not None:
            self.on_unlock(result)
