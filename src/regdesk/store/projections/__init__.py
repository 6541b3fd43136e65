"""Projections: tables derived from the event log.

Each event kind has at most one handler. Handlers must be commutative and idempotent with
respect to other events (sync delivers events in any order), e.g. a revocation may arrive
before the badge it revokes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import delete
from sqlalchemy.orm import Session

from regdesk.domain.events import Event, EventKind
from regdesk.store.models import Base

Handler = Callable[[Session, Event], None]
_HANDLERS: dict[str, Handler] = {}
_PROJECTION_TABLES: list[type[Base]] = []
_Model = TypeVar("_Model", bound=type[Base])


def handles(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if kind in _HANDLERS:
            raise RuntimeError(f"two projection handlers for {kind}")
        _HANDLERS[kind] = fn
        return fn

    return register


BatchHandler = Callable[[Session, list[Event]], None]
_BATCH_HANDLERS: dict[str, BatchHandler] = {}


def handles_batch(kind: str) -> Callable[[BatchHandler], BatchHandler]:
    """Register a handler that takes a list of events of one kind (sync merges thousands at once).

    It is also the single-event handler (called with a one-element list), so there is only one
    implementation per kind.
    """

    def register(fn: BatchHandler) -> BatchHandler:
        handles(kind)(lambda session, event: fn(session, [event]))
        _BATCH_HANDLERS[kind] = fn
        return fn

    return register


def apply_many(session: Session, events: list[Event]) -> None:
    """Apply a batch of events. Handlers are order-independent, so the batch is grouped by kind."""
    by_kind: dict[str, list[Event]] = {}
    for event in events:
        by_kind.setdefault(event.kind, []).append(event)
    for kind, group in by_kind.items():
        batch = _BATCH_HANDLERS.get(kind)
        if batch is not None:
            batch(session, group)
        else:
            for event in group:
                _apply_one(session, event)
    if EventKind.STATION_REVOKED in by_kind:
        _enforce_cut_offs(session)


def projection_table(model: _Model) -> _Model:
    """Mark an ORM model as derived data that `rebuild` may wipe and recompute."""
    _PROJECTION_TABLES.append(model)
    return model


def apply(session: Session, event: Event) -> None:
    _apply_one(session, event)
    if event.kind == EventKind.STATION_REVOKED:
        _enforce_cut_offs(session)


def _apply_one(session: Session, event: Event) -> None:
    handler = _HANDLERS.get(event.kind)
    if handler is not None:
        handler(session, event)


# Who a station is and whether its key was revoked: applied before anything else in a rebuild,
# because which events count depends on them (handlers commute, so this changes nothing else).
ENROLMENT_KINDS = frozenset({EventKind.STATION_CREATED, EventKind.STATION_CERTIFIED, EventKind.STATION_REVOKED})


def _enforce_cut_offs(session: Session) -> None:
    """A revocation just applied: if this log already holds events the revoked station recorded
    after its cut-off (they arrived before the revocation did), the projections are recomputed
    without them. The log keeps them; they no longer count, here as at every other station."""
    from regdesk.store.queries import events as event_queries

    if event_queries.any_beyond_cut_off(session):
        rebuild(session)


def rebuild(session: Session, *, arrival_order: bool = False) -> int:
    """Recompute every projection from the log, in recorded order (or in the order the events
    arrived here), leaving out what revoked stations recorded after their cut-off. Returns the
    events replayed."""
    from sqlalchemy import select

    from regdesk.store import enrolment
    from regdesk.store.eventlog import to_event
    from regdesk.store.models import EventRow

    for model in _PROJECTION_TABLES:
        session.execute(delete(model))
    enrolment_rows = session.execute(
        select(EventRow).where(EventRow.kind.in_(ENROLMENT_KINDS)).order_by(EventRow.local_order)
    ).scalars()
    for row in enrolment_rows:
        _apply_one(session, to_event(row))
    cut = enrolment.cut_offs(session)
    replayed = 0
    order = (EventRow.local_order,) if arrival_order else (EventRow.recorded_at, EventRow.id)
    # The order first, then the events a chunk at a time, each query read to its end: the whole log
    # is never held as ORM objects at once (600,000 events at 100,000 participants), and no read
    # stays open on the connection while the projections are written (a cursor left open across
    # those writes fails them with "database table is locked" once the log outgrows one fetch).
    keys = list(session.execute(select(EventRow.local_order).order_by(*order)).scalars())
    for start in range(0, len(keys), REBUILD_CHUNK):
        wanted = keys[start : start + REBUILD_CHUNK]
        found = session.execute(select(EventRow).where(EventRow.local_order.in_(wanted))).scalars().all()
        by_order = {row.local_order: row for row in found}
        for key in wanted:
            row = by_order[key]
            if row.kind in ENROLMENT_KINDS:
                replayed += 1
                continue
            if row.station_id in cut and row.seq > cut[row.station_id]:
                continue
            _apply_one(session, to_event(row))
            replayed += 1
    return replayed


REBUILD_CHUNK = 900  # events a query (under SQLite's limit of host parameters in older builds)


# Register the handlers (import side effects, kept in one place).
from regdesk.store.projections import core as _core  # noqa: E402,F401
from regdesk.store.projections import passes as _passes  # noqa: E402,F401
from regdesk.store.projections import tally_counts as _tally_counts  # noqa: E402,F401
