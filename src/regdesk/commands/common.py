"""Shared plumbing for CLI subcommands: opening the station, errors, JSON output."""

from __future__ import annotations

import getpass
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regdesk.clock import clock_from_arg
from regdesk.config import ConfigError, load_event_config
from regdesk.errors import RegdeskError
from regdesk.services import preflight

if TYPE_CHECKING:  # the station and its ORM are imported by the commands that open one, when they run
    from regdesk.services.operators import OperatorSession
    from regdesk.services.station import Station


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
    from regdesk.services.station import StationError, open_station

    try:
        return open_station(args.data_dir, clock=clock_for(args))
    except (StationError, ConfigError) as exc:
        raise CommandError(str(exc)) from None


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=None, separators=(",", ":"))
    sys.stdout.write("\n")
    sys.stdout.flush()


# Secrets never come as command-line arguments (they would stay in the shell history and the
# process list): from an environment variable (automation), the terminal (hidden), or one line
# each of standard input when it is not a terminal, in the order the command asks for them.
ENV_PIN = "REGDESK_PIN"  # the acting operator's PIN or passphrase
ENV_NEW_SECRET = "REGDESK_NEW_PIN"  # a new operator's PIN or passphrase
ENV_SUPERVISOR = "REGDESK_SUPERVISOR_PIN"  # a supervisor vouching for someone else's act
ENV_ROOT = "REGDESK_ROOT_PASSPHRASE"
ENV_JOIN_CODE = "REGDESK_JOIN_CODE"


def read_secret(prompt: str, env: str = ENV_PIN, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass(f"{prompt}: ")
        if confirm and getpass.getpass(f"{prompt} (again): ") != first:
            raise CommandError("the two entries differ; nothing was changed")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def read_pin(who: str) -> str:
    return read_secret(f"PIN or passphrase for {who}")


def signed_in(station: Station, name: str, act: str) -> OperatorSession:
    """The operator `name`, once their PIN/passphrase checks out (throttled station-wide) and
    authority.py allows `act` for them at this station. Exit 4 otherwise."""
    from regdesk.services import operators

    secret = read_pin(name)
    try:
        return operators.authorise(station, name, secret, act, where="cli")
    except operators.SignInRefused as exc:
        raise CommandError(f"operator {name!r}: {exc}", exit_code=4) from None
