"""`regdesk init` (found a meeting), `regdesk operator ...`, `regdesk station ...`, `regdesk root ...`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from regdesk.commands.common import (
    ENV_NEW_SECRET,
    ENV_ROOT,
    CommandError,
    clock_for,
    emit_json,
    read_secret,
    signed_in,
    station_from_args,
)
from regdesk.config import bundled_event_path, load_event_config
from regdesk.domain import authority
from regdesk.domain import trust as certs
from regdesk.services import operators, provisioning, trust
from regdesk.services.station import ROLES, found_meeting


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="found a meeting: its root key, this first station and the first supervisor",
        description="Creates the meeting's root of trust (a key locked with the root passphrase, "
        f"from ${ENV_ROOT} or asked twice), this station, certified by it, and the first "
        f"supervisor (passphrase from ${ENV_NEW_SECRET} or asked twice). Other stations "
        "join with `regdesk provision` / `regdesk join`.",
    )
    p.add_argument("--event", default=None, help="event settings TOML (default: the bundled demo event)")
    p.add_argument("--role", choices=ROLES, default="supervisor")
    p.add_argument("--name", default=None, help="station name shown in reports, e.g. 'Supervisor office'")
    p.add_argument("--supervisor", required=True, metavar="NAME", help="the first supervisor's operator name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("operator", help="manage operators (name, role, PIN or passphrase)")
    osub = p.add_subparsers(dest="operator_command", metavar="ACTION", required=True)
    a = osub.add_parser("add", help="add an operator, or give one a new role or PIN (a supervisor does it)")
    a.add_argument("name")
    a.add_argument("--role", choices=operators.OPERATOR_ROLES, required=True)
    a.add_argument(
        "--by",
        required=True,
        metavar="SUPERVISOR",
        help="the supervisor adding them (their passphrase from $REGDESK_PIN or asked)",
    )
    a.set_defaults(func=cmd_operator_add)
    ls = osub.add_parser("list", help="list operators")
    ls.set_defaults(func=cmd_operator_list)

    p = sub.add_parser("station", help="this station's identity, the meeting's stations, cutting one off")
    ssub = p.add_subparsers(dest="station_command", metavar="ACTION", required=True)
    s = ssub.add_parser("show", help="this station: id, name, role, the meeting's root fingerprint")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_station_show)
    s = ssub.add_parser("list", help="the meeting's enrolled stations and whether any is revoked")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_station_list)
    s = ssub.add_parser("revoke", help="cut off a lost or stolen station (supervisor + root passphrase)")
    s.add_argument("station", help="station name or id (see `regdesk station list`)")
    s.add_argument("--operator", required=True, metavar="SUPERVISOR")
    s.add_argument("--reason", required=True)
    s.add_argument("--root-key", type=Path, default=None, help="the exported root key, when it is kept offline")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_station_revoke)

    p = sub.add_parser("root", help="the meeting's root key: offline custody")
    rsub = p.add_subparsers(dest="root_command", metavar="ACTION", required=True)
    r = rsub.add_parser("export", help="copy the locked root key to FILE (e.g. a USB stick kept in the safe)")
    r.add_argument("file", type=Path)
    r.set_defaults(func=cmd_root_export)
    r = rsub.add_parser("remove", help="delete the root key from this station after exporting it")
    r.add_argument(
        "--exported-to",
        type=Path,
        required=True,
        metavar="FILE",
        help="the exported copy: checked with the root passphrase before anything is deleted",
    )
    r.set_defaults(func=cmd_root_remove)


def cmd_init(args: argparse.Namespace) -> int:
    event = args.event or bundled_event_path()
    load_event_config(event)  # a broken settings file is said before any passphrase is asked
    root_passphrase = read_secret("root passphrase (12+ characters, keep it safe)", ENV_ROOT, confirm=True)
    problem = trust.root_passphrase_problem(root_passphrase)
    if problem:
        raise CommandError(problem)
    secret = read_secret(f"passphrase for supervisor {args.supervisor}", ENV_NEW_SECRET, confirm=True)
    station = found_meeting(
        args.data_dir,
        event,
        root_passphrase=root_passphrase,
        supervisor=args.supervisor,
        supervisor_secret=secret,
        role=args.role,
        name=args.name,
        clock=clock_for(args, event_path=Path(event)),
    )
    info = {
        "station_id": station.station_id,
        "name": station.name,
        "role": station.role,
        "event_code": station.config.code,
        "data_dir": str(station.data_dir),
        "key_id": station.key_id,
        "root_fingerprint": station.root_fingerprint,
    }
    station.close()
    if args.json:
        emit_json(info)
    else:
        print(f"Meeting {info['event_code']} founded: station {info['name']} ({info['role']}) in {info['data_dir']}")
        print(f"Root fingerprint: {info['root_fingerprint']}  (every station that joins shows it: compare)")
        print(
            f"The root key is locked in {Path(info['data_dir']) / 'keys' / trust.ROOT_KEY_FILE}; export it for "
            "the safe with `regdesk root export FILE`"
        )
    return 0


def cmd_operator_add(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        by = signed_in(station, args.by, authority.Act.ADD_OPERATOR)
        kind = "passphrase" if args.role == "supervisor" else "PIN"
        secret = read_secret(f"new {kind} for {args.name}", ENV_NEW_SECRET, confirm=True)
        operators.add_operator(station, args.name, args.role, secret, by=by.name)
    finally:
        station.close()
    print(f"Operator {' '.join(args.name.split())} ({args.role}) saved")
    return 0


def cmd_operator_list(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    for name, role in operators.list_operators(station):
        print(f"{name}\t{role}")
    station.close()
    return 0


def cmd_station_show(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        cert = station.certificate
        info = {
            "station_id": station.station_id,
            "name": station.name,
            "role": station.role,
            "event_code": station.config.code,
            "root_fingerprint": station.root_fingerprint,
            "station_key_fingerprint": certs.fingerprint(cert.public_key) if cert else "",
            "certificate_valid_until": cert.valid_until if cert else "",
            "holds_root_key": trust.root_file(station.data_dir).exists(),
            "badge_key_id": station.key_id,
        }
    finally:
        station.close()
    if args.json:
        emit_json(info)
    else:
        print(f"Station        {info['name']} ({info['role']}), id {info['station_id']}")
        print(f"Meeting        {info['event_code']}")
        print(
            f"Root           {info['root_fingerprint']}" + ("  (root key held here)" if info["holds_root_key"] else "")
        )
        if cert:
            valid_until = info["certificate_valid_until"][:10]
            print(f"Station key    {info['station_key_fingerprint']}, certified until {valid_until}")
        if info["badge_key_id"]:
            print(f"Badge key      {info['badge_key_id']}")
    return 0


def cmd_station_list(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        listed = [
            {
                "station_id": r.station_id,
                "name": r.name,
                "role": r.role,
                "key": certs.fingerprint(r.public_key),
                "continues": r.continues,
                "revoked": r.revocation_reason is not None,
                "revocation_reason": r.revocation_reason or "",
            }
            for r in provisioning.list_stations(station)
        ]
    finally:
        station.close()
    if args.json:
        emit_json(listed)
        return 0
    for item in listed:
        state = f"REVOKED ({item['revocation_reason']})" if item["revoked"] else "enrolled"
        also = f", continues {item['continues'][:8]}" if item["continues"] else ""
        print(f"{item['name']:<24} {item['role']:<10} {item['station_id'][:8]}  key {item['key']}  {state}{also}")
    return 0


def cmd_station_revoke(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        by = signed_in(station, args.operator, authority.Act.REVOKE_STATION)
        root_passphrase = read_secret("root passphrase", ENV_ROOT)
        revocation = provisioning.revoke(
            station,
            args.station,
            by=by,
            reason=args.reason,
            root_passphrase=root_passphrase,
            root_key_file=args.root_key,
        )
    finally:
        station.close()
    if args.json:
        emit_json({"revoked_key": certs.fingerprint(revocation.station_key), "trusted_through": revocation.heads})
    else:
        print(
            f"Station key {certs.fingerprint(revocation.station_key)} revoked. Its events up to "
            f"{json.dumps(revocation.heads)} stay trusted; anything later, and badges its keys sign later, are "
            "refused everywhere once this reaches them: sync now."
        )
    return 0


def cmd_root_export(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        source = trust.root_file(station.data_dir)
        if not source.exists():
            raise CommandError(f"this station does not hold the root key ({source})")
        if args.file.exists():
            raise CommandError(f"{args.file} exists; choose a new file name")
        from regdesk.store import files

        files.write_private(args.file, source.read_bytes())
        fingerprint = station.root_fingerprint
    finally:
        station.close()
    print(f"Root key (locked with the root passphrase) copied to {args.file}; root {fingerprint}")
    return 0


def cmd_root_remove(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        source = trust.root_file(station.data_dir)
        if not source.exists():
            raise CommandError(f"this station does not hold the root key ({source})")
        passphrase = read_secret("root passphrase", ENV_ROOT)
        trust.load_root(
            station.data_dir, passphrase, expected_public_key=station.root_public_key, key_file=args.exported_to
        )
        source.unlink()
    finally:
        station.close()
    print(f"Root key removed from this station; provisioning and revoking now need --root-key {args.exported_to}")
    return 0
