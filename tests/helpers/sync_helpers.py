"""Small helpers shared by the sync, bundle, conflict and provisioning tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from meeting import enrol
from sqlalchemy import func, select

from conftest import local, participant_row, seed_participants
from regdesk.clock import FixedClock
from regdesk.services import desk
from regdesk.services.scanning import Scanner, ScanPoint
from regdesk.services.station import Station, replace_event_config
from regdesk.store.models import EventRow

PEOPLE = [
    participant_row("CH-1", "Muster", "Hans", role="head"),
    participant_row("CH-2", "Keller", "Anna"),
    participant_row("NG-1", "Okafor", "Ada", category="NGO", delegation="Migrant Voices Network", role="head"),
    participant_row("NG-2", "Mensah", "Kofi", category="NGO", delegation="Migrant Voices Network"),
    participant_row("NG-3", "Diallo", "Awa", category="NGO", delegation="Migrant Voices Network"),
]


def make_station(base: Path, name: str, role: str, clock: FixedClock, event_path: Path | None = None) -> Station:
    """A station of the test's meeting (tests/meeting.py), enrolled like a real one; `event_path`
    edits its settings afterwards (the same meeting, e.g. a smaller bus)."""
    folder = base / name.lower().replace(" ", "-")
    station = enrol(base, folder, role=role, name=name, clock=clock)
    if event_path is not None:
        replace_event_config(station, Path(event_path).read_text())
    return station


def seed(station: Station) -> None:
    seed_participants(station, PEOPLE)


def issue(station: Station, pid: str, *, replace: bool = False, operator: str = "clerk") -> desk.IssuedBadge:
    desk.record_identity_check(station, pid, "passport", "X1234567", operator)
    return desk.issue_badge(station, pid, operator=operator, replace=replace)


def security_scanner(station: Station) -> Scanner:
    return Scanner(station, "guard", ScanPoint("security", "ICC-MAIN"))


def event_ids(station: Station) -> set[str]:
    with station.sessions() as session:
        return set(session.execute(select(EventRow.id)).scalars())


def event_count(station: Station) -> int:
    with station.sessions() as session:
        return session.execute(select(func.count()).select_from(EventRow)).scalar_one()


# Fixtures shared by the sync test modules (import them by name: `from sync_helpers import westin, icc`).
@pytest.fixture
def meeting_morning() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))  # a meeting day, collection still open


@pytest.fixture
def westin(tmp_path, meeting_morning):
    station = make_station(tmp_path, "Westin desk 1", "desk", meeting_morning)
    seed(station)
    yield station
    station.close()


@pytest.fixture
def icc(tmp_path, meeting_morning):
    station = make_station(tmp_path, "ICC main", "security", meeting_morning)
    yield station
    station.close()
