"""`regdesk init` and `regdesk operator ...`."""

from __future__ import annotations

import argparse
import getpass
import sys

from regdesk.commands.common import CommandError, clock_for, emit_json, station_from_args
from regdesk.config import ConfigError, bundled_event_path
from regdesk.services import operators
from regdesk.services.station import ROLES, StationError, init_station


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create a station in --data-dir")
    p.add_argument("--event", default=None, help="event settings TOML (default: the bundled demo event)")
    p.add_argument("--role", choices=ROLES, default="desk")
    p.add_argument("--name", default=None, help="station name shown in reports, e.g. 'Westin desk 2'")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("operator", help="manage operators (name, role, PIN)")
    osub = p.add_subparsers(dest="operator_command", metavar="ACTION", required=True)
    a = osub.add_parser("add", help="add or update an operator")
    a.add_argument("name")
    a.add_argument("--role", choices=operators.OPERATOR_ROLES, required=True)
    a.add_argument("--pin", default=None, help="PIN (prompted when omitted; avoid on shared shells)")
    a.set_defaults(func=cmd_operator_add)
    ls = osub.add_parser("list", help="list operators")
    ls.set_defaults(func=cmd_operator_list)


def cmd_init(args: argparse.Namespace) -> int:
    event = args.event or bundled_event_path()
    try:
        station = init_station(args.data_dir, event, role=args.role, name=args.name,
                               clock=clock_for(args, event_path=event))
    except (StationError, ConfigError) as exc:
        raise CommandError(str(exc)) from None
    info = {"station_id": station.station_id, "name": station.name, "role": station.role,
            "event_code": station.config.code, "data_dir": str(station.data_dir), "key_id": station.key_id}
    if args.json:
        emit_json(info)
    else:
        print(f"Station {station.name} ({station.role}) created in {station.data_dir}")
        if station.key_id:
            print(f"Signing key {station.key_id} created (kept in {station.data_dir / 'keys'}, owner-only)")
    station.close()
    return 0


def cmd_operator_add(args: argparse.Namespace) -> int:
    pin = args.pin
    if pin is None:
        if not sys.stdin.isatty():
            pin = sys.stdin.readline().strip()
        else:
            pin = getpass.getpass("PIN: ")
    station = station_from_args(args)
    try:
        operators.add_operator(station, args.name, args.role, pin)
    except operators.OperatorError as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    print(f"Operator {args.name.strip()} ({args.role}) saved")
    return 0


def cmd_operator_list(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    for name, role in operators.list_operators(station):
        print(f"{name}\t{role}")
    station.close()
    return 0
