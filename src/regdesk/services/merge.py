"""Merging foreign events into a station: the one code path shared by the hub and by bundles.

A merge is a set union by event id: events already present are ignored, new ones are inserted
and applied to the projections in the caller's transaction. It does the same as
`eventlog.ingest`, in bulk (one executemany per chunk, projections applied per kind), because a
station joining late has to take in hundreds of thousands of events.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy import text
from sqlalchemy.orm import Session

from regdesk.errors import RegdeskError
from regdesk.domain.events import Event, format_utc, parse_utc
from regdesk.store import projections

# SQLite allows 999 host parameters per statement in old builds; stay under it.
_IN_CHUNK = 900
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_INSERT_SQL = (
    "INSERT INTO events (id, station_id, seq, recorded_at, operator, kind, payload) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING"
)


class MergeError(RegdeskError, ValueError):
    """Incoming events that cannot be merged; nothing of the batch is applied."""


class BadEvent(MergeError):
    def __init__(self, field_name: str, message: str) -> None:
        self.field_name = field_name
        super().__init__(f"field {field_name!r}: {message}")


class Incoming(NamedTuple):
    """An event as it travels, with the exact texts that are stored (payload JSON, UTC time)."""

    event: Event
    payload_json: str
    recorded_at_text: str = ""

    @property
    def stored_time(self) -> str:
        return self.recorded_at_text or format_utc(self.event.recorded_at)


@dataclass
class MergeResult:
    received: int = 0
    added: list[Event] = field(default_factory=list)
    # local_order range the new rows occupy: contiguous, because they are inserted while this
    # transaction holds SQLite's write lock (no other writer can interleave).
    first_local_order: int | None = None
    last_local_order: int | None = None

    @property
    def added_count(self) -> int:
        return len(self.added)


def canonical_json(payload: dict[str, Any]) -> str:
    """The exact payload text eventlog stores, so every station holds byte-identical rows."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# The columns an event travels with (hub rows, bundle lines), in this order.
EVENT_COLUMNS = ("id", "station_id", "seq", "recorded_at", "operator", "kind", "payload")


def incoming_from_dict(data: Any) -> Incoming:
    """Validate one travelling event (bundle line). Raises BadEvent naming the field."""
    if not isinstance(data, dict):
        raise BadEvent("(event)", "must be a JSON object")
    for name in EVENT_COLUMNS:
        if name not in data:
            raise BadEvent(name, "is missing")
    return incoming_from_row(tuple(data[name] for name in EVENT_COLUMNS))


def incoming_from_row(row: Sequence[Any]) -> Incoming:
    """Validate one travelling event given as (id, station_id, seq, recorded_at, operator, kind,
    payload), the payload as a dict or as JSON text (hub rows). Raises BadEvent naming the field."""
    event_id, station_id, seq, recorded_text, operator, kind, payload = row
    if type(event_id) is not str or not _CANONICAL_UUID.fullmatch(event_id):  # the common case: no parse
        try:
            event_id = str(uuid.UUID(str(event_id)))
        except ValueError:
            raise BadEvent("id", f"{str(event_id)[:60]!r} is not a UUID") from None
    if type(seq) is not int or seq < 1:
        raise BadEvent("seq", "must be a whole number, 1 or more")
    for name, value in (("station_id", station_id), ("kind", kind), ("recorded_at", recorded_text)):
        if type(value) is not str or not value:
            raise BadEvent(name, "must be a non-empty string")
    if type(operator) is not str:
        raise BadEvent("operator", "must be a string")
    try:
        recorded_at = parse_utc(recorded_text)  # exactly the stored shape, nothing else
    except ValueError:
        raise BadEvent("recorded_at", f"{recorded_text[:40]!r} is not a UTC time like 2017-12-01T19:05:00.000000Z"
                       ) from None
    if type(payload) is str:  # hub rows carry the payload as the origin station's JSON text
        try:
            payload_json, payload = payload, orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise BadEvent("payload", "is not valid JSON") from None
        if type(payload) is not dict:
            raise BadEvent("payload", "must be a JSON object")
    elif isinstance(payload, dict):
        payload_json = canonical_json(payload)
    else:
        raise BadEvent("payload", "must be a JSON object")
    event = Event(event_id, station_id, seq, recorded_at, operator, kind, payload)
    return Incoming(event, payload_json, recorded_text)


def _existing_by_station_seq(session: Session, items: Sequence[Incoming]) -> dict[tuple[str, int], str]:
    """(station_id, seq) -> id of the events this station already holds among `items`."""
    wanted: dict[str, list[int]] = {}
    for item in items:
        wanted.setdefault(item.event.station_id, []).append(item.event.seq)
    found: dict[tuple[str, int], str] = {}
    for station_id, seqs in wanted.items():
        seqs = sorted(set(seqs))
        for start in range(0, len(seqs), _IN_CHUNK):
            chunk = seqs[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = session.connection().exec_driver_sql(
                f"SELECT seq, id FROM events WHERE station_id = ? AND seq IN ({marks})", (station_id, *chunk)
            ).all()
            found.update({(station_id, seq): event_id for seq, event_id in rows})
    return found


def merge(session: Session, incoming: Iterable[Incoming]) -> MergeResult:
    """Insert the events this station lacks and apply them to the projections.

    Runs inside the caller's transaction; on any error the caller rolls everything back.
    """
    result = MergeResult()
    batch: dict[str, Incoming] = {}
    for item in incoming:
        result.received += 1
        batch.setdefault(item.event.id, item)  # duplicates within one delivery
    if not batch:
        return result
    items = list(batch.values())
    existing = _existing_by_station_seq(session, items)
    new: list[Incoming] = []
    for item in items:
        e = item.event
        held = existing.get((e.station_id, e.seq))
        if held is None:
            new.append(item)
        elif held != e.id:
            raise MergeError(
                f"event {e.id} ({e.kind}) says it is number {e.seq} of station {e.station_id}, but this station "
                f"already holds a different event {held} with that number. The other station's database was "
                "probably restored from an old copy without taking a new station id (see `regdesk restore`); "
                "nothing was merged.")
    if not new:
        return result
    seen: dict[tuple[str, int], str] = {}
    for item in new:
        e = item.event
        other = seen.setdefault((e.station_id, e.seq), e.id)
        if other != e.id:
            raise MergeError(f"events {other} and {e.id} both say they are number {e.seq} of station "
                             f"{e.station_id}; the delivery is corrupt and nothing was merged")
    rows = [(i.event.id, i.event.station_id, i.event.seq, i.stored_time, i.event.operator,
             i.event.kind, i.payload_json) for i in new]
    conn = session.connection()
    # Insert one row at a time until one is really inserted: from then on this transaction holds
    # SQLite's write lock, so everything up to max(local_order) at the end is ours.
    position = 0
    while position < len(rows) and result.first_local_order is None:
        inserted = conn.exec_driver_sql(_INSERT_SQL, rows[position])
        if inserted.rowcount == 1:
            result.first_local_order = inserted.lastrowid
        position += 1
    if result.first_local_order is None:
        return result  # another process merged the same events a moment ago
    if position < len(rows):
        conn.connection.driver_connection.executemany(_INSERT_SQL, rows[position:])
    result.last_local_order = conn.execute(text("SELECT max(local_order) FROM events")).scalar_one()
    if result.last_local_order - result.first_local_order + 1 == len(rows) - position + 1:
        result.added = [i.event for i in new[position - 1 :]]
    else:
        # Some were inserted concurrently by another process (a CLI sync while the TUI syncs):
        # only the rows in our block are ours to apply.
        ours: set[str] = set()
        ids = [r[0] for r in rows]
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            ours.update(conn.exec_driver_sql(
                f"SELECT id FROM events WHERE local_order >= ? AND id IN ({','.join('?' * len(chunk))})",
                (result.first_local_order, *chunk)).scalars())
        result.added = [i.event for i in new if i.event.id in ours]
    projections.apply_many(session, result.added)
    return result
