"""Badges at the desk: issue (identity check + issue_badge), badge PDF render, and both together
(issue + desk.print_badge writing the PDF, no printer) on a desk station with ~2000 participants.

Names are a realistic mix of scripts (Latin with accents, Cyrillic, Arabic, Chinese), so the
render figures include HarfBuzz shaping and the per-name CJK font cut. Times are wall-clock per
badge, after a warm-up (fonts cut, statements compiled): what a clerk waits for.
"""

from __future__ import annotations

import random
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import bench_meeting
from regdesk.clock import FixedClock
from regdesk.domain.events import EventKind
from regdesk.render import fonts
from regdesk.render.badge import render_badge_pdf, render_badge_sheet
from regdesk.services import desk
from regdesk.services.station import Station
from run import Context, Row, percentile

TARGET_RENDER_P50_MS = 12.0
PARTICIPANTS = 2000
WARM_UP = 20
COLLECTION_DAY_1 = datetime(2017, 12, 1, 13, 5, tzinfo=ZoneInfo("America/Mexico_City"))  # window open

_LATIN = [
    ("František", "Ružička"),
    ("María José", "Fernández López"),
    ("Søren", "Kierkegård"),
    ("Zoë", "Müller"),
    ("Jean-Baptiste", "Ndiaye"),
    ("Ana", "Li"),
    ("Oluwaseun", "Adébáyọ̀"),
    ("Nguyễn", "Thị Hương"),
    ("Małgorzata", "Wiśniewska"),
    ("Giovanni", "D'Alessandro"),
]
_CYRILLIC = [
    ("Иван", "Петров", "Ivan", "Petrov"),
    ("Ольга", "Кузнецова", "Olga", "Kuznetsova"),
    ("Тарас", "Шевченко", "Taras", "Shevchenko"),
]
_ARABIC = [
    ("محمد", "العلي", "Mohammed", "Al-Ali"),
    ("فاطمة", "الزهراء", "Fatima", "Al-Zahra"),
    ("عبد الله", "بن سعيد", "Abdullah", "Bin Saeed"),
]
_CHINESE = [
    ("小明", "王", "Xiaoming", "Wang"),
    ("丽华", "陈", "Lihua", "Chen"),
    ("建国", "张", "Jianguo", "Zhang"),
    ("娜", "欧阳", "Na", "Ouyang"),
]
_DELEGATIONS = [
    "Czechia",
    "Mexico",
    "Russian Federation",
    "Egypt",
    "China",
    "International Organization for Migration",
    "Office of the United Nations High Commissioner for Human Rights",
    "Migrant Forum in Asia",
]


def _rows(rng: random.Random) -> list[dict]:
    rows = []
    for i in range(PARTICIPANTS):
        pick = rng.random()
        if pick < 0.7:
            given, family = rng.choice(_LATIN)
            given_l, family_l = given, family
        elif pick < 0.8:
            given, family, given_l, family_l = rng.choice(_CYRILLIC)
        elif pick < 0.9:
            given, family, given_l, family_l = rng.choice(_ARABIC)
        else:
            given, family, given_l, family_l = rng.choice(_CHINESE)
        # Delegations of four (the Member State quota) keep every issue within the rules.
        rows.append(
            {
                "accreditation_id": f"B-{i:05d}",
                "family_name": family,
                "given_names": given,
                "family_name_latin": family_l,
                "given_names_latin": given_l,
                "category": rng.choice(["MS", "OS", "UN", "NGO"]),
                "delegation": f"{rng.choice(_DELEGATIONS)} {i // 4}",
                "delegation_role": "head" if i % 4 == 0 else "member",
                "status": "accredited",
                "confirmation_code": f"C{i:05d}",
                "title": "H.E. Mr." if i % 4 == 0 else "",
            }
        )
    return rows


def build(ctx: Context) -> Station:
    station = bench_meeting.found(
        ctx.workdir / "badge-desk", FixedClock(COLLECTION_DAY_1), role="desk", name="Westin desk 1"
    )
    with station.transaction() as session:
        station.record(
            session,
            EventKind.ACCREDITATION_IMPORTED,
            {
                "revision": "2017-11-28T00:00:00Z",
                "source": "bench",
                "rows": _rows(random.Random(1204)),
                "withdrawn": [],
            },
            "clerk",
        )
    return station


def _issue(station: Station, pid: str) -> desk.IssuedBadge:
    desk.record_identity_check(station, pid, "passport", "X1234567", "clerk")
    return desk.issue_badge(station, pid, operator="clerk")


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def run(ctx: Context) -> list[Row]:
    n = 300 if ctx.quick else 600
    station = build(ctx)
    fonts.warm_up()
    ids = [f"B-{i:05d}" for i in range(PARTICIPANTS)]
    random.Random(5).shuffle(ids)

    for pid in ids[:WARM_UP]:
        desk.print_badge(station, _issue(station, pid).serial, operator="clerk")

    issue_ms, serials = [], []
    for pid in ids[WARM_UP : WARM_UP + n]:
        t = time.perf_counter()
        serials.append(_issue(station, pid).serial)
        issue_ms.append(_ms(t))

    contents = [desk.badge_content(station, s) for s in serials]
    render_ms, render_cpu_ms, by_script = [], [], {"latin": [], "cyrillic": [], "arabic": [], "cjk": []}
    for content in contents:
        cpu = time.process_time()
        t = time.perf_counter()
        render_badge_pdf(content, "a6")
        elapsed = _ms(t)
        render_cpu_ms.append((time.process_time() - cpu) * 1000)
        render_ms.append(elapsed)
        name = content.family_name + content.given_names
        script = (
            "arabic"
            if any("\u0600" <= c <= "\u06ff" for c in name)
            else "cyrillic"
            if any("\u0400" <= c <= "\u04ff" for c in name)
            else "cjk"
            if any("\u4e00" <= c <= "\u9fff" for c in name)
            else "latin"
        )
        by_script[script].append(elapsed)

    both_ms = []
    for pid in ids[WARM_UP + n : WARM_UP + 2 * n]:
        t = time.perf_counter()
        desk.print_badge(station, _issue(station, pid).serial, operator="clerk")
        both_ms.append(_ms(t))

    sheet_ms = []
    for i in range(0, min(len(contents), 80), 4):
        t = time.perf_counter()
        render_badge_sheet(contents[i : i + 4], "a4-4up")
        sheet_ms.append(_ms(t))
    station.close()

    p50 = percentile(render_ms, 50)
    rows = [
        Row(
            "badge",
            f"issue: id check + issue_badge p50 / p95 (n={len(issue_ms)})",
            f"{percentile(issue_ms, 50):.1f} / {percentile(issue_ms, 95):.1f} ms",
        ),
        Row(
            "badge",
            f"badge PDF render, A6, warm, p50 / p95 (n={len(render_ms)})",
            f"{p50:.1f} / {percentile(render_ms, 95):.1f} ms",
            f"p50 <= {TARGET_RENDER_P50_MS:g} ms",
            p50 <= TARGET_RENDER_P50_MS,
        ),
        # CPU time of this process: the render's own work, apart from waiting for a shared CPU.
        Row(
            "badge",
            "  same, CPU time p50 / p95",
            f"{percentile(render_cpu_ms, 50):.1f} / {percentile(render_cpu_ms, 95):.1f} ms",
        ),
    ]
    for script, values in by_script.items():
        if values:
            rows.append(
                Row(
                    "badge",
                    f"  {script} names p50 / p95 (n={len(values)})",
                    f"{percentile(values, 50):.1f} / {percentile(values, 95):.1f} ms",
                )
            )
    rows += [
        Row(
            "badge",
            f"issue + PDF (print_badge, no printer) p50 / p95 (n={len(both_ms)})",
            f"{percentile(both_ms, 50):.1f} / {percentile(both_ms, 95):.1f} ms",
        ),
        Row("badge", f"A4 sheet of four A6 p50 (n={len(sheet_ms)})", f"{percentile(sheet_ms, 50):.1f} ms"),
    ]
    return rows
