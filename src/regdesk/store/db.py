"""Engine and sessions for a station database: SQLite in WAL mode, managed schema migrations.

Transactions. Any number of processes share one station database (the TUI, CLI commands, a sync
loop, several scan lanes), so who holds SQLite's write lock, and when, is decided here:
- a WRITE transaction (`write_transaction`, `Station.transaction()`, the scanner's session, the
  migrations) starts with `BEGIN IMMEDIATE`: it takes the write lock, waiting up to busy_timeout
  for it, BEFORE it reads the facts it decides on (the holder's badges, the next per-station seq).
  A deferred transaction that reads first and writes later fails instead (SQLITE_BUSY_SNAPSHOT,
  "database is locked") or, worse, decides on facts another process has just changed.
- every other session reads in a plain `BEGIN` (deferred): in WAL mode it sees one consistent
  snapshot and never waits for a writer, so a search or a scan screen never queues behind a merge.
pysqlite's own transaction handling (a BEGIN slipped in before the first INSERT, none before a
SELECT) is switched off and the session's "after_begin" event emits ours: the recipe of
SQLAlchemy's SQLite dialect documentation ("Serializable isolation / Savepoints / Transactional
DDL"), on the session rather than the engine (see `_begin`). Raw DB-API statements on
`session.connection().connection.driver_connection` run inside the same transaction, since it is
the same connection. Core connections (`engine.connect()`) get no BEGIN: each statement is its
own transaction unless they send BEGIN IMMEDIATE themselves, as `migrate` does.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from regdesk.errors import RegdeskError
from regdesk.store import files
from regdesk.store.models import Base

# Ordered schema migrations; PRAGMA user_version records how many have run.
# Add a new function at the end for every schema change; never edit one that has shipped.


def _v1_initial(conn: Connection) -> None:
    Base.metadata.create_all(conn)


def _v2_scans_surrogate_key(conn: Connection) -> None:
    """scans keyed by a surrogate integer instead of the event id; scan counters kept by the
    scan handler instead of a per-row trigger (both to make sync's bulk inserts cheaper)."""
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(scans)")}
    if "id" in columns:  # created by v1 from today's models: already the new shape
        return
    conn.exec_driver_sql("ALTER TABLE scans RENAME TO scans_v1")
    for index in ("ix_scans_serial_point", "ix_scans_day"):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
    Base.metadata.tables["scans"].create(conn)
    names = ", ".join(c.name for c in Base.metadata.tables["scans"].columns if c.name != "id")
    # In arrival order of their events, as the station wrote them.
    conn.exec_driver_sql(
        f"INSERT INTO scans ({names}) SELECT {', '.join('s.' + n for n in names.split(', '))} "
        "FROM scans_v1 AS s LEFT JOIN events AS e ON e.id = s.event_id ORDER BY e.local_order"
    )
    conn.exec_driver_sql("DROP TABLE scans_v1")  # and with it v1's per-row counting trigger


def _v3_chain_of_trust(conn: Connection) -> None:
    """Events carry the recording operator's role and their place in the station's hash chain;
    enrolled stations, revocations, held events and the sign-in throttle get their tables.
    Events recorded before this version have no chain: such a station keeps working alone but
    cannot sync (a meeting is created again with this version; see README, Trust)."""
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(events)")}
    for name, ddl in (
        ("operator_role", "VARCHAR(16) NOT NULL DEFAULT ''"),
        ("prev_hash", "VARCHAR(64) NOT NULL DEFAULT ''"),
        ("hash", "VARCHAR(64) NOT NULL DEFAULT ''"),
        ("seal", "VARCHAR(128)"),
    ):
        if name not in columns:
            conn.exec_driver_sql(f"ALTER TABLE events ADD COLUMN {name} {ddl}")
    for table in ("held_events", "signin_throttle", "stations", "station_revocations"):
        Base.metadata.tables[table].create(conn, checkfirst=True)


def _v4_check_for_badge_and_deliveries(conn: Connection) -> None:
    """identity_checks.for_badge (the badge a check was made against) and badge_deliveries
    (printed or handed-over badges), both filled from the log so an upgraded station agrees with
    a rebuilt one."""
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(identity_checks)")}
    if "for_badge" not in columns:
        conn.exec_driver_sql("ALTER TABLE identity_checks ADD COLUMN for_badge VARCHAR(16)")
        conn.exec_driver_sql(
            "UPDATE identity_checks SET for_badge = (SELECT json_extract(e.payload, '$.for_badge') "
            "FROM events AS e WHERE e.id = identity_checks.event_id)"
        )
    tables = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "badge_deliveries" not in tables:
        Base.metadata.tables["badge_deliveries"].create(conn)
        # The earliest delivery of each serial, as the projection handler keeps it.
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO badge_deliveries (serial, event_id, delivered_at, printer) "
            "SELECT json_extract(payload, '$.serial'), id, recorded_at, "
            "coalesce(json_extract(payload, '$.printer'), '') FROM events WHERE kind = 'badge_printed' "
            "ORDER BY recorded_at, id"
        )


def _v5_badge_collector(conn: Connection) -> None:
    """badges.collected_by and badges.authorisation: a badge a delegation's focal point collected
    for its holder, on the authority of a letter; filled from the log like a rebuild would."""
    columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(badges)")}
    for name, ddl in (
        ("collected_by", "VARCHAR(64) NOT NULL DEFAULT ''"),
        ("authorisation", "TEXT NOT NULL DEFAULT ''"),
    ):
        if name not in columns:
            conn.exec_driver_sql(f"ALTER TABLE badges ADD COLUMN {name} {ddl}")
    conn.exec_driver_sql(
        "UPDATE badges SET collected_by = coalesce((SELECT json_extract(e.payload, '$.collected_by') FROM events AS e "
        "WHERE e.id = badges.issued_event_id), ''), authorisation = coalesce((SELECT json_extract(e.payload, "
        "'$.authorisation') FROM events AS e WHERE e.id = badges.issued_event_id), '') WHERE EXISTS (SELECT 1 FROM "
        "events AS e WHERE e.id = badges.issued_event_id AND json_extract(e.payload, '$.collected_by') IS NOT NULL)"
    )


def _v6_passes(conn: Connection) -> None:
    """temporary_passes: the contingency stock of temporary passes (a new projection; the log of an
    older station holds no pass events, so there is nothing to fill)."""
    Base.metadata.tables["temporary_passes"].create(conn, checkfirst=True)
    for index in Base.metadata.tables["temporary_passes"].indexes:
        index.create(conn, checkfirst=True)


def _v7_photos(conn: Connection) -> None:
    """photos: the newest photo of each participant (the event that holds it and its hashes),
    filled from the log like a rebuild would."""
    Base.metadata.tables["photos"].create(conn, checkfirst=True)
    conn.exec_driver_sql(
        "INSERT OR REPLACE INTO photos (participant_id, event_id, order_key, sha256, source_sha256) "
        "SELECT json_extract(payload, '$.participant_id'), id, "
        "recorded_at || ' ' || station_id || ' ' || printf('%010d', seq) AS k, json_extract(payload, '$.sha256'), "
        "json_extract(payload, '$.source_sha256') FROM events WHERE kind = 'photo_imported' ORDER BY k"
    )


MIGRATIONS: list[Callable[[Connection], None]] = [
    _v1_initial,
    _v2_scans_surrogate_key,
    _v3_chain_of_trust,
    _v4_check_for_badge_and_deliveries,
    _v5_badge_collector,
    _v6_passes,
    _v7_photos,
]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RegdeskError):
    pass


class NotAStationDatabase(RegdeskError):
    exit_code = 74


# The execution option that marks a connection's transactions as writes (BEGIN IMMEDIATE).
WRITE_OPTIONS = {"regdesk_write": True}


def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_conn.isolation_level = None  # pysqlite emits no BEGIN of its own; _begin does
    cur = dbapi_conn.cursor()
    # First, so that even switching a new database to WAL waits for another process's lock.
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode is durable across application crashes (kill -9); only an OS crash or
    # power loss can drop the last transactions.
    cur.execute("PRAGMA synchronous=NORMAL")
    # A sync chunk touches thousands of index pages: with SQLite's default 2 MB cache they spill
    # to the WAL mid-transaction and are written again at commit. Memory is used only as needed.
    cur.execute("PRAGMA cache_size=-65536")
    # Checkpoint every ~40 MB of WAL instead of 4 MB: pages rewritten by many transactions reach
    # the database file once per checkpoint, so bulk merges write far less.
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def driver(bind: Session | Connection) -> sqlite3.Connection:
    """The DB-API connection under a session's (or Core connection's) transaction: for the measured
    fast paths (bulk inserts, the scan query) that skip SQLAlchemy's per-row work. Same connection,
    same transaction."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def _begin(_session: Session, _transaction: object, connection: Connection) -> None:
    """SessionEvents.after_begin: SQLAlchemy has begun the session's transaction on `connection`
    (nothing is sent to pysqlite with isolation_level=None); SQLite's own begins here.
    A session event, not the engine's "begin" event of the SQLAlchemy recipe: any engine event
    makes SQLAlchemy dispatch events around every statement, a tenth of a scan's time."""
    write = connection.get_execution_options().get("regdesk_write")
    driver(connection).execute("BEGIN IMMEDIATE" if write else "BEGIN")


def _begin_strict(_session: Session, _transaction: object, connection: Connection) -> None:
    """_begin, and a read transaction that tries to write fails at once ("attempt to write a
    readonly database") instead of racing another process for the lock it did not take first."""
    write = connection.get_execution_options().get("regdesk_write")
    raw = driver(connection)
    raw.execute(f"PRAGMA query_only={0 if write else 1}")
    raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")


def _writable_again(dbapi_conn, _record, _reset_state=None) -> None:  # type: ignore[no-untyped-def]
    dbapi_conn.execute("PRAGMA query_only=0")  # back in the pool: whoever takes it next decides


# Set by the test suite (tests/conftest.py), inherited by the processes it starts: every write
# made through a read session is then an error, so the rule above is checked on every path tested.
STRICT_ENV = "REGDESK_STRICT_TRANSACTIONS"


def _strict() -> bool:
    return os.environ.get(STRICT_ENV) == "1"


def make_engine(path: Path | str) -> Engine:
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _on_connect)
    if _strict():
        event.listen(engine, "reset", _writable_again)
    return engine


def session_factory(bind: Engine, **options: object) -> sessionmaker[Session]:
    """Sessions on a station database: every transaction a read (BEGIN), or a write (BEGIN
    IMMEDIATE) when its connection carries WRITE_OPTIONS (`writer`, `write_transaction`)."""
    sessions: sessionmaker[Session] = sessionmaker(bind, **options)  # type: ignore[call-overload]
    event.listen(sessions, "after_begin", _begin_strict if _strict() else _begin)
    return sessions


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), whose sessions' transactions start with BEGIN IMMEDIATE."""
    return engine.execution_options(**WRITE_OPTIONS)


class _WriterQueue:
    """This process's writers to one database, first come first served.

    SQLite's own wait for its write lock is a sleep on a schedule (1, 2, 5, 10, 15... ms), retried:
    a scan that finds a sync's merge chunk holding the lock sleeps past the moment it is freed, and
    the merge, taking the lock again at once for its next chunk, can win it over and over. Inside
    one process the writers therefore queue here first: the lock is handed to the next in line the
    moment it is released. Between processes SQLite's lock still decides, as before. A writer that
    waited `TURN_TIMEOUT` goes ahead without its turn (SQLite serialises it anyway): a mistake here
    can slow a write, never stop one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Event] = deque()

    @contextmanager
    def turn(self, timeout: float) -> Iterator[None]:
        ticket: threading.Event | None = None
        with self._lock:
            if self._held or self._waiting:
                ticket = threading.Event()
                self._waiting.append(ticket)
            else:
                self._held = True
        holding = True
        if ticket is not None and not ticket.wait(timeout):
            with self._lock:
                if not ticket.is_set():  # not handed over meanwhile: leave the line
                    self._waiting.remove(ticket)
                    holding = False
        try:
            yield
        finally:
            if holding:
                with self._lock:
                    if self._waiting:
                        self._waiting.popleft().set()  # handed over: still held
                    else:
                        self._held = False


TURN_TIMEOUT = 10.0  # seconds, as SQLite's busy_timeout
_QUEUES: dict[str, _WriterQueue] = {}  # by the database file's real path
_QUEUE_OF_NAME: dict[str, _WriterQueue] = {}  # by the name a caller gave: no path resolution per write
_QUEUES_LOCK = threading.Lock()


def writer_turn(database: str | None) -> _WriterQueue:
    """The queue of this process's writers to `database` (a path; the engine's url.database)."""
    name = database or ""
    queue = _QUEUE_OF_NAME.get(name)
    if queue is not None:
        return queue
    with _QUEUES_LOCK:
        queue = _QUEUES.setdefault(os.path.realpath(name) if name else "", _WriterQueue())
        _QUEUE_OF_NAME[name] = queue
        return queue


@contextmanager
def write_transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction holds the write lock from its first statement: commits on
    success, rolls back everything on any exception."""
    bind = sessions.kw.get("bind")
    database = bind.url.database if isinstance(bind, Engine) else None
    with writer_turn(database).turn(TURN_TIMEOUT), sessions.begin() as session:
        session.connection(execution_options=WRITE_OPTIONS)  # BEGIN IMMEDIATE, now
        yield session


def migrate(engine: Engine, *, existing: bool = False) -> int:
    """Bring the schema up to date. `existing`: the file must already be a station database;
    one that never was (a stranger's SQLite file, an init that died first) is refused untouched."""
    with engine.connect() as conn:
        current = int(conn.execute(text("PRAGMA user_version")).scalar_one())
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{engine.url.database}: database schema v{current} is newer than this regdesk "
            f"(v{SCHEMA_VERSION}); install the regdesk version the other stations run"
        )
    if existing and current == 0:
        raise NotAStationDatabase(f"{engine.url.database} is not a regdesk station database; it was left as it is")
    if current == SCHEMA_VERSION:
        return current
    # All steps in one write transaction, the version read again under the lock: two processes
    # opening a new or older database at once migrate it once, and a crash leaves the old one.
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA query_only=0")  # (a pooled connection of a strict read session)
        conn.exec_driver_sql("BEGIN IMMEDIATE")
        current = conn.execute(text("PRAGMA user_version")).scalar_one()
        for number in range(current, SCHEMA_VERSION):
            MIGRATIONS[number](conn)
        conn.execute(text(f"PRAGMA user_version={SCHEMA_VERSION}"))
        conn.commit()
    return SCHEMA_VERSION


def open_database(path: Path | str, *, existing: bool = False) -> tuple[Engine, sessionmaker[Session]]:
    if not existing and not Path(path).exists():
        files.create_private(path)  # owner-only before SQLite writes a byte (its -wal/-shm follow)
    engine = make_engine(path)
    try:
        migrate(engine, existing=existing)
    except BaseException:
        engine.dispose()
        raise
    return engine, session_factory(engine, expire_on_commit=False)
