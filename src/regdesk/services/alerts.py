"""What supervisors must see about attacks and mistakes: refused bundles and hub rows, events held
for want of a signature, sign-in lockouts. Read from the event log (alerts are events, so every
station's alerts reach the supervisors by sync)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from regdesk.domain import event_payloads as ep
from regdesk.domain.events import EventKind, parse_utc
from regdesk.services.merge import held_count
from regdesk.services.station import Station
from regdesk.store import enrolment
from regdesk.store.queries import events as event_queries

_KINDS = (EventKind.SECURITY_ALERT, EventKind.SIGNIN_FAILED)


@dataclass(frozen=True)
class Alert:
    local_time: str  # "Mon 04 Dec 14:02"
    station: str  # the station that saw it
    text: str


@dataclass(frozen=True)
class AlertSummary:
    total: int  # refused deliveries and lockouts, whole meeting
    latest: tuple[Alert, ...]
    held: int  # events here waiting for their station's signature

    @property
    def quiet(self) -> bool:
        return not self.total and not self.held


def _text(kind: str, payload: dict[str, Any]) -> str | None:
    if kind == EventKind.SECURITY_ALERT:
        alert = ep.SecurityAlert.from_payload(payload)
        return f"{alert.source}: {alert.reason}"
    failed = ep.SigninFailed.from_payload(payload)
    if failed.locked_seconds:  # a wrong PIN alone is not an alert; a lockout is
        return (
            f"sign-in locked for {failed.locked_seconds} s after {failed.failures} wrong attempts "
            f"as {failed.name!r} ({failed.where})"
        )
    return None


def summary(station: Station, *, limit: int = 5) -> AlertSummary:
    with station.sessions() as session:
        names = enrolment.station_names(session)
        rows = event_queries.newest_of_kinds(session, [str(k) for k in _KINDS])
        held = held_count(session)
    latest: list[Alert] = []
    total = 0
    for recorded_at, station_id, kind, payload in rows:
        text = _text(kind, orjson.loads(payload))
        if text is None:
            continue
        total += 1
        if len(latest) < limit:
            when = station.config.local(parse_utc(recorded_at)).strftime("%a %d %b %H:%M")
            latest.append(Alert(when, names.get(station_id, station_id[:8]), text))
    return AlertSummary(total, tuple(latest), held)
