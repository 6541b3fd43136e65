"""`regdesk import FILE` (refresh the accreditation mirror) and `regdesk search QUERY`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from regdesk.commands.common import CommandError, emit_json, signed_in, station_from_args
from regdesk.domain import authority
from regdesk.domain.token import format_serial
from regdesk.services import accreditation, lookup, photos
from regdesk.services.station import Station

SHOWN_PER_LIST = 20  # the text report names this many participants per list; --json has them all


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import",
        help="import or refresh the accreditation list from the UN export (CSV or XLSX)",
        description="Validates the whole export first: one bad row and nothing is imported. "
        "Participants missing from a newer export are withdrawn; badges and scans are "
        "never touched.",
    )
    p.add_argument(
        "file",
        type=Path,
        nargs="?",
        default=None,
        help="the export, .csv (UTF-8, comma or semicolon) or .xlsx (may be left out with --photos)",
    )
    p.add_argument(
        "--photos",
        type=Path,
        default=None,
        metavar="DIR|ZIP",
        help="a folder or ZIP of photos named by accreditation id (A00042.jpg, .png, .webp), imported "
        "with the list (both or neither); alone, it imports or refreshes the photos only",
    )
    p.add_argument(
        "--operator",
        default=None,
        metavar="NAME",
        help="the clerk or supervisor importing (PIN from $REGDESK_PIN or asked); not needed with --dry-run",
    )
    p.add_argument("--dry-run", action="store_true", help="validate and show the changes without importing")
    p.add_argument(
        "--allow-mass-withdrawal",
        action="store_true",
        help="accept an export that leaves out a large part of the current list (they are withdrawn)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser(
        "search", help="find participants by name, delegation, accreditation id, badge serial or confirmation code"
    )
    p.add_argument("query", nargs="+", help="words to look for (quotes optional)")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)


def _operator(args: argparse.Namespace, station: Station) -> str:
    """The clerk or supervisor importing, signed in; a dry run records nothing and needs nobody."""
    if args.dry_run:
        return authority.SYSTEM
    if not args.operator:
        raise CommandError("say who imports: --operator NAME (their PIN from $REGDESK_PIN or asked)")
    return signed_in(station, args.operator, authority.Act.IMPORT_ACCREDITATION).name


def _labels(station: Station, ids: list[str]) -> dict[str, str]:
    hits = lookup.hits_for(station, ids) if ids else []
    return {h.accreditation_id: f"{h.name_latin or h.name} ({h.delegation})" for h in hits}


def _print_list(title: str, ids: list[str], labels: dict[str, str], extra: str = "") -> None:
    if not ids:
        return
    print(f"{title} ({len(ids)}){extra}:")
    for aid in ids[:SHOWN_PER_LIST]:
        print(f"  {aid}  {labels.get(aid, '')}".rstrip())
    if len(ids) > SHOWN_PER_LIST:
        print(f"  ... and {len(ids) - SHOWN_PER_LIST} more (see --json)")


def _print_photos(report: photos.PhotoReport, dry_run: bool) -> None:
    c = report.counts
    verb = "Would import photos" if dry_run else "Photos"
    print(
        f"{verb} from {report.source} ({c['files']} files): {c['added']} added, {c['replaced']} replaced, "
        f"{c['unchanged']} unchanged" + (f" ({c['stored_bytes'] / 1024:,.0f} KB stored)" if c["stored_bytes"] else "")
    )
    for note in report.notes:
        print(f"Note: {note}")


def cmd_import(args: argparse.Namespace) -> int:
    if args.file is None and args.photos is None:
        raise CommandError("say what to import: the export file, --photos DIR|ZIP, or both")
    station = station_from_args(args)
    try:
        photo_report = None
        try:
            if args.photos is not None:
                report, photo_report = photos.import_with_list(
                    station,
                    args.file,
                    args.photos,
                    operator=_operator(args, station),
                    dry_run=args.dry_run,
                    allow_mass_withdrawal=args.allow_mass_withdrawal,
                )
            else:
                report = accreditation.import_file(
                    station,
                    args.file,
                    operator=_operator(args, station),
                    dry_run=args.dry_run,
                    allow_mass_withdrawal=args.allow_mass_withdrawal,
                )
        except photos.PhotoImportError as exc:
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            count = len(exc.problems)
            print(
                f"regdesk: {count} photo problem{'s' if count != 1 else ''} in {args.photos}; nothing was imported",
                file=sys.stderr,
            )
            return 2
        except accreditation.AccreditationImportError as exc:
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            count = len(exc.problems)
            print(
                f"regdesk: {count} problem{'s' if count != 1 else ''} in {args.file}; nothing was imported",
                file=sys.stderr,
            )
            return 2
        if args.json:
            data = report.as_json() if report is not None else {}
            if photo_report is not None:
                data["photos"] = photo_report.as_json()
            data["dry_run"] = args.dry_run
            emit_json(data)
            return 0
        if report is None:
            assert photo_report is not None
            _print_photos(photo_report, args.dry_run)
            if args.dry_run:
                print("Dry run: nothing was recorded.")
            return 0
        counts = report.counts
        verb = "Would import" if args.dry_run else "Imported"
        print(
            f"{verb} {report.source} ({report.file_format.upper()}, {report.total_rows} participants): "
            f"{counts['added']} added, {counts['changed']} changed, {counts['withdrawn']} withdrawn, "
            f"{counts['reinstated']} reinstated, {counts['unchanged']} unchanged"
        )
        shown = [
            *report.added[:SHOWN_PER_LIST],
            *list(report.changed)[:SHOWN_PER_LIST],
            *report.withdrawn[:SHOWN_PER_LIST],
            *report.reinstated[:SHOWN_PER_LIST],
        ]
        labels = _labels(station, list(dict.fromkeys(shown))) if not args.dry_run else {}
        _print_list("Added", report.added, labels)
        if report.changed:
            print(f"Changed ({len(report.changed)}):")
            for aid, changes in list(report.changed.items())[:SHOWN_PER_LIST]:
                what = "; ".join(f"{c.field}: {c.old!r} -> {c.new!r}" for c in changes)
                print(f"  {aid}  {labels.get(aid, '')}  {what}")
            if len(report.changed) > SHOWN_PER_LIST:
                print(f"  ... and {len(report.changed) - SHOWN_PER_LIST} more (see --json)")
        _print_list(
            "Withdrawn",
            report.withdrawn,
            labels,
            f", {len(report.dropped)} of them missing from this export" if report.dropped else "",
        )
        _print_list("Reinstated", report.reinstated, labels)
        for note in report.notes:
            print(f"Note: {note}")
        if photo_report is not None:
            _print_photos(photo_report, args.dry_run)
        if args.dry_run:
            print("Dry run: nothing was recorded.")
        return 0
    finally:
        station.close()


def cmd_search(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        hits = lookup.search(station, " ".join(args.query), limit=max(1, args.limit))
    finally:
        station.close()
    if args.json:
        emit_json([h.as_json() for h in hits])
        return 0
    if not hits:
        print("No participant found.")
        return 0
    for h in hits:
        name = h.name if h.name == h.name_latin else f"{h.name} / {h.name_latin}"
        badge = f"  badge {format_serial(h.badge_serial)}" if h.badge_serial else ""
        role = " (head)" if h.delegation_role == "head" else ""
        print(f"{h.accreditation_id}  {name}  {h.delegation}{role}  [{h.category}]  {h.status}{badge}")
    return 0
