"""Station files are owner-only whatever the umask (issue 10, point 4).

The usual umask 022 makes new files world-readable; a station's files hold names, identity
document endings, signing keys and operator credentials. Every file and folder a station makes,
through the services (which must not rely on the umask) and through the real `regdesk` command,
is checked: folders 0700, files 0600.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from meeting import ROOT_PASSPHRASE, SUPERVISOR_SECRET, SUPERVISOR_SESSION, exported_root_key
from sync_helpers import issue, make_station, meeting_morning, seed  # noqa: F401 (fixture)

from conftest import EVENT_TOML, ROOT
from regdesk.services import backup, bundles, desk, exports, provisioning
from regdesk.store import files


@pytest.fixture
def usual_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def loose(paths: list[Path]) -> dict[str, str]:
    """Every path whose mode lets anyone but the owner in, with the mode found."""
    found = {}
    for path in paths:
        mode = stat.S_IMODE(path.lstat().st_mode)
        wanted = 0o700 if path.is_dir() else 0o600
        if mode != wanted:
            found[str(path)] = oct(mode)
    return found


def everything_under(folder: Path) -> list[Path]:
    return [folder, *sorted(folder.rglob("*"))]


def test_every_file_a_station_makes_is_owner_only_under_umask_022(tmp_path, usual_umask, meeting_morning):
    station = make_station(tmp_path, "Westin desk 1", "desk", meeting_morning)
    try:
        seed(station)
        badge = issue(station, "CH-1")
        printed = desk.print_badge(station, badge.serial, operator="clerk")  # no printer: output/
        assert printed.pdf_path.parent == station.output_dir
        exported = exports.export_tallies(station, station.data_dir / "exports", [date(2017, 12, 4)])
        usb = tmp_path / "usb-stick"
        usb.mkdir(mode=0o755)
        os.chmod(usb, 0o755)  # the user's own folder keeps its mode; what we put in it does not
        to_usb = exports.export_tallies(station, usb, [date(2017, 12, 4)], formats=("csv",))
        copy = backup.backup_now(station)
        bundle = bundles.export_bundle(station, tmp_path / "westin.bundle").path
        join = provisioning.provision(
            station,
            role="security",
            name="ICC main",
            by=SUPERVISOR_SESSION,
            root_passphrase=ROOT_PASSPHRASE,
            root_key_file=exported_root_key(station),
            out=tmp_path / "icc.join",
        ).join_file
        data_dir = station.data_dir
        wal = [Path(f"{station.db_path}-wal"), Path(f"{station.db_path}-shm")]
        assert all(p.exists() for p in wal)
        checked = everything_under(data_dir) + list(to_usb.files) + [bundle, join]
        assert len(exported.files) >= 3 and copy.parent == data_dir / "backups"
        assert {p.name for p in data_dir.iterdir()} >= {
            "station.db",
            "event.toml",
            "keys",
            "output",
            "exports",
            "backups",
        }
        assert loose(checked) == {}
        assert stat.S_IMODE(usb.stat().st_mode) == 0o755
    finally:
        station.close()

    # Restored in place (the current database is kept beside it) and onto a new, empty disk.
    report = backup.restore(copy, data_dir, clock=meeting_morning)
    assert report.previous_saved_as is not None and report.previous_saved_as.exists()
    new_disk = tmp_path / "new-disk"
    files.private_dir(new_disk / "keys")  # the station's key, rescued from the old laptop
    shutil.copy(data_dir / "keys" / "station.key", new_disk / "keys" / "station.key")
    backup.restore(copy, new_disk, clock=meeting_morning)
    assert loose(everything_under(data_dir) + everything_under(new_disk)) == {}


def test_the_atomic_writer_leaves_nothing_behind_when_writing_fails(tmp_path, usual_umask):
    target = tmp_path / "report.pdf"
    files.write_private(target, b"first")
    with pytest.raises(RuntimeError):
        with files.private_writer(target) as fh:
            fh.write(b"half of the second")
            raise RuntimeError("disk pulled out")
    assert target.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]
    assert loose([target]) == {}


def test_the_regdesk_command_makes_owner_only_files_under_umask_022(tmp_path):
    data_dir = tmp_path / "desk"

    secrets = {
        "REGDESK_ROOT_PASSPHRASE": "file modes root phrase 2017",
        "REGDESK_NEW_PIN": SUPERVISOR_SECRET,
        "REGDESK_PIN": SUPERVISOR_SECRET,
    }

    def regdesk(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "regdesk", "--data-dir", str(data_dir), *args],
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: os.umask(0o022),
            env={**os.environ, **secrets},
        )

    for args in (
        ("init", "--event", str(EVENT_TOML), "--role", "desk", "--supervisor", "maria"),
        ("import", str(ROOT / "fixtures" / "accreditation.csv"), "--operator", "maria"),
        ("backup",),
        ("bundle", "export", str(tmp_path / "desk.bundle")),
        (
            "provision",
            "--role",
            "security",
            "--name",
            "ICC",
            "--out",
            str(tmp_path / "icc.join"),
            "--operator",
            "maria",
        ),
    ):
        done = regdesk(*args)
        assert done.returncode == 0, (args, done.stderr)
    made = everything_under(data_dir) + [tmp_path / "desk.bundle", tmp_path / "icc.join"]
    assert any(p.name.endswith(".key") for p in made) and any(p.parent.name == "backups" for p in made)
    assert loose(made) == {}
