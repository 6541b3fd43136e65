"""Finding a participant at the desk: by name, delegation, accreditation id, badge serial, confirmation code.

Contract used by the TUI and the CLI (keep it stable):
    search(station, query, limit=50) -> list[SearchHit]   best first
    SearchHit: accreditation_id, name, name_latin, delegation, category, status, delegation_role, badge_serial
    status is one of STATUSES.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from regdesk.domain.names import words
from regdesk.services.station import Station
from regdesk.store.models import Badge, Participant

STATUSES = ("accredited", "badge_collected", "badge_replaced", "withdrawn")


@dataclass(frozen=True)
class SearchHit:
    accreditation_id: str
    name: str  # as in passport
    name_latin: str
    delegation: str
    category: str
    status: str
    delegation_role: str
    badge_serial: str  # current valid badge, or ""

    def as_json(self) -> dict:
        return asdict(self)


def display_name(p: Participant) -> str:
    return f"{p.given_names} {p.family_name}".strip()


def latin_name(p: Participant) -> str:
    return f"{p.given_names_latin} {p.family_name_latin}".strip()


def participant_status(session: Session, p: Participant) -> tuple[str, str]:
    """(status, current badge serial)."""
    badges = session.execute(select(Badge.serial, Badge.revoked).where(Badge.participant_id == p.accreditation_id)
                             .order_by(Badge.issue_no)).all()
    if p.status == "withdrawn":
        return "withdrawn", ""
    valid = [serial for serial, revoked in badges if not revoked]
    if not valid:
        return "accredited", ""
    return ("badge_replaced" if len(badges) > 1 else "badge_collected"), valid[-1]


def to_hit(session: Session, p: Participant) -> SearchHit:
    status, serial = participant_status(session, p)
    return SearchHit(p.accreditation_id, display_name(p), latin_name(p), p.delegation, p.category, status,
                     p.delegation_role, serial)


def search(station: Station, query: str, limit: int = 50) -> list[SearchHit]:
    """Simple baseline (exact id/serial, then all folded words as prefixes). Replaced by the fast index."""
    terms = words(query)
    if not terms:
        return []
    with station.sessions() as session:
        exact = session.get(Participant, query.strip())
        if exact is not None:
            return [to_hit(session, exact)]
        stmt = select(Participant)
        for term in terms:
            stmt = stmt.where(Participant.search_text.like(f"%{term}%"))
        return [to_hit(session, p) for p in session.execute(stmt.limit(limit)).scalars()]
