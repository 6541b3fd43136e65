"""`regdesk check`: is this station database whole and self-consistent?

1. SQLite's own PRAGMA integrity_check.
2. Event log invariants: every event id once; every (station id, sequence number) once; this
   station's own sequence numbers run 1..n without a gap (it assigns them itself, inside the same
   transaction as the event, so a gap means a lost event); payloads are JSON.
3. Projections equal a rebuild from the log: the database is copied to a temporary file, every
   projection is recomputed there from the events, and the tables are compared row by row.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Integer

from regdesk.services.backup import copy_database, integrity
from regdesk.services.keys import key_file_problems


@dataclass
class CheckReport:
    integrity: str
    events: int = 0
    stations: int = 0
    tables_compared: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and not self.problems

    def as_json(self) -> dict:
        return {"ok": self.ok, "integrity": self.integrity, "events": self.events, "stations": self.stations,
                "tables_compared": self.tables_compared, "problems": self.problems, "notes": self.notes}


def _projection_columns() -> dict[str, list[str]]:
    """Projection table -> columns to compare (surrogate integer keys left out: a rebuild renumbers them)."""
    from regdesk.store import projections

    tables: dict[str, list[str]] = {}
    for model in projections._PROJECTION_TABLES:
        table = model.__table__
        pk = list(table.primary_key.columns)
        surrogate = {c.name for c in pk if len(pk) == 1 and isinstance(c.type, Integer)}
        tables[table.name] = [c.name for c in table.columns if c.name not in surrogate]
    return tables


def _log_invariants(conn: sqlite3.Connection, own_station_id: str | None, report: CheckReport) -> None:
    report.events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    report.stations = conn.execute("SELECT count(DISTINCT station_id) FROM events").fetchone()[0]
    dup_ids = conn.execute("SELECT id, count(*) FROM events GROUP BY id HAVING count(*) > 1 LIMIT 5").fetchall()
    for event_id, n in dup_ids:
        report.problems.append(f"event {event_id} is in the log {n} times")
    dup_seq = conn.execute("SELECT station_id, seq, count(*) FROM events GROUP BY station_id, seq "
                           "HAVING count(*) > 1 LIMIT 5").fetchall()
    for station_id, seq, n in dup_seq:
        report.problems.append(f"station {station_id[:8]} sequence number {seq} is used by {n} events")
    bad_json = conn.execute("SELECT count(*) FROM events WHERE json_valid(payload) = 0").fetchone()[0]
    if bad_json:
        report.problems.append(f"{bad_json} events have a payload that is not JSON")
    for station_id, n, low, high in conn.execute(
            "SELECT station_id, count(*), min(seq), max(seq) FROM events GROUP BY station_id").fetchall():
        if n == high and low == 1:
            continue
        message = f"station {station_id[:8]}: {n} events but sequence numbers {low}..{high}"
        if station_id == own_station_id:
            report.problems.append(message + " (this station's own events have a gap)")
        else:
            report.notes.append(message + " (the rest is still to come by sync)")


def _compare_with_rebuild(db_path: Path, report: CheckReport) -> None:
    from regdesk.store import projections
    from regdesk.store.db import open_database

    with tempfile.TemporaryDirectory(prefix="regdesk-check-") as tmp:
        copy = Path(tmp) / "rebuild.db"
        copy_database(db_path, copy)
        engine, sessions = open_database(copy)
        try:
            with sessions.begin() as session:
                projections.rebuild(session)
        finally:
            engine.dispose()
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            conn.execute("ATTACH DATABASE ? AS rebuilt", (str(copy),))
            for table, columns in _projection_columns().items():
                cols = ", ".join(f'"{c}"' for c in columns)
                extra = conn.execute(f'SELECT count(*) FROM (SELECT {cols} FROM main."{table}" '
                                     f'EXCEPT SELECT {cols} FROM rebuilt."{table}")').fetchone()[0]
                missing = conn.execute(f'SELECT count(*) FROM (SELECT {cols} FROM rebuilt."{table}" '
                                       f'EXCEPT SELECT {cols} FROM main."{table}")').fetchone()[0]
                report.tables_compared += 1
                if extra or missing:
                    report.problems.append(f"projection {table} differs from a rebuild from the log: "
                                           f"{extra} rows not derived from events, {missing} rows missing")
            conn.execute("DETACH DATABASE rebuilt")
        finally:
            conn.close()


def check_database(db_path: Path | str, *, own_station_id: str | None = None, rebuild: bool = True) -> CheckReport:
    db_path = Path(db_path)
    report = CheckReport(integrity=integrity(db_path))
    if report.integrity != "ok":
        return report
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        if own_station_id is None:
            row = conn.execute("SELECT value FROM meta WHERE key = 'station_id'").fetchone()
            own_station_id = row[0] if row else None
        _log_invariants(conn, own_station_id, report)
    finally:
        conn.close()
    if rebuild:
        _compare_with_rebuild(db_path, report)
    return report


def check_station(data_dir: Path | str, *, rebuild: bool = True) -> CheckReport:
    data_dir = Path(data_dir)
    report = check_database(data_dir / "station.db", rebuild=rebuild)
    if report.integrity == "ok":
        conn = sqlite3.connect(f"file:{data_dir / 'station.db'}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'role'").fetchone()
        finally:
            conn.close()
        report.problems.extend(key_file_problems(data_dir, row[0] if row else "desk"))
    return report
