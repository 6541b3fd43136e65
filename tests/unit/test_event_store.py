"""The station database itself: event ids, and stations created by an older regdesk."""

from __future__ import annotations

import base64
import sqlite3
import uuid

from meeting import init_station

from conftest import EVENT_TOML
from regdesk.domain.events import EventKind
from regdesk.services import tallies
from regdesk.services.station import Station, open_station

SCAN = {
    "local_day": "2017-12-04",
    "point_kind": "security",
    "point": "ICC-MAIN",
    "direction": "",
    "departure": "",
    "verdict": "valid",
    "reason": "valid",
    "serial": "SAAAAAAB",
    "participant_id": "CH-1",
    "counted": True,
    "manual": False,
}


def serial_for(person: str) -> str:
    """A badge serial (8 characters A-Z, 2-7) per person."""
    return base64.b32encode(person.encode().ljust(5, b"_")[:5]).decode()


def record_scans(station: Station, clock, people: list[str]) -> list[str]:  # noqa: ANN001
    ids = []
    for person in people:
        clock.advance(seconds=30)
        with station.transaction() as session:
            event = station.record(
                session,
                EventKind.SCAN_RECORDED,
                {**SCAN, "participant_id": person, "serial": serial_for(person)},
                "guard",
            )
        ids.append(event.id)
    return ids


def security_totals(station: Station) -> tuple[int, int]:
    """(security scans on 4 Dec, distinct people entered by 4 Dec) as the supervisor sees them."""
    day = next(t for t in tallies.all_days(station) if str(t.day) == "2017-12-04").security
    return day.scans, day.distinct_people


def test_new_event_ids_are_uuid7_in_time_order(tmp_path, clock):
    station = init_station(tmp_path / "icc", EVENT_TOML, role="security", name="ICC lane 1", clock=clock)
    ids = record_scans(station, clock, [f"P{n}" for n in range(20)])
    station.close()
    assert {uuid.UUID(i).version for i in ids} == {7}
    assert ids == sorted(ids)  # time-ordered: the id index grows at one end, like the log
    assert len(set(ids)) == len(ids)


# The v1 schema (regdesk before sync was made faster): scans keyed by event id, counted by a trigger.
V1_SCANS = """CREATE TABLE scans (event_id VARCHAR(36) NOT NULL PRIMARY KEY, scanned_at VARCHAR(27) NOT NULL,
    local_day VARCHAR(10) NOT NULL, station_id VARCHAR(36) NOT NULL, point_kind VARCHAR(16) NOT NULL,
    point VARCHAR(64) NOT NULL, direction VARCHAR(16) NOT NULL, departure VARCHAR(64) NOT NULL,
    verdict VARCHAR(16) NOT NULL, reason VARCHAR(32) NOT NULL, serial VARCHAR(16) NOT NULL,
    participant_id VARCHAR(64) NOT NULL, counted BOOLEAN NOT NULL, manual BOOLEAN NOT NULL)"""
V1_TRIGGER = """CREATE TRIGGER tally_scans_ai AFTER INSERT ON scans BEGIN
    INSERT INTO tally_scan_hours (local_day, utc_hour, point_kind, point, direction, departure, verdict, reason,
                                  counted, n, first_at, last_at)
    VALUES (NEW.local_day, substr(NEW.scanned_at, 1, 13), NEW.point_kind, NEW.point, NEW.direction, NEW.departure,
            NEW.verdict, NEW.reason, NEW.counted, 1, NEW.scanned_at, NEW.scanned_at)
    ON CONFLICT (local_day, utc_hour, point_kind, point, direction, departure, verdict, reason, counted)
    DO UPDATE SET n = n + 1;
END"""


def downgrade_to_v1(db_path) -> None:  # noqa: ANN001
    con = sqlite3.connect(db_path)
    with con:
        columns = (
            "event_id, scanned_at, local_day, station_id, point_kind, point, direction, departure, verdict, "
            "reason, serial, participant_id, counted, manual"
        )
        con.execute("ALTER TABLE scans RENAME TO scans_new")
        con.execute("DROP INDEX ix_scans_serial_point")
        con.execute("DROP INDEX ix_scans_day")
        con.execute(V1_SCANS)
        con.execute("CREATE INDEX ix_scans_serial_point ON scans (serial, point, scanned_at)")
        con.execute("CREATE INDEX ix_scans_day ON scans (local_day, point_kind)")
        con.execute(f"INSERT INTO scans ({columns}) SELECT {columns} FROM scans_new")
        con.execute("DROP TABLE scans_new")
        con.execute(V1_TRIGGER)
        con.execute("PRAGMA user_version = 1")
    con.close()


def test_a_station_from_the_previous_schema_keeps_its_scans_and_counts_new_ones_once(tmp_path, clock):
    clock.advance(days=3)  # 4 Dec, meeting day 1
    station = init_station(tmp_path / "icc", EVENT_TOML, role="security", name="ICC lane 1", clock=clock)
    old_ids = record_scans(station, clock, ["P1", "P2", "P3"])
    before = security_totals(station)
    station.close()
    downgrade_to_v1(tmp_path / "icc" / "station.db")

    station = open_station(tmp_path / "icc", clock=clock)
    try:
        with station.sessions() as session:
            kept = [row[0] for row in session.connection().exec_driver_sql("SELECT event_id FROM scans ORDER BY id")]
            triggers = {
                row[0]
                for row in session.connection().exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            }
        assert kept == old_ids
        assert "tally_scans_ai" not in triggers
        assert security_totals(station) == before == (3, 3)
        clock.advance(minutes=5)
        record_scans(station, clock, ["P4"])
        assert security_totals(station) == (4, 4)  # counted once, not by a leftover trigger as well
    finally:
        station.close()


def test_a_v2_station_learns_what_each_identity_check_was_for_and_which_badges_were_delivered(tmp_path, clock):
    from conftest import participant_row, seed_participants
    from regdesk.services import desk, integrity

    station = init_station(tmp_path / "desk", EVENT_TOML, role="desk", name="Westin desk 1", clock=clock)
    seed_participants(station, [participant_row("CH-2", "Keller", "Anna")])
    desk.record_identity_check(station, "CH-2", "passport", "X1234567", "ana")
    badge = desk.issue_badge(station, "CH-2", operator="ana")
    desk.print_badge(station, badge.serial, operator="ana")  # no printer: the PDF is handed over
    desk.record_identity_check(station, "CH-2", "passport", "X1234567", "ana")  # for the replacement
    station.close()
    con = sqlite3.connect(tmp_path / "desk" / "station.db")
    with con:  # the shape of a v2 station
        con.execute("ALTER TABLE identity_checks DROP COLUMN for_badge")
        con.execute("DROP TABLE badge_deliveries")
        con.execute("PRAGMA user_version = 2")
    con.close()

    station = open_station(tmp_path / "desk", clock=clock)
    try:
        with station.sessions() as session:
            conn = session.connection()
            for_badges = [
                r[0]
                for r in conn.exec_driver_sql("SELECT for_badge FROM identity_checks ORDER BY checked_at, event_id")
            ]
            delivered = [r[0] for r in conn.exec_driver_sql("SELECT serial FROM badge_deliveries")]
        assert sorted(for_badges, key=str) == sorted([None, badge.serial], key=str)
        assert delivered == [badge.serial]
        assert desk.issue_badge(station, "CH-2", operator="ana", replace=True).replaced_serial == badge.serial
        assert integrity.check_station(station.data_dir).problems == []
    finally:
        station.close()
