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


Getter = str | Callable[[Any], Any]  # a (dotted) attribute name of the row, or a function of it
ColumnDef = tuple[str, str] | tuple[str, str, Getter]  # (name, doc[, getter: the attribute `name` if left out])


def _table(name: str, title: str, doc: str, rows: Getter, *columns: ColumnDef) -> TableSpec:
    """One table's description: its rows (the DayTallies attribute holding them) and its columns."""
    return TableSpec(name, title, doc, _getter(rows), tuple(_column(*c) for c in columns))


def _column(name: str, doc: str, attr: Getter | None = None) -> Column:
    return Column(name, doc, _getter(name if attr is None else attr))


def _getter(attr: Getter) -> Callable[[Any], Any]:
    return operator.attrgetter(attr) if isinstance(attr, str) else attr


def _summary_row(d: t.DayTallies) -> list[t.DayTallies]:
    return [d]


TODAY = "on the day"
CUM = "up to the end of the day (cumulative)"
# The badge counts of the tables by category, desk station and operator.
ISSUED: ColumnDef = ("issued", f"first badges issued {TODAY}")
REPLACED: ColumnDef = ("replaced", f"replacement badges issued {TODAY}")
ISSUED_CUM: ColumnDef = ("issued_cum", f"first badges issued {CUM}")
REPLACED_CUM: ColumnDef = ("replaced_cum", f"replacement badges {CUM}")
DIRECTION: ColumnDef = ("direction", " | ".join(BUS_DIRECTIONS))

TABLES: tuple[TableSpec, ...] = (
    _table(
        "summary",
        "Headline numbers",
        "One row per day: the figures on the report cover.",
        _summary_row,
        ("badges_issued", f"first badges issued {TODAY}", "badges.issued"),
        ("badges_replaced", f"replacement badges (issue number 2 or more) issued {TODAY}", "badges.replaced"),
        ("badges_revoked", f"badge serials revoked {TODAY}", "badges.revoked"),
        ("badges_issued_cum", f"first badges issued {CUM}", "badges.issued_cum"),
        ("badges_replaced_cum", f"replacement badges {CUM}", "badges.replaced_cum"),
        ("badges_revoked_cum", f"revoked serials {CUM}", "badges.revoked_cum"),
        ("pre_registered", "accredited participants on the list (withdrawn excluded)", "badges.pre_registered"),
        ("collected", f"pre-registered participants holding a badge {CUM}", "badges.collected"),
        ("collected_pct", "collected / pre_registered, percent", "badges.collected_pct"),
        (
            "delegations_complete",
            "delegations whose every member has collected",
            lambda d: d.delegation_counts["complete"],
        ),
        (
            "delegations_partial",
            "delegations with some members collected",
            lambda d: d.delegation_counts["partial"],
        ),
        (
            "delegations_not_collected",
            "delegations with no member collected",
            lambda d: d.delegation_counts["not_collected"],
        ),
        ("security_scans", f"badge scans at the venue screening {TODAY} (valid, denied and repeats)", "security.scans"),
        ("security_entries", f"valid, counted entries {TODAY}", "security.entries"),
        ("security_distinct_people", f"different people who entered {TODAY}", "security.distinct_people"),
        ("security_denied", f"entries denied {TODAY}", "security.denied"),
        ("security_repeats", f"repeat scans shown but not counted {TODAY}", "security.repeats"),
        ("security_entries_cum", f"valid entries {CUM}", "security.entries_cum"),
        ("security_distinct_people_cum", f"different people who entered {CUM}", "security.distinct_people_cum"),
        ("security_denied_cum", f"entries denied {CUM}", "security.denied_cum"),
        ("bus_boardings", f"valid, counted bus boardings {TODAY}", "buses.boardings"),
        ("bus_denied", f"boardings denied {TODAY}", "buses.denied"),
        ("bus_departures", f"departures with at least one boarding {TODAY}", "buses.departures"),
        (
            "bus_over_capacity",
            f"departures whose headcount exceeded the bus capacity {TODAY}",
            "buses.over_capacity",
        ),
        ("bus_boardings_cum", f"bus boardings {CUM}", "buses.boardings_cum"),
        ("overrides", f"supervisor overrides granted {TODAY}", lambda d: len(d.overrides)),
        (
            "badges_by_proxy",
            f"badges collected by a delegation's focal point for their holders {TODAY}",
            "badges.by_proxy",
        ),
        ("badges_by_proxy_cum", f"badges collected by a focal point {CUM}", "badges.by_proxy_cum"),
        ("conflicts", f"conflicts resolved {TODAY}, plus open ones that arose {TODAY}", lambda d: len(d.conflicts)),
    ),
    _table(
        "badges_by_category",
        "Badges and collection by category",
        "Badges issued per participant category (the holder's category when the badge was recorded), and "
        "collection progress against the pre-registered list (current categories).",
        "categories",
        ("category", "category code (event settings)", "code"),
        ("category_name", "category name", "name"),
        ISSUED,
        REPLACED,
        ("revoked", f"serials revoked {TODAY}"),
        ISSUED_CUM,
        REPLACED_CUM,
        ("revoked_cum", f"serials revoked {CUM}"),
        ("pre_registered", "accredited participants of this category"),
        ("collected", f"of those, holding a badge {CUM}"),
        ("not_collected", "pre_registered - collected"),
        ("collected_pct", "collected / pre_registered, percent"),
    ),
    _table(
        "badges_by_station",
        "Badges by desk station",
        "Badges issued per desk station (by its name).",
        "stations",
        ("station_id", "station id (UUID)"),
        ("station_name", "station name given at set-up"),
        ISSUED,
        REPLACED,
        ISSUED_CUM,
        REPLACED_CUM,
    ),
    _table(
        "badges_by_operator",
        "Badges by operator",
        "Badges issued per desk operator (clerk login name).",
        "operators",
        ("operator", "operator name"),
        ISSUED,
        REPLACED,
        ISSUED_CUM,
        REPLACED_CUM,
    ),
    _table(
        "delegations",
        "Delegations",
        "Collection state of every delegation or organisation at the end of the day.",
        "delegations",
        ("category", "category code"),
        ("delegation", "delegation or organisation"),
        ("pre_registered", "accredited members"),
        ("collected", f"members holding a badge {CUM}"),
        ("status", "complete | partial | not_collected"),
    ),
    _table(
        "no_shows",
        "No-shows",
        "Pre-registered participants who had not collected a badge by the end of the day, "
        "by delegation (head of delegation first).",
        "no_shows",
        ("delegation", "delegation or organisation"),
        ("category", "category code"),
        ("accreditation_id", "UN accreditation id"),
        ("name", "name as in the passport"),
        ("name_latin", "name in Latin script"),
        ("delegation_role", "head | member"),
    ),
    _table(
        "security_checkpoints",
        "Security by checkpoint",
        "Venue screening per checkpoint.",
        "checkpoints",
        ("checkpoint", "checkpoint code", "code"),
        ("checkpoint_name", "checkpoint name", "name"),
        ("scans", f"scans {TODAY} (valid, denied and repeats)"),
        ("entries", f"valid, counted entries {TODAY}"),
        ("denied", f"entries denied {TODAY}"),
        ("repeats", f"repeat scans, not counted, {TODAY}"),
        ("entries_cum", f"valid entries {CUM}"),
        ("denied_cum", f"denials {CUM}"),
    ),
    _table(
        "denials",
        "Denials by reason",
        "Scans denied at the venue (security) and at the buses (bus), by reason.",
        "denials",
        ("point_kind", "security | bus"),
        (
            "reason",
            "reason code (unreadable, forged, wrong_event, unknown_key, revoked, withdrawn, not_valid_today)",
        ),
        ("reason_text", "reason as shown on screen", "label"),
        ("count", f"denials {TODAY}"),
        ("count_cum", f"denials {CUM}"),
    ),
    _table(
        "hourly",
        "By hour",
        "Activity per local hour of the day ({zone}).",
        "hourly",
        ("hour", "local hour, 0-23 (08 = 08:00-08:59)"),
        ("badges", "badges issued (first and replacements)"),
        ("entries", "valid security entries"),
        ("denied", "security denials"),
        ("boardings", "valid bus boardings"),
    ),
    _table(
        "bus_stops",
        "Buses by stop and direction",
        "Bus boardings per stop ({hotels} and the {venue}) and direction.",
        "stops",
        ("stop", "stop code"),
        ("stop_name", "stop name"),
        DIRECTION,
        ("boardings", f"valid, counted boardings {TODAY}"),
        ("denied", f"boardings denied {TODAY}"),
        ("boardings_cum", f"boardings {CUM}"),
    ),
    _table(
        "bus_departures",
        "Bus departures",
        "Headcount of every departure of the day against the bus capacity.",
        "departures",
        ("stop", "stop code where people boarded"),
        ("stop_name", "stop name"),
        DIRECTION,
        ("departure", "departure id from the marshal's screen (local date, time, bus, tag)"),
        ("bus", "bus number (once the marshal closed the departure)"),
        ("scheduled", "scheduled local departure time HH:MM (once closed)"),
        ("closed", "yes when the marshal closed the departure"),
        ("headcount", "valid, counted boardings"),
        ("capacity", "bus capacity (event settings)"),
        ("load_pct", "headcount / capacity, percent"),
        ("over_capacity", "yes when headcount > capacity"),
        ("first_boarding", "first boarding, local ISO time"),
        ("last_boarding", "last boarding, local ISO time"),
    ),
    _table(
        "overrides",
        "Overrides",
        "Issuance rules set aside by a supervisor on the day, with who and why.",
        "overrides",
        ("time_local", "when, local ISO time"),
        ("rule", "rule(s) overridden"),
        ("reason", "reason written by the supervisor"),
        ("supervisor", "supervisor who authorised it"),
        ("participant_id", "accreditation id"),
        ("participant_name", "participant"),
        ("delegation", "delegation"),
        ("station_name", "desk station"),
        ("operator", "clerk at the desk"),
        ("event_id", "log event id"),
    ),
    _table(
        "proxy_collections",
        "Collections by a focal point",
        "Badges a delegation's focal point (or its head) collected for its members on the day, with the "
        "letter or note verbale that authorised it.",
        "proxy_collections",
        ("time_local", "first badge of the collection, local ISO time"),
        ("collector_id", "the collector's accreditation id"),
        ("collector_name", "collector"),
        ("delegation", "delegation"),
        ("authorisation", "reference of the note verbale or letter"),
        ("badges", "badges collected"),
        ("station_name", "desk station"),
        ("operator", "clerk at the desk"),
    ),
    _table(
        "temporary_passes",
        "Temporary passes",
        "The contingency stock valid on the day: passes printed, assigned to a person at the desk, voided, "
        "and unused (still in the supervisor's keeping, or unaccounted for).",
        "temporary_passes",
        ("day", "the day the passes are valid"),
        ("printed", "passes printed for the day"),
        ("assigned", "assigned to a person (not voided)"),
        ("voided", "voided (lost, stolen, spoilt)"),
        ("unused", "printed - assigned - voided"),
    ),
    _table(
        "conflicts",
        "Conflicts",
        "Conflicts resolved on the day, and still-open ones on the day they arose.",
        "conflicts",
        ("time_local", "resolved at (open: when the last badge involved was issued), local ISO time"),
        ("state", "resolved | open"),
        ("kind", "duplicate_badge | quota_exceeded"),
        ("participant_id", "accreditation id"),
        ("participant_name", "participant, or delegation (category) for a quota conflict"),
        ("resolution", "the supervisor's decision (badges kept / revoked)"),
        ("reason", "reason written by the supervisor; for open conflicts, what is wrong"),
        ("resolved_by", "supervisor"),
        ("station_name", "station where it was resolved (open: the stations that issued the badges)"),
        ("conflict_id", "conflict key"),
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
