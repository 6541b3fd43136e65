"""The supervisor tallies' reads: trigger-kept counters, the mirror and a few log events.

Rows come back as plain tuples from the DB-API cursor: for these result sizes SQLAlchemy's row objects
cost more than SQLite (bench/bench_tallies.py). Each function runs one statement on the cursor given by
`reading(session)`; iterators are lazy, so a caller can fold rows as they arrive.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from regdesk.domain.events import EventKind
from regdesk.store.db import driver

Row = tuple[Any, ...]


@contextmanager
def reading(session: Session) -> Iterator[sqlite3.Cursor]:
    """A DB-API cursor in the session's transaction, closed afterwards."""
    cursor = driver(session).cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def station_payloads(cursor: sqlite3.Cursor) -> Iterable[Row]:
    """(station id, station_created payload JSON)."""
    return cursor.execute("SELECT station_id, payload FROM events WHERE kind = ?", (str(EventKind.STATION_CREATED),))


def badge_hours(cursor: sqlite3.Cursor) -> Iterable[Row]:
    """(UTC hour, station id, operator, reissue, badges) from the trigger-kept counter."""
    return cursor.execute("SELECT utc_hour, station_id, operator, reissue, n FROM tally_badge_hours")


def badges_by_category(cursor: sqlite3.Cursor) -> Iterable[Row]:
    """(UTC hour, category of the holder in the current mirror, reissue, badges)."""
    return cursor.execute(
        "SELECT substr(b.issued_at, 1, 13), coalesce(p.category, ''), b.issue_no > 1, count(*) FROM badges b "
        "LEFT JOIN participants p ON p.accreditation_id = b.participant_id GROUP BY 1, 2, 3"
    )


def proxy_collections(cursor: sqlite3.Cursor) -> list[Row]:
    """(UTC hour, collector id, collector name, delegation, authorisation, station id, operator, holder category,
    badges, first issued_at) for badges a focal point collected, oldest first."""
    return cursor.execute(
        "SELECT substr(b.issued_at, 1, 13), b.collected_by, coalesce(c.given_names || ' ' || c.family_name, ''), "
        "coalesce(c.delegation, ''), b.authorisation, b.station_id, b.operator, coalesce(p.category, ''), count(*), "
        "min(b.issued_at) FROM badges b LEFT JOIN participants c ON c.accreditation_id = b.collected_by "
        "LEFT JOIN participants p ON p.accreditation_id = b.participant_id "
        "WHERE b.collected_by != '' GROUP BY 1, 2, 5, 6, 7, 8 ORDER BY 10"
    ).fetchall()


def revocations_by_category(cursor: sqlite3.Cursor) -> Iterable[Row]:
    """(UTC hour, category of the revoked badge's holder, revocations)."""
    return cursor.execute(
        "SELECT substr(r.revoked_at, 1, 13), coalesce(p.category, ''), count(*) FROM revocations r "
        "LEFT JOIN badges b ON b.serial = r.serial "
        "LEFT JOIN participants p ON p.accreditation_id = b.participant_id GROUP BY 1, 2"
    )


def scan_hours(cursor: sqlite3.Cursor, until_day: str) -> Iterable[Row]:
    """(local day, UTC hour, point kind, point, direction, departure, verdict, reason, counted, scans, first,
    last) up to the local day `until_day` (YYYY-MM-DD)."""
    return cursor.execute(
        "SELECT local_day, utc_hour, point_kind, point, direction, departure, verdict, reason, counted, n, "
        "first_at, last_at FROM tally_scan_hours WHERE local_day <= ?",
        (until_day,),
    )


def entrant_days(cursor: sqlite3.Cursor, until_day: str) -> Iterable[Row]:
    """(local day, distinct people who entered that day)."""
    return cursor.execute("SELECT local_day, n FROM tally_entrant_days WHERE local_day <= ?", (until_day,))


def first_entry_days(cursor: sqlite3.Cursor, until_day: str) -> Iterable[Row]:
    """(local day, people who entered for the first time that day)."""
    return cursor.execute("SELECT first_day, n FROM tally_first_entry_days WHERE first_day <= ?", (until_day,))


def roster(cursor: sqlite3.Cursor, no_delegation: str) -> list[Row]:
    """Accredited participants: (id, family, given, family Latin, given Latin, category, delegation or
    `no_delegation`, delegation role, UTC hour of the first badge or None)."""
    return cursor.execute(
        "SELECT p.accreditation_id, p.family_name, p.given_names, p.family_name_latin, p.given_names_latin, "
        "p.category, coalesce(nullif(p.delegation, ''), ?), p.delegation_role, substr(fb.first_at, 1, 13) "
        "FROM participants p LEFT JOIN tally_first_badges fb ON fb.participant_id = p.accreditation_id "
        "WHERE p.status = 'accredited'",
        (no_delegation,),
    ).fetchall()


def overrides(cursor: sqlite3.Cursor, start: str, end: str) -> list[Row]:
    """(event id, granted at, rule, reason, supervisor, participant id, name, delegation, station id, operator)
    granted in [start, end), oldest first."""
    return cursor.execute(
        "SELECT o.event_id, o.granted_at, o.rule, o.reason, o.supervisor, o.participant_id, "
        "coalesce(p.given_names || ' ' || p.family_name, ''), coalesce(p.delegation, ''), o.station_id, o.operator "
        "FROM overrides o LEFT JOIN participants p ON p.accreditation_id = o.participant_id "
        "WHERE o.granted_at >= ? AND o.granted_at < ? ORDER BY o.granted_at",
        (start, end),
    ).fetchall()


def closed_departure_payloads(cursor: sqlite3.Cursor, end: str) -> Iterable[Row]:
    """(departure_closed payload JSON,) recorded before `end`."""
    return cursor.execute(
        "SELECT payload FROM events WHERE kind = ? AND recorded_at < ?", (str(EventKind.DEPARTURE_CLOSED), end)
    )


def resolved_conflicts(cursor: sqlite3.Cursor, start: str, end: str) -> list[Row]:
    """(event id, recorded at, station id, operator, payload JSON) of conflicts resolved in [start, end)."""
    return cursor.execute(
        "SELECT id, recorded_at, station_id, operator, payload FROM events "
        "WHERE kind = ? AND recorded_at >= ? AND recorded_at < ? ORDER BY recorded_at",
        (str(EventKind.CONFLICT_RESOLVED), start, end),
    ).fetchall()


def participant_names(cursor: sqlite3.Cursor, participant_id: str) -> Iterable[Row]:
    """(given names, family name) of one participant (no row if unknown)."""
    return cursor.execute(
        "SELECT given_names, family_name FROM participants WHERE accreditation_id = ?", (participant_id,)
    )


def pass_stock(cursor: sqlite3.Cursor) -> list[Row]:
    """(day, printed, assigned, voided) of the temporary passes printed for each day."""
    return cursor.execute(
        "SELECT day, count(*), sum(participant_id != '' AND NOT voided), sum(voided) FROM temporary_passes "
        "WHERE printed_event_id != '' GROUP BY day"
    ).fetchall()


def data_version(session: Session) -> int:
    """The newest local order in the log: changes whenever an event is recorded or synced in."""
    cursor = driver(session).cursor()
    (version,) = cursor.execute("SELECT coalesce(max(local_order), 0) FROM events").fetchone()
    cursor.close()
    return int(version)
