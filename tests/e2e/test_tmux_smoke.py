"""The real `regdesk demo` program in a real terminal (tmux): first run builds the demo, sign in, search."""

from __future__ import annotations

from pathlib import Path

import pytest
from tmux_terminal import REGDESK, Terminal

pytestmark = [pytest.mark.tmux, pytest.mark.slow]


def test_demo_signs_in_and_finds_a_participant(tmp_path: Path, terminal_env: dict[str, str]):
    data_dir = tmp_path / "demo"
    term = Terminal(f"{REGDESK} --data-dir {data_dir} demo", terminal_env)
    try:
        login = term.wait_for("ana / 1111")  # the demo hint, drawn last on the sign-in card
        assert "Operator name" in login
        assert "Westin desk 1" in login and "2017" in login  # station and the rehearsal date
        term.type("ana")
        term.press("Enter")
        term.type("1111")
        term.press("Enter")
        term.wait_for("Operator: ana")
        term.type("gomez camacho")
        shown = term.wait_for("Gómez Camacho", "Gomez Camacho")
        assert "Mexico" in shown
    finally:
        term.close()
    assert (data_dir / "station.db").exists()  # the demo built its station where it was told
