"""Desk use cases: record an identity check, issue / replace a badge, override a rule, print.

Issuance commits its events first; printing happens afterwards, so a printer failure never
undoes or loses an issued badge, and a reprint renders the same badge again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regdesk.errors import RegdeskError
from regdesk.domain import token as tokens
from regdesk.domain.events import EventKind, format_utc
from regdesk.domain.policy import OVERRIDABLE, IssueFacts, Refusal, decide_issue, describe
from regdesk.render.content import BadgeContent
from regdesk.services import operators
from regdesk.services.station import Station
from regdesk.store import files
from regdesk.store.models import Badge, IdentityCheck, Participant

DOCUMENT_TYPES = ("passport", "national_id", "un_laissez_passer", "diplomatic_id", "other")


class DeskError(RegdeskError, ValueError):
    pass


class IssueRefused(DeskError):
    def __init__(self, refusal: Refusal, message: str, all_refusals: tuple[Refusal, ...]) -> None:
        self.refusal = refusal
        self.all_refusals = all_refusals
        self.overridable = all(r in OVERRIDABLE for r in all_refusals)
        super().__init__(message)


@dataclass(frozen=True)
class OverrideRequest:
    supervisor: str
    pin: str
    reason: str


@dataclass(frozen=True)
class IssuedBadge:
    serial: str
    token: str
    issue_no: int
    participant_id: str
    replaced_serial: str | None
    override_event_id: str | None


def parse_id_check(text: str) -> tuple[str, str]:
    """`passport:1234` → ("passport", "1234"). Keeps only the last 4 characters of the number."""
    doc_type, sep, number = text.partition(":")
    doc_type = doc_type.strip().lower()
    if not sep or not number.strip():
        raise DeskError(f"identity check {text!r}: expected TYPE:LAST4, e.g. passport:1234")
    if doc_type not in DOCUMENT_TYPES:
        raise DeskError(f"identity check: unknown document type {doc_type!r}; use one of {', '.join(DOCUMENT_TYPES)}")
    cleaned = "".join(ch for ch in number if ch.isalnum()).upper()
    if len(cleaned) < 4:
        raise DeskError("identity check: give at least the last 4 characters of the document number")
    return doc_type, cleaned[-4:]


def record_identity_check(station: Station, participant_id: str, document_type: str, document_number: str,
                          operator: str) -> None:
    doc_type, last4 = parse_id_check(f"{document_type}:{document_number}")
    with station.transaction() as session:
        if session.get(Participant, participant_id) is None:
            raise DeskError(f"unknown accreditation id {participant_id!r}")
        station.record(session, EventKind.IDENTITY_CHECKED,
                       {"participant_id": participant_id, "document_type": doc_type, "document_last4": last4},
                       operator)


def valid_badge(session: Session, participant_id: str) -> Badge | None:
    return session.execute(
        select(Badge).where(Badge.participant_id == participant_id, Badge.revoked.is_(False))
        .order_by(Badge.issued_at.desc())
    ).scalars().first()


def _delegation_holders(session: Session, participant: Participant) -> int:
    return session.execute(
        select(func.count(func.distinct(Badge.participant_id)))
        .join(Participant, Participant.accreditation_id == Badge.participant_id)
        .where(Participant.category == participant.category, Participant.delegation == participant.delegation,
               Participant.accreditation_id != participant.accreditation_id, Badge.revoked.is_(False))
    ).scalar_one()


def _identity_checked_since_last_badge(session: Session, participant_id: str) -> bool:
    last_check = session.execute(
        select(func.max(IdentityCheck.checked_at)).where(IdentityCheck.participant_id == participant_id)
    ).scalar_one_or_none()
    if last_check is None:
        return False
    last_badge = session.execute(
        select(func.max(Badge.issued_at)).where(Badge.participant_id == participant_id)
    ).scalar_one_or_none()
    return last_badge is None or last_check > last_badge


def evaluate(station: Station, session: Session, participant_id: str, *, replace: bool) -> tuple[IssueFacts, Participant | None]:
    participant = session.get(Participant, participant_id)
    category = station.config.category(participant.category) if participant else None
    facts = IssueFacts(
        now=station.clock.now(),
        window_opens=station.config.collection_opens_utc,
        window_closes=station.config.collection_closes_utc,
        participant_known=participant is not None,
        participant_status=participant.status if participant else "",
        identity_checked=participant is not None and _identity_checked_since_last_badge(session, participant_id),
        holds_valid_badge=participant is not None and valid_badge(session, participant_id) is not None,
        replace=replace,
        quota=category.quota if category else 0,
        delegation_holders=_delegation_holders(session, participant) if participant else 0,
    )
    return facts, participant


def require_signing_key(station: Station) -> None:
    """Refuse before anything is recorded when this station cannot sign a badge."""
    if station.signing_key is not None and station.key_id is not None:
        return
    if station.key_id:  # a desk whose key file went missing (services/station.open_station)
        raise DeskError(
            f"{station.data_dir / 'keys' / (station.key_id + '.key')} (this desk's signing key) is missing: no "
            f"badge can be signed. Put the file back, or have a supervisor start a new key (regdesk --data-dir "
            f"{station.data_dir} rotate-key); badges already issued stay valid")
    raise DeskError(f"this is a {station.role} station: it holds no signing key and cannot issue badges")


def issue_badge(
    station: Station,
    participant_id: str,
    *,
    operator: str,
    replace: bool = False,
    override: OverrideRequest | None = None,
) -> IssuedBadge:
    require_signing_key(station)
    if override is not None:
        if not override.reason.strip():
            raise DeskError("an override needs a written reason")
        if not operators.authenticate_supervisor(station, override.supervisor, override.pin):
            raise DeskError("override refused: supervisor name or PIN is wrong")
    with station.transaction() as session:
        facts, participant = evaluate(station, session, participant_id, replace=replace)
        decision = decide_issue(facts)
        overridden = frozenset(r for r in decision.refusals if r in OVERRIDABLE) if override else frozenset()
        blocking = decision.blocking(overridden)
        if blocking:
            first = blocking[0]
            message = describe(first, quota=facts.quota, delegation=participant.delegation if participant else "")
            raise IssueRefused(first, message, blocking)
        assert participant is not None
        override_event_id = None
        if overridden:
            assert override is not None
            ev = station.record(session, EventKind.OVERRIDE_GRANTED, {
                "participant_id": participant_id,
                "rule": ",".join(sorted(overridden)),
                "reason": override.reason.strip(),
                "supervisor": override.supervisor.strip(),
            }, operator)
            override_event_id = ev.id
        previous = valid_badge(session, participant_id) if replace else None
        issue_no = (session.execute(
            select(func.max(Badge.issue_no)).where(Badge.participant_id == participant_id)
        ).scalar_one_or_none() or 0) + 1
        serial = tokens.new_serial()
        token = tokens.sign_token(
            tokens.BadgeClaims(tokens.event_tag(station.config.code), station.key_id, serial, min(issue_no, 255),
                               participant_id),
            station.signing_key,
        )
        if previous is not None:
            station.record(session, EventKind.BADGE_REVOKED,
                           {"serial": previous.serial, "participant_id": participant_id, "reason": "replaced",
                            "replaced_by": serial}, operator)
        station.record(session, EventKind.BADGE_ISSUED, {
            "serial": serial, "participant_id": participant_id, "issue_no": issue_no, "key_id": station.key_id,
            "token": token, "replaces": previous.serial if previous else None,
            "override_event_id": override_event_id,
        }, operator)
    return IssuedBadge(serial, token, issue_no, participant_id, previous.serial if previous else None,
                       override_event_id)


def badge_content(station: Station, serial: str) -> BadgeContent:
    with station.sessions() as session:
        badge = session.get(Badge, serial)
        if badge is None:
            raise DeskError(f"unknown badge {serial}")
        participant = session.get(Participant, badge.participant_id)
        if participant is None:
            raise DeskError(f"badge {serial}: participant {badge.participant_id} is not in the local mirror")
    category = station.config.category(participant.category)
    return BadgeContent(
        token=badge.token, serial=badge.serial, issue_no=badge.issue_no,
        given_names=participant.given_names, family_name=participant.family_name,
        given_names_latin=participant.given_names_latin, family_name_latin=participant.family_name_latin,
        title=participant.title, delegation=participant.delegation,
        category_code=participant.category, category_name=category.name if category else participant.category,
        category_colour=category.colour if category else "#777777",
        role_label="Head of delegation" if participant.delegation_role == "head" else "",
        event_name=station.config.short_name, event_dates=station.config.dates_label,
    )


@dataclass(frozen=True)
class PrintOutcome:
    pdf_path: Path
    printed: bool  # sent to a CUPS destination
    message: str


def print_badge(station: Station, serial: str, *, operator: str, layout: str | None = None,
                out: Path | None = None) -> PrintOutcome:
    """Render the badge PDF and send it to the configured printer (or the output folder)."""
    from regdesk.render.badge import render_badge_pdf
    from regdesk.render.printing import deliver

    layout = layout or station.setting("badge_layout", "a6")
    content = badge_content(station, serial)
    pdf = render_badge_pdf(content, layout)
    path = out or station.output_dir / f"badge-{serial}-{content.issue_no}.pdf"
    files.private_dir(path.parent, tighten=out is None)
    files.write_private(path, pdf)
    printer = station.setting("printer", "")
    result = deliver(path, printer or None)
    if result.printed:
        with station.transaction() as session:
            station.record(session, EventKind.BADGE_PRINTED,
                           {"serial": serial, "printer": printer, "layout": layout}, operator)
    return PrintOutcome(path, result.printed, result.message)


def badge_history(station: Station, participant_id: str) -> list[Badge]:
    with station.sessions() as session:
        return list(session.execute(
            select(Badge).where(Badge.participant_id == participant_id).order_by(Badge.issue_no)
        ).scalars())


__all__ = ["DeskError", "IssueRefused", "OverrideRequest", "IssuedBadge", "issue_badge", "print_badge",
           "record_identity_check", "parse_id_check", "badge_content", "format_utc"]
