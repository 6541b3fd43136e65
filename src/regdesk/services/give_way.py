"""Background work standing aside while a person waits for an answer on this station.

A pull merges the hub's events in the station's own process: each chunk holds SQLite's write lock
and shares the interpreter with the screen. A scan that arrives while chunk after chunk is merged
waits for all of that. The screen marks the moments someone is waiting (from the scanner's Enter
to the verdict painted); between chunks, a sync waits until no one is. A mark that is never taken
back (a screen gone mid-scan) lapses after HOLD_SECONDS, so a sync can be slowed, never stopped.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

HOLD_SECONDS = 1.0  # longest a single mark holds background work back
WAIT_SECONDS = 2.0  # longest a sync waits between two chunks before going on anyway


class GiveWay:
    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._waiting = 0
        self._lapses_at = 0.0

    def someone_waits(self) -> None:
        """A person now waits for an answer (call `answered` when it is on screen)."""
        with self._changed:
            self._waiting += 1
            self._lapses_at = time.monotonic() + HOLD_SECONDS

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Someone waits for as long as the block runs (a desk's search, an issue and its print)."""
        self.someone_waits()
        try:
            yield
        finally:
            self.answered()

    def answered(self) -> None:
        with self._changed:
            self._waiting = max(0, self._waiting - 1)
            self._changed.notify_all()

    @property
    def busy(self) -> bool:
        with self._changed:
            return self._busy()

    def _busy(self) -> bool:
        return self._waiting > 0 and time.monotonic() < self._lapses_at

    def wait_until_clear(self, timeout: float = WAIT_SECONDS) -> float:
        """Block until no one waits (or `timeout`); the seconds waited."""
        started = time.monotonic()
        with self._changed:
            while self._busy():
                remaining = min(timeout - (time.monotonic() - started), self._lapses_at - time.monotonic())
                if remaining <= 0:
                    break
                self._changed.wait(remaining)
        return time.monotonic() - started
