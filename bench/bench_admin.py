"""Backups, the integrity check and the audit view on a meeting-sized log.

Uses the supervisor station bench_tallies builds (~1M events, 100k participants; 100k events with
--quick), or builds it when run alone. Figures: backup (SQLite backup API + integrity_check of the
copy), `regdesk check` without and (quick runs only) with the projection rebuild, and the audit's
first page for the filters a supervisor types.
"""

from __future__ import annotations

import shutil
import time

from regdesk.services import audit, backup, integrity
from regdesk.services.station import open_station
from run import Context, Row

AUDIT_TARGET_S = 1.0


def _timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _station(ctx: Context):  # type: ignore[no-untyped-def]
    path = ctx.workdir / "tallies"
    if not (path / "station.db").exists():
        import bench_tallies

        bench_tallies.build(ctx)[0].close()
    return open_station(path)


def run(ctx: Context) -> list[Row]:
    station = _station(ctx)
    rows: list[Row] = []
    try:
        seconds, path = _timed(lambda: backup.backup_now(station))
        size_mb = path.stat().st_size / 1e6
        rows.append(Row("admin", f"backup: copy + integrity_check ({size_mb:,.0f} MB)", f"{seconds:.1f} s"))
        seconds, report = _timed(lambda: integrity.check_station(station.data_dir, rebuild=False))
        rows.append(
            Row(
                "admin",
                f"check: integrity + log invariants ({report.events:,} events)",
                f"{seconds:.1f} s",
                "",
                report.ok,
            )
        )
        if ctx.quick:  # a full replay of 1M events through the handlers takes minutes: quick runs only
            seconds, report = _timed(lambda: integrity.check_station(station.data_dir))
            # bench_tallies writes a synthetic log (no tokens in badge events): it may not replay.
            rows.append(
                Row(
                    "admin",
                    "check: with projections vs a rebuild" + ("" if report.ok else " (bench log not replayable)"),
                    f"{seconds:.1f} s",
                )
            )
        for label, line in (
            ("no filter", ""),
            ("kind:badge_issued", "kind:badge_issued"),
            ("an accreditation id", "P004242"),
            ("day:2017-12-05", "day:2017-12-05"),
            ("station + kind", "station:desk kind:identity"),
        ):
            filters = audit.parse_filter(line)
            seconds, found = _timed(lambda f=filters: audit.list_audit(station, f, viewer_role="supervisor"))
            rows.append(
                Row(
                    "admin",
                    f"audit first page: {label} ({len(found)} rows)",
                    f"{seconds * 1000:.0f} ms",
                    f"<= {AUDIT_TARGET_S * 1000:.0f} ms",
                    seconds <= AUDIT_TARGET_S,
                )
            )
    finally:
        station.close()
        shutil.rmtree(station.data_dir / "backups", ignore_errors=True)
    return rows
