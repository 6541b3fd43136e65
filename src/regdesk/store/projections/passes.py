"""Handlers for temporary passes: print runs, assignments and voids (domain/passes.py).

Order-independent like every projection: an assignment or a void may arrive before the print run
of its pass, and two desks may assign one pass while cut off from each other (the earliest
assignment stands, whatever order they arrive in; the audit shows both) until a supervisor
overrides it.
"""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain.events import Event, EventKind, format_utc
from regdesk.domain.passes import pass_number, pass_serial
from regdesk.store.models import TemporaryPass
from regdesk.store.projections import handles, projection_table
from regdesk.store.queries import passes as passes_queries

projection_table(TemporaryPass)


@handles(EventKind.PASSES_PRINTED)
def _passes_printed(session: Session, event: Event) -> None:
    p = ep.PassesPrinted.from_payload(event.payload)
    at = format_utc(event.recorded_at)
    rows = [
        dict(
            serial=pass_serial(n, p.mark),
            number=n,
            day=p.day,
            key_id=p.key_id,
            printed_event_id=event.id,
            printed_at=at,
            station_id=event.station_id,
        )
        for n in range(p.first, p.last + 1)
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
@handles(EventKind.PASS_ASSIGNMENT_OVERRIDDEN)
def _pass_assignment(session: Session, event: Event) -> None:
    """The holder folded from every assignment and override of the pass, in recorded order: a
    clerk's assignment takes a free pass only (of two desks assigning one pass while cut off, the
    earliest stands), and a supervisor's override re-assigns or un-assigns it whatever it held. The
    same set of events gives the same holder in any order of arrival."""
    from regdesk.store import enrolment

    p = ep.read(str(event.kind), event.payload)
    assert isinstance(p, (ep.PassAssigned, ep.PassAssignmentOverridden))
    serial = p.serial
    cut = enrolment.cut_offs(session)  # a revoked station's events after its cut-off never count
    holder = ("", "", "", "")  # participant id, event id, recorded at, operator
    for e in passes_queries.assignment_events(session, serial):
        if e.station_id in cut and e.seq > cut[e.station_id]:
            continue
        if e.kind == EventKind.PASS_ASSIGNMENT_OVERRIDDEN or not holder[0]:
            holder = (e.participant_id, e.event_id, e.recorded_at, e.operator)
    pid, event_id, at, by = holder
    stmt = insert(TemporaryPass).values(
        serial=serial,
        number=pass_number(serial) or 0,
        participant_id=pid,
        assigned_event_id=event_id,
        assigned_at=at,
        assigned_by=by,
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["serial"],
            set_={
                c: getattr(stmt.excluded, c)
                for c in ("participant_id", "assigned_event_id", "assigned_at", "assigned_by")
            },
        )
    )


@handles(EventKind.PASS_VOIDED)
def _pass_voided(session: Session, event: Event) -> None:
    p = ep.PassVoided.from_payload(event.payload)
    stmt = insert(TemporaryPass).values(
        serial=p.serial, number=pass_number(p.serial) or 0, voided=True, void_reason=p.reason
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["serial"], set_={"voided": True, "void_reason": stmt.excluded.void_reason}
        )
    )
