"""Handlers for participants, badges, revocations, identity checks, keys, overrides, scans."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from regdesk.domain.events import Event, EventKind, format_utc
from regdesk.domain.names import participant_search_text
from regdesk.store.models import (
    Badge,
    IdentityCheck,
    Operator,
    Override,
    Participant,
    PublicKey,
    Revocation,
    Scan,
)
from regdesk.store.projections import handles, projection_table

for _model in (Participant, Badge, Revocation, IdentityCheck, PublicKey, Scan, Override, Operator):
    projection_table(_model)

PARTICIPANT_FIELDS = (
    "accreditation_id", "family_name", "given_names", "family_name_latin", "given_names_latin",
    "category", "delegation", "delegation_role", "status", "confirmation_code", "title",
)


@handles(EventKind.ACCREDITATION_IMPORTED)
def _accreditation_imported(session: Session, event: Event) -> None:
    revision = event.payload["revision"]
    rows = event.payload.get("rows", [])
    if not rows:
        return
    ids = [r["accreditation_id"] for r in rows]
    current: dict[str, str] = {}
    for chunk_start in range(0, len(ids), 900):
        chunk = ids[chunk_start : chunk_start + 900]
        current.update(session.execute(
            select(Participant.accreditation_id, Participant.revision).where(Participant.accreditation_id.in_(chunk))
        ).all())
    values = []
    for row in rows:
        existing = current.get(row["accreditation_id"])
        # Last writer wins by export revision, so imports arriving out of order converge.
        if existing is not None and existing > revision:
            continue
        record = {f: row.get(f, "") for f in PARTICIPANT_FIELDS}
        record["revision"] = revision
        record["search_text"] = participant_search_text(record)
        values.append(record)
    for chunk_start in range(0, len(values), 500):
        chunk = values[chunk_start : chunk_start + 500]
        stmt = insert(Participant).values(chunk)
        stmt = stmt.on_conflict_do_update(
            index_elements=["accreditation_id"],
            set_={c: stmt.excluded[c] for c in (*PARTICIPANT_FIELDS[1:], "revision", "search_text")},
        )
        session.execute(stmt)


@handles(EventKind.KEY_PUBLISHED)
def _key_published(session: Session, event: Event) -> None:
    p = event.payload
    session.execute(
        insert(PublicKey)
        .values(key_id=p["key_id"], public_key=p["public_key"], station_id=event.station_id,
                event_code=p["event_code"], published_at=format_utc(event.recorded_at))
        .on_conflict_do_nothing()
    )


@handles(EventKind.IDENTITY_CHECKED)
def _identity_checked(session: Session, event: Event) -> None:
    p = event.payload
    session.execute(
        insert(IdentityCheck)
        .values(event_id=event.id, participant_id=p["participant_id"], document_type=p["document_type"],
                document_last4=p["document_last4"], checked_at=format_utc(event.recorded_at),
                operator=event.operator)
        .on_conflict_do_nothing()
    )


@handles(EventKind.BADGE_ISSUED)
def _badge_issued(session: Session, event: Event) -> None:
    p = event.payload
    revoked = session.get(Revocation, p["serial"]) is not None
    session.execute(
        insert(Badge)
        .values(serial=p["serial"], participant_id=p["participant_id"], issue_no=p["issue_no"],
                key_id=p["key_id"], token=p["token"], issued_event_id=event.id,
                issued_at=format_utc(event.recorded_at), station_id=event.station_id,
                operator=event.operator, override_event_id=p.get("override_event_id"), revoked=revoked)
        .on_conflict_do_nothing()
    )


@handles(EventKind.BADGE_REVOKED)
def _badge_revoked(session: Session, event: Event) -> None:
    p = event.payload
    session.execute(
        insert(Revocation)
        .values(serial=p["serial"], event_id=event.id, reason=p.get("reason", "revoked"),
                revoked_at=format_utc(event.recorded_at))
        .on_conflict_do_nothing()
    )
    session.execute(update(Badge).where(Badge.serial == p["serial"]).values(revoked=True))


@handles(EventKind.OVERRIDE_GRANTED)
def _override_granted(session: Session, event: Event) -> None:
    p = event.payload
    session.execute(
        insert(Override)
        .values(event_id=event.id, participant_id=p.get("participant_id", ""), rule=p["rule"],
                reason=p["reason"], supervisor=p["supervisor"], granted_at=format_utc(event.recorded_at),
                station_id=event.station_id, operator=event.operator)
        .on_conflict_do_nothing()
    )


@handles(EventKind.SCAN_RECORDED)
def _scan_recorded(session: Session, event: Event) -> None:
    p = event.payload
    session.execute(
        insert(Scan)
        .values(event_id=event.id, scanned_at=format_utc(event.recorded_at), local_day=p["local_day"],
                station_id=event.station_id, point_kind=p["point_kind"], point=p["point"],
                direction=p.get("direction", ""), departure=p.get("departure", ""), verdict=p["verdict"],
                reason=p["reason"], serial=p.get("serial", ""), participant_id=p.get("participant_id", ""),
                counted=bool(p.get("counted", True)), manual=bool(p.get("manual", False)))
        .on_conflict_do_nothing()
    )


@handles(EventKind.OPERATOR_ADDED)
def _operator_added(session: Session, event: Event) -> None:
    p = event.payload
    stmt = insert(Operator).values(name=p["name"], role=p["role"], pin_hash=p["pin_hash"],
                                   added_at=format_utc(event.recorded_at), active=True)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["name"], set_={"role": stmt.excluded.role, "pin_hash": stmt.excluded.pin_hash}))
