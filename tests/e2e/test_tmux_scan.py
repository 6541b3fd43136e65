"""The real `regdesk tui` program in a real terminal (tmux): an officer signs in and a scanner types
three badges back to back in one burst. Every scan must come out as its own verdict, in order."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from meeting import init_station, transfer

from conftest import EVENT_TOML, participant_row, seed_participants
from regdesk.services import desk, scanning

pytestmark = [pytest.mark.tmux, pytest.mark.slow, pytest.mark.xdist_group("tmux_scan")]

REGDESK = Path(sys.executable).with_name("regdesk")


class Terminal:
    def __init__(self) -> None:
        self.socket = f"regdesk-scan-{uuid.uuid4().hex[:8]}"  # a private tmux server per test
        self.session = "scan"

    def tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True).stdout

    def start(self, command: list[str]) -> None:
        self.tmux(
            "new-session", "-d", "-s", self.session, "-x", "130", "-y", "42", "env", "TERM=xterm-256color", *command
        )

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.session)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.session, "-l", text)

    def key(self, name: str) -> None:
        self.tmux("send-keys", "-t", self.session, name)

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def scans_recorded(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return con.execute(
            "SELECT s.verdict, s.reason, s.serial FROM scans s JOIN events e ON e.id = s.event_id "
            "ORDER BY e.local_order"
        ).fetchall()


@pytest.fixture
def terminal():
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (apt-get install tmux): the terminal test cannot run")
    term = Terminal()
    yield term
    term.close()


def test_scanner_burst_into_the_real_program(tmp_path, desk_station, terminal):
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

    terminal.start([str(REGDESK), "--data-dir", str(security.data_dir), "tui", "--clock", "2017-12-04T08:40"])
    terminal.wait_for("Operator name")
    terminal.type("sam")
    terminal.key("Enter")
    time.sleep(1.0)  # a person's pace: the sign-in screen moves focus to the PIN field on Enter
    terminal.type("3333")
    terminal.key("Enter")
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
