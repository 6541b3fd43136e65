"""Tallies against hand-computed numbers on the scripted meeting (tests/scripted_day.py).

The script puts events at 23:30 local on 3 Dec (05:30 UTC on 4 Dec), 17:30 and 19:00 local on 4 Dec
(23:30 and 01:00 UTC) and 00:30 local on 5 Dec, so a tally cut at UTC midnight would get them wrong.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from meeting import enrol_beside, transfer
from scripted_day import meeting, meeting_template  # noqa: F401 (fixtures)

from regdesk.services import tallies
from regdesk.store import projections
from regdesk.store.projections import tally_counts

DEC = {n: date(2017, 12, n) for n in range(1, 7)}


@pytest.fixture
def dec4(meeting):
    return tallies.day_tallies(meeting, DEC[4])


def test_reporting_days_are_1_to_6_december(meeting):
    assert tallies.tally_days(meeting.config) == tuple(DEC[n] for n in range(1, 7))
    assert tallies.day_bounds_utc(meeting.config, DEC[4]) == (
        "2017-12-04T06:00:00.000000Z",
        "2017-12-05T06:00:00.000000Z",
    )


def test_badges_follow_local_days_not_utc_days(meeting, dec4):
    b = dec4.badges
    # Local 4 Dec: CH-2, CH-3, CH-4, NG-1 and a duplicate CH-3 (desk 2), CH-5 (17:30, override); CH-1 replaced
    # at 19:00; revoked: desk 2's CH-3 (conflict, 12:00) and CH-1's old badge.
    # (A UTC cut would count KE-1 from 23:30 local on 3 Dec and miss the 19:00 replacement.)
    assert (b.issued, b.replaced, b.revoked) == (6, 1, 2)
    assert (b.issued_cum, b.replaced_cum, b.revoked_cum) == (8, 1, 2)
    assert (b.pre_registered, b.collected) == (11, 7)  # XX-W is withdrawn and not pre-registered
    dec3 = tallies.day_tallies(meeting, DEC[3]).badges
    assert (dec3.issued, dec3.issued_cum, dec3.collected) == (1, 2, 2)
    dec5 = tallies.day_tallies(meeting, DEC[5]).badges
    # KE-2 at 00:30 local (06:30 UTC) at desk 1 and again at 00:45 at desk 2: two badges, one person.
    assert (dec5.issued, dec5.replaced, dec5.revoked, dec5.issued_cum, dec5.collected) == (2, 0, 0, 10, 8)


def test_badges_by_category_station_and_operator(dec4):
    cats = {c.code: c for c in dec4.categories}
    ms = cats["MS"]
    assert (ms.issued, ms.replaced, ms.revoked, ms.pre_registered, ms.collected) == (5, 1, 2, 8, 6)
    assert (cats["NGO"].issued, cats["NGO"].collected, cats["NGO"].pre_registered) == (1, 1, 1)
    assert (cats["UN"].collected, cats["UN"].pre_registered, cats["HC"].not_collected) == (0, 1, 1)
    assert [c.code for c in dec4.categories][:3] == ["MS", "OS", "IGO"]  # config order

    stations = {s.station_name: s for s in dec4.stations}
    assert (stations["Westin desk 1"].issued, stations["Westin desk 1"].replaced) == (4, 1)
    assert (stations["Westin desk 1"].issued_cum, stations["Westin desk 2"].issued) == (6, 2)

    ops = {o.operator: o for o in dec4.operators}
    assert (ops["bea"].issued, ops["ana"].issued, ops["ana"].replaced, ops["carla"].issued) == (4, 0, 1, 2)
    assert ops["ana"].issued_cum == 2
    assert dec4.operators[0].operator == "bea"  # busiest first


def test_delegations_and_no_shows(meeting, dec4):
    status = {d.delegation: (d.collected, d.pre_registered, d.status) for d in dec4.delegations}
    assert status == {
        "Switzerland": (5, 5, "complete"),
        "Kenya": (1, 3, "partial"),
        "Migrant Voices": (1, 1, "complete"),
        "IOM": (0, 1, "not_collected"),
        "Mexico": (0, 1, "not_collected"),
    }
    assert dec4.delegation_counts == {"complete": 2, "partial": 1, "not_collected": 2}
    assert [(n.delegation, n.accreditation_id) for n in dec4.no_shows] == [
        ("IOM", "UN-1"),
        ("Kenya", "KE-2"),
        ("Kenya", "KE-3"),
        ("Mexico", "MX-1"),
    ]
    assert dec4.no_shows[-1].name == "José Hernández"
    # KE-2 collected at 00:30 local on 5 Dec: gone from the 5 Dec list.
    dec5 = tallies.day_tallies(meeting, DEC[5])
    assert [n.accreditation_id for n in dec5.no_shows] == ["UN-1", "KE-3", "MX-1"]


def test_security_counts_entries_people_denials_checkpoints(meeting, dec4):
    s = dec4.security
    assert (s.scans, s.entries, s.distinct_people, s.denied, s.repeats) == (8, 5, 4, 2, 1)
    # The 23:50 denial on 3 Dec (05:50 UTC on 4 Dec) is only in the cumulative.
    assert (s.scans_cum, s.entries_cum, s.distinct_people_cum, s.denied_cum) == (9, 5, 4, 3)
    denials = {(d.reason, d.count, d.count_cum) for d in dec4.denials if d.point_kind == "security"}
    assert denials == {("forged", 1, 1), ("revoked", 1, 1), ("not_valid_today", 0, 1)}
    cps = {c.code: (c.scans, c.entries, c.denied, c.repeats) for c in dec4.checkpoints}
    assert cps == {"ICC-MAIN": (6, 3, 2, 1), "ICC-SIDE": (2, 2, 0, 0)}
    dec5 = tallies.day_tallies(meeting, DEC[5]).security
    assert (dec5.entries, dec5.distinct_people, dec5.distinct_people_cum) == (1, 1, 5)


def test_hourly_uses_local_hours(dec4):
    hours = {h.hour: h for h in dec4.hourly}
    assert len(dec4.hourly) == 24
    assert {h: r.badges for h, r in hours.items() if r.badges} == {7: 1, 8: 2, 10: 2, 17: 1, 19: 1}
    assert {h: r.entries for h, r in hours.items() if r.entries} == {9: 3, 15: 1, 17: 1}
    assert {h: r.denied for h, r in hours.items() if r.denied} == {9: 1, 19: 1}
    assert {h: r.boardings for h, r in hours.items() if r.boardings} == {8: 2, 9: 1, 18: 2}


def test_buses_by_stop_departure_and_capacity(meeting, dec4):
    stops = {(r.stop, r.direction): (r.boardings, r.denied) for r in dec4.stops}
    # The scripted day scans with the legacy direction "to_icc": the tallies count it as to_venue.
    assert stops == {("WES", "to_venue"): (2, 0), ("MEL", "to_venue"): (1, 0), ("ICC", "to_hotel"): (2, 1)}
    deps = [(d.departure, d.stop_name, d.headcount, d.capacity) for d in dec4.departures]
    assert deps == [
        ("WES-0800", "Westin", 2, 45),
        ("MEL-0845", "Melia", 1, 45),
        ("ICC-1830-WES", "ICC (convention centre)", 2, 45),
    ]
    assert dec4.departures[-1].first_boarding == "2017-12-04T18:30:00-06:00"
    assert (dec4.buses.boardings, dec4.buses.denied, dec4.buses.departures, dec4.buses.over_capacity) == (5, 1, 3, 0)
    assert dec4.boardings_by_stop() == {"Westin": 2, "Melia": 1, "ICC (convention centre)": 2}
    dec5 = tallies.day_tallies(meeting, DEC[5]).buses
    assert (dec5.boardings, dec5.boardings_cum) == (1, 6)


def test_overrides_and_conflicts_of_the_day(meeting, dec4):
    [override] = dec4.overrides
    assert override.time_local == "2017-12-04T17:30:00-06:00"
    assert (override.rule, override.supervisor, override.operator) == ("quota_reached", "Maria Supervisor", "bea")
    assert override.reason.startswith("Letter from head of delegation")
    assert (override.participant_id, override.participant_name, override.delegation) == (
        "CH-5",
        "Eva Müller",
        "Switzerland",
    )
    [resolved] = dec4.conflicts
    assert (resolved.state, resolved.kind, resolved.participant_id, resolved.participant_name) == (
        "resolved",
        "duplicate_badge",
        "CH-3",
        "Chiara Rossi",
    )
    assert (resolved.resolved_by, resolved.reason, resolved.time_local) == (
        "Maria Supervisor",
        "two desks while offline",
        "2017-12-04T12:00:00-06:00",
    )
    assert resolved.resolution.startswith("keep ")
    dec5 = tallies.day_tallies(meeting, DEC[5])
    assert dec5.overrides == ()
    # Desk 2's KE-2 badge (00:45 on 5 Dec) is still in conflict: listed on the day it arose.
    [open_one] = dec5.conflicts
    assert (open_one.state, open_one.participant_id, open_one.time_local) == (
        "open",
        "KE-2",
        "2017-12-05T00:45:00-06:00",
    )
    assert "Westin desk 2" in open_one.station_name


def test_all_days_equals_day_by_day(meeting):
    every = tallies.all_days(meeting)
    assert [t.day for t in every] == [DEC[n] for n in range(1, 7)]
    for day_result in every:
        single = tallies.day_tallies(meeting, day_result.day)
        assert single == day_result
        assert (single.no_shows, single.delegations) == (day_result.no_shows, day_result.delegations)
        assert single.no_show_count == len(single.no_shows)
    assert [t.badges.issued for t in every] == [1, 0, 1, 6, 2, 0]
    assert every[-1].badges.collected == 8


def test_empty_station_gives_zero_tables(desk_station):
    result = tallies.day_tallies(desk_station, DEC[4])
    assert result.badges.issued == 0 and result.security.entries == 0 and result.no_shows == ()
    assert [c.code for c in result.checkpoints] == ["ICC-MAIN", "ICC-SIDE"]
    assert all(h.entries == 0 for h in result.hourly)


def test_counters_survive_rebuild_and_out_of_order_sync(meeting, tmp_path, clock):
    """The running counters give the same tallies after a projection rebuild, and on a supervisor
    station that receives the whole log in reverse order (sync delivers in any order)."""
    expected = tallies.all_days(meeting)
    with meeting.transaction() as session:
        projections.rebuild(session)
    assert tallies.all_days(meeting) == expected

    supervisor = enrol_beside(meeting, tmp_path / "sup", role="supervisor", name="Supervisor", clock=clock)
    try:
        transfer(meeting, supervisor, reverse=True)
        assert transfer(meeting, supervisor) == 0  # a second delivery changes nothing
        got = tallies.all_days(supervisor)
    finally:
        supervisor.close()
    # The import came last here, yet badges still count under their holder's category.
    strip = lambda t: dataclasses.replace(t, stations=(), generated_at="")  # noqa: E731
    names = {s.station_id: s.station_name for s in expected[3].stations}
    assert [strip(t) for t in got] == [strip(t) for t in expected]
    assert [(t.no_shows, t.delegations) for t in got] == [(t.no_shows, t.delegations) for t in expected]
    assert {(s.station_name, s.issued) for s in got[3].stations} == {
        (names[s.station_id], s.issued) for s in expected[3].stations
    }
    assert [(c.collected, c.pre_registered) for c in got[3].categories if c.code == "MS"] == [(6, 8)]


def test_counters_recomputed_in_bulk_equal_the_incrementally_maintained_ones(meeting):
    """The bulk path (triggers dropped, counters recomputed from the projections) gives the same tallies."""
    expected = tallies.all_days(meeting)
    with meeting.engine.connect() as connection:
        raw = connection.connection.driver_connection
        tally_counts.drop_triggers(raw)
        tally_counts.recompute(raw)
        triggers = {name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(tally_counts.TRIGGER_NAMES) <= triggers
    assert tallies.all_days(meeting) == expected


def test_counters_kept_with_the_legacy_direction_still_count_towards_the_venue(meeting):
    """A station upgraded mid-meeting holds bus counters written as "to_icc": they read as to_venue."""
    from sqlalchemy import text

    with meeting.transaction() as session:
        changed = session.execute(
            text("UPDATE tally_scan_hours SET direction = 'to_icc' WHERE direction = 'to_venue'")
        ).rowcount
    assert changed > 0
    stops = {(r.stop, r.direction): r.boardings for r in tallies.day_tallies(meeting, DEC[4]).stops}
    assert stops == {("WES", "to_venue"): 2, ("MEL", "to_venue"): 1, ("ICC", "to_hotel"): 2}
