"""`regdesk sync`, `bundle export|import`, `provision`, `join`, `conflicts`, `resolve`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from regdesk.clock import clock_from_arg
from regdesk.commands.common import CommandError, clock_for, emit_json, station_from_args
from regdesk.config import ConfigError, parse_event_config
from regdesk.services import bundles, conflicts, provisioning, sync
from regdesk.services.station import ROLES, Station


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="exchange events with a PostgreSQL hub (push, then pull)")
    p.add_argument("--hub", default=None, metavar="URL",
                   help="postgresql+psycopg://user@host:5432/db (default: the station's saved hub_url)")
    p.add_argument("--once", action="store_true", help="one cycle, then exit (default: keep syncing)")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between cycles (default 30)")
    p.add_argument("--remember", action="store_true",
                   help="save --hub as this station's hub_url (the TUI then syncs in the background)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("bundle", help="carry events by hand (USB stick) when stations cannot reach each other")
    bsub = p.add_subparsers(dest="bundle_command", metavar="ACTION", required=True)
    e = bsub.add_parser("export", help="write this station's events to a bundle file")
    e.add_argument("file", type=Path)
    e.add_argument("--since", default=None,
                   help="only events after this number (printed by the previous export) or since a local time "
                        "like 2017-12-02T08:00")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_bundle_export)
    i = bsub.add_parser("import", help="merge a bundle file into this station (safe to repeat)")
    i.add_argument("file", type=Path)
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_bundle_import)

    p = sub.add_parser("provision", help="write a join file for a new station (no private keys inside)")
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_provision)

    p = sub.add_parser("join", help="create a station in --data-dir from a join file or a hub")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="join_file", type=Path, default=None, metavar="FILE")
    src.add_argument("--hub", default=None, metavar="URL")
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument("--name", default=None, help="station name, e.g. 'Melia bus stop'")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_join)

    p = sub.add_parser("conflicts", help="list conflicts found after merging (duplicate badges, quotas)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_conflicts)

    p = sub.add_parser("resolve", help="record a supervisor's decision on a conflict")
    p.add_argument("key", help="conflict key as listed, e.g. badge:CH-1 or 'quota:MS:Switzerland'")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--keep", action="append", default=[], metavar="SERIAL",
                     help="badge that stays valid (repeatable); the others are revoked")
    how.add_argument("--revoke", action="append", default=[], metavar="SERIAL", help="badge to revoke (repeatable)")
    how.add_argument("--keep-all", action="store_true", help="accept: every badge stays valid")
    p.add_argument("--reason", required=True)
    p.add_argument("--operator", required=True, help="supervisor recording the decision")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_resolve)


# --- sync ----------------------------------------------------------------------------------------


def _print_report(report: sync.SyncReport, station: Station, as_json: bool) -> None:
    if as_json:
        emit_json({"hub": report.hub, "hub_id": report.hub_id, "pushed": report.pushed, "pulled": report.pulled,
                   "added": report.added, "waiting": report.waiting,
                   "finished_at": report.finished_at.isoformat()})
    else:
        when = station.config.local(report.finished_at).strftime("%H:%M:%S")
        print(f"{when} synced with {report.hub}: sent {report.pushed}, received {report.pulled} "
              f"({report.added} new), waiting {report.waiting}")


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
        emit_json({"file": str(result.path), "received": result.received, "added": result.added,
                   "from_station": result.from_station})
    else:
        print(f"{result.path}: {result.received} events from {result.from_station}, {result.added} new here")
    return 0


# --- provisioning --------------------------------------------------------------------------------


def cmd_provision(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        result = provisioning.create_join_file(station, args.out, args.role)
    except (provisioning.ProvisioningError, bundles.BundleError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    if args.json:
        emit_json({"file": str(result.path), "role": args.role, "events": result.count})
    else:
        print(f"Join file for a {args.role} station written to {result.path} ({result.count} events, owner-only).")
        print("It holds personal data and PIN hashes but no private key: hand it over in person.")
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    clock = _join_clock(args)
    try:
        result = provisioning.join_station(args.data_dir, role=args.role, join_file=args.join_file,
                                           hub_url=args.hub, name=args.name, clock=clock)
    except provisioning.ProvisioningError as exc:
        raise CommandError(str(exc)) from None
    station = result.station
    try:
        if args.json:
            emit_json({"station_id": station.station_id, "name": station.name, "role": station.role,
                       "data_dir": str(station.data_dir), "events": result.events_received,
                       "key_id": station.key_id, "source": result.source})
        else:
            print(f"Station {station.name} ({station.role}) created in {station.data_dir} from {result.source}: "
                  f"{result.events_received} events")
            if station.key_id:
                print(f"New signing key {station.key_id} made here; its public half reaches the scan points "
                      "with the next sync")
    finally:
        station.close()
    return 0


def _join_clock(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """--clock needs the event's time zone before the station exists: read it from the join file."""
    if not getattr(args, "clock", None):
        return clock_for(args)
    if args.join_file is None:
        raise CommandError("--clock with join --hub: join first, then pass --clock to later commands")
    try:
        header = bundles.read_header(args.join_file, formats=(bundles.JOIN_FORMAT,))
        zone = parse_event_config(str(header.get("event_toml", "")), str(args.join_file)).zone
        return clock_from_arg(args.clock, zone)
    except (bundles.BundleError, ConfigError) as exc:
        raise CommandError(str(exc)) from None
    except ValueError:
        raise CommandError(f"--clock {args.clock!r} is not an ISO date-time (e.g. 2017-12-01T13:05)") from None


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
            print(f"    {side.serial}  {side.participant_name} ({side.participant_id})  issued {side.issued_local} "
                  f"at {side.station_name} by {side.operator}")
    print(f"\n{len(found)} open. Resolve with: regdesk resolve KEY --keep SERIAL --reason TEXT --operator NAME")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        resolution = conflicts.resolve(station, args.key, reason=args.reason, operator=args.operator,
                                       keep=args.keep, revoke=args.revoke, keep_all=args.keep_all)
    except conflicts.ConflictError as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    if args.json:
        emit_json({"key": resolution.key, "decision": resolution.decision,
                   "revoked": list(resolution.revoked_serials), "kept": list(resolution.kept_serials)})
    else:
        print(f"{resolution.key}: {resolution.decision}.")
        if resolution.revoked_serials:
            print(f"Revoked {', '.join(resolution.revoked_serials)}; scan points deny them after their next sync.")
    return 0
