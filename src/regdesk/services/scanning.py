"""Scan points: security screening at the venue and bus boarding at the hotels and the venue's stop.

A `Scanner` turns one scanned string into a durable verdict: verify the badge token with public
keys only, look the serial and holder up in the local mirror, decide (domain.verdict), and
record a `scan_recorded` event (denials included) in one short transaction. The caller gets a
`ScanResult` with everything the screen or the CLI shows.

Scan-point configuration lives in the station settings (meta table):
    scan.point              "security:<checkpoint>" or "bus:<stop>:to_venue" (legacy "to_icc" still read)
    scan.departure          JSON of the current bus departure (bus stations only)
    bus.over_capacity_bell  "1" (default on bus stations) or "0": ring when a boarding goes over capacity

A bus departure belongs to the local day it was opened on. The first scan (or idle moment) of a
new local day closes yesterday's departure, recorded on its own day, and opens today's: with the
station clock, so a rehearsal clock and a real one behave the same.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from regdesk.config import EventConfig, Place, ScheduledDeparture
from regdesk.domain import event_payloads as ep
from regdesk.domain import passes as temporary
from regdesk.domain import token as tokens
from regdesk.domain.buses import BUS_DIRECTIONS, TO_HOTEL, TO_VENUE, bus_direction
from regdesk.domain.events import EventKind, format_utc, parse_utc
from regdesk.domain.names import display_name, fold, latin_display_name
from regdesk.domain.verdict import Outcome, ScanFacts, Verdict, decide, guidance, sanitise_raw
from regdesk.errors import RegdeskError
from regdesk.services import operators
from regdesk.services.station import Station
from regdesk.store.db import TURN_TIMEOUT, make_engine, session_factory, writer, writer_turn
from regdesk.store.models import (
    Participant,
    TemporaryPass,
)
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import scans as scan_queries
from regdesk.store.queries.scans import FactsRow

POINT_KINDS = ("security", "bus")


def direction_label(direction: str, config: EventConfig) -> str:
    """How a scan point's direction reads on screens: "to <venue stop>" (from the event file) or "to hotel"."""
    return {TO_VENUE: f"to {config.venue_stop.short}", TO_HOTEL: "to hotel"}.get(bus_direction(direction), direction)


def direction_choices(config: EventConfig) -> list[tuple[str, str]]:
    """(label, value) of every bus direction, for a picker."""
    return [(direction_label(d, config), d) for d in BUS_DIRECTIONS]


SETTING_POINT = "scan.point"
SETTING_DEPARTURE = "scan.departure"
SETTING_OVER_CAPACITY_BELL = "bus.over_capacity_bell"
SCHEDULE_GRACE = timedelta(minutes=15)  # a bus scheduled this long ago may still be boarding
RAW_LIMIT = 200
CHECKPOINT_EVERY = 200  # scans between WAL checkpoints when the lane never pauses
_RECENT_CACHE_SIZE = 4096


def _made_after_cut_off(heads_json: str | None, issued_at_json: str | None) -> bool:
    """A badge of a revoked station's key is trusted only when this station knows its issue,
    as an event the revocation still trusts."""
    if heads_json is None:
        return False
    if issued_at_json is None:
        return True
    station_id, seq = json.loads(issued_at_json)
    return int(seq) > int(json.loads(heads_json).get(station_id, 0))


class ScanError(RegdeskError, ValueError):
    """Bad scan-point configuration or a refused manual entry; the message says what to fix."""


# --- scan points -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanPoint:
    kind: str  # security | bus
    code: str  # checkpoint code or bus stop code
    direction: str = ""  # bus only: to_venue | to_hotel (a legacy "to_icc" is read as to_venue)

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", bus_direction(self.direction))

    @property
    def spec(self) -> str:
        return f"{self.kind}:{self.code}" + (f":{self.direction}" if self.direction else "")

    def label(self, config: EventConfig) -> str:
        places = config.checkpoints if self.kind == "security" else config.bus_stops
        name = next((p.name for p in places if p.code == self.code), self.code)
        if self.kind == "bus":
            return f"Bus stop {name}, {direction_label(self.direction, config)}"
        return f"Security: {name}"


def _match_place(value: str, places: tuple[Place, ...], what: str, spec: str) -> Place:
    wanted = value.strip().casefold()
    for place in places:
        if wanted in (place.code.casefold(), place.name.casefold()):
            return place
    choices = ", ".join(p.code for p in places)
    raise ScanError(f"scan point {spec!r}: unknown {what} {value!r}; choose one of {choices}")


def parse_point(spec: str, config: EventConfig) -> ScanPoint:
    """`security:<checkpoint>` or `bus:<stop>:<to_venue|to_hotel>` (codes or names, any case; the legacy
    direction "to_icc" is read as to_venue) -> ScanPoint."""
    checkpoint_example = f"security:{config.checkpoints[0].code}" if config.checkpoints else "security:CHECKPOINT"
    bus_example = f"bus:{config.bus_stops[0].code}:{TO_VENUE}"
    parts = [p.strip() for p in spec.split(":")]
    kind = parts[0].lower()
    if kind == "security":
        if len(parts) != 2 or not parts[1]:
            raise ScanError(f"scan point {spec!r}: expected security:CHECKPOINT, e.g. {checkpoint_example}")
        return ScanPoint("security", _match_place(parts[1], config.checkpoints, "checkpoint", spec).code)
    if kind == "bus":
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise ScanError(f"scan point {spec!r}: expected bus:STOP:DIRECTION, e.g. {bus_example}")
        stop = _match_place(parts[1], config.bus_stops, "bus stop", spec)
        direction = bus_direction(parts[2].lower().replace("-", "_"))
        if direction not in BUS_DIRECTIONS:
            raise ScanError(f"scan point {spec!r}: direction must be {' or '.join(BUS_DIRECTIONS)}, not {parts[2]!r}")
        return ScanPoint("bus", stop.code, direction)
    raise ScanError(f"scan point {spec!r}: must start with security: or bus:")


def configured_point(station: Station) -> ScanPoint | None:
    spec = station.setting(SETTING_POINT)
    if not spec:
        return None
    try:
        return parse_point(spec, station.config)
    except ScanError:
        return None  # the event config changed under us; the operator sets the point again


def _stop_named_in(station_name: str, config: EventConfig) -> Place | None:
    """The bus stop whose name or code is a word (or words) of the station's name, if any."""
    words = f" {' '.join(fold(station_name).split())} "
    for place in config.bus_stops:
        names = {fold(place.name.split(" (")[0]), fold(place.code)}
        if any(name and f" {name} " in words for name in names):
            return place
    return None


def propose_point(station: Station) -> ScanPoint:
    """Where a fresh bus station probably stands: the stop its name mentions ("Melia bus stop" ->
    Melia, towards the venue; "<venue stop> buses" -> the venue's stop, towards the hotels), else the first hotel."""
    place = _stop_named_in(station.name, station.config)
    code = place.code if place is not None else station.config.hotels[0].code
    return ScanPoint("bus", code, TO_HOTEL if code == station.config.venue_stop.code else TO_VENUE)


def default_point(station: Station) -> ScanPoint:
    """A sensible first point for a fresh station: the first checkpoint, or the stop named by the station."""
    if station.role == "bus":
        return propose_point(station)
    return ScanPoint("security", station.config.checkpoints[0].code)


def over_capacity_bell(station: Station) -> bool:
    """Ring the terminal bell when a boarding goes over the bus capacity (station setting, on by default)."""
    return station.setting(SETTING_OVER_CAPACITY_BELL, "1") != "0"


def desk_place(config: EventConfig) -> str:
    """Where badges are issued, for one line of a scan screen: collection.short_location, else the
    first two parts of collection.location ("United Nations Registration Centre, The Westin ...")."""
    if config.collection_short_location.strip():
        return config.collection_short_location.strip()
    parts = [p.strip() for p in config.collection_location.split(",") if p.strip()]
    return ", ".join(parts[:2]) if parts else "the registration desk"


def valid_days_label(config: EventConfig) -> str:
    """ "4-6 Dec" for consecutive days, else "4, 6 Dec"."""
    days = sorted(config.valid_days)
    if not days:
        return "no day"
    if len(days) > 1 and (days[-1] - days[0]).days == len(days) - 1 and days[0].month == days[-1].month:
        return f"{days[0].day}\u2013{days[-1].day} {days[-1]:%b}"
    return ", ".join(f"{d.day} {d:%b}" for d in days)


def next_step(config: EventConfig, result: ScanResult) -> str:
    """What the officer does after this verdict, in plain words ("" for a valid scan or a repeat)."""
    if result.outcome is Outcome.TEMPORARY:
        return guidance(result.verdict.reason, desk=desk_place(config), days=valid_days_label(config))
    if result.outcome is not Outcome.DENIED:
        return ""
    return guidance(result.verdict.reason, desk=desk_place(config), days=valid_days_label(config))


def _check_role(station: Station, point: ScanPoint) -> None:
    if station.role != point.kind:
        raise ScanError(
            f"this is a {station.role} station; {point.kind} scanning needs a station created "
            f"with `regdesk init --role {point.kind}`"
        )


def configure_point(station: Station, point: ScanPoint) -> None:
    _check_role(station, point)
    station.set_setting(SETTING_POINT, point.spec)


# --- bus departures ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Departure:
    id: str
    stop: str
    direction: str
    bus: str  # bus number as painted on the bus, may be empty
    time: str  # scheduled local departure time HH:MM, may be empty
    opened_at: str  # UTC
    route: str = ""  # from the timetable, e.g. "Westin, Marriott" for a bus leaving the venue

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", bus_direction(self.direction))  # a departure saved as "to_icc"

    @property
    def label(self) -> str:
        bus = f"Bus {self.bus}" if self.bus else "Bus (number not set)"
        label = f"{bus} at {self.time}" if self.time else bus
        return f"{label} ({self.route})" if self.route else label

    def local_day(self, config: EventConfig) -> date:
        """The local day this departure belongs to: the day it was opened."""
        return config.local_day(parse_utc(self.opened_at))


def normalise_time(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    try:
        hours, minutes = text.replace(".", ":").split(":")
        h, m = int(hours), int(minutes)
    except ValueError:
        raise ScanError(f"departure time {text!r}: use HH:MM, e.g. 07:30") from None
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ScanError(f"departure time {text!r}: use HH:MM, e.g. 07:30")
    return f"{h:02d}:{m:02d}"


def current_departure(station: Station) -> Departure | None:
    text = station.setting(SETTING_DEPARTURE)
    if not text:
        return None
    try:
        return Departure(**json.loads(text))
    except (ValueError, TypeError):
        return None


def timetable(station: Station, point: ScanPoint, day: date | None = None) -> tuple[ScheduledDeparture, ...]:
    """The posted departures of this stop and direction on a local day (default: today), earliest first."""
    if point.kind != "bus":
        return ()
    day = day or station.config.local_day(station.clock.now())
    return station.config.scheduled_departures(point.code, point.direction, day)


def proposed_departure(station: Station, point: ScanPoint, *, after: str | None = None) -> ScheduledDeparture | None:
    """The departure to board next: the first one after `after` (HH:MM, the bus that just left), or
    the first one not gone more than SCHEDULE_GRACE ago. None when the timetable has nothing more today."""
    local = station.config.local(station.clock.now())
    earliest = after or (local - SCHEDULE_GRACE).strftime("%H:%M")
    for scheduled in timetable(station, point, local.date()):
        if scheduled.time > earliest or (after is None and scheduled.time == earliest):
            return scheduled
    return None


def _departure_id(station: Station, bus: str, time: str) -> str:
    """Readable in tallies ("2017-12-04 07:30 bus 12") and unique thanks to a short random tag."""
    local = station.config.local(station.clock.now())
    return f"{local.date().isoformat()} {time or local.strftime('%H:%M')} bus {bus or '-'} #{uuid.uuid4().hex[:4]}"


def start_departure(
    station: Station, point: ScanPoint, *, bus: str = "", time: str = "", route: str | None = None
) -> Departure:
    """Open a new departure at this stop (the marshal's bus number and scheduled time). The route
    comes from the timetable when the time is a posted one."""
    if point.kind != "bus":
        raise ScanError("departures exist only at bus stops")
    bus, time = bus.strip()[:16], normalise_time(time)
    if route is None:
        route = next((d.route for d in timetable(station, point) if d.time == time), "")
    departure = Departure(
        _departure_id(station, bus, time),
        point.code,
        point.direction,
        bus,
        time,
        format_utc(station.clock.now()),
        route,
    )
    station.set_setting(SETTING_DEPARTURE, json.dumps(asdict(departure)))
    return departure


def edit_departure(station: Station, departure: Departure, *, bus: str, time: str, boarded: int) -> Departure:
    """Correct the bus number or time of the open departure. Once people boarded it keeps its id,
    so the boardings already recorded stay with it."""
    bus, time = bus.strip()[:16], normalise_time(time)
    new_id = departure.id if boarded else _departure_id(station, bus, time)
    point = ScanPoint("bus", departure.stop, departure.direction)
    route = next((d.route for d in timetable(station, point) if d.time == time), "")
    changed = replace(departure, id=new_id, bus=bus, time=time, route=route)
    station.set_setting(SETTING_DEPARTURE, json.dumps(asdict(changed)))
    return changed


def _next_bus_number(bus: str) -> str:
    return str(int(bus) + 1) if bus.isdigit() else ""


# --- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    participant_id: str
    name: str
    name_latin: str
    delegation: str
    category_code: str
    category_name: str
    category_colour: str


@dataclass(frozen=True)
class ScanResult:
    verdict: Verdict
    point: ScanPoint
    raw: str  # sanitised
    serial: str  # verified serial, "" when the token did not verify
    claimed_serial: str  # serial the token claims even when it did not verify (never trusted)
    holder: Holder | None
    holder_in_mirror: bool
    manual: bool
    event_id: str
    scanned_at: datetime
    local_day: str
    entries_today: int | None = None  # security: counted entries of this person today
    headcount: int | None = None  # bus: people on the current departure
    capacity: int | None = None
    departure: Departure | None = None
    temporary_pass: bool = False  # a contingency pass was scanned (serial is the pass serial, TP0012)

    @property
    def outcome(self) -> Outcome:
        return self.verdict.outcome

    @property
    def counted(self) -> bool:
        return self.verdict.counted

    @property
    def over_capacity(self) -> bool:
        """This boarding was recorded on a bus already full: more people aboard than seats."""
        return (
            self.counted
            and self.headcount is not None
            and bool(self.capacity)
            and self.headcount > (self.capacity or 0)
        )

    def as_json(self) -> dict[str, Any]:
        h = self.holder
        data: dict[str, Any] = {
            "verdict": str(self.verdict.outcome),
            "reason": str(self.verdict.reason),
            "text": self.verdict.text,
            "note": self.verdict.note,
            "badge_serial": self.serial or None,
            "claimed_serial": self.claimed_serial or None,
            "accreditation_id": h.participant_id if h else None,
            "name": h.name if h else None,
            "name_latin": h.name_latin if h else None,
            "delegation": h.delegation if h else None,
            "category": h.category_code if h else None,
            "category_name": h.category_name if h else None,
            "category_colour": h.category_colour if h else None,
            "holder_in_mirror": self.holder_in_mirror,
            "counted": self.counted,
            "manual": self.manual,
            "point": self.point.spec,
            "scanned_at": format_utc(self.scanned_at),
            "local_day": self.local_day,
            "event_id": self.event_id,
        }
        if self.temporary_pass:
            data["temporary_pass"] = self.serial
            data["title"] = self.verdict.title
        if self.entries_today is not None:
            data["entries_today"] = self.entries_today
        if self.departure is not None:
            data.update(
                departure=self.departure.id,
                bus=self.departure.bus,
                departure_time=self.departure.time,
                headcount=self.headcount,
                capacity=self.capacity,
                over_capacity=self.over_capacity,
            )
        return data


def _holder(config: EventConfig, row: FactsRow | Participant | None, participant_id: str) -> Holder:
    """`row`: a _FACTS row or a Participant; None when not in the mirror. A _FACTS row of a holder in the
    mirror has every holder column (NOT NULL there): the `or` below only satisfies its optional types."""
    if row is None:
        return Holder(participant_id, "", "", "", "", "", "")
    code = row.category or ""
    category = config.category(code)
    name = display_name(row.given_names or "", row.family_name or "")
    latin = latin_display_name(
        row.given_names_latin or "",
        row.family_name_latin or "",
        given=row.given_names or "",
        family=row.family_name or "",
    )
    return Holder(
        row.accreditation_id or participant_id,
        name,
        latin if latin != name else "",
        row.delegation or "",
        code,
        category.name if category else code,
        category.colour if category else "#777777",
    )


# --- the scanner -------------------------------------------------------------------------------


class Scanner:
    """One scan point on one station. Not thread-safe: use it from one thread (the TUI's scan worker).

    Keeps the public keys, the recent valid scans and (bus) who is on board in memory, so the hot
    path is: verify the signature, one facts query (holder, revoked, recent scan here, entries
    today; all primary-key or index look-ups), record the event, commit.
    """

    def __init__(self, station: Station, operator: str, point: ScanPoint | None = None) -> None:
        point = point or configured_point(station)
        if point is None:
            raise ScanError("no scan point is set; give --point security:CHECKPOINT or bus:STOP:DIRECTION")
        _check_role(station, point)
        self.station = station
        self.operator = operator
        self.point = point
        self._keys: dict[str, bytes] = {}
        self._recent: OrderedDict[str, datetime] = OrderedDict()  # serial -> last counted valid scan here
        self._onboard: set[str] = set()
        # The scan path has its own connection to the station database, on which SQLite never runs
        # an automatic WAL checkpoint inside a scan's commit (that copy + fsync took 20-60 ms once
        # every ~70 scans); `housekeeping()` checkpoints between scans instead.
        self._engine = make_engine(station.db_path)
        scan_queries.no_autocheckpoint(self._engine)
        # Each scan's transaction takes the write lock first (BEGIN IMMEDIATE): two lanes of one
        # station never read the same facts and next seq, and never fail on a lock upgrade.
        self._session = session_factory(writer(self._engine))()  # expire_on_commit: no stale ORM row later
        # In line with this process's other writers (a sync merging, the desk): handed the lock the
        # moment it is free, not after SQLite's next timed retry (store/db.py, _WriterQueue).
        self._writer_queue = writer_turn(str(station.db_path))
        self._since_checkpoint = 0
        self.departure: Departure | None = None
        with station.sessions() as session:
            self._keys = station.public_keys(session)
        self._departure_day: date | None = None
        self.closed_at_day_change: Departure | None = None  # the last departure the day change closed
        self.day_change_headcount = 0  # and how many had boarded it
        if point.kind == "bus":
            departure = current_departure(station)
            if departure is None or (departure.stop, departure.direction) != (point.code, point.direction):
                departure = self._start_proposed()
            self._use_departure(departure)
            self.roll_day()

    def close(self) -> None:
        self.housekeeping(force=True)
        self._session.close()
        self._engine.dispose()

    def housekeeping(self, *, force: bool = False) -> None:
        """Fold the write-ahead log back into the database file, off the scan's critical path.
        Call it when the lane is idle (TUI) or after answering a scan (CLI); it only works every
        CHECKPOINT_EVERY scans unless forced. PASSIVE never blocks other readers or writers."""
        if self._since_checkpoint == 0 or (self._since_checkpoint < CHECKPOINT_EVERY and not force):
            return
        scan_queries.checkpoint_wal(self._engine)
        self._since_checkpoint = 0

    # -- configuration --

    @property
    def repeat_window(self) -> timedelta:
        return timedelta(seconds=self.station.config.repeat_seconds)

    @property
    def capacity(self) -> int:
        return self.station.config.bus_capacity

    @property
    def headcount(self) -> int:
        return len(self._onboard)

    def _start_proposed(self, *, after: str | None = None, bus: str = "") -> Departure:
        """Open a departure at the posted time to board next (no time when the timetable has none)."""
        scheduled = proposed_departure(self.station, self.point, after=after)
        return start_departure(
            self.station,
            self.point,
            bus=bus,
            time=scheduled.time if scheduled else "",
            route=scheduled.route if scheduled else "",
        )

    def _use_departure(self, departure: Departure) -> None:
        self.departure = departure
        opened_day = departure.local_day(self.station.config)
        self._departure_day = opened_day
        with self.station.sessions() as session:
            rows = scan_queries.boarded(session, departure.id, since_day=opened_day.isoformat())
            # A temporary pass not yet assigned rides under its pass serial.
            self._onboard = {
                pid or (serial if serial.startswith(temporary.SERIAL_PREFIX) else "") for pid, serial in rows
            } - {""}

    def set_departure(self, *, bus: str, time: str) -> Departure:
        """Set the bus number / time of the open departure (before anyone boarded: or to fix a typo)."""
        assert self.departure is not None
        departure = edit_departure(self.station, self.departure, bus=bus, time=time, boarded=self.headcount)
        self.departure = departure
        return departure

    def _record_closed(self, closing: Departure, closed_by: str) -> None:
        """DEPARTURE_CLOSED; `closed_by` is "marshal" (closed on the screen or the CLI) or "day_change"."""
        with self.station.transaction() as session:
            self.station.record(
                session,
                EventKind.DEPARTURE_CLOSED,
                ep.DepartureClosed(
                    closing.id,
                    closing.stop,
                    closing.direction,
                    bus=closing.bus,
                    departure_time=closing.time,
                    opened_at=closing.opened_at,
                    headcount=self.headcount,
                    capacity=self.capacity,
                    # The departure's own day, also when the day change closes it after midnight.
                    local_day=closing.local_day(self.station.config).isoformat(),
                    closed_by=closed_by,
                ),
                self.operator,
            )

    def close_departure(self, *, next_bus: str | None = None, next_time: str | None = None) -> Departure:
        """Record the closed departure with its headcount and open the next one: the next posted
        departure after the one closing (or `next_time`), with the next bus number."""
        if self.departure is None:
            raise ScanError("no departure is open at this stop")
        closing = self.departure
        self._record_closed(closing, "marshal")
        bus = _next_bus_number(closing.bus) if next_bus is None else next_bus
        if next_time is None:
            new = self._start_proposed(after=closing.time or None, bus=bus)
        else:
            new = start_departure(self.station, self.point, bus=bus, time=next_time)
        self._use_new(new)
        return new

    def _use_new(self, departure: Departure) -> None:
        self.departure = departure
        self._departure_day = departure.local_day(self.station.config)
        self._onboard = set()

    def roll_day(self) -> Departure | None:
        """A departure belongs to one local day: when the station clock shows another day, close the
        open one (recorded on its own day, with its headcount) and open one for today. Returns the
        departure closed, or None when nothing changed. Cheap: call it whenever the lane is idle."""
        if self.departure is None:
            return None
        if self.station.config.local_day(self.station.clock.now()) == self._departure_day:
            return None
        closing = self.departure
        self._record_closed(closing, "day_change")
        self.day_change_headcount = self.headcount
        self._use_new(self._start_proposed())
        self.closed_at_day_change = closing
        return closing

    # -- scanning --

    def _verify(self, raw: str) -> tokens.TokenCheck:
        check = tokens.read_token(raw, event_code=self.station.config.code, public_keys=self._keys)
        if check.problem is tokens.TokenProblem.UNKNOWN_KEY:
            # A desk key may have arrived by sync since we cached them.
            with self.station.sessions() as session:
                fresh = self.station.public_keys(session)
            if fresh != self._keys:
                self._keys = fresh
                check = tokens.read_token(raw, event_code=self.station.config.code, public_keys=self._keys)
        return check

    def _facts(
        self, session: Session, serial: str, participant_id: str, now: datetime, day: date, key_id: str = ""
    ) -> FactsRow:
        """One round trip: holder columns (None when not in the mirror), revoked, recent, entries_before."""
        window = self.repeat_window
        start = datetime(day.year, day.month, day.day, tzinfo=self.station.config.zone)
        return scan_queries.scan_facts(
            session,
            serial=serial,
            participant_id=participant_id,
            point=self.point.code,
            key_id=key_id,
            recent_since=format_utc(now - window),
            recent_until=format_utc(now + window),
            day_start=format_utc(start),
            day_end=format_utc(start + timedelta(days=1)),
        )

    def _recently_here(self, facts_recent: int, serial: str, now: datetime) -> bool:
        """Counted valid scan of this badge at this point within the repeat window: from memory, or
        (after a restart, or synced from the other lane at this point) from the scans table."""
        window = self.repeat_window
        if not window or not serial:
            return False
        last = self._recent.get(serial)
        return (last is not None and abs(now - last) <= window) or bool(facts_recent)

    def _remember(self, serial: str, when: datetime) -> None:
        self._recent[serial] = when
        self._recent.move_to_end(serial)
        while len(self._recent) > _RECENT_CACHE_SIZE:
            self._recent.popitem(last=False)

    def _record(
        self,
        session: Session,
        verdict: Verdict,
        *,
        now: datetime,
        day: str,
        raw: str,
        serial: str,
        claimed_serial: str,
        participant_id: str,
        holder: Holder | None,
        holder_in_mirror: bool,
        manual: bool,
        entries_before: int = 0,
        extra: dict[str, Any] | None = None,
    ) -> ScanResult:
        departure = self.departure if self.point.kind == "bus" else None
        more: dict[str, Any] = {}
        if claimed_serial and not serial:
            more["claimed_serial"] = claimed_serial
        if departure is not None:
            more.update(bus=departure.bus, departure_time=departure.time)
        more.update(extra or {})
        scan = ep.ScanRecorded(
            local_day=day,
            point_kind=self.point.kind,
            point=self.point.code,
            verdict=str(verdict.outcome),
            reason=str(verdict.reason),
            direction=self.point.direction,
            departure=departure.id if departure else "",
            serial=serial,
            participant_id=participant_id,
            counted=verdict.counted,
            manual=manual,
            raw=raw,
            holder_in_mirror=holder_in_mirror,
            **more,
        )
        event = self.station.record(session, EventKind.SCAN_RECORDED, scan, self.operator)
        entries = None
        if self.point.kind == "security" and participant_id and verdict.outcome is not Outcome.DENIED:
            entries = entries_before + (1 if verdict.counted else 0)
        return ScanResult(
            verdict,
            self.point,
            raw,
            serial,
            claimed_serial,
            holder,
            holder_in_mirror,
            manual,
            event.id,
            event.recorded_at,
            day,
            entries_today=entries,
            headcount=None,
            capacity=self.capacity if departure else None,
            departure=departure,
        )

    def _after_commit(self, result: ScanResult) -> ScanResult:
        if result.counted and result.serial:
            self._remember(result.serial, result.scanned_at)
        if self.point.kind == "bus":
            if result.counted and result.holder is not None:
                self._onboard.add(result.holder.participant_id)
            result = replace(result, headcount=self.headcount)
        return result

    def scan(self, raw: str) -> ScanResult:
        """Decide and durably record one scan. Never raises for bad input: that is a denial."""
        raw_kept = sanitise_raw(raw, RAW_LIMIT)
        check = self._verify(raw)
        if check.problem is tokens.TokenProblem.UNREADABLE and temporary.looks_like_pass(raw):
            return self._scan_pass(raw, raw_kept)
        now = self.station.clock.now()
        day = self.station.config.local_day(now)
        if self._departure_day is not None and day != self._departure_day:
            self.roll_day()  # the first boarding of a new day never lands on yesterday's bus
        claims = check.claims
        # Same unit of work as station.transaction(), on a session kept for the scanner's life:
        # creating and closing a Session per scan was a measurable share of the scan time.
        session = self._session
        self._since_checkpoint += 1
        with self._writer_queue.turn(TURN_TIMEOUT), session.begin():
            if check.ok and claims is not None:
                serial, participant_id = claims.serial, claims.participant_id
                row = self._facts(session, serial, participant_id, now, day, claims.key_id)
                in_mirror = row.accreditation_id is not None
                facts = ScanFacts(
                    token_problem=None,
                    revoked=bool(row.revoked),
                    holder_in_mirror=in_mirror,
                    key_revoked=_made_after_cut_off(row.key_revoked_heads, row.issued_at),
                    holder_status=(row.status or "") if in_mirror else "",
                    local_day=day,
                    valid_days=self.station.config.valid_days,
                    recent_same_point=self._recently_here(row.recent, serial, now),
                    already_aboard=participant_id in self._onboard,
                )
                result = self._record(
                    session,
                    decide(facts),
                    now=now,
                    day=day.isoformat(),
                    raw=raw_kept,
                    serial=serial,
                    claimed_serial=serial,
                    participant_id=participant_id,
                    holder=_holder(self.station.config, row if in_mirror else None, participant_id),
                    holder_in_mirror=in_mirror,
                    manual=False,
                    entries_before=row.entries_before,
                )
            else:
                facts = ScanFacts(
                    token_problem=str(check.problem),
                    revoked=False,
                    holder_in_mirror=False,
                    holder_status="",
                    local_day=day,
                    valid_days=self.station.config.valid_days,
                    recent_same_point=False,
                )
                result = self._record(
                    session,
                    decide(facts),
                    now=now,
                    day=day.isoformat(),
                    raw=raw_kept,
                    serial="",
                    claimed_serial=claims.serial if claims else "",
                    participant_id="",
                    holder=None,
                    holder_in_mirror=False,
                    manual=False,
                )
        return self._after_commit(result)

    def _verify_pass(self, raw: str) -> temporary.PassCheck:
        check = temporary.read_pass(raw, event_code=self.station.config.code, public_keys=self._keys)
        if check.problem is tokens.TokenProblem.UNKNOWN_KEY:
            with self.station.sessions() as session:
                self._keys = self.station.public_keys(session)
            check = temporary.read_pass(raw, event_code=self.station.config.code, public_keys=self._keys)
        return check

    def _scan_pass(self, raw: str, raw_kept: str) -> ScanResult:
        """A temporary pass (domain/passes.py): TEMPORARY PASS - check ID, or denied. Recorded like a
        badge scan, with the pass serial in `pass_serial` (and, once assigned, the holder's id)."""
        check = self._verify_pass(raw)
        now = self.station.clock.now()
        day = self.station.config.local_day(now)
        if self._departure_day is not None and day != self._departure_day:
            self.roll_day()
        claims = check.claims
        session = self._session
        self._since_checkpoint += 1
        with self._writer_queue.turn(TURN_TIMEOUT), session.begin():
            if not check.ok or claims is None:
                facts = temporary.PassFacts(
                    token_problem=str(check.problem),
                    pass_day=None,
                    local_day=day,
                    valid_days=self.station.config.valid_days,
                )
                return self._after_commit(
                    self._record(
                        session,
                        temporary.decide_pass(facts),
                        now=now,
                        day=day.isoformat(),
                        raw=raw_kept,
                        serial="",
                        claimed_serial="",
                        participant_id="",
                        holder=None,
                        holder_in_mirror=False,
                        manual=False,
                        extra={"claimed_serial": claims.serial} if claims else None,
                    )
                )
            serial = claims.serial
            row = session.get(TemporaryPass, serial)
            known = (
                row is not None
                and bool(row.printed_event_id)
                and row.key_id == claims.key_id
                and row.day == claims.day.isoformat()
            )
            pid = row.participant_id if row is not None else ""
            person = session.get(Participant, pid) if pid else None
            heads = scan_queries.key_revoked_heads(session, claims.key_id)
            printed_at = None
            if heads is not None and known and row is not None:
                printed_at = scan_queries.chain_position(session, row.printed_event_id)
            recent = scan_queries.counted_here_recently(
                session,
                serial=serial,
                point=self.point.code,
                since=format_utc(now - self.repeat_window),
                until=format_utc(now + self.repeat_window),
            )
            facts = temporary.PassFacts(
                token_problem=None,
                pass_day=claims.day,
                local_day=day,
                valid_days=self.station.config.valid_days,
                voided=bool(row is not None and row.voided),
                key_revoked=_made_after_cut_off(heads, printed_at),
                holder_status=person.status if person is not None else "",
                assigned_name=(display_name(person.given_names, person.family_name) or pid) if person else pid,
                printed_known=known,
                recent_same_point=self._recently_here(recent, serial, now),
                already_aboard=(pid or serial) in self._onboard,
            )
            verdict = temporary.decide_pass(facts)
            holder = _holder(self.station.config, person, pid) if person is not None else None
            result = self._record(
                session,
                verdict,
                now=now,
                day=day.isoformat(),
                raw=raw_kept,
                serial="",
                claimed_serial="",
                participant_id=pid,
                holder=holder,
                holder_in_mirror=person is not None,
                manual=False,
                extra={"pass_serial": serial},
            )
            result = replace(result, serial=serial, claimed_serial=serial, temporary_pass=True, entries_today=None)
        result = self._after_commit(result)
        if self.point.kind == "bus" and result.counted and result.holder is None:
            self._onboard.add(serial)
            result = replace(result, headcount=self.headcount)
        return result

    def manual(self, participant_id: str, *, supervisor: str, pin: str, note: str = "") -> ScanResult:
        """Damaged badge: a supervisor found the person by name; recorded as a manual scan."""
        if not operators.authenticate_supervisor(self.station, supervisor, pin):
            raise ScanError("manual entry refused: supervisor name or PIN is wrong")
        now = self.station.clock.now()
        day = self.station.config.local_day(now)
        if self._departure_day is not None and day != self._departure_day:
            self.roll_day()
        session = self._session
        self._since_checkpoint += 1
        with self._writer_queue.turn(TURN_TIMEOUT), session.begin():
            participant = session.get(Participant, participant_id)
            if participant is None:
                raise ScanError(f"unknown accreditation id {participant_id!r}")
            badges = badge_queries.serials_newest_first(session, participant_id)
            current = next((serial for serial, revoked in badges if not revoked), "")
            all_revoked = bool(badges) and not current
            row = self._facts(session, current, participant_id, now, day)
            facts = ScanFacts(
                token_problem=None,
                revoked=all_revoked,
                holder_in_mirror=True,
                holder_status=participant.status,
                local_day=day,
                valid_days=self.station.config.valid_days,
                recent_same_point=self._recently_here(row.recent, current, now),
                already_aboard=participant_id in self._onboard,
                manual=True,
                manual_badge_known=bool(current),
            )
            verdict = decide(facts)
            result = self._record(
                session,
                verdict,
                now=now,
                day=day.isoformat(),
                raw="",
                serial=current,
                claimed_serial=current,
                participant_id=participant_id,
                holder=_holder(self.station.config, participant, participant_id),
                holder_in_mirror=True,
                manual=True,
                entries_before=row.entries_before,
                extra={"supervisor": supervisor.strip(), "manual_note": note.strip()[:200]},
            )
        return self._after_commit(result)
