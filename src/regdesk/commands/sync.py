"""`regdesk sync`, `bundle export|import`, `provision`, `join`, `conflicts`, `resolve`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from regdesk.clock import clock_from_arg, parse_clock_arg
from regdesk.commands.common import (
    ENV_JOIN_CODE,
    ENV_ROOT,
    CommandError,
    emit_json,
    read_secret,
    signed_in,
    station_from_args,
)
from regdesk.domain import authority
from regdesk.domain.words import plural
from regdesk.services import bundles, conflicts, provisioning, sync
from regdesk.services.station import ROLES, Station


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="exchange events with a PostgreSQL hub (push, then pull)")
    p.add_argument(
        "--hub",
        default=None,
        metavar="URL",
        help="postgresql+psycopg://user@host:5432/db (default: the station's saved hub_url)",
    )
    p.add_argument("--once", action="store_true", help="one cycle, then exit (default: keep syncing)")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between cycles (default 30)")
    p.add_argument(
        "--remember",
        action="store_true",
        help="save --hub as this station's hub_url (the TUI then syncs in the background)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("bundle", help="carry events by hand (USB stick) when stations cannot reach each other")
    bsub = p.add_subparsers(dest="bundle_command", metavar="ACTION", required=True)
    e = bsub.add_parser("export", help="write this station's events to a bundle file")
    e.add_argument("file", type=Path)
    e.add_argument(
        "--since",
        default=None,
        help="only events after this number (printed by the previous export) or since a local time "
        "like 2017-12-02T08:00",
    )
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_bundle_export)
    i = bsub.add_parser("import", help="merge a bundle file into this station (safe to repeat)")
    i.add_argument("file", type=Path)
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_bundle_import)

    p = sub.add_parser(
        "provision",
        help="enrol a new station: a join file (or a ticket on the hub) and a one-time code",
        description="Makes the new station's key and root-signed certificate and locks them, with "
        "the events so far, under a one-time join code printed here. Give the file and "
        "the code to the new station's operator by different ways (the code on paper).",
    )
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--name", required=True, help="the new station's name, e.g. 'Melia bus stop'")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, default=None, help="write a join file here (e.g. on a USB stick)")
    where.add_argument("--hub", default=None, metavar="URL", help="leave the ticket on this hub instead")
    p.add_argument(
        "--operator",
        required=True,
        metavar="SUPERVISOR",
        help="the supervisor provisioning (passphrase from $REGDESK_PIN or asked)",
    )
    p.add_argument("--root-key", type=Path, default=None, help="the exported root key, when it is kept offline")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_provision)

    p = sub.add_parser("join", help="become a station of a meeting: from a join file or a hub, with the join code")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="join_file", type=Path, default=None, metavar="FILE")
    src.add_argument("--hub", default=None, metavar="URL")
    p.add_argument("--role", choices=ROLES, default=None, help="refuse unless the ticket is for this role")
    p.add_argument(
        "--expect-root",
        default=None,
        metavar="FINGERPRINT",
        help="refuse unless the meeting's root has this fingerprint (as shown by the supervisor)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_join)

    p = sub.add_parser("conflicts", help="list conflicts found after merging (duplicate badges, quotas)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_conflicts)

    p = sub.add_parser("resolve", help="record a supervisor's decision on a conflict")
    p.add_argument("key", help="conflict key as listed, e.g. badge:CH-1 or 'quota:MS:Switzerland'")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--keep",
        action="append",
        default=[],
        metavar="SERIAL",
        help="badge that stays valid (repeatable); the others are revoked",
    )
    how.add_argument("--revoke", action="append", default=[], metavar="SERIAL", help="badge to revoke (repeatable)")
    how.add_argument("--keep-all", action="store_true", help="accept: every badge stays valid")
    p.add_argument("--reason", required=True)
    p.add_argument(
        "--operator", required=True, help="supervisor recording the decision (passphrase from $REGDESK_PIN or asked)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_resolve)


# --- sync ----------------------------------------------------------------------------------------


def _print_report(report: sync.SyncReport, station: Station, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "hub": report.hub,
                "hub_id": report.hub_id,
                "pushed": report.pushed,
                "pulled": report.pulled,
                "added": report.added,
                "waiting": report.waiting,
                "finished_at": report.finished_at.isoformat(),
            }
        )
    else:
        when = station.config.local(report.finished_at).strftime("%H:%M:%S")
        print(
            f"{when} synced with {report.hub}: sent {report.pushed}, received {report.pulled} "
            f"({report.added} new), waiting {report.waiting}"
        )


def cmd_sync(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        url = args.hub or station.setting(sync.SETTING_HUB_URL)
        if not url:
            raise CommandError("no hub: give --hub postgresql+psycopg://user@host:5432/db (add --remember to save it)")
        try:
            hub = sync.Hub(url)
        except sync.SyncError as exc:
            raise CommandError(str(exc)) from None
        if args.remember:
            station.set_setting(sync.SETTING_HUB_URL, url)
        with hub:
            while True:
                try:
                    _print_report(sync.sync_once(station, hub), station, args.json)
                except sync.HubUnreachable as exc:
                    if args.once:
                        raise CommandError(f"{exc}; this station keeps working offline", exit_code=4) from None
                    print(f"offline: {exc}; retrying in {args.interval:g} s")
                except sync.SyncError as exc:
                    raise CommandError(str(exc)) from None
                if args.once:
                    return 0
                time.sleep(args.interval)
    finally:
        station.close()


# --- bundles -------------------------------------------------------------------------------------


def cmd_bundle_export(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        result = bundles.export_bundle(station, args.file, since=args.since)
    except bundles.BundleError as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    if args.json:
        emit_json({"file": str(result.path), "events": result.count, "next_since": result.through_local_order})
    else:
        print(f"{result.count} events written to {result.path}")
        print(f"Next time, `regdesk bundle export FILE --since {result.through_local_order}` writes only newer ones")
    return 0


def cmd_bundle_import(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        result = bundles.import_bundle(station, args.file)
    except bundles.BundleError as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    if args.json:
        emit_json(
            {
                "file": str(result.path),
                "received": result.received,
                "added": result.added,
                "from_station": result.from_station,
                "left_out": result.left_out,
                "newer": result.newer,
            }
        )
    else:
        print(f"{result.path}: {result.received} events from {result.from_station}, {result.added} new here")
        if result.left_out:
            print(
                f"{plural(result.left_out, 'event was', 'events were')} left out: recorded by a revoked station "
                "after its cut-off (a security alert tells the supervisors which)"
            )
        if result.newer:
            print(
                f"{plural(result.newer, 'event was', 'events were')} left out: made by a newer regdesk; update "
                "this station and import the bundle again (a security alert tells the supervisors which)"
            )
    return 0


# --- provisioning --------------------------------------------------------------------------------


def cmd_provision(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        by = signed_in(station, args.operator, authority.Act.PROVISION_STATION)
        root_passphrase = read_secret("root passphrase", ENV_ROOT)
        hub = sync.Hub(args.hub) if args.hub else None
        try:
            result = provisioning.provision(
                station,
                role=args.role,
                name=args.name,
                by=by,
                root_passphrase=root_passphrase,
                root_key_file=args.root_key,
                out=args.out,
                hub=hub,
            )
        finally:
            if hub is not None:
                hub.close()
    finally:
        station.close()
    if args.json:
        emit_json(
            {
                "file": str(result.join_file or ""),
                "role": result.role,
                "name": result.name,
                "station_id": result.station_id,
                "events": result.events,
                "code": result.code,
                "root_fingerprint": result.root_fingerprint,
            }
        )
    else:
        where = (
            f"join file {result.join_file} ({result.events} events, locked)"
            if result.join_file
            else f"a ticket on hub {sync.display_url(args.hub)}"
        )
        print(f"{result.name} ({result.role}) enrolled: {where}.")
        print(f"Join code (give it separately, e.g. on paper; it works once): {result.code}")
        print(f"Root fingerprint the new station must show: {result.root_fingerprint}")
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    code = read_secret("join code", ENV_JOIN_CODE)
    result = provisioning.join_station(
        args.data_dir,
        code=code,
        join_file=args.join_file,
        hub_url=args.hub,
        role=args.role,
        expect_root=args.expect_root,
        clock=_join_clock(args),
    )
    station = result.station
    try:
        if args.json:
            emit_json(
                {
                    "station_id": station.station_id,
                    "name": station.name,
                    "role": station.role,
                    "data_dir": str(station.data_dir),
                    "events": result.events_received,
                    "key_id": station.key_id,
                    "source": result.source,
                    "root_fingerprint": station.root_fingerprint,
                }
            )
        else:
            print(
                f"Station {station.name} ({station.role}) created in {station.data_dir} from {result.source}: "
                f"{result.events_received} events verified"
            )
            print(f"Meeting root: {station.root_fingerprint} (check it matches the supervisor's screen)")
            if station.key_id:
                print(
                    f"New badge-signing key {station.key_id} made here; its public half reaches the scan points "
                    "with the next sync"
                )
    finally:
        station.close()
    return 0


def _join_clock(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """--clock before the station exists: its time zone is the meeting's, read from the ticket."""
    if not getattr(args, "clock", None):
        return None
    try:
        parse_clock_arg(args.clock, ZoneInfo("UTC"))
    except ValueError:
        raise CommandError(f"--clock {args.clock!r} is not an ISO date-time (e.g. 2017-12-01T13:05)") from None
    return lambda zone: clock_from_arg(args.clock, zone)


# --- conflicts -----------------------------------------------------------------------------------


def cmd_conflicts(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        found = conflicts.list_conflicts(station)
    finally:
        station.close()
    if args.json:
        emit_json([c.as_json() for c in found])
        return 0
    if not found:
        print("No open conflicts.")
        return 0
    for conflict in found:
        print(f"{conflict.key}\n  {conflict.summary}")
        for side in conflict.sides:
            print(
                f"    {side.serial}  {side.participant_name} ({side.participant_id})  issued {side.issued_local} "
                f"at {side.station_name} by {side.operator}"
            )
    print(f"\n{len(found)} open. Resolve with: regdesk resolve KEY --keep SERIAL --reason TEXT --operator NAME")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        signed_in(station, args.operator, authority.Act.RESOLVE_CONFLICT)
        resolution = conflicts.resolve(
            station,
            args.key,
            reason=args.reason,
            operator=args.operator,
            keep=args.keep,
            revoke=args.revoke,
            keep_all=args.keep_all,
        )
    except conflicts.ConflictError as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    if args.json:
        emit_json(
            {
                "key": resolution.key,
                "decision": resolution.decision,
                "revoked": list(resolution.revoked_serials),
                "kept": list(resolution.kept_serials),
            }
        )
    else:
        print(f"{resolution.key}: {resolution.decision}.")
        if resolution.revoked_serials:
            print(f"Revoked {', '.join(resolution.revoked_serials)}; scan points deny them after their next sync.")
    return 0
