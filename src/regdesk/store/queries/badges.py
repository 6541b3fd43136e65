"""Named reads of the badges projection: what a participant holds, the next issue number, tokens to scan."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from regdesk.store.models import Badge, BadgeDelivery, Participant


def badge_states(session: Session, participant_id: str) -> Sequence[Row[str, bool, int]]:
    """(serial, revoked, issue_no) of every badge a participant was ever issued."""
    return list(
        session.execute(
            select(Badge.serial, Badge.revoked, Badge.issue_no).where(Badge.participant_id == participant_id)
        )
    )


def current_badge(session: Session, participant_id: str) -> Badge | None:
    """The participant's valid badge of the highest issue number (the serial breaks a tie), or None."""
    return (
        session.execute(
            select(Badge)
            .where(Badge.participant_id == participant_id, Badge.revoked.is_(False))
            .order_by(Badge.issue_no.desc(), Badge.serial)
        )
        .scalars()
        .first()
    )


def badges_of(session: Session, participant_id: str) -> list[Badge]:
    """Every badge of a participant, oldest issue first."""
    return list(
        session.execute(select(Badge).where(Badge.participant_id == participant_id).order_by(Badge.issue_no)).scalars()
    )


def valid_badges_of(session: Session, participant_id: str) -> list[Badge]:
    """A participant's valid badges in the order they were issued."""
    return list(
        session.execute(
            select(Badge)
            .where(Badge.participant_id == participant_id, Badge.revoked.is_(False))
            .order_by(Badge.issued_at, Badge.serial)
        ).scalars()
    )


def highest_issue_no(session: Session, participant_id: str) -> int:
    """The highest issue number a participant's badges reached, 0 before the first."""
    return int(
        session.execute(
            select(func.max(Badge.issue_no)).where(Badge.participant_id == participant_id)
        ).scalar_one_or_none()
        or 0
    )


def all_badges(session: Session) -> list[Badge]:
    return list(session.execute(select(Badge)).scalars())


def valid_tokens(session: Session, limit: int) -> list[str]:
    """Tokens of up to `limit` valid badges, by serial."""
    return list(
        session.execute(
            select(Badge.token).where(Badge.revoked.is_(False)).order_by(Badge.serial).limit(limit)
        ).scalars()
    )


def latest_token(session: Session, participant_id: str, *, revoked: bool) -> str | None:
    """The token of the participant's newest badge that is (or is not) revoked."""
    token: str | None = session.execute(
        select(Badge.token)
        .where(Badge.participant_id == participant_id, Badge.revoked.is_(revoked))
        .order_by(Badge.issue_no.desc())
        .limit(1)
    ).scalar()
    return token


def any_token(session: Session) -> str | None:
    token: str | None = session.execute(select(Badge.token).limit(1)).scalar()
    return token


def holders_across_stations(session: Session) -> list[str]:
    """Participants holding valid badges issued by more than one station (a partition's duplicate)."""
    return list(
        session.execute(
            select(Badge.participant_id)
            .where(Badge.revoked.is_(False))
            .group_by(Badge.participant_id)
            .having(func.count(func.distinct(Badge.station_id)) > 1)
        ).scalars()
    )


def valid_serials_of(session: Session, participant_ids: Sequence[str]) -> dict[str, str]:
    """participant id -> serial of the newest valid badge, for those of `participant_ids` who hold one."""
    if not participant_ids:
        return {}
    rows = session.execute(
        select(Badge.participant_id, Badge.serial)
        .where(Badge.participant_id.in_(list(participant_ids)), Badge.revoked.is_(False))
        .order_by(Badge.issue_no)
    )
    return {pid: serial for pid, serial in rows}  # a Result has keys(): dict() would take it for a mapping


def holders_among(session: Session, participant_ids: Sequence[str]) -> set[str]:
    """Which of these participants hold a valid badge."""
    if not participant_ids:
        return set()
    return set(
        session.execute(
            select(Badge.participant_id).where(
                Badge.participant_id.in_(list(participant_ids)), Badge.revoked.is_(False)
            )
        ).scalars()
    )


def badges_with_delivery(session: Session, participant_id: str) -> Sequence[Row[Badge, bool]]:
    """(badge, handed over to the person?) of every badge of a participant, oldest issue first."""
    return list(
        session.execute(
            select(Badge, BadgeDelivery.serial.is_not(None))
            .outerjoin(BadgeDelivery, BadgeDelivery.serial == Badge.serial)
            .where(Badge.participant_id == participant_id)
            .order_by(Badge.issue_no, Badge.serial)
        )
    )


def serials_newest_first(session: Session, participant_id: str) -> Sequence[Row[str, bool]]:
    """(serial, revoked) of a participant's badges, newest issue first."""
    return list(
        session.execute(
            select(Badge.serial, Badge.revoked)
            .where(Badge.participant_id == participant_id)
            .order_by(Badge.issue_no.desc())
        )
    )


def delegation_holder_counts(session: Session, categories: Sequence[str]) -> Sequence[Row[str, str, int]]:
    """(category, delegation, participants holding a valid badge) for the delegations of these categories."""
    return list(
        session.execute(
            select(Participant.category, Participant.delegation, func.count(func.distinct(Badge.participant_id)))
            .join(Badge, Badge.participant_id == Participant.accreditation_id)
            .where(Badge.revoked.is_(False), Participant.category.in_(list(categories)))
            .group_by(Participant.category, Participant.delegation)
        )
    )


def valid_badges_in_delegation(session: Session, category: str, delegation: str) -> Sequence[Row[Badge, Participant]]:
    """(badge, holder) of every valid badge of a delegation's members in a category, in issue order."""
    return list(
        session.execute(
            select(Badge, Participant)
            .join(Participant, Participant.accreditation_id == Badge.participant_id)
            .where(Badge.revoked.is_(False), Participant.category == category, Participant.delegation == delegation)
            .order_by(Badge.issued_at, Badge.serial)
        )
    )


def serial_exists(session: Session, serial: str) -> bool:
    return session.get(Badge, serial) is not None
