"""Handlers for temporary passes: print runs, assignments and voids (domain/passes.py).

Order-independent like every projection: an assignment or a void may arrive before the print run
of its pass, and two desks may assign one pass while cut off from each other (the earliest
assignment stands, whatever order they arrive in; the audit shows both).
"""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from regdesk.domain.events import Event, EventKind, format_utc
from regdesk.domain.passes import pass_number, pass_serial
from regdesk.store.models import TemporaryPass
from regdesk.store.projections import handles, projection_table

projection_table(TemporaryPass)


@handles(EventKind.PASSES_PRINTED)
def _passes_printed(session: Session, event: Event) -> None:
    p = event.payload
    at = format_utc(event.recorded_at)
    rows = [
        dict(
            serial=pass_serial(n, p.get("mark", "")),
            number=n,
            day=p["day"],
            key_id=p["key_id"],
            printed_event_id=event.id,
            printed_at=at,
            station_id=event.station_id,
        )
        for n in range(p["first"], p["last"] + 1)
    ]
    stmt = insert(TemporaryPass)
    new, old = stmt.excluded, TemporaryPass
    # Two runs with one serial cannot happen since desk marks (each desk numbers its own passes). Runs
    # printed before marks could (two desks printing while cut off): the earliest run stands.
    earlier = or_(
        old.printed_event_id == "",
        new.printed_at < old.printed_at,
        and_(new.printed_at == old.printed_at, new.printed_event_id < old.printed_event_id),
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["serial"],
            set_={c: getattr(new, c) for c in ("day", "key_id", "printed_event_id", "printed_at", "station_id")},
            where=earlier,
        ),
        rows,
    )


@handles(EventKind.PASS_ASSIGNED)
def _pass_assigned(session: Session, event: Event) -> None:
    p = event.payload
    at = format_utc(event.recorded_at)
    stmt = insert(TemporaryPass).values(
        serial=p["serial"],
        number=pass_number(p["serial"]) or 0,
        participant_id=p["participant_id"],
        assigned_event_id=event.id,
        assigned_at=at,
        assigned_by=event.operator,
    )
    new, old = stmt.excluded, TemporaryPass
    earlier = or_(
        old.assigned_event_id == "",
        new.assigned_at < old.assigned_at,
        and_(new.assigned_at == old.assigned_at, new.assigned_event_id < old.assigned_event_id),
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["serial"],
            set_={c: getattr(new, c) for c in ("participant_id", "assigned_event_id", "assigned_at", "assigned_by")},
            where=earlier,
        )
    )


@handles(EventKind.PASS_VOIDED)
def _pass_voided(session: Session, event: Event) -> None:
    p = event.payload
    stmt = insert(TemporaryPass).values(
        serial=p["serial"], number=pass_number(p["serial"]) or 0, voided=True, void_reason=p["reason"]
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["serial"], set_={"voided": True, "void_reason": stmt.excluded.void_reason}
        )
    )
