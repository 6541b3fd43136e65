"""The tallies' arithmetic: local days and hours of stored UTC buckets, running sums, the roster's
histograms and each day's tables. Pure: works on a `Snapshot` that services/tallies/load.py filled."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from regdesk.config import EventConfig
from regdesk.domain import event_payloads as ep
from regdesk.domain.buses import TO_HOTEL, TO_VENUE
from regdesk.domain.events import format_utc
from regdesk.domain.tallies import (
    DELEGATION_STATUSES,
    DENIAL_LABELS,
    TABLES,
    UNSCHEDULED,
    BadgeSummary,
    BusSummary,
    CategoryRow,
    CheckpointRow,
    ConflictRow,
    DayTallies,
    DenialRow,
    DepartureRow,
    HourRow,
    OperatorRow,
    OverrideRow,
    PassStockRow,
    ProxyCollectionRow,
    Roster,
    SecuritySummary,
    StationRow,
    StopRow,
)
from regdesk.store.queries.tallies import Row

# One table of additive measures; the key's shape depends on the table: a measure name for "security",
# ("issued", category) for "badge", ("entries", checkpoint) for "cp", ("boardings", stop, direction) for "stop".
Tally = Counter[Any]


# --- days and time buckets ---------------------------------------------------------------------


def tally_days(config: EventConfig) -> tuple[date, ...]:
    """Local days a supervisor reports on: from the day badge collection opens to the last meeting day."""
    first = min(config.local_day(config.collection_opens_utc), min(config.meeting_days))
    last = max(config.meeting_days)
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


def day_bounds_utc(config: EventConfig, day: date) -> tuple[str, str]:
    """[start, end) of a local day as stored UTC text, e.g. 4 Dec → 06:00Z 4 Dec .. 06:00Z 5 Dec."""
    zone = config.zone
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return format_utc(start), format_utc(end)


class Buckets:
    """Maps a stored UTC hour ("2017-12-04T15") to (local day, local hour), computing each hour once.

    Exact for zones whose offset is a whole number of hours (the event's time zone, e.g. UTC-06:00).
    """

    width = 13

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._cache: dict[str, tuple[date, int]] = {}

    def local(self, prefix: str) -> tuple[date, int]:
        hit = self._cache.get(prefix)
        if hit is None:
            moment = datetime.strptime(prefix[:13], "%Y-%m-%dT%H").replace(tzinfo=timezone.utc).astimezone(self.zone)
            hit = self._cache[prefix] = (moment.date(), moment.hour)
        return hit

    def day(self, stamp: str) -> date:
        return self.local(stamp[:13])[0]


def local_iso(zone: ZoneInfo, stamp: str) -> str:
    """Stored UTC text -> local ISO time with offset, e.g. 2017-12-04T17:30:00-06:00."""
    if not stamp:
        return ""
    moment = datetime.fromisoformat(stamp[:19]).replace(tzinfo=timezone.utc)
    return moment.astimezone(zone).isoformat(timespec="seconds")


# --- one pass over the database ----------------------------------------------------------------


@dataclass
class Snapshot:
    """Everything read from the database for the days up to `until`, in small pre-grouped pieces."""

    until: date
    days: tuple[date, ...]  # the days to report, ascending, last == until
    buckets: Buckets
    station_names: dict[str, str] = field(default_factory=dict)
    # Additive measures per local day and table, e.g. deltas[day]["badge"][("issued", "MS")] or
    # deltas[day]["cp"][("entries", "<checkpoint>")]; cumulative figures are running sums of these.
    deltas: dict[date, dict[str, Tally]] = field(default_factory=dict)
    hourly: dict[date, dict[str, Counter[int]]] = field(default_factory=dict)  # day -> measure -> hour -> n
    # (stop, direction, departure) -> [headcount, first boarding, last boarding] (a list: updated in place)
    departures: dict[date, dict[tuple[str, str, str], list[Any]]] = field(default_factory=dict)
    security_people_day: dict[date, int] = field(default_factory=dict)
    security_people_first_day: dict[date, int] = field(default_factory=dict)
    overrides: list[Row] = field(default_factory=list)
    proxies: list[Row] = field(
        default_factory=list
    )  # (hour bucket, collector, name, delegation, letter, station, operator, n)
    conflicts: list[Row] = field(default_factory=list)
    # departure id -> departure_closed payload
    closed_departures: dict[str, ep.DepartureClosed] = field(default_factory=dict)
    roster: Roster | None = None
    pre_registered: Counter[str] = field(default_factory=Counter)  # category -> accredited participants
    collected: dict[str, list[int]] = field(default_factory=dict)  # category -> collected by the end of days[i]
    no_show_counts: list[int] = field(default_factory=list)  # by the end of days[i]
    delegation_status: list[Counter[str]] = field(default_factory=list)  # status -> delegations, for days[i]
    people: dict[str, str] = field(default_factory=dict)  # participant id -> name, for conflict rows
    pass_stock: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # day -> printed, assigned, voided


def hour_counter(snap: Snapshot, day: date, measure: str) -> Counter[int]:
    measures = snap.hourly.get(day)
    if measures is None:
        measures = snap.hourly[day] = {}
    counter = measures.get(measure)
    if counter is None:
        counter = measures[measure] = Counter()
    return counter


def day_delta(snap: Snapshot, day: date) -> dict[str, Tally]:
    tables = snap.deltas.get(day)
    if tables is None:
        tables = snap.deltas[day] = defaultdict(Counter)
    return tables


def load_roster(snap: Snapshot, rows: list[Row]) -> None:
    days = snap.days
    after_all = len(days)
    # First badge hour -> index of the first wanted day by whose end the participant held a badge
    # (len(days): not within the days asked). Computed once per distinct hour, then a dict lookup.
    local = snap.buckets.local
    index_of: dict[str | None, int] = {
        hour: bisect_left(days, local(hour)[0]) for hour in {row[8] for row in rows} if hour is not None
    }
    index_of[None] = after_all
    roster = Roster(days)
    # (category, delegation, index) -> participants; counted by Counter's C loop.
    groups = Counter([(row[5], row[6], index_of[row[8]]) for row in rows])
    roster.candidates = [(row, k) for row in rows if (k := index_of[row[8]]) > 0]
    by_delegation: dict[tuple[str, str], list[int]] = {}
    by_category: dict[str, list[int]] = {}
    no_show_at = [0] * (after_all + 1)
    for (category, delegation, k), n in groups.items():
        key = (category, delegation)
        counts = by_delegation.get(key)
        if counts is None:
            counts = by_delegation[key] = [0] * (after_all + 2)  # [members, then a histogram by index]
        counts[0] += n
        counts[1 + k] += n
        per_category = by_category.get(category)
        if per_category is None:
            per_category = by_category[category] = [0] * (after_all + 1)
        per_category[k] += n
        no_show_at[k] += n
    # Each delegation is "not collected" up to the day its first member collected, "partial" up to the
    # day its last member did, "complete" from then on: count those two changes, then running sums.
    starts = {status: [0] * (after_all + 1) for status in ("partial", "complete")}
    for counts in by_delegation.values():
        members, running, first, full = counts[0], 0, after_all, after_all
        for i in range(after_all):
            running += counts[1 + i]
            if running and first == after_all:
                first = i
            if running >= members:
                full = i
                break
        starts["partial"][first] += 1
        starts["complete"][full] += 1
    status = []
    partial_or_more = complete = 0
    for i in range(after_all):
        partial_or_more += starts["partial"][i]
        complete += starts["complete"][i]
        status.append(
            Counter(
                {
                    "complete": complete,
                    "partial": partial_or_more - complete,
                    "not_collected": len(by_delegation) - partial_or_more,
                }
            )
        )
    roster.delegation_counts = by_delegation  # [members, then collected per day index] (a histogram)
    for category, histogram in by_category.items():
        snap.pre_registered[category] = sum(histogram)
        running_list, running = [], 0
        for i in range(after_all):
            running += histogram[i]
            running_list.append(running)
        snap.collected[category] = running_list
    total = len(rows)
    collected_so_far = 0
    for i in range(after_all):
        collected_so_far += no_show_at[i]
        snap.no_show_counts.append(total - collected_so_far)
    snap.delegation_status = status
    snap.roster = roster


# --- building each day's tables ----------------------------------------------------------------


def build_days(
    config: EventConfig, now: Callable[[], datetime], snap: Snapshot, unresolved: list[tuple[date, ConflictRow]]
) -> list[DayTallies]:
    """Walk the days in order, carrying the cumulative counters, and emit the days asked for."""
    wanted = set(snap.days)
    cumulative: dict[str, Tally] = defaultdict(Counter)
    people_cum = 0
    results = []
    timeline = sorted(set(snap.deltas) | set(snap.security_people_first_day) | wanted)
    for day in timeline:
        if day > snap.until:
            break
        today = snap.deltas.get(day) or defaultdict(Counter)
        for table, counter in today.items():
            cumulative[table].update(counter)
        people_cum += snap.security_people_first_day.get(day, 0)
        if day in wanted:
            index = snap.days.index(day)
            results.append(_day(config, now, snap, day, index, today, cumulative, people_cum, unresolved))
    return results


def _day(
    config: EventConfig,
    now: Callable[[], datetime],
    snap: Snapshot,
    day: date,
    index: int,
    today_tables: dict[str, Tally],
    cum_tables: dict[str, Tally],
    people_cum: int,
    unresolved: list[tuple[date, ConflictRow]],
) -> DayTallies:
    zone = config.zone
    names = snap.station_names
    roster = snap.roster
    assert roster is not None, "load() reads the roster before the days are built"

    # Collection progress at the end of the day.
    pre_registered = snap.pre_registered
    collected = Counter({category: counts[index] for category, counts in snap.collected.items()})
    delegation_counts = {status: snap.delegation_status[index][status] for status in DELEGATION_STATUSES}

    empty: Tally = Counter()
    today = {table: today_tables.get(table, empty) for table in TABLES}
    cum = {table: cum_tables.get(table, empty) for table in TABLES}

    def badge(kind: str, counter: Tally, category: str | None = None) -> int:
        if category is not None:
            return counter[(kind, category)]
        return sum(n for (k, _), n in counter.items() if k == kind)

    categories = []
    known = [c.code for c in config.categories]
    seen = {cat for _, cat in cum["badge"]} | set(pre_registered)
    for code in known + sorted(seen - set(known)):
        cat = config.category(code)
        categories.append(
            CategoryRow(
                code=code or "?",
                name=cat.name if cat else (code or "Holder not in the list when issued"),
                colour=cat.colour if cat else "#777777",
                issued=badge("issued", today["badge"], code),
                replaced=badge("replaced", today["badge"], code),
                revoked=badge("revoked", today["badge"], code),
                issued_cum=badge("issued", cum["badge"], code),
                replaced_cum=badge("replaced", cum["badge"], code),
                revoked_cum=badge("revoked", cum["badge"], code),
                pre_registered=pre_registered[code],
                collected=collected[code],
            )
        )

    def people_rows(table: str) -> dict[str, tuple[int, int, int, int]]:
        t, c = today[table], cum[table]
        return {k: (t[("issued", k)], t[("replaced", k)], c[("issued", k)], c[("replaced", k)]) for _, k in c}

    def busiest(row: Any) -> tuple[int, int]:
        return (-(row.issued + row.replaced), -(row.issued_cum + row.replaced_cum))

    stations = sorted(
        (StationRow(sid, names.get(sid, sid[:8]), *counts) for sid, counts in people_rows("station").items()),
        key=lambda r: (*busiest(r), r.station_name),
    )
    operators = sorted(
        (OperatorRow(op, *counts) for op, counts in people_rows("operator").items()),
        key=lambda r: (*busiest(r), r.operator),
    )
    badges = BadgeSummary(
        issued=badge("issued", today["badge"]),
        replaced=badge("replaced", today["badge"]),
        revoked=badge("revoked", today["badge"]),
        issued_cum=badge("issued", cum["badge"]),
        replaced_cum=badge("replaced", cum["badge"]),
        revoked_cum=badge("revoked", cum["badge"]),
        pre_registered=sum(pre_registered.values()),
        collected=sum(collected.values()),
        by_proxy=badge("proxy", today["badge"]),
        by_proxy_cum=badge("proxy", cum["badge"]),
    )

    # Security.
    sec, sec_cum = today["security"], cum["security"]
    security = SecuritySummary(
        scans=sec["scans"],
        entries=sec["entries"],
        distinct_people=snap.security_people_day.get(day, 0),
        denied=sec["denied"],
        repeats=sec["repeat"],
        scans_cum=sec_cum["scans"],
        entries_cum=sec_cum["entries"],
        distinct_people_cum=people_cum,
        denied_cum=sec_cum["denied"],
        repeats_cum=sec_cum["repeat"],
    )
    denials = sorted(
        (
            DenialRow(
                kind, reason, DENIAL_LABELS.get(reason, reason or "unspecified"), today["denial"][(kind, reason)], n
            )
            for (kind, reason), n in cum["denial"].items()
        ),
        key=lambda r: (r.point_kind != "security", -r.count, -r.count_cum, r.reason),
    )
    checkpoint_names = {p.code: p.name for p in config.checkpoints}
    extra_points: list[str] = sorted({point for _, point in cum["cp"]} - set(checkpoint_names))
    cp, cp_cum = today["cp"], cum["cp"]
    checkpoints = tuple(
        CheckpointRow(
            code,
            checkpoint_names.get(code, code),
            cp[("scans", code)],
            cp[("entries", code)],
            cp[("denied", code)],
            cp[("repeat", code)],
            cp_cum[("entries", code)],
            cp_cum[("denied", code)],
        )
        for code in [p.code for p in config.checkpoints] + extra_points
    )
    hours = snap.hourly.get(day, {})
    hourly = tuple(
        HourRow(
            h,
            hours.get("badges", empty)[h],
            hours.get("entries", empty)[h],
            hours.get("denied", empty)[h],
            hours.get("boardings", empty)[h],
        )
        for h in range(24)
    )

    # Buses.
    stop_names = {p.code: p.name for p in config.bus_stops}
    stop_order = {p.code: i for i, p in enumerate(config.bus_stops)}
    direction_order = {TO_VENUE: 0, TO_HOTEL: 1}
    stop, stop_cum = today["stop"], cum["stop"]
    stop_keys = {(point, direction) for _, point, direction in stop_cum}
    stops = tuple(
        sorted(
            (
                StopRow(
                    point,
                    stop_names.get(point, point),
                    direction,
                    stop[("boardings", point, direction)],
                    stop[("denied", point, direction)],
                    stop_cum[("boardings", point, direction)],
                )
                for point, direction in stop_keys
            ),
            key=lambda r: (stop_order.get(r.stop, 99), r.stop, direction_order.get(r.direction, 9), r.direction),
        )
    )
    departures = tuple(
        sorted(
            (
                _departure_row(
                    config,
                    stop_names,
                    point,
                    direction,
                    departure,
                    headcount,
                    first,
                    last,
                    snap.closed_departures.get(departure),
                )
                for (point, direction, departure), (headcount, first, last) in snap.departures.get(day, {}).items()
            ),
            key=lambda r: (r.first_boarding, stop_order.get(r.stop, 99), r.departure),
        )
    )
    bus = BusSummary(
        boardings=sum(r.boardings for r in stops),
        denied=sum(r.denied for r in stops),
        departures=len(departures),
        over_capacity=sum(1 for r in departures if r.over_capacity),
        boardings_cum=sum(r.boardings_cum for r in stops),
        denied_cum=sum(n for (measure, _, _), n in stop_cum.items() if measure == "denied"),
    )

    # Overrides and conflicts of the day.
    day_of = snap.buckets.day
    overrides = tuple(
        OverrideRow(
            eid,
            local_iso(zone, at),
            rule,
            reason,
            supervisor,
            pid,
            pname.strip(),
            deleg,
            names.get(sid, sid[:8]),
            operator,
        )
        for eid, at, rule, reason, supervisor, pid, pname, deleg, sid, operator in snap.overrides
        if day_of(at) == day
    )
    conflicts = [
        _resolved_conflict_row(
            eid,
            local_iso(zone, at),
            names.get(sid, sid[:8]),
            operator,
            ep.ConflictResolved.from_payload(json.loads(payload)),
            snap.people,
        )
        for eid, at, sid, operator, payload in snap.conflicts
        if day_of(at) == day
    ]
    conflicts.extend(row for arose, row in unresolved if arose == day)
    proxies: dict[tuple[str, str, str, str], list[Any]] = {}  # one row per collector, letter, desk and clerk on the day
    for bucket, collector, cname, deleg, letter, sid, operator, _category, n, first in snap.proxies:
        if snap.buckets.local(bucket)[0] == day:
            row = proxies.setdefault((collector, letter, sid, operator), [first, cname.strip(), deleg, 0])
            row[0], row[3] = min(row[0], first), row[3] + n
    proxy_rows = tuple(
        sorted(
            (
                ProxyCollectionRow(
                    local_iso(zone, first), collector, cname, deleg, letter, n, names.get(sid, sid[:8]), operator
                )
                for (collector, letter, sid, operator), (first, cname, deleg, n) in proxies.items()
            ),
            key=lambda r: (r.time_local, r.collector_id),
        )
    )

    return DayTallies(
        day=day,
        event_name=config.short_name,
        zone=config.timezone,
        generated_at=format_utc(now()),
        badges=badges,
        categories=tuple(categories),
        stations=tuple(stations),
        operators=tuple(operators),
        delegation_counts=delegation_counts,
        no_show_count=snap.no_show_counts[index],
        security=security,
        denials=tuple(denials),
        checkpoints=checkpoints,
        hourly=hourly,
        buses=bus,
        stops=stops,
        departures=departures,
        overrides=overrides,
        conflicts=tuple(conflicts),
        open_conflicts=tuple(row for _, row in unresolved),
        roster=roster,
        roster_index=index,
        proxy_collections=proxy_rows,
        temporary_passes=tuple(
            PassStockRow(day.isoformat(), *snap.pass_stock[day.isoformat()])
            for _ in (0,)
            if day.isoformat() in snap.pass_stock
        ),
        collection_closed=config.collection_closes_utc <= min(now(), _day_end_utc(config, day)),
    )


def _day_end_utc(config: EventConfig, day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=config.zone).astimezone(timezone.utc)


def _departure_row(
    config: EventConfig,
    stop_names: dict[str, str],
    point: str,
    direction: str,
    departure: str,
    headcount: int,
    first: str,
    last: str,
    closed: ep.DepartureClosed | None,
) -> DepartureRow:
    capacity = closed.capacity if closed is not None else 0
    return DepartureRow(
        stop=point,
        stop_name=stop_names.get(point, point),
        direction=direction,
        departure=departure or UNSCHEDULED,
        headcount=headcount,
        capacity=capacity if capacity > 0 else config.bus_capacity,
        first_boarding=local_iso(config.zone, first),
        last_boarding=local_iso(config.zone, last),
        bus=closed.bus if closed is not None else "",
        scheduled=closed.departure_time if closed is not None else "",
        closed=closed is not None,
    )


def conflict_subject(key: str, payload_pid: str, people: dict[str, str]) -> tuple[str, str]:
    """(participant id, who) from a conflict key: "badge:<id>" or "quota:<category>:<delegation>"."""
    kind, _, rest = key.partition(":")
    if kind == "badge" or payload_pid:
        pid = payload_pid or rest
        return pid, people.get(pid, "")
    if kind == "quota":
        category, _, delegation = rest.partition(":")
        return "", f"{delegation} ({category})"
    return "", ""


def _resolved_conflict_row(
    event_id: str, when: str, station_name: str, operator: str, resolved: ep.ConflictResolved, people: dict[str, str]
) -> ConflictRow:
    # Only named, harmless fields: a conflict payload may carry more than a report should.
    key = resolved.conflict_key
    pid, who = conflict_subject(key, "", people)
    return ConflictRow(
        conflict_id=key or event_id,
        time_local=when,
        state="resolved",
        kind=resolved.kind,
        participant_id=pid,
        participant_name=who,
        resolution=resolved.decision,
        reason=resolved.reason,
        resolved_by=operator,  # the supervisor who resolved it
        station_name=station_name,
    )
