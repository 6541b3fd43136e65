"""Multi-station sync through the PostgreSQL hub: 10 stations x 10,000 events each to convergence.

Needs a PostgreSQL server: REGDESK_BENCH_PG_URL, else REGDESK_TEST_PG_URL (the Makefile exports
postgresql+psycopg://postgres@127.0.0.1:5432/postgres). A fresh database is created for the run
and dropped afterwards.

Setup (not timed): ten stations (3 desks, 3 security lanes, 4 bus stops), each with 10,000 of its
own scan_recorded events written straight into its log (--quick: 2,000).
Timed: every station runs as its own process, as on its own laptop (here all ten share the
machine's cores, which is the pessimistic case): push its events, then pull until it holds every
event of every station. Convergence = the moment the last station is complete; then every
station's set of event ids is checked to be identical.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import random
import time
import uuid
from datetime import datetime, timedelta, timezone

from run import ROOT, Context, Row
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from regdesk.clock import FixedClock
from regdesk.domain.events import Event, EventKind
from regdesk.services import merge as merging
from regdesk.services import sync
from regdesk.services.station import init_station, open_station
from regdesk.store.models import EventRow

STATIONS = 10
EVENTS_PER_STATION = 10_000
QUICK_EVENTS_PER_STATION = 2_000
TARGET_S = 10.0
ROLES = ["desk"] * 3 + ["security"] * 3 + ["bus"] * 4
PEOPLE = 5_000  # distinct badge holders scanned (this meeting had ~900; a COP ~100,000)


def _pg_url() -> str | None:
    return os.environ.get("REGDESK_BENCH_PG_URL") or os.environ.get("REGDESK_TEST_PG_URL")


def _scan_events(station_id: str, first_seq: int, count: int, rng: random.Random) -> list[merging.Incoming]:
    """A lane's day: valid scans of people from a meeting-sized crowd, some denials and repeats."""
    start = datetime(2017, 12, 4, 14, 0, tzinfo=timezone.utc)
    items = []
    for n in range(count):
        person = rng.randrange(PEOPLE)
        verdict, reason = rng.choices([("valid", "valid"), ("repeat", "repeat"), ("denied", "revoked"),
                                       ("denied", "unreadable")], weights=[90, 6, 2, 2])[0]
        payload = {"local_day": "2017-12-04", "point_kind": "security", "point": "ICC-MAIN", "direction": "",
                   "departure": "", "verdict": verdict, "reason": reason, "serial": f"S{person:07d}",
                   "participant_id": f"P-{person:06d}", "counted": verdict == "valid", "manual": False}
        event = Event(str(uuid.UUID(int=rng.getrandbits(128), version=4)), station_id, first_seq + n,
                      start + timedelta(milliseconds=700 * n), "guard", str(EventKind.SCAN_RECORDED), payload)
        items.append(merging.Incoming(event, merging.canonical_json(payload)))
    return items


def _station_worker(data_dir: str, url: str, expected_total: int, start_at: float, queue) -> None:  # type: ignore[no-untyped-def]
    while time.time() < start_at:  # all processes start their sync together
        time.sleep(0.005)
    began = time.perf_counter()
    station = open_station(data_dir)
    try:
        with sync.Hub(url) as hub:
            pushed = sync.push(station, hub)
            push_s = time.perf_counter() - began
            pulled = added = 0
            while True:
                received, new = sync.pull(station, hub)
                pulled, added = pulled + received, added + new
                with station.sessions() as session:
                    have = session.execute(select(func.count()).select_from(EventRow)).scalar_one()
                if have >= expected_total:
                    break
                time.sleep(0.05)  # others are still pushing
        queue.put((data_dir, time.perf_counter() - began, pushed, pulled, added, push_s))
    finally:
        station.close()


def _fingerprint(data_dir: str) -> tuple[int, str]:
    station = open_station(data_dir)
    try:
        with station.sessions() as session:
            ids = sorted(session.execute(select(EventRow.id)).scalars())
    finally:
        station.close()
    return len(ids), hashlib.sha256("\n".join(ids).encode()).hexdigest()


def run(ctx: Context) -> list[Row]:
    raw_url = _pg_url()
    per_station = QUICK_EVENTS_PER_STATION if ctx.quick else EVENTS_PER_STATION
    figure = f"hub sync: {STATIONS} stations x {per_station:,} events to convergence"
    if not raw_url:
        return [Row("sync", figure, "not run: set REGDESK_TEST_PG_URL", f"<= {TARGET_S:g} s", False)]
    admin = make_url(raw_url)
    if admin.drivername == "postgresql":
        admin = admin.set(drivername="postgresql+psycopg")
    db_name = f"regdesk_bench_{uuid.uuid4().hex[:10]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    hub_url = admin.set(database=db_name).render_as_string(hide_password=False)
    try:
        rng = random.Random(20171204)
        base = ctx.workdir / "sync-stations"
        dirs = []
        gen_started = time.perf_counter()
        for i in range(STATIONS):
            role = ROLES[i % len(ROLES)]
            station = init_station(base / f"station-{i}", ROOT / "fixtures" / "event.toml", role=role,
                                   name=f"{role} {i}", clock=FixedClock(datetime(2017, 12, 4, 14, tzinfo=timezone.utc)))
            with station.transaction() as session:
                first = session.execute(select(func.max(EventRow.seq))
                                        .where(EventRow.station_id == station.station_id)).scalar_one() + 1
                merging.merge(session, _scan_events(station.station_id, first, per_station, rng))
            dirs.append(str(station.data_dir))
            station.close()
        expected = sum(_fingerprint(d)[0] for d in dirs)
        setup_s = time.perf_counter() - gen_started

        mp = multiprocessing.get_context("spawn")
        queue = mp.Queue()
        start_at = time.time() + 3.0  # time for the interpreters to start
        procs = [mp.Process(target=_station_worker, args=(d, hub_url, expected, start_at, queue)) for d in dirs]
        for p in procs:
            p.start()
        results = [queue.get(timeout=600) for _ in procs]
        for p in procs:
            p.join()
        converge_s = max(r[1] for r in results)
        fingerprints = {_fingerprint(d) for d in dirs}
        converged = len(fingerprints) == 1 and next(iter(fingerprints))[0] == expected
        added = sum(r[4] for r in results)
        slowest = max(results, key=lambda r: r[1])
        all_pushed_s = max(r[5] for r in results)
        rates = sorted(r[4] / (r[1] - r[5]) for r in results)
        return [
            Row("sync", f"{figure} (setup {setup_s:.1f}s)", f"{converge_s:.1f} s", f"<= {TARGET_S:g} s",
                converged and converge_s <= TARGET_S),
            Row("sync", "hub sync: all stations hold identical event sets", "yes" if converged else "NO",
                "identical", converged),
            Row("sync", "hub sync: events merged into stations per second (all stations)",
                f"{added / converge_s:,.0f}/s", "", None),
            Row("sync", "hub sync: every station's events on the hub (slowest push)", f"{all_pushed_s:.1f} s", "",
                None),
            Row("sync", "hub sync: one station merging while 9 others do too (median)",
                f"{rates[len(rates) // 2]:,.0f} events/s", "", None),
            Row("sync", "hub sync: slowest station, push + pull", f"{slowest[1]:.1f} s", "", None),
        ]
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
        admin_engine.dispose()
