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


MIGRATIONS: list[Callable[[Engine], None]] = [_v1_initial]
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
