"""The real `regdesk demo` in a real 80×24 terminal (tmux), as a clerk at a small desk laptop uses it:
sign in, find the participant, check the ID, issue (the print outcome is on screen), then replace."""

from __future__ import annotations

from pathlib import Path

import pytest
from tmux_terminal import REGDESK, Terminal

from regdesk.services.demo import DEMO_OPERATORS

pytestmark = [pytest.mark.tmux, pytest.mark.slow]


def demo_secret(name: str) -> str:
    return next(op.pin for op in DEMO_OPERATORS if op.name == name)


def last_lines(shown: str, count: int) -> str:
    lines = [line for line in shown.splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def test_issue_then_replace_at_80x24(tmp_path: Path, terminal_env: dict[str, str]):
    term = Terminal(f"{REGDESK} --data-dir {tmp_path / 'demo'} demo", terminal_env, size=(80, 24))
    try:
        login = term.wait_for("Sign in", timeout=90)  # the first run builds the demo station
        assert "Operator name" in login
        term.type("ana")
        term.press("Enter")
        term.type(demo_secret("ana"))
        term.press("Enter")
        signed_in = term.wait_for("NO PARTICIPANT SELECTED")  # the desk screen, signed in
        assert " ana " in signed_in.splitlines()[0]  # the operator in the status bar

        term.type("lauber")
        shown = term.wait_for("Next: check an identity document")
        assert "Jürg Lauber" in shown and "Switzerland" in shown and "GCM17-000361" in shown
        term.press("F2")
        dialog = term.wait_for("Record check")
        assert "Cancel" in dialog and "Last 4 characters" in dialog  # the dialog's buttons fit 80x24
        term.type("4821")
        term.press("Enter")
        term.wait_for("Identity checked")

        term.press("F3")
        shown = term.wait_for("ISSUED as PDF", "ISSUED – NOT PRINTED")
        assert "ISSUED as PDF" in shown, shown
        shown = term.wait_for("COLLECTED")  # tmux may be captured mid-repaint: wait for the whole outcome
        assert "badge-" in shown.replace("\n", "").replace(" ", "") or "output/" in shown
        assert "Fri 01 Dec" in shown.splitlines()[0]  # the header clock is whole

        term.press("F3")  # a second badge is refused, and the refusal is on screen
        shown = term.wait_for("NOT ISSUED")
        assert "Already holds valid badge" in shown and "already_holds_badge" not in shown

        term.press("F2")  # lost badge: the ID again, then replace
        term.wait_for("Record check")
        term.type("4821")
        term.press("Enter")
        term.wait_for("Identity checked")
        term.press("F4")
        confirm = term.wait_for("Revoke and replace")
        assert "Cancel" in confirm
        term.press("Enter")
        term.wait_for("revoked")  # "BADGE … ISSUED (issue 2); badge … revoked. Printing…"
        term.wait_for("ISSUED as PDF")
        shown = term.wait_for("REPLACED")  # the row and the card follow once the new badge is read back
        assert "issue 2" in shown and "1 revoked" in shown, shown
        assert "ISSUED as PDF" in shown and "NOT ISSUED" not in last_lines(shown, 6)
    finally:
        term.close()
