"""Timed at the screen: the real app, driven headless with Textual's Pilot, timed from the key to
the FRAME that shows the answer (not to the service call).

How a frame is seen: Textual's headless driver renders nothing; here the running app's driver is
given a subclass that says it is not headless, so the app composes and renders every update to
terminal text exactly as it would for a terminal, and its `write` keeps (time, text) of each frame
in memory instead of sending it to a tty. A figure runs from just before the key goes in (the
driver's own queue, as a terminal's input thread posts it) to the first frame written whose text,
escape sequences removed, holds the answer:
- search: the results caption `N matches for “<the text typed>”`, painted with the results table
  (the intended participant is checked to be among the rows);
- scan: the verdict panel's title with the holder's name (or the reason when nobody is named);
- F3: `ISSUED AND PRINTED` in the outcome panel (the badge is recorded, its PDF written and the
  job accepted by `lp`, here a stub on PATH that answers like CUPS).
Cold start is a real process: `regdesk tui` in a tmux pane (as tests/test_tmux_smoke.py does),
the pane polled with capture-pane; its resident memory read from /proc.

Stations: a desk of ctx.participants people from the synthetic UN export (the one bench_desk
imported if it ran, copied) with its log filled to ctx.events events (scans from six lanes), and a
security lane built as bench_scan builds it. The merge figure: nine other stations of the lane's
meeting push 10,000 signed events each to a PostgreSQL hub; the lane pulls them (90,000 merges)
in a thread of the app's own process, as AutoSync does, while scans go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import regdesk.tui  # noqa: F401 - first: it sets the frame rate the app paints at, read once by Textual

# isort: split
from textual import events
from textual.keys import _character_to_key

import bench_meeting
import bench_scan
import bench_sync
from regdesk.clock import FixedClock
from regdesk.domain.events import EventKind, format_utc
from regdesk.domain.names import fold
from regdesk.services import desk, embedded_pg, sync
from regdesk.services.accreditation import import_file
from regdesk.services.station import open_station
from regdesk.store.projections import tally_counts
from regdesk.tui.app import make_app
from run import ROOT, Context, Row, percentile

TARGET_SEARCH_MS = 50.0
TARGET_SCAN_MS = 30.0
TARGET_ISSUE_MS = 60.0
TARGET_SIGNIN_S = 1.0
TARGET_FIRST_RESULT_S = 1.5
TARGET_RSS_MB = 300.0
SIZE = (140, 45)
SEARCHES = 100
SCANS = 200
ISSUES = 45
COLD_STARTS = 3
MERGE_STATIONS = 9
DESK_CLOCK = "2017-12-01T13:05"
LP_STUB = (
    '#!/bin/sh\ncat >/dev/null 2>&1\necho "$@" >> "$(dirname "$0")/jobs.log"\n'
    "echo 'request id is bench-1-1 (1 file(s))'\n"
)
_ESCAPES = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
_SPACE = re.compile(r"\s+")


def plain(text: str) -> str:
    """A frame's text without escape sequences, runs of whitespace collapsed."""
    return _SPACE.sub(" ", _ESCAPES.sub("", text))


# --- seeing frames --------------------------------------------------------------------------------


class Frames:
    """Every frame the app writes, with the time it was written."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.frames: list[tuple[float, str]] = []
        frames = self.frames
        # Set at every frame (written on the app's own thread): a wait for the next frame sleeps
        # until then, instead of waking the app's thread every millisecond to look.
        written = self.written = asyncio.Event()
        driver = app._driver  # noqa: SLF001 - the one place frames leave the app

        class Recording(type(driver)):  # type: ignore[misc, valid-type]
            @property
            def is_headless(self) -> bool:  # so App._display renders the update to text
                return False

            def write(self, data: str) -> None:
                frames.append((time.perf_counter(), data))
                written.set()

            def flush(self) -> None:
                pass

        driver.__class__ = Recording

    def mark(self) -> int:
        return len(self.frames)

    def first(self, since: int, *needles: str) -> float | None:
        """Time of the first frame from index `since` whose text holds every needle."""
        wanted = [plain(n) for n in needles]
        for at, data in self.frames[since:]:
            text = plain(data)
            if all(n in text for n in wanted):
                return at
        return None

    async def next_frame(self, timeout: float) -> None:
        """Until a frame is written (or `timeout` seconds): the observer never polls the app."""
        self.written.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.written.wait(), timeout)

    async def wait(self, since: int, *needles: str, timeout: float = 10.0) -> float:
        deadline = time.perf_counter() + timeout
        checked = since
        wanted = [plain(n) for n in needles]
        while True:
            while checked < len(self.frames):
                at, data = self.frames[checked]
                checked += 1
                text = plain(data)
                if all(n in text for n in wanted):
                    return at
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no frame showed {needles!r} within {timeout:g} s")
            if checked == len(self.frames):
                await self.next_frame(0.05)


def send_keys(app, keys: list[tuple[str, str | None]]) -> None:  # type: ignore[no-untyped-def]
    """Keys as a terminal delivers them: posted by the driver one after another, nobody waiting."""
    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)  # noqa: SLF001


def typed(text: str) -> list[tuple[str, str | None]]:
    return [(ch if ch.isalnum() else _character_to_key(ch), ch) for ch in text]


async def settle(pilot, seconds: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    if seconds:
        await asyncio.sleep(seconds)
    for _ in range(20_000):  # not workers.wait_for_complete(): a superseded search is cancelled
        if not any(w.is_running for w in pilot.app.workers if w.group != "auto-sync"):
            break
        await asyncio.sleep(0.002)
    await pilot.pause()


def p95_row(figure: str, values: list[float], target: float) -> Row:
    p95 = percentile(values, 95)
    return Row(
        "screen",
        f"{figure}, p50 / p95 (n={len(values)})",
        f"{percentile(values, 50):.1f} / {p95:.1f} ms",
        f"p95 <= {target:g} ms",
        p95 <= target,
    )


# --- stations -------------------------------------------------------------------------------------


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("fixture_generate", ROOT / "fixtures" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fill_log(db_path: Path, rows: list[dict], total: int, config) -> int:  # type: ignore[no-untyped-def]
    """Scans from six lanes over 4-7 December (as a desk holds them after syncing), straight into
    the tables, up to `total` events in the log."""
    rng = random.Random(20171207)
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA synchronous=OFF")
    have = con.execute("SELECT count(*) FROM events").fetchone()[0]
    lanes = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(6)]
    ids = [r["accreditation_id"] for r in rows]
    day0 = datetime(2017, 12, 4, 13, 0, tzinfo=timezone.utc)
    count = max(0, total - have)
    for start in range(0, count, 100_000):
        evs, scans = [], []
        for n in range(start, min(count, start + 100_000)):
            lane = lanes[n % 6]
            at = day0 + timedelta(days=n % 4, seconds=(n // 4) * 0.05 % 36_000)
            pid = ids[rng.randrange(len(ids))]
            serial = bench_scan._serial(rng)  # noqa: SLF001
            local_day = config.local_day(at).isoformat()
            point = bench_scan.POINTS[n % 2]
            payload = {
                "local_day": local_day,
                "point_kind": "security",
                "point": point,
                "direction": "",
                "departure": "",
                "verdict": "valid",
                "reason": "valid",
                "serial": serial,
                "participant_id": pid,
                "counted": True,
                "manual": False,
                "raw": serial,
            }
            event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            evs.append(
                (
                    event_id,
                    lane,
                    n // 6 + 1,
                    format_utc(at),
                    "guard",
                    "security",
                    "",
                    "",
                    EventKind.SCAN_RECORDED,
                    json.dumps(payload, separators=(",", ":"), sort_keys=True),
                )
            )
            scans.append(
                (
                    event_id,
                    format_utc(at),
                    local_day,
                    lane,
                    "security",
                    point,
                    "",
                    "",
                    "valid",
                    "valid",
                    serial,
                    pid,
                    True,
                    False,
                )
            )
        con.executemany(
            "INSERT INTO events (id, station_id, seq, recorded_at, operator, operator_role, prev_hash, "
            "hash, kind, payload) VALUES (?,?,?,?,?,?,?,?,?,?)",
            evs,
        )
        con.executemany(
            "INSERT INTO scans (event_id, scanned_at, local_day, station_id, point_kind, point, "
            "direction, departure, verdict, reason, serial, participant_id, counted, manual) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            scans,
        )
        con.commit()
    tally_counts.drop_triggers(con)
    tally_counts.recompute(con)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    logged = con.execute("SELECT count(*) FROM events").fetchone()[0]
    con.close()
    return logged


def desk_station(ctx: Context, base: Path) -> tuple[Path, list[dict], int]:
    """(data dir, export rows, events logged) of a desk at full size: a fresh copy of a prepared
    station, so a run never sees the badges an earlier run issued. The prepared station stays in the
    workdir: a later run with the same --workdir (and size) starts in seconds instead of minutes."""
    target = base / "desk"
    prepared = base / f"desk-prepared-{ctx.participants}-{ctx.events}"
    clock = FixedClock(datetime.fromisoformat(DESK_CLOCK + "-06:00"))
    shared = ctx.shared.get("desk_station_dir")
    rows = ctx.shared.get("rows") if shared else None
    rows = rows or _generator().generate_rows(ctx.participants)  # deterministic for the size
    if not (prepared / "ready").exists():
        shutil.rmtree(prepared, ignore_errors=True)
        if shared and Path(shared).exists():
            shutil.copytree(shared, prepared)
        else:
            export = base / "screen-export.csv"
            _generator().write_csv(rows, export)
            station = bench_meeting.found(prepared, clock, role="desk", name="Westin desk 1")
            import_file(station, export, operator="clerk")
            station.close()
        station = open_station(prepared, clock=clock)
        try:
            config, db_path = station.config, station.db_path
        finally:
            station.close()
        (prepared / "ready").write_text(str(_fill_log(db_path, rows, ctx.events, config)))
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(prepared, target, ignore=shutil.ignore_patterns("ready"))
    return target, rows, int((prepared / "ready").read_text())


# --- desk: search and F3 --------------------------------------------------------------------------


def _search_queries(rows: list[dict], rng: random.Random) -> list[tuple[str, str]]:
    people = [r for r in rows if r["given_names_latin"] and r["status"] == "accredited"]
    out = []
    for r in rng.sample(people, SEARCHES):
        given = fold(r["given_names_latin"]).split()[0]
        family = fold(r["family_name_latin"])
        out.append((f"{given} {family}"[:40].strip(), r["accreditation_id"]))
    return out


async def _desk_figures(data_dir: Path, rows: list[dict], groups: set[str], out: list[Row]) -> None:
    rng = random.Random(1205)
    clock = FixedClock(datetime.fromisoformat(DESK_CLOCK + "-06:00"))
    station = open_station(data_dir, clock=clock)
    accredited = [r for r in rows if r["status"] == "accredited" and r["delegation_role"] != "member"]
    to_issue = rng.sample(accredited, ISSUES + 5)
    for r in to_issue:  # identity checked beforehand (F2 is another figure's business)
        desk.record_identity_check(station, r["accreditation_id"], "passport", "X1234567", "clerk")
    station.set_setting("printer", "bench-printer")
    app = make_app(station, operator="clerk")
    search_ms: list[float] = []
    found = 0
    issue_ms: list[float] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            frames = Frames(app)
            await settle(pilot)  # the search index is built (cold start is timed on its own)
            screen = app.screen
            for query, pid in _search_queries(rows, rng) if "search" in groups else []:
                await pilot.press("escape")
                send_keys(app, typed(query[:-1]))
                await settle(pilot, 0.2)  # the clerk's pause before the last letter
                since = frames.mark()
                t0 = time.perf_counter()
                send_keys(app, typed(query[-1]))
                painted = await frames.wait(since, f"for “{query}”")
                search_ms.append((painted - t0) * 1000)
                await settle(pilot)
                found += any(h.accreditation_id == pid for h in screen.table.hits)
            for r in to_issue if "f3" in groups else []:
                pid = r["accreditation_id"]
                await pilot.press("escape")
                screen._show_participant(pid)  # noqa: SLF001 - as if the number had been typed + Enter
                for _ in range(500):
                    await settle(pilot, 0.005)
                    if screen.current_card is not None and screen.current_card.accreditation_id == pid:
                        break
                card = screen.current_card
                if card is not None and card.holds_badge:
                    continue  # a station reused by hand (--workdir): issued in an earlier run
                assert card is not None, (
                    f"{pid}: no card or already badged: box {screen.search_box.value!r}, results for "
                    f"{screen._results_for!r}, selected {screen.selected_id!r}, card {screen._card!r}"
                )
                since = frames.mark()
                t0 = time.perf_counter()
                send_keys(app, [("f3", None)])
                painted = await frames.wait(since, "ISSUED AND PRINTED", timeout=20)
                issue_ms.append((painted - t0) * 1000)
                await settle(pilot)
    finally:
        station.close()
    issue_ms = issue_ms[5:]  # the first prints warm the renderer's fonts and caches
    if "search" in groups:
        out.append(
            p95_row(
                f"screen: keystroke in the search box -> results painted ({found}/{len(search_ms)} found the person)",
                search_ms,
                TARGET_SEARCH_MS,
            )
        )
    if "f3" in groups:
        out.append(
            p95_row(
                "screen: F3 -> outcome painted (badge recorded, PDF written, lp accepted the job)",
                issue_ms,
                TARGET_ISSUE_MS,
            )
        )


# --- security lane: scans, and scans while a pull merges ------------------------------------------


FAILED_SCANS: list[str] = []


async def _scan_until_painted(app, frames: Frames, screen, raw: str) -> float | None:  # type: ignore[no-untyped-def]
    from regdesk.tui.widgets.verdict_panel import VerdictPanel

    panel = screen.query_one(VerdictPanel)
    # The newest result, not the count: the screen keeps only its last 50 results, so from the
    # 51st scan on the count no longer grows (this wait was the "lane hang" once past 50 scans).
    last_before, view_before = (screen.results[-1] if screen.results else None), panel.view
    since = frames.mark()
    t0 = time.perf_counter()
    send_keys(app, [*typed(raw), ("enter", "\r")])
    deadline = time.perf_counter() + 90
    while not screen.results or screen.results[-1] is last_before:
        if panel.view is not view_before and panel.view is not None and panel.view.state == "error":
            FAILED_SCANS.append(panel.view.reason)  # "not recorded: scan again" (e.g. database busy)
            return None
        if time.perf_counter() > deadline:
            shown = plain("".join(d for _t, d in frames.frames[since:]))[-600:]
            raise TimeoutError(f"no verdict within 90 s for {raw!r}; frames since: {shown!r}")
        await frames.next_frame(0.05)  # the verdict's handler runs before its frame is written
    from regdesk.tui.screens.scan_base import recent_of, view_of

    result = screen.results[-1]
    view = view_of(result, app.station.config)
    row = recent_of(result, view, app.station.config)
    # The new top row of the recent scans (its time is this scan's: one second apart), painted with
    # the verdict panel by the same handler. The panel's title is block letters, and a repeat of the
    # same person repaints only the lines that changed, so the row is the marker.
    painted = await frames.wait(since, f"{row.time} {row.verdict} {(row.name or '—')[:12]}")
    return (painted - t0) * 1000


async def _lane(station, scans: list[tuple[str, str]], merge: threading.Thread | None) -> tuple[list[float], int]:  # type: ignore[no-untyped-def]
    app = make_app(station, operator="guard")
    clock = station.clock
    timings: list[float] = []
    async with app.run_test(size=SIZE):
        frames = Frames(app)
        screen = app.screen
        for _ in range(2000):
            if screen.scanner_info:
                break
            await asyncio.sleep(0.01)
        for _kind, raw in scans[:20]:  # warm-up
            clock.advance(seconds=1)
            await _scan_until_painted(app, frames, screen, raw.rstrip("\r"))
        if merge is not None:
            merge.start()
        for _kind, raw in scans[20:]:
            if merge is not None and not merge.is_alive():
                break
            clock.advance(seconds=1)
            ms = await _scan_until_painted(app, frames, screen, raw.rstrip("\r"))
            if ms is not None:
                timings.append(ms)
            await asyncio.sleep(0.02)  # the next person steps up
        if merge is not None:
            merge.join()
        app.exit()
    return timings, len(timings)


def _hub_url_ctx():  # type: ignore[no-untyped-def]
    url = bench_sync._pg_url()  # noqa: SLF001
    if url:
        return contextlib.nullcontext(url)

    @contextlib.contextmanager
    def embedded():  # type: ignore[no-untyped-def]
        server = embedded_pg.TemporaryServer(durable=True)
        try:
            yield server.start()
        finally:
            server.stop()

    return embedded()


def _fill_hub(workdir: Path, hub_url: str, per_station: int) -> int:
    """Nine more stations of the lane's meeting, their own signed events pushed to the hub."""
    founder = open_station(workdir / "scan-founder")
    rng = random.Random(90_000)
    pushed = 0
    try:
        for i in range(MERGE_STATIONS):
            role = ("desk", "security", "bus")[i % 3]
            other = bench_meeting.enrol(
                founder,
                workdir / f"merge-{i}",
                role=role,
                name=f"{role} {i}",
                clock=FixedClock(datetime(2017, 12, 4, 14, tzinfo=timezone.utc)),
            )
            operator, operator_role, kind, payloads = bench_sync._own_payloads(role, per_station, rng)  # noqa: SLF001
            bench_meeting.append_own(
                other,
                operator,
                operator_role,
                kind,
                payloads,
                datetime(2017, 12, 4, 14, 0, tzinfo=timezone.utc),
                timedelta(milliseconds=700),
            )
            with sync.Hub(hub_url) as hub:
                pushed += sync.push(other, hub)
            other.close()
    finally:
        founder.close()
    return pushed


LANE_CLOCK = datetime(2017, 12, 6, 1, 0, tzinfo=timezone.utc)  # as bench_scan.build sets it


def lane_station(ctx: Context, base: Path, out: list[Row]):  # type: ignore[no-untyped-def]
    """(station, pools, folder) of a security lane built as bench_scan builds it: a fresh copy of a
    prepared one kept in the workdir (a later run with the same --workdir starts at once)."""
    prepared = base / f"lane-prepared-{ctx.participants}-{ctx.events}"
    if not (prepared / "pools.json").exists():
        shutil.rmtree(prepared, ignore_errors=True)
        prepared.mkdir(parents=True)
        started = time.perf_counter()
        station, pools = bench_scan.build(Context(prepared, ctx.participants, ctx.events, ctx.quick))
        station.close()
        (prepared / "pools.json").write_text(json.dumps(pools))
        out.append(
            Row(
                "screen",
                f"security lane built ({ctx.participants:,} participants, ~{ctx.events:,} events)",
                f"{time.perf_counter() - started:.0f} s",
            )
        )
    folder = base / "lane"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(prepared, folder, ignore=shutil.ignore_patterns("pools.json"))
    pools = json.loads((prepared / "pools.json").read_text())
    station = open_station(folder / "scan-security", clock=FixedClock(LANE_CLOCK))
    return station, pools, folder


def _lane_figures(ctx: Context, base: Path, out: list[Row], groups: set[str]) -> None:
    station, pools, folder = lane_station(ctx, base, out)
    scans = bench_scan.plan(pools, random.Random(11))
    try:
        if "scan" in groups:
            timings, _n = asyncio.run(_lane(station, scans[: SCANS + 20], None))
            out.append(p95_row("screen: scanner burst + Enter -> verdict painted", timings, TARGET_SCAN_MS))
            out.append(
                Row(
                    "screen",
                    "  scans answered ERROR (not recorded: scan again)",
                    f"{len(FAILED_SCANS)}" + (f": {FAILED_SCANS[0][:80]}" if FAILED_SCANS else ""),
                    "0",
                    not FAILED_SCANS,
                )
            )
        if "merge" not in groups:
            return
        per_station = 1_000 if ctx.quick else 10_000
        with _hub_url_ctx() as raw_url:
            admin = bench_sync.make_url(raw_url)
            if admin.drivername == "postgresql":
                admin = admin.set(drivername="postgresql+psycopg")
            with bench_sync._fresh_hub(admin) as hub_url:  # noqa: SLF001
                pushed = _fill_hub(folder, hub_url, per_station)
                merged: dict[str, float] = {}

                def pull() -> None:
                    began = time.perf_counter()
                    with sync.Hub(hub_url) as hub:  # in the chunks the TUI's auto-sync pulls in
                        received, added = sync.pull(station, hub, chunk_size=sync.INTERACTIVE_PULL_CHUNK)
                    merged.update(received=received, added=added, seconds=time.perf_counter() - began)

                thread = threading.Thread(target=pull, name="bench-pull")
                timings, _n = asyncio.run(_lane(station, scans[SCANS + 20 :], thread))
        out.append(
            p95_row(
                f"screen: scan verdict painted while a pull merges {pushed:,} events "
                f"(merged {merged.get('added', 0):,.0f} in {merged.get('seconds', 0):.1f} s)",
                timings,
                TARGET_SCAN_MS,
            )
        )
    finally:
        station.close()


# --- cold start (a real process in tmux) ----------------------------------------------------------


class Pane:
    def __init__(self, command: str, env: dict[str, str], size: tuple[int, int]) -> None:
        self.socket = f"regdesk-bench-{uuid.uuid4().hex[:10]}"
        self.env = env
        self.tmux("new-session", "-d", "-s", "bench", "-x", str(size[0]), "-y", str(size[1]), command)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], env=self.env, capture_output=True, text=True, timeout=20
        )
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "bench")

    def wait_for(self, text: str, timeout: float = 60.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if text in self.screen():
                return time.perf_counter()
            time.sleep(0.01)
        raise TimeoutError(f"{text!r} not shown within {timeout:g} s:\n{self.screen()}")

    def send(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "bench", *(["-l"] if literal else []), *keys)

    def _pids(self) -> list[int]:
        pid = int(self.tmux("display-message", "-p", "-t", "bench", "#{pane_pid}").strip())
        with contextlib.suppress(OSError):
            return [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        return [pid]

    def rss_mb(self) -> float:
        best = 0.0
        for p in self._pids():
            with contextlib.suppress(OSError, AttributeError):
                status = Path(f"/proc/{p}/status").read_text()
                kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
                best = max(best, kb / 1024)
        return best

    def cpu_s(self) -> float:
        """CPU seconds (user + system, all threads) the program has used so far: the part of a
        wall-clock figure that does not depend on how busy the machine is."""
        total = 0.0
        for p in self._pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=20)


def _cold_start(data_dir: Path, rows: list[dict], base: Path) -> tuple[float, ...]:
    """(to sign-in screen, to first result, PIN -> desk, RSS MB after the search, CPU s to sign-in,
    CPU s to the result) of one cold start."""
    regdesk = Path(sys.executable).with_name("regdesk")
    env = {
        k: v for k, v in os.environ.items() if k not in ("REGDESK_DATA_DIR", "TMUX", "TMUX_PANE", "COLUMNS", "LINES")
    }
    env.update(TERM="xterm-256color", TMUX_TMPDIR=str(base))
    person = next(r for r in rows if r["given_names_latin"] and r["status"] == "accredited")
    query = fold(r"{} {}".format(person["given_names_latin"].split()[0], person["family_name_latin"]))
    started = time.perf_counter()
    pane = Pane(f"{regdesk} --data-dir {data_dir} tui --clock {DESK_CLOCK}", env, SIZE)
    try:
        signin = pane.wait_for("Operator name") - started
        signin_cpu = pane.cpu_s()
        pane.send("clerk", literal=True)
        pane.send("Enter")
        pane.send(bench_meeting.CREW["clerk"][1], literal=True)
        keys_sent = time.perf_counter()
        pane.send("Enter")
        desk_shown = pane.wait_for("Operator: clerk")
        pane.send(query, literal=True)
        result = pane.wait_for(f"for “{query}”") - started
        rss, result_cpu = pane.rss_mb(), pane.cpu_s()
        return signin, result, desk_shown - keys_sent, rss, signin_cpu, result_cpu
    finally:
        pane.close()


# --- the area -------------------------------------------------------------------------------------


def _section(out: list[Row], name: str, fn) -> None:  # type: ignore[no-untyped-def]
    """One group of figures; a failure is a row of the table (the other figures still print)."""
    first = len(out)
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - reported in the table, with its type
        out.append(Row("screen", f"{name}: FAILED", f"{type(exc).__name__}: {str(exc)[:200]}", "", False))
    for row in out[first:]:
        print(f"[screen] {row.figure}: {row.measured} ({row.target})", file=sys.stderr, flush=True)


GROUPS = ("cold", "search", "f3", "scan", "merge")
GROUP_NAMES = {"desk": ("search", "f3"), "lane": ("scan", "merge"), "all": GROUPS}


def chosen_groups(spec: str) -> set[str]:
    """The groups of figures named in $BENCH_SCREEN (e.g. "cold,desk" or "f3"; empty: all):
    cold (start, RSS), search and f3 (= desk), scan and merge (= lane)."""
    chosen: set[str] = set()
    for name in filter(None, (part.strip().lower() for part in spec.split(","))):
        if name not in GROUPS and name not in GROUP_NAMES:
            known = ", ".join((*GROUPS, *GROUP_NAMES))
            raise SystemExit(f"BENCH_SCREEN: unknown group {name!r} (known: {known})")
        chosen.update(GROUP_NAMES.get(name, (name,)))
    return chosen or set(GROUPS)


def run(ctx: Context) -> list[Row]:
    global SEARCHES, SCANS, ISSUES
    if ctx.quick:
        SEARCHES, SCANS, ISSUES = 60, 150, 30
    groups = chosen_groups(os.environ.get("BENCH_SCREEN", ""))
    base = ctx.workdir / "screen"
    base.mkdir(parents=True, exist_ok=True)
    out: list[Row] = []
    load = os.getloadavg()[0]
    if groups & {"cold", "search", "f3"}:
        started = time.perf_counter()
        data_dir, rows, logged = desk_station(ctx, base)
        out.append(
            Row(
                "screen",
                f"desk station ready ({len(rows):,} participants, {logged:,} events)",
                f"{time.perf_counter() - started:.0f} s",
            )
        )
        load = os.getloadavg()[0]
        if "cold" in groups:
            _section(out, "cold start", lambda: _cold_rows(data_dir, rows, base, out))
        if groups & {"search", "f3"}:
            _section(out, "desk", lambda: _desk_rows(data_dir, rows, base, ctx, out, groups))
    if groups & {"scan", "merge"}:
        _section(out, "security lane", lambda: _lane_figures(ctx, base, out, groups))
    out.append(
        Row(
            "screen",
            "machine load average (1 min) at the start / at the end of the figures",
            f"{load:.1f} / {os.getloadavg()[0]:.1f}",
        )
    )
    return out


def _cold_rows(data_dir: Path, rows: list[dict], base: Path, out: list[Row]) -> None:
    cold = [_cold_start(data_dir, rows, base) for _ in range(COLD_STARTS)]
    signin = sorted(c[0] for c in cold)[len(cold) // 2]
    first = sorted(c[1] for c in cold)[len(cold) // 2]
    out.append(
        Row(
            "screen",
            f"cold start (regdesk tui in tmux) -> sign-in screen, median of {COLD_STARTS}",
            f"{signin:.2f} s",
            f"<= {TARGET_SIGNIN_S:g} s",
            signin <= TARGET_SIGNIN_S,
        )
    )
    out.append(
        Row(
            "screen",
            "cold start -> first search result after sign-in (name, PIN, query typed at once)",
            f"{first:.2f} s",
            f"<= {TARGET_FIRST_RESULT_S:g} s",
            first <= TARGET_FIRST_RESULT_S,
        )
    )
    out.append(
        Row(
            "screen",
            "  the first start after the import (the desk's search index built, not read from disk): "
            "sign-in / first result",
            f"{cold[0][0]:.2f} / {cold[0][1]:.2f} s",
        )
    )
    out.append(
        Row(
            "screen",
            "  of which: PIN checked -> desk screen shown",
            f"{sorted(c[2] for c in cold)[len(cold) // 2]:.2f} s",
        )
    )
    out.append(
        Row(
            "screen",
            "  CPU used by the program to the sign-in screen / to the first result (median)",
            f"{sorted(c[4] for c in cold)[len(cold) // 2]:.2f} / {sorted(c[5] for c in cold)[len(cold) // 2]:.2f} s",
        )
    )
    rss = max(c[3] for c in cold)
    out.append(
        Row(
            "screen",
            f"desk TUI resident memory at {len(rows):,} (after the first search)",
            f"{rss:.0f} MB",
            f"<= {TARGET_RSS_MB:g} MB",
            rss <= TARGET_RSS_MB,
        )
    )


def _desk_rows(data_dir: Path, rows: list[dict], base: Path, ctx: Context, out: list[Row], groups: set[str]) -> None:
    bin_dir = base / "lp-stub"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "lp").write_text(LP_STUB)
    (bin_dir / "lp").chmod(0o755)
    (bin_dir / "jobs.log").unlink(missing_ok=True)  # a workdir reused: count this run's jobs only
    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{bin_dir}{os.pathsep}{old_path}"
    try:
        asyncio.run(_desk_figures(data_dir, rows, groups, out))
    finally:
        os.environ["PATH"] = old_path
    jobs = len((bin_dir / "jobs.log").read_text().splitlines()) if (bin_dir / "jobs.log").exists() else 0
    out.append(Row("screen", "  print jobs handed to lp", f"{jobs}"))
