"""Named reads of the accreditation mirror beyond the desk's search: members of a delegation, the people a
batch or a page of events names, their identity checks and what holds each one's place in the quota."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, or_, select
from sqlalchemy.orm import Session

from regdesk.store.models import Badge, IdentityCheck, Participant
from regdesk.store.queries.passes import pass_for_day


def by_ids(session: Session, participant_ids: Sequence[str]) -> dict[str, Participant]:
    """accreditation id -> participant, for those of `participant_ids` on the list."""
    if not participant_ids:
        return {}
    return {
        p.accreditation_id: p
        for p in session.execute(
            select(Participant).where(Participant.accreditation_id.in_(list(participant_ids)))
        ).scalars()
    }


def delegation_members(session: Session, category: str, delegation: str) -> list[Participant]:
    return list(
        session.execute(
            select(Participant).where(Participant.category == category, Participant.delegation == delegation)
        ).scalars()
    )


def delegation_roles(session: Session, category: str, delegation: str) -> Sequence[Row[str, str]]:
    """(accreditation id, role in the delegation) of a delegation's members in a category."""
    return list(
        session.execute(
            select(Participant.accreditation_id, Participant.delegation_role).where(
                Participant.category == category, Participant.delegation == delegation
            )
        )
    )


def delegation_places(
    session: Session, category: str, delegation: str, day: str
) -> Sequence[Row[str, str, str, str, bool]]:
    """(id, role, given names, family name, holds a place) of a delegation's members in a category; a place is
    a valid badge, or a temporary pass assigned for `day` (services/passes.py)."""
    return list(
        session.execute(
            select(
                Participant.accreditation_id,
                Participant.delegation_role,
                Participant.given_names,
                Participant.family_name,
                or_(
                    select(Badge.serial)
                    .where(Badge.participant_id == Participant.accreditation_id, Badge.revoked.is_(False))
                    .exists(),
                    pass_for_day(Participant.accreditation_id, day),
                ),
            ).where(Participant.category == category, Participant.delegation == delegation)
        )
    )


def names_of(session: Session, participant_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """participant id -> (given names, family name)."""
    if not participant_ids:
        return {}
    rows = session.execute(
        select(Participant.accreditation_id, Participant.given_names, Participant.family_name).where(
            Participant.accreditation_id.in_(sorted(participant_ids))
        )
    )
    return {pid: (given, family) for pid, given, family in rows}


def identity_checks(session: Session, participant_id: str) -> list[IdentityCheck]:
    """A participant's identity checks, newest first (the event id breaks a tie)."""
    return list(
        session.execute(
            select(IdentityCheck)
            .where(IdentityCheck.participant_id == participant_id)
            .order_by(IdentityCheck.checked_at.desc(), IdentityCheck.event_id)
        ).scalars()
    )
