"""`regdesk issue` (one badge, or a batch collected by a focal point), `regdesk idcheck`, `regdesk reprint`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from regdesk.commands.common import ENV_SUPERVISOR, CommandError, emit_json, read_secret, signed_in, station_from_args
from regdesk.domain.authority import Act
from regdesk.render.layouts import LayoutError
from regdesk.render.printing import valid_printer_name
from regdesk.services import desk, printers


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "issue",
        help="issue (and print) a badge for an accredited participant, or a batch "
        "collected by a delegation's focal point (--collector)",
    )
    p.add_argument(
        "accreditation_id",
        nargs="+",
        metavar="ID",
        help="the participant; several with --collector: the members whose badges are collected",
    )
    p.add_argument("--operator", required=True, help="the clerk issuing (PIN from $REGDESK_PIN or asked)")
    p.add_argument(
        "--id-check",
        default=None,
        metavar="TYPE:LAST4",
        help="record the identity document checked now, e.g. passport:1234",
    )
    p.add_argument("--replace", action="store_true", help="replace a lost badge (the old one is revoked)")
    p.add_argument(
        "--override-by",
        default=None,
        metavar="SUPERVISOR",
        help="supervisor overriding a window/quota/duplicate rule (passphrase from $REGDESK_SUPERVISOR_PIN or asked)",
    )
    p.add_argument("--override-reason", default=None)
    p.add_argument("--out", type=Path, default=None, help="write the badge PDF here")
    p.add_argument("--layout", default=None, help="badge layout name (cr80, a6, label-4x3, a4-4up)")
    p.add_argument("--no-print", action="store_true", help="record the badge without rendering/printing")
    p.add_argument(
        "--collector",
        default=None,
        metavar="COLLECTOR_ID",
        help="a focal point (or the head) collects these members' badges: their accreditation id; "
        "--id-check is then the collector's document",
    )
    p.add_argument(
        "--authorisation",
        default=None,
        metavar="TEXT",
        help="with --collector: reference of the note verbale or letter authorising the collection",
    )
    p.add_argument(
        "--skip-refused",
        action="store_true",
        help="with --collector: issue the members who can be issued and report the others "
        "(default: a batch with any refusal is refused whole)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_issue)

    p = sub.add_parser("idcheck", help="record an identity check from what a passport reader typed (its MRZ)")
    p.add_argument("accreditation_id")
    p.add_argument(
        "--mrz-file",
        required=True,
        type=Path,
        metavar="FILE",
        help="the MRZ lines as the reader typed them ('-' for standard input)",
    )
    p.add_argument(
        "--operator",
        default=None,
        help="the clerk recording the check (PIN from $REGDESK_PIN or asked); without it the "
        "document is only read and compared, nothing is recorded",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_idcheck)

    p = sub.add_parser("reprint", help="render and print an issued badge again")
    p.add_argument("serial")
    p.add_argument("--operator", required=True, help="the clerk reprinting (PIN from $REGDESK_PIN or asked)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--layout", default=None)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--printer", default=None, help="print on this CUPS queue instead of the station's printer")
    where.add_argument("--second", action="store_true", help="print on the station's second printer")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_reprint)


def cmd_issue(args: argparse.Namespace) -> int:
    ids = args.accreditation_id
    if args.collector is not None or len(ids) > 1:
        return cmd_issue_batch(args)
    if args.authorisation or args.skip_refused:
        raise CommandError("--authorisation and --skip-refused go with --collector (a focal point's collection)")
    args.accreditation_id = ids[0]
    station = station_from_args(args)
    try:
        desk.require_signing_key(station)  # before anything is asked or recorded
        signed_in(station, args.operator, Act.ISSUE_BADGE)
        if args.id_check:
            doc_type, _, number = args.id_check.partition(":")
            desk.record_identity_check(station, args.accreditation_id, doc_type, number, args.operator)
        override = None
        if args.override_by:
            override = desk.OverrideRequest(
                args.override_by,
                read_secret(f"passphrase for supervisor {args.override_by}", ENV_SUPERVISOR),
                args.override_reason or "",
            )
        try:
            badge = desk.issue_badge(
                station, args.accreditation_id, operator=args.operator, replace=args.replace, override=override
            )
        except desk.IssueRefused as refused:
            if args.json:
                emit_json(
                    {
                        "issued": False,
                        "reason": str(refused.refusal),
                        "message": str(refused),
                        "overridable": refused.overridable,
                        "all_reasons": [str(r) for r in refused.all_refusals],
                        "all_messages": list(refused.all_messages),
                    }
                )
            else:
                print(f"NOT ISSUED: {refused}")
                for other in refused.all_messages[1:]:
                    print(f"  also: {other}")
                if refused.overridable:
                    print("  A supervisor may override: add --override-by NAME --override-reason TEXT.")
            return 3
        result = {
            "issued": True,
            "badge_serial": badge.serial,
            "token": badge.token,
            "issue_no": badge.issue_no,
            "accreditation_id": badge.participant_id,
            "replaced_serial": badge.replaced_serial,
            "override_event_id": badge.override_event_id,
        }
        retry = f"retry with `regdesk reprint {badge.serial} --operator {args.operator}`"
        if args.no_print:
            result.update(
                pdf=None,
                printed=False,
                print_status="not_printed",
                print_message=f"Badge issued, NOT printed (--no-print); print it with `regdesk reprint "
                f"{badge.serial} --operator {args.operator}`",
            )
        else:
            try:
                outcome = desk.print_badge(
                    station, badge.serial, operator=args.operator, layout=args.layout, out=args.out
                )
                message = outcome.message
                if outcome.status == desk.NOT_PRINTED:
                    message = (
                        f"Badge issued but NOT printed (printer {outcome.printer}: {outcome.problem}). "
                        f"PDF: {outcome.pdf_path}; {retry}"
                    )
                result.update(
                    pdf=str(outcome.pdf_path),
                    printed=outcome.printed,
                    print_status=outcome.status,
                    print_message=message,
                )
            except Exception as exc:  # the badge stays issued; the clerk can reprint
                result.update(
                    pdf=None,
                    printed=False,
                    print_status="not_printed",
                    print_message=f"Badge issued but NOT printed: {exc}; {retry}",
                )
        if args.json:
            emit_json(result)
        else:
            print(f"Badge {badge.serial} issued to {badge.participant_id} (issue {badge.issue_no})")
            if result.get("print_message"):
                print(result["print_message"])
        return 0
    except desk.DeskError as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()


def cmd_issue_batch(args: argparse.Namespace) -> int:
    from regdesk.services import collection

    if args.collector is None:
        raise CommandError(
            "several accreditation ids: a batch is collected by a focal point; add --collector ID "
            "--authorisation TEXT --id-check TYPE:LAST4 (the collector's document)"
        )
    missing = [
        flag for flag, value in (("--authorisation", args.authorisation), ("--id-check", args.id_check)) if not value
    ]
    if missing:
        raise CommandError(
            f"a collection by a focal point needs {' and '.join(missing)} "
            "(the letter's reference; the collector's identity document, TYPE:LAST4)"
        )
    if args.replace or args.override_by:
        raise CommandError(
            "a focal point collects first badges only: a replacement or an override needs the "
            "person at the desk (issue ID --replace / --override-by)"
        )
    doc_type, _, number = args.id_check.partition(":")
    station = station_from_args(args)
    try:
        desk.require_signing_key(station)
        signed_in(station, args.operator, Act.ISSUE_BADGE)
        try:
            result = collection.issue_batch(
                station,
                args.accreditation_id,
                collector_id=args.collector,
                authorisation=args.authorisation,
                check=collection.CollectorCheck(doc_type, number),
                operator=args.operator,
                only_fitting=args.skip_refused,
            )
        except collection.BatchRefused as refused:
            if args.json:
                emit_json(
                    {
                        "issued": False,
                        "reason": "batch_refused",
                        "message": str(refused),
                        "members": [
                            {
                                "accreditation_id": o.participant_id,
                                "fits": o.issued,
                                "reason": o.refusal or None,
                                "message": o.message or None,
                            }
                            for o in refused.outcomes
                        ],
                    }
                )
            else:
                print("NOT ISSUED: the batch was refused; nothing was recorded.")
                for outcome in refused.outcomes:
                    print(
                        f"  {outcome.participant_id} {outcome.name}: "
                        f"{'can be issued' if outcome.issued else outcome.message}"
                    )
                print("  Leave out the members who cannot be issued, or add --skip-refused.")
            return 3
        data = result.as_json()
        serials = [o.serial for o in result.issued]
        if args.no_print:
            data.update(
                printed=False,
                print_status="not_printed",
                pdf=None,
                print_message=f"Badges issued, NOT printed (--no-print); print them with "
                f"`regdesk badge-sheet {' '.join(serials)}`",
            )
        else:
            try:
                outcome = collection.print_batch(
                    station, serials, operator=args.operator, layout=args.layout, out=args.out
                )
                data.update(
                    printed=outcome.printed,
                    print_status=outcome.status,
                    pdf=str(outcome.pdf_path),
                    print_message=outcome.message,
                )
            except Exception as exc:  # the badges stay issued; they can be printed again
                data.update(
                    printed=False,
                    print_status="not_printed",
                    pdf=None,
                    print_message=f"Badges issued but NOT printed: {exc}; print them with "
                    f"`regdesk badge-sheet {' '.join(serials)}`",
                )
    except desk.DeskError as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    if args.json:
        emit_json(data)
    else:
        print(
            f"Collected by {result.collector_name} ({result.collector_id}) for {result.delegation}, "
            f"authorised by: {result.authorisation}"
        )
        for outcome in result.outcomes:
            print(f"  {outcome.participant_id} {outcome.line()}")
        print(data["print_message"])
    return 0


def _mrz_text(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None


def cmd_idcheck(args: argparse.Namespace) -> int:
    from regdesk.services import idcheck

    text = _mrz_text(args.mrz_file)
    station = station_from_args(args)
    try:
        if args.operator:
            signed_in(station, args.operator, Act.CHECK_IDENTITY)
        try:
            document = idcheck.read(station, text)
        except idcheck.DocumentUnreadable as refused:
            if args.json:
                emit_json(
                    {
                        "recorded": False,
                        "problem": str(refused.problem),
                        "line": refused.problem.line,
                        "field": refused.problem.field,
                    }
                )
                return 3
            raise CommandError(str(refused), exit_code=3) from None
        if args.operator:
            result = idcheck.record(station, args.accreditation_id, document, args.operator)
            data = result.as_json()
            warnings, notes = result.warnings, result.notes
        else:
            _participant, names, warnings_list, notes_list = idcheck.assess(station, args.accreditation_id, document)
            warnings, notes = tuple(warnings_list), tuple(notes_list)
            data = {
                "recorded": False,
                "participant_id": args.accreditation_id,
                "document_type": document.document_type,
                "last4": document.last4,
                "expired": document.expired,
                "name_matches": names.matches,
                "warnings": list(warnings),
                "notes": list(notes),
            }
        data.update(
            format=document.format,
            expiry=document.expiry.isoformat() if document.expiry else None,
            nationality=document.nationality,
        )
    except desk.DeskError as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    if args.json:
        emit_json(data)
    else:
        done = "recorded" if data["recorded"] else "read (not recorded: no --operator)"
        print(f"Identity check {done} for {args.accreditation_id}: {document.summary()}")
        for line in warnings:
            print(f"  WARNING: {line}")
        for line in notes:
            print(f"  {line}")
    return 0


def cmd_reprint(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        signed_in(station, args.operator, Act.PRINT_BADGE)
        if args.printer is not None and not valid_printer_name(args.printer):
            raise CommandError(f"printer name {args.printer!r} is not a valid CUPS queue name (see `lpstat -p`)")
        if args.second:
            other = printers.configured(station).second
            if not other:
                raise CommandError("no second printer is set: `regdesk printer set NAME --second`")
            args.printer = other
        outcome = desk.print_badge(
            station,
            args.serial.replace("-", "").upper(),
            operator=args.operator,
            layout=args.layout,
            out=args.out,
            printer=args.printer,
        )
    except (desk.DeskError, LayoutError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    message = outcome.message
    if outcome.status == desk.NOT_PRINTED:
        message = (
            f"Badge NOT reprinted (printer {outcome.printer}: {outcome.problem}). PDF: {outcome.pdf_path}. "
            f"Retry with `regdesk reprint {args.serial} --operator {args.operator}` once the printer is back, "
            f"or add --second to use the other printer"
        )
    if args.json:
        emit_json(
            {
                "pdf": str(outcome.pdf_path),
                "printed": outcome.printed,
                "print_status": outcome.status,
                "message": message,
            }
        )
    else:
        print(message)
    return 0 if outcome.delivered else 4
