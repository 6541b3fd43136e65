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

from regdesk.domain.events import Event
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
                apply(session, event)


def projection_table(model: _Model) -> _Model:
    """Mark an ORM model as derived data that `rebuild` may wipe and recompute."""
    _PROJECTION_TABLES.append(model)
    return model


def apply(session: Session, event: Event) -> None:
    handler = _HANDLERS.get(event.kind)
    if handler is not None:
        handler(session, event)


def rebuild(session: Session) -> int:
    """Recompute every projection from the log, in recorded order. Returns events replayed."""
    from sqlalchemy import select

    from regdesk.store.eventlog import to_event
    from regdesk.store.models import EventRow

    for model in _PROJECTION_TABLES:
        session.execute(delete(model))
    replayed = 0
    rows = session.execute(select(EventRow).order_by(EventRow.recorded_at, EventRow.id)).scalars()
    for row in rows:
        apply(session, to_event(row))
        replayed += 1
    return replayed


# Register the handlers (import side effects, kept in one place).
from regdesk.store.projections import core as _core  # noqa: E402,F401
from regdesk.store.projections import passes as _passes  # noqa: E402,F401
from regdesk.store.projections import tally_counts as _tally_counts  # noqa: E402,F401
