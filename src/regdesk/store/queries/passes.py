"""The temporary passes projection's read of the log: every assignment and supervisor override of one
pass, in recorded order, so its holder is folded from the same set of events wherever they arrived."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.orm import Session

_ASSIGNMENTS = text(
    "SELECT kind, id, recorded_at, operator, json_extract(payload, '$.participant_id'), station_id, seq FROM events "
    "WHERE kind IN ('pass_assigned', 'pass_assignment_overridden') AND json_extract(payload, '$.serial') = :serial "
    "ORDER BY recorded_at, station_id, seq"  # one station's events in its own order, even within a tick
)


class AssignmentEvent(NamedTuple):
    kind: str
    event_id: str
    recorded_at: str
    operator: str
    participant_id: str
    station_id: str
    seq: int


def assignment_events(session: Session, serial: str) -> list[AssignmentEvent]:
    return [
        AssignmentEvent(str(k), str(i), str(at), str(op), str(pid or ""), str(sid), int(seq))
        for k, i, at, op, pid, sid, seq in session.execute(_ASSIGNMENTS, {"serial": serial}).all()
    ]
