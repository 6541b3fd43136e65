"""Supervisor tallies as plain data: the rows of a day's tables, the day itself, and the meeting
summary (several days added up). Pure: no database, no clock. Built by services/tallies (which reads
the counters through store/queries/tallies) and read by the CSV export, the PDF report and the
supervisor screen."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import NamedTuple

from regdesk.domain.names import display_name, latin_display_name

DELEGATION_STATUSES = ("complete", "partial", "not_collected")
DENIAL_LABELS = {
    "unreadable": "Badge unreadable",
    "forged": "Forged (bad signature)",
    "wrong_event": "Badge for another event",
    "unknown_key": "Unknown signing key",
    "revoked": "Revoked (replaced badge)",
    "withdrawn": "Accreditation withdrawn",
    "not_valid_today": "Not valid today",
}
NO_DELEGATION = "(no delegation)"
TABLES = ("badge", "station", "operator", "security", "cp", "denial", "stop")  # keys of the per-day counters
UNSCHEDULED = "(unscheduled)"
# One accredited participant as the roster reads it: accreditation id, family name, given names, the same two
# in Latin letters, category, delegation, delegation role, and the UTC hour of the first badge (or None).
RosterRow = tuple[str, str, str, str, str, str, str, str, "str | None"]

# --- result rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeSummary:
    issued: int
    replaced: int
    revoked: int
    issued_cum: int
    replaced_cum: int
    revoked_cum: int
    pre_registered: int
    collected: int  # cumulative by the end of the day
    # Badges a delegation's focal point collected for their holders (services/collection.py).
    by_proxy: int = 0
    by_proxy_cum: int = 0

    @property
    def collected_pct(self) -> float:
        return 100.0 * self.collected / self.pre_registered if self.pre_registered else 0.0


@dataclass(frozen=True)
class ProxyCollectionRow:
    """Badges one focal point collected for their delegation on one authorisation, on one day."""

    time_local: str  # the first badge of the collection, local ISO time
    collector_id: str
    collector_name: str
    delegation: str
    authorisation: str
    badges: int
    station_name: str
    operator: str


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name: str
    colour: str
    issued: int
    replaced: int
    revoked: int
    issued_cum: int
    replaced_cum: int
    revoked_cum: int
    pre_registered: int
    collected: int

    @property
    def not_collected(self) -> int:
        return self.pre_registered - self.collected

    @property
    def collected_pct(self) -> float:
        return 100.0 * self.collected / self.pre_registered if self.pre_registered else 0.0


@dataclass(frozen=True)
class StationRow:
    station_id: str
    station_name: str
    issued: int
    replaced: int
    issued_cum: int
    replaced_cum: int


@dataclass(frozen=True)
class OperatorRow:
    operator: str
    issued: int
    replaced: int
    issued_cum: int
    replaced_cum: int


class DelegationRow(NamedTuple):  # a tuple: tens of thousands per day at a large meeting
    category: str
    delegation: str
    pre_registered: int
    collected: int
    status: str  # complete | partial | not_collected


class NoShowRow(NamedTuple):  # a tuple: up to one per participant
    delegation: str
    category: str
    accreditation_id: str
    name: str  # as in passport
    name_latin: str
    delegation_role: str


@dataclass(frozen=True)
class SecuritySummary:
    scans: int
    entries: int
    distinct_people: int
    denied: int
    repeats: int
    scans_cum: int
    entries_cum: int
    distinct_people_cum: int
    denied_cum: int
    repeats_cum: int


@dataclass(frozen=True)
class DenialRow:
    point_kind: str  # security | bus
    reason: str
    label: str
    count: int
    count_cum: int


@dataclass(frozen=True)
class CheckpointRow:
    code: str
    name: str
    scans: int
    entries: int
    denied: int
    repeats: int
    entries_cum: int
    denied_cum: int


@dataclass(frozen=True)
class HourRow:
    hour: int  # local hour 0..23
    badges: int  # first issues + replacements
    entries: int
    denied: int  # security denials
    boardings: int


@dataclass(frozen=True)
class BusSummary:
    boardings: int
    denied: int
    departures: int
    over_capacity: int
    boardings_cum: int
    denied_cum: int


@dataclass(frozen=True)
class StopRow:
    stop: str
    stop_name: str
    direction: str
    boardings: int
    denied: int
    boardings_cum: int


@dataclass(frozen=True)
class DepartureRow:
    stop: str
    stop_name: str
    direction: str
    departure: str  # departure id from the marshal's screen, e.g. "2017-12-04 07:30 bus 12 #3f9a"
    headcount: int
    capacity: int
    first_boarding: str  # local ISO time
    last_boarding: str
    bus: str = ""  # from the departure_closed event, when the marshal closed it
    scheduled: str = ""  # HH:MM
    closed: bool = False

    @property
    def label(self) -> str:
        if self.scheduled or self.bus:
            return f"{self.scheduled or '--:--'} bus {self.bus or '-'}"
        return self.departure.split(" #")[0]

    @property
    def load_pct(self) -> float:
        return 100.0 * self.headcount / self.capacity if self.capacity else 0.0

    @property
    def over_capacity(self) -> bool:
        return self.headcount > self.capacity


@dataclass(frozen=True)
class OverrideRow:
    event_id: str
    time_local: str
    rule: str
    reason: str
    supervisor: str
    participant_id: str
    participant_name: str
    delegation: str
    station_name: str
    operator: str


@dataclass(frozen=True)
class ConflictRow:
    conflict_id: str
    time_local: str  # when resolved (or detected, for open ones)
    state: str  # resolved | open
    kind: str
    participant_id: str
    participant_name: str
    resolution: str
    reason: str
    resolved_by: str
    station_name: str


@dataclass(frozen=True)
class PassStockRow:
    """The contingency stock of temporary passes valid on the day (services/passes.py)."""

    day: str
    printed: int
    assigned: int
    voided: int

    @property
    def unused(self) -> int:
        return self.printed - self.assigned - self.voided

    @property
    def line(self) -> str:
        return (
            f"Temporary passes for this day: {self.printed} printed, {self.assigned} assigned, "
            f"{self.voided} voided, {self.unused} unused"
        )


@dataclass(frozen=True)
class DayTallies:
    day: date
    event_name: str
    zone: str
    generated_at: str  # UTC ISO, from the station clock
    badges: BadgeSummary
    categories: tuple[CategoryRow, ...]
    stations: tuple[StationRow, ...]
    operators: tuple[OperatorRow, ...]
    delegation_counts: dict[str, int]  # complete / partial / not_collected
    no_show_count: int
    security: SecuritySummary
    denials: tuple[DenialRow, ...]
    checkpoints: tuple[CheckpointRow, ...]
    hourly: tuple[HourRow, ...]
    buses: BusSummary
    stops: tuple[StopRow, ...]
    departures: tuple[DepartureRow, ...]
    overrides: tuple[OverrideRow, ...]
    conflicts: tuple[ConflictRow, ...]  # resolved on the day, and open ones that arose on the day
    open_conflicts: tuple[ConflictRow, ...]  # every conflict open when the tallies were computed
    # The per-participant lists are built on first use, shared by the days of one computation:
    # at a 100,000-participant meeting they are most of the work and a dashboard refresh needs counts.
    roster: Roster = field(repr=False, compare=False)
    roster_index: int = field(repr=False, compare=False)
    # Had badge collection closed by the end of the day (or by now, for today)? Until then a
    # participant without a badge has simply not collected it yet: not a no-show.
    collection_closed: bool = True
    proxy_collections: tuple[ProxyCollectionRow, ...] = ()  # collections by a focal point on the day
    temporary_passes: tuple[PassStockRow, ...] = ()  # the day's pass stock: one row, or none printed

    @cached_property
    def delegations(self) -> tuple[DelegationRow, ...]:
        """Every delegation's collection state at the end of the day: not collected, partial, complete."""
        return self.roster.delegations(self.roster_index)

    @cached_property
    def no_shows(self) -> tuple[NoShowRow, ...]:
        """Pre-registered participants without a badge at the end of the day, by delegation, heads first."""
        return self.roster.no_shows(self.roster_index)

    def boardings_by_stop(self) -> dict[str, int]:
        """Boardings of the day per stop name (hotels in config order, then the venue's stop)."""
        totals: dict[str, int] = {}
        for row in self.stops:
            totals[row.stop_name] = totals.get(row.stop_name, 0) + row.boardings
        return totals


class Roster:
    """Accredited participants with the first wanted day by whose end each held a badge.

    Per delegation it keeps the members and a histogram of those days; the lists (no-shows in
    report order, delegation rows) are built on first use, once for all the days of a computation.
    """

    def __init__(self, days: tuple[date, ...]) -> None:
        self.days = days
        # (category, delegation) -> [members, then how many first held a badge by days[0], days[1], ...]
        self.delegation_counts: dict[tuple[str, str], list[int]] = {}
        self.candidates: list[tuple[RosterRow, int]] = []  # (raw row, day index) not collected by days[0]
        self._no_shows: list[tuple[NoShowRow, int]] | None = None
        self._delegation_order: list[tuple[str, str]] | None = None
        self._delegation_rows: dict[tuple[str, str], DelegationRow] = {}  # latest row built, reused if unchanged
        self._no_show_cache: dict[int, tuple[NoShowRow, ...]] = {}
        self._delegation_cache: dict[int, tuple[DelegationRow, ...]] = {}

    def no_shows(self, index: int) -> tuple[NoShowRow, ...]:
        if index not in self._no_show_cache:
            if self._no_shows is None:
                ordered = sorted(
                    self.candidates,
                    key=lambda c: (
                        c[0][6].casefold(),
                        c[0][7] != "head",
                        c[0][3].casefold(),
                        c[0][4].casefold(),
                        c[0][0],
                    ),
                )
                self._no_shows = [
                    (
                        NoShowRow(
                            deleg,
                            cat,
                            pid,
                            display_name(given, family),
                            latin_display_name(given_l, family_l, given=given, family=family),
                            role,
                        ),
                        k,
                    )
                    for (pid, family, given, family_l, given_l, cat, deleg, role, _), k in ordered
                ]
            self._no_show_cache[index] = tuple(row for row, k in self._no_shows if k > index)
        return self._no_show_cache[index]

    def delegations(self, index: int) -> tuple[DelegationRow, ...]:
        if index not in self._delegation_cache:
            if self._delegation_order is None:
                self._delegation_order = sorted(self.delegation_counts, key=lambda k: (k[1].casefold(), k[0]))
            by_status: dict[str, list[DelegationRow]] = {status: [] for status in DELEGATION_STATUSES}
            counts_of, previous, make = self.delegation_counts, self._delegation_rows, DelegationRow._make
            for deleg_key in self._delegation_order:
                counts = counts_of[deleg_key]
                got = sum(counts[1 : 2 + index])  # the histogram's running sum: collected by days[index]
                row = previous.get(deleg_key)
                if row is None or row.collected != got:  # most delegations do not change from day to day
                    row = previous[deleg_key] = make((*deleg_key, counts[0], got, _status(counts[0], got)))
                by_status[row.status].append(row)
            self._delegation_cache[index] = tuple(row for status in DELEGATION_STATUSES for row in by_status[status])
        return self._delegation_cache[index]


def _status(members: int, collected: int) -> str:
    return "complete" if collected >= members else ("partial" if collected else "not_collected")


def no_show_label(collection_closed: bool) -> str:
    """Until badge collection has closed, a participant without a badge has not collected it yet:
    only then is it a no-show."""
    return "No-shows" if collection_closed else "Not yet collected"


# --- several days at once -----------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingSummary:
    """The days of a report added up: what the first page of an all-days report shows. Figures "on
    the day" are summed over the days; collection figures are those at the end of the last day."""

    first_day: date
    last_day: date
    days: int
    badges_issued: int
    badges_replaced: int
    badges_revoked: int
    collected: int
    pre_registered: int
    delegation_counts: dict[str, int]
    no_show_count: int
    collection_closed: bool
    security_scans: int
    entries: int
    distinct_people: int  # different people who entered, since the start, by the end of the last day
    denied: int
    repeats: int
    bus_boardings: int
    bus_denied: int
    departures: int
    over_capacity: tuple[tuple[date, DepartureRow], ...]  # every departure over capacity, with its day
    denials: dict[str, tuple[tuple[date, int], ...]]  # reason -> (day, denials) for the days with any
    overrides: int
    conflicts_resolved: int
    open_conflicts: int
    badges_by_proxy: int = 0  # collected by a delegation's focal point

    @property
    def collected_pct(self) -> float:
        return 100.0 * self.collected / self.pre_registered if self.pre_registered else 0.0

    def denied_for(self, *reasons: str) -> int:
        return sum(n for reason in reasons for _, n in self.denials.get(reason, ()))


def summarise(results: Iterable[DayTallies]) -> MeetingSummary:
    """Add up the days of `all_days(...)` (or one day) for a report's first page or the CLI."""
    days = sorted(results, key=lambda r: r.day)
    if not days:
        raise ValueError("no day to summarise")
    first, last = days[0], days[-1]
    denials: dict[str, list[tuple[date, int]]] = {}
    for d in days:
        per_reason: Counter[str] = Counter()
        for row in d.denials:
            per_reason[row.reason] += row.count
        for reason, n in per_reason.items():
            if n:
                denials.setdefault(reason, []).append((d.day, n))
    return MeetingSummary(
        first_day=first.day,
        last_day=last.day,
        days=len(days),
        badges_issued=sum(d.badges.issued for d in days),
        badges_replaced=sum(d.badges.replaced for d in days),
        badges_revoked=sum(d.badges.revoked for d in days),
        collected=last.badges.collected,
        pre_registered=last.badges.pre_registered,
        delegation_counts=dict(last.delegation_counts),
        no_show_count=last.no_show_count,
        collection_closed=last.collection_closed,
        security_scans=sum(d.security.scans for d in days),
        entries=sum(d.security.entries for d in days),
        distinct_people=last.security.distinct_people_cum,
        denied=sum(d.security.denied for d in days),
        repeats=sum(d.security.repeats for d in days),
        bus_boardings=sum(d.buses.boardings for d in days),
        bus_denied=sum(d.buses.denied for d in days),
        departures=sum(d.buses.departures for d in days),
        over_capacity=tuple((d.day, row) for d in days for row in d.departures if row.over_capacity),
        denials={reason: tuple(rows) for reason, rows in denials.items()},
        overrides=sum(len(d.overrides) for d in days),
        conflicts_resolved=sum(1 for d in days for c in d.conflicts if c.state == "resolved"),
        open_conflicts=len(last.open_conflicts),
        badges_by_proxy=sum(d.badges.by_proxy for d in days),
    )
