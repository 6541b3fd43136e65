"""A tiny driver that does real station work in a loop and acknowledges each committed step.

tests/e2e/test_crash_safety.py kills it with SIGKILL at random moments:

    python tests/helpers/crash_driver.py MODE DATA_DIR [ARG...]     one run
    python tests/helpers/crash_driver.py serve                       a warm fork server (see below)

A run prints "READY" once the station is open, then one "ACK <what>" line per step, flushed right
after the step's transaction committed: exactly what a clerk would have seen on screen. "DONE"
when there is nothing left to do. Mode "cli" runs the real `regdesk` command line instead
(`cli STDIN_FILE [REGDESK_X=VALUE...] ARG...`), e.g. `regdesk scan --json`, whose output lines are its acknowledgements.

The fork server imports regdesk once, then for each JSON command line on stdin forks a child that
does one run (its output goes to the server's stdout) and prints "PID <pid>", then "EXIT <pid>
<code>" once the child is gone. Each killed child is a real process doing real work; the server
only saves the 1-3 s interpreter start per kill on a busy 2-core machine.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import sys
import traceback
from datetime import datetime, timedelta
from pathlib import Path

from regdesk.clock import RehearsalClock
from regdesk.domain.events import parse_utc
from regdesk.services.station import open_station


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _clock_after_last_event(data_dir: Path) -> RehearsalClock:
    """Like a machine clock: it moves on in real time and never goes back behind recorded events."""
    conn = sqlite3.connect(data_dir / "station.db")
    try:
        last = conn.execute("SELECT max(recorded_at) FROM events").fetchone()[0]
    finally:
        conn.close()
    start = parse_utc(last) if last else datetime.fromisoformat("2017-12-04T09:00:00-06:00")
    return RehearsalClock(start + timedelta(milliseconds=1))


def _badge_work(station, prefix: str):  # type: ignore[no-untyped-def]
    """First badges for everyone still without one, then replacements (lost badges) round and round:
    the work never runs out before the kill comes."""
    from sqlalchemy import select

    from regdesk.store.models import Badge, Participant

    with station.sessions() as s:
        holders = set(s.execute(select(Badge.participant_id)).scalars())
        people = [
            p
            for p in s.execute(select(Participant.accreditation_id).order_by(Participant.accreditation_id)).scalars()
            if p.startswith(prefix)
        ]
    for pid in people:
        if pid not in holders:
            yield pid, False
    while True:
        for pid in people:
            yield pid, True


def _issue(station, pid: str, replace: bool):  # type: ignore[no-untyped-def]
    from regdesk.services import desk

    desk.record_identity_check(station, pid, "passport", "K0001234567", "clerk")
    return desk.issue_badge(station, pid, operator="clerk", replace=replace)


def _write_export(path: Path, upto: int) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(
            ["accreditation_id", "family_name", "given_names", "category", "delegation", "delegation_role", "status"]
        )
        for i in range(1, upto + 1):
            out.writerow([f"IMP-{i:05d}", f"Família{i}", "Ana María", "UN", "UNHCR", "member", "accredited"])


def main(argv: list[str]) -> int:
    mode, data_dir, *rest = argv
    if mode == "cli":
        from regdesk.cli import main as regdesk_main

        # data_dir is the file that stands in for the scanner on standard input
        fd = os.open(data_dir, os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
        sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)
        while rest and rest[0].startswith("REGDESK_") and "=" in rest[0]:  # secrets come by environment
            name, _, value = rest.pop(0).partition("=")
            os.environ[name] = value
        return regdesk_main(rest)
    _preimport()  # so that the kill lands in the work, not in interpreter start-up
    station = open_station(Path(data_dir), clock=_clock_after_last_event(Path(data_dir)))
    say("READY")
    if mode in ("issue", "print"):
        from regdesk.services import desk

        for pid, replace in _badge_work(station, ""):
            badge = _issue(station, pid, replace)
            if mode == "print":
                outcome = desk.print_badge(station, badge.serial, operator="clerk")
                say(f"ACK {badge.serial} {pid} {outcome.pdf_path}")
            else:
                say(f"ACK {badge.serial} {pid}")
    elif mode == "import":
        from regdesk.services import accreditation

        # rest = [folder, first k]: export k holds IMP-00001 .. IMP-(50k), written here, one after another
        folder, first = Path(rest[0]), int(rest[1])
        for k in itertools.count(first):
            path = folder / f"export-{k:03d}.csv"
            _write_export(path, 50 * k)
            report = accreditation.import_file(station, path, operator="clerk")
            say(f"ACK {path.name} {report.event_id}")
    elif mode == "bundle":
        from regdesk.services import bundles

        # Round and round: merging a bundle again must change nothing (set union by event id).
        for path in itertools.cycle(rest):
            result = bundles.import_bundle(station, Path(path))
            say(f"ACK {Path(path).name} {result.added}")
    elif mode == "sync":
        from regdesk.services import sync

        with sync.Hub(rest[0]) as hub:
            for pid, replace in _badge_work(station, rest[1]):
                badge = _issue(station, pid, replace)
                say(f"ACK {badge.serial} {pid}")
                # small chunks: a kill lands between chunks as well as inside one
                report = sync.sync_once(station, hub, push_chunk=5, pull_chunk=40)
                say(f"SYNCED {report.pushed} {report.pulled} {report.waiting}")
    elif mode == "backup":
        from regdesk.services import backup

        while True:
            say(f"ACK {backup.backup_now(station)}")
    elif mode == "rotate":
        from regdesk.services import keys

        while True:
            say(f"ACK {keys.rotate_key(station, 'Maria Supervisor')}")
    else:
        raise SystemExit(f"unknown mode {mode}")
    station.close()
    say("DONE")
    return 0


def _preimport() -> None:
    import regdesk.cli  # noqa: F401
    from regdesk.cli import build_parser
    from regdesk.render import badge, printing  # noqa: F401
    from regdesk.services import accreditation, backup, bundles, desk, keys, scanning, sync  # noqa: F401

    build_parser()  # imports every command module


def serve() -> int:
    _preimport()
    say("SERVER")
    for line in sys.stdin:
        args = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = main(args)
            except BaseException:  # noqa: BLE001 - report anything, then leave without cleanup
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code or 0)
        say(f"PID {pid}")
        _, status = os.waitpid(pid, 0)
        # On a line of its own even if the child was killed half-way through writing one.
        say(f"\nEXIT {pid} {os.waitstatus_to_exitcode(status)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(serve() if sys.argv[1:] == ["serve"] else main(sys.argv[1:]))
