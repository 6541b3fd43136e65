"""`regdesk passes print|assign|void|stock`: the contingency stock of temporary passes."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from regdesk.commands.common import CommandError, emit_json, signed_in, station_from_args
from regdesk.domain.authority import Act
from regdesk.services import passes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("passes", help="temporary passes: the contingency stock for a day without the desk")
    psub = p.add_subparsers(dest="passes_command", metavar="ACTION", required=True)
    a = psub.add_parser("print", help="sign and render a day's numbered temporary passes (supervisor, on a desk)")
    a.add_argument("--day", required=True, metavar="YYYY-MM-DD", help="the one local day the passes are valid")
    a.add_argument("--count", required=True, type=int, metavar="N")
    a.add_argument("--out", type=Path, default=None, help="PDF to write (default: the station's output folder)")
    a.add_argument("--operator", required=True, help="the supervisor printing (passphrase from $REGDESK_PIN or asked)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_print)
    a = psub.add_parser("assign", help="record which person received a temporary pass (after an ID check)")
    a.add_argument(
        "serial",
        metavar="SERIAL",
        help="the number printed on the pass, e.g. TP-KQX-0012 or KQX12 (12 alone when one desk printed it)",
    )
    a.add_argument("accreditation_id", metavar="ID")
    a.add_argument(
        "--id-check",
        metavar="TYPE:LAST4",
        help="the identity document checked, e.g. passport:1234 (only the last 4 are kept)",
    )
    a.add_argument("--operator", required=True, help="the clerk assigning (PIN from $REGDESK_PIN or asked)")
    a.add_argument(
        "--reassign",
        action="store_true",
        help="supervisor: give an assigned pass to this person instead (with --reason; no --id-check needed)",
    )
    a.add_argument("--reason", default="", help="why the assignment is changed (with --reassign)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_assign)
    a = psub.add_parser("unassign", help="supervisor: take a wrongly assigned pass back to the unused stock")
    a.add_argument("serial", metavar="SERIAL")
    a.add_argument("--reason", required=True)
    a.add_argument("--operator", required=True)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_unassign)
    a = psub.add_parser("void", help="void a lost, stolen or spoilt pass: scan points deny it (supervisor)")
    a.add_argument("serial", metavar="SERIAL")
    a.add_argument("--reason", required=True)
    a.add_argument("--operator", required=True)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_void)
    a = psub.add_parser("stock", help="printed / assigned / voided / unused passes per day")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_stock)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--day {text!r} is not a date like 2017-12-04") from None


def cmd_print(args: argparse.Namespace) -> int:
    day = _day(args.day)
    station = station_from_args(args)
    try:
        signed_in(station, args.operator, Act.PRINT_PASSES)
        run = passes.print_passes(station, day=day, count=args.count, operator=args.operator, out=args.out)
        if args.json:
            emit_json(run.as_json())
        else:
            data = run.as_json()
            first, last = (passes.domain.format_pass_serial(data[k]) for k in ("first", "last"))
            print(f"{data['count']} temporary passes for {data['day']}: {first} to {last}")
            print(f"PDF: {run.pdf_path} (print it, cut along the dashed lines, keep the stock locked away)")
    finally:
        station.close()
    return 0


def _override(args: argparse.Namespace, participant_id: str) -> int:
    station = station_from_args(args)
    try:
        signed_in(station, args.operator, Act.OVERRIDE_PASS_ASSIGNMENT)
        done = passes.override_assignment(
            station, args.serial, participant_id, operator=args.operator, reason=args.reason
        )
        data = done.as_json()
        if args.json:
            emit_json(data)
        elif participant_id:
            print(f"Pass {data['pass']} re-assigned to {participant_id} (was {done.previous_participant_id})")
        else:
            print(f"Pass {data['pass']} un-assigned (was {done.previous_participant_id}): back in the unused stock")
    finally:
        station.close()
    return 0


def cmd_unassign(args: argparse.Namespace) -> int:
    return _override(args, "")


def cmd_assign(args: argparse.Namespace) -> int:
    if args.reassign:
        if not args.reason.strip():
            raise CommandError("--reassign needs --reason: say why the assignment is changed")
        return _override(args, args.accreditation_id)
    if not args.id_check:
        raise CommandError("--id-check TYPE:LAST4 is required: the identity document checked, e.g. passport:1234")
    doc_type, _, number = args.id_check.partition(":")
    station = station_from_args(args)
    try:
        signed_in(station, args.operator, Act.ASSIGN_PASS)
        assigned = passes.assign_pass(
            station,
            args.serial,
            args.accreditation_id,
            operator=args.operator,
            document_type=doc_type,
            document_number=number,
        )
        if args.json:
            emit_json(assigned.as_json())
        else:
            print(
                f"Pass {assigned.as_json()['pass']} assigned to {assigned.name} ({assigned.participant_id}) "
                f"for {assigned.day}"
            )
    finally:
        station.close()
    return 0


def cmd_void(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        signed_in(station, args.operator, Act.VOID_PASS)
        event_id = passes.void_pass(station, args.serial, operator=args.operator, reason=args.reason)
        serial = passes.parse_serial(args.serial)
        if args.json:
            emit_json({"voided": True, "serial": serial, "event_id": event_id})
        else:
            print(f"Pass {serial} voided: scan points deny it once they sync")
    finally:
        station.close()
    return 0


def cmd_stock(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        stock = passes.station_stock(station)
    finally:
        station.close()
    if args.json:
        emit_json({"days": [s.as_json() for s in stock]})
    elif not stock:
        print("No temporary passes printed.")
    else:
        for s in stock:
            print(f"{s.day}: {s.printed} printed, {s.assigned} assigned, {s.voided} voided, {s.unused} unused")
    return 0
