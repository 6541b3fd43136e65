"""Injected clocks. Domain code never reads the time itself; services get a Clock.

`RehearsalClock` starts at a chosen moment (e.g. 2017-12-01T13:05 local) and then advances in
real time, so the 2017 collection window can be rehearsed today.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC datetime."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that only moves when told to (tests)."""

    def __init__(self, moment: datetime) -> None:
        self._moment = moment.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._moment

    def set(self, moment: datetime) -> None:
        self._moment = moment.astimezone(timezone.utc)

    def advance(self, **kwargs: float) -> None:
        self._moment += timedelta(**kwargs)


class RehearsalClock:
    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(timezone.utc)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


def parse_clock_arg(value: str, zone: ZoneInfo) -> datetime:
    """`--clock` value: ISO date-time; without an offset it is local time in the event's zone."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(timezone.utc)


def clock_from_arg(value: str | None, zone: ZoneInfo, *, frozen: bool = False) -> Clock:
    if not value:
        return SystemClock()
    start = parse_clock_arg(value, zone)
    return FixedClock(start) if frozen else RehearsalClock(start)
