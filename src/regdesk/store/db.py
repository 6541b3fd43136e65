"""Engine and sessions for a station database: SQLite in WAL mode, managed schema migrations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from regdesk.store.models import Base

# Ordered schema migrations; PRAGMA user_version records how many have run.
# Add a new function at the end for every schema change; never edit one that has shipped.


def _v1_initial(engine: Engine) -> None:
    Base.metadata.create_all(engine)


def _v2_scans_surrogate_key(engine: Engine) -> None:
    """scans keyed by a surrogate integer instead of the event id; scan counters kept by the
    scan handler instead of a per-row trigger (both to make sync's bulk inserts cheaper)."""
    with engine.begin() as conn:
        columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(scans)")}
        if "id" in columns:  # created by v1 from today's models: already the new shape
            return
        conn.exec_driver_sql("ALTER TABLE scans RENAME TO scans_v1")
        for index in ("ix_scans_serial_point", "ix_scans_day"):
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index}")
        Base.metadata.tables["scans"].create(conn)
        names = ", ".join(c.name for c in Base.metadata.tables["scans"].columns if c.name != "id")
        # In arrival order of their events, as the station wrote them.
        conn.exec_driver_sql(f"INSERT INTO scans ({names}) SELECT {', '.join('s.' + n for n in names.split(', '))} "
                             "FROM scans_v1 AS s LEFT JOIN events AS e ON e.id = s.event_id ORDER BY e.local_order")
        conn.exec_driver_sql("DROP TABLE scans_v1")  # and with it v1's per-row counting trigger


def _v3_chain_of_trust(engine: Engine) -> None:
    """Events carry the recording operator's role and their place in the station's hash chain;
    enrolled stations, revocations, held events and the sign-in throttle get their tables.
    Events recorded before this version have no chain: such a station keeps working alone but
    cannot sync (a meeting is created again with this version; see README, Trust)."""
    with engine.begin() as conn:
        columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(events)")}
        for name, ddl in (("operator_role", "VARCHAR(16) NOT NULL DEFAULT ''"),
                          ("prev_hash", "VARCHAR(64) NOT NULL DEFAULT ''"),
                          ("hash", "VARCHAR(64) NOT NULL DEFAULT ''"), ("seal", "VARCHAR(128)")):
            if name not in columns:
                conn.exec_driver_sql(f"ALTER TABLE events ADD COLUMN {name} {ddl}")
        for table in ("held_events", "signin_throttle", "stations", "station_revocations"):
            Base.metadata.tables[table].create(conn, checkfirst=True)


def _v4_check_for_badge_and_deliveries(engine: Engine) -> None:
    """identity_checks.for_badge (the badge a check was made against) and badge_deliveries
    (printed or handed-over badges), both filled from the log so an upgraded station agrees with
    a rebuilt one."""
    with engine.begin() as conn:
        columns = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(identity_checks)")}
        if "for_badge" not in columns:
            conn.exec_driver_sql("ALTER TABLE identity_checks ADD COLUMN for_badge VARCHAR(16)")
            conn.exec_driver_sql(
                "UPDATE identity_checks SET for_badge = (SELECT json_extract(e.payload, '$.for_badge') "
                "FROM events AS e WHERE e.id = identity_checks.event_id)")
        tables = {row[0] for row in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "badge_deliveries" not in tables:
            Base.metadata.tables["badge_deliveries"].create(conn)
            # The earliest delivery of each serial, as the projection handler keeps it.
            conn.exec_driver_sql(
                "INSERT OR IGNORE INTO badge_deliveries (serial, event_id, delivered_at, printer) "
                "SELECT json_extract(payload, '$.serial'), id, recorded_at, "
                "coalesce(json_extract(payload, '$.printer'), '') FROM events WHERE kind = 'badge_printed' "
                "ORDER BY recorded_at, id")


MIGRATIONS: list[Callable[[Engine], None]] = [_v1_initial, _v2_scans_surrogate_key, _v3_chain_of_trust,
                                              _v4_check_for_badge_and_deliveries]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    pass


def _on_connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode is durable across application crashes (kill -9); only an OS crash or
    # power loss can drop the last transactions.
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    # A sync chunk touches thousands of index pages: with SQLite's default 2 MB cache they spill
    # to the WAL mid-transaction and are written again at commit. Memory is used only as needed.
    cur.execute("PRAGMA cache_size=-65536")
    # Checkpoint every ~40 MB of WAL instead of 4 MB: pages rewritten by many transactions reach
    # the database file once per checkpoint, so bulk merges write far less.
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(path: Path | str) -> Engine:
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _on_connect)
    return engine


def migrate(engine: Engine) -> int:
    with engine.connect() as conn:
        current = conn.execute(text("PRAGMA user_version")).scalar_one()
    if current > SCHEMA_VERSION:
        raise SchemaTooNew(f"database schema v{current} is newer than this regdesk (v{SCHEMA_VERSION})")
    for number in range(current, SCHEMA_VERSION):
        MIGRATIONS[number](engine)
        with engine.begin() as conn:
            conn.execute(text(f"PRAGMA user_version={number + 1}"))
    return SCHEMA_VERSION


def open_database(path: Path | str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(path)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
