"""Shared fixtures: stations on throwaway SQLite files, a clock we control, seeded participants."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

# Every write made through a read session fails in the tests and in the processes they start
# (store/db.py): a write must take the lock first, in Station.transaction().
os.environ["REGDESK_STRICT_TRANSACTIONS"] = "1"

from meeting import EVENT_TOML, ROOT, SUPERVISOR, close_founders, enrol

from regdesk.clock import FixedClock
from regdesk.domain import credentials, secretbox
from regdesk.domain.events import EventKind
from regdesk.services.station import Station

MEXICO = ZoneInfo("America/Mexico_City")
__all__ = ["EVENT_TOML", "ROOT"]

# Fixtures that one kind of test shares, kept in tests/helpers beside the helpers they go with (a test
# module never imports another test module: tests/unit/test_import_hygiene.py).
pytest_plugins = ["tui_fixtures", "tmux_terminal", "pass_stations"]


@pytest.fixture(autouse=True)
def cheap_key_derivation(monkeypatch):
    """Thousands of sign-ins and stations: in-process tests hash with cheap scrypt settings.
    The real settings are asserted in test_credentials.py and used by every subprocess test."""
    cheap = credentials.ScryptCost(2**8)
    monkeypatch.setattr(credentials, "PIN_COST", cheap)
    monkeypatch.setattr(credentials, "PASSPHRASE_COST", cheap)
    monkeypatch.setitem(credentials.MIN_COST, "pin", cheap.n)
    monkeypatch.setitem(credentials.MIN_COST, "passphrase", cheap.n)
    monkeypatch.setattr(secretbox, "ROOT_KEY_COST", cheap)
    monkeypatch.setattr(secretbox, "JOIN_CODE_COST", cheap)
    yield
    close_founders()


def local(text: str) -> datetime:
    """'2017-12-01T13:05' in Puerto Vallarta local time, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=MEXICO)


def participant_row(
    aid: str,
    family: str,
    given: str,
    *,
    category: str = "MS",
    delegation: str = "Switzerland",
    role: str = "member",
    status: str = "accredited",
    family_latin: str | None = None,
    given_latin: str | None = None,
    confirmation_code: str = "",
    title: str = "",
) -> dict:
    return {
        "accreditation_id": aid,
        "family_name": family,
        "given_names": given,
        "family_name_latin": family_latin if family_latin is not None else family,
        "given_names_latin": given_latin if given_latin is not None else given,
        "category": category,
        "delegation": delegation,
        "delegation_role": role,
        "status": status,
        "confirmation_code": confirmation_code or f"C{aid}",
        "title": title,
    }


def seed_participants(station: Station, rows: list[dict], revision: str = "2017-11-28T00:00:00Z") -> None:
    """Put participants in the mirror the way an import does: one accreditation_imported event."""
    with station.transaction() as session:
        station.record(
            session,
            EventKind.ACCREDITATION_IMPORTED,
            {"revision": revision, "source": "test", "rows": rows, "withdrawn": []},
            SUPERVISOR,
        )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-01T13:05"))


@pytest.fixture
def desk_station(tmp_path: Path, clock: FixedClock) -> Station:
    station = enrol(tmp_path, tmp_path / "desk", role="desk", name="Westin desk 1", clock=clock)
    yield station
    station.close()


def pytest_sessionfinish(session, exitstatus) -> None:
    """Stop this process's embedded PostgreSQL, if a sync test started one (pg_fixtures.py)."""
    import pg_fixtures

    pg_fixtures.stop_embedded_server()


# --- a real CUPS (tests/cups_server.py) -----------------------------------------------------------


@pytest.fixture(scope="session")
def cups_session():
    """This process's own cupsd with two badge queues, Badge_A and Badge_B; stopped at the end."""
    import cups_server

    server = cups_server.start_cups(("Badge_A", "Badge_B"))
    yield server
    server.stop()


@pytest.fixture
def cups(cups_session, monkeypatch):
    """The session's CUPS, every queue enabled and empty; `lp` and `lpstat` in this test talk to it."""
    cups_session.reset()
    monkeypatch.setenv("CUPS_SERVER", str(cups_session.socket))
    return cups_session


@pytest.fixture(autouse=True)
def patient_passport_reader(monkeypatch):
    """A reader types a whole MRZ in a few milliseconds; Pilot types it key by key, and on a loaded
    2-core CI box it has stalled for more than the desk's 0.5 s end-of-reading pause mid-line (a
    line then arrives cut short). The tests wait 2 s instead; what ends a reading stays the same."""
    from regdesk.tui.widgets import mrz_input

    monkeypatch.setattr(mrz_input, "MRZ_IDLE", 2.0)
