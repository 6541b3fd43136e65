"""Supervisor override: the supervisor signs in with name + PIN and writes why the rule is set aside.

The dialog checks the credential itself (in a worker) and stays open when it is wrong, keeping the
reason already typed; it also refuses a reason that says nothing ("x", "ok"). The issuing service
checks both again: the dialog only spares the clerk a retyping.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from regdesk.services import operators
from regdesk.services.desk import OverrideRequest, override_reason_problem
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css
from regdesk.tui.widgets.fields import FORM_BINDINGS, TypeAheadForm
from regdesk.tui.widgets.mrz_input import MrzInput, MrzRead


class OverrideDialog(FitsSmallTerminals, TypeAheadForm, ModalScreen[OverrideRequest | None]):
    DEFAULT_CSS = (
        dialog_css("OverrideDialog")
        + """
    OverrideDialog > #dialog { border: thick $warning; }
    OverrideDialog #ov-refusal { color: $warning; text-style: bold; }
    OverrideDialog #ov-pin { width: 30; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel"), *FORM_BINDINGS]
    AUTO_FOCUS = "#ov-supervisor"
    FORM_FIELDS = ("ov-supervisor", "ov-pin", "ov-reason")

    def __init__(self, participant_name: str, refusal_text: str) -> None:
        super().__init__()
        self.participant_name = participant_name
        self.refusal_text = refusal_text
        self.checking = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"Supervisor override · {self.participant_name}", classes="dialog-title", markup=False)
            yield Static(self.refusal_text, id="ov-refusal", classes="dialog-text", markup=False)
            yield Static("Recorded with the supervisor's name and the reason.", classes="dialog-text -secondary")
            yield Label("Supervisor name", classes="dialog-label")
            yield MrzInput(id="ov-supervisor", max_length=120)
            yield Label("Supervisor passphrase", classes="dialog-label")
            yield MrzInput(id="ov-pin", password=True, max_length=200)
            yield Label("Reason (at least 3 words, kept in the record)", classes="dialog-label")
            yield MrzInput(id="ov-reason", max_length=300, placeholder="e.g. head of delegation confirmed in writing")
            yield Static("", id="ov-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="ov-cancel")
                yield Button("Override and issue", variant="warning", id="ov-ok")

    def _error(self, text: str, field: str) -> None:
        self.query_one("#ov-error", Static).update(text)
        self.set_focus(self.query_one(f"#{field}"))

    @on(MrzRead)
    def _passport_read(self, event: MrzRead) -> None:
        """A passport swiped into this form is no part of an override: nothing of it is kept."""
        event.stop()
        self.query_one("#ov-error", Static).update(
            "A passport was read into this form: nothing of it was kept. Finish or cancel the override, "
            "then read it at the search box (or in F2)."
        )
        self.app.bell()

    @on(Button.Pressed, "#ov-ok")
    def submit_form(self) -> None:
        if self.checking:
            return
        supervisor = self.query_one("#ov-supervisor", Input).value.strip()
        pin = self.query_one("#ov-pin", Input).value
        reason = self.query_one("#ov-reason", Input).value.strip()
        missing = [
            (label, field)
            for label, field, value in (
                ("supervisor name", "ov-supervisor", supervisor),
                ("PIN", "ov-pin", pin),
                ("reason", "ov-reason", reason),
            )
            if not value
        ]
        if missing:
            self._error("Missing: " + ", ".join(label for label, _ in missing) + ".", missing[0][1])
            return
        problem = override_reason_problem(reason)
        if problem:
            self._error(f"Reason too short: {problem}.", "ov-reason")
            return
        self.checking = True
        self.query_one("#ov-error", Static).update("Checking the supervisor…")
        self._check(OverrideRequest(supervisor, pin, reason))

    @work(thread=True, exit_on_error=False, group="override-check", description="check the supervisor")
    def _check(self, request: OverrideRequest) -> None:
        ok = operators.authenticate_supervisor(self.app.station, request.supervisor, request.pin)  # type: ignore[attr-defined]
        self.app.call_from_thread(self._checked, request, ok)

    def _checked(self, request: OverrideRequest, ok: bool) -> None:
        self.checking = False
        if ok:
            self.dismiss(request)
            return
        pin = self.query_one("#ov-pin", Input)
        pin.value = ""
        self._error("Supervisor name or PIN is wrong. Try again; the reason is kept.", "ov-pin")
        self.app.bell()

    @on(Button.Pressed, "#ov-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
