"""Named reads of the temporary-pass stock: numbering, who holds a pass on a day, the stock per day, and
the log's every assignment and supervisor override of one pass, in recorded order, so its holder is folded
from the same set of events wherever they arrived."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Exists, Row, func, select, text
from sqlalchemy.orm import Session

from regdesk.store.models import TemporaryPass


def pass_for_day(participant_id: Any, day: str) -> Exists:
    """SQL condition: `participant_id` (a value or a column) holds a pass assigned for local `day`, not voided."""
    return (
        select(TemporaryPass.serial)
        .where(
            TemporaryPass.participant_id == participant_id, TemporaryPass.day == day, TemporaryPass.voided.is_(False)
        )
        .exists()
    )


def holds_pass_on(session: Session, participant_id: str, day: str) -> bool:
    return bool(session.execute(select(pass_for_day(participant_id, day))).scalar())


def highest_number(session: Session, key_id: str, mark: str) -> int:
    """The highest number this desk's key printed behind its mark, 0 before the first: another desk's
    numbers (even cut off from this one) never count."""
    return int(
        session.execute(
            select(func.max(TemporaryPass.number)).where(
                TemporaryPass.key_id == key_id, TemporaryPass.serial.like(f"TP{mark}%")
            )
        ).scalar_one_or_none()
        or 0
    )


def printed_with_number(session: Session, number: int, *, other_than: str) -> list[str]:
    """Serials of the printed passes numbered `number`, `other_than` aside (the desks' marked passes)."""
    return list(
        session.execute(
            select(TemporaryPass.serial).where(
                TemporaryPass.number == number,
                TemporaryPass.printed_event_id != "",
                TemporaryPass.serial != other_than,
            )
        ).scalars()
    )


def holders_on(session: Session, participant_ids: Sequence[str], day: str) -> set[str]:
    """Which of these participants hold a pass assigned for local `day`, not voided."""
    if not participant_ids:
        return set()
    return set(
        session.execute(
            select(TemporaryPass.participant_id).where(
                TemporaryPass.participant_id.in_(list(participant_ids)),
                TemporaryPass.day == day,
                TemporaryPass.voided.is_(False),
            )
        ).scalars()
    )


def stock_per_day(session: Session) -> Sequence[Row[str, int, int, int]]:
    """(day, printed, assigned and not voided, voided) of the printed passes, by day."""
    voided = TemporaryPass.voided.is_(True)
    return list(
        session.execute(
            select(
                TemporaryPass.day,
                func.count(),
                func.count().filter(TemporaryPass.participant_id != "", ~voided),
                func.count().filter(voided),
            )
            .where(TemporaryPass.printed_event_id != "")
            .group_by(TemporaryPass.day)
            .order_by(TemporaryPass.day)
        )
    )


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
