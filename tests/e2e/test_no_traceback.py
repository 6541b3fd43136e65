"""No traceback ever reaches a user (issue 10, point 8): a damaged, read-only or full station.

The real `regdesk` program runs on a copy of a real station after the damage a field laptop sees:
an empty, cut-short or overwritten station.db, event.toml or the desk's key file gone, the folder
on a read-only disk, the disk full to the last byte. Each command must print ONE line on stderr
that names the file and says what to do, exit non-zero, and leave the station as it was (every
file's bytes, or for the full and read-only disks the database's logical content).
Read-only and full disks are real: a read-only bind mount and a filled tmpfs, in a private mount
namespace (tests/helpers/fault_fs.py), so nothing outlives the test.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pg_fixtures import hub_url  # noqa: F401 (fixture)
from sync_helpers import make_station

from conftest import local
from regdesk.clock import FixedClock
from regdesk.services.demo import DEMO_OPERATORS, build_demo_station

pytestmark = pytest.mark.xdist_group("processes")

FAULT_DRIVER = Path(__file__).resolve().parents[1] / "helpers" / "fault_fs.py"
NEVER_A_HUB = "postgresql+psycopg://postgres@127.0.0.1:5432/regdesk_no_such_hub"


def demo_secret(name: str) -> str:
    return next(op.pin for op in DEMO_OPERATORS if op.name == name)


# What a desk clerk, a scan lane, the sync loop, an administrator and the TUI run.
COMMANDS = {
    "search": ("desk", ["search", "gomez"]),
    "issue": (
        "desk",
        [
            "issue",
            "GCM17-000361",
            "--operator",
            "ana",
            "--id-check",
            "passport:AB123456",
            "--clock",
            "2017-12-01T13:10",
        ],
    ),
    "scan": ("security", ["scan", "--operator", "sam", "--point", "security:ICC-MAIN", "--clock", "2017-12-04T08:40"]),
    "sync": ("desk", ["sync", "--hub", NEVER_A_HUB, "--once"]),
    "check": ("desk", ["check"]),
    "tui": ("desk", ["tui"]),
}
SCAN_INPUT = "NOT-A-BADGE\n"


def command_env(args: list[str] | tuple = ()) -> dict[str, str]:
    """The acting operator's PIN from the environment: sam's for a scan lane, ana's at the desk."""
    pin = demo_secret("sam") if "sam" in args else demo_secret("ana")
    return {**os.environ, "REGDESK_PIN": pin, "FAULT_STDIN": SCAN_INPUT}


@pytest.fixture(scope="module")
def stations(tmp_path_factory) -> dict[str, Path]:
    """A demo desk (900 participants, the demo operators) and a security lane, both closed."""
    base = tmp_path_factory.mktemp("sources")
    clock = FixedClock(local("2017-12-01T13:05"))
    desk = build_demo_station(base / "desk", clock=clock)
    desk.close()
    lane = make_station(base, "ICC main", "security", clock)
    lane.close()
    return {"desk": desk.data_dir, "security": lane.data_dir}


def files_of(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "folder"
        for p in sorted(folder.rglob("*"))
    }


def assert_one_clear_line(done, names: str) -> str:  # noqa: ANN001
    everything = done.stdout + done.stderr
    assert done.returncode != 0, everything
    assert "Traceback" not in everything and "Error:" not in everything, everything
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("regdesk: ") and names in lines[0], lines[0]
    return lines[0]


def regdesk(data_dir: Path, args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "regdesk", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        input=SCAN_INPUT,
        env=command_env(args),
        timeout=120,
    )


def regdesk_in_a_terminal(data_dir: Path, args: list[str]) -> subprocess.CompletedProcess:
    """The command on a real pseudo-terminal (stdin, stdout and stderr), as a person starts the TUI."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "regdesk", "--data-dir", str(data_dir), *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=command_env(args),
        close_fds=True,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the program ended
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    else:
        process.kill()
    os.close(leader)
    text = output.decode("utf-8", "replace").replace("\r\n", "\n")
    return subprocess.CompletedProcess(process.args, process.wait(timeout=30), "", text)


# --- damaged files ------------------------------------------------------------------------------------


def empty_database(station: Path) -> str:
    (station / "station.db").write_bytes(b"")
    return "station.db is empty"


def cut_short_database(station: Path) -> str:
    db = station / "station.db"
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    return "station.db is cut short"


def overwritten_database(station: Path) -> str:
    db = station / "station.db"
    db.write_bytes(os.urandom(db.stat().st_size))
    return "station.db is not an SQLite database"


def missing_event_settings(station: Path) -> str:
    (station / "event.toml").unlink()
    return "event.toml is missing"


DAMAGE = {
    "empty": empty_database,
    "cut-short": cut_short_database,
    "overwritten": overwritten_database,
    "no-event-toml": missing_event_settings,
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_station_gives_one_line_naming_the_file_and_changes_nothing(stations, tmp_path, damage):
    copies = {role: shutil.copytree(source, tmp_path / role) for role, source in stations.items()}
    expected = {role: DAMAGE[damage](folder) for role, folder in copies.items()}
    untouched = {role: files_of(folder) for role, folder in copies.items()}
    for name, (role, args) in COMMANDS.items():
        run = regdesk_in_a_terminal if name == "tui" else regdesk
        line = assert_one_clear_line(run(copies[role], args), expected[role])
        assert str(copies[role]) in line, (name, line)
        if damage != "no-event-toml":
            assert "restore" in line, (name, line)  # what to do
        assert files_of(copies[role]) == untouched[role], f"{name} wrote to the damaged station"


def test_a_desk_without_its_key_file_refuses_to_issue_in_one_line_and_still_searches(stations, tmp_path):
    station = shutil.copytree(stations["desk"], tmp_path / "desk")
    [key_file] = [k for k in (station / "keys").glob("*.key") if k.name not in ("station.key", "root.key")]
    key_file.unlink()  # the badge-signing key
    untouched = files_of(station)

    line = assert_one_clear_line(regdesk(station, COMMANDS["issue"][1]), str(key_file))
    assert "rotate-key" in line  # what to do
    assert files_of(station) == untouched  # not even the identity check was recorded

    checked = regdesk(station, ["check"])
    assert checked.returncode != 0 and "Traceback" not in checked.stdout + checked.stderr
    assert f"PROBLEM: {key_file} (this desk's signing key) is missing" in checked.stdout

    found = regdesk(station, ["search", "gomez camacho"])  # the rest of the desk keeps working
    assert found.returncode == 0 and "Gómez Camacho" in found.stdout, found.stderr


# --- a read-only disk and a full one, for real ---------------------------------------------------------


def under_fault(fault: str, source: Path, work: Path, args: list[str]) -> dict:
    work.mkdir()
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            str(FAULT_DRIVER),
            fault,
            str(source),
            str(work),
            *args,
        ],
        capture_output=True,
        text=True,
        env=command_env(args),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr  # the driver itself (mounts, copies) worked
    return json.loads(done.stdout)


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_read_only_disk_gives_one_line_and_changes_nothing(stations, tmp_path, name):
    role, args = COMMANDS[name]
    result = under_fault("readonly", stations[role], tmp_path / "work", args)
    done = subprocess.CompletedProcess(args, result["returncode"], result["stdout"], result["stderr"])
    line = assert_one_clear_line(done, "cannot be written")
    assert str(tmp_path / "work" / "station") in line
    assert result["after"] == result["before"]


@pytest.mark.parametrize("name", ["issue", "scan", "sync"])
def test_a_full_disk_gives_one_line_and_records_nothing(stations, tmp_path, name, request):
    role, args = COMMANDS[name]
    if name == "sync":  # a real hub: the push works, recording how far it got does not
        args = ["sync", "--hub", request.getfixturevalue("hub_url"), "--once"]
    result = under_fault("full", stations[role], tmp_path / "work", args)
    done = subprocess.CompletedProcess(args, result["returncode"], result["stdout"], result["stderr"])
    line = assert_one_clear_line(done, "is full")
    assert str(tmp_path / "work" / "disk" / "station") in line and "free some space" in line
    assert result["after"] == result["before"]


def test_a_full_disk_still_answers_a_search(stations, tmp_path):
    result = under_fault("full", stations["desk"], tmp_path / "work", ["search", "gomez camacho"])
    assert result["returncode"] == 0 and "Gómez Camacho" in result["stdout"], result["stderr"]
    assert result["after"] == result["before"]
