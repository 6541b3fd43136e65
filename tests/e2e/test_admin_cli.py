"""`regdesk check`, `backup`, `restore`, `rotate-key`, `audit` from the command line."""

from __future__ import annotations

import json
import sqlite3

import pytest
from meeting import SUPERVISOR_SECRET

from conftest import participant_row, seed_participants
from regdesk.cli import main
from regdesk.services import desk, integrity


@pytest.fixture
def data_dir(desk_station):
    seed_participants(
        desk_station, [participant_row("CH-1", "Muster", "Hans"), participant_row("CH-2", "Keller", "Anna")]
    )
    for pid in ("CH-1", "CH-2"):
        desk.record_identity_check(desk_station, pid, "passport", "X1234567", "Carlos Clerk")
        desk.issue_badge(desk_station, pid, operator="Carlos Clerk")
    desk_station.close()
    return desk_station.data_dir


def run(capsys, *argv, env=None, monkeypatch=None):
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def sql(data_dir, statement, *params):
    conn = sqlite3.connect(data_dir / "station.db")
    try:
        with conn:
            conn.execute(statement, params)
    finally:
        conn.close()


def test_check_passes_on_a_healthy_station(data_dir, capsys):
    code, out, _ = run(capsys, "--data-dir", data_dir, "check")
    assert code == 0
    assert "integrity_check: ok" in out and out.strip().endswith("OK")


def test_check_finds_a_projection_row_the_log_does_not_explain(data_dir, capsys):
    sql(data_dir, "DELETE FROM badges WHERE participant_id = 'CH-2'")
    code, out, _ = run(capsys, "--data-dir", data_dir, "check", "--json")
    report = json.loads(out)
    assert code == 1 and not report["ok"]
    assert report["problems"] == [
        "projection badges differs from a rebuild from the log: 0 rows not derived from events, 1 rows missing"
    ]


def test_check_finds_a_lost_event_of_this_station(data_dir, capsys):
    sql(data_dir, "DELETE FROM events WHERE kind = 'identity_checked' AND payload LIKE '%CH-1%'")
    report = integrity.check_station(data_dir)
    assert any("this station's own events have a gap" in p for p in report.problems)


def test_check_reports_a_damaged_database_file(data_dir, capsys):
    db = data_dir / "station.db"
    raw = bytearray(db.read_bytes())
    raw[5000:9000] = b"\xff" * 4000
    db.write_bytes(bytes(raw))
    code, out, _ = run(capsys, "--data-dir", data_dir, "check")
    assert code == 1 and "integrity_check: ok" not in out and "FAILED" in out


def test_backup_list_and_restore_from_the_command_line(data_dir, capsys):
    code, out, _ = run(capsys, "--data-dir", data_dir, "backup", "--json")
    made = json.loads(out)
    assert code == 0 and made["integrity"] == "ok"
    code, out, _ = run(capsys, "--data-dir", data_dir, "backup", "--list")
    assert out.startswith("station-") and code == 0
    name = out.split("\t")[0]
    code, out, _ = run(capsys, "--data-dir", data_dir, "restore", name)
    assert code == 0 and "Restored" in out and "station.db.before-restore" in out
    code, _, err = run(capsys, "--data-dir", data_dir, "restore", "no-such-backup.db")
    assert code == 2 and "no such backup" in err


def test_rotate_key_and_audit_need_the_right_person_and_pin(data_dir, capsys, monkeypatch):
    code, _, err = run(
        capsys,
        "--data-dir",
        data_dir,
        "rotate-key",
        "--operator",
        "Maria Supervisor",
        env={"REGDESK_PIN": "0000"},
        monkeypatch=monkeypatch,
    )
    assert code == 4 and "name or PIN/passphrase is wrong" in err
    code, _, err = run(
        capsys,
        "--data-dir",
        data_dir,
        "rotate-key",
        "--operator",
        "Carlos Clerk",
        env={"REGDESK_PIN": "1357"},
        monkeypatch=monkeypatch,
    )
    assert code == 4 and "supervisor" in err
    code, out, _ = run(
        capsys,
        "--data-dir",
        data_dir,
        "rotate-key",
        "--operator",
        "Maria Supervisor",
        "--json",
        env={"REGDESK_PIN": SUPERVISOR_SECRET},
        monkeypatch=monkeypatch,
    )
    assert code == 0 and json.loads(out)["key_id"] != json.loads(out)["previous_key_id"]
    code, out, _ = run(
        capsys,
        "--data-dir",
        data_dir,
        "audit",
        "--as",
        "Maria Supervisor",
        "--kind",
        "key",
        "--json",
        env={"REGDESK_PIN": SUPERVISOR_SECRET},
        monkeypatch=monkeypatch,
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["operator"] for r in rows] == ["Maria Supervisor", "system"]
    code, _, err = run(
        capsys,
        "--data-dir",
        data_dir,
        "audit",
        "--as",
        "Maria Supervisor",
        "--day",
        "monday",
        env={"REGDESK_PIN": SUPERVISOR_SECRET},
        monkeypatch=monkeypatch,
    )
    assert code == 2 and "YYYY-MM-DD" in err
