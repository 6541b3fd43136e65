"""The scanner's queries: everything a verified badge needs in one round trip, and the WAL housekeeping of
the scanner's own engine. The facts query is the measured hot path (bench/): compiled once, run on the
DB-API connection of the scan's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Engine, Row, bindparam, event, exists, func, literal, or_, select, union
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.orm import Session

from regdesk.domain.verdict import COUNTED_VERDICTS
from regdesk.store.db import driver
from regdesk.store.models import (
    Badge,
    EnrolledStation,
    EventRow,
    Participant,
    PublicKey,
    Revocation,
    Scan,
    StationRevocation,
)

# Hot-path statements, built once as Core statements on the tables and run on the session's
# connection: SQLAlchemy reuses their compiled form and skips the ORM layer, so a scan pays
# mostly for the SQLite work (primary-key and index look-ups).
_SCANS, _BADGES, _PARTICIPANTS = Scan.__table__.c, Badge.__table__.c, Participant.__table__.c
_P = Participant.__table__
# Valid badges and temporary passes count; spelt out (not IN) so the facts query compiles once, literally.
_COUNTED_VERDICT = or_(*(_SCANS.verdict == literal(v) for v in COUNTED_VERDICTS))
_RECENT_VALID = exists().where(
    _SCANS.serial == bindparam("serial"),
    _SCANS.point == bindparam("point"),
    _SCANS.scanned_at >= bindparam("recent_since"),
    _SCANS.scanned_at <= bindparam("recent_until"),
    _COUNTED_VERDICT,
    _SCANS.counted.is_(True),
)
# Counted venue entries today with any of the holder's badges. The day is a UTC range, not
# local_day: with `local_day = ?` SQLite prefers the (local_day, point_kind) index and walks a
# whole day of scans; this way it uses the serial index.
_ENTRIES_TODAY = (
    select(func.count())
    .select_from(Scan.__table__)
    .where(
        _SCANS.serial.in_(
            union(select(bindparam("serial")), select(_BADGES.serial).where(_BADGES.participant_id == bindparam("pid")))
        ),
        _SCANS.scanned_at >= bindparam("day_start"),
        _SCANS.scanned_at < bindparam("day_end"),
        _SCANS.point_kind == "security",
        _COUNTED_VERDICT,
        _SCANS.counted.is_(True),
    )
    .scalar_subquery()
)
_ONE_ROW = select(literal(1).label("one")).subquery()
# A revoked station's cut-off for the key that signed the badge (NULL when not revoked), and the
# badge's own place in its desk's chain: a badge made after the cut-off is not trusted.
_PK, _ST, _SR, _EV = (
    PublicKey.__table__.c,
    EnrolledStation.__table__.c,
    StationRevocation.__table__.c,
    EventRow.__table__.c,
)
_KEY_REVOKED_HEADS = (
    select(_SR.heads)
    .select_from(
        PublicKey.__table__.join(EnrolledStation.__table__, _ST.station_id == _PK.station_id).join(
            StationRevocation.__table__, _SR.station_key == _ST.public_key
        )
    )
    .where(_PK.key_id == bindparam("kid"))
    .limit(1)
    .scalar_subquery()
)
_ISSUED_AT = (
    select(func.json_array(_EV.station_id, _EV.seq))
    .select_from(Badge.__table__.join(EventRow.__table__, _EV.id == _BADGES.issued_event_id))
    .where(_BADGES.serial == bindparam("serial"))
    .limit(1)
    .scalar_subquery()
)
# Everything a verified badge needs, in one round trip: holder (NULLs when not in the mirror),
# revoked?, recently scanned here?, entries today so far.
_FACTS = select(
    _P.c.accreditation_id,
    _P.c.given_names,
    _P.c.family_name,
    _P.c.given_names_latin,
    _P.c.family_name_latin,
    _P.c.delegation,
    _P.c.category,
    _P.c.status,
    exists().where(Revocation.__table__.c.serial == bindparam("serial")).label("revoked"),
    _RECENT_VALID.label("recent"),
    _ENTRIES_TODAY.label("entries_before"),
    _KEY_REVOKED_HEADS.label("key_revoked_heads"),
    _ISSUED_AT.label("issued_at"),
).select_from(_ONE_ROW.outerjoin(_P, _P.c.accreditation_id == bindparam("pid")))
# _FACTS runs once per scan, so it is compiled once here and run on the DBAPI connection of the
# scan's transaction: SQLAlchemy's per-execution bookkeeping cost twice the query itself.
_FACTS_COMPILED = _FACTS.compile(dialect=sqlite_dialect())
_FACTS_SQL = str(_FACTS_COMPILED)
_FACTS_ORDER = tuple(_FACTS_COMPILED.positiontup or ())
_FACTS_CONSTANTS = {k: v for k, v in _FACTS_COMPILED.params.items() if v is not None}


class FactsRow(NamedTuple):
    """One row of the facts query: holder columns (None when not in the mirror), then the checks."""

    accreditation_id: str | None
    given_names: str | None
    family_name: str | None
    given_names_latin: str | None
    family_name_latin: str | None
    delegation: str | None
    category: str | None
    status: str | None
    revoked: int
    recent: int
    entries_before: int
    key_revoked_heads: str | None
    issued_at: str | None


assert FactsRow._fields == tuple(c.key for c in _FACTS.selected_columns)


def scan_facts(
    session: Session,
    *,
    serial: str,
    participant_id: str,
    point: str,
    key_id: str,
    recent_since: str,
    recent_until: str,
    day_start: str,
    day_end: str,
) -> FactsRow:
    """Holder, revoked?, a counted scan at `point` within [recent_since, recent_until]?, counted security
    entries in [day_start, day_end) with any of the holder's badges, the signing key's revocation cut-off
    and the badge's place in its desk's chain. Same connection, same transaction as the session."""
    values: dict[str, Any] = {
        **_FACTS_CONSTANTS,
        "serial": serial,
        "pid": participant_id,
        "point": point,
        "kid": key_id,
        "recent_since": recent_since,
        "recent_until": recent_until,
        "day_start": day_start,
        "day_end": day_end,
    }
    dbapi = driver(session)
    return FactsRow(*dbapi.execute(_FACTS_SQL, tuple(values[k] for k in _FACTS_ORDER)).fetchone())


def key_revoked_heads(session: Session, key_id: str) -> str | None:
    """The cut-off (JSON heads) of the revoked station whose key is `key_id`, or None when not revoked."""
    heads = session.execute(select(_KEY_REVOKED_HEADS), {"kid": key_id}).scalar()
    return None if heads is None else str(heads)


def counted_here_recently(session: Session, *, serial: str, point: str, since: str, until: str) -> bool:
    """Whether `serial` was counted at `point` between the UTC times `since` and `until`."""
    return bool(
        session.execute(
            select(_RECENT_VALID), {"serial": serial, "point": point, "recent_since": since, "recent_until": until}
        ).scalar()
    )


def chain_position(session: Session, event_id: str) -> str | None:
    """[station id, seq] (JSON) of an event in its station's chain, or None when the event is unknown."""
    position = session.execute(select(func.json_array(_EV.station_id, _EV.seq)).where(_EV.id == event_id)).scalar()
    return None if position is None else str(position)


def _autocheckpoint_off(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")


def no_autocheckpoint(engine: Engine) -> None:
    """The scanner's engine never checkpoints on commit: `checkpoint_wal` does it when the lane is idle."""
    event.listen(engine, "connect", _autocheckpoint_off)


def checkpoint_wal(engine: Engine) -> None:
    """Fold the write-ahead log back into the database file (PASSIVE: never blocks readers or writers)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def boarded(session: Session, departure_id: str, *, since_day: str) -> Sequence[Row[str, str]]:
    """(participant id, serial) of the counted bus scans for a departure since local `since_day`."""
    return list(
        session.execute(
            select(Scan.participant_id, Scan.serial).where(
                Scan.local_day >= since_day,
                Scan.point_kind == "bus",
                Scan.departure == departure_id,
                Scan.verdict.in_(COUNTED_VERDICTS),
            )
        )
    )
