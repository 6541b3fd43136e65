"""Hub sync: stations push their events to a shared PostgreSQL database and pull everyone else's.

The hub is a plain event store (`hub_events`, one row per event id, numbered by `hub_order`)
plus `hub_meta` (hub id, event code, the event settings for provisioning). It holds no
projections: every station applies the events itself, so the hub can be any PostgreSQL a
station can reach, and a station that never sees it keeps working, only staler.

A sync cycle: push what this station has not sent yet (local_order cursor), then pull what it
has not seen (hub_order cursor). Both are idempotent (set union by event id) and resumable:
each chunk commits on its own and moves its cursor, so an interruption repeats at most one
chunk. No network call happens while the station's SQLite write lock is held, so scans and
issuance never wait on the network; a pull chunk holds the lock for a few milliseconds.

Cursors live in the station's `meta` table, keyed by the hub's id, so a new or rebuilt hub
starts from zero instead of trusting cursors that belong to another database.

Visibility rule: a pull must never skip a row that commits late with a smaller hub_order, so
pushes take a transaction-level advisory lock; hub_order is assigned and committed in lock
order and a reader that sees row N has seen every row below N.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    MetaData,
    Table,
    Text,
    create_engine,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session

from regdesk.errors import RegdeskError
from regdesk.domain.events import format_utc, parse_utc
from regdesk.services.merge import EVENT_COLUMNS, Incoming, MergeError, incoming_from_row, merge
from regdesk.services.station import Station
from regdesk.store.models import EventRow, Meta

# Format 2: accreditation imports carry their rows as lists (services/accreditation.py), which a
# format-1 regdesk cannot apply. A newer station upgrades a format-1 hub's marker on first contact,
# so older stations then stop with a clear message instead of failing on events they cannot read.
HUB_FORMAT = "2"
_UPGRADABLE_HUB_FORMATS = ("1",)
PUSH_CHUNK = 2000
PULL_CHUNK = 5000
CONNECT_TIMEOUT_S = 5
# pg_advisory_xact_lock keys ("regd" + purpose): one for schema creation, one for pushes.
_SCHEMA_LOCK = 0x72656764_00000001
_PUSH_LOCK = 0x72656764_00000002

SETTING_HUB_URL = "hub_url"
_LAST_SYNC = "sync.last_sync"
_LAST_HUB = "sync.last_hub"

hub_metadata = MetaData()
hub_meta = Table(
    "hub_meta", hub_metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
hub_events = Table(
    "hub_events", hub_metadata,
    Column("hub_order", BigInteger, primary_key=True, autoincrement=True),
    Column("id", UUID(as_uuid=False), nullable=False, unique=True),
    Column("station_id", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("operator", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the station's canonical JSON text, unchanged
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
_PUSH_SCRATCH_SQL = ("CREATE TEMPORARY TABLE IF NOT EXISTS hub_push (position int, id uuid, station_id text, seq bigint, "
                     "recorded_at text, operator text, kind text, payload text) ON COMMIT DELETE ROWS")
_PUSH_COPY_SQL = "COPY hub_push (position, id, station_id, seq, recorded_at, operator, kind, payload) FROM STDIN"
_PUSH_SQL = ("INSERT INTO hub_events (id, station_id, seq, recorded_at, operator, kind, payload) "
             "SELECT id, station_id, seq, recorded_at, operator, kind, payload FROM hub_push ORDER BY position "
             "ON CONFLICT (id) DO NOTHING")
_PULL_SQL = ("SELECT hub_order, id::text, station_id, seq, recorded_at, operator, kind, payload FROM hub_events "
             "WHERE hub_order > %s AND station_id <> %s ORDER BY hub_order LIMIT %s")


def _hub_errors() -> tuple[type[Exception], ...]:
    """What a hub call may raise. Evaluated only when one fails: psycopg is imported on demand, which
    keeps ~50 ms off the start-up of every station that never talks to a hub."""
    import psycopg

    return (DBAPIError, psycopg.Error)


class SyncError(RegdeskError, RuntimeError):
    """The hub refused or the data does not fit; a clear message for the operator."""


class HubUnreachable(SyncError):
    """No connection to the hub (offline, wrong host, server down). The station keeps working."""


@dataclass(frozen=True)
class SyncReport:
    hub: str  # display URL, password hidden
    hub_id: str
    pushed: int  # events sent (the hub ignores ones it already had)
    pulled: int  # events received
    added: int  # of those, new to this station
    waiting: int  # local events still not on the hub (0 after a complete cycle)
    finished_at: datetime


@dataclass(frozen=True)
class SyncStatus:
    """What the status indicator shows. `online` is None when no hub was tried yet."""

    hub: str
    online: bool | None
    last_sync: datetime | None
    waiting: int | None  # None when no hub is known yet
    message: str = ""


# --- the hub -----------------------------------------------------------------------------------


def display_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid URL>"


class Hub:
    """A connection to one hub database. Cheap to create; connects lazily."""

    def __init__(self, url: str, *, connect_timeout: int = CONNECT_TIMEOUT_S) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise SyncError(f"{url!r} is not a database URL; expected postgresql+psycopg://user@host:5432/db") from None
        if not parsed.drivername.startswith("postgresql"):
            raise SyncError(f"the hub must be PostgreSQL (postgresql+psycopg://...), not {parsed.drivername}")
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is the driver we ship
        self.source_url = url
        self.url = parsed
        self.display = parsed.render_as_string(hide_password=True)
        try:
            self.engine: Engine = create_engine(
                parsed, pool_pre_ping=True, pool_size=1, max_overflow=1,
                connect_args={"connect_timeout": connect_timeout, "application_name": "regdesk-sync"})
        except (ArgumentError, NoSuchModuleError) as exc:
            raise SyncError(f"hub {self.display}: {exc}") from None
        self._hub_id: str | None = None
        self._event_code: str | None = None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Hub:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _fail(self, exc: Exception) -> SyncError:
        """A SyncError for an error raised through SQLAlchemy or by the driver's own cursor."""
        if not isinstance(exc, DBAPIError):
            import psycopg

            exc = DBAPIError.instance(None, None, exc, psycopg.Error)
        first_line = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if isinstance(exc, OperationalError):
            return HubUnreachable(f"hub {self.display} is not reachable: {first_line}")
        return SyncError(f"hub {self.display}: {first_line}")

    def read_meta(self) -> dict[str, str]:
        """The hub's settings; {} when the hub schema does not exist yet."""
        try:
            with self.engine.connect() as conn:
                if conn.execute(text("SELECT to_regclass('hub_meta')")).scalar_one() is None:
                    return {}
                return dict(conn.execute(select(hub_meta.c.key, hub_meta.c.value)).all())
        except DBAPIError as exc:
            raise self._fail(exc) from None

    def ensure(self, event_code: str, event_toml: str) -> str:
        """Create the hub schema on first use, claim it for this event, return the hub id."""
        if self._hub_id is not None and self._event_code == event_code:
            return self._hub_id
        try:
            with self.engine.begin() as conn:
                # Two stations starting at once must not both run CREATE TABLE.
                conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
                hub_metadata.create_all(conn, checkfirst=True)
                initial = [{"key": "hub_id", "value": str(uuid.uuid4())}, {"key": "format", "value": HUB_FORMAT},
                           {"key": "event_code", "value": event_code}, {"key": "event_toml", "value": event_toml}]
                conn.execute(pg_insert(hub_meta).on_conflict_do_nothing(index_elements=["key"]), initial)
                meta = dict(conn.execute(select(hub_meta.c.key, hub_meta.c.value)).all())
                if meta.get("format") in _UPGRADABLE_HUB_FORMATS and meta.get("event_code") == event_code:
                    conn.execute(hub_meta.update().where(hub_meta.c.key == "format").values(value=HUB_FORMAT))
                    meta["format"] = HUB_FORMAT
        except DBAPIError as exc:
            raise self._fail(exc) from None
        if meta.get("event_code") != event_code:
            raise SyncError(f"hub {self.display} serves event {meta.get('event_code')!r}, this station serves "
                            f"{event_code!r}; use a separate hub database per event")
        if meta.get("format") != HUB_FORMAT:
            raise SyncError(f"hub {self.display} uses format {meta.get('format')!r}; this regdesk speaks {HUB_FORMAT}: "
                            "update regdesk on this station")
        self._hub_id, self._event_code = meta["hub_id"], event_code
        return self._hub_id

    def push_rows(self, rows: list[tuple]) -> None:
        """Insert one chunk of events (ignoring ids the hub has) and commit it. Each row is
        (id, station_id, seq, recorded_at, operator, kind, payload)."""
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                cursor = conn.connection.driver_connection.cursor()
                # COPY into a scratch table, then one INSERT: pushes hold the hub's push lock, so
                # their speed is every other station's wait (row-by-row INSERTs were 5x slower).
                cursor.execute(_PUSH_SCRATCH_SQL)
                with cursor.copy(_PUSH_COPY_SQL) as copy:
                    for position, row in enumerate(rows):
                        copy.write_row((position, *row))
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_PUSH_LOCK,))
                cursor.execute(_PUSH_SQL)
        except _hub_errors() as exc:
            raise self._fail(exc) from None

    def pull_rows(self, after: int, limit: int, *, skip_station: str = "") -> list[tuple]:
        """Rows (hub_order, id, station_id, seq, recorded_at, operator, kind, payload) after hub_order
        `after`, oldest first; `skip_station`'s own events are left out (a station never lacks its
        own events: a restored copy takes a new station id)."""
        try:
            with self.engine.connect() as conn:
                # The driver's cursor, not a Result: a catching-up station pulls hundreds of
                # thousands of rows, and plain tuples are all the merge needs.
                cursor = conn.connection.driver_connection.cursor()
                cursor.execute(_PULL_SQL, (after, skip_station, limit))
                return cursor.fetchall()
        except _hub_errors() as exc:
            raise self._fail(exc) from None

    def event_count(self) -> int:
        try:
            with self.engine.connect() as conn:
                return conn.execute(select(func.count()).select_from(hub_events)).scalar_one()
        except DBAPIError as exc:
            raise self._fail(exc) from None


# --- cursors (station meta) ----------------------------------------------------------------------


def _key(hub_id: str, name: str) -> str:
    return f"sync.{hub_id}.{name}"


def _get(session: Session, key: str, default: str = "") -> str:
    value = session.get(Meta, key)
    return value.value if value is not None else default


def _put(session: Session, key: str, value: str) -> None:
    session.merge(Meta(key=key, value=value))


def _skip_ranges(session: Session, hub_id: str) -> list[list[int]]:
    """local_order ranges that were pulled from this hub: no need to push them back."""
    return json.loads(_get(session, _key(hub_id, "from_hub"), "[]"))


def _add_skip_range(session: Session, hub_id: str, first: int, last: int) -> None:
    ranges = _skip_ranges(session, hub_id)
    if ranges and ranges[-1][1] == first - 1:
        ranges[-1][1] = last
    else:
        ranges.append([first, last])
    _put(session, _key(hub_id, "from_hub"), json.dumps(ranges))


def _in_ranges(local_order: int, ranges: list[list[int]]) -> bool:
    return any(lo <= local_order <= hi for lo, hi in ranges)


def waiting_count(session: Session, hub_id: str) -> int:
    """Local events not yet on this hub (as far as this station knows)."""
    pushed = int(_get(session, _key(hub_id, "pushed"), "0"))
    total = session.execute(select(func.count()).select_from(EventRow).where(EventRow.local_order > pushed)).scalar_one()
    for lo, hi in _skip_ranges(session, hub_id):
        if hi > pushed:
            total -= session.execute(select(func.count()).select_from(EventRow).where(
                EventRow.local_order >= max(lo, pushed + 1), EventRow.local_order <= hi)).scalar_one()
    return total


# --- the cycle -----------------------------------------------------------------------------------


def _unpushed(station: Station, hub_id: str, limit: int) -> tuple[list[tuple], int]:
    """The next chunk to push and the local_order cursor after it (read-only; no lock held)."""
    with station.sessions() as session:
        cursor = int(_get(session, _key(hub_id, "pushed"), "0"))
        ranges = _skip_ranges(session, hub_id)
        rows = session.execute(
            select(EventRow.local_order, *(getattr(EventRow, c) for c in EVENT_COLUMNS))
            .where(EventRow.local_order > cursor).order_by(EventRow.local_order).limit(limit)
        ).all()
    if not rows:
        return [], cursor
    chunk = [tuple(row[1:]) for row in rows if not _in_ranges(row[0], ranges)]
    return chunk, rows[-1][0]


def push(station: Station, hub: Hub, *, chunk_size: int = PUSH_CHUNK,
         should_stop: Callable[[], bool] = lambda: False) -> int:
    hub_id = hub.ensure(station.config.code, station.config.source_text)
    sent = 0
    while not should_stop():
        rows, cursor = _unpushed(station, hub_id, chunk_size)
        with station.sessions() as session:
            if cursor == int(_get(session, _key(hub_id, "pushed"), "0")):
                break
        hub.push_rows(rows)  # committed on the hub before the cursor moves: a crash re-sends, never skips
        sent += len(rows)
        with station.transaction() as session:
            _put(session, _key(hub_id, "pushed"), str(cursor))
            _put(session, _LAST_HUB, hub_id)
            ranges = [r for r in _skip_ranges(session, hub_id) if r[1] > cursor]
            _put(session, _key(hub_id, "from_hub"), json.dumps(ranges))
    return sent


def _incoming(rows: list[tuple]) -> Iterator[Incoming]:
    for row in rows:
        try:
            yield incoming_from_row(row[1:])
        except MergeError as exc:
            raise SyncError(f"hub event #{row[0]} is malformed: {exc}") from None


def pull(station: Station, hub: Hub, *, chunk_size: int = PULL_CHUNK,
         should_stop: Callable[[], bool] = lambda: False) -> tuple[int, int]:
    """Returns (received, new to this station)."""
    hub_id = hub.ensure(station.config.code, station.config.source_text)
    received = added = 0
    with station.sessions() as session:
        cursor = int(_get(session, _key(hub_id, "pulled"), "0"))
    while not should_stop():
        rows = hub.pull_rows(cursor, chunk_size, skip_station=station.station_id)  # network first, lock-free
        if not rows:
            break
        incoming = list(_incoming(rows))
        with station.transaction() as session:
            try:
                result = merge(session, incoming)
            except MergeError as exc:
                raise SyncError(f"pull from {hub.display} stopped at hub event #{rows[0][0]}: {exc}") from None
            if result.first_local_order is not None:
                _add_skip_range(session, hub_id, result.first_local_order, result.last_local_order)
            cursor = rows[-1][0]
            _put(session, _key(hub_id, "pulled"), str(cursor))
        received += result.received
        added += result.added_count
    return received, added


def sync_once(station: Station, hub: Hub, *, push_chunk: int = PUSH_CHUNK, pull_chunk: int = PULL_CHUNK,
              should_stop: Callable[[], bool] = lambda: False) -> SyncReport:
    """Push, then pull (like pretixSCAN: upload first, then download)."""
    hub_id = hub.ensure(station.config.code, station.config.source_text)
    pushed = push(station, hub, chunk_size=push_chunk, should_stop=should_stop)
    pulled, added = pull(station, hub, chunk_size=pull_chunk, should_stop=should_stop)
    now = station.clock.now()
    with station.transaction() as session:
        _put(session, _LAST_SYNC, format_utc(now))
        _put(session, _LAST_HUB, hub_id)
        waiting = waiting_count(session, hub_id)
    return SyncReport(hub.display, hub_id, pushed, pulled, added, waiting, now)


def sync_with(station: Station, url: str, **kwargs) -> SyncReport:  # type: ignore[no-untyped-def]
    with Hub(url) as hub:
        return sync_once(station, hub, **kwargs)


def local_status(station: Station, *, online: bool | None = None, message: str = "") -> SyncStatus:
    """Last sync and events waiting, from the station's own records (no network)."""
    url = station.setting(SETTING_HUB_URL)
    with station.sessions() as session:
        last = _get(session, _LAST_SYNC)
        hub_id = _get(session, _LAST_HUB)
        waiting = waiting_count(session, hub_id) if hub_id else None
        if waiting is None:
            from regdesk.store import eventlog

            waiting = eventlog.count(session) if url else None
    return SyncStatus(display_url(url) if url else "", online, parse_utc(last) if last else None, waiting, message)


class AutoSync:
    """Background sync for an interactive station: the TUI calls `cycle` from a thread worker
    every `interval` seconds (one short worker per cycle, never a long-lived one).

    When the station setting "hub_url" is set: push, then pull, in small chunks so a scan or an
    issuance never waits long for SQLite's write lock. A failure only marks the station
    offline; it keeps working and tries again next time. `latest` is replaced (never mutated)
    after every attempt, so the UI thread can read it at any time.
    """

    def __init__(self, station: Station, *, interval: float | None = None) -> None:
        self.station = station
        self.interval = interval if interval is not None else float(station.setting("sync_interval", "30") or 30)
        self.latest: SyncStatus = local_status(station)
        self.busy = False  # a cycle is running; the caller skips starting another
        self._hub: Hub | None = None

    def cycle(self, should_stop: Callable[[], bool] = lambda: False) -> SyncStatus:
        self.busy = True
        try:
            url = self.station.setting(SETTING_HUB_URL)
            if not url:
                self.close()
                self.latest = local_status(self.station, message="no hub configured")
                return self.latest
            try:
                if self._hub is None or self._hub.source_url != url:
                    self.close()
                    self._hub = Hub(url)
                report = sync_once(self.station, self._hub, push_chunk=500, pull_chunk=500, should_stop=should_stop)
                self.latest = SyncStatus(report.hub, True, report.finished_at, report.waiting)
            except SyncError as exc:  # HubUnreachable included: offline, keep working
                self.latest = local_status(self.station, online=False, message=str(exc))
            return self.latest
        finally:
            self.busy = False

    def close(self) -> None:
        if self._hub is not None:
            self._hub.close()
            self._hub = None


__all__ = ["AutoSync", "Hub", "HubUnreachable", "SyncError", "SyncReport", "SyncStatus", "display_url", "local_status",
           "pull", "push", "sync_once", "sync_with", "waiting_count", "SETTING_HUB_URL"]
