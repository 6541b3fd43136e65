"""The real PostgreSQL the sync tests run against (REGDESK_TEST_PG_URL; the Makefile sets it).

Each test gets its own freshly created database, dropped afterwards, so tests can run in
parallel (xdist) against one server. A missing variable or an unreachable server FAILS the
test: sync is not tested against a stand-in, and CI must not go green by skipping it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

ENV = "REGDESK_TEST_PG_URL"


def admin_url() -> URL:
    raw = os.environ.get(ENV)
    if not raw:
        pytest.fail(f"{ENV} is not set: the sync tests need a real PostgreSQL, e.g. "
                    f"{ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/postgres (the Makefile exports it)",
                    pytrace=False)
    url = make_url(raw)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def create_database() -> tuple[URL, str]:
    """CREATE DATABASE regdesk_t_<hex>; returns (its URL, its name)."""
    admin = admin_url()
    name = f"regdesk_t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        pytest.fail(f"PostgreSQL at {admin.render_as_string(hide_password=True)} ({ENV}) is not reachable: "
                    f"{str(exc.orig).strip().splitlines()[0]}", pytrace=False)
    finally:
        engine.dispose()
    return admin.set(database=name), name


def drop_database(name: str) -> None:
    engine = create_engine(admin_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


@pytest.fixture
def hub_url() -> Iterator[str]:
    """URL (string, password included) of a brand-new empty database to use as the hub."""
    url, name = create_database()
    yield url.render_as_string(hide_password=False)
    drop_database(name)
