"""`regdesk printer set|clear|show`, `regdesk layout set|show|list`, `regdesk badge-sheet`.

The printer (and an optional second printer the desk can switch a badge to) and the badge layout are
station settings; `issue` and `reprint` use them. `printer show` also asks CUPS how each is doing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from regdesk.commands.common import CommandError, emit_json, station_from_args
from regdesk.render.layouts import LayoutError, SheetLayout, available_layouts, load_layout
from regdesk.render.printing import printer_status, valid_printer_name
from regdesk.services import printers
from regdesk.store import files

PRINTER_SETTING = printers.PRINTER_SETTING
SECOND_PRINTER_SETTING = printers.SECOND_PRINTER_SETTING
LAYOUT_SETTING = "badge_layout"
DEFAULT_LAYOUT = "a6"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("printer", help="the CUPS printer badges go to (none: PDFs are saved to the output folder)")
    psub = p.add_subparsers(dest="printer_command", metavar="ACTION", required=True)
    a = psub.add_parser("set", help="print badges on this CUPS queue (see `lpstat -p`)")
    a.add_argument("name")
    a.add_argument(
        "--second",
        action="store_true",
        help="the other printer: the desk sends a badge there with one key (ctrl+o) when the main one fails",
    )
    a.set_defaults(func=cmd_printer_set)
    a = psub.add_parser("clear", help="stop printing; save badge PDFs to the output folder")
    a.add_argument("--second", action="store_true", help="forget only the second printer")
    a.set_defaults(func=cmd_printer_clear)
    a = psub.add_parser("show", help="show the printers (and how CUPS says they are doing) and the layout")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_printer_show)

    p = sub.add_parser("layout", help="the badge layout (badges/<name>.toml)")
    lsub = p.add_subparsers(dest="layout_command", metavar="ACTION", required=True)
    a = lsub.add_parser("set", help="use this layout for issued and reprinted badges")
    a.add_argument("name", help="e.g. a6, cr80, label-4x3, a4-4up")
    a.set_defaults(func=cmd_layout_set)
    a = lsub.add_parser("show", help="show the layout in use")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_printer_show)
    a = lsub.add_parser("list", help="list the available layouts")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_layout_list)

    p = sub.add_parser("badge-sheet", help="render issued badges together, e.g. four A6 to an A4 page")
    p.add_argument("serials", nargs="+", metavar="SERIAL")
    p.add_argument("--layout", default="a4-4up")
    p.add_argument("--out", type=Path, default=None, help="PDF to write (default: the station's output folder)")
    p.set_defaults(func=cmd_badge_sheet)


def cmd_printer_set(args: argparse.Namespace) -> int:
    name = args.name.strip()
    if not valid_printer_name(name):
        raise CommandError(
            f"printer name {args.name!r}: a CUPS queue name has no spaces, '/', '#' or quotes "
            f"and does not start with '-' (list them with `lpstat -p`)"
        )
    station = station_from_args(args)
    try:
        station.set_setting(SECOND_PRINTER_SETTING if args.second else PRINTER_SETTING, name)
    finally:
        station.close()
    print(f"The other printer is {name} (ctrl+o at the desk)" if args.second else f"Badges will print on {name}")
    return 0


def cmd_printer_clear(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        station.set_setting(SECOND_PRINTER_SETTING, "")
        if not args.second:
            station.set_setting(PRINTER_SETTING, "")
        out = station.output_dir
    finally:
        station.close()
    print("No second printer" if args.second else f"No printer: badge PDFs will be saved to {out}")
    return 0


def cmd_printer_show(args: argparse.Namespace) -> int:
    station = station_from_args(args)
    try:
        chosen = printers.configured(station)
        layout = station.setting(LAYOUT_SETTING, DEFAULT_LAYOUT)
        out = station.output_dir
    finally:
        station.close()
    show_state = getattr(args, "printer_command", None) == "show"  # `layout show` does not ask CUPS
    states = {name: printer_status(name) for name in (chosen.main, chosen.second) if name and show_state}
    if args.json:
        result: dict[str, object] = {
            "printer": chosen.main or None,
            "second_printer": chosen.second or None,
            "layout": layout,
            "output_dir": str(out),
        }
        if show_state:
            result["printer_states"] = [
                {
                    "printer": s.name,
                    "state": s.state,
                    "condition": s.condition,
                    "reasons": list(s.reasons),
                    "message": s.message,
                    "queued": s.queued,
                    "job_problem": s.job_problem,
                    "ready": s.ready,
                }
                for s in states.values()
            ]
        emit_json(result)
    else:
        main = chosen.main or f"none (badge PDFs are saved to {out})"
        print(f"Printer: {main}" + (f"  [{states[chosen.main].summary()}]" if chosen.main in states else ""))
        if chosen.second:
            state = f"  [{states[chosen.second].summary()}]" if chosen.second in states else ""
            print(f"Second:  {chosen.second}{state}")
        print(f"Layout:  {layout}")
    return 0


def cmd_layout_set(args: argparse.Namespace) -> int:
    try:
        layout = load_layout(args.name)
    except LayoutError as exc:
        raise CommandError(str(exc)) from None
    station = station_from_args(args)
    try:
        station.set_setting(LAYOUT_SETTING, layout.name)
    finally:
        station.close()
    print(f"Badge layout: {layout.name} ({layout.description})")
    return 0


def cmd_layout_list(args: argparse.Namespace) -> int:
    rows = []
    for name in available_layouts():
        try:
            layout = load_layout(name)
            rows.append(
                {
                    "name": name,
                    "description": layout.description,
                    "sheet": isinstance(layout, SheetLayout),
                    "error": None,
                }
            )
        except LayoutError as exc:
            rows.append({"name": name, "description": "", "sheet": False, "error": str(exc)})
    if args.json:
        emit_json(rows)
    else:
        for row in rows:
            print(f"{row['name']:<12} {row['error'] or row['description']}")
    return 0


def cmd_badge_sheet(args: argparse.Namespace) -> int:
    from regdesk.render.badge import render_badge_sheet
    from regdesk.services import desk

    station = station_from_args(args)
    try:
        serials = [s.replace("-", "").strip().upper() for s in args.serials]
        contents = [desk.badge_content(station, serial) for serial in serials]
        pdf = render_badge_sheet(contents, args.layout)
        out = args.out or station.output_dir / f"badges-{serials[0]}-{len(serials)}.pdf"
    except (desk.DeskError, LayoutError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        station.close()
    files.private_dir(out.parent, tighten=args.out is None)
    files.write_private(out, pdf)
    print(f"{len(contents)} badge{'' if len(contents) == 1 else 's'} written to {out}")
    return 0
