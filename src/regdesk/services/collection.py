"""Collection by a focal point: a delegation's focal point (or its head) collects several members'
badges at once, with a letter (a note verbale) that authorises it.

The clerk picks the delegation (through the collector, who must be an accredited participant of
it), ticks the members, records the COLLECTOR's identity check (type and last 4, or a passport
read) and the reference of the letter, then issues the batch in one transaction: the collector's
`identity_checked` event and one `badge_issued` per member carrying `collected_by` (the
collector's accreditation id), `authorisation` (the letter) and `collector_check` (that check's
event id). The badges are ordinary badges: a member who later appears with one scans valid; one
who lost it goes through the normal replacement (their own identity check, then F4 / --replace).

The rules are the desk's (domain/policy.py), decided for the whole batch at once
(`decide_batch`): every badge of the batch counts against the delegation's quota of the next, and
the head's place (1 + 3) is kept unless the head is in the batch. By default a batch in which any
member cannot be issued is refused whole, naming each member and why; `only_fitting` issues the
members that fit and reports the others. A member who already holds a badge is never reissued
here (a replacement needs the person).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from regdesk.domain import payloads
from regdesk.domain.policy import IssueFacts, Refusal, decide_batch, explain
from regdesk.domain.token import format_serial
from regdesk.services import desk, lookup
from regdesk.services.desk import DOCUMENT_LABELS, DeskError, PrintOutcome
from regdesk.services.station import Station
from regdesk.store import files
from regdesk.store.models import Participant
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import participants as participant_queries

AUTHORISATION_MIN_CHARACTERS = 3


@dataclass(frozen=True)
class MemberLine:
    """One person of the delegation, as the dialog lists them."""

    accreditation_id: str
    name: str
    role: str  # head | member
    status: str  # accredited | withdrawn
    current_serial: str  # valid badge held, "" for none

    @property
    def can_collect(self) -> bool:
        return self.status == "accredited" and not self.current_serial

    @property
    def state_words(self) -> str:
        if self.status != "accredited":
            return "withdrawn"
        if self.current_serial:
            return f"holds badge {format_serial(self.current_serial)}"
        return "no badge yet"


@dataclass(frozen=True)
class DelegationRoster:
    delegation: str
    category: str
    category_name: str
    use_text: str  # "Benin 0/4, head not yet"; "" without a quota
    members: tuple[MemberLine, ...]  # heads first, then by name


def roster(station: Station, participant_id: str) -> DelegationRoster:
    """The delegation of this participant (the collector, or any member), with every member's state."""
    with station.sessions() as session:
        someone = session.get(Participant, participant_id)
        if someone is None:
            raise DeskError(f"unknown accreditation id {participant_id!r}")
        rows = participant_queries.delegation_members(session, someone.category, someone.delegation)
        ids = [p.accreditation_id for p in rows]
        held = badge_queries.valid_serials_of(session, ids)
        category = station.config.category(someone.category)
        use = desk.delegation_use(station, session, someone) if category and category.quota else None
    members = tuple(
        sorted(
            (
                MemberLine(
                    p.accreditation_id,
                    lookup.display_name(p),
                    p.delegation_role,
                    p.status,
                    held.get(p.accreditation_id, ""),
                )
                for p in rows
            ),
            key=lambda m: (m.role != "head", m.name.casefold(), m.accreditation_id),
        )
    )
    return DelegationRoster(
        someone.delegation,
        someone.category,
        category.name if category else someone.category,
        use.text if use else "",
        members,
    )


@dataclass(frozen=True)
class CollectorCheck:
    """The collector's identity document: type and last 4 characters (as typed, or from a reader)."""

    document_type: str
    last4: str
    details: dict[str, Any] | None = None  # what a passport reader added (read_by, expired, name_matches)


@dataclass(frozen=True)
class MemberOutcome:
    participant_id: str
    name: str
    issued: bool
    serial: str = ""
    issue_no: int = 0
    refusal: str = ""  # reason code when not issued
    message: str = ""  # plain words when not issued

    def line(self) -> str:
        if self.issued:
            return f"{self.name}: badge {format_serial(self.serial)} issued"
        return f"{self.name}: NOT issued. {self.message}"


@dataclass(frozen=True)
class BatchResult:
    collector_id: str
    collector_name: str
    delegation: str
    authorisation: str
    check_event_id: str
    outcomes: tuple[MemberOutcome, ...]  # in the order they were decided (heads first)

    @property
    def issued(self) -> tuple[MemberOutcome, ...]:
        return tuple(o for o in self.outcomes if o.issued)

    @property
    def refused(self) -> tuple[MemberOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.issued)

    def as_json(self) -> dict[str, Any]:
        return {
            "collector": self.collector_id,
            "delegation": self.delegation,
            "authorisation": self.authorisation,
            "issued": [
                {"accreditation_id": o.participant_id, "badge_serial": o.serial, "issue_no": o.issue_no}
                for o in self.issued
            ],
            "refused": [
                {"accreditation_id": o.participant_id, "reason": o.refusal, "message": o.message} for o in self.refused
            ],
        }


class BatchRefused(DeskError):
    """Nothing was recorded: `outcomes` says, member by member, who could and who could not."""

    def __init__(self, message: str, outcomes: tuple[MemberOutcome, ...]) -> None:
        self.outcomes = outcomes
        super().__init__(message)


def authorisation_problem(text: str) -> str:
    """Why the authorisation reference cannot be recorded, in plain words; "" when it can."""
    cleaned = text.strip()
    if sum(ch.isalnum() for ch in cleaned) < AUTHORISATION_MIN_CHARACTERS:
        return (
            "give the reference of the letter or note verbale that authorises the collection "
            '(e.g. "NV 123/2017 of the Permanent Mission")'
        )
    problem = payloads.text_problem(cleaned, payloads.AUTHORISATION_MAX, free=True)
    return f"the authorisation {problem}" if problem else ""


def _words(refusal: str, assessment: desk.Assessment, facts: IssueFacts) -> str:
    """The refusal in plain words, counted with the badges of the batch."""
    text = explain(Refusal(refusal), facts, assessment.context)
    if refusal in ("head_place_reserved", "quota_reached") and facts.delegation_holders:
        text = text.replace(" (1 + 3).", " (1 + 3), counting the badges of this batch.")
    return text


def issue_batch(
    station: Station,
    member_ids: list[str],
    *,
    collector_id: str,
    authorisation: str,
    check: CollectorCheck,
    operator: str,
    only_fitting: bool = False,
) -> BatchResult:
    """Record the collector's identity check and issue the members' badges in one transaction.

    BatchRefused (nothing recorded) when a member cannot be issued, unless `only_fitting`; DeskError
    for a mistake in the request (unknown people, another delegation, no authorisation)."""
    members = list(dict.fromkeys(m.strip() for m in member_ids if m.strip()))
    if not members:
        raise DeskError("tick at least one member whose badge the focal point collects")
    problem = authorisation_problem(authorisation)
    if problem:
        raise DeskError(f"collection not recorded: {problem}")
    authorisation = authorisation.strip()
    doc_type, last4 = desk.parse_id_check(f"{check.document_type}:{check.last4}")
    desk.require_signing_key(station)
    with station.transaction() as session:
        collector = session.get(Participant, collector_id)
        if collector is None:
            raise DeskError(
                f"collector {collector_id!r} is not on the accreditation list: a focal point collects "
                "only with their own accreditation"
            )
        if collector.status != "accredited":
            raise DeskError(f"collector {collector_id} ({lookup.display_name(collector)}): accreditation withdrawn")
        people = participant_queries.by_ids(session, members)
        unknown = [m for m in members if m not in people]
        if unknown:
            raise DeskError(f"not on the accreditation list: {', '.join(unknown)}")
        elsewhere = [
            f"{m} ({people[m].delegation})"
            for m in members
            if (people[m].category, people[m].delegation) != (collector.category, collector.delegation)
        ]
        if elsewhere:
            raise DeskError(
                f"not in the collector's delegation ({collector.delegation}): {', '.join(elsewhere)}. "
                "A focal point collects for their own delegation only"
            )
        assessments = {m: desk.assess(station, session, m, replace=False) for m in members}
        decided = decide_batch(
            [(m, replace(assessments[m].facts, by_proxy=True), people[m].delegation_role == "head") for m in members]
        )
        plan: list[MemberOutcome] = []
        for m, (decision, facts) in decided.items():
            name = lookup.display_name(people[m])
            if decision.allowed:
                plan.append(MemberOutcome(m, name, True))
            else:
                code = str(decision.reason)
                plan.append(MemberOutcome(m, name, False, refusal=code, message=_words(code, assessments[m], facts)))
        refused = [o for o in plan if not o.issued]
        if refused and (not only_fitting or len(refused) == len(plan)):
            who = " ".join(f"{o.name} ({o.participant_id}): {o.message}" for o in refused)
            lead = "no badge issued" if len(refused) == len(plan) else "batch refused, nothing issued"
            raise BatchRefused(f"{lead}: {len(refused)} of {len(plan)} cannot be issued: {who}", tuple(plan))
        check_event = desk.record_check_in(station, session, collector_id, doc_type, last4, operator, check.details)
        outcomes = []
        for outcome in plan:
            if not outcome.issued:
                outcomes.append(outcome)
                continue
            details = (
                None
                if outcome.participant_id == collector_id
                else {"collected_by": collector_id, "authorisation": authorisation, "collector_check": check_event.id}
            )
            badge = desk.record_badge(station, session, outcome.participant_id, operator, details=details)
            outcomes.append(replace(outcome, serial=badge.serial, issue_no=badge.issue_no))
    return BatchResult(
        collector_id,
        lookup.display_name(collector),
        collector.delegation,
        authorisation,
        check_event.id,
        tuple(outcomes),
    )


def print_batch(
    station: Station, serials: list[str], *, operator: str, layout: str | None = None, out: Path | None = None
) -> PrintOutcome:
    """The batch's badges in one PDF (four to an A4 sheet on the a4-4up layout, one per page on a
    badge layout), sent to the configured printer as one job; each badge counts as delivered once
    the printer took the job (or, with no printer, the PDF was saved)."""
    from regdesk.render.badge import render_badge_sheet
    from regdesk.render.printing import deliver

    if not serials:
        raise DeskError("no badge to print")
    layout = layout or station.setting("badge_layout", "a6")
    contents = [desk.badge_content(station, serial) for serial in serials]
    pdf = render_badge_sheet(contents, layout)
    path = out or station.output_dir / f"batch-{serials[0]}-{len(serials)}.pdf"
    files.private_dir(path.parent, tighten=out is None)
    files.write_private(path, pdf)
    printer = station.setting("printer", "")
    result = deliver(path, printer or None)
    status = desk.PRINTED if result.printed else (desk.PDF_ONLY if not printer else desk.NOT_PRINTED)
    if status != desk.NOT_PRINTED:
        desk.record_printed(station, serials, printed=result.printed, printer=printer, layout=layout, operator=operator)
    return PrintOutcome(
        path,
        result.printed,
        result.message,
        status,
        printer,
        result.problem or ("" if status != desk.NOT_PRINTED else result.message),
    )


def check_label(check: CollectorCheck) -> str:
    return f"{DOCUMENT_LABELS.get(check.document_type, check.document_type)} ····{check.last4[-4:].upper()}"


__all__ = [
    "BatchRefused",
    "BatchResult",
    "CollectorCheck",
    "DelegationRoster",
    "MemberLine",
    "MemberOutcome",
    "authorisation_problem",
    "check_label",
    "issue_batch",
    "print_batch",
    "roster",
]
