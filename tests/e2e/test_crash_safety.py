"""kill -9 at random moments: nothing acknowledged is lost, nothing is duplicated, the database is whole.

Real processes do real work (tests/helpers/crash_driver.py, or the real `regdesk scan` command line) and
print an acknowledgement after each commit, as the screen would. The test kills them with SIGKILL
after a random delay (seeded, 0-400 ms after the station opened), then reopens the station and
checks: PRAGMA integrity_check == ok, every acknowledged item present exactly once, no duplicate
event ids or (station, sequence) pairs, this station's own sequence without a gap, projections
equal to a rebuild from the log (services/integrity.py), and the station opens again (keys too).
Each scenario prints its figures: kills, acknowledged steps, lost (must be 0), duplicated (0).

Most runs are children forked from a warm driver server (crash_driver.py serve) so that each kill
does not pay a 1-3 s interpreter start on a busy machine; the scanning scenario also kills the
real `python -m regdesk scan` started from scratch.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from meeting import init_station, secret_of

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk.clock import FixedClock
from regdesk.services import backup, bundles, desk, integrity
from regdesk.services.station import open_station

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).resolve().parents[1] / "helpers" / "crash_driver.py"
MAX_DELAY = 0.4
RUN_DEADLINE = 60.0  # seconds one driver run may take before the test gives up on it


class TickingClock(FixedClock):
    """Every reading is 1 ms after the previous one: events get distinct, increasing times, as on a
    real machine, so a rebuild (which replays by recorded time) sees them in the order they happened."""

    def now(self):
        self.advance(milliseconds=1)
        return super().now()


@dataclass
class Figures:
    scenario: str
    kills: int = 0
    finished_alone: int = 0
    acked: int = 0
    lost: int = 0
    duplicated: int = 0

    def line(self) -> str:
        return (
            f"[crash] {self.scenario}: kills={self.kills} (finished before the kill: {self.finished_alone}) "
            f"acknowledged={self.acked} lost={self.lost} duplicated={self.duplicated}"
        )


def run_and_kill(
    cmd: list[str], delay: float, *, stdin=None, env: dict[str, str] | None = None
) -> tuple[list[str], bool]:
    """Start, wait until it is working (first line), sleep `delay`, SIGKILL. Returns (lines, killed)."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin or subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    first = proc.stdout.readline()
    if not first:
        proc.wait()
        raise AssertionError(f"{cmd[2:4]} died before starting: {proc.stderr.read()[-2000:]}")
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lines = [first.rstrip("\n")] + proc.stdout.read().splitlines()
    err = proc.stderr.read()
    killed = proc.returncode == -signal.SIGKILL
    assert killed or proc.returncode == 0, err[-2000:]
    return lines, killed


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class ForkServer:
    """tests/helpers/crash_driver.py serve: forks one child per run; we SIGKILL the child."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        assert self._line() == "SERVER", log.read_text()[-2000:]

    def _line(self) -> str:
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"driver server died: {Path(self.log.name).read_text()[-3000:]}")
        return line.rstrip("\n")

    def run_and_kill(self, args: list[str], delay: float) -> tuple[list[str], bool]:
        # A run that never gets going must not hang the suite: past the deadline the server goes.
        watchdog = threading.Timer(RUN_DEADLINE, self.proc.kill)
        watchdog.start()
        pid, lines, code = None, [], None
        try:
            self.proc.stdin.write(json.dumps([str(a) for a in args]) + "\n")
            self.proc.stdin.flush()
            while pid is None or not lines:
                line = self._line()
                if line.startswith("PID "):
                    pid = int(line.split()[1])
                elif line.startswith("EXIT "):
                    code = int(line.split()[2])
                    break
                elif line:
                    lines.append(line)
            if code is None:
                time.sleep(delay)
                _kill(pid)
                while not (line := self._line()).startswith(f"EXIT {pid} "):
                    if line:
                        lines.append(line)
                code = int(line.split()[2])
        except BaseException:
            if pid is not None and code is None:
                _kill(pid)  # never leave a child working for the next test
            raise
        finally:
            watchdog.cancel()
        killed = code == -signal.SIGKILL
        assert killed or code == 0, (code, lines[-5:], Path(self.log.name).read_text()[-3000:])
        return lines, killed

    def close(self) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    forks = ForkServer(tmp_path_factory.mktemp("crash") / "driver-server.log")
    yield forks
    forks.close()


def driver(mode: str, data_dir: Path, *args: str) -> list[str]:
    return [mode, str(data_dir), *args]


def acks(lines: list[str]) -> list[list[str]]:
    return [line.split()[1:] for line in lines if line.startswith("ACK ")]


def json_acks(lines: list[str]) -> list[dict]:
    """Verdict lines printed whole. A line cut by the kill was never on screen: not acknowledged."""
    found = []
    for line in lines:
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def assert_whole(data_dir: Path) -> None:
    report = integrity.check_station(data_dir)
    assert report.ok, report.as_json()
    open_station(data_dir).close()  # opens again, signing key included


def query(data_dir: Path, sql: str, *params) -> list[tuple]:
    conn = sqlite3.connect(data_dir / "station.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def desk_with(tmp_path: Path, name: str, rows: list[dict]) -> Path:
    clock = TickingClock(local("2017-12-04T08:00"))
    station = init_station(tmp_path / name, EVENT_TOML, role="desk", name=name, clock=clock)
    if rows:
        seed_participants(station, rows)
    station.close()
    return tmp_path / name


def un_people(prefix: str, n: int) -> list[dict]:
    # UN system: no delegation quota, so every issue succeeds and the loop never stalls.
    return [
        participant_row(f"{prefix}-{i:04d}", f"Family{i}", "Given", category="UN", delegation="IOM")
        for i in range(1, n + 1)
    ]


def check_badges(data_dir: Path, acked: dict[str, str], figures: Figures) -> None:
    badges = dict(query(data_dir, "SELECT serial, participant_id FROM badges"))
    issued = query(
        data_dir,
        "SELECT json_extract(payload, '$.serial'), count(*) FROM events WHERE kind = 'badge_issued' GROUP BY 1",
    )
    per_serial = dict(issued)
    for serial, pid in acked.items():
        if badges.get(serial) != pid or per_serial.get(serial, 0) == 0:
            figures.lost += 1
        elif per_serial[serial] > 1:
            figures.duplicated += 1
    per_person = query(
        data_dir, "SELECT participant_id, count(*) FROM badges WHERE NOT revoked GROUP BY 1 HAVING count(*) > 1"
    )
    figures.duplicated += len(per_person)  # one person, two valid badges


def test_kill_during_issuance(tmp_path, server):
    rng = random.Random(20171201)
    data_dir = desk_with(tmp_path, "desk", un_people("UN", 150))
    figures, acked = Figures("issuance"), {}
    for _ in range(8):
        lines, killed = server.run_and_kill(driver("issue", data_dir), rng.uniform(0, MAX_DELAY))
        figures.kills += killed
        figures.finished_alone += not killed
        for serial, pid in acks(lines):
            figures.duplicated += serial in acked
            acked[serial] = pid
        assert_whole(data_dir)
    figures.acked = len(acked)
    check_badges(data_dir, acked, figures)
    print(figures.line())
    assert figures.acked > 8 and figures.kills == 8
    assert (figures.lost, figures.duplicated) == (0, 0)


def test_kill_during_printing(tmp_path, server):
    rng = random.Random(20171202)
    data_dir = desk_with(tmp_path, "desk", un_people("PR", 300))
    figures, acked, pdfs = Figures("issue + print"), {}, []
    for _ in range(4):
        # Rendering a badge takes 0.2-2 s here (fonts load on the first one): kill across several badges.
        lines, killed = server.run_and_kill(driver("print", data_dir), rng.uniform(0, 8 * MAX_DELAY))
        figures.kills += killed
        figures.finished_alone += not killed
        for serial, pid, pdf in acks(lines):
            acked[serial] = pid
            pdfs.append(Path(pdf))
        assert_whole(data_dir)
    figures.acked = len(acked)
    check_badges(data_dir, acked, figures)
    for pdf in pdfs:  # every badge the clerk saw printed is a complete PDF
        data = pdf.read_bytes() if pdf.exists() else b""
        if not (data.startswith(b"%PDF") and b"%%EOF" in data[-64:]):
            figures.lost += 1
    print(figures.line())
    assert figures.acked > 0 and figures.kills == 4
    assert (figures.lost, figures.duplicated) == (0, 0)


def test_kill_during_accreditation_import(tmp_path, server):
    """Each newer export adds 50 people; the driver writes export k and imports it, k = 1, 2, 3..."""
    rng = random.Random(20171203)
    data_dir = desk_with(tmp_path, "desk", [])
    figures, done = Figures("accreditation import"), []
    for _ in range(4):
        # One import takes 0.1-1.5 s here: kill anywhere in the first few imports of the run.
        lines, killed = server.run_and_kill(
            driver("import", data_dir, tmp_path, len(done) + 1), rng.uniform(0, 6 * MAX_DELAY)
        )
        figures.kills += killed
        figures.finished_alone += not killed
        done += [name for name, _event in acks(lines)]
        assert_whole(data_dir)
        present = {r[0] for r in query(data_dir, "SELECT accreditation_id FROM participants")}
        for name in done:
            upto = 50 * int(name[len("export-") : len("export-") + 3])
            figures.lost += sum(1 for i in range(1, upto + 1) if f"IMP-{i:05d}" not in present)
    figures.acked = len(done)
    figures.duplicated = len(done) - len(set(done))
    print(figures.line())
    assert figures.acked > 0 and figures.kills == 4
    assert (figures.lost, figures.duplicated) == (0, 0)


def test_kill_during_scanning(tmp_path, server):
    """The real `regdesk scan --json`, fed by a file of scans: acknowledged = a verdict line printed."""
    rng = random.Random(20171204)
    clock = TickingClock(local("2017-12-04T08:30"))
    desk_dir = desk_with(tmp_path, "desk", un_people("SC", 40))
    station = open_station(desk_dir, clock=clock)
    tokens = []
    for row in un_people("SC", 40):
        desk.record_identity_check(station, row["accreditation_id"], "passport", "1234", "clerk")
        tokens.append(desk.issue_badge(station, row["accreditation_id"], operator="clerk").token)
    bundle = tmp_path / "desk.bundle"
    bundles.export_bundle(station, bundle)
    station.close()
    security = init_station(tmp_path / "security", EVENT_TOML, role="security", name="ICC main", clock=clock)
    bundles.import_bundle(security, bundle)
    security.close()
    scans = tmp_path / "scans.txt"
    junk = ["", "HELLO", "\x1b[A", tokens[0][:40], "X" * 10_000, tokens[1].lower() + "\r"]
    with scans.open("w", encoding="utf-8") as fh:
        for i in range(4000):
            fh.write((tokens[i % len(tokens)] if i % 7 else junk[(i // 7) % len(junk)]) + "\n")
    cli = [
        "--data-dir",
        str(tmp_path / "security"),
        "scan",
        "--point",
        "security:ICC-MAIN",
        "--json",
        "--clock",
        "2017-12-04T09:00",
        "--operator",
        "guard",
    ]
    figures, acked = Figures("scanning (regdesk scan --json)"), []
    for attempt in range(6):
        if attempt == 0:  # from scratch: `python -m regdesk scan`, interpreter start and all
            with scans.open("rb") as stdin:
                lines, killed = run_and_kill(
                    [sys.executable, "-m", "regdesk", *cli],
                    rng.uniform(0, MAX_DELAY),
                    stdin=stdin,
                    env={"REGDESK_PIN": secret_of("guard")},
                )
        else:
            lines, killed = server.run_and_kill(
                ["cli", scans, f"REGDESK_PIN={secret_of('guard')}", *cli], rng.uniform(0, MAX_DELAY)
            )
        figures.kills += killed
        figures.finished_alone += not killed
        acked += [verdict["event_id"] for verdict in json_acks(lines)]
        assert_whole(tmp_path / "security")
    figures.acked = len(acked)
    recorded = dict(query(tmp_path / "security", "SELECT event_id, 1 FROM scans"))
    in_log = dict(
        query(tmp_path / "security", "SELECT id, count(*) FROM events WHERE kind = 'scan_recorded' GROUP BY id")
    )
    figures.lost = sum(1 for e in acked if e not in recorded or e not in in_log)
    figures.duplicated = len(acked) - len(set(acked)) + sum(1 for n in in_log.values() if n > 1)
    print(figures.line())
    assert figures.acked > 0 and figures.kills == 6
    assert (figures.lost, figures.duplicated) == (0, 0)


def test_kill_during_bundle_import(tmp_path, server):
    rng = random.Random(20171205)
    clock = TickingClock(local("2017-12-04T08:30"))
    source = open_station(desk_with(tmp_path, "other-desk", un_people("BU", 120)), clock=clock)
    files = []
    for batch in range(4):  # four bundles, each holding everything so far
        for i in range(batch * 30 + 1, batch * 30 + 31):
            desk.record_identity_check(source, f"BU-{i:04d}", "passport", "1234", "clerk")
            desk.issue_badge(source, f"BU-{i:04d}", operator="clerk")
        files.append(tmp_path / f"bundle-{batch}.jsonl.gz")
        bundles.export_bundle(source, files[-1])
    source.close()
    target = desk_with(tmp_path, "desk", [])
    figures, done = Figures("bundle import"), []
    for _ in range(3):
        # Merging one bundle takes 0.3-1 s here: kill anywhere in the first few. The driver goes round
        # the files again and again: a second merge of a bundle must add nothing.
        lines, killed = server.run_and_kill(driver("bundle", target, *files), rng.uniform(0, 6 * MAX_DELAY))
        figures.kills += killed
        figures.finished_alone += not killed
        done += [name for name, _added in acks(lines)]
        assert_whole(target)
    have = {r[0] for r in query(target, "SELECT id FROM events")}
    for name in done:
        with gzip.open(tmp_path / name, "rt", encoding="utf-8") as fh:
            ids = [json.loads(line)["id"] for line in list(fh)[1:]]
        figures.lost += sum(1 for i in ids if i not in have)
    figures.acked = len(done)
    figures.duplicated = query(target, "SELECT count(*) - count(DISTINCT id) FROM events")[0][0]
    print(figures.line())
    assert figures.kills == 3 and figures.acked > 0
    assert (figures.lost, figures.duplicated) == (0, 0)


def test_kill_during_backup_and_key_rotation(tmp_path, server):
    rng = random.Random(20171206)
    data_dir = desk_with(tmp_path, "desk", un_people("BK", 100))
    station = open_station(data_dir)
    station.set_setting("backup_keep", "1000")  # keep every acknowledged backup for the check
    station.close()
    figures = Figures("backup + key rotation")
    backups_acked: list[Path] = []
    keys_acked: list[str] = []
    for round_ in range(4):
        mode = "backup" if round_ % 2 == 0 else "rotate"
        lines, killed = server.run_and_kill(driver(mode, data_dir), rng.uniform(0, MAX_DELAY))
        figures.kills += killed
        figures.finished_alone += not killed
        if mode == "backup":
            backups_acked += [Path(a[0]) for a in acks(lines)]
        else:
            keys_acked += [a[0] for a in acks(lines)]
        assert_whole(data_dir)
        listed = backup.list_backups(data_dir)
        assert all(backup.integrity(p) == "ok" for p in listed)  # never a half backup under a backup name
    published = {r[0] for r in query(data_dir, "SELECT key_id FROM public_keys")}
    figures.lost = sum(1 for p in backups_acked if not p.exists() or backup.integrity(p) != "ok")
    figures.lost += sum(1 for k in keys_acked if k not in published or not (data_dir / "keys" / f"{k}.key").exists())
    figures.acked = len(backups_acked) + len(keys_acked)
    figures.duplicated = len(keys_acked) - len(set(keys_acked)) + len(backups_acked) - len(set(backups_acked))
    print(figures.line())
    assert figures.kills == 4 and backups_acked and keys_acked
    assert (figures.lost, figures.duplicated) == (0, 0)


@pytest.mark.pg
def test_kill_during_hub_sync(tmp_path, server):
    """A desk issues and syncs with the PostgreSQL hub (push in chunks of 5, pull in chunks of 40) while
    another desk's 400-odd events wait on the hub. After every kill the station is whole; at the end
    one clean cycle makes the station and the hub hold exactly the same events, acknowledged badges
    included, each once."""
    from pg_fixtures import create_database, drop_database
    from sqlalchemy import create_engine, text

    from regdesk.services import sync

    rng = random.Random(20171207)
    url, name = create_database()
    hub_url = url.render_as_string(hide_password=False)
    try:
        other = open_station(
            desk_with(tmp_path, "other-desk", un_people("HB", 120)), clock=TickingClock(local("2017-12-04T08:30"))
        )
        for i in range(1, 121):
            desk.record_identity_check(other, f"HB-{i:04d}", "passport", "1234", "clerk")
            desk.issue_badge(other, f"HB-{i:04d}", operator="clerk")
        sync.sync_with(other, hub_url)
        other.close()
        data_dir = desk_with(tmp_path, "desk", un_people("SY", 150))
        figures, acked = Figures("hub sync (PostgreSQL)"), {}
        for _ in range(4):
            lines, killed = server.run_and_kill(driver("sync", data_dir, hub_url, "SY-"), rng.uniform(0, 4 * MAX_DELAY))
            figures.kills += killed
            figures.finished_alone += not killed
            for serial, pid in acks(lines):
                acked[serial] = pid
            assert_whole(data_dir)
        station = open_station(data_dir)
        report = sync.sync_with(station, hub_url)
        station.close()
        assert report.waiting == 0
        assert_whole(data_dir)
        engine = create_engine(url)
        with engine.connect() as conn:
            on_hub = {str(r[0]) for r in conn.execute(text("SELECT id FROM hub_events"))}
            hub_serials = dict(
                conn.execute(
                    text(
                        "SELECT payload::json->>'serial', count(*) FROM hub_events "
                        "WHERE kind = 'badge_issued' GROUP BY 1"
                    )
                ).all()
            )
            seq_dups = conn.execute(
                text(
                    "SELECT count(*) FROM (SELECT station_id, seq FROM hub_events GROUP BY 1, 2 HAVING count(*) > 1) d"
                )
            ).scalar_one()
        engine.dispose()
        local_ids = {r[0] for r in query(data_dir, "SELECT id FROM events")}
        figures.acked = len(acked)
        figures.lost = len(on_hub ^ local_ids) + sum(1 for s in acked if hub_serials.get(s, 0) == 0)
        figures.duplicated = seq_dups + sum(1 for s in acked if hub_serials.get(s, 0) > 1)
        check_badges(data_dir, acked, figures)
        print(figures.line())
        assert figures.kills == 4 and figures.acked > 0
        assert (figures.lost, figures.duplicated) == (0, 0)
    finally:
        drop_database(name)
