"""Writers of one process take SQLite's write lock in the order they asked for it (store/db.py).

What an officer would notice without it: a sync merging chunk after chunk in the lane's process
takes the lock again the instant it lets go, while the scan waiting for it sleeps on SQLite's retry
schedule; the verdict then waits for several chunks, or the whole merge."""

from __future__ import annotations

import threading
import time

from regdesk.services import scanning
from regdesk.store import db


def test_a_writer_that_lets_go_and_asks_again_goes_behind_the_one_waiting():
    queue = db._WriterQueue()  # noqa: SLF001 - the queue itself, without a database
    order: list[str] = []
    merge_holds = threading.Event()
    scan_queued = threading.Event()

    def merge() -> None:
        for chunk in range(3):
            with queue.turn(5):
                order.append(f"merge {chunk}")
                merge_holds.set()
                if chunk == 0:
                    assert scan_queued.wait(5)
                    time.sleep(0.05)  # the scan is in line while this chunk is merged

    def scan() -> None:
        assert merge_holds.wait(5)
        scan_queued.set()
        with queue.turn(5):
            order.append("scan")

    threads = [threading.Thread(target=merge), threading.Thread(target=scan)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert order == ["merge 0", "scan", "merge 1", "merge 2"]


def test_a_writer_kept_waiting_too_long_goes_ahead_and_the_queue_still_works():
    queue = db._WriterQueue()  # noqa: SLF001
    stuck = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with queue.turn(5):
            stuck.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    assert stuck.wait(5)
    began = time.monotonic()
    with queue.turn(0.1):  # gives up its turn after 0.1 s: SQLite's own lock decides from there
        waited = time.monotonic() - began
    assert 0.08 <= waited < 2
    release.set()
    t.join(5)
    with queue.turn(0.1):  # nobody holds it now: at once
        pass
    assert not queue._held and not queue._waiting  # noqa: SLF001


def test_the_station_and_its_scanner_queue_on_the_same_line(icc):
    """A station's transactions and its scan lane's (its own connection) share one queue."""
    station = icc
    scanner = scanning.Scanner(station, "sam", scanning.ScanPoint("security", "ICC-MAIN"))
    try:
        with station.transaction():
            assert db.writer_turn(str(station.db_path))._held  # noqa: SLF001
            assert scanner._writer_queue is db.writer_turn(str(station.db_path))  # noqa: SLF001
    finally:
        scanner.close()
