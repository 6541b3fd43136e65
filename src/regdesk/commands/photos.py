"""`regdesk photos remove ID --reason`: take a participant's photo off (desk staff, PIN as for every
recording command). Photos are added and replaced with the list: `regdesk import --photos`."""

from __future__ import annotations

import argparse

from regdesk.commands.common import CommandError, emit_json, signed_in, station_from_args
from regdesk.domain.authority import Act
from regdesk.services import photos


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("photos", help="participants' photos (added and replaced by `import --photos`)")
    psub = p.add_subparsers(dest="photos_command", metavar="ACTION", required=True)
    a = psub.add_parser("remove", help="take a participant's photo off: desk, scan points and badges stop showing it")
    a.add_argument("accreditation_id", metavar="ID")
    a.add_argument("--reason", required=True, help="why (wrong person's photo, withdrawn...): kept in the audit")
    a.add_argument("--operator", required=True, help="desk staff (PIN from $REGDESK_PIN or asked)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_remove)


def cmd_remove(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        signed_in(station, args.operator, Act.REMOVE_PHOTO)
        try:
            event_id = photos.remove_photo(station, args.accreditation_id, operator=args.operator, reason=args.reason)
        except photos.PhotoRemovalError as exc:
            raise CommandError(str(exc)) from None
        if args.json:
            emit_json({"removed": True, "accreditation_id": args.accreditation_id, "event_id": event_id})
        else:
            print(f"Photo of {args.accreditation_id} removed: other stations stop showing it once they sync")
    finally:
        station.close()
    return 0
