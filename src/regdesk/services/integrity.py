"""`regdesk check`: is this station database whole and self-consistent?

1. SQLite's own PRAGMA integrity_check.
2. Event log invariants: every event id once; every (station id, sequence number) once; this
   station's own sequence numbers run 1..n without a gap (it assigns them itself, inside the same
   transaction as the event, so a gap means a lost event); payloads are JSON.
3. Projections equal a rebuild from the log: the database is copied to a temporary file, every
   projection is recomputed there from the events, and the tables are compared row by row
   (see `_compare_with_rebuild` for how an order-dependent projection is told apart).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Integer, Table
from sqlalchemy.orm import Session

from regdesk.services.backup import copy_database, integrity
from regdesk.services.keys import key_file_problems
from regdesk.services.station import SIGNING_ROLES
from regdesk.store.queries import dbfile


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

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "integrity": self.integrity,
            "events": self.events,
            "stations": self.stations,
            "tables_compared": self.tables_compared,
            "problems": self.problems,
            "notes": self.notes,
        }


def projection_columns() -> dict[str, list[str]]:
    """Projection table -> columns to compare (surrogate integer keys left out: a rebuild renumbers them)."""
    from regdesk.store import projections

    tables: dict[str, list[str]] = {}
    for model in projections._PROJECTION_TABLES:
        # Typed as a FromClause; every projection model names a __tablename__, so it is a Table.
        table = cast(Table, model.__table__)
        pk = list(table.primary_key.columns)
        surrogate = {c.name for c in pk if len(pk) == 1 and isinstance(c.type, Integer)}
        tables[table.name] = [c.name for c in table.columns if c.name not in surrogate]
    return tables


def _log_invariants(conn: Any, own_station_id: str | None, report: CheckReport) -> None:
    report.events = dbfile.event_count(conn)
    report.stations = dbfile.station_count(conn)
    for event_id, n in dbfile.duplicate_ids(conn):
        report.problems.append(f"event {event_id} is in the log {n} times")
    for station_id, seq, n in dbfile.duplicate_seqs(conn):
        report.problems.append(f"station {station_id[:8]} sequence number {seq} is used by {n} events")
    bad_json = dbfile.invalid_payloads(conn)
    if bad_json:
        report.problems.append(f"{bad_json} events have a payload that is not JSON")
    for station_id, n, low, high in dbfile.seq_ranges(conn):
        if n == high and low == 1:
            continue
        message = f"station {station_id[:8]}: {n} events but sequence numbers {low}..{high}"
        if station_id == own_station_id:
            report.problems.append(message + " (this station's own events have a gap)")
        else:
            report.notes.append(message + " (the rest is still to come by sync)")


def _replay_in_arrival_order(session: Session) -> None:
    """What the station itself did: every event applied in the order it arrived (local_order)."""
    from regdesk.store import projections

    projections.rebuild(session, arrival_order=True)


def _rebuilt_copy(db_path: Path, folder: Path, name: str, replay: Callable[[Session], object]) -> Path:
    from regdesk.store.db import open_database, write_transaction

    copy = folder / name
    copy_database(db_path, copy)
    engine, sessions = open_database(copy)
    try:
        with write_transaction(sessions) as session:
            replay(session)
    finally:
        engine.dispose()
    return copy


def _differences(db_path: Path, copy: Path) -> dict[str, tuple[int, int]]:
    """table -> (rows only in the station, rows only in the copy), for tables that differ."""
    return dbfile.differences(db_path, copy, projection_columns())


def _compare_with_rebuild(db_path: Path, report: CheckReport) -> None:
    """Projections must equal `projections.rebuild()` (events replayed by recorded time).

    When they do not, the events are also replayed in arrival order: if that matches, nothing was
    lost or half-applied, but a projection depends on the order events are applied (handlers must
    not: sync delivers in any order), which is reported as a note for its owner. If even the
    arrival-order replay differs, the projections do not follow from the log: a problem.
    """
    from regdesk.store import projections

    report.tables_compared = len(projection_columns())
    with tempfile.TemporaryDirectory(prefix="regdesk-check-") as tmp:
        try:
            by_time = _differences(db_path, _rebuilt_copy(db_path, Path(tmp), "by-time.db", projections.rebuild))
            if not by_time:
                return
            by_arrival = _differences(
                db_path, _rebuilt_copy(db_path, Path(tmp), "by-arrival.db", _replay_in_arrival_order)
            )
        except Exception as exc:  # an event the handlers cannot apply: the log does not rebuild
            report.problems.append(f"the projections cannot be rebuilt from the log: {type(exc).__name__}: {exc}")
            return
    for table, (extra, missing) in by_arrival.items():
        report.problems.append(
            f"projection {table} differs from a rebuild from the log: "
            f"{extra} rows not derived from events, {missing} rows missing"
        )
    for table, (extra, missing) in by_time.items():
        if table not in by_arrival:
            report.notes.append(
                f"projection {table} depends on the order events are applied: a rebuild by "
                f"recorded time gives {missing} other rows than arrival order ({extra} differ)"
            )


def check_database(db_path: Path | str, *, own_station_id: str | None = None, rebuild: bool = True) -> CheckReport:
    db_path = Path(db_path)
    report = CheckReport(integrity=integrity(db_path))
    if report.integrity != "ok":
        return report
    with dbfile.read_only(db_path) as conn:
        if own_station_id is None:
            own_station_id = dbfile.own_station_id(conn)
        _log_invariants(conn, own_station_id, report)
    if rebuild:
        _compare_with_rebuild(db_path, report)
    return report


def check_station(data_dir: Path | str, *, rebuild: bool = True) -> CheckReport:
    data_dir = Path(data_dir)
    report = check_database(data_dir / "station.db", rebuild=rebuild)
    if report.integrity == "ok":
        meta = dbfile.meta_values(data_dir / "station.db", ("station_id", "role", "active_key_id"))
        if "station_id" not in meta:
            report.problems.append(f"{data_dir / 'station.db'} holds no station (an interrupted init?)")
        role = meta.get("role", "desk")
        report.problems.extend(key_file_problems(data_dir, role))
        active = data_dir / "keys" / f"{meta.get('active_key_id')}.key"
        if role in SIGNING_ROLES and meta.get("active_key_id") and not active.exists():
            report.problems.append(
                f"{active} (this desk's signing key) is missing: no badge can be issued; put it "
                f"back, or have a supervisor start a new key (regdesk rotate-key)"
            )
    return report
