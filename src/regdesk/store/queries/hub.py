"""The sync hub's tables (PostgreSQL) and every statement a station runs on them.

Pushes COPY into a scratch table then INSERT once, under a transaction-level advisory lock (hub_order is
assigned and committed in lock order, so a reader that sees row N has seen every row below N); pulls read
plain tuples from the driver's cursor. Both are measured (bench/): the SQL is unchanged, only named here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    URL,
    BigInteger,
    Column,
    Connection,
    DateTime,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    create_engine,
    func,
    select,
    text,
)

from regdesk.store.eventlog import TRAVEL_COLUMNS

# pg_advisory_xact_lock keys ("regd" + purpose): one for schema creation, one for pushes.
_SCHEMA_LOCK = 0x72656764_00000001
_PUSH_LOCK = 0x72656764_00000002

hub_metadata = MetaData()
hub_meta = Table(
    "hub_meta",
    hub_metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)
hub_events = Table(
    "hub_events",
    hub_metadata,
    Column("hub_order", BigInteger, primary_key=True, autoincrement=True),
    Column("id", Uuid(as_uuid=False), nullable=False, unique=True),
    Column("station_id", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("recorded_at", Text, nullable=False),
    Column("operator", Text, nullable=False),
    Column("operator_role", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the station's canonical JSON text, unchanged
    Column("prev_hash", Text, nullable=False),
    Column("seal", Text, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
# Join tickets waiting for the station they were made for (locked with the one-time join code).
hub_tickets = Table(
    "hub_tickets",
    hub_metadata,
    Column("ticket_id", Text, primary_key=True),
    Column("box", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
_HUB_COLUMNS = ", ".join(TRAVEL_COLUMNS)
_PUSH_SCRATCH_SQL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS hub_push (position int, id uuid, station_id text, seq bigint, "
    "recorded_at text, operator text, operator_role text, kind text, payload text, prev_hash text, "
    "seal text) ON COMMIT DELETE ROWS"
)
_PUSH_COPY_SQL = f"COPY hub_push (position, {_HUB_COLUMNS}) FROM STDIN"
_PUSH_SQL = (
    f"INSERT INTO hub_events ({_HUB_COLUMNS}) SELECT {_HUB_COLUMNS} FROM hub_push ORDER BY position "
    "ON CONFLICT (id) DO NOTHING"
)
_PULL_SQL = (
    f"SELECT hub_order, id::text, {_HUB_COLUMNS.replace('id, ', '', 1)} FROM hub_events "
    "WHERE hub_order > %s AND station_id <> %s ORDER BY hub_order LIMIT %s"
)


def _exists(conn: Connection, table: Table) -> bool:
    return conn.execute(text(f"SELECT to_regclass('{table.name}')")).scalar_one() is not None


def read_meta(conn: Connection) -> dict[str, str]:
    """The hub's settings; {} when the hub schema does not exist yet."""
    if not _exists(conn, hub_meta):
        return {}
    return {str(k): str(v) for k, v in conn.execute(select(hub_meta.c.key, hub_meta.c.value)).all()}


def ensure_schema(conn: Connection, initial: list[dict[str, str]], *, new_hub_id: str) -> dict[str, str]:
    """Create the hub's tables when missing and claim its settings (`initial` where unset); a hub whose
    events table was gone gets `new_hub_id`. Returns the settings. Run in one transaction."""
    # Two stations starting at once must not both run CREATE TABLE.
    conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
    had_events = _exists(conn, hub_events)
    hub_metadata.create_all(conn, checkfirst=True)
    conn.execute(_upsert(hub_meta).on_conflict_do_nothing(index_elements=["key"]), initial)
    if not had_events:
        # A hub whose events are gone (dropped, a new database under an old name) is a
        # new hub: stations must not trust their cursors for it.
        conn.execute(hub_meta.update().where(hub_meta.c.key == "hub_id").values(value=new_hub_id))
    return {str(k): str(v) for k, v in conn.execute(select(hub_meta.c.key, hub_meta.c.value)).all()}


def _upsert(table: Table) -> Any:
    """PostgreSQL's INSERT ... ON CONFLICT for `table`. Its dialect module takes tens of milliseconds
    to import: it loads when a hub is first used, not when a desk starts."""
    from sqlalchemy.dialects.postgresql import insert

    return insert(table)


def has_event(conn: Connection, event_id: str) -> bool:
    return conn.execute(select(hub_events.c.hub_order).where(hub_events.c.id == event_id)).first() is not None


def max_order(conn: Connection) -> int:
    order: int = conn.execute(select(func.coalesce(func.max(hub_events.c.hub_order), 0))).scalar_one()
    return order


def event_count(conn: Connection) -> int:
    count: int = conn.execute(select(func.count()).select_from(hub_events)).scalar_one()
    return count


def put_ticket(conn: Connection, ticket_id: str, box: bytes) -> None:
    conn.execute(
        _upsert(hub_tickets)
        .values(ticket_id=ticket_id, box=box)
        .on_conflict_do_update(index_elements=["ticket_id"], set_={"box": box})
    )


def take_ticket(conn: Connection, ticket_id: str) -> bytes | None:
    """The ticket, removed from the hub (None when there is none)."""
    if not _exists(conn, hub_tickets):
        return None
    row = conn.execute(
        hub_tickets.delete().where(hub_tickets.c.ticket_id == ticket_id).returning(hub_tickets.c.box)
    ).first()
    return bytes(row[0]) if row else None


def push_rows(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows in TRAVEL_COLUMNS order, ignoring ids the hub has, in the caller's transaction."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    # COPY into a scratch table, then one INSERT: pushes hold the hub's push lock, so
    # their speed is every other station's wait (row-by-row INSERTs were 5x slower).
    cursor.execute(_PUSH_SCRATCH_SQL)
    with cursor.copy(_PUSH_COPY_SQL) as copy:
        for position, row in enumerate(rows):
            copy.write_row((position, *row))
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_PUSH_LOCK,))
    cursor.execute(_PUSH_SQL)


def pull_rows(conn: Connection, after: int, limit: int, skip_station: str) -> list[tuple[Any, ...]]:
    """(hub_order, id, *the other TRAVEL_COLUMNS) after `after`, oldest first, without `skip_station`'s."""
    # The driver's cursor, not a Result: a catching-up station pulls hundreds of
    # thousands of rows, and plain tuples are all the merge needs.
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(_PULL_SQL, (after, skip_station, limit))
    rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def create_database(admin_url: URL, name: str) -> None:
    """CREATE DATABASE `name` on the server of `admin_url` (a throwaway hub, e.g. for a drill)."""
    _admin_statement(admin_url, f'CREATE DATABASE "{_identifier(name)}"')


def drop_database(admin_url: URL, name: str) -> None:
    """DROP DATABASE `name`, closing its connections first."""
    _admin_statement(admin_url, f'DROP DATABASE IF EXISTS "{_identifier(name)}" WITH (FORCE)')


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {name!r}")
    return name


def _admin_statement(admin_url: URL, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
