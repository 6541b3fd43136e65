"""Conflicts made by partitioned desks: detected after merge, shown with both sides, resolved by a decision."""

from __future__ import annotations

import json

import pytest
from meeting import SUPERVISOR_SECRET
from sync_helpers import issue, make_station, security_scanner, seed

from conftest import local
from regdesk import cli
from regdesk.clock import FixedClock
from regdesk.services import bundles, conflicts, desk, operators
from regdesk.store.models import Badge


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


@pytest.fixture
def stations(tmp_path, clock):
    """Two Westin desks and the ICC screening, all with the same mirror, then cut off from each other."""
    desk1 = make_station(tmp_path, "Westin desk 1", "desk", clock)
    desk2 = make_station(tmp_path, "Westin desk 2", "desk", clock)
    icc = make_station(tmp_path, "ICC main", "security", clock)
    seed(desk1)
    operators.add_operator(desk1, "Carl Clerk", "clerk", "1357", by="maria")
    exchange(tmp_path, desk1, desk2, icc)
    yield desk1, desk2, icc
    for station in (desk1, desk2, icc):
        station.close()


def exchange(tmp_path, *stations) -> None:
    """Everyone's events to everyone, by bundle (the network is down)."""
    paths = []
    for i, station in enumerate(stations):
        path = tmp_path / f"x-{station.station_id[:8]}-{i}.rdb"
        bundles.export_bundle(station, path)
        paths.append(path)
    for station in stations:
        for path in paths:
            bundles.import_bundle(station, path)


def test_two_desks_issue_to_one_person_while_cut_off(stations, tmp_path, clock):
    desk1, desk2, icc = stations
    a = issue(desk1, "CH-1", operator="Carl Clerk")
    clock.advance(minutes=3)
    b = issue(desk2, "CH-1", operator="Ana Clerk")
    assert conflicts.list_conflicts(desk1) == []  # each desk alone saw nothing wrong
    exchange(tmp_path, desk1, desk2, icc)

    found = conflicts.list_conflicts(icc)
    assert [c.key for c in found] == ["badge:CH-1"]
    conflict = found[0]
    assert conflict.kind == conflicts.DUPLICATE
    sides = {(s.serial, s.station_name, s.operator, s.issued_local) for s in conflict.sides}
    assert sides == {
        (a.serial, "Westin desk 1", "Carl Clerk", "Mon 04 Dec 08:30"),
        (b.serial, "Westin desk 2", "Ana Clerk", "Mon 04 Dec 08:33"),
    }
    assert "Hans Muster" in conflict.summary

    # Until a supervisor decides, the holder is admitted with either badge.
    scanner = security_scanner(icc)
    assert str(scanner.scan(a.token).verdict.outcome) == "valid"
    clock.advance(minutes=1)
    assert str(scanner.scan(b.token).verdict.outcome) == "valid"

    resolution = conflicts.resolve(
        desk1, "badge:CH-1", keep=[b.serial], reason="holder showed badge B", operator="Maria Supervisor"
    )
    assert resolution.revoked_serials == (a.serial,)
    assert conflicts.list_conflicts(desk1) == []
    exchange(tmp_path, desk1, desk2, icc)
    assert conflicts.list_conflicts(desk2) == [] and conflicts.list_conflicts(icc) == []
    clock.advance(minutes=1)
    assert str(scanner.scan(a.token).verdict.reason) == "revoked"
    assert str(scanner.scan(b.token).verdict.reason) == "valid"


def test_delegation_quota_exceeded_across_desks(stations, tmp_path):
    desk1, desk2, icc = stations  # NGO quota is 2
    n1 = issue(desk1, "NG-1")
    n2 = issue(desk1, "NG-2")
    n3 = issue(desk2, "NG-3")
    exchange(tmp_path, desk1, desk2, icc)
    found = conflicts.list_conflicts(desk2)
    assert [c.key for c in found] == ["quota:NGO:Migrant Voices Network"]
    conflict = found[0]
    assert (conflict.kind, conflict.quota, conflict.holders) == (conflicts.QUOTA, 2, 3)
    assert set(conflict.serials) == {n1.serial, n2.serial, n3.serial}
    assert {s.station_name for s in conflict.sides} == {"Westin desk 1", "Westin desk 2"}

    conflicts.resolve(
        desk2, conflict.key, revoke=[n3.serial], reason="head of delegation chose two", operator="Maria Supervisor"
    )
    assert conflicts.list_conflicts(desk2) == []
    with desk2.sessions() as session:
        assert session.get(Badge, n3.serial).revoked


def test_quota_override_holders_do_not_count(stations):
    desk1, _desk2, _icc = stations
    issue(desk1, "NG-1")
    issue(desk1, "NG-2")
    desk.record_identity_check(desk1, "NG-3", "passport", "9999", "clerk")
    desk.issue_badge(
        desk1,
        "NG-3",
        operator="clerk",
        override=desk.OverrideRequest("Maria Supervisor", SUPERVISOR_SECRET, "extra seat approved"),
    )
    assert conflicts.list_conflicts(desk1) == []


def test_keep_all_hides_the_conflict_until_another_badge_joins_it(stations, tmp_path, clock):
    desk1, desk2, icc = stations
    desk3 = make_station(tmp_path, "Westin desk 3", "desk", clock)
    try:
        exchange(tmp_path, desk1, desk3)
        issue(desk1, "CH-2")
        issue(desk2, "CH-2")
        exchange(tmp_path, desk1, desk2)
        conflicts.resolve(
            desk1,
            "badge:CH-2",
            keep_all=True,
            reason="both kept, diplomat asked for a spare",
            operator="Maria Supervisor",
        )
        assert conflicts.list_conflicts(desk1) == []
        issue(desk3, "CH-2")  # a third desk, still cut off
        exchange(tmp_path, desk1, desk2, desk3)
        reopened = conflicts.list_conflicts(desk1)
        assert [c.key for c in reopened] == ["badge:CH-2"] and len(reopened[0].sides) == 3
    finally:
        desk3.close()


def test_resolution_rules(stations, tmp_path):
    desk1, desk2, icc = stations
    a = issue(desk1, "CH-1")
    b = issue(desk2, "CH-1")
    exchange(tmp_path, desk1, desk2)
    with pytest.raises(conflicts.ConflictError, match="supervisor"):
        conflicts.resolve(desk1, "badge:CH-1", keep=[a.serial], reason="x", operator="Carl Clerk")
    with pytest.raises(conflicts.ConflictError, match="reason"):
        conflicts.resolve(desk1, "badge:CH-1", keep=[a.serial], reason=" ", operator="Maria Supervisor")
    with pytest.raises(conflicts.ConflictError, match="not one of the badges"):
        conflicts.resolve(desk1, "badge:CH-1", keep=["AAAAAAAA"], reason="x", operator="Maria Supervisor")
    with pytest.raises(conflicts.ConflictError, match="lock the participant out"):
        conflicts.resolve(desk1, "badge:CH-1", revoke=[a.serial, b.serial], reason="x", operator="Maria Supervisor")
    with pytest.raises(conflicts.ConflictError, match="no open conflict"):
        conflicts.resolve(desk1, "badge:NG-1", keep=[a.serial], reason="x", operator="Maria Supervisor")
    assert len(conflicts.list_conflicts(desk1)) == 1  # nothing was recorded by the refusals


def test_cli_conflicts_and_resolve(stations, tmp_path, capsys, monkeypatch):
    desk1, desk2, _icc = stations
    monkeypatch.setenv("REGDESK_PIN", SUPERVISOR_SECRET)
    a = issue(desk1, "CH-1")
    b = issue(desk2, "CH-1")
    exchange(tmp_path, desk1, desk2)
    data_dir = str(desk1.data_dir)
    assert cli.main(["--data-dir", data_dir, "conflicts"]) == 0
    out = capsys.readouterr().out
    assert "badge:CH-1" in out and a.serial in out and b.serial in out and "Westin desk 2" in out
    assert cli.main(["--data-dir", data_dir, "conflicts", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["key"] == "badge:CH-1" and len(listed[0]["sides"]) == 2
    formatted = f"{b.serial[:4]}-{b.serial[4:]}"  # as printed on the badge
    assert (
        cli.main(
            [
                "--data-dir",
                data_dir,
                "resolve",
                "badge:CH-1",
                "--keep",
                formatted,
                "--reason",
                "checked passport",
                "--operator",
                "Maria Supervisor",
            ]
        )
        == 0
    )
    assert f"Revoked {a.serial}" in capsys.readouterr().out
    assert cli.main(["--data-dir", data_dir, "conflicts"]) == 0
    assert "No open conflicts" in capsys.readouterr().out


def test_a_second_badge_given_under_a_supervisor_override_is_a_decision_not_a_conflict(stations, tmp_path):
    desk1, desk2, icc = stations
    issue(desk1, "CH-2")
    exchange(tmp_path, desk1, desk2, icc)
    desk.record_identity_check(desk2, "CH-2", "passport", "4321", "Ana Clerk")
    desk.issue_badge(
        desk2,
        "CH-2",
        operator="Ana Clerk",
        override=desk.OverrideRequest("Maria Supervisor", SUPERVISOR_SECRET, "lost luggage: a second badge for now"),
    )
    exchange(tmp_path, desk1, desk2, icc)
    with icc.sessions() as session:
        holders = session.query(Badge).filter(Badge.participant_id == "CH-2", Badge.revoked.is_(False)).count()
    assert holders == 2  # two valid badges from two desks...
    assert conflicts.list_conflicts(icc) == []  # ...but one was a supervisor's deliberate decision
