"""Desk use cases: record an identity check, issue / replace a badge, override a rule, print.

Issuance commits its events first; printing happens afterwards, so a printer failure never
undoes or loses an issued badge, and a reprint renders the same badge again.

A badge is *delivered* (the desk shows "collected") once a printer accepted it, or, on a station
with no printer configured (PDF only), once its PDF was saved for the clerk to hand over. A badge
whose printer failed stays "issued, not printed" until a reprint reaches the printer.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain import token as tokens
from regdesk.domain.events import Event, EventKind, format_utc, parse_utc
from regdesk.domain.names import display_name
from regdesk.domain.policy import (
    OVERRIDABLE,
    IssueFacts,
    Refusal,
    RefusalContext,
    check_counts,
    decide_issue,
    explain,
    local_moment,
)
from regdesk.errors import RegdeskError
from regdesk.render.content import BadgeContent
from regdesk.render.printing import StateCheck
from regdesk.services import operators, photos
from regdesk.services.station import Station
from regdesk.store import files
from regdesk.store.models import Badge, Participant
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import participants as participant_queries
from regdesk.store.queries import passes as pass_queries

DOCUMENT_TYPES = ("passport", "national_id", "un_laissez_passer", "diplomatic_id", "other")
DOCUMENT_LABELS = {
    "passport": "Passport",
    "national_id": "National identity card",
    "un_laissez_passer": "UN laissez-passer",
    "diplomatic_id": "Diplomatic identity card",
    "other": "Other official document",
}
# An override reason must say something a later reader can check: at least this many words and
# letters ("ok", "x", "approved" are refused; "head of delegation confirmed by e-mail" is fine).
OVERRIDE_REASON_MIN_WORDS = 3
OVERRIDE_REASON_MIN_LETTERS = 10


class DeskError(RegdeskError, ValueError):
    pass


class IssueRefused(DeskError):
    def __init__(
        self, refusal: Refusal, message: str, all_refusals: tuple[Refusal, ...], all_messages: tuple[str, ...] = ()
    ) -> None:
        self.refusal = refusal
        self.all_refusals = all_refusals
        self.all_messages = all_messages or (message,)  # plain words of each refusal, same order
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


def override_reason_problem(reason: str) -> str:
    """Why a written override reason is not enough, in plain words; "" when it is."""
    words = [w for w in reason.split() if any(ch.isalpha() for ch in w)]
    letters = sum(ch.isalpha() for ch in reason)
    if len(words) < OVERRIDE_REASON_MIN_WORDS or letters < OVERRIDE_REASON_MIN_LETTERS:
        return (
            f"the reason must say why, in at least {OVERRIDE_REASON_MIN_WORDS} words "
            '(e.g. "head of delegation confirmed by e-mail")'
        )
    return ""


def record_identity_check(
    station: Station,
    participant_id: str,
    document_type: str,
    document_number: str,
    operator: str,
    *,
    details: dict[str, Any] | None = None,
) -> str:
    """Record the document seen (type and last 4 characters only). `details`: what a passport
    reader added (read_by, expired, name_matches; services/idcheck.py). Returns the event id."""
    doc_type, last4 = parse_id_check(f"{document_type}:{document_number}")
    with station.transaction() as session:
        if session.get(Participant, participant_id) is None:
            raise DeskError(f"unknown accreditation id {participant_id!r}")
        event = record_check_in(station, session, participant_id, doc_type, last4, operator, details)
    return event.id


def record_check_in(
    station: Station,
    session: Session,
    participant_id: str,
    doc_type: str,
    last4: str,
    operator: str,
    details: dict[str, Any] | None = None,
) -> Event:
    """The identity_checked event, in the caller's transaction (a check at the desk, by a passport
    reader, or of a focal point collecting for a delegation): `doc_type` and `last4` as parse_id_check
    gives them, and the badge the check was made against. It counts for the next issuance only while
    that badge is still the participant's current one (policy.check_counts)."""
    current, latest = badge_reference(session, participant_id)
    reference = sorted(current or latest)
    return station.record(
        session,
        EventKind.IDENTITY_CHECKED,
        ep.IdentityChecked(participant_id, doc_type, last4, reference[0] if reference else None, **(details or {})),
        operator,
    )


def valid_badge(session: Session, participant_id: str) -> Badge | None:
    return badge_queries.current_badge(session, participant_id)


def badge_reference(session: Session, participant_id: str) -> tuple[frozenset[str], frozenset[str]]:
    """(valid badges, badges of the highest issue number) of a participant: what an identity check names."""
    rows = badge_queries.badge_states(session, participant_id)
    current = frozenset(serial for serial, revoked, _ in rows if not revoked)
    top = max((issue_no for _, _, issue_no in rows), default=None)
    latest = frozenset(serial for serial, _, issue_no in rows if issue_no == top)
    return current, latest


@dataclass(frozen=True)
class DelegationUse:
    """How much of a delegation's quota is used, for the card ("Benin 3/4, head not yet")."""

    delegation: str
    quota: int  # 0 = no limit
    head_reserved: bool
    holders: int  # participants of the delegation (same category) holding a valid badge
    head_listed: bool
    head_holds: bool
    head_name: str

    @property
    def text(self) -> str:
        if not self.quota:
            return f"{self.delegation}: {self.holders} badge{'s' if self.holders != 1 else ''} (no limit)"
        text = f"{self.delegation} {self.holders}/{self.quota}"
        if self.head_reserved:
            text += ", head has a badge" if self.head_holds else ", head not yet"
        return text


def _today(station: Station) -> str:
    return station.config.local_day(station.clock.now()).isoformat()


def delegation_use(station: Station, session: Session, participant: Participant) -> DelegationUse:
    category = station.config.category(participant.category)
    # A temporary pass assigned for today holds the person's place today (services/passes.py).
    rows = participant_queries.delegation_places(session, participant.category, participant.delegation, _today(station))
    heads = [row for row in rows if row[1] == "head"]
    return DelegationUse(
        delegation=participant.delegation,
        quota=category.quota if category else 0,
        head_reserved=bool(category and category.head_reserved),
        holders=sum(1 for row in rows if row[4]),
        head_listed=bool(heads),
        head_holds=any(row[4] for row in heads),
        head_name=display_name(heads[0][2], heads[0][3]) if heads else "",
    )


@dataclass(frozen=True)
class Assessment:
    """Everything the issuance rules see about one participant now, and the words to explain them."""

    facts: IssueFacts
    participant: Participant | None
    delegation: DelegationUse | None
    context: RefusalContext

    def explain(self, refusal: Refusal) -> str:
        return explain(refusal, self.facts, self.context)


def assess(station: Station, session: Session, participant_id: str, *, replace: bool) -> Assessment:
    participant = session.get(Participant, participant_id)
    zone = station.config.zone
    category = station.config.category(participant.category) if participant else None
    # Only a limited category needs the delegation's head count (the card shows it for those only).
    use = delegation_use(station, session, participant) if participant and category and category.quota else None
    current, latest = badge_reference(session, participant_id)
    checks = participant_queries.identity_checks(session, participant_id)
    checked = any(check_counts(c.for_badge, current, latest) for c in checks)
    holds = bool(current)
    is_head = participant is not None and participant.delegation_role == "head"
    facts = IssueFacts(
        now=station.clock.now(),
        window_opens=station.config.collection_opens_utc,
        window_closes=station.config.collection_closes_utc,
        participant_known=participant is not None,
        participant_status=participant.status if participant else "",
        identity_checked=participant is not None and checked,
        holds_valid_badge=participant is not None and holds,
        replace=replace,
        quota=use.quota if use else 0,
        # The person's own place (a badge, or a pass for today) is not someone else's.
        delegation_holders=(
            use.holders
            - (
                1
                if holds
                or (participant is not None and pass_queries.holds_pass_on(session, participant_id, _today(station)))
                else 0
            )
        )
        if use
        else 0,
        head_reserved=bool(use and use.head_reserved),
        participant_is_head=is_head,
        # Only members are held back by the head's place, so "a head holds one" needs no "other than this one".
        head_holds_badge=bool(use and use.head_holds),
    )
    last_check = ""
    if checks:
        c = checks[0]
        last_check = (
            f"{DOCUMENT_LABELS.get(c.document_type, c.document_type)} ····{c.document_last4}, "
            f"{local_moment(parse_utc(c.checked_at), zone)}"
        )
    reference = sorted(current or latest)
    context = RefusalContext(
        zone=zone,
        delegation=participant.delegation if participant else "",
        current_badge=tokens.format_serial(sorted(current)[0]) if current else "",
        last_check=last_check,
        check_used_by=tokens.format_serial(reference[0]) if checks and not checked and reference else "",
        head_name=use.head_name if use else "",
    )
    return Assessment(facts, participant, use, context)


def require_signing_key(station: Station) -> tuple[str, Ed25519PrivateKey]:
    """Refuse before anything is recorded when this station cannot sign a badge; else (key id, key)."""
    if station.signing_key is not None and station.key_id is not None:
        return station.key_id, station.signing_key
    if station.key_id:  # a desk whose key file went missing (services/station.open_station)
        raise DeskError(
            f"{station.data_dir / 'keys' / (station.key_id + '.key')} (this desk's signing key) is missing: no "
            f"badge can be signed. Put the file back, or have a supervisor start a new key (regdesk --data-dir "
            f"{station.data_dir} rotate-key); badges already issued stay valid"
        )
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
        problem = override_reason_problem(override.reason)
        if problem:
            raise DeskError(f"override refused: {problem}")
        # authority: who may override is the supervisor role, checked by the operators service.
        if not operators.authenticate_supervisor(station, override.supervisor, override.pin):
            raise DeskError("override refused: supervisor name or PIN is wrong")
    with station.transaction() as session:
        assessment = assess(station, session, participant_id, replace=replace)
        facts, participant = assessment.facts, assessment.participant
        decision = decide_issue(facts)
        overridden = frozenset(r for r in decision.refusals if r in OVERRIDABLE) if override else frozenset()
        blocking = decision.blocking(overridden)
        if blocking:
            first = blocking[0]
            raise IssueRefused(
                first, assessment.explain(first), blocking, tuple(assessment.explain(r) for r in blocking)
            )
        assert participant is not None
        override_event_id = None
        if overridden:
            assert override is not None
            ev = station.record(
                session,
                EventKind.OVERRIDE_GRANTED,
                ep.OverrideGranted(
                    rule=",".join(sorted(overridden)),
                    reason=override.reason.strip(),
                    supervisor=override.supervisor.strip(),
                    participant_id=participant_id,
                ),
                operator,
            )
            override_event_id = ev.id
        previous = valid_badge(session, participant_id) if replace else None
        return record_badge(
            station, session, participant_id, operator, previous=previous, override_event_id=override_event_id
        )


def record_badge(
    station: Station,
    session: Session,
    participant_id: str,
    operator: str,
    *,
    previous: Badge | None = None,
    override_event_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> IssuedBadge:
    """Sign a new badge and record it (revoking `previous`), inside the caller's transaction, once
    the issuance rules said yes. `details`: more badge_issued fields (a focal point's collection)."""
    issue_no = badge_queries.highest_issue_no(session, participant_id) + 1
    serial = tokens.new_serial()
    key_id, signing_key = require_signing_key(station)  # the callers checked before their transaction
    token = tokens.sign_token(
        tokens.BadgeClaims(tokens.event_tag(station.config.code), key_id, serial, min(issue_no, 255), participant_id),
        signing_key,
    )
    if previous is not None:
        station.record(
            session,
            EventKind.BADGE_REVOKED,
            ep.BadgeRevoked(previous.serial, participant_id, reason="replaced", replaced_by=serial),
            operator,
        )
    station.record(
        session,
        EventKind.BADGE_ISSUED,
        ep.BadgeIssued(
            serial,
            participant_id,
            issue_no,
            key_id,  # the key the token was signed with: the station's active key
            token,
            replaces=previous.serial if previous else None,
            override_event_id=override_event_id,
            **(details or {}),
        ),
        operator,
    )
    return IssuedBadge(
        serial, token, issue_no, participant_id, previous.serial if previous else None, override_event_id
    )


def badge_content(station: Station, serial: str) -> BadgeContent:
    with station.sessions() as session:
        badge = session.get(Badge, serial)
        if badge is None:
            raise DeskError(f"unknown badge {serial}")
        participant = session.get(Participant, badge.participant_id)
        if participant is None:
            raise DeskError(f"badge {serial}: participant {badge.participant_id} is not in the local mirror")
        photo = photos.photo_jpeg(session, badge.participant_id)
    category = station.config.category(participant.category)
    return BadgeContent(
        token=badge.token,
        serial=badge.serial,
        issue_no=badge.issue_no,
        given_names=participant.given_names,
        family_name=participant.family_name,
        given_names_latin=participant.given_names_latin,
        family_name_latin=participant.family_name_latin,
        title=participant.title,
        delegation=participant.delegation,
        category_code=participant.category,
        category_name=category.name if category else participant.category,
        category_colour=category.colour if category else "#777777",
        role_label="Head of delegation" if participant.delegation_role == "head" else "",
        event_name=station.config.short_name,
        event_dates=station.config.dates_label,
        photo_jpeg=photo,
    )


PRINTED, PDF_ONLY, NOT_PRINTED = "printed", "pdf_only", "not_printed"


@dataclass(frozen=True)
class PrintOutcome:
    pdf_path: Path
    printed: bool  # a CUPS printer accepted the job
    message: str
    status: str = PRINTED  # PRINTED | PDF_ONLY (no printer configured: the PDF is the output) | NOT_PRINTED
    printer: str = ""  # the configured printer, "" on a PDF-only station
    problem: str = ""  # NOT_PRINTED: why, in a few words
    photo: str = ""  # "printed", "none" (no photo on file) or "no_room" (the layout has no photo box)

    @property
    def delivered(self) -> bool:
        """The badge can be handed over: printed, or a PDF-only station saved it."""
        return self.status != NOT_PRINTED


def record_printed(
    station: Station, serials: list[str], *, printed: bool, printer: str, layout: str, operator: str
) -> None:
    """A badge_printed event for each badge, in one transaction: on `printer` when CUPS took the job,
    else saved as a PDF (a station with no printer)."""
    with station.transaction() as session:
        for serial in serials:
            station.record(
                session,
                EventKind.BADGE_PRINTED,
                ep.BadgePrinted(serial, printer if printed else "", layout, "printer" if printed else "pdf"),
                operator,
            )


def print_badge(
    station: Station,
    serial: str,
    *,
    operator: str,
    layout: str | None = None,
    out: Path | None = None,
    printer: str | None = None,
    state: StateCheck | None = None,
) -> PrintOutcome:
    """Render the badge PDF and send it to the configured printer (or, with none, leave it in the output folder).
    `printer` sends it to that CUPS queue instead (the station's second printer, say). `state`: the
    printer's state, asked already (`check_printer`); otherwise it is asked now, while the PDF renders."""
    from regdesk.render.badge import render_badge_pdf
    from regdesk.render.printing import deliver

    printer = printer or station.setting("printer", "")
    if state is None or state.name != printer:
        state = check_printer(station, printer)
    layout = layout or station.setting("badge_layout", "a6")
    from regdesk.render.layouts import BadgeLayout, load_layout

    content = badge_content(station, serial)
    chosen = load_layout(layout)
    room = (chosen if isinstance(chosen, BadgeLayout) else chosen.badge).has_photo
    photo = "no_room" if not room else ("printed" if content.photo_jpeg else "none")
    pdf = render_badge_pdf(content, layout)
    path = out or station.output_dir / f"badge-{serial}-{content.issue_no}.pdf"
    files.private_dir(path.parent, tighten=out is None)
    # Not fsynced: lp has copied it into the CUPS spool when it answers, and a reprint renders the
    # badge again from the log (a lost PDF costs nothing; its fsync cost every F3 a disk flush).
    files.write_private(path, pdf, durable=False)
    result = deliver(path, printer or None, state=state)
    status = PRINTED if result.printed else (PDF_ONLY if not printer else NOT_PRINTED)
    if status != NOT_PRINTED:
        record_printed(station, [serial], printed=result.printed, printer=printer, layout=layout, operator=operator)
    message = result.message
    if photo == "none":
        message += f" {NO_PHOTO_WARNING}"
    return PrintOutcome(
        path,
        result.printed,
        message,
        status,
        printer,
        result.problem or ("" if status != NOT_PRINTED else result.message),
        photo,
    )


def check_printer(station: Station, printer: str | None = None) -> StateCheck | None:
    """Start asking CUPS how `printer` (default: the station's) is doing, to be read by
    `print_badge(state=...)` when the job is about to go; None without a printer."""
    from regdesk.render.printing import valid_printer_name

    name = printer or station.setting("printer", "")
    if not name or not valid_printer_name(name) or shutil.which("lp") is None:
        return None  # deliver() refuses these itself, without asking CUPS
    return StateCheck(name)


NO_PHOTO_WARNING = "No photo on file: this badge has none; check the passport against the face."


__all__ = [
    "DeskError",
    "IssueRefused",
    "OverrideRequest",
    "IssuedBadge",
    "issue_badge",
    "print_badge",
    "check_printer",
    "record_check_in",
    "record_printed",
    "record_identity_check",
    "parse_id_check",
    "badge_content",
    "format_utc",
]
