"""`regdesk export tallies --day 2017-12-04 | --all-days --out DIR [--format csv,pdf]`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from regdesk.commands.common import CommandError, emit_json, signed_in, station_from_args
from regdesk.domain.authority import Act
from regdesk.domain.words import plural
from regdesk.services import exports, tallies


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export supervisor tallies (CSV files and a PDF report)")
    what = p.add_subparsers(dest="export_what", metavar="WHAT")
    t = what.add_parser("tallies", help="daily tallies: badges, security, buses, overrides, no-shows")
    days = t.add_mutually_exclusive_group(required=True)
    days.add_argument("--day", default=None, metavar="YYYY-MM-DD", help="local day to export, e.g. 2017-12-04")
    days.add_argument(
        "--all-days",
        action="store_true",
        help="every reporting day (collection opening to last meeting day), one row per day in each CSV",
    )
    t.add_argument("--out", type=Path, required=True, metavar="DIR", help="directory for the files (created)")
    t.add_argument("--format", default="csv,pdf", help="csv, pdf or csv,pdf (default)")
    t.add_argument("--json", action="store_true", help="print the written files and headline numbers as JSON")
    t.add_argument(
        "--as",
        dest="supervisor",
        required=True,
        metavar="SUPERVISOR",
        help="the supervisor exporting (the files hold names): PIN from $REGDESK_PIN or asked",
    )
    t.set_defaults(func=cmd_export_tallies)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _parse_formats(value: str) -> tuple[str, ...]:
    formats = tuple(f.strip().lower() for f in value.split(",") if f.strip())
    bad = [f for f in formats if f not in exports.FORMATS]
    if bad or not formats:
        raise CommandError(f"--format {value!r}: use csv, pdf or csv,pdf")
    return formats


class _StderrProgress:
    """One updating line on a terminal; plain lines when stderr is a file or a pipe."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int, message: str) -> None:
        width = 24
        filled = int(width * done / total) if total else width
        line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {message}"
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
            if done >= total:
                sys.stderr.write("\n")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()


def cmd_export_tallies(args: argparse.Namespace) -> int:
    formats = _parse_formats(args.format)
    station = station_from_args(args)
    try:
        signed_in(station, args.supervisor, Act.EXPORT_TALLIES)  # exports hold personal data (no-show lists)
        if args.all_days:
            days: list[date] = list(tallies.tally_days(station.config))
        else:
            try:
                days = [tallies.parse_day(args.day)]
            except ValueError as exc:
                raise CommandError(f"--day: {exc}") from None
        try:
            result = exports.export_tallies(station, args.out, days, formats=formats, progress=_StderrProgress())
        except (exports.ExportError, OSError) as exc:
            raise CommandError(f"export failed: {exc}") from None
    finally:
        station.close()
    summary = tallies.summarise(result.tallies)
    if args.json:
        emit_json(
            {
                "out_dir": str(result.out_dir),
                "files": [str(f) for f in result.files],
                "days": [t.day.isoformat() for t in result.tallies],
                "headline": {
                    t.day.isoformat(): {
                        "badges_issued": t.badges.issued,
                        "badges_replaced": t.badges.replaced,
                        "badges_revoked": t.badges.revoked,
                        "collected": t.badges.collected,
                        "pre_registered": t.badges.pre_registered,
                        "security_entries": t.security.entries,
                        "security_denied": t.security.denied,
                        "bus_boardings": t.buses.boardings,
                        "no_shows": t.no_show_count,
                        "overrides": len(t.overrides),
                    }
                    for t in result.tallies
                },
                "totals": {
                    "badges_issued": summary.badges_issued,
                    "badges_replaced": summary.badges_replaced,
                    "badges_revoked": summary.badges_revoked,
                    "collected": summary.collected,
                    "pre_registered": summary.pre_registered,
                    "security_entries": summary.entries,
                    "security_denied": summary.denied,
                    "bus_boardings": summary.bus_boardings,
                    "bus_departures_over_capacity": len(summary.over_capacity),
                    "overrides": summary.overrides,
                    "open_conflicts": summary.open_conflicts,
                },
            }
        )
    else:
        print(f"Wrote {plural(len(result.files), 'file')} to {result.out_dir}")
        print(tallies_table(result.tallies, summary))
    return 0


def tallies_table(
    days: tuple[tallies.DayTallies, ...] | list[tallies.DayTallies], summary: tallies.MeetingSummary
) -> str:
    """Every day of the export, one line each, and a line adding them up (several days)."""
    header = ("Day", "Issued", "Replaced", "Revoked", "Collected", "Entries", "Denied", "Boardings", "No badge")
    rows = [
        (
            f"{t.day:%a %d %b}",
            f"{t.badges.issued:,}",
            f"{t.badges.replaced:,}",
            f"{t.badges.revoked:,}",
            f"{t.badges.collected:,}/{t.badges.pre_registered:,}",
            f"{t.security.entries:,}",
            f"{t.security.denied:,}",
            f"{t.buses.boardings:,}",
            f"{t.no_show_count:,}",
        )
        for t in days
    ]
    if len(rows) > 1:
        rows.append(
            (
                "All days",
                f"{summary.badges_issued:,}",
                f"{summary.badges_replaced:,}",
                f"{summary.badges_revoked:,}",
                f"{summary.collected:,}/{summary.pre_registered:,}",
                f"{summary.entries:,}",
                f"{summary.denied:,}",
                f"{summary.bus_boardings:,}",
                f"{summary.no_show_count:,}",
            )
        )
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        )

    lines = [line(header), *(line(r) for r in rows)]
    if len(rows) > 1:
        lines.insert(-1, "  ".join("-" * w for w in widths))
    lines.append("Collected and No badge: at the end of the day (All days: at the end of the last day).")
    return "\n".join(lines)
