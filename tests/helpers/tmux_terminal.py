"""A real terminal for the tests that drive the real `regdesk` program: one tmux server on its own
socket, what it shows, keys typed into it, and the environment it runs in (a pytest plugin, named in
tests/conftest.py, for the `terminal_env` fixture)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux") or "/usr/bin/tmux"
REGDESK = Path(sys.executable).with_name("regdesk")


class Terminal:
    """One tmux server (own socket) with one session running a command."""

    def __init__(self, command: str, env: dict[str, str], size: tuple[int, int] = (160, 48)) -> None:
        self.socket = f"regdesk-smoke-{uuid.uuid4().hex[:10]}"
        self.session = "smoke"
        self.env = env
        self._tmux("new-session", "-d", "-s", self.session, "-x", str(size[0]), "-y", str(size[1]), command)
        # Keep the pane if the program dies, so a failure shows its traceback instead of nothing.
        self._tmux("set-option", "-t", self.session, "remain-on-exit", "on")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], env=self.env, capture_output=True, text=True, timeout=20
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args[:2])}: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.session, "-l", text)

    def press(self, key: str) -> None:
        self._tmux("send-keys", "-t", self.session, key)

    def wait_for(self, *texts: str, timeout: float = 45.0) -> str:
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if any(t in shown for t in texts):
                return shown
            time.sleep(0.25)
        size = self._tmux("display-message", "-p", "-t", self.session, "#{window_width}x#{window_height}").strip()
        raise AssertionError(f"none of {texts!r} appeared within {timeout:.0f} s; the {size} terminal shows:\n{shown}")

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=20)


@pytest.fixture
def terminal_env(tmp_path: Path) -> dict[str, str]:
    assert Path(TMUX).exists(), "tmux is needed for this test (apt-get install tmux)"
    # COLUMNS/LINES stay as they are (pytest-xdist workers export 80x24): regdesk must size itself from
    # the real terminal anyway.
    env = {k: v for k, v in os.environ.items() if k not in ("REGDESK_DATA_DIR", "TMUX", "TMUX_PANE")}
    env.update(
        TERM="xterm-256color",
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "xdg"),
        TMUX_TMPDIR=str(tmp_path),
    )
    return env
