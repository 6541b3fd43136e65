"""Named reads of the supervisors' overrides: which rules an override lifted, by person or by event."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from regdesk.store.models import Override


def rules_by_participant(session: Session, participant_ids: Sequence[str]) -> Sequence[Row[str, str]]:
    """(participant id, comma-separated rules) of every override granted to these participants."""
    if not participant_ids:
        return []
    return list(
        session.execute(
            select(Override.participant_id, Override.rule).where(Override.participant_id.in_(list(participant_ids)))
        )
    )


def rules_by_event(session: Session, event_ids: Sequence[str]) -> dict[str, str]:
    """override event id -> its comma-separated rules."""
    if not event_ids:
        return {}
    rows = session.execute(select(Override.event_id, Override.rule).where(Override.event_id.in_(list(event_ids))))
    return {event_id: rule for event_id, rule in rows}
