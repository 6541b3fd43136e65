"""`regdesk drill`: a small rehearsal of the whole meeting (12 real station processes, a PostgreSQL
hub, kill -9 of workers and of `regdesk issue`) must reconcile; the reconcile must fail on any
difference injected into one station; the plan is deterministic and has the meeting's shape."""

from __future__ import annotations

import copy
import json
import os
import shutil
import sqlite3
from collections import Counter
from dataclasses import replace

import pg_fixtures
import pytest

from regdesk.domain import secretbox
from regdesk.services.drill import faults, plan, reconcile, report, runner

pytestmark = [pytest.mark.pg, pytest.mark.xdist_group("drill")]


@pytest.fixture(scope="module")
def small_drill(tmp_path_factory):
    """60 participants, the week in ~10 s of real time: every piece of the full drill, smaller."""
    out = tmp_path_factory.mktemp("drill") / "run"
    previous = os.environ.get(pg_fixtures.ENV)
    os.environ[pg_fixtures.ENV] = pg_fixtures.admin_url().render_as_string(hide_password=False)
    cheap = secretbox.ScryptCost(2**8) if hasattr(secretbox, "ScryptCost") else None
    with pytest.MonkeyPatch.context() as mp:
        if cheap is not None:  # join files and the root key: the real cost is tested elsewhere
            mp.setattr(secretbox, "ROOT_KEY_COST", cheap)
            mp.setattr(secretbox, "JOIN_CODE_COST", cheap)
        try:
            opts = runner.DrillOptions(scale=60, seed=3, out=out, wall_seconds=10, kills=2, sync_every=60)
            drill_plan, state, result = runner.run(opts)
        finally:
            if previous is None:
                os.environ.pop(pg_fixtures.ENV, None)
            else:
                os.environ[pg_fixtures.ENV] = previous
    summary = report.write(out, drill_plan, state, result)
    return drill_plan, state, result, summary, out


def test_small_drill_reconciles_everywhere(small_drill):
    drill_plan, state, result, summary, out = small_drill
    assert result.problems == [], (out, result.problems)
    assert summary["ok"] and summary["stations"] == 12
    assert summary["lost"] == 0 and summary["duplicated"] == 0
    assert summary["tallies_identical"]
    assert summary["checks_passed"] == 12
    assert summary["conflicts_expected"] == summary["conflicts_found"] == len(drill_plan.expected_conflicts) >= 2
    assert summary["badges_unaccounted"] == 0 and summary["badges"] > 40
    assert set(summary["badges_per_hour_per_desk"]) == set(plan.DESKS)
    assert sum(summary["badges_per_hour_per_desk"].values()) > 0
    # The report a supervisor reads: JSON, Markdown and a PDF with charts.
    saved = json.loads((out / "drill.json").read_text())
    assert saved["summary"]["events"] == summary["events"]
    assert "RECONCILED" in (out / "drill-report.md").read_text()
    assert (out / "drill-report.pdf").read_bytes().startswith(b"%PDF")


def test_faults_really_happened(small_drill):
    drill_plan, state, result, summary, out = small_drill
    figs = json.loads((out / "drill.json").read_text())["figures"]
    # Workers were killed and restarted; regdesk issue was killed mid-work and retried.
    assert state.kills_done, "no worker was killed"
    assert any(c["killed"] for c in state.cli) and all(c["issued"] or c["reason"] for c in state.cli)
    # `regdesk scan` killed after half its badges: every verdict it printed is on every station (lost == 0).
    (scan_run,) = state.cli_scans
    assert scan_run["exits"] == [-9, 0]
    assert len(scan_run["acked_event_ids"]) == scan_run["tokens"] >= 4
    # The hub outage was met by real sync attempts; desk-3 stayed offline; the bus stop never synced.
    assert sum(v["refused_hub_down"] for v in figs["sync"].values()) > 0
    assert figs["sync"]["desk-3"]["offline"] > 0
    assert figs["sync"]["bus-vel"]["syncs"] == 0
    assert any(name.endswith("-hub.gz") for name in os.listdir(out / "usb"))
    # Forged and replaced badges were denied.
    outcomes = figs["scan_outcomes"]
    assert any(k.startswith("forged:") and not k.endswith(":valid") for k in outcomes)
    assert not any(k.startswith("forged:") and k.endswith(":valid") for k in outcomes)


def test_killed_workers_acknowledged_events_survive(small_drill):
    drill_plan, state, result, summary, out = small_drill
    killed = {k["station"] for k in state.kills_done}
    acked, problems, _entries = reconcile.acknowledged(state.journals)
    assert problems == []
    held = set(reconcile.station_facts(state.stations["supervisor"])["ids"])
    for key in killed:
        mine = [e for e, station in acked.items() if station == key]
        assert all(e in held for e in mine)
    # At least one killed worker had acknowledged work before it was killed, and finished after.
    starts = {
        key: sum(1 for line in state.metrics[key].read_text().splitlines() if '"do": "start"' in line) for key in killed
    }
    assert any(n >= 2 for n in starts.values())


def _copy_state(state, tmp_path):
    copied = copy.copy(state)
    copied.stations = {}
    for key, folder in state.stations.items():
        target = tmp_path / "stations" / key
        shutil.copytree(folder, target)
        copied.stations[key] = target
    return copied


def test_reconcile_fails_when_a_station_lacks_an_acknowledged_event(small_drill, tmp_path):
    drill_plan, state, _result, _summary, _out = small_drill
    copied = _copy_state(state, tmp_path)
    acked, _problems, entries = reconcile.acknowledged(state.journals)
    victim = next(e for e in entries if e.get("do") == "scan" and e.get("events"))["events"][0]
    with sqlite3.connect(copied.stations["desk-2"] / "station.db") as conn:
        assert conn.execute("DELETE FROM events WHERE id = ?", (victim,)).rowcount == 1
    result = reconcile.reconcile(drill_plan, copied)
    assert not result.ok
    assert result.lost == 1
    assert any(p.startswith("desk-2: lacks 1 event") for p in result.problems)


def test_reconcile_fails_when_one_station_tallies_differently(small_drill, tmp_path):
    drill_plan, state, _result, _summary, _out = small_drill
    copied = _copy_state(state, tmp_path)
    with sqlite3.connect(copied.stations["icc-side"] / "station.db") as conn:
        # One more entry counted at some hour than the scans say (what a bad merge would leave).
        assert (
            conn.execute(
                "UPDATE tally_scan_hours SET n = n + 1 WHERE rowid = (SELECT min(rowid) FROM tally_scan_hours)"
            ).rowcount
            == 1
        )
    result = reconcile.reconcile(drill_plan, copied)
    assert not result.tallies_identical
    assert any("tallies differ on icc-side" in p for p in result.problems)
    assert any(p.startswith("icc-side: regdesk check failed") for p in result.problems)


def test_reconcile_fails_on_a_conflict_no_partition_made(small_drill):
    drill_plan, state, _result, _summary, _out = small_drill
    fewer = replace(drill_plan, expected_conflicts=drill_plan.expected_conflicts[1:])
    result = reconcile.reconcile(fewer, state)
    assert not result.ok
    assert sum("conflicts differ" in p for p in result.problems) == 12


# --- the plan --------------------------------------------------------------------------------------
def test_plan_is_deterministic_by_seed():
    a, b, c = plan.build(300, 7), plan.build(300, 7), plan.build(300, 8)
    assert a.scripts == b.scripts and a.expected_conflicts == b.expected_conflicts
    assert a.scripts != c.scripts
    assert faults.build(7, plan.SPAN_MINUTES).as_json() == faults.build(7, plan.SPAN_MINUTES).as_json()


def test_plan_has_the_friday_and_monday_peaks():
    p = plan.build(900, 2017)
    assert 850 <= p.stats["participants"] <= 950 and 120 <= p.stats["state_delegations"] <= 150
    per_hour = Counter(
        plan.local_at(person.arrival).strftime("%a %H") for person in p.people.values() if person.arrival is not None
    )
    top = [hour for hour, _ in per_hour.most_common(4)]
    assert set(top) <= {"Fri 13", "Fri 14", "Fri 15", "Mon 07", "Mon 08", "Mon 09"}
    assert any(h.startswith("Fri") for h in top) and any(h.startswith("Mon") for h in top)
    # Nobody arrives when the desks are closed.
    for person in p.people.values():
        if person.arrival is not None:
            at = plan.local_at(person.arrival)
            opens, closes = plan.DESK_HOURS[at.date()]
            assert opens <= at.hour < closes


def test_plan_partition_duplicates_fall_inside_desk_3s_offline_window():
    p = plan.build(900, 2017)
    f = faults.build(2017, plan.SPAN_MINUTES)
    start, end = f.offline[faults.OFFLINE_DESK]
    for key in p.expected_conflicts:
        pid = key.removeprefix("badge:")
        assert p.people[pid].category in plan.QUOTA_FREE
        on3 = [a for a in p.scripts["desk-3"] if a.get("pid") == pid and a["do"] == "issue"]
        on1 = [a for a in p.scripts["desk-1"] if a.get("pid") == pid and a["do"] == "issue"]
        assert len(on3) == len(on1) == 1
        assert start <= on3[0]["at"] < on1[0]["at"] < end
        assert not f.hub_reachable("desk-3", on3[0]["at"]) and f.hub_reachable("desk-1", on1[0]["at"])
    # Buses leave on the configured timetable.
    departs = [plan.local_at(a["at"]).strftime("%H:%M") for a in p.scripts["bus-wes"] if a["do"] == "depart"]
    assert sorted(set(departs)) == ["07:15", "07:45", "08:15", "08:45", "09:15"]


def test_a_worker_killed_after_its_commit_acknowledges_the_action_on_restart(small_drill, tmp_path):
    """kill -9 between the commit and the journal's acknowledgement: on restart the worker finds the
    committed events in its own log, acknowledges them once, and does not do the action again."""
    from regdesk.services.drill import worker

    _plan, state, _result, _summary, _out = small_drill
    source = state.journals["desk-1"].parent
    data_dir = tmp_path / "desk-1"
    shutil.copytree(state.stations["desk-1"], data_dir)
    config = json.loads((source / "config.json").read_text())
    lines = (source / "journal.jsonl").read_text().splitlines()
    last_ack = max(i for i, line in enumerate(lines) if line.startswith('{"ack"') and '"events": []' not in line)
    lost_ack = json.loads(lines[last_ack])
    assert json.loads(lines[last_ack - 1]) == {"start": lost_ack["ack"]}
    (tmp_path / "journal.jsonl").write_text("\n".join(lines[:last_ack]) + "\n")  # killed right after the commit
    config.update(
        data_dir=str(data_dir),
        journal=str(tmp_path / "journal.jsonl"),
        metrics=str(tmp_path / "metrics.jsonl"),
        hub_url=config["dead_hub_url"],
    )
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert worker.main([str(tmp_path / "config.json")]) == 0
    acks = [json.loads(line) for line in (tmp_path / "journal.jsonl").read_text().splitlines() if '"ack"' in line]
    again = [a for a in acks if a["ack"] == lost_ack["ack"]]
    assert len(again) == 1 and again[0]["recovered"] and again[0]["events"] == lost_ack["events"]
    assert Counter(a["ack"] for a in acks).most_common(1)[0][1] == 1
