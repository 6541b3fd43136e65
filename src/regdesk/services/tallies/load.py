"""One pass over the database for the tallies: the named queries of store/queries/tallies.py folded
into a `Snapshot` of small pre-grouped counters (services/tallies/compute.py does the rest)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from regdesk.config import EventConfig
from regdesk.domain import event_payloads as ep
from regdesk.domain.buses import bus_direction
from regdesk.domain.names import display_name
from regdesk.domain.tallies import NO_DELEGATION
from regdesk.domain.verdict import COUNTED_VERDICTS
from regdesk.services.tallies.compute import Buckets, Snapshot, day_bounds_utc, day_delta, hour_counter, load_roster
from regdesk.store.queries import tallies as q


def load(config: EventConfig, session: Session, days: tuple[date, ...]) -> Snapshot:
    """One pass over the counters, the mirror and a few log events for `days` (ascending)."""
    until = days[-1]
    buckets = Buckets(config.zone)
    snap = Snapshot(until=until, days=days, buckets=buckets)
    ends = [day_bounds_utc(config, d)[1] for d in days]
    first_start = day_bounds_utc(config, days[0])[0]
    until_text = until.isoformat()
    # Rows come as plain tuples from the store's DB-API fast path (store/queries/tallies.py).
    with q.reading(session) as cursor:
        _read(snap, cursor, buckets, until, until_text, first_start, ends[-1])
    return snap


def _read(
    snap: Snapshot, cursor: Any, buckets: Buckets, until: date, until_text: str, first_start: str, end: str
) -> None:
    for station_id, payload in q.station_payloads(cursor):
        snap.station_names[station_id] = ep.StationCreated.from_payload(json.loads(payload)).name or station_id[:8]

    # Badges by desk and clerk come from the trigger-kept counters; by category they are grouped
    # against the current mirror, so the split is the same whatever order sync delivered them in.
    for bucket, station_id, operator, reissue, n in q.badge_hours(cursor):
        day, hour = buckets.local(bucket)
        if day > until:
            continue
        kind = "replaced" if reissue else "issued"
        delta = day_delta(snap, day)
        delta["station"][(kind, station_id)] += n
        delta["operator"][(kind, operator)] += n
        hour_counter(snap, day, "badges")[hour] += n
    for bucket, category, reissue, n in q.badges_by_category(cursor):
        day = buckets.local(bucket)[0]
        if day <= until:
            day_delta(snap, day)["badge"][("replaced" if reissue else "issued", category)] += n
    snap.proxies = q.proxy_collections(cursor)
    for bucket, *_rest, category, n, _first in snap.proxies:
        day = buckets.local(bucket)[0]
        if day <= until:
            day_delta(snap, day)["badge"][("proxy", category)] += n
    for bucket, category, n in q.revocations_by_category(cursor):
        day = buckets.local(bucket)[0]
        if day <= until:
            day_delta(snap, day)["badge"][("revoked", category)] += n

    # Scans.
    for local_day, bucket, kind, point, direction, departure, verdict, reason, counted, n, first, last in q.scan_hours(
        cursor, until_text
    ):
        direction = bus_direction(direction)  # counters written before directions were generic say "to_icc"
        day = date.fromisoformat(local_day)
        hour = buckets.local(bucket)[1]
        delta = day_delta(snap, day)
        valid = verdict in COUNTED_VERDICTS and bool(counted)  # a temporary pass counts like a badge
        if verdict == "denied":
            delta["denial"][(kind, reason)] += n
        if kind == "security":
            measure = "entries" if valid else verdict if verdict in ("denied", "repeat") else "other"
            delta["security"]["scans"] += n
            delta["security"][measure] += n
            delta["cp"][("scans", point)] += n
            delta["cp"][(measure, point)] += n
            if measure in ("entries", "denied"):
                hour_counter(snap, day, measure)[hour] += n
        elif kind == "bus":
            if valid:
                delta["stop"][("boardings", point, direction)] += n
                hour_counter(snap, day, "boardings")[hour] += n
                slot = snap.departures.setdefault(day, {}).setdefault((point, direction, departure), [0, first, last])
                slot[0] += n
                slot[1], slot[2] = min(slot[1], first), max(slot[2], last)
            elif verdict == "denied":
                delta["stop"][("denied", point, direction)] += n
    for local_day, n in q.entrant_days(cursor, until_text):
        snap.security_people_day[date.fromisoformat(local_day)] = n
    for first_day, n in q.first_entry_days(cursor, until_text):
        snap.security_people_first_day[date.fromisoformat(first_day)] = n

    # The accredited participants and when each first held a badge: one pass over the mirror.
    load_roster(snap, q.roster(cursor, NO_DELEGATION))

    snap.overrides = q.overrides(cursor, first_start, end)
    for (payload,) in q.closed_departure_payloads(cursor, end):
        closed = ep.DepartureClosed.from_payload(json.loads(payload))
        snap.closed_departures[closed.departure] = closed
    snap.conflicts = q.resolved_conflicts(cursor, first_start, end)
    pids = {
        ep.ConflictResolved.from_payload(json.loads(row[4])).conflict_key.partition(":")[2] for row in snap.conflicts
    }
    for pid in sorted(pids):
        for given, family in q.participant_names(cursor, pid):
            snap.people[pid] = display_name(given, family)
    for pass_day, printed, assigned, voided in q.pass_stock(cursor):
        snap.pass_stock[pass_day] = (printed, assigned or 0, voided or 0)
