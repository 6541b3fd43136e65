"""`regdesk scan`: one scan per input line (a keyboard-wedge scanner, a pipe or a file), one verdict out."""

from __future__ import annotations

import argparse
import sys

from regdesk.commands.common import CommandError, clock_for, emit_json, signed_in
from regdesk.config import ConfigError, EventConfig
from regdesk.domain.authority import Act
from regdesk.services import scanning
from regdesk.services.station import StationError, open_station


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "scan",
        help="check badges at a scan point: reads one scan per line from stdin",
        description="Reads one scanned badge per line from standard input and prints one verdict per line. "
        "Every scan, denials included, is recorded in the station's event log.",
    )
    p.add_argument(
        "--point",
        default=None,
        metavar="security:NAME|bus:STOP:DIRECTION",
        help="scan point, e.g. security:CHECKPOINT or bus:STOP:to_venue (or to_hotel; codes from the event file; "
        "default: the station's saved point); "
        "the point given is saved for next time",
    )
    # dest differs from the global --clock so that giving it before the subcommand still works.
    p.add_argument(
        "--clock",
        dest="scan_clock",
        default=argparse.SUPPRESS,
        help="rehearsal clock start (ISO, event local time), e.g. 2017-12-04T08:40",
    )
    p.add_argument(
        "--operator",
        required=True,
        help="the security officer or marshal scanning (PIN from $REGDESK_PIN, or the first input line)",
    )
    p.add_argument("--bus", default=None, help="bus stops: bus number of the current departure")
    p.add_argument(
        "--departure-time", default=None, metavar="HH:MM", help="bus stops: scheduled time of the current departure"
    )
    p.add_argument(
        "--over-capacity-bell",
        choices=("on", "off"),
        default=None,
        help="bus stops: ring the terminal bell when a boarding goes over the bus capacity "
        "(station setting, saved; default on)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_scan)


def _human(result: scanning.ScanResult, config: EventConfig) -> str:
    verdict = result.verdict
    parts = [f"{verdict.title:<6}", verdict.text]
    if result.holder is not None and result.holder.name:
        parts.append(f"{result.holder.name} ({result.holder.delegation}, {result.holder.category_name})")
    if verdict.note:
        parts.append(verdict.note)
    if result.entries_today is not None:
        parts.append(f"entries today: {result.entries_today}")
    if result.over_capacity:
        parts.append(f"OVER CAPACITY {result.headcount}/{result.capacity}: boarding recorded; close this departure")
    elif result.headcount is not None:
        parts.append(f"on board: {result.headcount}/{result.capacity}")
    step = scanning.next_step(config, result)
    if step:
        parts.append(f"-> {step}")
    return "  ".join(parts)


def cmd_scan(args: argparse.Namespace) -> int:
    if getattr(args, "scan_clock", None):
        args.clock = args.scan_clock
    try:
        station = open_station(args.data_dir, clock=clock_for(args))
    except (StationError, ConfigError) as exc:
        raise CommandError(str(exc)) from None
    try:
        try:
            if args.over_capacity_bell is not None:
                station.set_setting(
                    scanning.SETTING_OVER_CAPACITY_BELL, "1" if args.over_capacity_bell == "on" else "0"
                )
            point = scanning.parse_point(args.point, station.config) if args.point else None
            if point is not None:
                scanning.configure_point(station, point)
            scanner = scanning.Scanner(station, signed_in(station, args.operator, Act.SCAN).name, point)
            if args.bus is not None or args.departure_time is not None:
                if scanner.departure is None:
                    raise scanning.ScanError("--bus and --departure-time are for bus stops only")
                scanner.set_departure(
                    bus=args.bus if args.bus is not None else scanner.departure.bus,
                    time=args.departure_time if args.departure_time is not None else scanner.departure.time,
                )
        except scanning.ScanError as exc:
            raise CommandError(str(exc)) from None
        try:
            for line in sys.stdin:
                if not line.strip():
                    continue  # a blank line is not a scan (stray Enter)
                result = scanner.scan(line)
                if args.json:
                    emit_json(result.as_json())
                else:
                    print(_human(result, station.config), flush=True)
                if result.over_capacity and scanning.over_capacity_bell(station) and sys.stdout.isatty():
                    print("\a", end="", flush=True)
                scanner.housekeeping()  # after the answer is out, never before
        finally:
            scanner.close()
    finally:
        station.close()
    return 0
