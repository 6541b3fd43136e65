"""Scan points: security screening at the venue and bus boarding at the hotels and the ICC stop.

A `Scanner` turns one scanned string into a durable verdict: verify the badge token with public
keys only, look the serial and holder up in the local mirror, decide (domain.verdict), and
record a `scan_recorded` event (denials included) in one short transaction. The caller gets a
`ScanResult` with everything the screen or the CLI shows.

Scan-point configuration lives in the station settings (meta table):
    scan.point       "security:ICC-MAIN" or "bus:WES:to_icc"
    scan.departure   JSON of the current bus departure (bus stations only)
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict, namedtuple
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, event, exists, func, literal, select, union
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.orm import Session

from regdesk.errors import RegdeskError
from regdesk.config import EventConfig, Place
from regdesk.domain import token as tokens
from regdesk.domain.events import EventKind, format_utc
from regdesk.domain.verdict import Outcome, ScanFacts, Verdict, decide, sanitise_raw
from regdesk.services import operators
from regdesk.services.station import Station
from regdesk.store.db import make_engine, session_factory, writer
from regdesk.store.models import Badge, Participant, Revocation, Scan

POINT_KINDS = ("security", "bus")
DIRECTIONS = {"to_icc": "to ICC", "to_hotel": "to hotel"}
SETTING_POINT = "scan.point"
SETTING_DEPARTURE = "scan.departure"
RAW_LIMIT = 200
CHECKPOINT_EVERY = 200  # scans between WAL checkpoints when the lane never pauses
_RECENT_CACHE_SIZE = 4096

# Hot-path statements, built once as Core statements on the tables and run on the session's
# connection: SQLAlchemy reuses their compiled form and skips the ORM layer, so a scan pays
# mostly for the SQLite work (primary-key and index look-ups).
_SCANS, _BADGES, _PARTICIPANTS = Scan.__table__.c, Badge.__table__.c, Participant.__table__.c
_P = Participant.__table__
_RECENT_VALID = exists().where(
    _SCANS.serial == bindparam("serial"), _SCANS.point == bindparam("point"),
    _SCANS.scanned_at >= bindparam("recent_since"), _SCANS.scanned_at <= bindparam("recent_until"),
    _SCANS.verdict == str(Outcome.VALID), _SCANS.counted.is_(True),
)
# Counted venue entries today with any of the holder's badges. The day is a UTC range, not
# local_day: with `local_day = ?` SQLite prefers the (local_day, point_kind) index and walks a
# whole day of scans; this way it uses the serial index.
_ENTRIES_TODAY = select(func.count()).select_from(Scan.__table__).where(
    _SCANS.serial.in_(union(select(bindparam("serial")),
                            select(_BADGES.serial).where(_BADGES.participant_id == bindparam("pid")))),
    _SCANS.scanned_at >= bindparam("day_start"), _SCANS.scanned_at < bindparam("day_end"),
    _SCANS.point_kind == "security", _SCANS.verdict == str(Outcome.VALID), _SCANS.counted.is_(True),
).scalar_subquery()
_ONE_ROW = select(literal(1).label("one")).subquery()
# Everything a verified badge needs, in one round trip: holder (NULLs when not in the mirror),
# revoked?, recently scanned here?, entries today so far.
_FACTS = select(
    _P.c.accreditation_id, _P.c.given_names, _P.c.family_name, _P.c.given_names_latin, _P.c.family_name_latin,
    _P.c.delegation, _P.c.category, _P.c.status,
    exists().where(Revocation.__table__.c.serial == bindparam("serial")).label("revoked"),
    _RECENT_VALID.label("recent"),
    _ENTRIES_TODAY.label("entries_before"),
).select_from(_ONE_ROW.outerjoin(_P, _P.c.accreditation_id == bindparam("pid")))
# _FACTS runs once per scan, so it is compiled once here and run on the DBAPI connection of the
# scan's transaction: SQLAlchemy's per-execution bookkeeping cost twice the query itself.
_FACTS_COMPILED = _FACTS.compile(dialect=sqlite_dialect())
_FACTS_SQL = str(_FACTS_COMPILED)
_FACTS_ORDER = tuple(_FACTS_COMPILED.positiontup or ())
_FACTS_CONSTANTS = {k: v for k, v in _FACTS_COMPILED.params.items() if v is not None}
FactsRow = namedtuple("FactsRow", [c.key for c in _FACTS.selected_columns])

def _no_autocheckpoint(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_conn.execute("PRAGMA wal_autocheckpoint=0")


class ScanError(RegdeskError, ValueError):
    """Bad scan-point configuration or a refused manual entry; the message says what to fix."""


# --- scan points -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanPoint:
    kind: str  # security | bus
    code: str  # checkpoint code or bus stop code
    direction: str = ""  # bus only: to_icc | to_hotel

    @property
    def spec(self) -> str:
        return f"{self.kind}:{self.code}" + (f":{self.direction}" if self.direction else "")

    def label(self, config: EventConfig) -> str:
        places = config.checkpoints if self.kind == "security" else config.bus_stops
        name = next((p.name for p in places if p.code == self.code), self.code)
        if self.kind == "bus":
            return f"Bus stop {name}, {DIRECTIONS.get(self.direction, self.direction)}"
        return f"Security: {name}"


def _match_place(value: str, places: tuple[Place, ...], what: str, spec: str) -> Place:
    wanted = value.strip().casefold()
    for place in places:
        if wanted in (place.code.casefold(), place.name.casefold()):
            return place
    choices = ", ".join(p.code for p in places)
    raise ScanError(f"scan point {spec!r}: unknown {what} {value!r}; choose one of {choices}")


def parse_point(spec: str, config: EventConfig) -> ScanPoint:
    """`security:ICC-MAIN` or `bus:WES:to_icc` (codes or names, any case) -> ScanPoint."""
    parts = [p.strip() for p in spec.split(":")]
    kind = parts[0].lower()
    if kind == "security":
        if len(parts) != 2 or not parts[1]:
            raise ScanError(f"scan point {spec!r}: expected security:CHECKPOINT, e.g. security:ICC-MAIN")
        return ScanPoint("security", _match_place(parts[1], config.checkpoints, "checkpoint", spec).code)
    if kind == "bus":
        if len(parts) != 3 or not parts[1] or not parts[2]:
            raise ScanError(f"scan point {spec!r}: expected bus:STOP:DIRECTION, e.g. bus:WES:to_icc")
        stop = _match_place(parts[1], config.bus_stops, "bus stop", spec)
        direction = parts[2].lower().replace("-", "_")
        if direction not in DIRECTIONS:
            raise ScanError(f"scan point {spec!r}: direction must be to_icc or to_hotel, not {parts[2]!r}")
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


def default_point(station: Station) -> ScanPoint:
    """A sensible first point for a fresh station: the first checkpoint, or the first hotel stop."""
    if station.role == "bus":
        return ScanPoint("bus", station.config.hotels[0].code, "to_icc")
    return ScanPoint("security", station.config.checkpoints[0].code)


def _check_role(station: Station, point: ScanPoint) -> None:
    if station.role != point.kind:
        raise ScanError(f"this is a {station.role} station; {point.kind} scanning needs a station created "
                        f"with `regdesk init --role {point.kind}`")


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

    @property
    def label(self) -> str:
        bus = f"Bus {self.bus}" if self.bus else "Bus (number not set)"
        return f"{bus} at {self.time}" if self.time else bus


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


def _departure_id(station: Station, bus: str, time: str) -> str:
    """Readable in tallies ("2017-12-04 07:30 bus 12") and unique thanks to a short random tag."""
    local = station.config.local(station.clock.now())
    return f"{local.date().isoformat()} {time or local.strftime('%H:%M')} bus {bus or '-'} #{uuid.uuid4().hex[:4]}"


def start_departure(station: Station, point: ScanPoint, *, bus: str = "", time: str = "") -> Departure:
    """Open a new departure at this stop (the marshal's bus number and scheduled time)."""
    if point.kind != "bus":
        raise ScanError("departures exist only at bus stops")
    bus, time = bus.strip()[:16], normalise_time(time)
    departure = Departure(_departure_id(station, bus, time), point.code, point.direction, bus, time,
                          format_utc(station.clock.now()))
    station.set_setting(SETTING_DEPARTURE, json.dumps(asdict(departure)))
    return departure


def edit_departure(station: Station, departure: Departure, *, bus: str, time: str, boarded: int) -> Departure:
    """Correct the bus number or time of the open departure. Once people boarded it keeps its id,
    so the boardings already recorded stay with it."""
    bus, time = bus.strip()[:16], normalise_time(time)
    new_id = departure.id if boarded else _departure_id(station, bus, time)
    changed = replace(departure, id=new_id, bus=bus, time=time)
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

    @property
    def outcome(self) -> Outcome:
        return self.verdict.outcome

    @property
    def counted(self) -> bool:
        return self.verdict.counted

    def as_json(self) -> dict:
        h = self.holder
        data = {
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
        if self.entries_today is not None:
            data["entries_today"] = self.entries_today
        if self.departure is not None:
            data.update(departure=self.departure.id, bus=self.departure.bus, departure_time=self.departure.time,
                        headcount=self.headcount, capacity=self.capacity)
        return data


def _holder(config: EventConfig, row, participant_id: str) -> Holder:
    """`row`: a _FACTS row or a Participant (anything with those attributes); None when not in the mirror."""
    if row is None:
        return Holder(participant_id, "", "", "", "", "", "")
    category = config.category(row.category)
    name = f"{row.given_names} {row.family_name}".strip()
    latin = f"{row.given_names_latin} {row.family_name_latin}".strip()
    return Holder(row.accreditation_id, name, latin if latin != name else "", row.delegation,
                  row.category, category.name if category else row.category,
                  category.colour if category else "#777777")


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
        event.listen(self._engine, "connect", _no_autocheckpoint)
        # Each scan's transaction takes the write lock first (BEGIN IMMEDIATE): two lanes of one
        # station never read the same facts and next seq, and never fail on a lock upgrade.
        self._session = session_factory(writer(self._engine))()  # expire_on_commit: no stale ORM row later
        self._since_checkpoint = 0
        self.departure: Departure | None = None
        with station.sessions() as session:
            self._keys = station.public_keys(session)
        if point.kind == "bus":
            departure = current_departure(station)
            if departure is None or (departure.stop, departure.direction) != (point.code, point.direction):
                departure = start_departure(station, point)
            self._use_departure(departure)

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
        with self._engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
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

    def _use_departure(self, departure: Departure) -> None:
        self.departure = departure
        with self.station.sessions() as session:
            opened_day = self.station.config.local_day(datetime.fromisoformat(departure.opened_at.replace("Z", "+00:00")))
            rows = session.execute(
                select(Scan.participant_id).where(
                    Scan.local_day >= opened_day.isoformat(), Scan.point_kind == "bus",
                    Scan.departure == departure.id, Scan.verdict == str(Outcome.VALID))
            ).scalars()
            self._onboard = {pid for pid in rows if pid}

    def set_departure(self, *, bus: str, time: str) -> Departure:
        """Set the bus number / time of the open departure (before anyone boarded: or to fix a typo)."""
        assert self.departure is not None
        departure = edit_departure(self.station, self.departure, bus=bus, time=time, boarded=self.headcount)
        self.departure = departure
        return departure

    def close_departure(self, *, next_bus: str | None = None, next_time: str = "") -> Departure:
        """Record the closed departure with its headcount and open the next one."""
        if self.departure is None:
            raise ScanError("no departure is open at this stop")
        closing = self.departure
        with self.station.transaction() as session:
            self.station.record(session, EventKind.DEPARTURE_CLOSED, {
                "departure": closing.id, "stop": closing.stop, "direction": closing.direction,
                "bus": closing.bus, "departure_time": closing.time, "opened_at": closing.opened_at,
                "headcount": self.headcount, "capacity": self.capacity,
                "local_day": self.station.config.local_day(self.station.clock.now()).isoformat(),
            }, self.operator)
        bus = _next_bus_number(closing.bus) if next_bus is None else next_bus
        new = start_departure(self.station, self.point, bus=bus, time=next_time)
        self.departure = new
        self._onboard = set()
        return new

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

    def _facts(self, session: Session, serial: str, participant_id: str, now: datetime, day: date) -> FactsRow:
        """One round trip: holder columns (None when not in the mirror), revoked, recent, entries_before."""
        window = self.repeat_window
        start = datetime(day.year, day.month, day.day, tzinfo=self.station.config.zone)
        values = {
            **_FACTS_CONSTANTS, "serial": serial, "pid": participant_id, "point": self.point.code,
            "recent_since": format_utc(now - window), "recent_until": format_utc(now + window),
            "day_start": format_utc(start), "day_end": format_utc(start + timedelta(days=1)),
        }
        dbapi = session.connection().connection.driver_connection  # same connection, same transaction
        return FactsRow(*dbapi.execute(_FACTS_SQL, tuple(values[k] for k in _FACTS_ORDER)).fetchone())

    def _recently_here(self, facts_recent: bool, serial: str, now: datetime) -> bool:
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

    def _record(self, session: Session, verdict: Verdict, *, now: datetime, day: str, raw: str, serial: str,
                claimed_serial: str, participant_id: str, holder: Holder | None, holder_in_mirror: bool,
                manual: bool, entries_before: int = 0, extra: dict | None = None) -> ScanResult:
        departure = self.departure if self.point.kind == "bus" else None
        payload = {
            "local_day": day, "point_kind": self.point.kind, "point": self.point.code,
            "direction": self.point.direction, "departure": departure.id if departure else "",
            "verdict": str(verdict.outcome), "reason": str(verdict.reason),
            "serial": serial, "participant_id": participant_id,
            "counted": verdict.counted, "manual": manual, "raw": raw, "holder_in_mirror": holder_in_mirror,
        }
        if claimed_serial and not serial:
            payload["claimed_serial"] = claimed_serial
        if departure is not None:
            payload["bus"] = departure.bus
            payload["departure_time"] = departure.time
        if extra:
            payload.update(extra)
        event = self.station.record(session, EventKind.SCAN_RECORDED, payload, self.operator)
        entries = None
        if self.point.kind == "security" and participant_id and verdict.outcome is not Outcome.DENIED:
            entries = entries_before + (1 if verdict.counted else 0)
        return ScanResult(verdict, self.point, raw, serial, claimed_serial, holder, holder_in_mirror, manual,
                          event.id, event.recorded_at, day, entries_today=entries,
                          headcount=None, capacity=self.capacity if departure else None, departure=departure)

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
        now = self.station.clock.now()
        day = self.station.config.local_day(now)
        claims = check.claims
        # Same unit of work as station.transaction(), on a session kept for the scanner's life:
        # creating and closing a Session per scan was a measurable share of the scan time.
        session = self._session
        self._since_checkpoint += 1
        with session.begin():
            if check.ok and claims is not None:
                serial, participant_id = claims.serial, claims.participant_id
                row = self._facts(session, serial, participant_id, now, day)
                in_mirror = row.accreditation_id is not None
                facts = ScanFacts(
                    token_problem=None, revoked=bool(row.revoked), holder_in_mirror=in_mirror,
                    holder_status=row.status if in_mirror else "", local_day=day,
                    valid_days=self.station.config.valid_days,
                    recent_same_point=self._recently_here(row.recent, serial, now),
                    already_aboard=participant_id in self._onboard,
                )
                result = self._record(session, decide(facts), now=now, day=day.isoformat(), raw=raw_kept,
                                      serial=serial, claimed_serial=serial, participant_id=participant_id,
                                      holder=_holder(self.station.config, row if in_mirror else None, participant_id),
                                      holder_in_mirror=in_mirror, manual=False, entries_before=row.entries_before)
            else:
                facts = ScanFacts(token_problem=str(check.problem), revoked=False, holder_in_mirror=False,
                                  holder_status="", local_day=day, valid_days=self.station.config.valid_days,
                                  recent_same_point=False)
                result = self._record(session, decide(facts), now=now, day=day.isoformat(), raw=raw_kept, serial="",
                                      claimed_serial=claims.serial if claims else "", participant_id="",
                                      holder=None, holder_in_mirror=False, manual=False)
        return self._after_commit(result)

    def manual(self, participant_id: str, *, supervisor: str, pin: str, note: str = "") -> ScanResult:
        """Damaged badge: a supervisor found the person by name; recorded as a manual scan."""
        if not operators.authenticate_supervisor(self.station, supervisor, pin):
            raise ScanError("manual entry refused: supervisor name or PIN is wrong")
        now = self.station.clock.now()
        day = self.station.config.local_day(now)
        session = self._session
        self._since_checkpoint += 1
        with session.begin():
            participant = session.get(Participant, participant_id)
            if participant is None:
                raise ScanError(f"unknown accreditation id {participant_id!r}")
            badges = session.execute(
                select(Badge.serial, Badge.revoked).where(Badge.participant_id == participant_id)
                .order_by(Badge.issue_no.desc())
            ).all()
            current = next((serial for serial, revoked in badges if not revoked), "")
            all_revoked = bool(badges) and not current
            row = self._facts(session, current, participant_id, now, day)
            facts = ScanFacts(
                token_problem=None, revoked=all_revoked, holder_in_mirror=True, holder_status=participant.status,
                local_day=day, valid_days=self.station.config.valid_days,
                recent_same_point=self._recently_here(row.recent, current, now),
                already_aboard=participant_id in self._onboard, manual=True, manual_badge_known=bool(current),
            )
            verdict = decide(facts)
            result = self._record(session, verdict, now=now, day=day.isoformat(), raw="", serial=current,
                                  claimed_serial=current, participant_id=participant_id,
                                  holder=_holder(self.station.config, participant, participant_id),
                                  holder_in_mirror=True, manual=True, entries_before=row.entries_before,
                                  extra={"supervisor": supervisor.strip(), "manual_note": note.strip()[:200]})
        return self._after_commit(result)
