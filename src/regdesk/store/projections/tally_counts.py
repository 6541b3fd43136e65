"""Running counters for the supervisor tallies, kept as the projection tables are written.

Why counters: a meeting-sized log has ~1M scans, and grouping them at report time costs tens of
seconds on a busy 2-core laptop; the supervisor dashboard refreshes every few seconds. Each event
kind has exactly one projection handler (core.py owns scans, badges and revocations), so the
counters follow those tables:
- scans: the scan handler calls `count_scans` with the rows it inserted; it aggregates the batch in
  Python first (sync delivers scans by the thousand, and one upsert per group is far cheaper than
  a trigger firing per row);
- badges and venue entrants: AFTER INSERT triggers on `badges` and `tally_entrants` (rare rows).
That keeps the handlers' guarantees:
- idempotent: a projection row is written only for an event the log did not hold yet, and a
  duplicate entrant is an INSERT OR IGNORE that fires no trigger;
- order-independent: every update is an increment, a min() or a max(), which commute;
- rebuildable: the tables are projection tables, wiped by `rebuild()` and refilled by the replay.

Time buckets are the stored UTC hour ("2017-12-04T15"); services/tallies.py maps each bucket to
its local day and hour, which is exact for zones with whole-hour offsets (as the event's time zone has).
Badges are counted by hour, desk and clerk only; their split by category (and revocations by
category) depends on the mirror, which may arrive after the badge through sync, so
services/tallies.py groups those at read time against the current mirror.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy import DDL, Boolean, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from regdesk.domain.verdict import COUNTED_VERDICTS
from regdesk.store.models import Base
from regdesk.store.projections import projection_table


@projection_table
class TallyScanHour(Base):
    """Scans grouped by everything a tally table splits them by."""

    __tablename__ = "tally_scan_hours"
    local_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    utc_hour: Mapped[str] = mapped_column(String(13), primary_key=True)
    point_kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    point: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(16), primary_key=True)
    departure: Mapped[str] = mapped_column(String(64), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    counted: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[str] = mapped_column(String(27))
    last_at: Mapped[str] = mapped_column(String(27))


@projection_table
class TallyEntrant(Base):
    """Who entered the venue (valid, counted security scan) on which local day."""

    __tablename__ = "tally_entrants"
    who: Mapped[str] = mapped_column(String(64), primary_key=True)  # participant id, else badge serial
    local_day: Mapped[str] = mapped_column(String(10), primary_key=True)


@projection_table
class TallyEntrantDay(Base):
    """Distinct people entering per local day."""

    __tablename__ = "tally_entrant_days"
    local_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


@projection_table
class TallyFirstEntry(Base):
    __tablename__ = "tally_first_entries"
    who: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_day: Mapped[str] = mapped_column(String(10), index=True)


@projection_table
class TallyFirstEntryDay(Base):
    """People by the local day of their first entry: the cumulative distinct count is a prefix sum."""

    __tablename__ = "tally_first_entry_days"
    first_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


@projection_table
class TallyBadgeHour(Base):
    """Badges by hour, desk and clerk (no category: that depends on the mirror, see above)."""

    __tablename__ = "tally_badge_hours"
    utc_hour: Mapped[str] = mapped_column(String(13), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operator: Mapped[str] = mapped_column(String(120), primary_key=True)
    reissue: Mapped[bool] = mapped_column(Boolean, primary_key=True)  # issue number 2 or more
    n: Mapped[int] = mapped_column(Integer, default=0)


@projection_table
class TallyFirstBadge(Base):
    """When each participant first got a badge: collection progress and no-shows."""

    __tablename__ = "tally_first_badges"
    participant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_at: Mapped[str] = mapped_column(String(27))


TRIGGERS = (
    """
    CREATE TRIGGER IF NOT EXISTS tally_entrants_ai AFTER INSERT ON tally_entrants BEGIN
        INSERT INTO tally_entrant_days (local_day, n) VALUES (NEW.local_day, 1)
        ON CONFLICT (local_day) DO UPDATE SET n = n + 1;
        INSERT INTO tally_first_entries (who, first_day) VALUES (NEW.who, NEW.local_day)
        ON CONFLICT (who) DO UPDATE SET first_day = excluded.first_day WHERE excluded.first_day < first_day;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS tally_first_entries_ai AFTER INSERT ON tally_first_entries BEGIN
        INSERT INTO tally_first_entry_days (first_day, n) VALUES (NEW.first_day, 1)
        ON CONFLICT (first_day) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS tally_first_entries_au AFTER UPDATE OF first_day ON tally_first_entries
    WHEN OLD.first_day != NEW.first_day BEGIN
        UPDATE tally_first_entry_days SET n = n - 1 WHERE first_day = OLD.first_day;
        INSERT INTO tally_first_entry_days (first_day, n) VALUES (NEW.first_day, 1)
        ON CONFLICT (first_day) DO UPDATE SET n = n + 1;
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS tally_badges_ai AFTER INSERT ON badges BEGIN
        INSERT INTO tally_badge_hours (utc_hour, station_id, operator, reissue, n)
        VALUES (substr(NEW.issued_at, 1, 13), NEW.station_id, NEW.operator, NEW.issue_no > 1, 1)
        ON CONFLICT (utc_hour, station_id, operator, reissue) DO UPDATE SET n = n + 1;
        INSERT INTO tally_first_badges (participant_id, first_at) VALUES (NEW.participant_id, NEW.issued_at)
        ON CONFLICT (participant_id) DO UPDATE SET first_at = excluded.first_at WHERE excluded.first_at < first_at;
    END
    """,
)

_UPSERT_SCAN_HOUR = """
    INSERT INTO tally_scan_hours (local_day, utc_hour, point_kind, point, direction, departure, verdict, reason,
                                  counted, n, first_at, last_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (local_day, utc_hour, point_kind, point, direction, departure, verdict, reason, counted)
    DO UPDATE SET n = n + excluded.n, first_at = min(first_at, excluded.first_at),
                  last_at = max(last_at, excluded.last_at)
"""
_ADD_ENTRANT = "INSERT OR IGNORE INTO tally_entrants (who, local_day) VALUES (?, ?)"


def count_scans(dbapi_connection: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Add freshly inserted scan rows (columns in core._SCAN_COLUMNS order) to the counters."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    entrants: set[tuple[str, str]] = set()
    for (
        _event_id,
        scanned_at,
        local_day,
        _station,
        point_kind,
        point,
        direction,
        departure,
        verdict,
        reason,
        serial,
        participant_id,
        counted,
        _manual,
    ) in rows:
        key = (local_day, scanned_at[:13], point_kind, point, direction, departure, verdict, reason, counted)
        group = groups.get(key)
        if group is None:
            groups[key] = [1, scanned_at, scanned_at]
        else:
            group[0] += 1
            if scanned_at < group[1]:
                group[1] = scanned_at
            elif scanned_at > group[2]:
                group[2] = scanned_at
        if point_kind == "security" and verdict in _COUNTED and counted and (participant_id or serial):
            entrants.add((participant_id or serial, local_day))
    dbapi_connection.executemany(_UPSERT_SCAN_HOUR, [(*key, *group) for key, group in groups.items()])
    if entrants:
        dbapi_connection.executemany(_ADD_ENTRANT, sorted(entrants))


# After the whole schema exists (the triggers name core's tables), in the same create_all.
_COUNTED = frozenset(COUNTED_VERDICTS)

for _sql in TRIGGERS:
    event.listen(Base.metadata, "after_create", DDL(_sql).execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]


# Recomputing every counter from the projection tables in one grouped pass each: for a database
# filled in bulk with the triggers dropped (benchmarks, imports), or one created before the
# counters existed. Gives exactly what the triggers would have produced.
RECOMPUTE = (
    "DELETE FROM tally_scan_hours",
    "DELETE FROM tally_entrants",
    "DELETE FROM tally_entrant_days",
    "DELETE FROM tally_first_entries",
    "DELETE FROM tally_first_entry_days",
    "DELETE FROM tally_badge_hours",
    "DELETE FROM tally_first_badges",
    """INSERT INTO tally_scan_hours (local_day, utc_hour, point_kind, point, direction, departure, verdict, reason,
                                     counted, n, first_at, last_at)
       SELECT local_day, substr(scanned_at, 1, 13), point_kind, point, coalesce(direction, ''),
              coalesce(departure, ''), verdict, coalesce(reason, ''), counted, count(*), min(scanned_at),
              max(scanned_at)
       FROM scans GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9""",
    """INSERT INTO tally_entrants (who, local_day)
       SELECT DISTINCT CASE WHEN participant_id != '' THEN participant_id ELSE serial END, local_day FROM scans
       WHERE point_kind = 'security' AND verdict IN ('valid', 'temporary') AND counted
         AND (participant_id != '' OR serial != '')""",
    "INSERT INTO tally_entrant_days (local_day, n) SELECT local_day, count(*) FROM tally_entrants GROUP BY local_day",
    "INSERT INTO tally_first_entries (who, first_day) SELECT who, min(local_day) FROM tally_entrants GROUP BY who",
    """INSERT INTO tally_first_entry_days (first_day, n)
       SELECT first_day, count(*) FROM tally_first_entries GROUP BY first_day""",
    """INSERT INTO tally_badge_hours (utc_hour, station_id, operator, reissue, n)
       SELECT substr(issued_at, 1, 13), station_id, operator, issue_no > 1, count(*) FROM badges GROUP BY 1, 2, 3, 4""",
    """INSERT INTO tally_first_badges (participant_id, first_at)
       SELECT participant_id, min(issued_at) FROM badges GROUP BY participant_id""",
)
TRIGGER_NAMES = ("tally_entrants_ai", "tally_first_entries_ai", "tally_first_entries_au", "tally_badges_ai")


def drop_triggers(dbapi_connection: sqlite3.Connection) -> None:
    """Before a bulk load; call `recompute(...)` afterwards, which puts them back."""
    for name in TRIGGER_NAMES:
        dbapi_connection.execute(f"DROP TRIGGER IF EXISTS {name}")


def recompute(dbapi_connection: sqlite3.Connection) -> None:
    """Recompute every counter from the projections and (re)create the triggers, in one transaction:
    the caller's if one is open, else its own, which takes the write lock first."""
    own = not dbapi_connection.in_transaction
    if own:
        dbapi_connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in RECOMPUTE:
            dbapi_connection.execute(statement)
        for statement in TRIGGERS:
            dbapi_connection.execute(statement)
    except BaseException:
        if own:
            dbapi_connection.rollback()
        raise
    if own:
        dbapi_connection.commit()
