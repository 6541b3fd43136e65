"""Exporting supervisor tallies: one CSV file per table, a README describing every column, a PDF report.

CSV rules: UTF-8 (with a byte-order mark, so spreadsheet programs detect it and show "Hernández"
rather than mojibake), comma separated, CRLF line ends, ISO dates (2017-12-04) and ISO local
times with their offset (2017-12-04T17:30:00-06:00). Every row starts with the local day, so the
same files hold one day or all days. A text cell that a spreadsheet would execute (one starting
with = + - @, or a tab or carriage return) gets a leading apostrophe. No document numbers, PINs or
badge tokens are in any table: the tallies never read them.

Each file is written to a temporary name and renamed into place, so an interrupted export never
leaves a half-written file under the final name.
"""

from __future__ import annotations

import csv
import io
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from regdesk.config import EventConfig
from regdesk.domain.buses import BUS_DIRECTIONS
from regdesk.errors import RegdeskError
from regdesk.services import tallies as t
from regdesk.services.station import Station
from regdesk.store import files

FORMATS = ("csv", "pdf")
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[int, int, str], None]  # (steps done, steps in total, what is happening)


def neutralise(value: Any) -> str:
    """A cell as text; text a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.startswith(DANGEROUS_PREFIXES):
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    name: str
    doc: str
    get: Callable[[Any], Any]


@dataclass(frozen=True)
class TableSpec:
    name: str  # file name without .csv
    title: str
    doc: str
    rows: Callable[[t.DayTallies], Iterable[Any]]
    columns: tuple[Column, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def header(self) -> list[str]:
        return ["day", *(c.name for c in self.columns)]

    def records(self, day: t.DayTallies) -> Iterable[list[str]]:
        for row in self.rows(day):
            yield [day.day.isoformat(), *(neutralise(c.get(row)) for c in self.columns)]


def _c(name: str, doc: str, attr: str | Callable[[Any], Any] | None = None) -> Column:
    if attr is None:
        attr = name
    getter: Callable[[Any], Any]
    if isinstance(attr, str):
        getter = operator.attrgetter(attr)
    else:
        getter = attr
    return Column(name, doc, getter)


def _summary_row(d: t.DayTallies) -> list[t.DayTallies]:
    return [d]


TODAY = "on the day"
CUM = "up to the end of the day (cumulative)"

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "summary",
        "Headline numbers",
        "One row per day: the figures on the report cover.",
        _summary_row,
        (
            _c("badges_issued", f"first badges issued {TODAY}", lambda d: d.badges.issued),
            _c(
                "badges_replaced",
                f"replacement badges (issue number 2 or more) issued {TODAY}",
                lambda d: d.badges.replaced,
            ),
            _c("badges_revoked", f"badge serials revoked {TODAY}", lambda d: d.badges.revoked),
            _c("badges_issued_cum", f"first badges issued {CUM}", lambda d: d.badges.issued_cum),
            _c("badges_replaced_cum", f"replacement badges {CUM}", lambda d: d.badges.replaced_cum),
            _c("badges_revoked_cum", f"revoked serials {CUM}", lambda d: d.badges.revoked_cum),
            _c(
                "pre_registered",
                "accredited participants on the list (withdrawn excluded)",
                lambda d: d.badges.pre_registered,
            ),
            _c("collected", f"pre-registered participants holding a badge {CUM}", lambda d: d.badges.collected),
            _c("collected_pct", "collected / pre_registered, percent", lambda d: d.badges.collected_pct),
            _c(
                "delegations_complete",
                "delegations whose every member has collected",
                lambda d: d.delegation_counts["complete"],
            ),
            _c(
                "delegations_partial",
                "delegations with some members collected",
                lambda d: d.delegation_counts["partial"],
            ),
            _c(
                "delegations_not_collected",
                "delegations with no member collected",
                lambda d: d.delegation_counts["not_collected"],
            ),
            _c(
                "security_scans",
                f"badge scans at the venue screening {TODAY} (valid, denied and repeats)",
                lambda d: d.security.scans,
            ),
            _c("security_entries", f"valid, counted entries {TODAY}", lambda d: d.security.entries),
            _c(
                "security_distinct_people",
                f"different people who entered {TODAY}",
                lambda d: d.security.distinct_people,
            ),
            _c("security_denied", f"entries denied {TODAY}", lambda d: d.security.denied),
            _c("security_repeats", f"repeat scans shown but not counted {TODAY}", lambda d: d.security.repeats),
            _c("security_entries_cum", f"valid entries {CUM}", lambda d: d.security.entries_cum),
            _c(
                "security_distinct_people_cum",
                f"different people who entered {CUM}",
                lambda d: d.security.distinct_people_cum,
            ),
            _c("security_denied_cum", f"entries denied {CUM}", lambda d: d.security.denied_cum),
            _c("bus_boardings", f"valid, counted bus boardings {TODAY}", lambda d: d.buses.boardings),
            _c("bus_denied", f"boardings denied {TODAY}", lambda d: d.buses.denied),
            _c("bus_departures", f"departures with at least one boarding {TODAY}", lambda d: d.buses.departures),
            _c(
                "bus_over_capacity",
                f"departures whose headcount exceeded the bus capacity {TODAY}",
                lambda d: d.buses.over_capacity,
            ),
            _c("bus_boardings_cum", f"bus boardings {CUM}", lambda d: d.buses.boardings_cum),
            _c("overrides", f"supervisor overrides granted {TODAY}", lambda d: len(d.overrides)),
            _c(
                "badges_by_proxy",
                f"badges collected by a delegation's focal point for their holders {TODAY}",
                lambda d: d.badges.by_proxy,
            ),
            _c("badges_by_proxy_cum", f"badges collected by a focal point {CUM}", lambda d: d.badges.by_proxy_cum),
            _c(
                "conflicts",
                f"conflicts resolved {TODAY}, plus open ones that arose {TODAY}",
                lambda d: len(d.conflicts),
            ),
        ),
    ),
    TableSpec(
        "badges_by_category",
        "Badges and collection by category",
        "Badges issued per participant category (the holder's category when the badge was recorded), and "
        "collection progress against the pre-registered list (current categories).",
        lambda d: d.categories,
        (
            _c("category", "category code (event settings)", "code"),
            _c("category_name", "category name", "name"),
            _c("issued", f"first badges issued {TODAY}"),
            _c("replaced", f"replacement badges issued {TODAY}"),
            _c("revoked", f"serials revoked {TODAY}"),
            _c("issued_cum", f"first badges issued {CUM}"),
            _c("replaced_cum", f"replacement badges {CUM}"),
            _c("revoked_cum", f"serials revoked {CUM}"),
            _c("pre_registered", "accredited participants of this category"),
            _c("collected", f"of those, holding a badge {CUM}"),
            _c("not_collected", "pre_registered - collected"),
            _c("collected_pct", "collected / pre_registered, percent"),
        ),
    ),
    TableSpec(
        "badges_by_station",
        "Badges by desk station",
        "Badges issued per desk station (by its name).",
        lambda d: d.stations,
        (
            _c("station_id", "station id (UUID)"),
            _c("station_name", "station name given at set-up"),
            _c("issued", f"first badges issued {TODAY}"),
            _c("replaced", f"replacement badges issued {TODAY}"),
            _c("issued_cum", f"first badges issued {CUM}"),
            _c("replaced_cum", f"replacement badges {CUM}"),
        ),
    ),
    TableSpec(
        "badges_by_operator",
        "Badges by operator",
        "Badges issued per desk operator (clerk login name).",
        lambda d: d.operators,
        (
            _c("operator", "operator name"),
            _c("issued", f"first badges issued {TODAY}"),
            _c("replaced", f"replacement badges issued {TODAY}"),
            _c("issued_cum", f"first badges issued {CUM}"),
            _c("replaced_cum", f"replacement badges {CUM}"),
        ),
    ),
    TableSpec(
        "delegations",
        "Delegations",
        "Collection state of every delegation or organisation at the end of the day.",
        lambda d: d.delegations,
        (
            _c("category", "category code"),
            _c("delegation", "delegation or organisation"),
            _c("pre_registered", "accredited members"),
            _c("collected", f"members holding a badge {CUM}"),
            _c("status", "complete | partial | not_collected"),
        ),
    ),
    TableSpec(
        "no_shows",
        "No-shows",
        "Pre-registered participants who had not collected a badge by the end of the day, "
        "by delegation (head of delegation first).",
        lambda d: d.no_shows,
        (
            _c("delegation", "delegation or organisation"),
            _c("category", "category code"),
            _c("accreditation_id", "UN accreditation id"),
            _c("name", "name as in the passport"),
            _c("name_latin", "name in Latin script"),
            _c("delegation_role", "head | member"),
        ),
    ),
    TableSpec(
        "security_checkpoints",
        "Security by checkpoint",
        "Venue screening per checkpoint.",
        lambda d: d.checkpoints,
        (
            _c("checkpoint", "checkpoint code", "code"),
            _c("checkpoint_name", "checkpoint name", "name"),
            _c("scans", f"scans {TODAY} (valid, denied and repeats)"),
            _c("entries", f"valid, counted entries {TODAY}"),
            _c("denied", f"entries denied {TODAY}"),
            _c("repeats", f"repeat scans, not counted, {TODAY}"),
            _c("entries_cum", f"valid entries {CUM}"),
            _c("denied_cum", f"denials {CUM}"),
        ),
    ),
    TableSpec(
        "denials",
        "Denials by reason",
        "Scans denied at the venue (security) and at the buses (bus), by reason.",
        lambda d: d.denials,
        (
            _c("point_kind", "security | bus"),
            _c(
                "reason",
                "reason code (unreadable, forged, wrong_event, unknown_key, revoked, withdrawn, not_valid_today)",
            ),
            _c("reason_text", "reason as shown on screen", "label"),
            _c("count", f"denials {TODAY}"),
            _c("count_cum", f"denials {CUM}"),
        ),
    ),
    TableSpec(
        "hourly",
        "By hour",
        "Activity per local hour of the day ({zone}).",
        lambda d: d.hourly,
        (
            _c("hour", "local hour, 0-23 (08 = 08:00-08:59)"),
            _c("badges", "badges issued (first and replacements)"),
            _c("entries", "valid security entries"),
            _c("denied", "security denials"),
            _c("boardings", "valid bus boardings"),
        ),
    ),
    TableSpec(
        "bus_stops",
        "Buses by stop and direction",
        "Bus boardings per stop ({hotels} and the {venue}) and direction.",
        lambda d: d.stops,
        (
            _c("stop", "stop code"),
            _c("stop_name", "stop name"),
            _c("direction", " | ".join(BUS_DIRECTIONS)),
            _c("boardings", f"valid, counted boardings {TODAY}"),
            _c("denied", f"boardings denied {TODAY}"),
            _c("boardings_cum", f"boardings {CUM}"),
        ),
    ),
    TableSpec(
        "bus_departures",
        "Bus departures",
        "Headcount of every departure of the day against the bus capacity.",
        lambda d: d.departures,
        (
            _c("stop", "stop code where people boarded"),
            _c("stop_name", "stop name"),
            _c("direction", " | ".join(BUS_DIRECTIONS)),
            _c("departure", "departure id from the marshal's screen (local date, time, bus, tag)"),
            _c("bus", "bus number (once the marshal closed the departure)"),
            _c("scheduled", "scheduled local departure time HH:MM (once closed)"),
            _c("closed", "yes when the marshal closed the departure"),
            _c("headcount", "valid, counted boardings"),
            _c("capacity", "bus capacity (event settings)"),
            _c("load_pct", "headcount / capacity, percent"),
            _c("over_capacity", "yes when headcount > capacity"),
            _c("first_boarding", "first boarding, local ISO time"),
            _c("last_boarding", "last boarding, local ISO time"),
        ),
    ),
    TableSpec(
        "overrides",
        "Overrides",
        "Issuance rules set aside by a supervisor on the day, with who and why.",
        lambda d: d.overrides,
        (
            _c("time_local", "when, local ISO time"),
            _c("rule", "rule(s) overridden"),
            _c("reason", "reason written by the supervisor"),
            _c("supervisor", "supervisor who authorised it"),
            _c("participant_id", "accreditation id"),
            _c("participant_name", "participant"),
            _c("delegation", "delegation"),
            _c("station_name", "desk station"),
            _c("operator", "clerk at the desk"),
            _c("event_id", "log event id"),
        ),
    ),
    TableSpec(
        "proxy_collections",
        "Collections by a focal point",
        "Badges a delegation's focal point (or its head) collected for its members on the day, with the "
        "letter or note verbale that authorised it.",
        lambda d: d.proxy_collections,
        (
            _c("time_local", "first badge of the collection, local ISO time"),
            _c("collector_id", "the collector's accreditation id"),
            _c("collector_name", "collector"),
            _c("delegation", "delegation"),
            _c("authorisation", "reference of the note verbale or letter"),
            _c("badges", "badges collected"),
            _c("station_name", "desk station"),
            _c("operator", "clerk at the desk"),
        ),
    ),
    TableSpec(
        "temporary_passes",
        "Temporary passes",
        "The contingency stock valid on the day: passes printed, assigned to a person at the desk, voided, "
        "and unused (still in the supervisor's keeping, or unaccounted for).",
        lambda d: d.temporary_passes,
        (
            _c("day", "the day the passes are valid"),
            _c("printed", "passes printed for the day"),
            _c("assigned", "assigned to a person (not voided)"),
            _c("voided", "voided (lost, stolen, spoilt)"),
            _c("unused", "printed - assigned - voided"),
        ),
    ),
    TableSpec(
        "conflicts",
        "Conflicts",
        "Conflicts resolved on the day, and still-open ones on the day they arose.",
        lambda d: d.conflicts,
        (
            _c("time_local", "resolved at (open: when the last badge involved was issued), local ISO time"),
            _c("state", "resolved | open"),
            _c("kind", "duplicate_badge | quota_exceeded"),
            _c("participant_id", "accreditation id"),
            _c("participant_name", "participant, or delegation (category) for a quota conflict"),
            _c("resolution", "the supervisor's decision (badges kept / revoked)"),
            _c("reason", "reason written by the supervisor; for open conflicts, what is wrong"),
            _c("resolved_by", "supervisor"),
            _c("station_name", "station where it was resolved (open: the stations that issued the badges)"),
            _c("conflict_id", "conflict key"),
        ),
    ),
)


_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _meeting_words(doc: str, config: EventConfig) -> str:
    """A table's description with the event's own words: its time zone, hotels and venue stop."""
    n = len(config.hotels)
    hotels = f"{_COUNT_WORDS[n] if n < len(_COUNT_WORDS) else n} hotel{'' if n == 1 else 's'}"
    return (
        doc.replace("{zone}", config.timezone).replace("{hotels}", hotels).replace("{venue}", config.venue_stop.short)
    )


def readme_text(days: Sequence[date], generated_local: str, station: Station) -> str:
    config = station.config
    lines = [
        f"{config.short_name}: supervisor tallies",
        f"Days: {', '.join(d.isoformat() for d in days)} (local days, {config.timezone})",
        f"Exported {generated_local} by station {station.name}",
        "",
        "Every CSV file: UTF-8 (with byte-order mark), comma separated, one header line, first column `day`",
        "(YYYY-MM-DD, the local day). Times are local ISO 8601 with their UTC offset. Text cells that a",
        "spreadsheet would execute (starting with = + - @) carry a leading apostrophe.",
        "Counts 'on the day' cover 00:00-24:00 local time; '_cum' columns count everything up to the end of the day.",
        "No identity-document numbers, PINs or badge tokens are included.",
        "",
    ]
    for spec in TABLES:
        lines.append(f"{spec.filename}: {_meeting_words(spec.doc, config)}")
        width = max(len(c.name) for c in spec.columns)
        lines.append(f"  {'day'.ljust(width)}: local day (YYYY-MM-DD)")
        for column in spec.columns:
            lines.append(f"  {column.name.ljust(width)}: {column.doc}")
        lines.append("")
    return "\n".join(lines)


def csv_bytes(spec: TableSpec, days: Sequence[t.DayTallies]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(spec.header())
    for day in days:
        writer.writerows(spec.records(day))
    return buffer.getvalue().encode("utf-8-sig")


def report_filename(days: Sequence[date]) -> str:
    if len(days) == 1:
        return f"tallies-{days[0].isoformat()}.pdf"
    return f"tallies-{days[0].isoformat()}_to_{days[-1].isoformat()}.pdf"


@dataclass(frozen=True)
class ExportResult:
    out_dir: Path
    files: tuple[Path, ...]
    tallies: tuple[t.DayTallies, ...]


class ExportError(RegdeskError, ValueError):
    pass


def export_tallies(
    station: Station,
    out_dir: Path | str,
    days: Iterable[date],
    *,
    formats: Iterable[str] = FORMATS,
    progress: Progress | None = None,
) -> ExportResult:
    """Compute the tallies of `days` and write CSV files, README.txt and/or the PDF report into `out_dir`."""
    wanted_days = sorted(set(days))
    if not wanted_days:
        raise ExportError("no day to export")
    formats = tuple(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ExportError(f"unknown export format {', '.join(unknown) or '(none)'}; use csv, pdf or both")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a directory")
    files.private_dir(out, tighten=False)  # made owner-only if we create it; a USB stick is left as it is

    steps = 1 + (len(TABLES) + 1 if "csv" in formats else 0) + (1 if "pdf" in formats else 0)
    done = 0

    def step(message: str) -> None:
        nonlocal done
        if progress is not None:
            progress(done, steps, message)
        done += 1

    step(f"computing tallies for {len(wanted_days)} day(s)")
    results = t.all_days(station, wanted_days)
    written: list[Path] = []
    if "csv" in formats:
        for spec in TABLES:
            step(f"writing {spec.filename}")
            path = out / spec.filename
            files.write_private(path, csv_bytes(spec, results))
            written.append(path)
        step("writing README.txt")
        generated = station.config.local(station.clock.now()).isoformat(timespec="seconds")
        path = out / "README.txt"
        files.write_private(path, readme_text(wanted_days, generated, station).encode("utf-8"))
        written.append(path)
    if "pdf" in formats:
        step("rendering the PDF report")
        from regdesk.render.report import render_report  # reportlab is only loaded when a PDF is wanted

        path = out / report_filename(wanted_days)
        files.write_private(path, render_report(results, station.config))
        written.append(path)
    if progress is not None:
        progress(steps, steps, f"done: {len(written)} files in {out}")
    return ExportResult(out, tuple(written), tuple(results))
