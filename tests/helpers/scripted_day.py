"""A small scripted meeting used by the tallies, export and supervisor-screen tests.

Times are local (America/Mexico_City, UTC-6 in December). Several events sit on purpose where
local and UTC days differ: 23:30 local on 3 Dec (= 05:30 UTC on 4 Dec), 17:30 local on 4 Dec
(= 23:30 UTC, same day both ways), 19:00 local on 4 Dec (= 01:00 UTC on 5 Dec) and 00:30 local on
5 Dec (= 06:30 UTC). The expected numbers in test_tallies.py were computed by hand from this script.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from meeting import SUPERVISOR_SECRET, enrol_beside, init_station, transfer

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk.clock import FixedClock
from regdesk.domain.events import EventKind
from regdesk.services import conflicts, desk
from regdesk.services.station import Station, open_station

SUPERVISOR = ("Maria Supervisor", SUPERVISOR_SECRET)  # the exports test greps for the passphrase

PARTICIPANTS = [
    participant_row("CH-1", "Keller", "Anna", delegation="Switzerland", role="head"),
    participant_row("CH-2", "Meier", "Bruno", delegation="Switzerland"),
    participant_row("CH-3", "Rossi", "Chiara", delegation="Switzerland"),
    participant_row("CH-4", "Favre", "Denis", delegation="Switzerland"),
    participant_row("CH-5", "Müller", "Eva", delegation="Switzerland"),
    participant_row("KE-1", "Otieno", "Grace", delegation="Kenya", role="head"),
    participant_row("KE-2", "Kamau", "Peter", delegation="Kenya"),
    participant_row("KE-3", "Wanjiru", "Ruth", delegation="Kenya"),
    participant_row("NG-1", "Santos", "Lucía", category="NGO", delegation="Migrant Voices"),
    participant_row("UN-1", "Ivanova", "Olga", category="UN", delegation="IOM"),
    participant_row("MX-1", "Hernández", "José", category="HC", delegation="Mexico", role="head"),
    participant_row("XX-W", "Gone", "Someone", delegation="Nowhere", status="withdrawn"),
]


def _issue(station: Station, clock: FixedClock, when: str, pid: str, operator: str, **kwargs) -> desk.IssuedBadge:
    clock.set(local(when))
    desk.record_identity_check(station, pid, "passport", "ZQ9X4471", operator)
    return desk.issue_badge(station, pid, operator=operator, **kwargs)


# The scan points of the scripted meeting: scans are recorded there and synced to the desk.
_SCAN_POINTS: dict[str, Station] = {}


def record_scan(
    station: Station,
    clock: FixedClock,
    when: str,
    *,
    kind: str,
    point: str,
    verdict: str = "valid",
    reason: str = "valid",
    pid: str = "",
    serial: str = "",
    direction: str = "",
    departure: str = "",
    counted: bool | None = None,
    operator: str = "guard",
) -> None:
    clock.set(local(when))
    payload = {
        "local_day": station.config.local_day(clock.now()).isoformat(),
        "point_kind": kind,
        "point": point,
        "direction": direction,
        "departure": departure,
        "verdict": verdict,
        "reason": reason,
        "serial": serial,
        "participant_id": pid,
        "counted": verdict == "valid" if counted is None else counted,
        "manual": False,
    }
    scan_point = _SCAN_POINTS.get(kind, station)
    with scan_point.transaction() as session:
        scan_point.record(session, EventKind.SCAN_RECORDED, payload, operator)


def _sync(source: Station, target: Station) -> None:
    """What a hub or a bundle does: every event of `source` lands in `target` (set union)."""
    transfer(source, target)


def _station(folder: Path, role: str, name: str, clock: FixedClock) -> Station:
    return init_station(folder, EVENT_TOML, role=role, name=name, clock=clock)


def build_scripted_meeting(station: Station, clock: FixedClock, tmp_path: Path) -> dict[str, str]:
    """Fill `station` (a desk station named "Westin desk 1") with the script. Returns serials by participant."""
    seed_participants(station, PARTICIPANTS)
    _SCAN_POINTS["security"] = _station(tmp_path / "icc", "security", "ICC main", clock)
    _SCAN_POINTS["bus"] = _station(tmp_path / "buses", "bus", "Bus stops", clock)
    serials: dict[str, str] = {}

    def security(when: str, point: str, pid: str = "", **verdict: str) -> None:
        """A guard's scan at a venue checkpoint: the holder's current badge unless `serial` says otherwise."""
        serial = verdict.pop("serial", serials.get(pid, ""))
        record_scan(station, clock, when, kind="security", point=point, pid=pid, serial=serial, **verdict)

    def bus(when: str, point: str, direction: str, departure: str, pid: str = "", **verdict: str) -> None:
        """A marshal's scan at a bus stop, for a departure: the holder's current badge."""
        record_scan(
            station,
            clock,
            when,
            kind="bus",
            point=point,
            direction=direction,
            departure=departure,
            pid=pid,
            serial=serials.get(pid, ""),
            operator="marshal",
            **verdict,
        )

    serials["CH-1"] = _issue(station, clock, "2017-12-01T13:30", "CH-1", "ana").serial
    serials["KE-1"] = _issue(station, clock, "2017-12-03T23:30", "KE-1", "ana").serial  # 05:30 UTC on 4 Dec
    security("2017-12-03T23:50", "ICC-MAIN", "KE-1", verdict="denied", reason="not_valid_today")  # UTC: 4 Dec

    serials["CH-2"] = _issue(station, clock, "2017-12-04T07:30", "CH-2", "bea").serial
    serials["CH-3"] = _issue(station, clock, "2017-12-04T08:00", "CH-3", "bea").serial
    bus("2017-12-04T08:05", "WES", "to_icc", "WES-0800", "CH-2")
    bus("2017-12-04T08:06", "WES", "to_icc", "WES-0800", "CH-3")
    bus("2017-12-04T08:06:04", "WES", "to_icc", "WES-0800", "CH-3", verdict="repeat", reason="repeat")
    serials["CH-4"] = _issue(station, clock, "2017-12-04T08:15", "CH-4", "bea").serial
    bus("2017-12-04T09:00", "MEL", "to_icc", "MEL-0845", "CH-4")

    security("2017-12-04T09:10", "ICC-MAIN", "CH-2")
    security("2017-12-04T09:10:03", "ICC-MAIN", "CH-2", verdict="repeat", reason="repeat")
    security("2017-12-04T09:20", "ICC-MAIN", "CH-3")
    security("2017-12-04T09:25", "ICC-SIDE", "CH-1")
    security("2017-12-04T09:40", "ICC-MAIN", verdict="denied", reason="forged")

    # A second desk, offline from the first: it issues NG-1 and, not knowing desk 1 already did,
    # a second badge to CH-3. After the sync the supervisor resolves that duplicate at 12:00.
    desk2 = _station(tmp_path / "desk2", "desk", "Westin desk 2", clock)
    try:
        seed_participants(desk2, PARTICIPANTS)
        serials["NG-1"] = _issue(desk2, clock, "2017-12-04T10:00", "NG-1", "carla").serial
        serials["CH-3@desk2"] = _issue(desk2, clock, "2017-12-04T10:05", "CH-3", "carla").serial
        _sync(desk2, station)
        clock.set(local("2017-12-04T12:00"))
        conflicts.resolve(
            station, "badge:CH-3", reason="two desks while offline", operator=SUPERVISOR[0], keep=[serials["CH-3"]]
        )

        security("2017-12-04T15:05", "ICC-SIDE", "CH-2")
        # 17:30 local = 23:30 UTC: same day both ways.
        serials["CH-5"] = _issue(
            station,
            clock,
            "2017-12-04T17:30",
            "CH-5",
            "bea",
            override=desk.OverrideRequest(
                SUPERVISOR[0], SUPERVISOR[1], "Letter from head of delegation: fifth seat approved"
            ),
        ).serial
        security("2017-12-04T17:30:30", "ICC-MAIN", "KE-1")
        bus("2017-12-04T18:30", "ICC", "to_hotel", "ICC-1830-WES", "CH-2")  # 00:30 UTC 5 Dec
        bus("2017-12-04T18:31", "ICC", "to_hotel", "ICC-1830-WES", "CH-3")
        bus("2017-12-04T18:32", "ICC", "to_hotel", "ICC-1830-WES", verdict="denied", reason="unreadable")
        # 19:00 local = 01:00 UTC on 5 Dec: a lost badge replaced, still local 4 Dec.
        old_ch1 = serials["CH-1"]
        serials["CH-1"] = _issue(station, clock, "2017-12-04T19:00", "CH-1", "ana", replace=True).serial
        security("2017-12-04T19:05", "ICC-MAIN", "CH-1", verdict="denied", reason="revoked", serial=old_ch1)

        # 00:30 local on 5 Dec = 06:30 UTC. Desk 2, still offline, issues KE-2 as well: an open conflict.
        serials["KE-2"] = _issue(station, clock, "2017-12-05T00:30", "KE-2", "ana").serial
        serials["KE-2@desk2"] = _issue(desk2, clock, "2017-12-05T00:45", "KE-2", "carla").serial
        _sync(desk2, station)
    finally:
        desk2.close()
    bus("2017-12-05T07:50", "WES", "to_icc", "WES-0800", "CH-2")
    security("2017-12-05T08:40", "ICC-MAIN", "CH-4")
    for scan_point in _SCAN_POINTS.values():
        _sync(scan_point, station)
        scan_point.close()
    _SCAN_POINTS.clear()
    clock.set(local("2017-12-05T09:00"))
    return serials


# --- fixtures: the meeting is built once per test module, each test works on its own copy ------------


@pytest.fixture(scope="module")
def meeting_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scripted-meeting")
    clock = FixedClock(local("2017-12-01T13:05"))
    station = _station(root / "desk", "desk", "Westin desk 1", clock)
    try:
        build_scripted_meeting(station, clock, root)
    finally:
        station.close()
    return root / "desk"


@pytest.fixture
def meeting(meeting_template: Path, tmp_path: Path, clock: FixedClock) -> Station:
    """A copy of the scripted meeting's desk station; its clock reads 09:00 local on 5 December."""
    shutil.copytree(meeting_template, tmp_path / "desk-copy")
    clock.set(local("2017-12-05T09:00"))
    station = open_station(tmp_path / "desk-copy", clock=clock)
    yield station
    station.close()


@pytest.fixture
def supervisor_station(meeting: Station, clock: FixedClock, tmp_path: Path) -> Station:
    """A supervisor station that received the whole scripted meeting from the desk by sync."""
    station = enrol_beside(meeting, tmp_path / "supervisor", role="supervisor", name="Supervisor post", clock=clock)
    transfer(meeting, station)
    clock.set(local("2017-12-05T09:00"))
    yield station
    station.close()
