"""Handlers for participants, badges, revocations, identity checks, keys, overrides, scans."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain import payloads
from regdesk.domain.buses import bus_direction
from regdesk.domain.events import Event, EventKind, format_utc
from regdesk.store.db import driver
from regdesk.store.models import (
    Badge,
    BadgeDelivery,
    EnrolledStation,
    IdentityCheck,
    Operator,
    Override,
    Participant,
    Photo,
    PublicKey,
    Revocation,
    Scan,
    StationRevocation,
)
from regdesk.store.projections import handles, handles_batch, projection_table
from regdesk.store.projections.tally_counts import count_scans

for _model in (
    Participant,
    Badge,
    Revocation,
    IdentityCheck,
    PublicKey,
    Scan,
    Override,
    Operator,
    EnrolledStation,
    StationRevocation,
    BadgeDelivery,
    Photo,
):
    projection_table(_model)

PARTICIPANT_FIELDS = payloads.PARTICIPANT_FIELDS


_UPSERT_PARTICIPANT = (
    f"INSERT INTO participants ({', '.join(PARTICIPANT_FIELDS)}, revision) "
    f"VALUES ({', '.join('?' * (len(PARTICIPANT_FIELDS) + 1))}) "
    "ON CONFLICT (accreditation_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in (*PARTICIPANT_FIELDS[1:], "revision"))
)
# Above this many rows an import reads the whole table once instead of looking rows up by id.
_LARGE_IMPORT = 5000


def _current_participants(
    session: Session, ids: list[str]
) -> tuple[dict[str, tuple[str, tuple[str, ...]]], int | None]:
    """(revision, fields) of the rows with these ids, and the table's size when it was read whole."""
    select_columns = ", ".join(("accreditation_id", "revision", *PARTICIPANT_FIELDS[1:]))
    conn = session.connection()
    table_size = None
    if len(ids) > _LARGE_IMPORT:  # one pass over the table beats thousands of lookups
        wanted = set(ids)
        everything = driver(conn).execute(f"SELECT {select_columns} FROM participants").fetchall()
        table_size = len(everything)
        found = [r for r in everything if r[0] in wanted]
    else:
        found = []
        for chunk_start in range(0, len(ids), 900):
            chunk = ids[chunk_start : chunk_start + 900]
            found += conn.exec_driver_sql(
                f"SELECT {select_columns} FROM participants WHERE accreditation_id IN ({','.join('?' * len(chunk))})",
                tuple(chunk),
            ).all()
    return {aid: (rev, tuple(str(v) for v in fields)) for aid, rev, *fields in found}, table_size


def _fill_empty_participants(driver: sqlite3.Connection, values: list[tuple[Any, ...]]) -> None:
    """A first import: insert everything, then build the secondary indexes in one sorted pass.

    Maintaining them row by row costs more than building them afterwards. They are re-created
    from their own stored definitions, in the same transaction (SQLite DDL is transactional).
    """
    indexes = driver.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'participants' AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        driver.execute(f'DROP INDEX "{name}"')
    driver.executemany(_UPSERT_PARTICIPANT, values)
    for _name, sql in indexes:
        driver.execute(sql)


@handles(EventKind.ACCREDITATION_IMPORTED)
def _accreditation_imported(session: Session, event: Event) -> None:
    # Plain DBAPI statements (station databases are SQLite; the sync hub never runs projections):
    # an import carries up to 100k rows, and SQLAlchemy's per-row parameter processing would cost
    # more than the inserts themselves.
    imported = ep.AccreditationImported.from_payload(event.payload)
    revision = imported.revision
    records = imported.records()  # both shapes: compact (columns once) and one object per row
    if not records:
        return
    current, table_size = _current_participants(session, [r[0] for r in records])
    values = []
    for record in records:
        existing = current.get(record[0])
        # Last writer wins by export revision, so imports arriving out of order converge; equal
        # revisions (two desks importing at the same instant) are broken by content.
        if existing is not None and existing >= (revision, tuple(map(str, record[1:]))):
            continue
        values.append((*record, revision))
    conn = session.connection()
    sqlite = driver(conn)
    if table_size == 0 and sqlite.in_transaction:  # DDL outside a transaction would commit at once
        _fill_empty_participants(sqlite, values)
    elif values:
        conn.exec_driver_sql(_UPSERT_PARTICIPANT, values)


@handles(EventKind.KEY_PUBLISHED)
def _key_published(session: Session, event: Event) -> None:
    p = ep.KeyPublished.from_payload(event.payload)
    session.execute(
        insert(PublicKey)
        .values(
            key_id=p.key_id,
            public_key=p.public_key,
            station_id=event.station_id,
            event_code=p.event_code,
            published_at=format_utc(event.recorded_at),
        )
        .on_conflict_do_nothing()
    )


@handles_batch(EventKind.IDENTITY_CHECKED)
def _identity_checked(session: Session, events: list[Event]) -> None:
    rows = [
        dict(
            event_id=e.id,
            participant_id=p.participant_id,
            document_type=p.document_type,
            document_last4=p.document_last4,
            checked_at=format_utc(e.recorded_at),
            operator=e.operator,
            for_badge=p.for_badge,
        )
        for e in events
        for p in (ep.IdentityChecked.from_payload(e.payload),)
    ]
    session.execute(insert(IdentityCheck).on_conflict_do_nothing(), rows)


@handles_batch(EventKind.BADGE_ISSUED)
def _badge_issued(session: Session, events: list[Event]) -> None:
    issued = [(e, ep.BadgeIssued.from_payload(e.payload)) for e in events]
    serials = [p.serial for _e, p in issued]
    revoked: set[str] = set()  # a revocation may have arrived before the badge
    for start in range(0, len(serials), 900):
        revoked.update(
            session.execute(
                select(Revocation.serial).where(Revocation.serial.in_(serials[start : start + 900]))
            ).scalars()
        )
    rows = [
        dict(
            serial=p.serial,
            participant_id=p.participant_id,
            issue_no=p.issue_no,
            key_id=p.key_id,
            token=p.token,
            issued_event_id=e.id,
            issued_at=format_utc(e.recorded_at),
            station_id=e.station_id,
            operator=e.operator,
            override_event_id=p.override_event_id,
            revoked=p.serial in revoked,
            collected_by=p.collected_by or "",
            authorisation=p.authorisation or "",
        )
        for e, p in issued
    ]
    session.execute(insert(Badge).on_conflict_do_nothing(), rows)


@handles(EventKind.BADGE_REVOKED)
def _badge_revoked(session: Session, event: Event) -> None:
    p = ep.BadgeRevoked.from_payload(event.payload)
    stmt = insert(Revocation).values(
        serial=p.serial,
        event_id=event.id,
        reason=p.reason,
        revoked_at=format_utc(event.recorded_at),
    )
    new, old = stmt.excluded, Revocation
    # Two stations may revoke one serial (both replaced the same lost badge while cut off): the
    # earliest revocation stands, whatever order they arrive in.
    earlier = or_(new.revoked_at < old.revoked_at, and_(new.revoked_at == old.revoked_at, new.event_id < old.event_id))
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["serial"],
            set_={"event_id": new.event_id, "reason": new.reason, "revoked_at": new.revoked_at},
            where=earlier,
        )
    )
    # No ORM synchronisation: projections never hold Badge objects, and evaluating the criteria
    # against the session's identity map costs a pass over every object it holds, per revocation
    # (during a rebuild, the log's rows: quadratic at conference scale).
    session.execute(
        update(Badge).where(Badge.serial == p.serial).values(revoked=True),
        execution_options={"synchronize_session": False},
    )


@handles(EventKind.BADGE_PRINTED)
def _badge_printed(session: Session, event: Event) -> None:
    p = ep.BadgePrinted.from_payload(event.payload)
    stmt = insert(BadgeDelivery).values(
        serial=p.serial,
        event_id=event.id,
        delivered_at=format_utc(event.recorded_at),
        printer=p.printer or "",
    )
    new, old = stmt.excluded, BadgeDelivery
    # Reprints deliver a serial again: the earliest delivery stands, whatever order they arrive in.
    earlier = or_(
        new.delivered_at < old.delivered_at, and_(new.delivered_at == old.delivered_at, new.event_id < old.event_id)
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["serial"],
            set_={"event_id": new.event_id, "delivered_at": new.delivered_at, "printer": new.printer},
            where=earlier,
        )
    )


@handles(EventKind.OVERRIDE_GRANTED)
def _override_granted(session: Session, event: Event) -> None:
    p = ep.OverrideGranted.from_payload(event.payload)
    session.execute(
        insert(Override)
        .values(
            event_id=event.id,
            participant_id=p.participant_id,
            rule=p.rule,
            reason=p.reason,
            supervisor=p.supervisor,
            granted_at=format_utc(event.recorded_at),
            station_id=event.station_id,
            operator=event.operator,
        )
        .on_conflict_do_nothing()
    )


_SCAN_COLUMNS = (
    "event_id",
    "scanned_at",
    "local_day",
    "station_id",
    "point_kind",
    "point",
    "direction",
    "departure",
    "verdict",
    "reason",
    "serial",
    "participant_id",
    "counted",
    "manual",
)
_INSERT_SCAN = f"INSERT INTO scans ({', '.join(_SCAN_COLUMNS)}) VALUES ({', '.join('?' * len(_SCAN_COLUMNS))})"


@handles_batch(EventKind.SCAN_RECORDED)
def _scan_recorded(session: Session, events: list[Event]) -> None:
    # Plain DBAPI rows: a scan point records one of these per badge scanned, and a station that
    # syncs takes in every other station's scans (hundreds of thousands), so per-row cost counts.
    rows = [
        (
            e.id,
            format_utc(e.recorded_at),
            p.local_day,
            e.station_id,
            p.point_kind,
            p.point,
            bus_direction(p.direction),
            p.departure,
            p.verdict,
            p.reason,
            p.serial or p.pass_serial,
            p.participant_id,
            int(p.counted),
            int(p.manual),
        )
        for e in events
        for p in (ep.ScanRecorded.from_payload(e.payload),)
    ]
    dbapi = driver(session)
    dbapi.executemany(_INSERT_SCAN, rows)
    count_scans(dbapi, rows)


@handles(EventKind.OPERATOR_ADDED)
def _operator_added(session: Session, event: Event) -> None:
    p = ep.OperatorAdded.from_payload(event.payload)
    stmt = insert(Operator).values(
        name=p.name, role=p.role, pin_hash=p.pin_hash, added_at=format_utc(event.recorded_at), active=True
    )
    new, old = stmt.excluded, Operator
    # Last writer wins by recorded time, ties broken by content: stations that learn of two changes
    # to one operator in different orders agree on the one that stands (added_at = its time).
    newer = or_(
        new.added_at > old.added_at,
        and_(new.added_at == old.added_at, new.pin_hash > old.pin_hash),
        and_(new.added_at == old.added_at, new.pin_hash == old.pin_hash, new.role > old.role),
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"role": new.role, "pin_hash": new.pin_hash, "added_at": new.added_at},
            where=newer,
        )
    )


@handles(EventKind.STATION_CREATED)
def _station_created(session: Session, event: Event) -> None:
    p = ep.StationCreated.from_payload(event.payload)
    cert = p.certificate
    if not cert:
        return  # a station made before the chain of trust: not an enrolled station
    session.execute(
        insert(EnrolledStation)
        .values(
            station_id=event.station_id,
            name=p.name,
            role=p.role,
            public_key=cert["public_key"],
            certificate=json.dumps(cert, sort_keys=True),
            continues=cert.get("issuer", "") if cert.get("parent") else "",
            created_at=format_utc(event.recorded_at),
        )
        .on_conflict_do_nothing()
    )


@handles(EventKind.STATION_REVOKED)
def _station_revoked(session: Session, event: Event) -> None:
    r = ep.StationRevoked.from_payload(event.payload).revocation
    existing = session.get(StationRevocation, r["station_key"])
    heads = {str(k): int(v) for k, v in r["heads"].items()}
    if existing is not None:
        # Two revocations of one key (two supervisors): the stricter cut-off stands, in any order.
        old = json.loads(existing.heads)
        heads = {sid: min(heads.get(sid, 0), old.get(sid, 0)) for sid in set(heads) | set(old)}
        existing.heads = json.dumps(heads, sort_keys=True)
        if event.recorded_at and format_utc(event.recorded_at) < existing.revoked_at:
            existing.revoked_at, existing.reason, existing.event_id = (
                format_utc(event.recorded_at),
                r["reason"],
                event.id,
            )
        return
    session.add(
        StationRevocation(
            station_key=r["station_key"],
            heads=json.dumps(heads, sort_keys=True),
            reason=r["reason"],
            revoked_at=format_utc(event.recorded_at),
            event_id=event.id,
        )
    )


_UPSERT_PHOTO = (
    "INSERT INTO photos (participant_id, event_id, order_key, sha256, source_sha256) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (participant_id) DO UPDATE SET event_id = excluded.event_id, order_key = excluded.order_key, "
    "sha256 = excluded.sha256, source_sha256 = excluded.source_sha256 WHERE excluded.order_key > photos.order_key"
)


@handles_batch(EventKind.PHOTO_IMPORTED)
def _photos_imported(session: Session, events: list[Event]) -> None:
    # The newest photo wins, by (recorded_at, station, seq): events arriving in any order converge.
    driver(session).executemany(
        _UPSERT_PHOTO,
        [
            (
                p.participant_id,
                e.id,
                f"{format_utc(e.recorded_at)} {e.station_id} {e.seq:010d}",
                p.sha256,
                p.source_sha256,
            )
            for e in events
            for p in (ep.PhotoImported.from_payload(e.payload),)
        ],
    )


@handles_batch(EventKind.PHOTO_REMOVED)
def _photos_removed(session: Session, events: list[Event]) -> None:
    # A removal is the newest "photo" in the same order: a row with no picture (sha256 "") that a
    # newer import replaces. It keeps the removed photo's source hash, so a re-import of that same
    # file is "unchanged" and does not bring it back.
    driver(session).executemany(
        _UPSERT_PHOTO,
        [
            (
                p.participant_id,
                e.id,
                f"{format_utc(e.recorded_at)} {e.station_id} {e.seq:010d}",
                "",
                p.source_sha256,
            )
            for e in events
            for p in [ep.PhotoRemoved.from_payload(e.payload)]
        ],
    )
