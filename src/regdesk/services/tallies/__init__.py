"""Supervisor tallies: what happened on a local day (in the event's time zone) and cumulatively up to it.

Everything is read from small running counters that SQLite triggers keep next to the projections
(store/projections/tally_counts.py: scans and badges per UTC hour bucket, first badge per
participant, distinct people entering per day), the accreditation mirror, the overrides and a few
log events (station names, resolved conflicts, closed departures). Nothing here walks the
million-row scans table. Each UTC hour bucket ("2017-12-04T15") is mapped to its local day and
hour once, so local midnight (06:00 UTC in December) is honoured, not UTC midnight; the day of a
scan is the local day its scanner recorded.

Definitions (also written to README.txt by the export):
- issued: first badges (issue number 1) issued that day; replaced: badges with issue number 2+
  (a lost badge replaced, or a reissue a supervisor approved); revoked: serials put on the
  revocation set that day. "_cum" columns count everything recorded up to the end of the day.
- pre-registered: accredited participants in the local mirror (withdrawn ones excluded);
  collected: of those, the ones with at least one badge issued by the end of the day.
- security entries / bus boardings: scans with verdict "valid" that were counted (a repeat of the
  same badge at the same point is recorded as "repeat" and never counted twice).
- A scan belongs to the local day its scanner recorded (Scan.local_day); hours are local hours.

`day_tallies(station, day)` and `all_days(station)` return plain frozen dataclasses; the CSV
export, the PDF report and the supervisor screen only read those.

The package: compute.py (pure arithmetic), load.py (one pass over store/queries/tallies.py); the
rows are plain data in domain/tallies.py.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date

from regdesk.domain.events import parse_utc
from regdesk.domain.tallies import (
    BadgeSummary,
    BusSummary,
    CategoryRow,
    CheckpointRow,
    ConflictRow,
    DayTallies,
    DelegationRow,
    DenialRow,
    DepartureRow,
    HourRow,
    MeetingSummary,
    NoShowRow,
    OperatorRow,
    OverrideRow,
    ProxyCollectionRow,
    SecuritySummary,
    StationRow,
    StopRow,
    no_show_label,
    summarise,
)
from regdesk.services.station import Station
from regdesk.services.tallies.compute import build_days, conflict_subject, day_bounds_utc, local_iso, tally_days
from regdesk.services.tallies.load import load
from regdesk.store.queries import tallies as queries


def open_conflicts(station: Station) -> list[tuple[date, ConflictRow]]:
    """Unresolved conflicts (services/conflicts.py), each with the local day it arose (its latest badge)."""
    try:
        from regdesk.services import conflicts as conflict_service
    except ImportError:  # conflicts are another area's module; tallies work without it
        return []
    config = station.config
    rows = []
    for item in conflict_service.list_conflicts(station):
        latest = max((side.issued_at for side in item.sides), default="")
        day = config.local_day(parse_utc(latest)) if latest else current_day(station)
        people = {side.participant_id: side.participant_name for side in item.sides}
        pid, who = conflict_subject(item.key, item.participant_id, people)
        rows.append(
            (
                day,
                ConflictRow(
                    conflict_id=item.key,
                    time_local=local_iso(config.zone, latest),
                    state="open",
                    kind=item.kind,
                    participant_id=pid,
                    participant_name=who,
                    resolution="",
                    reason=item.summary,
                    resolved_by="",
                    station_name=", ".join(sorted({side.station_name for side in item.sides})),
                ),
            )
        )
    rows.sort(key=lambda pair: pair[1].time_local)
    return rows


# --- public API ---------------------------------------------------------------------------------


def day_tallies(station: Station, day: date) -> DayTallies:
    """Every table for one local day, with cumulative columns up to the end of that day."""
    return all_days(station, [day])[0]


def all_days(station: Station, days: Iterable[date] | None = None) -> list[DayTallies]:
    """Tallies for several days (default: every reporting day, 1-6 December) from one read of the counters."""
    wanted = tuple(sorted(set(days))) if days is not None else tally_days(station.config)
    if not wanted:
        return []
    with _collector_paused(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="tallies") as pool:
        # The conflict check is mostly SQLite work, which runs without the GIL: overlap it with ours.
        unresolved = pool.submit(open_conflicts, station)
        with station.sessions() as session:
            snap = load(station.config, session, wanted)
        return build_days(station.config, station.clock.now, snap, unresolved.result())


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Reading a large mirror allocates ~10^6 small tuples that hold no reference cycles; the cyclic
    garbage collector would walk them again and again (a third of the time). Pause it meanwhile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def data_version(station: Station) -> int:
    """Changes whenever an event is recorded or synced in: lets a dashboard skip needless recomputing."""
    with station.sessions() as session:
        return queries.data_version(session)


def current_day(station: Station) -> date:
    """The local day on the station clock."""
    return station.config.local_day(station.clock.now())


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a day (YYYY-MM-DD)") from None


__all__ = [
    "BadgeSummary",
    "CategoryRow",
    "StationRow",
    "OperatorRow",
    "DelegationRow",
    "NoShowRow",
    "SecuritySummary",
    "DenialRow",
    "CheckpointRow",
    "HourRow",
    "BusSummary",
    "StopRow",
    "DepartureRow",
    "OverrideRow",
    "ProxyCollectionRow",
    "ConflictRow",
    "DayTallies",
    "MeetingSummary",
    "summarise",
    "no_show_label",
    "tally_days",
    "day_bounds_utc",
    "day_tallies",
    "all_days",
    "current_day",
    "open_conflicts",
    "data_version",
    "parse_day",
]
