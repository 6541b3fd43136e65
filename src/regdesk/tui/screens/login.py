"""Sign-in: operator name + PIN (scrypt-checked in a worker), role must fit the station, lockout after 5 misses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from regdesk.clock import Clock, SystemClock
from regdesk.services import operators
from regdesk.services.station import Station
from regdesk.tui.widgets.fields import FORM_BINDINGS, TypeAheadForm
from regdesk.tui.widgets.status_bar import ROLE_LABELS, StatusBar

# Which station roles an operator role may sign in at.
ROLE_FITS: dict[str, tuple[str, ...]] = {
    "clerk": ("desk",),
    "security": ("security",),
    "marshal": ("bus",),
    "supervisor": ("desk", "security", "bus", "supervisor"),
}
OPERATOR_ROLE_WORDS = {"clerk": "a desk clerk", "security": "security staff", "marshal": "a bus marshal",
                       "supervisor": "a supervisor"}
STATION_ROLE_WORDS = {"desk": "a registration desk", "security": "a security screening point",
                      "bus": "a bus stop", "supervisor": "a supervisor station"}
MAX_FAILURES = 5
LOCKOUT = timedelta(seconds=30)
DEMO_HINT = ("Demo operators (name / PIN)\n"
             "  ana / 1111    desk clerk\n"
             "  maria / 2468  supervisor (F9-F12 switch screens)\n"
             "  sam / 3333 security, bruno / 4444 bus marshal: at their own stations")


@dataclass(frozen=True)
class OperatorSession:
    """Who is signed in; every event recorded from the UI carries `name`."""

    name: str
    role: str


class LoginGuard:
    """Counts wrong PINs; after MAX_FAILURES the sign-in is locked for LOCKOUT (station clock)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.failures = 0
        self.locked_until: datetime | None = None

    def seconds_locked(self) -> int:
        if self.locked_until is None:
            return 0
        remaining = (self.locked_until - self.clock.now()).total_seconds()
        if remaining <= 0:
            self.locked_until, self.failures = None, 0
            return 0
        return int(remaining + 0.999)

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= MAX_FAILURES:
            self.locked_until = self.clock.now() + LOCKOUT

    def succeeded(self) -> None:
        self.failures, self.locked_until = 0, None


def role_refusal(name: str, operator_role: str, station_role: str) -> str | None:
    if station_role in ROLE_FITS.get(operator_role, ()):
        return None
    who = OPERATOR_ROLE_WORDS.get(operator_role, operator_role)
    where = STATION_ROLE_WORDS.get(station_role, station_role)
    return f"{name} is {who} and cannot sign in at {where}."


class LoginScreen(TypeAheadForm, Screen):
    """Base screen of the app's "signin" mode; tells the app with a SignedIn message."""

    FORM_FIELDS = ("login-name", "login-pin")
    BINDINGS = [*FORM_BINDINGS]

    AUTO_FOCUS = "#login-name"

    @dataclass
    class SignedIn(Message):
        operator: OperatorSession

    @dataclass
    class Checked(Message):
        name: str
        role: str | None  # None: unknown name or wrong PIN (never say which)

    def __init__(self, station: Station, guard: LoginGuard, *, demo: bool = False) -> None:
        super().__init__()
        self.station = station
        self.guard = guard
        self.demo = demo
        self._checking = False

    def compose(self) -> ComposeResult:
        config = self.station.config
        yield StatusBar()
        with Center(id="login-wrap"):
            with Vertical(id="login-card"):
                yield Static("UNITED NATIONS · REGISTRATION", id="login-kicker")
                yield Static(config.short_name, id="login-event", markup=False)
                yield Static(config.dates_label, id="login-dates", markup=False)
                yield Static(f"Station: {self.station.name} · {ROLE_LABELS.get(self.station.role, self.station.role)}",
                             id="login-station", markup=False)
                yield Static("", id="login-clock")
                yield Label("Operator name", classes="login-label")
                yield Input(id="login-name", max_length=120)
                yield Label("PIN", classes="login-label")
                yield Input(id="login-pin", password=True, restrict=r"[0-9]*", max_length=12)
                yield Static("", id="login-message")
                with Horizontal(id="login-buttons"):
                    yield Button("Sign in", variant="primary", id="login-submit")
                if self.demo:
                    yield Static(DEMO_HINT, id="login-demo-hint")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        local = self.station.config.local(self.station.clock.now())
        rehearsal = "" if isinstance(self.station.clock, SystemClock) else "   (rehearsal clock)"
        self.query_one("#login-clock", Static).update(
            f"Local time {local:%A %d %B %Y, %H:%M} {local.tzname()}{rehearsal}", layout=False)
        locked = self.guard.seconds_locked()
        if locked:
            self._say(f"Too many wrong PINs. Sign-in is locked for {locked} s.", "error")

    def _say(self, text: str, tone: str) -> None:
        message = self.query_one("#login-message", Static)
        message.set_classes(f"-{tone}")
        message.update(Text(text))

    @on(Button.Pressed, "#login-submit")
    def submit_form(self) -> None:
        if self._checking:
            return
        name = self.query_one("#login-name", Input).value.strip()
        pin_input = self.query_one("#login-pin", Input)
        pin = pin_input.value
        pin_input.clear()
        if self.guard.seconds_locked():
            return  # _tick keeps the lockout message up to date; the PIN is not even checked
        if not name:
            self._say("Type your operator name.", "error")
            self.set_focus(self.query_one("#login-name", Input))
            return
        if not pin:
            self._say("Type your PIN.", "error")
            self.set_focus(pin_input)
            return
        self._checking = True
        self._say("Checking…", "info")
        self._check(name, pin)

    @work(thread=True, exclusive=True, exit_on_error=False, group="login", description="check operator PIN")
    def _check(self, name: str, pin: str) -> None:
        with self.station.sessions() as session:
            operator = operators.authenticate(session, name, pin)
            result = self.Checked(operator.name if operator else name, operator.role if operator else None)
        self.post_message(result)

    def on_login_screen_checked(self, message: Checked) -> None:
        self._checking = False
        pin_input = self.query_one("#login-pin", Input)
        if message.role is None:
            self.guard.failed()
            locked = self.guard.seconds_locked()
            if locked:
                self._say(f"Too many wrong PINs. Sign-in is locked for {locked} s.", "error")
            else:
                left = MAX_FAILURES - self.guard.failures
                self._say(f"Name or PIN is wrong. {left} attempt{'s' if left != 1 else ''} left before a "
                          f"{int(LOCKOUT.total_seconds())} s lockout.", "error")
            self.set_focus(pin_input)
            return
        refusal = role_refusal(message.name, message.role, self.station.role)
        if refusal:
            self._say(refusal, "error")
            self.set_focus(self.query_one("#login-name", Input))
            return
        self.guard.succeeded()
        self.query_one("#login-message", Static).update("")
        self.app.post_message(self.SignedIn(OperatorSession(message.name, message.role)))

    def on_worker_state_changed(self, event) -> None:  # a crash in the check must not leave us "Checking…"
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self._checking = False
            self._say(f"Could not check the PIN: {event.worker.error}", "error")
