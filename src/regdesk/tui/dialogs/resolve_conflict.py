"""Resolving a conflict from the supervisor screen: which badges stay valid, why, and who decides.

The same decision as `regdesk resolve KEY --keep SERIAL --reason TEXT --operator NAME`: the dialog
checks the supervisor's credential (services/operators.authenticate_supervisor, as the override
does) and then calls services/conflicts.resolve; both in a thread worker. A wrong credential keeps
the dialog open with the choice and the reason as typed. The credential field takes any text:
supervisor credentials are becoming passphrases.

Returns the Resolution, or None when cancelled.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static

from regdesk.domain.token import format_serial
from regdesk.domain.words import plural
from regdesk.services import conflicts, operators
from regdesk.services.station import Station
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css

MIN_REASON_WORDS = 2


def reason_problem(reason: str) -> str | None:
    """A reason is read later by others: a few real words, not "x" or "ok"."""
    words = [w for w in reason.split() if any(ch.isalpha() for ch in w)]
    if len(words) < MIN_REASON_WORDS or len(reason.strip()) < 8:
        return 'Write the reason in a few words (e.g. "head of delegation confirmed by phone").'
    return None


class ResolveConflictDialog(FitsSmallTerminals, ModalScreen[conflicts.Resolution | None]):
    DEFAULT_CSS = (
        dialog_css("ResolveConflictDialog")
        + """
    ResolveConflictDialog > #dialog { width: 96; border: thick $warning; }
    ResolveConflictDialog.-short > #dialog { border: tall $warning; }
    ResolveConflictDialog #rc-sides { height: auto; max-height: 8; }
    ResolveConflictDialog.-short #rc-sides { max-height: 5; border: none; padding: 0; }
    ResolveConflictDialog #rc-who { height: auto; }
    ResolveConflictDialog #rc-who > Vertical { width: 1fr; height: auto; }
    ResolveConflictDialog #rc-who > Vertical:first-of-type { margin-right: 2; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#rc-sides"

    def __init__(self, station: Station, conflict: conflicts.Conflict, *, supervisor: str = "") -> None:
        super().__init__()
        self.station = station
        self.conflict = conflict
        self.supervisor = supervisor

    @property
    def keep_at_most(self) -> int:
        """A duplicate keeps one badge; a quota conflict keeps up to the quota."""
        return 1 if self.conflict.kind == conflicts.DUPLICATE else max(1, self.conflict.quota)

    def compose(self) -> ComposeResult:
        c = self.conflict
        if c.kind == conflicts.DUPLICATE:
            question = "Tick the badge that stays valid; the other is revoked and denied at every scan point."
        else:
            question = (
                f"Tick the badges that stay valid (quota {c.quota}); the others are revoked and denied "
                "at every scan point."
            )
        preselected = {s.serial for s in c.sides[: self.keep_at_most]}  # the earliest issued, by default
        with Vertical(id="dialog"):
            yield Static("Resolve a conflict between desks", classes="dialog-title")
            yield Static(c.summary, classes="dialog-text", markup=False)
            yield Static(question, classes="dialog-label")
            yield SelectionList[str](
                *[(self._side_label(side), side.serial, side.serial in preselected) for side in c.sides], id="rc-sides"
            )
            yield Label("Reason (kept in the log and the report)", classes="dialog-label")
            yield Input(id="rc-reason", max_length=300, placeholder="e.g. head of delegation confirmed by phone")
            with Horizontal(id="rc-who"):
                with Vertical():
                    yield Label("Supervisor name", classes="dialog-label")
                    yield Input(self.supervisor, id="rc-supervisor", max_length=120)
                with Vertical():
                    yield Label("PIN or passphrase", classes="dialog-label")
                    yield Input(id="rc-secret", password=True, max_length=200)
            yield Static("", id="rc-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="rc-cancel")
                yield Button("Resolve", variant="warning", id="rc-ok")

    def _side_label(self, side: conflicts.Side) -> str:
        # A duplicate is one person: the badges differ by where, when and by whom they were issued.
        who = "" if self.conflict.kind == conflicts.DUPLICATE else f"  {side.participant_name}"
        return f"{format_serial(side.serial)}{who}  issued {side.issued_local}, {side.station_name}, {side.operator}"

    def _error(self, text: str) -> None:
        self.query_one("#rc-error", Static).update(text)

    @on(Input.Submitted, "#rc-reason")
    def _to_supervisor(self) -> None:
        self.query_one(
            "#rc-supervisor" if not self.query_one("#rc-supervisor", Input).value else "#rc-secret", Input
        ).focus()

    @on(Input.Submitted, "#rc-supervisor")
    def _to_secret(self) -> None:
        self.query_one("#rc-secret", Input).focus()

    @on(Input.Submitted, "#rc-secret")
    @on(Button.Pressed, "#rc-ok")
    def submit(self) -> None:
        keep = list(self.query_one("#rc-sides", SelectionList).selected)
        reason = self.query_one("#rc-reason", Input).value.strip()
        supervisor = self.query_one("#rc-supervisor", Input).value.strip()
        secret = self.query_one("#rc-secret", Input).value
        if not keep:
            self._error("Tick at least one badge to keep: revoking every badge would lock the holder out.")
            return
        if len(keep) > self.keep_at_most:
            self._error(f"Keep at most {plural(self.keep_at_most, 'badge')} here.")
            return
        problem = reason_problem(reason)
        if problem:
            self._error(problem)
            self.query_one("#rc-reason", Input).focus()
            return
        if not supervisor or not secret:
            self._error("A supervisor confirms with name and PIN or passphrase.")
            return
        self._error("Checking the supervisor...")
        self._resolve(keep, reason, supervisor, secret)

    @work(thread=True, exclusive=True, group="resolve-conflict", exit_on_error=False)
    def _resolve(self, keep: list[str], reason: str, supervisor: str, secret: str) -> None:
        # authority: the supervisor check and the role table move to regdesk/domain/authority.py.
        if not operators.authenticate_supervisor(self.station, supervisor, secret):
            self.app.call_from_thread(self._refused, "Supervisor name or PIN/passphrase is wrong.")
            return
        try:
            result = conflicts.resolve(self.station, self.conflict.key, reason=reason, operator=supervisor, keep=keep)
        except conflicts.ConflictError as exc:
            self.app.call_from_thread(self._refused, str(exc))
            return
        self.app.call_from_thread(self.dismiss, result)

    def _refused(self, text: str) -> None:
        self._error(text)
        secret = self.query_one("#rc-secret", Input)
        secret.value = ""
        secret.focus()

    @on(Button.Pressed, "#rc-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
