"""The real `regdesk tui` program in a real terminal (tmux): an officer signs in and a scanner types
three badges back to back in one burst. Every scan must come out as its own verdict, in order."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
from meeting import init_station, transfer
from tmux_terminal import REGDESK, Terminal

from conftest import EVENT_TOML, participant_row, seed_participants
from regdesk.services import desk, scanning

pytestmark = [pytest.mark.tmux, pytest.mark.slow, pytest.mark.xdist_group("tmux_scan")]


def scans_recorded(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return con.execute(
            "SELECT s.verdict, s.reason, s.serial FROM scans s JOIN events e ON e.id = s.event_id "
            "ORDER BY e.local_order"
        ).fetchall()


def test_scanner_burst_into_the_real_program(tmp_path, desk_station, terminal_env):
    seed_participants(
        desk_station,
        [participant_row("CH-1", "Muster", "Hans"), participant_row("JP-1", "Yamada", "Taro", delegation="Japan")],
    )
    badges = {}
    for pid in ("CH-1", "JP-1"):
        desk.record_identity_check(desk_station, pid, "passport", "X1234567", "clerk")
        badges[pid] = desk.issue_badge(desk_station, pid, operator="clerk")
    security = init_station(tmp_path / "sec", EVENT_TOML, role="security", name="ICC main 1")
    transfer(desk_station, security)
    scanning.configure_point(security, scanning.parse_point("security:ICC-MAIN", security.config))
    security.close()

    command = f"{REGDESK} --data-dir {security.data_dir} tui --clock 2017-12-04T08:40"
    terminal = Terminal(command, terminal_env, size=(130, 42))
    try:
        terminal.wait_for("Operator name")
        terminal.type("sam")
        terminal.press("Enter")
        time.sleep(1.0)  # a person's pace: the sign-in screen moves focus to the PIN field on Enter
        terminal.type("3333")
        terminal.press("Enter")
        terminal.wait_for("ICC main entrance")
        terminal.wait_for("Scan a badge")

        # One write to the terminal: three scans with CR suffixes, as fast as a pty can deliver them.
        terminal.type(badges["CH-1"].token + "\r" + "HELLO-WORLD\r" + badges["JP-1"].token + "\r")
        screen = terminal.wait_for("Taro Yamada")
        deadline = time.monotonic() + 10
        while len(rows := scans_recorded(security.db_path)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert rows == [
            ("valid", "valid", badges["CH-1"].serial),
            ("denied", "unreadable", ""),
            ("valid", "valid", badges["JP-1"].serial),
        ]
        # The headline is drawn in block letters; the word itself only appears in the recent-scans list.
        assert "█" in screen
        assert all(re.search(r"\d\d:\d\d:\d\d", line) for line in screen.splitlines() if "VALID" in line)
        assert "DENIED" in screen and "Taro Yamada" in screen
        terminal.wait_for("2 valid · 1 denied · 0 repeat")
    finally:
        terminal.close()
