"""A real CUPS scheduler for the printing tests, private to the test session.

`cupsd` runs in the foreground from a temporary folder with its own cupsd.conf and
cups-files.conf, listening only on its own Unix socket there (never the system's CUPS, no TCP
port). Clients find it through CUPS_SERVER, so the real `lp`, `lpstat`, `lpadmin`, `cupsenable`
and `cupsdisable` talk to it. Each queue is a raw queue (CUPS passes the PDF through untouched, no
cups-filters needed) whose device is a small CUPS backend, `folder:DIR`, that writes each job it
receives to DIR/job-<id>.pdf: the stand-in for the badge printer's hardware. Touch DIR/.paper-out
and the backend reports what a printer out of paper reports to CUPS (the IPP state reason
media-empty-error and "Out of paper"), and CUPS stops the queue as it does for a real one; while
DIR/.offline exists the job stays printing with offline-report, as CUPS's ipp backend reports a
network printer that does not answer.

The Debian packages it needs are in CUPS_PACKAGES; without them the tests FAIL with that list.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from regdesk.render import printing

# Debian/Ubuntu: cups-daemon (cupsd), cups-client (lp, lpstat, lpadmin, cupsenable, cupsdisable).
CUPS_PACKAGES = "cups-daemon cups-client"
CUPS_PROGRAMS = ("cupsd", "lp", "lpstat", "lpadmin", "cupsenable", "cupsdisable")
MISSING = (
    "the printing tests run a real CUPS and need {missing}; install them with "
    f"`sudo apt-get install {CUPS_PACKAGES}` (Debian/Ubuntu)"
)
START_TIMEOUT = 10.0

BACKEND = """#!/bin/sh
# folder:DIR - writes each job to DIR/job-<id>.pdf (a regdesk test device).
if [ $# -eq 0 ]; then echo 'direct folder "Unknown" "regdesk test folder"'; exit 0; fi
dir="${DEVICE_URI#folder:}"
if [ -e "$dir/.paper-out" ]; then
  echo "STATE: +media-empty-error" >&2
  echo "ERROR: Out of paper" >&2
  exit 4  # CUPS_BACKEND_STOP: CUPS stops the queue, the job waits
fi
if [ -e "$dir/.offline" ]; then
  # What CUPS's ipp backend does while a network printer does not answer: the job stays "printing".
  echo "STATE: +offline-report" >&2
  echo "INFO: The printer is not responding" >&2
  while [ -e "$dir/.offline" ]; do sleep 0.1; done
  echo "STATE: -offline-report" >&2
fi
echo "STATE: -media-empty-error" >&2
out="$dir/job-$1.pdf"
if [ $# -ge 6 ]; then cat "$6" > "$out.part"; else cat > "$out.part"; fi
mv "$out.part" "$out"
"""


def _die_with_parent():
    """On Linux, cupsd gets SIGTERM if the test process dies without its teardown (a killed worker)."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the child only calls it

    def preexec() -> None:
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return preexec


def which_missing() -> list[str]:
    found = {
        name: shutil.which(name) or (shutil.which(name, path="/usr/sbin:/sbin") if name == "cupsd" else None)
        for name in CUPS_PROGRAMS
    }
    return [name for name, path in found.items() if path is None]


@dataclass
class CupsServer:
    root: Path
    process: subprocess.Popen[bytes] | None = None
    queues: dict[str, Path] = field(default_factory=dict)

    @property
    def socket(self) -> Path:
        return self.root / "cups.sock"

    @property
    def env(self) -> dict[str, str]:
        return {"CUPS_SERVER": str(self.socket)}

    def run(self, *argv: str) -> str:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
            env={**os.environ, **self.env, "LANG": "C", "LC_ALL": "C"},
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def start(self) -> None:
        for sub in ("bin/backend", "spool", "cache", "state", "tmp", "log"):
            (self.root / sub).mkdir(parents=True)
        cupsd = shutil.which("cupsd") or shutil.which("cupsd", path="/usr/sbin:/sbin")
        assert cupsd is not None
        system_bin = Path("/usr/lib/cups")
        for sub in ("daemon", "notifier"):
            if (system_bin / sub).is_dir():
                (self.root / "bin" / sub).symlink_to(system_bin / sub)
        backend = self.root / "bin/backend/folder"
        backend.write_text(BACKEND, encoding="utf-8")
        backend.chmod(0o700)  # as root, CUPS runs a 0700 backend as root: it can write the queue's folder
        if os.geteuid() == 0:
            user, group = "lp", "lp"
        else:
            user = pwd.getpwuid(os.geteuid()).pw_name
            group = grp.getgrgid(os.getegid()).gr_name
        (self.root / "cups-files.conf").write_text(
            "\n".join(
                [
                    f"ServerRoot {self.root}",
                    f"ServerBin {self.root / 'bin'}",
                    "DataDir /usr/share/cups",
                    f"RequestRoot {self.root / 'spool'}",
                    f"CacheDir {self.root / 'cache'}",
                    f"StateDir {self.root / 'state'}",
                    f"TempDir {self.root / 'tmp'}",
                    f"AccessLog {self.root / 'log/access_log'}",
                    f"ErrorLog {self.root / 'log/error_log'}",
                    f"PageLog {self.root / 'log/page_log'}",
                    f"Printcap {self.root / 'printcap'}",
                    "FileDevice No",
                    f"User {user}",
                    f"Group {group}",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        (self.root / "cupsd.conf").write_text(
            "\n".join(
                [
                    f"Listen {self.socket}",
                    "LogLevel warn",
                    "Browsing No",
                    "WebInterface No",
                    "DefaultAuthType None",
                    "MaxJobs 0",
                    "PreserveJobHistory No",
                    "<Location />",
                    "Order allow,deny",
                    "Allow all",
                    "</Location>",
                    "<Policy default>",
                    "<Limit All>",
                    "Order deny,allow",
                    "</Limit>",
                    "</Policy>",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        for path in self.root.rglob("*"):  # cupsd refuses group/other-writable config and programs
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~0o022)
        self.root.chmod(0o755)
        self.process = subprocess.Popen(
            [cupsd, "-f", "-c", str(self.root / "cupsd.conf"), "-s", str(self.root / "cups-files.conf")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "log/stderr", "wb"),
            env={**os.environ, "LANG": "C"},
            preexec_fn=_die_with_parent(),
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.socket.exists():
                done = subprocess.run(
                    ["lpstat", "-r"],
                    capture_output=True,
                    text=True,
                    check=False,
                    env={**os.environ, **self.env, "LANG": "C"},
                )
                if "scheduler is running" in done.stdout:
                    return
            time.sleep(0.05)
        log = ""
        for name in ("log/stderr", "log/error_log"):
            if (self.root / name).exists():
                log += (self.root / name).read_text(errors="replace")[-2000:]
        self.stop()
        pytest.fail(f"cupsd did not start in {self.root}: {log.strip() or 'no log'}", pytrace=False)

    def add_queue(self, name: str) -> Path:
        out = self.root / "out" / name
        out.mkdir(parents=True)
        out.chmod(0o755)
        self.run("lpadmin", "-p", name, "-E", "-v", f"folder:{out}", "-m", "raw")
        self.queues[name] = out
        return out

    def reset(self) -> None:
        """Every queue enabled, accepting, empty, with paper and no state reason left by a device:
        the state each test starts from (the queues are made afresh)."""
        for name, out in self.queues.items():
            self.run("lpadmin", "-x", name)  # its waiting and printing jobs go with it
            (out / ".paper-out").unlink(missing_ok=True)
            (out / ".offline").unlink(missing_ok=True)
            for job in out.glob("job-*"):
                job.unlink()
            self.run("lpadmin", "-p", name, "-E", "-v", f"folder:{out}", "-m", "raw")

    def printed(self, name: str) -> list[Path]:
        return sorted(self.queues[name].glob("job-*.pdf"))

    def wait_printed(self, name: str, count: int = 1, timeout: float = 15.0) -> list[Path]:
        """The files the queue's device received, once there are `count` (fails after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            files = self.printed(name)
            if len(files) >= count:
                return files
            time.sleep(0.05)
        raise AssertionError(
            f"queue {name}: {len(self.printed(name))} job(s) came out, expected {count}; "
            f"lpstat says: {self.run('lpstat', '-l', '-p', name, '-o', name).strip()}"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


def start_cups(queues: tuple[str, ...]) -> CupsServer:
    missing = which_missing()
    if missing:
        pytest.fail(MISSING.format(missing=", ".join(missing)), pytrace=False)
    # A short path: a Unix socket's path must fit in 108 bytes.
    server = CupsServer(Path(tempfile.mkdtemp(prefix="regdesk-cups-")))
    server.root.rmdir()
    server.start()
    for name in queues:
        server.add_queue(name)
    return server


def wait_for_state(name: str, done, what: str, timeout: float = 15.0) -> printing.PrinterStatus:
    """Poll the real `lpstat` until the queue's state is `done` (CUPS changes it a moment after the event)."""
    deadline = time.monotonic() + timeout
    while True:
        status = printing.printer_status(name)
        if done(status):
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} never became {what}: {status}")
        time.sleep(0.05)
