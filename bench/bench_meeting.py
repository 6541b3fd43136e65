"""Stations of one meeting for the benchmarks, made the way a supervisor makes them (found the
meeting, then provision and join each station), and a fast way to fill a station's own log.

The key derivations run at their real cost here (a few seconds of set-up, not timed)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from regdesk.clock import Clock, FixedClock
from regdesk.domain import chain
from regdesk.domain.events import Event, canonical_json, format_utc
from regdesk.services import operators, provisioning
from regdesk.services.operators import OperatorSession
from regdesk.services.station import Station, found_meeting, seal_own_head
from regdesk.store import eventlog, projections
from run import ROOT

EVENT_TOML = ROOT / "fixtures" / "event.toml"
ROOT_PASSPHRASE = "benchmark root passphrase 2017"
SUPERVISOR = OperatorSession("maria", "supervisor")
SUPERVISOR_SECRET = "benchmark supervisor passphrase"
CREW = {"clerk": ("clerk", "1212"), "guard": ("security", "3434"), "marshal": ("marshal", "4545")}


def found(folder: Path, clock: Clock, *, role: str = "supervisor", name: str = "Bench founder") -> Station:
    station = found_meeting(
        folder,
        EVENT_TOML,
        root_passphrase=ROOT_PASSPHRASE,
        supervisor=SUPERVISOR.name,
        supervisor_secret=SUPERVISOR_SECRET,
        role=role,
        name=name,
        clock=clock,
    )
    for crew, (crew_role, pin) in CREW.items():
        operators.add_operator(station, crew, crew_role, pin, by=SUPERVISOR.name)
    return station


def enrol(founder: Station, folder: Path, *, role: str, name: str, clock: Clock | None = None) -> Station:
    join_file = folder.parent / f".{folder.name}.join"
    made = provisioning.provision(
        founder, role=role, name=name, by=SUPERVISOR, root_passphrase=ROOT_PASSPHRASE, out=join_file
    )
    station = provisioning.join_station(
        folder, code=made.code, join_file=join_file, clock=clock or FixedClock(founder.clock.now())
    ).station
    join_file.unlink()
    return station


def append_own(
    station: Station,
    operator: str,
    operator_role: str,
    kind: str,
    payloads: Iterable[dict[str, Any]],
    start: datetime,
    step: timedelta,
    *,
    chunk: int = 5000,
) -> int:
    """The station's own events, chained exactly as `eventlog.append` chains them, in bulk (the
    set-up of a 100k-event log through `append` one by one would take minutes), then sealed."""
    count = 0
    batch: list[tuple] = []
    events: list[Event] = []

    def flush() -> None:
        with station.transaction() as session:
            eventlog.insert_verified(session, batch)
            projections.apply_many(session, events)
        batch.clear()
        events.clear()

    with station.sessions() as session:
        seq, prev = eventlog.head(session, station.station_id)
    at = start
    for payload in payloads:
        seq += 1
        event_id = eventlog.new_event_id(at)
        text = canonical_json(payload)
        when = format_utc(at)
        own = chain.event_hash(event_id, station.station_id, seq, when, operator, operator_role, kind, text, prev)
        batch.append((event_id, station.station_id, seq, when, operator, operator_role, kind, text, prev, None, own))
        events.append(Event(event_id, station.station_id, seq, at, operator, kind, payload, operator_role))
        prev, at, count = own, at + step, count + 1
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    seal_own_head(station)
    return count
