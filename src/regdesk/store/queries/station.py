"""Named reads of a station's own tables: its meta values, the badge keys it believes, its operators."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from regdesk.store.models import Meta, Operator, PublicKey


def meta_values(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Meta.key, Meta.value)).all())


def badge_keys(session: Session, event_code: str) -> dict[str, bytes]:
    """key id -> public key of the badge-signing keys this station believes for the event."""
    rows = session.execute(select(PublicKey.key_id, PublicKey.public_key).where(PublicKey.event_code == event_code))
    return {kid: bytes.fromhex(pub) for kid, pub in rows}


def published_keys(session: Session) -> list[PublicKey]:
    """Every badge key known here, oldest publication first."""
    return list(session.execute(select(PublicKey).order_by(PublicKey.published_at)).scalars())


def active_operators(session: Session) -> Sequence[Row[str, str]]:
    """(name, role) of the active operators, by name."""
    return list(
        session.execute(select(Operator.name, Operator.role).where(Operator.active.is_(True)).order_by(Operator.name))
    )
