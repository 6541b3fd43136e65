"""`regdesk` command line. Each area registers its subcommands from regdesk/commands/*.py;
they are thin callers of the services, as is the TUI."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from regdesk.commands.common import default_data_dir
from regdesk.errors import explain
from regdesk.store.files import PRIVATE_UMASK

COMMAND_MODULES = [
    "regdesk.commands.station",
    "regdesk.commands.desk",
    "regdesk.commands.accreditation",
    "regdesk.commands.export",
    "regdesk.commands.printing",
    "regdesk.commands.admin",
    "regdesk.commands.tui",
    "regdesk.commands.scan",
    "regdesk.commands.sync",
    "regdesk.commands.hub",
    "regdesk.commands.drill",
    "regdesk.commands.passes",
    "regdesk.commands.photos",
]


# Which module registers each command: `regdesk tui` imports the TUI's command module only, not the
# renderer, numpy and the PDF libraries every other command module brings (most of a second of
# CPU before the sign-in screen). tests/unit/test_cli_modules.py checks it against the modules.
COMMAND_MODULE_OF = {
    **dict.fromkeys(("init", "operator", "station", "root"), "regdesk.commands.station"),
    **dict.fromkeys(("issue", "idcheck", "reprint"), "regdesk.commands.desk"),
    **dict.fromkeys(("import", "search"), "regdesk.commands.accreditation"),
    "export": "regdesk.commands.export",
    **dict.fromkeys(("printer", "layout", "badge-sheet"), "regdesk.commands.printing"),
    **dict.fromkeys(("rotate-key", "backup", "restore", "audit", "check"), "regdesk.commands.admin"),
    **dict.fromkeys(("demo", "tui"), "regdesk.commands.tui"),
    "scan": "regdesk.commands.scan",
    **dict.fromkeys(("sync", "bundle", "provision", "join", "conflicts", "resolve"), "regdesk.commands.sync"),
    "hub": "regdesk.commands.hub",
    "drill": "regdesk.commands.drill",
    "passes": "regdesk.commands.passes",
    "photos": "regdesk.commands.photos",
}
_GLOBAL_OPTIONS_WITH_VALUE = ("--data-dir", "--clock")


def command_named(argv: list[str]) -> str | None:
    """The command word in `argv` (after the global options), None when there is none."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with `command` (a known one), of that command's module only."""
    parser = argparse.ArgumentParser(prog="regdesk", description="Offline-first registration desk and badge scanning.")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="station data directory (default: $REGDESK_DATA_DIR or ~/.local/share/regdesk)",
    )
    parser.add_argument(
        "--clock",
        default=None,
        help="rehearsal clock start, ISO date-time in the event's local time, e.g. 2017-12-01T13:05; "
        "it then advances in real time",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    only = COMMAND_MODULE_OF.get(command or "")
    for name in [only] if only else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    _accept_clock_anywhere(sub)
    return parser


def _accept_clock_anywhere(sub: argparse._SubParsersAction) -> None:
    """`--clock` also works after the subcommand (`regdesk issue X --clock ...`), as scripts write it."""
    for subparser in set(sub.choices.values()):
        try:
            subparser.add_argument("--clock", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        except argparse.ArgumentError:
            pass  # the subcommand defines its own --clock
        for action in subparser._actions:
            if isinstance(action, argparse._SubParsersAction):
                _accept_clock_anywhere(action)


def main(argv: list[str] | None = None) -> int:
    # Whatever this process creates (a library's temporary file, SQLite's -wal) is owner-only;
    # store/files.py makes the station's own files so explicitly, whatever the umask.
    os.umask(PRIVATE_UMASK)
    parser = build_parser(command_named(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if args.data_dir is None:
        args.data_dir = default_data_dir()
    if not getattr(args, "func", None):
        build_parser().print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - the one place every error becomes one line
        message, code = explain(exc, args.data_dir)
        print(f"regdesk: {message}", file=sys.stderr)
        return code


if __name__ == "__main__":
    raise SystemExit(main())
