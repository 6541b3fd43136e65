"""Named reads of the temporary-pass stock: numbering, who holds a pass on a day, the stock per day."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Exists, Row, func, select
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


def highest_number(session: Session) -> int:
    """The highest pass number printed here so far, 0 before the first."""
    return int(session.execute(select(func.max(TemporaryPass.number))).scalar_one_or_none() or 0)


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
