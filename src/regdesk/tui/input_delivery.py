"""What the terminal sends, handed to the app in batches and in order.

Textual's driver reads the terminal in a thread of its own and hands each event over by scheduling
a coroutine on the app's event loop: a future, a task and a wake-up of the loop for every key. A
badge scanner types 100-200 keys in a burst, and that hand-over alone took 5 ms of the 30 a lane
has to paint its verdict. Here every event from the driver joins one queue, and the loop is woken
once for all the events that arrived before it drained the queue.

Order is kept: mouse, resize and paste events take the same queue as keys. Each event is then
given to the app's `take_terminal_event` (RegdeskApp: a scanner's key straight to the scan input
when the app has nothing else in hand, anything else through the app's message queue).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable

from textual.message import Message


class InputDelivery:
    """Replaces a driver's `send_message` (see `install`)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, take: Callable[[Message], None]) -> None:
        self._loop = loop
        self._take = take
        self._pending: deque[Message] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def send_message(self, message: Message) -> None:
        """From the driver's input thread (or the loop's own): queued, the loop woken if needed."""
        with self._lock:
            self._pending.append(message)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self._loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop has closed: the app has ended, nothing to deliver to
            pass

    def _drain(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._pending:
                        self._scheduled = False
                        return
                    message = self._pending.popleft()
                self._take(message)
        except BaseException:
            self._loop.call_soon(self._drain)  # still scheduled: the events behind it go in the next turn
            raise


def install(driver: object, take: Callable[[Message], None]) -> InputDelivery | None:
    """Route `driver`'s events through an InputDelivery; None if the driver has no event loop."""
    loop = getattr(driver, "_loop", None)
    if loop is None or not hasattr(driver, "send_message"):
        return None
    delivery = InputDelivery(loop, take)
    driver.send_message = delivery.send_message  # type: ignore[attr-defined]
    return delivery
