"""The drill's population and each station's script: pure, the same (scale, seed) gives the same plan.

Times are local wall-clock of the event's zone (America/Mexico_City) held as minutes since the
drill's start (Fri 1 Dec 2017 13:00); `sim_start_utc` converts. Arrivals follow the shape of the
real collection: a Friday-opening peak, quieter weekend days, the Monday-morning peak before the
opening, a few on Tuesday morning. Each desk serves its own letters of the alphabet (by
delegation) with one clerk and a modelled human service time, so issue times come from a queue,
not from the arrival curve alone.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import importlib.util
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/Mexico_City")
START_LOCAL = datetime(2017, 12, 1, 13, 0, tzinfo=ZONE)
END_LOCAL = datetime(2017, 12, 6, 18, 0, tzinfo=ZONE)
COLLECTION_CLOSES = datetime(2017, 12, 5, 15, 0, tzinfo=ZONE)
MEETING_DAYS = (
    datetime(2017, 12, 4, tzinfo=ZONE),
    datetime(2017, 12, 5, tzinfo=ZONE),
    datetime(2017, 12, 6, tzinfo=ZONE),
)
SPAN_MINUTES = int((END_LOCAL - START_LOCAL).total_seconds() // 60)

DESKS = ("desk-1", "desk-2", "desk-3", "desk-4")
# Letters each desk serves (by the first letter of the delegation): the usual split of a registration centre.
DESK_LETTERS = ("ABCDEF", "GHIJKLM", "NOPQRS", "TUVWXYZ")
GATES = {"icc-main": "ICC-MAIN", "icc-side": "ICC-SIDE"}
HOTEL_STOPS = {"bus-wes": "WES", "bus-mel": "MEL", "bus-vel": "VEL", "bus-mar": "MAR"}
ICC_STOP = "bus-icc"
SUPERVISOR = "supervisor"
STATIONS: tuple[tuple[str, str, str], ...] = (
    (SUPERVISOR, "supervisor", "Supervisor, Westin"),
    *((d, "desk", f"Westin desk {i + 1}") for i, d in enumerate(DESKS)),
    ("icc-main", "security", "ICC main entrance"),
    ("icc-side", "security", "ICC side entrance"),
    ("bus-wes", "bus", "Westin bus stop"),
    ("bus-mel", "bus", "Melia bus stop"),
    ("bus-vel", "bus", "Velas Vallarta bus stop"),
    ("bus-mar", "bus", "Marriott bus stop"),
    (ICC_STOP, "bus", "ICC bus stop"),
)
OPERATOR = {"supervisor": "maria", "desk": "clerk", "security": "guard", "bus": "marshal"}
SERVICE_SECONDS = 45.0  # a clerk's time per participant: find, check the passport, issue, print, hand over
QUOTA_FREE = ("UN", "MED", "HC", "STF")  # categories without a quota: a duplicate there is a duplicate only

# Desk opening hours (local), per day of the collection window.
DESK_HOURS = {
    datetime(2017, 12, 1).date(): (13, 20),
    datetime(2017, 12, 2).date(): (9, 18),
    datetime(2017, 12, 3).date(): (9, 18),
    datetime(2017, 12, 4).date(): (7, 20),
    datetime(2017, 12, 5).date(): (8, 15),
}
# Share of arrivals per day, and within a day the hourly weights (peaks: Friday's opening, Monday's morning).
DAY_SHARE = {
    datetime(2017, 12, 1).date(): 0.34,
    datetime(2017, 12, 2).date(): 0.14,
    datetime(2017, 12, 3).date(): 0.12,
    datetime(2017, 12, 4).date(): 0.32,
    datetime(2017, 12, 5).date(): 0.08,
}
HOUR_WEIGHTS = {
    datetime(2017, 12, 1).date(): [5, 4, 3, 2, 2, 1.5, 1],  # 13..19
    datetime(2017, 12, 4).date(): [6, 7, 5, 3, 1.5, 1, 1, 1, 1, 1, 1, 1, 0.5],  # 07..19
}


def minutes(moment: datetime) -> float:
    return (moment - START_LOCAL).total_seconds() / 60


def local_at(minute: float) -> datetime:
    return START_LOCAL + timedelta(minutes=minute)


def sim_start_utc() -> datetime:
    return START_LOCAL.astimezone(UTC)


def load_generator() -> Any:
    """fixtures/generate.py of the source checkout: the same generator as the demo and the bench."""
    path = Path(__file__).resolve().parents[4] / "fixtures" / "generate.py"
    spec = importlib.util.spec_from_file_location("regdesk_fixture_generate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Person:
    pid: str
    category: str
    delegation: str
    role: str
    desk: str
    hotel: str
    arrival: float | None  # minute of arrival at the desk (None: never comes, or a focal point collects)


@dataclass
class Plan:
    scale: int
    seed: int
    rows: list[dict[str, Any]]
    update_rows: list[dict[str, Any]]  # the re-imported list: some withdrawn
    people: dict[str, Person]
    scripts: dict[str, list[dict[str, Any]]]  # station key -> actions sorted by minute
    expected_conflicts: list[str]  # participant ids issued on two partitioned desks
    withdrawn: list[str]
    lost: list[str]
    proxy_batches: int
    cli_issues: list[dict[str, Any]]  # issuances done by the real `regdesk issue` (some killed mid-work)
    queue: dict[str, list[tuple[float, int]]]  # desk -> (minute, people waiting), modelled
    faults: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)


def _arrives_on(person: Person, day: Any) -> bool:
    return person.arrival is not None and local_at(person.arrival).date() == day


def _desk_of(delegation: str) -> str:
    first = (delegation.strip()[:1] or "A").upper()
    for desk, letters in zip(DESKS, DESK_LETTERS, strict=False):
        if first in letters:
            return desk
    return DESKS[int(hashlib.sha256(delegation.encode()).hexdigest(), 16) % len(DESKS)]


def _arrival(rng: random.Random) -> float:
    days = list(DAY_SHARE)
    day = rng.choices(days, weights=[DAY_SHARE[d] for d in days])[0]
    opens, closes = DESK_HOURS[day]
    weights = HOUR_WEIGHTS.get(day, [1.0] * (closes - opens))
    hour = opens + rng.choices(range(len(weights)), weights=weights)[0]
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=ZONE) + timedelta(seconds=rng.uniform(0, 3600))
    return minutes(moment)


def _open_at(minute: float) -> float:
    """The first minute at or after `minute` when desks are open (a queue left at closing waits for the morning)."""
    moment = local_at(minute)
    for _ in range(8):
        hours = DESK_HOURS.get(moment.date())
        if hours:
            opens = moment.replace(hour=hours[0], minute=0, second=0, microsecond=0)
            closes = moment.replace(hour=hours[1], minute=0, second=0, microsecond=0)
            if moment < opens:
                return minutes(opens)
            if moment < closes:
                return minutes(moment)
        moment = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return minute


def clerks_per_desk(scale: int) -> int:
    """One clerk a desk at the real meeting's size; more at larger ones (as a secretariat would staff it)."""
    return max(1, round(scale / 900))


def _queue(
    arrivals: list[tuple[float, str]],
    rng: random.Random,
    clerks: int = 1,
) -> tuple[dict[str, float], list[tuple[float, int]]]:
    """`clerks` clerks, one FIFO line: each person's service end (the issue time) and the queue
    length each arrival finds. FIFO to the first free clerk: service starts never go backwards."""
    done: dict[str, float] = {}
    free = [0.0] * clerks  # heap of the minutes each clerk is free again
    starts: list[float] = []
    samples: list[tuple[float, int]] = []
    for arrive, key in sorted(arrivals):
        start = _open_at(max(arrive, heapq.heappop(free)))
        service = rng.uniform(0.6, 1.5) * SERVICE_SECONDS / 60
        heapq.heappush(free, start + service)
        done[key] = start + service
        samples.append((arrive, len(starts) - bisect.bisect_right(starts, arrive)))
        starts.append(start)
    return done, samples


def _sync_minutes(station: str, role: str, every: int) -> list[float]:
    """When a station syncs: every `every` minutes while it works, every 2 hours otherwise."""
    out: list[float] = []
    m = 1.0
    while m < SPAN_MINUTES:
        out.append(m)
        hour = local_at(m).hour
        busy = 7 <= hour < 20
        m += every if busy else 120
    return out


def build(scale: int = 900, seed: int = 2017, *, sync_every: int = 20) -> Plan:
    gen = load_generator()
    rows = gen.generate_rows(scale, seed)
    rng = random.Random(seed * 7919 + scale)
    accredited = [r for r in rows if r["status"] == "accredited"]
    hotels = list(HOTEL_STOPS.values())
    people: dict[str, Person] = {}
    for r in accredited:
        people[r["accreditation_id"]] = Person(
            r["accreditation_id"],
            r["category"],
            r["delegation"],
            r["delegation_role"],
            _desk_of(r["delegation"]),
            rng.choices(hotels, weights=[35, 25, 20, 20])[0],
            None,
        )
    scripts: dict[str, list[dict[str, Any]]] = {key: [] for key, _, _ in STATIONS}
    ids = sorted(people)

    # Partitioned duplicates: desk-3 is offline Saturday 10:00-16:00; the same person is issued there
    # (11:00) and at desk 1 (11:30), which cannot know. Quota-free categories: nothing but the duplicate.
    n_conflicts = max(2, min(12, scale // 300))
    free = [p for p in ids if people[p].category in QUOTA_FREE]
    conflicts = sorted(rng.sample(free, min(n_conflicts, len(free))))
    saturday = minutes(datetime(2017, 12, 2, 11, 0, tzinfo=ZONE))
    for i, pid in enumerate(conflicts):
        scripts["desk-3"].append({"at": saturday + i, "do": "issue", "pid": pid})
        scripts["desk-1"].append({"at": saturday + 30 + i, "do": "issue", "pid": pid})
    taken = set(conflicts)

    # Focal points: about one Member State delegation in ten sends its head to collect for the members.
    delegations: dict[str, list[str]] = {}
    for pid in ids:
        delegations.setdefault(people[pid].delegation, []).append(pid)
    proxy_batches = 0
    proxied: set[str] = set()
    for name in sorted(delegations):
        members = delegations[name]
        heads = [p for p in members if people[p].role == "head"]
        others = [p for p in members if people[p].role != "head" and p not in taken]
        if heads and others and people[heads[0]].category == "MS" and heads[0] not in taken and rng.random() < 0.1:
            proxied.update(others[:3])
            people[heads[0]].arrival = None  # set below with the batch
            proxy_batches += 1

    # Arrivals: 93 % come; the rest are no-shows.
    for pid in ids:
        if pid in taken or pid in proxied:
            continue
        if rng.random() < 0.93:
            people[pid].arrival = _arrival(rng)

    # A few issuances go through the real CLI (`regdesk issue`), some killed mid-work and retried.
    saturday_date = datetime(2017, 12, 2).date()
    cli_people = [p for p in ids if people[p].desk == "desk-2" and _arrives_on(people[p], saturday_date)]
    cli_people = cli_people[: min(6, max(2, scale // 300))]
    cli_issues: list[dict[str, Any]] = [
        {"pid": p, "at": people[p].arrival, "kill": i % 2 == 0} for i, p in enumerate(cli_people)
    ]
    cli_set = set(cli_people)

    queue: dict[str, list[tuple[float, int]]] = {}
    issued_at: dict[str, float] = {}
    for desk in DESKS:
        arrivals = [
            (people[p].arrival, p)
            for p in ids
            if people[p].desk == desk and people[p].arrival is not None and p not in cli_set
        ]
        done, samples = _queue(arrivals, rng, clerks_per_desk(scale))  # type: ignore[arg-type]
        queue[desk] = samples
        issued_at.update(done)
    for pid, at in issued_at.items():
        person = people[pid]
        delegation_members = [m for m in delegations[person.delegation] if m in proxied]
        if person.role == "head" and delegation_members and person.category == "MS":
            scripts[person.desk].append({"at": at, "do": "collect", "collector": pid, "members": delegation_members})
        else:
            scripts[person.desk].append({"at": at, "do": "issue", "pid": pid})
    for c in cli_issues:
        issued_at[c["pid"]] = c["at"]
    for pid in conflicts:
        issued_at[pid] = saturday + 30
    for members in delegations.values():
        heads = [p for p in members if people[p].role == "head" and p in issued_at]
        for m in members:
            if m in proxied and heads:
                issued_at[m] = issued_at[heads[0]]

    # Lost badges: about 2 % of those issued by Sunday lose theirs and get a replacement at their desk on Monday.
    monday = minutes(datetime(2017, 12, 4, 7, 0, tzinfo=ZONE))
    candidates = [
        p
        for p in sorted(issued_at)
        if issued_at[p] < monday - 24 * 60 and p not in taken and p not in cli_set and p not in proxied
    ]
    lost = sorted(rng.sample(candidates, min(len(candidates), max(2, scale // 50))))
    for pid in lost:
        at = monday + 60 + rng.uniform(0, 300)
        scripts[people[pid].desk].append({"at": at, "do": "replace", "pid": pid})
        issued_at[pid] = max(issued_at[pid], at)

    # The re-imported list (Monday 12:00): about 1 % withdrawn, some already holding a badge.
    lost_set = set(lost)
    withdrawn = sorted(
        rng.sample(
            [
                p
                for p in ids
                if p not in taken
                and p not in lost_set
                and p not in cli_set
                and p not in proxied
                and people[p].role != "head"
            ],
            max(2, scale // 100),
        )
    )
    withdrawn_set = set(withdrawn)
    update_rows = [dict(r, status="withdrawn") if r["accreditation_id"] in withdrawn_set else dict(r) for r in rows]
    scripts[SUPERVISOR].append({"at": minutes(datetime(2017, 12, 4, 12, 0, tzinfo=ZONE)), "do": "reimport"})

    # The meeting days: entrances in the morning, buses on the posted timetable.
    schedule = {
        "WES": ["07:15", "07:45", "08:15", "08:45", "09:15"],
        "MEL": ["07:10", "07:40", "08:10", "08:40", "09:10"],
        "VEL": ["07:05", "07:35", "08:05", "08:35", "09:05"],
        "MAR": ["07:20", "07:50", "08:20", "08:50", "09:20"],
    }
    evening = ["18:15", "18:45", "19:15"]
    stop_station = {v: k for k, v in HOTEL_STOPS.items()}
    forged = 0
    for d, day in enumerate(MEETING_DAYS):
        attend = (0.9, 0.85, 0.75)[d]
        seven = minutes(day.replace(hour=7))
        for pid in ids:
            if pid not in issued_at or rng.random() > attend:
                continue
            if issued_at[pid] > seven:
                continue  # collected later that day: no entry planned before
            person = people[pid]
            bus_time = None
            if rng.random() < 0.6:
                dep = rng.choice(schedule[person.hotel])
                hh, mm = map(int, dep.split(":"))
                bus_time = minutes(day.replace(hour=hh, minute=mm)) - rng.uniform(1, 12)
                scripts[stop_station[person.hotel]].append({"at": bus_time, "do": "board", "pid": pid})
                gate_at = bus_time + 30 + rng.uniform(0, 10)
            else:
                gate_at = minutes(day.replace(hour=7, minute=30)) + rng.uniform(0, 180)
            gate = "icc-main" if rng.random() < 0.8 else "icc-side"
            scripts[gate].append({"at": gate_at, "do": "scan", "pid": pid})
            if rng.random() < 0.5:
                dep = rng.choice(evening)
                hh, mm = map(int, dep.split(":"))
                scripts[ICC_STOP].append(
                    {"at": minutes(day.replace(hour=hh, minute=mm)) - rng.uniform(1, 12), "do": "board", "pid": pid}
                )
        # A few try a replaced badge, and a few a forged one, at the main entrance.
        for pid in lost[: max(1, len(lost) // 3)]:
            scripts["icc-main"].append(
                {"at": minutes(day.replace(hour=8, minute=40)) + rng.uniform(0, 60), "do": "scan_old", "pid": pid}
            )
        for k in range(max(1, scale // 400)):
            scripts[rng.choice(list(GATES))].append(
                {"at": minutes(day.replace(hour=9)) + rng.uniform(0, 60), "do": "forged", "n": k}
            )
            forged += 1
        # Buses leave on the timetable: the marshal closes each departure at its time.
        for station, stop in HOTEL_STOPS.items():
            for dep in schedule[stop]:
                hh, mm = map(int, dep.split(":"))
                scripts[station].append({"at": minutes(day.replace(hour=hh, minute=mm)), "do": "depart"})
        for dep in sorted(set(evening + ["18:20", "18:50", "19:20"])):
            hh, mm = map(int, dep.split(":"))
            scripts[ICC_STOP].append({"at": minutes(day.replace(hour=hh, minute=mm)), "do": "depart"})

    for key, role, _ in STATIONS:
        if key == "bus-vel":
            for night in (
                datetime(2017, 12, 3, 22, 0, tzinfo=ZONE),
                datetime(2017, 12, 4, 22, 0, tzinfo=ZONE),
                datetime(2017, 12, 5, 22, 0, tzinfo=ZONE),
            ):
                n = minutes(night)
                scripts[key].append({"at": n, "do": "bundle_out", "night": night.date().isoformat()})
                scripts[SUPERVISOR].append({"at": n + 30, "do": "relay", "night": night.date().isoformat()})
                scripts[key].append({"at": n + 60, "do": "bundle_in", "night": night.date().isoformat()})
            continue
        for when in _sync_minutes(key, role, sync_every):
            scripts[key].append({"at": when, "do": "sync"})
    for key in scripts:
        scripts[key].sort(key=lambda a: (a["at"], a["do"] != "sync"))
        for i, action in enumerate(scripts[key]):
            action["i"] = i
            action["at"] = round(action["at"], 4)

    stats = {
        "participants": len(rows),
        "accredited": len(accredited),
        "delegations": len({r["delegation"] for r in rows}),
        "state_delegations": len({r["delegation"] for r in rows if r["category"] in ("MS", "OS")}),
        "arrivals": sum(1 for p in people.values() if p.arrival is not None),
        "focal_point_batches": proxy_batches,
        "collected_by_focal_point": len(proxied),
        "lost_badges": len(lost),
        "withdrawn": len(withdrawn),
        "forged_scans": forged,
        "partition_duplicates": len(conflicts),
        "cli_issues": len(cli_issues),
        "actions": sum(len(s) for s in scripts.values()),
    }
    return Plan(
        scale,
        seed,
        rows,
        update_rows,
        people,
        scripts,
        [f"badge:{p}" for p in conflicts],
        withdrawn,
        lost,
        proxy_batches,
        cli_issues,
        queue,
        stats=stats,
    )
