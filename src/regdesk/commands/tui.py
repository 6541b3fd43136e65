"""`regdesk demo` and `regdesk tui`: start the terminal UI. Textual is imported only when they run."""

from __future__ import annotations

import argparse
import os
import sys
from functools import partial
from pathlib import Path

from regdesk.clock import clock_from_arg
from regdesk.commands.common import CommandError, clock_for, default_data_dir, station_from_args
from regdesk.config import ConfigError, bundled_event_path, load_event_config

CLOCK_HELP = (
    "rehearsal clock start, ISO date-time in the event's local time (e.g. 2017-12-01T13:05); "
    "it then advances in real time"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="open the demo desk (built on first run: bundled event, 900 participants)")
    # Own dest: a subcommand default must not overwrite the global --clock.
    p.add_argument(
        "--clock", dest="sub_clock", metavar="ISO", default=None, help=CLOCK_HELP + " (demo default: 2017-12-01T13:05)"
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("tui", help="open the terminal UI on the station in --data-dir")
    p.add_argument("--clock", dest="sub_clock", metavar="ISO", default=None, help=CLOCK_HELP)
    p.set_defaults(func=cmd_tui)


def demo_data_dir(args: argparse.Namespace) -> Path:
    """--data-dir, else $REGDESK_DATA_DIR, else <the usual data dir>/demo (never a real station's folder)."""
    explicit = args.data_dir is not None and (
        Path(args.data_dir) != default_data_dir() or bool(os.environ.get("REGDESK_DATA_DIR"))
    )
    return Path(args.data_dir) if explicit else default_data_dir() / "demo"


def cmd_demo(args: argparse.Namespace) -> int:
    from regdesk.services.demo import DEMO_CLOCK, DemoError, open_or_build_demo

    data_dir = demo_data_dir(args)
    event_path = data_dir / "event.toml" if (data_dir / "event.toml").exists() else bundled_event_path()
    clock = _clock(args.sub_clock or args.clock or DEMO_CLOCK, event_path)
    if (data_dir / "station.db").exists():
        code = _run_behind_sign_in(data_dir, clock)  # built on an earlier run
        if code is not None:
            return code
    else:
        print(f"Building the demo station in {data_dir} …", flush=True)
    try:
        station, _created = open_or_build_demo(data_dir, clock=clock)
    except DemoError as exc:
        raise CommandError(str(exc)) from None
    return _run(station)


def cmd_tui(args: argparse.Namespace) -> int:
    args.clock = args.sub_clock or args.clock
    code = _run_behind_sign_in(Path(args.data_dir), clock_for(args))
    # None: not a plain, healthy station folder; opened now, its error is said before the UI.
    return _run(station_from_args(args)) if code is None else code


def _run_behind_sign_in(data_dir: Path, clock) -> int | None:  # type: ignore[no-untyped-def]
    """The app on the station's front, the station opened behind the sign-in screen
    (services/station_front.py); None when the folder has no front to show."""
    from regdesk.services.station_front import read_front

    front = read_front(data_dir, clock)
    if front is None:
        return None
    return _run_opening(front, partial(_open_station, data_dir, clock))


def _open_station(data_dir: Path, clock):  # type: ignore[no-untyped-def]
    from regdesk.services.station import open_station  # in the opening thread, after the first frame

    return open_station(data_dir, clock=clock)


def _clock(value: str, event_path: Path):
    try:
        zone = load_event_config(event_path).zone
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    try:
        return clock_from_arg(value, zone)
    except ValueError:
        raise CommandError(f"--clock {value!r} is not an ISO date-time (e.g. 2017-12-01T13:05)") from None


def _check_terminal(close=lambda: None) -> None:  # type: ignore[no-untyped-def]
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        close()
        raise CommandError(
            "the terminal UI needs an interactive terminal; for scripts use the other commands (regdesk --help)"
        )
    # Textual sizes the screen with shutil.get_terminal_size(), which trusts exported COLUMNS/LINES
    # over the real terminal, also after a resize: a stale "80x24" would stick for the whole run.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


def _run(station) -> int:
    from regdesk.tui.app import make_app

    _check_terminal(station.close)
    try:
        app = make_app(station)
        app.run()
    finally:
        station.close()
    return app.return_code or 0  # non-zero when a failure ended it (tui/app.py says which, in one line)


def _run_opening(front, opener) -> int:  # type: ignore[no-untyped-def]
    """The sign-in screen first, the station opened behind it (services/station_front.py)."""
    _check_terminal()
    from regdesk.tui.app import make_app_opening

    app = make_app_opening(front, opener)
    try:
        app.run()
    finally:
        app.close_station()
    return app.return_code or 0
