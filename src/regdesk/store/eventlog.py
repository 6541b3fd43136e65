"""The append-only event log.

`append` records a new local event and applies it to the projections in the caller's
transaction, so an event and its effects commit together or not at all. `ingest` is the sync
side: it inserts foreign events by id (set union) and ignores ones already present.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from regdesk.domain.events import Event, format_utc, parse_utc
from regdesk.store import projections
from regdesk.store.models import EventRow


def _to_event(row: EventRow) -> Event:
    return Event(
        id=row.id,
        station_id=row.station_id,
        seq=row.seq,
        recorded_at=parse_utc(row.recorded_at),
        operator=row.operator,
        kind=row.kind,
        payload=json.loads(row.payload),
    )


def event_to_dict(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "station_id": event.station_id,
        "seq": event.seq,
        "recorded_at": format_utc(event.recorded_at),
        "operator": event.operator,
        "kind": event.kind,
        "payload": event.payload,
    }


def event_from_dict(data: dict[str, Any]) -> Event:
    return Event(
        id=str(uuid.UUID(data["id"])),
        station_id=str(data["station_id"]),
        seq=int(data["seq"]),
        recorded_at=parse_utc(data["recorded_at"]),
        operator=str(data["operator"]),
        kind=str(data["kind"]),
        payload=dict(data["payload"]),
    )


# Built once and run as Core statements on the session's connection (same transaction): every
# recorded event goes through these, and building an ORM statement per call cost more than the
# SQLite work itself (scan points record one event per badge scanned). max(seq) is answered from
# the (station_id, seq) unique index without a scan, also at millions of events.
_EVENTS = EventRow.__table__
_NEXT_SEQ = select(func.max(_EVENTS.c.seq)).where(_EVENTS.c.station_id == bindparam("station_id"))
_INSERT_EVENT = sqlite_insert(_EVENTS).on_conflict_do_nothing(index_elements=["id"])


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


def next_seq(session: Session, station_id: str) -> int:
    current = session.connection().execute(_NEXT_SEQ, {"station_id": station_id}).scalar_one_or_none()
    return (current or 0) + 1


def append(
    session: Session,
    *,
    station_id: str,
    operator: str,
    kind: str,
    payload: dict[str, Any],
    at: datetime,
) -> Event:
    event = Event(
        id=new_event_id(at),
        station_id=station_id,
        seq=next_seq(session, station_id),
        recorded_at=at,
        operator=operator,
        kind=str(kind),
        payload=payload,
    )
    _insert(session, event)
    projections.apply(session, event)
    return event


def _insert(session: Session, event: Event) -> bool:
    row = {
        "id": event.id,
        "station_id": event.station_id,
        "seq": event.seq,
        "recorded_at": format_utc(event.recorded_at),
        "operator": event.operator,
        "kind": event.kind,
        "payload": json.dumps(event.payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
    }
    return session.connection().execute(_INSERT_EVENT, row).rowcount == 1


def ingest(session: Session, events: Iterable[Event]) -> int:
    """Add events from another station; returns how many were new. Idempotent."""
    added = 0
    for event in events:
        if _insert(session, event):
            projections.apply(session, event)
            added += 1
    return added


def iter_events(session: Session, *, after_local_order: int = 0, kinds: Iterable[str] | None = None,
                batch: int = 2000) -> Iterator[tuple[int, Event]]:
    cursor = after_local_order
    kinds = list(kinds) if kinds else None
    while True:
        stmt = select(EventRow).where(EventRow.local_order > cursor).order_by(EventRow.local_order).limit(batch)
        if kinds:
            stmt = stmt.where(EventRow.kind.in_(kinds))
        rows = session.execute(stmt).scalars().all()
        if not rows:
            return
        for row in rows:
            yield row.local_order, _to_event(row)
        cursor = rows[-1].local_order


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(EventRow)).scalar_one()
