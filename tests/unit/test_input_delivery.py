"""The terminal's events reach the app in batches, in the order they were read (tui/input_delivery.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from regdesk.tui.input_delivery import InputDelivery


class Event:
    """Stands for a Textual message: the delivery only queues and hands them over."""

    def __init__(self, n: int) -> None:
        self.n = n


async def _deliver_from_a_thread(count: int, take) -> tuple[InputDelivery, int]:  # noqa: ANN001
    loop = asyncio.get_running_loop()
    wakes = 0
    real = loop.call_soon_threadsafe

    def counting(callback, *args):  # noqa: ANN001, ANN202
        nonlocal wakes
        wakes += 1
        return real(callback, *args)

    loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
    delivery = InputDelivery(loop, take)
    reader = threading.Thread(target=lambda: [delivery.send_message(Event(n)) for n in range(count)])
    reader.start()
    reader.join()
    for _ in range(100):
        await asyncio.sleep(0.01)
    return delivery, wakes


async def test_every_event_arrives_once_in_the_order_read_with_few_wake_ups():
    seen: list[int] = []
    _delivery, wakes = await _deliver_from_a_thread(500, lambda event: seen.append(event.n))
    assert seen == list(range(500))
    # A burst read while the loop was busy wakes it once, not once per key (at most once per
    # event if the loop drained each one before the next arrived, never more).
    assert 1 <= wakes <= 500


async def test_a_burst_queued_before_the_loop_runs_wakes_it_once():
    loop = asyncio.get_running_loop()
    seen: list[int] = []
    wakes: list[object] = []
    real = loop.call_soon_threadsafe
    loop.call_soon_threadsafe = lambda cb, *a: (wakes.append(cb), real(cb, *a))[1]  # type: ignore[method-assign]
    delivery = InputDelivery(loop, lambda event: seen.append(event.n))
    for n in range(150):  # on the loop's own thread: nothing is drained until this returns
        delivery.send_message(Event(n))
    await asyncio.sleep(0.01)
    assert seen == list(range(150)) and len(wakes) == 1


async def test_an_event_that_fails_does_not_stop_the_ones_behind_it():
    loop = asyncio.get_running_loop()
    seen: list[int] = []
    errors: list[BaseException] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context.get("exception")))

    def take(event: Event) -> None:
        if event.n == 3:
            raise ValueError("broken handler")
        seen.append(event.n)

    delivery = InputDelivery(loop, take)
    for n in range(8):
        delivery.send_message(Event(n))
    await asyncio.sleep(0.02)
    assert seen == [0, 1, 2, 4, 5, 6, 7]
    assert any(isinstance(e, ValueError) for e in errors)
    delivery.send_message(Event(8))  # and the next event still gets through
    await asyncio.sleep(0.01)
    assert seen[-1] == 8


def test_events_after_the_loop_has_closed_are_dropped_quietly():
    loop = asyncio.new_event_loop()
    loop.close()
    delivery = InputDelivery(loop, lambda event: pytest.fail("nothing may be delivered"))
    delivery.send_message(Event(1))  # the app has ended: no error for the reader thread
