"""Sign-in: operator name + PIN or passphrase (checked in a worker, throttled station-wide by
services/operators.py); the operator's role must fit the station (domain/authority.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from regdesk.clock import SystemClock
from regdesk.domain import authority
from regdesk.domain.authority import STATION_ROLE_LABELS
from regdesk.tui.widgets.fields import FORM_BINDINGS, TypeAheadForm
from regdesk.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:  # the station opens behind this screen (tui/app.py): its modules come later
    from regdesk.services.operators import OperatorSession
    from regdesk.services.station import Station
    from regdesk.services.station_front import StationFront

DEMO_HINT = (
    "Demo operators (name / PIN or passphrase)\n"
    "  ana / 1111     desk clerk\n"
    "  maria / puerto vallarta 2017   supervisor (F9-F12)\n"
    "  sam / 3333 security, bruno / 4444 bus marshal: at their own stations"
)


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
        operator: OperatorSession | None
        problem: str = ""  # wrong name or secret (never says which), or locked out

    def __init__(self, station: Station | StationFront, *, demo: bool = False) -> None:
        super().__init__()
        self.front = station  # what the screen shows; the check itself uses the opened station
        self.demo = demo
        self._checking = False

    def compose(self) -> ComposeResult:
        config = self.front.config
        yield StatusBar()
        with Center(id="login-wrap"):
            with Vertical(id="login-card"):
                yield Static("UNITED NATIONS · REGISTRATION", id="login-kicker")
                yield Static(config.short_name, id="login-event", markup=False)
                yield Static(config.dates_label, id="login-dates", markup=False)
                yield Static(
                    f"Station: {self.front.name} · {STATION_ROLE_LABELS.get(self.front.role, self.front.role)}",
                    id="login-station",
                    markup=False,
                )
                yield Static(f"Meeting root: {self.front.root_fingerprint}", id="login-root", markup=False)
                yield Static("", id="login-clock")
                yield Label("Operator name", classes="login-label")
                yield Input(id="login-name", max_length=120)
                yield Label("PIN (supervisors: passphrase)", classes="login-label")
                yield Input(id="login-pin", password=True, max_length=200)
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
        local = self.front.config.local(self.front.clock.now())
        rehearsal = "" if isinstance(self.front.clock, SystemClock) else "   (rehearsal clock)"
        self.query_one("#login-clock", Static).update(
            f"Local time {local:%A %d %B %Y, %H:%M} {local.tzname()}{rehearsal}", layout=False
        )

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
        from regdesk.services import operators

        station = self.app.station  # type: ignore[attr-defined]  # waits while it is still opening
        try:
            self.post_message(self.Checked(operators.sign_in(station, name, pin, where="tui")))
        except operators.SignInRefused as exc:
            self.post_message(self.Checked(None, str(exc)))

    def on_login_screen_checked(self, message: Checked) -> None:
        self._checking = False
        pin_input = self.query_one("#login-pin", Input)
        operator = message.operator
        if operator is None:
            self._say(message.problem[:1].upper() + message.problem[1:] + ".", "error")
            self.set_focus(pin_input)
            return
        refusal = authority.sign_in_refusal(operator.name, operator.role, self.app.station.role)  # type: ignore[attr-defined]
        if refusal:
            self._say(refusal, "error")
            self.set_focus(self.query_one("#login-name", Input))
            return
        self.query_one("#login-message", Static).update("")
        self.app.post_message(self.SignedIn(operator))

    def on_worker_state_changed(self, event) -> None:  # a crash in the check must not leave us "Checking…"
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self._checking = False
            self._say(f"Could not check the PIN: {event.worker.error}", "error")
