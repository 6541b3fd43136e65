"""The append-only event log.

`append` records a new local event, chained to the station's previous one, and applies it to
the projections in the caller's transaction, so an event and its effects commit together or not
at all. Foreign events enter only through services/merge.py, after their chain is verified.
This module is the one place that writes rows into `events`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from regdesk.domain import chain
from regdesk.domain.events import Event, canonical_json, format_utc, parse_utc
from regdesk.store import projections
from regdesk.store.db import driver
from regdesk.store.models import EventRow

# The columns an event travels with (hub rows, bundle lines), in this order. `hash` is not among
# them: every receiver computes it.
TRAVEL_COLUMNS = (
    "id",
    "station_id",
    "seq",
    "recorded_at",
    "operator",
    "operator_role",
    "kind",
    "payload",
    "prev_hash",
    "seal",
)
STORED_COLUMNS = (*TRAVEL_COLUMNS, "hash")
INSERT_SQL = (
    f"INSERT INTO events ({', '.join(STORED_COLUMNS)}) VALUES ({', '.join('?' * len(STORED_COLUMNS))}) "
    "ON CONFLICT(id) DO NOTHING"
)

_EVENTS = EventRow.__table__
# The station's newest event: its seq and hash, answered from the (station_id, seq) unique index.
_HEAD = (
    select(_EVENTS.c.seq, _EVENTS.c.hash)
    .where(_EVENTS.c.station_id == bindparam("station_id"))
    .order_by(_EVENTS.c.seq.desc())
    .limit(1)
)


def to_event(row: Any) -> Event:
    return Event(
        row.id,
        row.station_id,
        row.seq,
        parse_utc(row.recorded_at),
        row.operator,
        row.kind,
        orjson.loads(row.payload),
        row.operator_role,
    )


def new_event_id(at: datetime) -> str:
    """A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds from the event's own time, then random.

    Time-ordered ids keep the unique index on events.id (and the hub's) growing at one end like
    the log itself: with random UUIDv4 ids every sync chunk touched nearly every page of that
    index, and each station wrote ten times more to disk than it took in.
    """
    millis = int(at.timestamp() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64 | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def head(session: Session, station_id: str) -> tuple[int, str]:
    """(seq, hash) of the station's newest event in this log; (0, genesis) when it has none."""
    row = session.connection().execute(_HEAD, {"station_id": station_id}).first()
    return (row.seq, row.hash) if row is not None else (0, chain.genesis_hash(station_id))


def append(
    session: Session,
    *,
    station_id: str,
    operator: str,
    operator_role: str,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
) -> Event:
    """Record a new event of this station. The caller's transaction must hold the write lock
    (Station.transaction), so the head read here is still the head when the row is written."""
    seq, prev_hash = head(session, station_id)
    event = Event(new_event_id(at), station_id, seq + 1, at, operator, str(kind), payload, operator_role)
    payload_json = canonical_json(payload)
    recorded_at = format_utc(at)
    own_hash = chain.event_hash(
        event.id, station_id, event.seq, recorded_at, operator, operator_role, event.kind, payload_json, prev_hash
    )
    driver(session).execute(
        INSERT_SQL,
        (
            event.id,
            station_id,
            event.seq,
            recorded_at,
            operator,
            operator_role,
            event.kind,
            payload_json,
            prev_hash,
            None,
            own_hash,
        ),
    )
    projections.apply(session, event)
    return event


def insert_verified(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert rows (STORED_COLUMNS order) that merge has verified. Caller applies projections."""
    if rows:
        driver(session).executemany(INSERT_SQL, rows)


def seal_event(session: Session, event_id: str, signature: str) -> None:
    session.connection().execute(
        text("UPDATE events SET seal = :seal WHERE id = :id AND seal IS NULL"), {"seal": signature, "id": event_id}
    )


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(EventRow)).scalar_one()
