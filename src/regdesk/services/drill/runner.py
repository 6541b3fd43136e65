"""Orchestrates a drill: found the meeting, provision every station through the chain of trust,
start the hub, run one worker process per station on the fast clock, inject the faults (kill -9
of workers and of the real CLI), then a final sync round, the reconcile and the report."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from regdesk.clock import FixedClock
from regdesk.config import bundled_event_path
from regdesk.errors import RegdeskError
from regdesk.services import (
    accreditation,
    bundles,
    embedded_pg,
    operators,
    provisioning,
)
from regdesk.services.drill import faults as faults_mod
from regdesk.services.drill import plan as plan_mod
from regdesk.services.drill.plan import (
    GATES,
    HOTEL_STOPS,
    ICC_STOP,
    STATIONS,
    SUPERVISOR,
    local_at,
)
from regdesk.services.operators import OperatorSession
from regdesk.services.station import Station, found_meeting, open_station
from regdesk.services.sync import Hub, sync_once
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import events as event_queries
from regdesk.store.queries import hub as hub_queries

ROOT_PASSPHRASE = "drill root passphrase, never a real one"
SUPERVISOR_SECRET = "maria drill passphrase 2017"
CREW = (("clerk", "clerk", "1212"), ("guard", "security", "3434"), ("marshal", "marshal", "4545"))
CLERK_PIN = "1212"
PG_ENV = "REGDESK_TEST_PG_URL"


class DrillError(RegdeskError, RuntimeError):
    pass


@dataclass
class DrillOptions:
    scale: int = 900
    seed: int = 2017
    out: Path = Path("drill-out")
    wall_seconds: float = 240.0  # real time the simulated week is compressed into (workers may lag)
    kills: int = 6
    sync_every: int = 20
    log: Callable[[str], None] = lambda _m: None


@dataclass
class RunState:
    stations: dict[str, Path] = field(default_factory=dict)
    journals: dict[str, Path] = field(default_factory=dict)
    metrics: dict[str, Path] = field(default_factory=dict)
    cli: list[dict[str, Any]] = field(default_factory=list)
    cli_scans: list[dict[str, Any]] = field(default_factory=list)
    kills_done: list[dict[str, Any]] = field(default_factory=list)
    worker_failures: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


# --- the hub ---------------------------------------------------------------------------------------
class HubDatabase:
    """A fresh PostgreSQL database for this drill: on $REGDESK_TEST_PG_URL, else an embedded server."""

    def __init__(self) -> None:
        self.server: embedded_pg.TemporaryServer | None = None
        raw = os.environ.get(PG_ENV)
        if raw:
            admin = make_url(raw)
        else:
            self.server = embedded_pg.TemporaryServer()
            admin = make_url(self.server.start())
        if admin.drivername == "postgresql":
            admin = admin.set(drivername="postgresql+psycopg")
        self.admin = admin
        self.name = f"regdesk_drill_{uuid.uuid4().hex[:12]}"
        hub_queries.create_database(admin, self.name)
        self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        self.dead_url = admin.set(database=self.name, port=_free_port()).render_as_string(hide_password=False)

    def close(self) -> None:
        try:
            hub_queries.drop_database(self.admin, self.name)
        finally:
            if self.server is not None:
                self.server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the meeting -----------------------------------------------------------------------------------
def _point(key: str) -> dict[str, str]:
    if key in GATES:
        return {"point_kind": "security", "point_code": GATES[key]}
    if key in HOTEL_STOPS:
        return {"point_kind": "bus", "point_code": HOTEL_STOPS[key], "point_direction": "to_icc"}
    if key == ICC_STOP:
        return {"point_kind": "bus", "point_code": "ICC", "point_direction": "to_hotel"}
    return {}


def own_seq(station: Station) -> int:
    with station.sessions() as session:
        return event_queries.newest_seq(session, station.station_id)


def provision_meeting(plan: plan_mod.Plan, base: Path, log: Callable[[str], None]) -> dict[str, Path]:
    gen = plan_mod.load_generator()
    gen.write_csv(plan.rows, base / "accreditation.csv")
    gen.write_csv(plan.update_rows, base / "accreditation-update.csv")
    clock = FixedClock(local_at(-90))
    stations_dir = base / "stations"
    stations_dir.mkdir(parents=True, exist_ok=True)
    folders: dict[str, Path] = {}
    root = found_meeting(
        stations_dir / SUPERVISOR,
        bundled_event_path(),
        root_passphrase=ROOT_PASSPHRASE,
        supervisor="maria",
        supervisor_secret=SUPERVISOR_SECRET,
        role="supervisor",
        name="Supervisor, Westin",
        clock=clock,
    )
    try:
        for name, role, secret in CREW:
            operators.add_operator(root, name, role, secret, by="maria")
        accreditation.import_file(root, base / "accreditation.csv", operator="maria")
        folders[SUPERVISOR] = stations_dir / SUPERVISOR
        log(f"meeting founded, {len(plan.rows)} participants imported")
        for key, role, name in STATIONS:
            if key == SUPERVISOR:
                continue
            join_file = base / f".{key}.join"
            made = provisioning.provision(
                root,
                role=role,
                name=name,
                by=OperatorSession("maria", "supervisor"),
                root_passphrase=ROOT_PASSPHRASE,
                out=join_file,
            )
            joined = provisioning.join_station(stations_dir / key, code=made.code, join_file=join_file, clock=clock)
            joined.station.close()
            join_file.unlink()
            folders[key] = stations_dir / key
        log(f"{len(folders)} stations provisioned with join files")
    finally:
        root.close()
    return folders


# --- workers ---------------------------------------------------------------------------------------
class WorkerProcess:
    def __init__(self, key: str, config_path: Path, log_path: Path) -> None:
        self.key = key
        self.config_path = config_path
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.restart_at: float | None = None
        self.starts = 0
        self.done = False

    def working(self) -> bool:
        """Started and at work on its script (its start is in its metrics): a kill then hits real work."""
        if self.done or self.restart_at is not None or self.proc is None or self.proc.poll() is not None:
            return self.done
        metrics = self.config_path.parent / "metrics.jsonl"
        return metrics.exists() and metrics.read_text().count('"do": "start"') >= self.starts

    def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "regdesk.services.drill.worker", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()


def run_cli_issue(
    item: dict[str, Any],
    folder: Path,
    *,
    t0: float,
    speed: float,
    rng: random.Random,
    state: RunState,
    lock: threading.Lock,
) -> None:
    """A clerk at desk 2 uses the real `regdesk issue`; some runs are killed mid-work and retried."""
    due = t0 + item["at"] / speed
    time.sleep(max(0.0, due - time.time()))
    moment = local_at(item["at"]).replace(tzinfo=None).isoformat(timespec="seconds")
    argv = [
        sys.executable,
        "-m",
        "regdesk",
        "--data-dir",
        str(folder),
        "--clock",
        moment,
        "issue",
        item["pid"],
        "--operator",
        "clerk",
        "--id-check",
        "passport:4821",
        "--no-print",
        "--json",
    ]
    env = {**os.environ, "REGDESK_PIN": CLERK_PIN}
    record: dict[str, Any] = {"pid": item["pid"], "killed": False}
    if item.get("kill"):
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        time.sleep(rng.uniform(0.2, 0.9))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            record["killed"] = True
        proc.wait()
    t1 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    record["ms"] = (time.perf_counter() - t1) * 1000
    record["exit"] = done.returncode
    try:
        answer = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        answer = {}
    record["serial"] = answer.get("badge_serial")
    record["issued"] = bool(answer.get("issued"))
    record["reason"] = answer.get("reason")
    record["stderr"] = done.stderr.strip()[-300:]
    with lock:
        state.cli.append(record)


GUARD_PIN = "3434"


def run_cli_scan(
    at: float, folder: Path, *, t0: float, speed: float, count: int, state: RunState, lock: threading.Lock
) -> None:
    """A guard at the ICC side entrance uses the real `regdesk scan` (one badge a line on stdin); the
    first run is killed -9 after half the badges, the guard starts it again for the rest. A verdict
    printed is a scan acknowledged: its event id must be on every station at the end."""
    time.sleep(max(0.0, t0 + at / speed - time.time()))
    tokens: list[str] = []
    deadline = time.monotonic() + 30  # a lagging entrance may not have synced the badges yet
    while True:
        station = open_station(folder)
        try:
            with station.sessions() as session:
                tokens = badge_queries.valid_tokens(session, count)
        finally:
            station.close()
        if len(tokens) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    moment = local_at(at).replace(tzinfo=None).isoformat(timespec="seconds")
    argv = [
        sys.executable,
        "-m",
        "regdesk",
        "--data-dir",
        str(folder),
        "scan",
        "--point",
        "security:ICC-SIDE",
        "--operator",
        "guard",
        "--clock",
        moment,
        "--json",
    ]
    env = {**os.environ, "REGDESK_PIN": GUARD_PIN}
    half = len(tokens) // 2
    record: dict[str, Any] = {"tokens": len(tokens), "acked_event_ids": [], "killed_after": half, "exits": []}
    for part, kill in ((tokens[:half], True), (tokens[half:], False)):
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert proc.stdin is not None and proc.stdout is not None
        for token in part:
            proc.stdin.write(token + "\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            if not line:
                break
            record["acked_event_ids"].append(json.loads(line)["event_id"])
        if kill:
            os.kill(proc.pid, signal.SIGKILL)  # mid-work: stdin still open, the next badge never comes
            proc.wait()
        else:
            proc.stdin.close()
            proc.wait()
        record["exits"].append(proc.returncode)
    with lock:
        state.cli_scans.append(record)


def run(opts: DrillOptions) -> tuple[plan_mod.Plan, RunState, Any]:
    from regdesk.services.drill import reconcile as reconcile_mod

    started = time.perf_counter()
    base = Path(opts.out).resolve()
    if base.exists() and any(base.iterdir()):
        raise DrillError(f"{base} is not empty; give --out a new folder")
    base.mkdir(parents=True, exist_ok=True)
    (base / "usb").mkdir()
    (base / "workers").mkdir()
    log = opts.log
    state = RunState()
    plan = plan_mod.build(opts.scale, opts.seed, sync_every=opts.sync_every)
    faults = faults_mod.build(opts.seed, plan_mod.SPAN_MINUTES, kills=opts.kills)
    log(f"plan: {plan.stats}")
    state.timings["plan_s"] = time.perf_counter() - started
    folders = provision_meeting(plan, base, log)
    state.stations = folders
    state.timings["provision_s"] = time.perf_counter() - started - state.timings["plan_s"]
    hub = HubDatabase()
    try:
        with Hub(hub.url) as h:
            station = open_station(folders[SUPERVISOR], clock=FixedClock(local_at(-60)))
            sync_once(station, h)
            station.close()
        speed = plan_mod.SPAN_MINUTES / opts.wall_seconds
        t0 = time.time() + 1.0
        workers: dict[str, WorkerProcess] = {}
        for key, role, _ in STATIONS:
            wdir = base / "workers" / key
            wdir.mkdir()
            script = wdir / "script.json"
            script.write_text(json.dumps(plan.scripts[key]))
            station = open_station(folders[key])
            seq0 = own_seq(station)
            station.close()
            config = {
                "station": key,
                "role": role,
                "data_dir": str(folders[key]),
                "script": str(script),
                "journal": str(wdir / "journal.jsonl"),
                "metrics": str(wdir / "metrics.jsonl"),
                "hub_url": hub.url,
                "dead_hub_url": hub.dead_url,
                "t0": t0,
                "speed": speed,
                "faults": faults.as_json(),
                "usb": str(base / "usb"),
                "seq0": seq0,
                "update_csv": str(base / "accreditation-update.csv"),
                **_point(key),
            }
            (wdir / "config.json").write_text(json.dumps(config))
            state.journals[key] = wdir / "journal.jsonl"
            state.metrics[key] = wdir / "metrics.jsonl"
            workers[key] = WorkerProcess(key, wdir / "config.json", wdir / "worker.log")
        for w in workers.values():
            w.start()
        log(f"{len(workers)} station workers started; the week runs at {speed:.0f} simulated minutes a second")
        rng = random.Random(opts.seed)
        lock = threading.Lock()
        cli_threads = [
            threading.Thread(
                target=run_cli_issue,
                args=(item, folders["desk-2"]),
                kwargs={"t0": t0, "speed": speed, "rng": random.Random(rng.random()), "state": state, "lock": lock},
                daemon=True,
            )
            for item in plan.cli_issues
        ]
        tuesday = plan_mod.minutes(datetime(2017, 12, 5, 9, 40, tzinfo=plan_mod.ZONE))
        cli_threads.append(
            threading.Thread(
                target=run_cli_scan,
                args=(tuesday, folders["icc-side"]),
                kwargs={"t0": t0, "speed": speed, "count": 10, "state": state, "lock": lock},
                daemon=True,
            )
        )
        for t in cli_threads:
            t.start()
        try:
            pending_kills = list(faults.kills)
            while True:
                now = time.time()
                sim = (now - t0) * speed
                for kill in [k for k in pending_kills if k.at <= sim]:
                    w = workers[kill.station]
                    if not w.working():
                        continue  # not yet at work (starting up): killed once it is
                    pending_kills.remove(kill)
                    if w.proc is not None and w.proc.poll() is None and w.restart_at is None:
                        os.kill(w.proc.pid, signal.SIGKILL)
                        w.proc.wait()
                        w.restart_at = now + kill.restart_after
                        state.kills_done.append(
                            {
                                "station": kill.station,
                                "sim_minute": round(sim, 1),
                                "at_local": local_at(sim).strftime("%a %d %b %H:%M"),
                            }
                        )
                        log(f"kill -9 {kill.station} at {local_at(sim):%a %d %b %H:%M}")
                for w in workers.values():
                    if w.done:
                        continue
                    if w.restart_at is not None:
                        if now >= w.restart_at:
                            w.restart_at = None
                            w.start()
                        continue
                    assert w.proc is not None
                    code = w.proc.poll()
                    if code is None:
                        continue
                    if code == 0:
                        w.done = True
                        continue
                    state.worker_failures.append(f"{w.key} exited with {code} (see {w.log_path})")
                    log(f"worker {w.key} failed ({code}); restarting")
                    if w.starts >= 4:
                        w.done = True
                    else:
                        w.start()
                if all(w.done for w in workers.values()):
                    break
                time.sleep(0.05)
        except BaseException:
            # Interrupted (Ctrl-C, an error): no station worker outlives the drill.
            for w in workers.values():
                if w.proc is not None and w.proc.poll() is None:
                    os.kill(w.proc.pid, signal.SIGKILL)
                    w.proc.wait()
            raise
        for t in cli_threads:
            t.join()
        state.timings["week_s"] = time.time() - t0
        log("the week is over; final sync round")
        final_round(folders, hub.url, base, faults)
        state.timings["final_sync_s"] = time.time() - t0 - state.timings["week_s"]
        t_rec = time.perf_counter()
        result = reconcile_mod.reconcile(plan, state)
        state.timings["reconcile_s"] = time.perf_counter() - t_rec
    finally:
        hub.close()
    state.timings["total_s"] = time.perf_counter() - started
    return plan, state, result


def final_round(folders: dict[str, Path], hub_url: str, base: Path, faults: faults_mod.Faults) -> None:
    """After the meeting: the hub stations sync, the bus stop's last bundle goes through the
    supervisor, everyone syncs again, and the bus stop reads the supervisor's bundle."""
    clock = FixedClock(local_at(plan_mod.SPAN_MINUTES + 30))
    opened = {key: open_station(folder, clock=clock) for key, folder in folders.items()}
    try:
        online = [k for k in opened if k not in faults.bundle_only]
        with Hub(hub_url) as hub:
            for k in online:
                sync_once(opened[k], hub)
            for k in faults.bundle_only:
                out = base / "usb" / f"final-{k}.gz"
                bundles.export_bundle(opened[k], out)
                bundles.import_bundle(opened[SUPERVISOR], out)
            for _ in range(2):
                for k in online:
                    sync_once(opened[k], hub)
            for k in faults.bundle_only:
                out = base / "usb" / "final-hub.gz"
                bundles.export_bundle(opened[SUPERVISOR], out)
                bundles.import_bundle(opened[k], out)
    finally:
        for station in opened.values():
            station.close()
