"""The audit trail's page query: events newest first under the supervisor's filters, with bulky lists cut
out of their payloads in SQL (an import's rows would otherwise be read for every page)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, case, func, or_, select
from sqlalchemy.orm import Session

from regdesk.store.models import EventRow


@dataclass(frozen=True)
class AuditQuery:
    """What a page of the audit asks for; each field narrows the page, an empty one does not."""

    kind: str = ""  # an event kind, exactly
    kind_prefix: str = ""  # or the start of one
    operator_contains: str = ""  # lower case
    station_ids: Sequence[str] | None = None
    recorded_from: str = ""  # UTC, inclusive
    recorded_until: str = ""  # UTC, exclusive
    text_contains: Sequence[str] = ()  # any of these in the payload
    about_participants: Sequence[str] = ()  # or an event about one of these people (or their conflicts)
    before: tuple[str, int] | None = None  # (recorded_at, local_order) of the last row already shown
    limit: int = 50
    bulky_lists: Mapping[str, Sequence[str]] = field(default_factory=dict)  # kind -> payload keys to count, not read


def _contains(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def station_created_names(session: Session) -> Sequence[Row[str, Any]]:
    """(station id, name) from every station_created event, oldest first."""
    return list(
        session.execute(
            select(EventRow.station_id, func.json_extract(EventRow.payload, "$.name"))
            .where(EventRow.kind == "station_created")
            .order_by(EventRow.recorded_at)
        )
    )


def page(session: Session, q: AuditQuery) -> list[tuple[Any, ...]]:
    """(local_order, id, station_id, recorded_at, operator, kind, payload without its bulky lists, then the
    length of each bulky list in `bulky_lists` order) of the matching events, newest first."""
    trimmed = case(
        *[
            (EventRow.kind == kind, func.json_remove(EventRow.payload, *[f"$.{k}" for k in keys]))
            for kind, keys in q.bulky_lists.items()
        ],
        else_=EventRow.payload,
    )
    lengths = [
        case((EventRow.kind == kind, func.json_array_length(EventRow.payload, f"$.{key}")), else_=None)
        for kind, keys in q.bulky_lists.items()
        for key in keys
    ]
    stmt = select(
        EventRow.local_order,
        EventRow.id,
        EventRow.station_id,
        EventRow.recorded_at,
        EventRow.operator,
        EventRow.kind,
        trimmed,
        *lengths,
    )
    if q.kind:
        stmt = stmt.where(EventRow.kind == q.kind)
    elif q.kind_prefix:
        stmt = stmt.where(EventRow.kind.like(f"{q.kind_prefix}%"))
    if q.operator_contains:
        stmt = stmt.where(func.lower(EventRow.operator).like(_contains(q.operator_contains), escape="\\"))
    if q.station_ids is not None:
        stmt = stmt.where(EventRow.station_id.in_(list(q.station_ids)))
    if q.recorded_from:
        stmt = stmt.where(EventRow.recorded_at >= q.recorded_from)
    if q.recorded_until:
        stmt = stmt.where(EventRow.recorded_at < q.recorded_until)
    if q.text_contains:
        matches = [EventRow.payload.like(_contains(v), escape="\\") for v in q.text_contains]
        if q.about_participants:
            people = list(q.about_participants)
            matches.append(func.json_extract(EventRow.payload, "$.participant_id").in_(people))
            matches.append(func.json_extract(EventRow.payload, "$.conflict_key").in_([f"badge:{p}" for p in people]))
        stmt = stmt.where(or_(*matches))
    if q.before is not None:
        at, order_no = q.before
        stmt = stmt.where(
            or_(EventRow.recorded_at < at, (EventRow.recorded_at == at) & (EventRow.local_order < order_no))
        )
    stmt = stmt.order_by(EventRow.recorded_at.desc(), EventRow.local_order.desc()).limit(max(1, q.limit))
    return [tuple(row) for row in session.execute(stmt)]
