"""`regdesk drill`: rehearse the whole meeting with real station processes and prove it reconciles."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from regdesk.commands.common import CommandError, emit_json

DRILL_FAILED_EXIT = 1  # any difference between the stations


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "drill",
        help="rehearse the meeting end to end (12 station processes, a PostgreSQL hub, "
        "faults) and check that every station reconciles; exit 0 only if they do, "
        "1 on any difference",
    )
    p.add_argument(
        "--scale", type=int, default=900, help="participants (default 900, as the real meeting; up to 100000)"
    )
    p.add_argument("--seed", type=int, default=2017, help="the plan's seed (same seed, same people and faults)")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="a new folder for the stations, journals and the report (default: ./drill-YYYYmmdd-HHMMSS)",
    )
    p.add_argument(
        "--wall-seconds",
        type=float,
        default=None,
        help="real seconds the simulated week Fri 1 Dec 13:00 - Wed 6 Dec 18:00 is run in "
        "(default: 240, more for large scales)",
    )
    p.add_argument("--kills", type=int, default=6, help="random kill -9 of station workers (default 6, plus 2 fixed)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_drill)


def cmd_drill(args: argparse.Namespace) -> int:
    from regdesk.services.drill import report, runner

    if not 20 <= args.scale <= 100_000:
        raise CommandError("--scale must be between 20 and 100000 participants")
    out = args.out or Path(f"drill-{datetime.now():%Y%m%d-%H%M%S}")
    wall = args.wall_seconds or max(240.0, args.scale / 900 * 60)

    def log(message: str) -> None:
        if not args.json:
            print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)
        else:
            print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # A stopped drill (kill, Ctrl-C) stops its station workers and drops its hub database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    opts = runner.DrillOptions(scale=args.scale, seed=args.seed, out=out, wall_seconds=wall, kills=args.kills, log=log)
    plan, state, result = runner.run(opts)
    summary = report.write(Path(out).resolve(), plan, state, result)
    if args.json:
        emit_json(summary)
    else:
        print((Path(out) / "drill-report.md").read_text())
        print(f"Report: {Path(out) / 'drill-report.md'} and {Path(out) / 'drill-report.pdf'}")
    return 0 if result.ok else DRILL_FAILED_EXIT
