"""Station backups (SQLite backup API) and the documented restore."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import time

import pytest
from meeting import init_station
from sqlalchemy import select

from conftest import EVENT_TOML, participant_row, seed_participants
from regdesk.domain import token as t
from regdesk.services import backup, desk, integrity
from regdesk.services.merge import TrustContext, incoming_from_row, merge, travelling_rows
from regdesk.services.station import open_station, seal_own_head
from regdesk.store.db import open_database
from regdesk.store.models import Badge


@pytest.fixture
def station(desk_station):
    seed_participants(
        desk_station,
        [participant_row(f"UN-{i}", f"Family{i}", "Given", category="UN", delegation="IOM") for i in range(1, 30)],
    )
    return desk_station


def issue(station, pid):
    desk.record_identity_check(station, pid, "passport", "P9876543", "clerk")
    return desk.issue_badge(station, pid, operator="clerk")


def serials_in(db_path) -> set[str]:
    conn = sqlite3.connect(db_path)
    try:
        return {r[0] for r in conn.execute("SELECT serial FROM badges")}
    finally:
        conn.close()


def test_backup_is_a_verified_owner_only_self_contained_copy(station):
    first = issue(station, "UN-1")
    path = backup.backup_now(station)
    assert path.parent == station.data_dir / "backups"
    assert path.name == "station-20171201T190500Z.db"  # 13:05 local = 19:05 UTC
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert backup.integrity(path) == "ok"
    assert not os.path.exists(f"{path}-wal")
    assert serials_in(path) == {first.serial}
    assert backup.read_meta(path)["event_toml"] == station.config.source_text


def test_keeps_only_the_newest_backups(station, clock):
    station.set_setting("backup_keep", "3")
    made = []
    for _ in range(5):
        issue(station, f"UN-{len(made) + 1}")
        made.append(backup.backup_now(station))
        clock.advance(minutes=15)
    assert backup.list_backups(station.data_dir) == list(reversed(made[-3:]))
    assert not made[0].exists() and not made[1].exists()


def test_two_backups_in_the_same_second_do_not_overwrite_each_other(station):
    a = backup.backup_now(station)
    issue(station, "UN-1")
    b = backup.backup_now(station)
    assert a != b and a.exists() and b.exists()
    assert serials_in(b) - serials_in(a) == {serials_in(b).pop()}


def test_backup_while_the_desk_keeps_issuing_is_consistent(station, tmp_path):
    """The backup thread reads while the desk writes: every copy is whole and passes the checks."""
    stop = threading.Event()
    copies = []

    def back_up_repeatedly():
        while not stop.is_set():
            copies.append(backup.backup_now(station))

    worker = threading.Thread(target=back_up_repeatedly)
    worker.start()
    try:
        for i in range(1, 21):
            issue(station, f"UN-{i}")
    finally:
        stop.set()
        worker.join()
    assert copies
    for copy in backup.list_backups(station.data_dir):
        assert integrity.check_database(copy).ok


def test_a_half_written_backup_from_a_killed_process_is_never_listed_and_is_cleaned(station):
    folder = backup.backups_dir(station.data_dir)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    partial = folder / f".partial-{dead}-1-abc"
    partial.write_bytes(b"SQLite format 3\x00 half")
    assert backup.list_backups(station.data_dir) == []
    backup.backup_now(station)
    assert not partial.exists()


def test_restore_brings_back_the_backup_and_keeps_what_was_there(station, clock):
    kept = issue(station, "UN-1")
    path = backup.backup_now(station)
    lost = issue(station, "UN-2")  # made after the backup
    seal_own_head(station)  # and synced (a push seals the chain) before the laptop failed
    old_id = station.station_id
    station.close()

    report = backup.restore(path, station.data_dir, clock=clock)

    data_dir = station.data_dir
    assert serials_in(data_dir / "station.db") == {kept.serial}
    assert serials_in(data_dir / "station.db.before-restore") == {kept.serial, lost.serial}
    assert report.previous_saved_as == data_dir / "station.db.before-restore"
    assert report.old_station_id == old_id and report.new_station_id != old_id
    assert integrity.check_station(data_dir).ok

    # The restored desk works on under its new id, and the events made after the backup come back by
    # sync (here: from the saved copy) without colliding with new ones.
    restored = open_station(data_dir, clock=clock)
    try:
        assert restored.station_id == report.new_station_id and restored.name == "Westin desk 1"
        fresh = issue(restored, "UN-3")
        engine, sessions = open_database(data_dir / "station.db.before-restore")
        with sessions() as s:
            old_events = [incoming_from_row(row[1:]) for row in travelling_rows(s)]
        engine.dispose()
        with restored.transaction() as s:
            ctx = TrustContext(restored.config.code, restored.root_public_key, restored.station_id)
            # UN-2's identity check and badge, verified by the seal the lost desk put on them when it synced
            assert merge(s, old_events, ctx, strict=False).added_count == 2
        with restored.sessions() as s:
            assert set(s.execute(select(Badge.serial)).scalars()) == {kept.serial, lost.serial, fresh.serial}
    finally:
        restored.close()
    assert integrity.check_station(data_dir).ok


def test_restore_refuses_a_damaged_backup_and_changes_nothing(station):
    issue(station, "UN-1")
    path = backup.backup_now(station)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    station.close()
    before = (station.data_dir / "station.db").read_bytes()
    with pytest.raises(backup.BackupError, match="integrity check|not a readable"):
        backup.restore(path, station.data_dir)
    assert (station.data_dir / "station.db").read_bytes() == before
    assert not (station.data_dir / "station.db.before-restore").exists()


def test_restore_refuses_another_stations_backup(station, tmp_path, clock):
    other = init_station(tmp_path / "other", EVENT_TOML, role="desk", name="Westin desk 2", clock=clock)
    other_backup = backup.backup_now(other)
    other.close()
    station.close()
    with pytest.raises(backup.BackupError, match="another station \\(Westin desk 2\\)"):
        backup.restore(other_backup, station.data_dir)


def test_restore_refuses_while_the_station_is_running(station):
    path = backup.backup_now(station)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('select count(*) from events').fetchall(); print('open', flush=True); time.sleep(60)",
            str(station.db_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(backup.BackupError, match=f"station is running \\(process {holder.pid}"):
            backup.restore(path, station.data_dir)
    finally:
        holder.kill()
        holder.wait()


def test_restore_onto_an_empty_disk_needs_the_station_key_and_then_makes_a_new_badge_key(station, tmp_path, clock):
    badge = issue(station, "UN-1")
    old_key = station.key_id
    path = backup.backup_now(station)
    station.close()
    new_disk = tmp_path / "new-disk"
    with pytest.raises(backup.BackupError, match="station.key is not on this disk"):
        backup.restore(path, new_disk, clock=clock)
    assert not (new_disk / "station.db").exists()

    # The keys folder rescued from the old laptop, but not the badge key: the station goes on, and
    # a new badge key is made; the badges signed before still verify.
    (new_disk / "keys").mkdir(parents=True, exist_ok=True)
    shutil.copy(station.data_dir / "keys" / "station.key", new_disk / "keys" / "station.key")
    report = backup.restore(path, new_disk, clock=clock)
    assert any("new key" in note for note in report.notes)
    restored = open_station(new_disk, clock=clock)
    try:
        assert restored.key_id and restored.key_id != old_key
        with restored.sessions() as s:
            assert t.read_token(badge.token, event_code=restored.config.code, public_keys=restored.public_keys(s)).ok
        assert issue(restored, "UN-2").serial
    finally:
        restored.close()


def test_scheduler_backs_up_on_its_interval_and_survives_a_failure(station):
    station.set_setting("backup_minutes", "0.001")  # 60 ms, so the test is quick
    done, failures = [], []
    calls = {"n": 0}

    def flaky(st):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return backup.backup_now(st)

    scheduler = backup.BackupScheduler(station, on_done=done.append, on_error=failures.append, backup=flaky)
    assert scheduler.minutes == 0.001
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while len(done) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        scheduler.stop()
    assert not scheduler.running
    assert len(done) >= 2 and all(p.exists() for p in done)
    assert [str(e) for e in failures] == ["disk full"]


def test_scheduler_defaults_to_15_minutes_and_0_turns_it_off(station):
    assert backup.BackupScheduler(station).minutes == 15
    station.set_setting("backup_minutes", "0")
    off = backup.BackupScheduler(station)
    off.start()
    assert not off.enabled and not off.running
