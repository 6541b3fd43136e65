"""`regdesk hub start|stop|status`: a sync hub on this computer, with no database installed."""

from __future__ import annotations

import argparse
from pathlib import Path

from regdesk.commands.common import CommandError, emit_json
from regdesk.services import hub_server
from regdesk.services.sync import display_url

NOT_RUNNING_EXIT = 3  # `hub status` when no hub runs, so scripts can test it


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hub", help="run the PostgreSQL sync hub on this computer (no database to install)")
    hsub = p.add_subparsers(dest="hub_command", metavar="ACTION", required=True)
    a = hsub.add_parser("start", help="start the hub (created on first start) and print the URL stations sync with")
    _folder_option(a)
    a.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"TCP port (default: the port used last time, else {hub_server.DEFAULT_PORT})",
    )
    a.add_argument(
        "--lan",
        action="store_true",
        help="listen on the local network too, so other laptops can sync (default: this computer only)",
    )
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_hub_start)
    a = hsub.add_parser("stop", help="stop the hub; its data stays in its folder")
    _folder_option(a)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_hub_stop)
    a = hsub.add_parser("status", help=f"say whether the hub runs (exit status {NOT_RUNNING_EXIT} when it does not)")
    _folder_option(a)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_hub_status)


def _folder_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir", type=Path, default=None, metavar="DIR", help="the hub's folder (default: DATA_DIR/hub)"
    )


def _folder(args: argparse.Namespace) -> Path:
    return args.dir if args.dir is not None else hub_server.default_folder(args.data_dir)


def cmd_hub_start(args: argparse.Namespace) -> int:
    if args.port is not None and not 1 <= args.port <= 65535:
        raise CommandError(f"--port {args.port}: a TCP port is between 1 and 65535")
    try:
        state = hub_server.start(_folder(args), port=args.port, lan=args.lan)
    except hub_server.HubError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        emit_json(_as_json(state))
        return 0
    where = "on the local network" if state.lan else "on this computer only (add --lan for other laptops)"
    print(
        f"Hub {'already running' if state.already_running else 'started'} {where}, "
        f"port {state.port}, data in {state.folder}"
    )
    print("Stations sync with (keep it private, it holds the hub password):")
    print(f"  regdesk sync --hub '{state.url}' --remember")
    print("Stop it with: regdesk hub stop" + (f" --dir {state.folder}" if args.dir is not None else ""))
    return 0


def cmd_hub_stop(args: argparse.Namespace) -> int:
    try:
        stopped = hub_server.stop(_folder(args))
    except hub_server.HubError as exc:
        raise CommandError(str(exc)) from None
    if args.json:
        emit_json({"stopped": stopped})
    else:
        print("Hub stopped; its data stays in its folder." if stopped else "No hub was running.")
    return 0


def cmd_hub_status(args: argparse.Namespace) -> int:
    state = hub_server.status(_folder(args))
    if args.json:
        emit_json({**_as_json(state), "url": display_url(state.url) if state.url else None})
    elif not state.exists:
        print(f"No hub in {state.folder} (create one with: regdesk hub start)")
    elif state.running:
        print(
            f"Hub running (pid {state.pid}) on port {state.port}, "
            f"{'local network' if state.lan else 'this computer only'}, data in {state.folder}"
        )
        if state.url:
            print(f"  {display_url(state.url)}   (`regdesk hub start` prints it with the password)")
    else:
        print(f"Hub stopped; data in {state.folder} (start it with: regdesk hub start)")
    return 0 if state.running else NOT_RUNNING_EXIT


def _as_json(state: hub_server.HubState) -> dict[str, object]:
    return {
        "running": state.running,
        "already_running": state.already_running,
        "pid": state.pid,
        "port": state.port,
        "lan": state.lan,
        "dir": str(state.folder),
        "url": state.url,
    }
