"""`regdesk rotate-key`, `regdesk backup`, `regdesk restore`, `regdesk audit`, `regdesk check`.

Commands that need a person's authority (rotating the signing key, reading the audit) ask for
that operator's PIN: from $REGDESK_PIN, else prompted (or one line of standard input when it is
not a terminal). PINs are never accepted as command-line arguments: they would stay in the
shell history and the process list.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from regdesk.commands.common import CommandError, clock_for, emit_json, signed_in, station_from_args
from regdesk.domain.authority import Act
from regdesk.services import audit, backup, integrity, keys, operators, preflight

RESTORE_HELP = """\
Procedure: 1) stop the station (quit the TUI, no regdesk command running on this data dir);
2) run `regdesk restore BACKUP_FILE` (a file in DATA_DIR/backups/, by name or path).
The backup is verified first; the current database is kept as station.db.before-restore;
the restored station continues under a new station id (same name), so nothing it records now
can collide with events it made after the backup. Run `regdesk sync` afterwards: the events
recorded after the backup come back from the other stations."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rotate-key", help="desk: start signing badges with a new key (supervisor)")
    p.add_argument("--operator", required=True, help="supervisor doing the rotation (PIN from $REGDESK_PIN or asked)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_rotate_key)

    p = sub.add_parser("backup", help="back up the station database now (verified copy in DATA_DIR/backups)")
    p.add_argument("--list", action="store_true", help="list the backups instead, newest first")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser(
        "restore",
        help="put a backup back as the station database",
        description=RESTORE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("backup_file", help="backup file: a path, or a name in DATA_DIR/backups/")
    p.add_argument(
        "--force",
        action="store_true",
        help="restore even if the station seems to be running or the backup is of another station",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("audit", help="supervisors: the event log, newest first, with what each event changed")
    p.add_argument(
        "--as",
        dest="viewer",
        required=True,
        metavar="SUPERVISOR",
        help="the supervisor reading the audit (PIN from $REGDESK_PIN or asked)",
    )
    p.add_argument("--kind", default=None, help="event kind or its beginning, e.g. badge_issued or badge")
    p.add_argument("--operator", default=None, help="operator name (part of it)")
    p.add_argument("--station", default=None, help="station name (part of it) or id")
    p.add_argument("--day", default=None, help="local day YYYY-MM-DD")
    p.add_argument("--text", default=None, help="accreditation id, badge serial, or other text in the event")
    p.add_argument("--limit", type=int, default=audit.DEFAULT_LIMIT)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("check", help="integrity check: database, event log invariants, projections vs a rebuild")
    p.add_argument("--quick", action="store_true", help="skip the rebuild comparison")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_check)


def cmd_rotate_key(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        signed_in(station, args.operator, Act.ROTATE_KEY)
        old = station.key_id
        try:
            kid = keys.rotate_key(station, args.operator)
        except keys.KeyRotationError as exc:
            raise CommandError(str(exc), exit_code=4) from None
    finally:
        station.close()
    if args.json:
        emit_json({"key_id": kid, "previous_key_id": old})
    else:
        print(f"New signing key {kid} in use (previous key {old}: its badges stay valid until revoked).")
        print("Scan points learn the new key at their next sync; until then they answer 'unknown key' for new badges.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    if args.list:
        found = backup.list_backups(args.data_dir)
        if args.json:
            emit_json([{"path": str(p), "bytes": p.stat().st_size} for p in found])
        else:
            for path in found:
                print(f"{path.name}\t{path.stat().st_size:,} bytes")
            if not found:
                print("no backups yet")
        return 0
    station = station_from_args(args)
    try:
        path = backup.backup_now(station)
    except (backup.BackupError, OSError) as exc:
        raise CommandError(f"backup failed: {exc}", exit_code=1) from None
    finally:
        station.close()
    if args.json:
        emit_json({"path": str(path), "bytes": path.stat().st_size, "integrity": "ok"})
    else:
        print(f"Backup written and verified: {path}")
    return 0


def _backup_path(args: argparse.Namespace) -> Path:
    given = Path(args.backup_file)
    if given.exists():
        return given
    in_folder = Path(args.data_dir) / "backups" / given.name
    if in_folder.exists():
        return in_folder
    raise CommandError(f"{args.backup_file}: no such backup (see `regdesk backup --list`)")


def cmd_restore(args: argparse.Namespace) -> int:
    path = _backup_path(args)
    try:
        report = backup.restore(path, args.data_dir, force=args.force, clock=clock_for(args))
    except backup.BackupError as exc:
        raise CommandError(f"restore refused: {exc}") from None
    if args.json:
        emit_json(
            {
                "restored": str(report.backup),
                "previous_saved_as": str(report.previous_saved_as or ""),
                "old_station_id": report.old_station_id,
                "new_station_id": report.new_station_id,
                "events_in_backup": report.events_in_backup,
                "notes": report.notes,
            }
        )
    else:
        print(f"Restored {report.backup.name} ({report.events_in_backup} events).")
        if report.previous_saved_as:
            print(f"The database as it was is kept in {report.previous_saved_as}.")
        print(f"This station now records under a new station id {report.new_station_id[:8]}.")
        for note in report.notes:
            print(f"Note: {note}.")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    try:
        day = date.fromisoformat(args.day) if args.day else None
    except ValueError:
        raise CommandError(f"--day {args.day!r}: write the local day as YYYY-MM-DD") from None
    filters = audit.AuditFilter(kind=args.kind, operator=args.operator, station=args.station, day=day, text=args.text)
    station = station_from_args(args)
    try:
        role = signed_in(station, args.viewer, Act.READ_AUDIT).role
        try:
            rows = audit.list_audit(station, filters, viewer_role=role, limit=args.limit)
        except operators.NotAllowed as exc:
            raise CommandError(str(exc), exit_code=4) from None
    finally:
        station.close()
    for row in rows:
        if args.json:
            emit_json(row.as_json())
        else:
            print(f"{row.local_time}  {row.station:<18.18}  {row.operator:<16.16}  {row.kind:<22}  {row.summary}")
    if not rows and not args.json:
        print("no events match")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    if not (Path(args.data_dir) / "station.db").exists():
        raise CommandError(f"{args.data_dir} holds no station")
    preflight.check_station_folder(Path(args.data_dir))  # an empty or cut-short file: one line, untouched
    report = integrity.check_station(args.data_dir, rebuild=not args.quick)
    if args.json:
        emit_json(report.as_json())
    else:
        print(f"integrity_check: {report.integrity}")
        print(
            f"events: {report.events} from {report.stations} station(s); "
            f"projections compared with a rebuild: {report.tables_compared}"
        )
        for note in report.notes:
            print(f"note: {note}")
        for problem in report.problems:
            print(f"PROBLEM: {problem}")
        print("OK" if report.ok else "FAILED")
    return 0 if report.ok else 1
