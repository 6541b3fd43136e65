"""The drill's report: figures from what the workers measured (perf_counter around each service
call) and the plan's queue model, as JSON, Markdown and a PDF with charts (reportlab.graphics)."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from regdesk.services.drill.plan import (
    DESKS,
    SERVICE_SECONDS,
    clerks_per_desk,
    local_at,
)

SCANS = ("scan", "board", "scan_old", "forged")


def _read(path: Path) -> list[dict[str, Any]]:
    out = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 2)


def _hour(minute: float) -> str:
    return local_at(minute).strftime("%Y-%m-%d %H:00")


def figures(plan: Any, state: Any, result: Any) -> dict[str, Any]:
    metrics = {key: _read(path) for key, path in state.metrics.items()}
    per_hour: dict[str, Counter[str]] = {d: Counter() for d in DESKS}
    for desk in DESKS:
        for m in metrics.get(desk, []):
            if m.get("do") in ("issue", "replace") and m.get("outcome") == "issued":
                per_hour[desk][_hour(m["at"])] += 1
            elif m.get("do") == "collect":
                n = (m.get("issued") or 0) + (1 if (m.get("collector") or {}).get("outcome") == "issued" else 0)
                per_hour[desk][_hour(m["at"])] += n
    for c in state.cli:
        if c.get("issued"):
            at = next((i["at"] for i in plan.cli_issues if i["pid"] == c["pid"]), 0.0)
            per_hour["desk-2"][_hour(at)] += 1
    bph = {
        d: {
            "total": sum(c.values()),
            "peak": max(c.values(), default=0),
            "peak_hour": max(c, key=lambda h: c[h]) if c else None,
        }
        for d, c in per_hour.items()
    }
    queue = {
        d: {
            "max_waiting": max((w for _, w in s), default=0),
            "max_at": _hour(max(s, key=lambda x: x[1])[0]) if s else None,
        }
        for d, s in plan.queue.items()
    }
    idle: list[float] = []
    merging: list[float] = []
    locks: list[float] = []
    lock_where = ("", 0.0)
    verdicts: Counter[str] = Counter()
    no_badge = 0
    for key, ms in metrics.items():
        for m in ms:
            if m.get("do") in SCANS and "ms" in m:
                (merging if m.get("merging") else idle).append(m["ms"])
                verdicts[f"{m['do']}:{m.get('outcome')}"] += 1
                if m.get("lock_ms") is not None:
                    locks.append(m["lock_ms"])
                    if m["lock_ms"] > lock_where[1]:
                        lock_where = (key, m["lock_ms"])
            elif m.get("do") in SCANS:
                no_badge += 1
    lag: dict[str, dict[str, Any]] = {}
    for key, ms in metrics.items():
        done = [m for m in ms if m.get("do") == "sync_done"]
        lags = [m["lag_min"] for m in done if m.get("ok") and m.get("lag_min") is not None]
        lag[key] = {
            "syncs": sum(1 for m in done if m.get("ok")),
            "failed": sum(1 for m in done if not m.get("ok")),
            "refused_hub_down": sum(
                1 for m in ms if m.get("do") == "sync" and str(m.get("outcome", "")).startswith("hub down")
            ),
            "offline": sum(1 for m in ms if m.get("do") == "sync" and m.get("outcome") == "offline"),
            "lag_median_min": round(statistics.median(lags), 1) if lags else None,
            "lag_max_min": round(max(lags), 1) if lags else None,
            "sync_ms_p50": _pct([m["ms"] for m in done if m.get("ok")], 0.5),
            "sync_ms_max": _pct([m["ms"] for m in done if m.get("ok")], 1.0),
        }
    restarts = sum(max(0, sum(1 for m in ms if m.get("do") == "start") - 1) for ms in metrics.values())
    service = [m["ms"] for d in DESKS for m in metrics.get(d, []) if m.get("do") == "issue" and "ms" in m]
    return {
        "badges_per_hour_per_desk": bph,
        "badges_per_hour_series": {d: dict(sorted(c.items())) for d, c in per_hour.items()},
        "queue": queue,
        "queue_series": {d: [[round(m, 1), w] for m, w in s] for d, s in plan.queue.items()},
        "service_time_modelled_s": SERVICE_SECONDS,
        "clerks_per_desk": clerks_per_desk(plan.scale),
        "issue_service_ms": {"p50": _pct(service, 0.5), "p95": _pct(service, 0.95), "n": len(service)},
        "scan_ms_idle": {"p50": _pct(idle, 0.5), "p95": _pct(idle, 0.95), "max": _pct(idle, 1.0), "n": len(idle)},
        "scan_ms_while_syncing": {
            "p50": _pct(merging, 0.5),
            "p95": _pct(merging, 0.95),
            "max": _pct(merging, 1.0),
            "n": len(merging),
        },
        "longest_write_lock_wait_ms": {
            "ms": round(lock_where[1], 2),
            "station": lock_where[0],
            "p95": _pct(locks, 0.95),
        },
        "scan_outcomes": dict(sorted(verdicts.items())),
        "scans_without_a_known_badge": no_badge,
        "sync": lag,
        "worker_restarts": restarts,
        "kills": state.kills_done,
        "cli_issue": [{k: c.get(k) for k in ("pid", "killed", "issued", "reason", "ms")} for c in state.cli],
        "cli_scan": [
            {
                "tokens": r["tokens"],
                "verdicts_printed": len(r["acked_event_ids"]),
                "killed_after": r["killed_after"],
                "exits": r["exits"],
            }
            for r in state.cli_scans
        ],
        "timings_s": {k: round(v, 1) for k, v in state.timings.items()},
    }


def summary_json(plan: Any, state: Any, result: Any, figs: dict[str, Any]) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "scale": plan.scale,
        "seed": plan.seed,
        "stations": result.stations,
        "events": result.events,
        "lost": result.lost,
        "duplicated": result.duplicated,
        "tallies_identical": result.tallies_identical,
        "conflicts_expected": result.conflicts_expected,
        "conflicts_found": result.conflicts_found,
        "badges": result.badges,
        "badges_unaccounted": result.badges_unaccounted,
        "checks_passed": result.checks_passed,
        "badges_per_hour_per_desk": {d: v["peak"] for d, v in figs["badges_per_hour_per_desk"].items()},
        "problems": result.problems,
        "plan": plan.stats,
        "detail": result.detail,
        "scan_ms_idle": figs["scan_ms_idle"],
        "scan_ms_while_syncing": figs["scan_ms_while_syncing"],
        "longest_write_lock_wait_ms": figs["longest_write_lock_wait_ms"],
        "sync_lag_max_min": {k: v["lag_max_min"] for k, v in figs["sync"].items()},
        "kills": len(figs["kills"]),
        "worker_restarts": figs["worker_restarts"],
        "timings_s": figs["timings_s"],
    }


def markdown(summary: dict[str, Any], figs: dict[str, Any]) -> str:
    verdict = "RECONCILED" if summary["ok"] else "FAILED"
    same = "NO" if any("lacks" in p for p in summary["problems"]) else "yes"
    lines = [
        f"# regdesk drill: {verdict}",
        "",
        f"Scale {summary['scale']} (seed {summary['seed']}): {summary['plan']['participants']} participants in "
        f"{summary['plan']['state_delegations']} state delegations ({summary['plan']['delegations']} "
        f"delegations and organisations in all), {summary['stations']} stations, "
        f"{summary['events']} events. Wall time {figs['timings_s'].get('total_s')} s.",
        "",
        "## Reconcile",
        "",
        "| check | result |",
        "|---|---|",
        f"| same event set on every station | {same} |",
        f"| acknowledged events lost / duplicated | {summary['lost']} / {summary['duplicated']} |",
        f"| tallies identical for every day | {'yes' if summary['tallies_identical'] else 'NO'} |",
        f"| badges / unaccounted | {summary['badges']} / {summary['badges_unaccounted']} |",
        f"| conflicts expected / found | {summary['conflicts_expected']} / {summary['conflicts_found']} |",
        f"| `regdesk check` passed | {summary['checks_passed']} of {summary['stations']} |",
        f"| kill -9 of workers / restarts | {summary['kills']} / {summary['worker_restarts']} |",
        "",
    ]
    if summary["problems"]:
        lines += ["Problems:", ""] + [f"- {p}" for p in summary["problems"]] + [""]
    lines += [
        f"## Badges per hour per desk ({figs['clerks_per_desk']} clerk(s) a desk, modelled at "
        f"{figs['service_time_modelled_s']:.0f} s a participant)",
        "",
        "| desk | badges | peak per hour | peak hour | longest queue | at |",
        "|---|---|---|---|---|---|",
    ]
    for d, v in figs["badges_per_hour_per_desk"].items():
        q = figs["queue"].get(d, {})
        lines.append(
            f"| {d} | {v['total']} | {v['peak']} | {v['peak_hour']} | {q.get('max_waiting')} | {q.get('max_at')} |"
        )
    i, m = figs["scan_ms_idle"], figs["scan_ms_while_syncing"]
    lk = figs["longest_write_lock_wait_ms"]
    lines += [
        "",
        "## Scan verdicts (service call, measured in the station processes)",
        "",
        "| | scans | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
        f"| no sync running | {i['n']} | {i['p50']} | {i['p95']} | {i['max']} |",
        f"| while a sync (push + pull merge) runs | {m['n']} | {m['p50']} | {m['p95']} | {m['max']} |",
        "",
        f"Longest wait of a scan for the write lock: {lk['ms']} ms ({lk['station']}); p95 {lk['p95']} ms.",
        f"Desk issue (identity check + badge), service call: p50 {figs['issue_service_ms']['p50']} ms, "
        f"p95 {figs['issue_service_ms']['p95']} ms.",
        "",
        "## Sync per station (lag: simulated minutes from an event to the push that carried it)",
        "",
        "| station | syncs | failed | hub down | offline | lag median | lag max | sync p50 ms | max ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for k, v in figs["sync"].items():
        lines.append(
            f"| {k} | {v['syncs']} | {v['failed']} | {v['refused_hub_down']} | {v['offline']} | "
            f"{v['lag_median_min']} | {v['lag_max_min']} | {v['sync_ms_p50']} | {v['sync_ms_max']} |"
        )
    lines += ["", "## Faults", ""] + [f"- kill -9 {k['station']} at {k['at_local']}" for k in figs["kills"]]
    lines += [
        f"- `regdesk issue {c['pid']}`: {'killed, then retried: ' if c['killed'] else ''}"
        f"{'issued' if c['issued'] else c['reason']} ({c['ms']:.0f} ms)"
        for c in figs["cli_issue"]
    ]
    lines += [
        f"- `regdesk scan` at the ICC side entrance: {r['verdicts_printed']} verdicts printed for "
        f"{r['tokens']} badges, killed -9 after {r['killed_after']} and started again (exits {r['exits']})"
        for r in figs["cli_scan"]
    ]
    lines += ["", "Scan outcomes: " + ", ".join(f"{k} {v}" for k, v in figs["scan_outcomes"].items()), ""]
    return "\n".join(lines) + "\n"


def pdf(path: Path, summary: dict[str, Any], figs: dict[str, Any]) -> None:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.charts.lineplots import LinePlot
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    palette = [colors.HexColor(c) for c in ("#1F4E9C", "#E67E22", "#2E8B57", "#8E44AD", "#B15928", "#009EDB")]
    styles = getSampleStyleSheet()

    def lines_chart(title: str, series: dict[str, list[tuple[float, float]]], ylabel: str) -> Drawing:
        d = Drawing(480, 200)
        d.add(String(10, 185, title, fontSize=10))
        lp = LinePlot()
        lp.x, lp.y, lp.width, lp.height = 40, 30, 330, 145
        data = [s or [(0.0, 0.0)] for s in series.values()]
        lp.data = data
        for n in range(len(data)):
            lp.lines[n].strokeColor = palette[n % len(palette)]
        lp.xValueAxis.labelTextFormat = lambda v: local_at(v * 60).strftime("%a %H") if v >= 0 else ""
        lp.xValueAxis.labels.fontSize = 6
        lp.yValueAxis.labels.fontSize = 7
        d.add(lp)
        legend = Legend()
        legend.x, legend.y = 385, 170
        legend.fontSize = 7
        legend.colorNamePairs = [(palette[n % len(palette)], k) for n, k in enumerate(series)]
        d.add(legend)
        d.add(String(380, 30, ylabel, fontSize=7))
        return d

    def bars(title: str, names: list[str], groups: list[list[float]], labels: list[str]) -> Drawing:
        d = Drawing(480, 200)
        d.add(String(10, 185, title, fontSize=10))
        bc = VerticalBarChart()
        bc.x, bc.y, bc.width, bc.height = 40, 40, 330, 135
        bc.data = [[v or 0 for v in g] for g in groups]
        bc.categoryAxis.categoryNames = names
        bc.categoryAxis.labels.fontSize = 6
        bc.categoryAxis.labels.angle = 30
        bc.categoryAxis.labels.boxAnchor = "ne"
        bc.valueAxis.labels.fontSize = 7
        for n in range(len(groups)):
            bc.bars[n].fillColor = palette[n % len(palette)]
        d.add(bc)
        legend = Legend()
        legend.x, legend.y = 385, 170
        legend.fontSize = 7
        legend.colorNamePairs = [(palette[n % len(palette)], lab) for n, lab in enumerate(labels)]
        d.add(legend)
        return d

    def hours(series: dict[str, int]) -> list[tuple[float, float]]:
        from datetime import datetime

        from regdesk.services.drill.plan import ZONE, minutes

        return [
            (minutes(datetime.strptime(h, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)) / 60, float(n))
            for h, n in series.items()
        ]

    story: list[Any] = [Paragraph(f"regdesk drill: {'RECONCILED' if summary['ok'] else 'FAILED'}", styles["Title"])]
    for line in markdown(summary, figs).splitlines()[2:5]:
        if line.strip():
            story.append(Paragraph(line, styles["Normal"]))
    story.append(
        Paragraph(
            f"Lost {summary['lost']}, duplicated {summary['duplicated']}, tallies identical "
            f"{summary['tallies_identical']}, conflicts {summary['conflicts_found']} of "
            f"{summary['conflicts_expected']} expected, checks passed {summary['checks_passed']}.",
            styles["Normal"],
        )
    )
    story.append(Spacer(1, 8))
    story.append(
        lines_chart(
            "Badges per hour per desk", {d: hours(s) for d, s in figs["badges_per_hour_series"].items()}, "badges/hour"
        )
    )
    story.append(
        lines_chart(
            f"Queue length at each desk (modelled, {figs['clerks_per_desk']} clerk(s))",
            {d: [(m / 60, float(w)) for m, w in s] for d, s in figs["queue_series"].items()},
            "people waiting",
        )
    )
    i, m = figs["scan_ms_idle"], figs["scan_ms_while_syncing"]
    story.append(
        bars(
            "Scan verdict latency (ms)",
            ["p50", "p95", "max"],
            [[i["p50"], i["p95"], i["max"]], [m["p50"], m["p95"], m["max"]]],
            ["no sync", "sync merging"],
        )
    )
    names = list(figs["sync"])
    story.append(
        bars(
            "Sync lag per station (simulated minutes)",
            names,
            [
                [figs["sync"][k]["lag_median_min"] or 0 for k in names],
                [figs["sync"][k]["lag_max_min"] or 0 for k in names],
            ],
            ["median", "max"],
        )
    )
    lk = figs["longest_write_lock_wait_ms"]
    story.append(
        Paragraph(f"Longest wait of a scan for the write lock: {lk['ms']} ms at {lk['station']}.", styles["Normal"])
    )
    SimpleDocTemplate(str(path), pagesize=A4, title="regdesk drill").build(story)


def write(out: Path, plan: Any, state: Any, result: Any) -> dict[str, Any]:
    figs = figures(plan, state, result)
    summary = summary_json(plan, state, result, figs)
    (out / "drill.json").write_text(json.dumps({"summary": summary, "figures": figs}, indent=1, default=str))
    (out / "drill-report.md").write_text(markdown(summary, figs))
    pdf(out / "drill-report.pdf", summary, figs)
    return summary
