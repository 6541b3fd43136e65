"""Reads and bulk writes on the event log's tables that the merge, sync and sealing need beyond
store/eventlog.py: travelling rows in local order, which ids are known, held events, the newest local order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, select, text
from sqlalchemy.orm import Session

from regdesk.store import enrolment
from regdesk.store.db import driver
from regdesk.store.models import EventRow

IN_CHUNK = 900  # SQLite host parameters per statement, under the old 999 limit


def travelling_rows(
    session: Session,
    columns: Sequence[str],
    *,
    after_local_order: int = 0,
    through_local_order: int | None = None,
    since_time: str | None = None,
    limit: int | None = None,
) -> list[tuple[Any, ...]]:
    """(local_order, *columns) of the events after `after_local_order` (up to `through_local_order`, recorded
    at or after `since_time`), oldest first, at most `limit`. Events a revoked station recorded after
    its cut-off never travel on: they stay in this log only."""
    params: dict[str, Any] = {"after": after_local_order}
    conditions = ["local_order > :after", f"NOT {beyond_cut_off(session, params)}"]
    if through_local_order is not None:
        conditions.append("local_order <= :through")
        params["through"] = through_local_order
    if since_time is not None:
        conditions.append("recorded_at >= :since")
        params["since"] = since_time
    sql = (
        f"SELECT local_order, {', '.join(columns)} FROM events WHERE {' AND '.join(conditions)} "
        "ORDER BY local_order" + (" LIMIT :limit" if limit else "")
    )
    if limit:
        params["limit"] = limit
    return [tuple(r) for r in session.execute(text(sql), params)]


def count_between(
    session: Session, after_local_order: int, through_local_order: int, since_time: str | None = None
) -> int:
    """Travelling events (see travelling_rows) with local order in (after, through], recorded at or
    after `since_time` when given."""
    params: dict[str, Any] = {"after": after_local_order, "through": through_local_order, "since": since_time}
    count: int = session.execute(
        text(
            "SELECT count(*) FROM events WHERE local_order > :after AND local_order <= :through"
            + (" AND recorded_at >= :since" if since_time else "")
            + f" AND NOT {beyond_cut_off(session, params)}"
        ),
        params,
    ).scalar_one()
    return count


def any_beyond_cut_off(session: Session) -> bool:
    """Whether the log holds an event some revoked station recorded after its cut-off."""
    params: dict[str, Any] = {}
    condition = beyond_cut_off(session, params)
    if condition == "(0)":
        return False
    return session.execute(text(f"SELECT 1 FROM events WHERE {condition} LIMIT 1"), params).first() is not None


def beyond_cut_off(session: Session, params: dict[str, Any]) -> str:
    """An SQL condition on `events`, true for the events recorded after their station's cut-off
    (its parameters are added to `params`); "0" when no station is cut off."""
    terms = []
    for n, (station_id, trusted_through) in enumerate(sorted(enrolment.cut_offs(session).items())):
        params[f"cut_station_{n}"], params[f"cut_seq_{n}"] = station_id, trusted_through
        terms.append(f"(station_id = :cut_station_{n} AND seq > :cut_seq_{n})")
    return "(" + " OR ".join(terms) + ")" if terms else "(0)"


def existing_ids(session: Session, ids: Sequence[str]) -> set[str]:
    """Which of `ids` are in the log already."""
    found: set[str] = set()
    conn = session.connection()
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        found.update(
            conn.exec_driver_sql(
                f"SELECT id FROM events WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk)
            ).scalars()
        )
    return found


def held_count(session: Session) -> int:
    """Events held back until what they depend on arrives."""
    count: int = session.execute(text("SELECT count(*) FROM held_events")).scalar_one()
    return count


def held_among(session: Session, ids: Sequence[str]) -> int:
    """How many of `ids` are held."""
    held = 0
    conn = session.connection()
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        held += conn.exec_driver_sql(
            f"SELECT count(*) FROM held_events WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk)
        ).scalar_one()
    return held


def delete_held(session: Session, ids: Sequence[str]) -> None:
    conn = session.connection()
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        conn.exec_driver_sql(f"DELETE FROM held_events WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))


def insert_held(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """(id, station_id, seq, recorded_at, operator, operator_role, kind, payload, prev_hash, seal, held_since)
    rows, through the DB-API cursor (a pull can hold thousands); an id already held is left as it is."""
    driver(session.connection()).executemany(
        "INSERT OR IGNORE INTO held_events (id, station_id, seq, recorded_at, operator, operator_role, kind, "
        "payload, prev_hash, seal, held_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def latest_local_order(bind: Session | Connection) -> int:
    """The newest local order in the log, 0 when it is empty."""
    latest: int = bind.execute(text("SELECT coalesce(max(local_order), 0) FROM events")).scalar_one()
    return latest


def max_local_order(bind: Session | Connection) -> int | None:
    """The newest local order in the log, None when it is empty."""
    latest: int | None = bind.execute(text("SELECT max(local_order) FROM events")).scalar_one()
    return latest


def event_at(session: Session, station_id: str, seq: int) -> Row[Any] | None:
    """(id, seq, hash, seal) of a station's event number `seq`."""
    return session.execute(
        text("SELECT id, seq, hash, seal FROM events WHERE station_id = :s AND seq = :q"), {"s": station_id, "q": seq}
    ).first()


def all_ids(session: Session) -> list[str]:
    return list(session.execute(select(EventRow.id)).scalars())


def seq_duplicates(session: Session) -> int:
    """(station, seq) pairs held by more than one event: each is a broken station chain."""
    count: int = session.execute(
        select(func.count()).select_from(
            select(EventRow.station_id, EventRow.seq)
            .group_by(EventRow.station_id, EventRow.seq)
            .having(func.count() > 1)
            .subquery()
        )
    ).scalar_one()
    return count


def newest_seq(session: Session, station_id: str) -> int:
    """The highest sequence number of a station's events in this log, 0 when there are none."""
    seq = session.execute(
        select(EventRow.seq).where(EventRow.station_id == station_id).order_by(EventRow.seq.desc()).limit(1)
    ).scalar()
    return int(seq or 0)


def ids_after(session: Session, station_id: str, seq: int) -> list[str]:
    """Ids of a station's events after `seq`, in its order."""
    return list(
        session.execute(
            select(EventRow.id).where(EventRow.station_id == station_id, EventRow.seq > seq).order_by(EventRow.seq)
        ).scalars()
    )


def newest_of_kinds(session: Session, kinds: Sequence[str]) -> Sequence[Row[str, str, str, str]]:
    """(recorded_at, station_id, kind, payload) of every event of these kinds, newest first."""
    return list(
        session.execute(
            select(EventRow.recorded_at, EventRow.station_id, EventRow.kind, EventRow.payload)
            .where(EventRow.kind.in_(list(kinds)))
            .order_by(EventRow.recorded_at.desc())
        )
    )


def payloads_of_kind(session: Session, kind: str) -> Sequence[Row[str, str]]:
    """(station_id, payload) of every event of one kind."""
    return list(session.execute(select(EventRow.station_id, EventRow.payload).where(EventRow.kind == kind)))


def count_in_local_order(session: Session, *, after: int, through: int | None = None) -> int:
    """Events of this log with local order in (after, through], every one (held back or cut off included)."""
    stmt = select(func.count()).select_from(EventRow).where(EventRow.local_order > after)
    if through is not None:
        stmt = stmt.where(EventRow.local_order <= through)
    count: int = session.execute(stmt).scalar_one()
    return count
