"""What the desk shows about one participant: a plain, read-only card (no ORM objects leave here).

The card also carries what the issuance rules would say right now, so the screen can tell the
clerk the next step ("check an identity document first") before they press a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from regdesk.domain.events import parse_utc
from regdesk.domain.policy import OVERRIDABLE, decide_issue
from regdesk.domain.token import format_serial
from regdesk.services import desk, photos
from regdesk.services.desk import DOCUMENT_LABELS
from regdesk.services.lookup import display_name, latin_name, participant_status
from regdesk.services.station import Station
from regdesk.store.models import Participant
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import participants as participant_queries

__all__ = ["DOCUMENT_LABELS", "BadgeLine", "IdentityLine", "ParticipantCard", "participant_card"]


@dataclass(frozen=True)
class BadgeLine:
    serial: str  # raw 8 characters
    serial_display: str  # ABCD-EFGH
    issue_no: int
    issued_local: datetime
    revoked: bool
    overridden: bool
    delivered: bool  # printed, or saved as PDF on a PDF-only station


@dataclass(frozen=True)
class IdentityLine:
    document_type: str
    document_label: str
    last4: str
    checked_local: datetime
    operator: str
    counts: bool  # still good for the next issuance (not used up by a badge issued after it)


@dataclass(frozen=True)
class ParticipantCard:
    accreditation_id: str
    name: str  # as in passport, any script
    name_latin: str
    title: str
    delegation: str
    delegation_role: str  # head | member
    category_code: str
    category_name: str
    category_colour: str
    confirmation_code: str
    status: str  # lookup.STATUSES
    current_serial: str  # valid badge serial or ""
    badges: tuple[BadgeLine, ...]
    last_check: IdentityLine | None
    # What a first issue (or, when a badge is held, a replacement) would meet right now.
    issue_blockers: tuple[str, ...]
    blocker_text: str  # the first blocker in plain words, "" when nothing blocks
    blockers_overridable: bool
    delegation_use: str = ""  # "Benin 3/4, head not yet"; "" for categories without a quota
    blocker_texts: tuple[str, ...] = ()  # every blocker in plain words, same order as issue_blockers
    photo_jpeg: bytes | None = None  # the stored photo (services/photos.py), to compare with the passport

    @property
    def holds_badge(self) -> bool:
        return bool(self.current_serial)

    @property
    def badge_delivered(self) -> bool:
        """The current badge was printed (or handed over as a PDF): only then is it "collected"."""
        return any(b.delivered for b in self.badges if b.serial == self.current_serial)


def participant_card(station: Station, participant_id: str) -> ParticipantCard | None:
    zone = station.config.zone
    with station.sessions() as session:
        p = session.get(Participant, participant_id)
        if p is None:
            return None
        status, serial = participant_status(session, p)
        rows = badge_queries.badges_with_delivery(session, participant_id)
        badges = tuple(
            BadgeLine(
                b.serial,
                format_serial(b.serial),
                b.issue_no,
                parse_utc(b.issued_at).astimezone(zone),
                bool(b.revoked),
                b.override_event_id is not None,
                bool(delivered),
            )
            for b, delivered in rows
        )
        assessment = desk.assess(station, session, participant_id, replace=bool(serial))
        check = next(iter(participant_queries.identity_checks(session, participant_id)), None)
        last_check = None
        if check is not None:
            label = DOCUMENT_LABELS.get(check.document_type, check.document_type)
            last_check = IdentityLine(
                check.document_type,
                label,
                check.document_last4,
                parse_utc(check.checked_at).astimezone(zone),
                check.operator,
                counts=assessment.facts.identity_checked,
            )
        decision = decide_issue(assessment.facts)
        category = station.config.category(p.category)
        texts = tuple(assessment.explain(r) for r in decision.refusals)
        use = assessment.delegation
        return ParticipantCard(
            accreditation_id=p.accreditation_id,
            name=display_name(p),
            name_latin=latin_name(p),
            title=p.title or "",
            delegation=p.delegation,
            delegation_role=p.delegation_role,
            category_code=p.category,
            category_name=category.name if category else p.category,
            category_colour=category.colour if category else "#777777",
            confirmation_code=p.confirmation_code or "",
            status=status,
            current_serial=serial,
            badges=badges,
            last_check=last_check,
            issue_blockers=tuple(str(r) for r in decision.refusals),
            blocker_text=texts[0] if texts else "",
            blockers_overridable=bool(decision.refusals) and all(r in OVERRIDABLE for r in decision.refusals),
            delegation_use=use.text if use is not None and use.quota else "",
            blocker_texts=texts,
            photo_jpeg=photos.photo_jpeg(session, participant_id),
        )
