"""Background syncs stand aside while a person waits for an answer on the same station."""

from __future__ import annotations

import threading
import time

from regdesk.services import give_way
from regdesk.services.give_way import GiveWay


def _waiter(gate: GiveWay) -> tuple[threading.Thread, list[float]]:
    waited: list[float] = []
    thread = threading.Thread(target=lambda: waited.append(gate.wait_until_clear(timeout=5)))
    thread.start()
    return thread, waited


def test_no_one_waiting_lets_a_sync_go_on_at_once():
    assert GiveWay().wait_until_clear() < 0.05


def test_a_sync_waits_until_the_answer_is_on_screen():
    gate = GiveWay()
    gate.someone_waits()
    thread, waited = _waiter(gate)
    time.sleep(0.2)
    assert thread.is_alive() and gate.busy  # still standing aside
    gate.answered()
    thread.join(timeout=2)
    assert not thread.is_alive() and waited[0] < 1.0  # let go by the answer, well before the lapse


def test_two_people_waiting_need_both_answers():
    gate = GiveWay()
    gate.someone_waits()
    gate.someone_waits()
    gate.answered()
    assert gate.busy
    gate.answered()
    assert not gate.busy
    gate.answered()  # an answer with no one waiting (a manual entry's failure) never goes below zero
    gate.someone_waits()
    assert gate.busy


def test_a_mark_never_taken_back_lapses(monkeypatch):
    """A screen closed between a scan and its verdict must not stop syncing for good."""
    monkeypatch.setattr(give_way, "HOLD_SECONDS", 0.3)
    gate = GiveWay()
    gate.someone_waits()
    thread, waited = _waiter(gate)
    thread.join(timeout=3)
    assert not thread.is_alive() and waited[0] < 1.5  # nobody answered: the mark lapsed
    assert not gate.busy


def test_a_sync_waits_at_most_its_timeout_while_scans_keep_coming(monkeypatch):
    gate = GiveWay()
    stop = threading.Event()

    def busy_lane() -> None:
        while not stop.is_set():
            gate.someone_waits()  # the next person before the last answer: never clear
            time.sleep(0.02)

    lane = threading.Thread(target=busy_lane)
    lane.start()
    try:
        while not gate.busy:  # the lane's first scan
            time.sleep(0.001)
        started = time.monotonic()
        gate.wait_until_clear(timeout=0.4)
        assert 0.35 < time.monotonic() - started < 1.5
    finally:
        stop.set()
        lane.join()


def test_waiting_marks_for_the_block_and_lets_go_even_when_it_fails():
    gate = GiveWay()
    with gate.waiting():
        assert gate.busy
    assert not gate.busy
    try:
        with gate.waiting():
            raise RuntimeError("the printer caught fire")
    except RuntimeError:
        pass
    assert not gate.busy
