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

from regdesk.clock import FixedClock
from regdesk.domain.events import EventKind
from regdesk.services.station import Station, init_station

ROOT = Path(__file__).resolve().parents[1]
EVENT_TOML = ROOT / "fixtures" / "event.toml"
MEXICO = ZoneInfo("America/Mexico_City")


def local(text: str) -> datetime:
    """'2017-12-01T13:05' in Puerto Vallarta local time, as an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=MEXICO)


def participant_row(aid: str, family: str, given: str, *, category: str = "MS", delegation: str = "Switzerland",
                    role: str = "member", status: str = "accredited", family_latin: str | None = None,
                    given_latin: str | None = None, confirmation_code: str = "", title: str = "") -> dict:
    return {
        "accreditation_id": aid, "family_name": family, "given_names": given,
        "family_name_latin": family_latin if family_latin is not None else family,
        "given_names_latin": given_latin if given_latin is not None else given,
        "category": category, "delegation": delegation, "delegation_role": role, "status": status,
        "confirmation_code": confirmation_code or f"C{aid}", "title": title,
    }


def seed_participants(station: Station, rows: list[dict], revision: str = "2017-11-28T00:00:00Z") -> None:
    """Put participants in the mirror the way an import does: one accreditation_imported event."""
    with station.transaction() as session:
        station.record(session, EventKind.ACCREDITATION_IMPORTED,
                       {"revision": revision, "source": "test", "rows": rows, "withdrawn": []}, "test")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-01T13:05"))


@pytest.fixture
def desk_station(tmp_path: Path, clock: FixedClock) -> Station:
    station = init_station(tmp_path / "desk", EVENT_TOML, role="desk", name="Westin desk 1", clock=clock)
    yield station
    station.close()
