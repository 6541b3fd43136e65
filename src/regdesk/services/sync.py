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
starts from zero instead of trusting cursors that belong to another database. A hub whose
events table was dropped gets a new id; a hub restored from an older copy keeps its id but lacks
the last event this station pushed, and is noticed by that: the station then pushes everything
again (the hub ignores what it has), so a hub reset never silently loses a station's events.

Nothing on the hub is trusted: every pulled row goes through the verifying merge. A row that
does not verify is left out and raised as a security alert; the pull goes on, so one rogue row
cannot stop a meeting's sync.

Visibility rule: a pull must never skip a row that commits late with a smaller hub_order, so
pushes take a transaction-level advisory lock; hub_order is assigned and committed in lock
order and a reader that sees row N has seen every row below N.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain.events import EventKind, format_utc, parse_utc
from regdesk.errors import RegdeskError
from regdesk.services.merge import (
    Incoming,
    MergeError,
    TrustContext,
    alert_payloads,
    held_events,
    incoming_from_row,
    merge,
    store_held,
    travelling_rows,
)
from regdesk.services.station import SYSTEM_OPERATOR, Station, StationError, seal_own_head
from regdesk.store.models import Meta
from regdesk.store.queries import events as event_queries
from regdesk.store.queries import hub as hub_queries

# Format 3: events carry their place in their station's signed hash chain. Hubs of older formats
# hold events nobody can verify: a meeting created with this regdesk uses a new hub database.
HUB_FORMAT = "3"
PUSH_CHUNK = 2000
PULL_CHUNK = 5000
# A station in use (the TUI's auto-sync) merges in small transactions: a scan or an issuance waits
# for SQLite's write lock at most one chunk's merge (about 0.1 ms an event on the reference box).
INTERACTIVE_PUSH_CHUNK = 500
INTERACTIVE_PULL_CHUNK = 100
CONNECT_TIMEOUT_S = 5

SETTING_HUB_URL = "hub_url"
_LAST_SYNC = "sync.last_sync"
_LAST_HUB = "sync.last_hub"


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
                parsed,
                pool_pre_ping=True,
                pool_size=1,
                max_overflow=1,
                connect_args={"connect_timeout": connect_timeout, "application_name": "regdesk-sync"},
            )
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
                return hub_queries.read_meta(conn)
        except DBAPIError as exc:
            raise self._fail(exc) from None

    def ensure(self, event_code: str, event_toml: str, root: str) -> str:
        """Create the hub schema on first use, claim it for this meeting, return the hub id."""
        if self._hub_id is not None and self._event_code == event_code:
            return self._hub_id
        try:
            with self.engine.begin() as conn:
                initial = [
                    {"key": "hub_id", "value": str(uuid.uuid4())},
                    {"key": "format", "value": HUB_FORMAT},
                    {"key": "event_code", "value": event_code},
                    {"key": "event_toml", "value": event_toml},
                    {"key": "root", "value": root},
                ]
                meta = hub_queries.ensure_schema(conn, initial, new_hub_id=str(uuid.uuid4()))
        except DBAPIError as exc:
            raise self._fail(exc) from None
        if meta.get("event_code") != event_code:
            raise SyncError(
                f"hub {self.display} serves event {meta.get('event_code')!r}, this station serves "
                f"{event_code!r}; use a separate hub database per event"
            )
        if meta.get("format") != HUB_FORMAT:
            raise SyncError(
                f"hub {self.display} uses format {meta.get('format')!r}; this regdesk speaks {HUB_FORMAT}. "
                "A meeting created with this regdesk needs a new hub database"
            )
        if meta.get("root") != root:
            raise SyncError(
                f"hub {self.display} serves another meeting (root {str(meta.get('root'))[:20]}, this "
                f"station's root is {root}); use the hub of this meeting"
            )
        self._hub_id, self._event_code = meta["hub_id"], event_code
        return self._hub_id

    def has_event(self, event_id: str) -> bool:
        try:
            with self.engine.connect() as conn:
                return hub_queries.has_event(conn, event_id)
        except DBAPIError as exc:
            raise self._fail(exc) from None

    def max_order(self) -> int:
        try:
            with self.engine.connect() as conn:
                return hub_queries.max_order(conn)
        except DBAPIError as exc:
            raise self._fail(exc) from None

    def put_ticket(self, ticket_id: str, box: bytes) -> None:
        try:
            with self.engine.begin() as conn:
                hub_queries.put_ticket(conn, ticket_id, box)
        except DBAPIError as exc:
            raise self._fail(exc) from None

    def take_ticket(self, ticket_id: str) -> bytes | None:
        """The ticket, removed from the hub: a join code works once."""
        try:
            with self.engine.begin() as conn:
                return hub_queries.take_ticket(conn, ticket_id)
        except DBAPIError as exc:
            raise self._fail(exc) from None

    def push_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert one chunk of events (ignoring ids the hub has) and commit it. Each row is in
        TRAVEL_COLUMNS order."""
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                hub_queries.push_rows(conn, rows)
        except _hub_errors() as exc:
            raise self._fail(exc) from None

    def pull_rows(self, after: int, limit: int, *, skip_station: str = "") -> list[tuple[Any, ...]]:
        """Rows (hub_order, id, station_id, seq, recorded_at, operator, kind, payload) after hub_order
        `after`, oldest first; `skip_station`'s own events are left out (a station never lacks its
        own events: a restored copy takes a new station id)."""
        try:
            with self.engine.connect() as conn:
                return hub_queries.pull_rows(conn, after, limit, skip_station)
        except _hub_errors() as exc:
            raise self._fail(exc) from None

    def event_count(self) -> int:
        try:
            with self.engine.connect() as conn:
                return hub_queries.event_count(conn)
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
    ranges: list[list[int]] = json.loads(_get(session, _key(hub_id, "from_hub"), "[]"))  # written by _add_skip_range
    return ranges


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
    total = event_queries.count_in_local_order(session, after=pushed)
    for lo, hi in _skip_ranges(session, hub_id):
        if hi > pushed:
            total -= event_queries.count_in_local_order(session, after=max(lo, pushed + 1) - 1, through=hi)
    return total


# --- the cycle -----------------------------------------------------------------------------------


def _ensure(station: Station, hub: Hub) -> str:
    if not station.root_public_key:
        raise SyncError(
            "this station was made before the chain of trust: its events cannot be verified by other "
            "stations. Create the meeting again with this regdesk (see README, Trust)"
        )
    return hub.ensure(station.config.code, station.config.source_text, station.root_fingerprint)


def _unpushed(station: Station, hub_id: str, limit: int, through: int) -> tuple[list[tuple[Any, ...]], int]:
    """The next chunk to push and the local_order cursor after it (read-only; no lock held)."""
    with station.sessions() as session:
        cursor = int(_get(session, _key(hub_id, "pushed"), "0"))
        ranges = _skip_ranges(session, hub_id)
        rows = travelling_rows(session, after_local_order=cursor, through_local_order=through, limit=limit)
    if not rows:
        return [], cursor
    chunk = [tuple(row[1:]) for row in rows if not _in_ranges(row[0], ranges)]
    return chunk, rows[-1][0]


def _notice_reset(station: Station, hub: Hub, hub_id: str) -> bool:
    """True when the hub lost events this station gave it (restored from an older copy): then
    everything is pushed again, and pulled again (both are idempotent)."""
    with station.sessions() as session:
        last_pushed = _get(session, _key(hub_id, "last_pushed_id"))
        pulled = int(_get(session, _key(hub_id, "pulled"), "0"))
    if not last_pushed and not pulled:
        return False
    if (last_pushed and not hub.has_event(last_pushed)) or hub.max_order() < pulled:
        with station.transaction() as session:
            for name in ("pushed", "pulled", "from_hub", "last_pushed_id"):
                session.query(Meta).filter(Meta.key == _key(hub_id, name)).delete()
        return True
    return False


def push(
    station: Station, hub: Hub, *, chunk_size: int = PUSH_CHUNK, should_stop: Callable[[], bool] = lambda: False
) -> int:
    hub_id = _ensure(station, hub)
    try:
        through = seal_own_head(station)  # everything of ours we send is covered by our signature
    except StationError as exc:
        raise SyncError(str(exc)) from None
    sent = 0
    while not should_stop():
        rows, cursor = _unpushed(station, hub_id, chunk_size, through)
        with station.sessions() as session:
            if cursor == int(_get(session, _key(hub_id, "pushed"), "0")):
                break
        station.give_way.wait_until_clear()
        hub.push_rows(rows)  # committed on the hub before the cursor moves: a crash re-sends, never skips
        sent += len(rows)
        with station.transaction() as session:
            _put(session, _key(hub_id, "pushed"), str(cursor))
            _put(session, _LAST_HUB, hub_id)
            if rows:
                _put(session, _key(hub_id, "last_pushed_id"), str(rows[-1][0]))
            ranges = [r for r in _skip_ranges(session, hub_id) if r[1] > cursor]
            _put(session, _key(hub_id, "from_hub"), json.dumps(ranges))
    return sent


def _incoming(rows: list[tuple[Any, ...]]) -> tuple[list[Incoming], list[str]]:
    """The rows that parse, and one line for each that does not (it is skipped, never trusted)."""
    good, bad = [], []
    for row in rows:
        try:
            good.append(incoming_from_row(row[1:]))
        except MergeError as exc:
            bad.append(f"hub row #{row[0]} is malformed: {exc}")
    return good, bad


def _retry_newer(station: Station, ctx: TrustContext, held: dict[str, Incoming]) -> int:
    """Held events a newer regdesk made (they carry a payload version) are tried again at every
    pull, not only when more of their station's events arrive: once this station is updated they
    go in. Returns how many were added."""
    newer = [i for i in held.values() if ep.names_a_version(i.event.payload)]
    if not newer:
        return 0
    with station.transaction() as session:
        try:
            result = merge(
                session, newer, ctx, strict=False, now_text=format_utc(station.clock.now()), held=held, from_hub=True
            )
        except MergeError as exc:
            raise SyncError(f"held events made by a newer regdesk cannot be merged: {exc}") from None
        for payload in alert_payloads("held events", result.rejected):
            station.record(session, EventKind.SECURITY_ALERT, payload, SYSTEM_OPERATOR)
    return result.added_count


def pull(
    station: Station, hub: Hub, *, chunk_size: int = PULL_CHUNK, should_stop: Callable[[], bool] = lambda: False
) -> tuple[int, int]:
    """Returns (received, new to this station). Rows that do not verify are skipped and reported
    as security alerts; unverifiable-yet rows are held for the next pull."""
    hub_id = _ensure(station, hub)
    ctx = TrustContext(station.config.code, station.root_public_key, station.station_id)
    received = added = 0
    with station.sessions() as session:
        cursor = int(_get(session, _key(hub_id, "pulled"), "0"))
        held = held_events(session)
    added += _retry_newer(station, ctx, held)
    # Events this pull holds in memory only (their seal usually comes in the next chunk), by id
    # with their hub_order: the saved cursor stays before the first of them, so a crash re-reads
    # them from the hub instead of losing them; what is still held at the end is written down.
    in_flight: dict[str, int] = {}
    while not should_stop():
        rows = hub.pull_rows(cursor, chunk_size, skip_station=station.station_id)  # network first, lock-free
        if not rows:
            break
        incoming, malformed = _incoming(rows)
        station.give_way.wait_until_clear()  # a scan or a search on screen goes first
        with station.transaction() as session:
            try:
                result = merge(
                    session,
                    incoming,
                    ctx,
                    strict=False,
                    now_text=format_utc(station.clock.now()),
                    held=held,
                    persist_held=False,
                    from_hub=True,
                )
            except MergeError as exc:
                raise SyncError(f"pull from {hub.display} stopped at hub event #{rows[0][0]}: {exc}") from None
            source = f"hub {hub.display}, rows #{rows[0][0]}-#{rows[-1][0]}"
            for payload in alert_payloads(source, result.rejected + result.newer_held):
                station.record(session, EventKind.SECURITY_ALERT, payload, SYSTEM_OPERATOR)
            if malformed:
                station.record(
                    session,
                    EventKind.SECURITY_ALERT,
                    ep.SecurityAlert.about(
                        source=source,
                        reason=f"{malformed[0]}" + (f" (and {len(malformed) - 1} more)" if len(malformed) > 1 else ""),
                        fingerprint=hashlib.sha256("\n".join(malformed).encode()).hexdigest()[:32],
                        count=len(malformed),
                    ),
                    SYSTEM_OPERATOR,
                )
            if result.first_local_order is not None and result.last_local_order is not None:  # set together
                _add_skip_range(session, hub_id, result.first_local_order, result.last_local_order)
            order_of = {row[1]: row[0] for row in rows}
            in_flight.update((event_id, order_of[event_id]) for event_id in result.newly_held)
            for event_id in [e for e in in_flight if e not in held]:
                del in_flight[event_id]  # verified (or refused) since
            cursor = rows[-1][0]
            _put(session, _key(hub_id, "pulled"), str(min(in_flight.values()) - 1 if in_flight else cursor))
        received += result.received
        added += result.added_count
    if in_flight:
        with station.transaction() as session:
            store_held(session, [held[e] for e in in_flight], format_utc(station.clock.now()))
            _put(session, _key(hub_id, "pulled"), str(cursor))
    return received, added


def sync_once(
    station: Station,
    hub: Hub,
    *,
    push_chunk: int = PUSH_CHUNK,
    pull_chunk: int = PULL_CHUNK,
    should_stop: Callable[[], bool] = lambda: False,
) -> SyncReport:
    """Push, then pull (like pretixSCAN: upload first, then download)."""
    hub_id = _ensure(station, hub)
    _notice_reset(station, hub, hub_id)
    pushed = push(station, hub, chunk_size=push_chunk, should_stop=should_stop)
    pulled, added = pull(station, hub, chunk_size=pull_chunk, should_stop=should_stop)
    now = station.clock.now()
    with station.transaction() as session:
        _put(session, _LAST_SYNC, format_utc(now))
        _put(session, _LAST_HUB, hub_id)
        waiting = waiting_count(session, hub_id)
    return SyncReport(hub.display, hub_id, pushed, pulled, added, waiting, now)


def sync_in_use(station: Station, hub: Hub, *, should_stop: Callable[[], bool] = lambda: False) -> SyncReport:
    """sync_once for a station people are working at (the TUI's auto-sync, a drill's stations):
    in the small chunks that keep a scan's wait for the write lock short."""
    return sync_once(
        station, hub, push_chunk=INTERACTIVE_PUSH_CHUNK, pull_chunk=INTERACTIVE_PULL_CHUNK, should_stop=should_stop
    )


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
                report = sync_in_use(self.station, self._hub, should_stop=should_stop)
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


__all__ = [
    "AutoSync",
    "Hub",
    "HubUnreachable",
    "SyncError",
    "SyncReport",
    "SyncStatus",
    "display_url",
    "local_status",
    "pull",
    "push",
    "sync_once",
    "sync_with",
    "waiting_count",
    "SETTING_HUB_URL",
]
