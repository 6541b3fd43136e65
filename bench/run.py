"""`make bench`: builds a 100k-participant station and prints one table of figures vs targets.

Each area contributes a module bench/bench_<area>.py with `run(ctx) -> list[Row]`.
Use `--quick` (BENCH_ARGS=--quick) for a 10k smoke run; `--workdir DIR` keeps prepared stations for the
next run; BENCH_SCREEN=cold,desk,lane (or search, f3, scan, merge) picks bench_screen's figures.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

AREAS = [
    "bench_desk",
    "bench_scan",
    "bench_badge",
    "bench_tallies",
    "bench_sync",
    "bench_admin",
    "bench_photos",
    "bench_screen",
]


@dataclass
class Row:
    area: str
    figure: str
    measured: str
    target: str = ""
    ok: bool | None = None


@dataclass
class Context:
    workdir: Path
    participants: int
    events: int
    quick: bool
    shared: dict = field(default_factory=dict)  # areas may share a prepared station


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10k participants, 100k events")
    parser.add_argument("--only", nargs="*", default=None, help="areas to run, e.g. bench_desk")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="regdesk-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = Context(workdir, 10_000 if args.quick else 100_000, 100_000 if args.quick else 1_000_000, args.quick)
    rows: list[Row] = []
    for area in args.only or AREAS:
        started = time.perf_counter()
        module = importlib.import_module(area)
        rows.extend(module.run(ctx))
        print(f"[{area} done in {time.perf_counter() - started:.1f}s]", file=sys.stderr)
    width = max(len(r.figure) for r in rows) if rows else 10
    print(f"\nregdesk benchmark: {ctx.participants:,} participants, workdir {workdir}\n")
    print(f"| {'figure'.ljust(width)} | measured | target | ok |")
    print(f"|{'-' * (width + 2)}|----------|--------|----|")
    for r in rows:
        ok = "" if r.ok is None else ("yes" if r.ok else "NO")
        print(f"| {r.figure.ljust(width)} | {r.measured} | {r.target} | {ok} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
