"""Shared plumbing for CLI subcommands: opening the station, errors, JSON output."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any

from regdesk.errors import RegdeskError
from regdesk.clock import clock_from_arg
from regdesk.config import ConfigError, load_event_config
from regdesk.services import preflight
from regdesk.services.station import Station, StationError, open_station


class CommandError(RegdeskError):
    """A command-line mistake or refusal (the message says what to type instead)."""


def default_data_dir() -> Path:
    env = os.environ.get("REGDESK_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "regdesk"


def clock_for(args: Any, data_dir: Path | None = None, event_path: Path | None = None):
    if not getattr(args, "clock", None):
        return clock_from_arg(None, None)  # type: ignore[arg-type]
    path = event_path or (data_dir or args.data_dir) / "event.toml"
    if event_path is None and not path.exists() and (path.parent / "station.db").exists():
        preflight.check_station_folder(path.parent)  # names the missing file and what to do
    try:
        zone = load_event_config(path).zone
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    try:
        return clock_from_arg(args.clock, zone)
    except ValueError:
        raise CommandError(f"--clock {args.clock!r} is not an ISO date-time (e.g. 2017-12-01T13:05)") from None


def station_from_args(args: Any) -> Station:
    try:
        return open_station(args.data_dir, clock=clock_for(args))
    except (StationError, ConfigError) as exc:
        raise CommandError(str(exc)) from None


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")
    sys.stdout.flush()


def read_pin(who: str) -> str:
    """PIN from $REGDESK_PIN (automation), the terminal (hidden), or the first line of stdin."""
    pin = os.environ.get("REGDESK_PIN")
    if pin is not None:
        return pin
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"PIN for {who}: ")
    return (sys.stdin.readline() if sys.stdin is not None else "").strip()


def authenticated_role(station: Station, name: str) -> str:
    """The role of operator `name` once their PIN checks out; exit 4 otherwise."""
    from regdesk.services import operators

    pin = read_pin(name)
    with station.sessions() as session:
        operator = operators.authenticate(session, name, pin)
        if operator is None:
            raise CommandError(f"operator {name!r}: name or PIN is wrong", exit_code=4)
        return operator.role
