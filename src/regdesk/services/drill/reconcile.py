"""The drill's verdict: every station holds the same events, tallies, badges and conflicts, and
every acknowledged event is there exactly once. Reads the stations' databases and the workers'
journals; any difference is listed and fails the drill."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from regdesk.services import conflicts, integrity, tallies
from regdesk.services.station import open_station
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import events as event_queries


@dataclass
class Reconciliation:
    stations: int = 0
    events: int = 0
    lost: int = 0
    duplicated: int = 0
    tallies_identical: bool = False
    conflicts_expected: int = 0
    conflicts_found: int = 0
    badges: int = 0
    badges_unaccounted: int = 0
    checks_passed: int = 0
    problems: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def tally_digests(folder: Path) -> dict[str, str]:
    """Day -> digest of that day's tallies, exactly as `regdesk report` computes them."""
    station = open_station(folder)
    try:
        out = {}
        for day in tallies.all_days(station):
            shown = {k: v for k, v in _plain(day).items() if k not in ("generated_at", "roster")}
            shown["delegations"] = _plain(day.delegations)  # what the report prints from the roster
            shown["no_shows"] = _plain(day.no_shows)
            out[str(day.day)] = hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()
        return out
    finally:
        station.close()


def station_facts(folder: Path) -> dict[str, Any]:
    station = open_station(folder)
    try:
        with station.sessions() as session:
            ids = event_queries.all_ids(session)
            seq_dupes = event_queries.seq_duplicates(session)
            badges = {
                row.serial: (row.participant_id, row.issued_event_id, bool(row.revoked))
                for row in badge_queries.all_badges(session)
            }
        found = sorted(c.key for c in conflicts.list_conflicts(station))
        return {
            "ids": ids,
            "seq_dupes": int(seq_dupes),
            "badges": badges,
            "conflicts": found,
            "station_id": station.station_id,
        }
    finally:
        station.close()


def acknowledged(journals: dict[str, Path]) -> tuple[dict[str, str], list[str], list[dict[str, Any]]]:
    """event id -> station key, for every acknowledged action; problems (an action acknowledged twice)."""
    acked: dict[str, str] = {}
    problems: list[str] = []
    entries: list[dict[str, Any]] = []
    for key, path in journals.items():
        seen: Counter[int] = Counter()
        if not path.exists():
            problems.append(f"{key}: no journal (the worker never ran)")
            continue
        done = False
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if entry.get("done"):
                done = True
            if "ack" not in entry:
                continue
            seen[entry["ack"]] += 1
            entry["station"] = key
            entries.append(entry)
            for event_id in entry.get("events", []):
                if event_id in acked:
                    problems.append(f"{key}: event {event_id} acknowledged twice")
                acked[event_id] = key
        if not done:
            problems.append(f"{key}: the worker did not finish its script")
        problems.extend(
            f"{key}: action {i} acknowledged {n} times (done again after a kill)" for i, n in seen.items() if n > 1
        )
    return acked, problems, entries


def _station_evidence(folder: Path) -> tuple[dict[str, Any], dict[str, str], tuple[bool, str]]:
    """Everything the verdict needs from one station: its facts, its tallies, `regdesk check`."""
    report = integrity.check_station(folder)
    check = (report.ok, "" if report.ok else ("; ".join(report.problems)[:200] or str(report.integrity)))
    return station_facts(folder), tally_digests(folder), check


def gather(stations: dict[str, Path]) -> dict[str, tuple[dict[str, Any], dict[str, str], tuple[bool, str]]]:
    """The stations are read one process each, as many at once as there are cores: at 100,000
    participants each `regdesk check` replays about 600,000 events."""
    cores = max(1, min(len(stations), os.cpu_count() or 1))
    if cores == 1:
        return {key: _station_evidence(folder) for key, folder in stations.items()}
    with ProcessPoolExecutor(cores, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {key: pool.submit(_station_evidence, folder) for key, folder in stations.items()}
        return {key: future.result() for key, future in futures.items()}


def reconcile(plan: Any, state: Any) -> Reconciliation:
    result = Reconciliation(stations=len(state.stations), conflicts_expected=len(plan.expected_conflicts))
    evidence = gather(state.stations)
    facts = {key: e[0] for key, e in evidence.items()}
    sets = {key: set(f["ids"]) for key, f in facts.items()}
    union = set().union(*sets.values())
    result.events = len(union)
    for key, ids in sets.items():
        missing = union - ids
        if missing:
            result.problems.append(
                f"{key}: lacks {len(missing)} event(s) other stations hold, e.g. {sorted(missing)[0]}"
            )
        if facts[key]["seq_dupes"]:
            result.problems.append(f"{key}: {facts[key]['seq_dupes']} (station, seq) pairs held twice")
    acked, journal_problems, entries = acknowledged(state.journals)
    result.problems.extend(journal_problems)
    for run in getattr(state, "cli_scans", []):  # verdicts `regdesk scan` printed: acknowledged
        for event_id in run["acked_event_ids"]:
            acked[event_id] = "icc-side (regdesk scan)"
    lost = {e for e in acked if any(e not in ids for ids in sets.values())}
    result.lost = len(lost)
    if lost:
        result.problems.append(f"{len(lost)} acknowledged event(s) missing from some station, e.g. {sorted(lost)[0]}")
    result.duplicated = sum(1 for p in journal_problems if "twice" in p or "times" in p) + sum(
        f["seq_dupes"] for f in facts.values()
    )
    # Tallies of every day, identical everywhere.
    digests = {key: e[1] for key, e in evidence.items()}
    reference = next(iter(digests.values()))
    differing = sorted(k for k, d in digests.items() if d != reference)
    result.tallies_identical = not differing
    if differing:
        days = sorted({day for k in differing for day, h in digests[k].items() if reference.get(day) != h})
        result.problems.append(f"tallies differ on {', '.join(differing)} (days {', '.join(days)})")
    # Badges: the same everywhere, and each one issued by an acknowledged action or a CLI run that
    # said so (a CLI killed after its commit is accounted for by the retry that found the badge).
    badge_sets = {key: f["badges"] for key, f in facts.items()}
    ref_badges = next(iter(badge_sets.values()))
    for key, b in badge_sets.items():
        if b != ref_badges:
            result.problems.append(f"{key}: badges differ from {next(iter(badge_sets))}")
    result.badges = len(ref_badges)
    cli_serials = {c["serial"] for c in state.cli if c.get("serial")}
    cli_killed = {c["pid"] for c in state.cli if c.get("killed")}
    unaccounted = [
        s
        for s, (pid, event_id, _r) in ref_badges.items()
        if event_id not in acked and s not in cli_serials and pid not in cli_killed
    ]
    result.badges_unaccounted = len(unaccounted)
    if unaccounted:
        result.problems.append(f"{len(unaccounted)} badge(s) no acknowledged action issued, e.g. {unaccounted[0]}")
    acked_serials = {
        s
        for e in entries
        for s in ([e.get("serial")] + list(e.get("serials") or []))
        if s and e.get("do") in ("issue", "replace", "collect")
    }
    missing_serials = (acked_serials | cli_serials) - set(ref_badges)
    if missing_serials:
        result.problems.append(f"{len(missing_serials)} acknowledged badge(s) missing, e.g. {min(missing_serials)}")
    for c in state.cli:
        if not c.get("issued") and not (c.get("killed") and c.get("reason")):
            result.problems.append(f"regdesk issue {c['pid']} failed: exit {c.get('exit')} {c.get('stderr', '')[:120]}")
    # Conflicts exactly where the partitions made them.
    expected = sorted(plan.expected_conflicts)
    for key, f in facts.items():
        if f["conflicts"] != expected:
            extra = sorted(set(f["conflicts"]) - set(expected))
            absent = sorted(set(expected) - set(f["conflicts"]))
            result.problems.append(
                f"{key}: conflicts differ from the partitions' (unexpected {extra[:3]}, missing {absent[:3]})"
            )
    result.conflicts_found = len(next(iter(facts.values()))["conflicts"])
    # `regdesk check` everywhere.
    for key, (_facts, _digests, (passed, why)) in evidence.items():
        if passed:
            result.checks_passed += 1
        else:
            result.problems.append(f"{key}: regdesk check failed: {why}")
    result.problems.extend(state.worker_failures)
    result.detail = {
        "acknowledged_events": len(acked),
        "recovered_after_kill": sum(1 for e in entries if e.get("recovered")),
        "conflict_keys": expected,
    }
    return result
