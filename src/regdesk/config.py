"""Event settings (TOML): window, days, categories and colours, quotas, hotels, checkpoints.

Every problem is reported as a ConfigError naming the file and the key, so a broken event file
never starts a station half-configured.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from regdesk.domain.buses import BUS_DIRECTIONS, bus_direction
from regdesk.errors import RegdeskError

_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_HHMM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


class ConfigError(RegdeskError, ValueError):
    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        super().__init__(f"{source}: {key}: {message}")


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    colour: str
    quota: int  # 0 = unlimited
    # 1 + 3: while no head of the delegation holds a badge, members may take at most quota - 1.
    head_reserved: bool = False


@dataclass(frozen=True)
class Place:
    code: str
    name: str


@dataclass(frozen=True)
class VenueStop:
    """The bus stop at the meeting venue ([bus.venue_stop] in the event file)."""

    code: str  # e.g. "ICC"
    name: str  # in lists of stops, e.g. "ICC (convention centre)"
    short: str  # in running text: "to {short}", "towards the {short}", e.g. "ICC"

    @property
    def place(self) -> Place:
        return Place(self.code, self.name)


# Event files written before [bus.venue_stop] existed served the first meeting, whose venue stop was this.
_EARLIER_VENUE_STOP = VenueStop("ICC", "ICC (convention centre)", "ICC")


@dataclass(frozen=True)
class ScheduledDeparture:
    """One line of the bus timetable posted at the accreditation centre."""

    stop: str  # hotel code or the venue stop's code
    direction: str  # to_venue | to_hotel
    time: str  # local HH:MM
    days: tuple[date, ...] = ()  # empty: every meeting day
    route: str = ""  # e.g. "Westin, Marriott" for a bus leaving the venue


@dataclass(frozen=True)
class EventConfig:
    code: str
    name: str
    short_name: str
    dates_label: str
    venue: str
    timezone: str
    meeting_days: tuple[date, ...]
    collection_location: str
    collection_opens_utc: datetime
    collection_closes_utc: datetime
    repeat_seconds: int
    bus_capacity: int
    valid_days: tuple[date, ...]
    categories: tuple[Category, ...]
    hotels: tuple[Place, ...]
    checkpoints: tuple[Place, ...]
    bus_schedule: tuple[ScheduledDeparture, ...] = ()
    collection_short_location: str = ""  # one line for screens: where to send someone for a badge
    venue_stop: VenueStop = _EARLIER_VENUE_STOP
    source_text: str = field(default="", repr=False, compare=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def category(self, code: str) -> Category | None:
        for cat in self.categories:
            if cat.code == code:
                return cat
        return None

    @property
    def bus_stops(self) -> tuple[Place, ...]:
        return self.hotels + (self.venue_stop.place,)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def scheduled_departures(self, stop: str, direction: str, day: date) -> tuple[ScheduledDeparture, ...]:
        """The timetable of one stop and direction on one local day, earliest first."""
        return tuple(
            sorted(
                (
                    d
                    for d in self.bus_schedule
                    if d.stop == stop
                    and d.direction == direction
                    and (day in d.days if d.days else day in self.meeting_days)
                ),
                key=lambda d: d.time,
            )
        )

    def local_day(self, moment: datetime) -> date:
        return self.local(moment).date()


def _require(table: dict[str, Any], key: str, kind: Any, source: str, prefix: str) -> Any:
    full = f"{prefix}.{key}" if prefix else key
    if key not in table:
        raise ConfigError(source, full, "is missing")
    value = table[key]
    if kind is int and isinstance(value, bool):
        raise ConfigError(source, full, "must be a whole number")
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__
        raise ConfigError(source, full, f"must be a {names}, got {type(value).__name__}")
    return value


def _optional_str(table: dict[str, Any], key: str, default: str, source: str, prefix: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise ConfigError(source, f"{prefix}.{key}", f"must be text, got {type(value).__name__}")
    return value


def _parse_day(value: Any, source: str, key: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(source, key, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _parse_local(value: Any, zone: ZoneInfo, source: str, key: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(source, key, f"{value!r} is not a local date-time (YYYY-MM-DDTHH:MM)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise ConfigError(source, key, f"{value!r} is out of range") from None


def _places(raw: Any, source: str, key: str) -> tuple[Place, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(source, key, "must be a non-empty list of tables with code and name")
    places = []
    for i, item in enumerate(raw):
        prefix = f"{key}[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(source, prefix, "must be a table")
        place = Place(_require(item, "code", str, source, prefix), _require(item, "name", str, source, prefix))
        if not place.code.strip():
            raise ConfigError(source, f"{prefix}.code", "is empty")
        if any(p.code == place.code for p in places):
            raise ConfigError(source, f"{prefix}.code", f"duplicate code {place.code!r}")
        places.append(place)
    return tuple(places)


def _venue_stop(raw: Any, source: str, hotels: tuple[Place, ...]) -> VenueStop:
    """[bus.venue_stop]: code, name and the short form used in sentences (default: the code)."""
    if raw is None:
        return _EARLIER_VENUE_STOP
    prefix = "bus.venue_stop"
    if not isinstance(raw, dict):
        raise ConfigError(source, prefix, "must be a table (code, name, short)")
    code = _require(raw, "code", str, source, prefix)
    if not code.strip():
        raise ConfigError(source, f"{prefix}.code", "is empty")
    if any(p.code == code for p in hotels):
        raise ConfigError(source, f"{prefix}.code", f"{code!r} is already a hotel's code")
    name = _optional_str(raw, "name", code, source, prefix)
    return VenueStop(code, name, _optional_str(raw, "short", code, source, prefix))


def _bus_schedule(raw: Any, source: str, stops: tuple[Place, ...]) -> tuple[ScheduledDeparture, ...]:
    """[[bus.departures]] tables: stop, direction, times = ["07:15", ...], optional days and route."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(source, "bus.departures", "must be a list of tables ([[bus.departures]])")
    codes = {p.code for p in stops}
    schedule: list[ScheduledDeparture] = []
    for i, item in enumerate(raw):
        prefix = f"bus.departures[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(source, prefix, "must be a table")
        stop = _require(item, "stop", str, source, prefix)
        if stop not in codes:
            raise ConfigError(source, f"{prefix}.stop", f"unknown stop {stop!r}; use one of {', '.join(sorted(codes))}")
        direction = _require(item, "direction", str, source, prefix)
        if bus_direction(direction) not in BUS_DIRECTIONS:
            raise ConfigError(source, f"{prefix}.direction", f"{direction!r} must be {' or '.join(BUS_DIRECTIONS)}")
        direction = bus_direction(direction)
        times = _require(item, "times", list, source, prefix)
        if not times:
            raise ConfigError(source, f"{prefix}.times", "must list at least one time (HH:MM)")
        days_raw = item.get("days", [])
        if not isinstance(days_raw, list):
            raise ConfigError(source, f"{prefix}.days", "must be a list of dates (YYYY-MM-DD)")
        days = tuple(_parse_day(d, source, f"{prefix}.days[{j}]") for j, d in enumerate(days_raw))
        route = _optional_str(item, "route", "", source, prefix)
        for j, value in enumerate(times):
            match = _HHMM.fullmatch(value) if isinstance(value, str) else None
            if match is None:
                raise ConfigError(source, f"{prefix}.times[{j}]", f"{value!r} is not a local time (HH:MM, e.g. 07:30)")
            schedule.append(ScheduledDeparture(stop, direction, f"{int(match[1]):02d}:{match[2]}", days, route))
    return tuple(schedule)


def parse_event_config(text: str, source: str = "<event config>") -> EventConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "(syntax)", str(exc)) from None
    event = data.get("event")
    if not isinstance(event, dict):
        raise ConfigError(source, "event", "table is missing")
    tz_name = _require(event, "timezone", str, source, "event")
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(source, "event.timezone", f"unknown time zone {tz_name!r}") from None
    days_raw = _require(event, "meeting_days", list, source, "event")
    meeting_days = tuple(_parse_day(d, source, "event.meeting_days") for d in days_raw)
    if not meeting_days:
        raise ConfigError(source, "event.meeting_days", "must list at least one day")

    collection = data.get("collection")
    if not isinstance(collection, dict):
        raise ConfigError(source, "collection", "table is missing")
    opens = _parse_local(
        _require(collection, "opens", (str, datetime), source, "collection"), zone, source, "collection.opens"
    )
    closes = _parse_local(
        _require(collection, "closes", (str, datetime), source, "collection"), zone, source, "collection.closes"
    )
    if closes <= opens:
        raise ConfigError(source, "collection.closes", "must be after collection.opens (the window would be empty)")

    scanning = data.get("scanning", {})
    if not isinstance(scanning, dict):
        raise ConfigError(source, "scanning", "must be a table")
    repeat_seconds = scanning.get("repeat_seconds", 10)
    if not isinstance(repeat_seconds, int) or isinstance(repeat_seconds, bool) or repeat_seconds < 0:
        raise ConfigError(source, "scanning.repeat_seconds", "must be a whole number of seconds, 0 or more")
    bus_capacity = scanning.get("bus_capacity", 45)
    if not isinstance(bus_capacity, int) or isinstance(bus_capacity, bool) or bus_capacity <= 0:
        raise ConfigError(source, "scanning.bus_capacity", "must be a positive whole number")
    valid_days_raw = scanning.get("valid_days", days_raw)
    if not isinstance(valid_days_raw, list):
        raise ConfigError(source, "scanning.valid_days", "must be a list of dates (YYYY-MM-DD)")
    valid_days = tuple(_parse_day(d, source, "scanning.valid_days") for d in valid_days_raw)

    raw_categories = data.get("categories")
    if not isinstance(raw_categories, list) or not raw_categories:
        raise ConfigError(source, "categories", "must list at least one category")
    categories = []
    seen: set[str] = set()
    for i, item in enumerate(raw_categories):
        prefix = f"categories[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(source, prefix, "must be a table")
        code = _require(item, "code", str, source, prefix)
        if code in seen:
            raise ConfigError(source, f"{prefix}.code", f"duplicate category code {code!r}")
        seen.add(code)
        colour = _require(item, "colour", str, source, prefix)
        if not _HEX_COLOUR.fullmatch(colour):
            raise ConfigError(source, f"{prefix}.colour", f"{colour!r} is not a #RRGGBB colour")
        quota = item.get("quota", 0)
        if not isinstance(quota, int) or isinstance(quota, bool) or quota < 0:
            raise ConfigError(source, f"{prefix}.quota", "must be a whole number, 0 (no limit) or more")
        head_reserved = item.get("head_reserved", False)
        if not isinstance(head_reserved, bool):
            raise ConfigError(source, f"{prefix}.head_reserved", "must be true or false")
        if head_reserved and quota < 2:
            raise ConfigError(
                source,
                f"{prefix}.head_reserved",
                "needs a quota of 2 or more (one place for the head, at least one for members)",
            )
        categories.append(Category(code, _require(item, "name", str, source, prefix), colour, quota, head_reserved))

    hotels = _places(data.get("hotels"), source, "hotels")
    bus = data.get("bus", {})
    if not isinstance(bus, dict):
        raise ConfigError(source, "bus", "must be a table")
    venue_stop = _venue_stop(bus.get("venue_stop"), source, hotels)
    bus_stops = hotels + (venue_stop.place,)
    bus_schedule = _bus_schedule(bus.get("departures"), source, bus_stops)

    code = _require(event, "code", str, source, "event")
    if not code.strip():
        raise ConfigError(source, "event.code", "is empty")
    name = _require(event, "name", str, source, "event")
    return EventConfig(
        code=code,
        name=name,
        short_name=_optional_str(event, "short_name", name, source, "event"),
        dates_label=_optional_str(event, "dates_label", "", source, "event"),
        venue=_optional_str(event, "venue", "", source, "event"),
        timezone=tz_name,
        meeting_days=meeting_days,
        collection_location=_optional_str(collection, "location", "", source, "collection"),
        collection_short_location=_optional_str(collection, "short_location", "", source, "collection"),
        collection_opens_utc=opens,
        collection_closes_utc=closes,
        repeat_seconds=repeat_seconds,
        bus_capacity=bus_capacity,
        valid_days=valid_days,
        categories=tuple(categories),
        hotels=hotels,
        checkpoints=_places(data.get("checkpoints"), source, "checkpoints"),
        bus_schedule=bus_schedule,
        venue_stop=venue_stop,
        source_text=text,
    )


def load_event_config(path: str | Path) -> EventConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", "does not exist") from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), "(file)", "is not UTF-8 text") from None
    return parse_event_config(text, str(path))


def bundled_event_path() -> Path:
    """The demo event shipped in fixtures/ (source checkout)."""
    return Path(__file__).resolve().parents[2] / "fixtures" / "event.toml"
