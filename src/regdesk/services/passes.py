"""Temporary passes: print a day's contingency stock, assign a pass to a person, void one, and
reconcile printed / assigned / voided / unused per day (domain/passes.py).

Printing happens on a desk (the passes are signed with the desk's badge-signing key, certified
through its chain like every badge) and only by a supervisor. Each desk numbers its own passes,
after the highest of its key, behind its desk mark: TP-KQX-0001, TP-KQX-0002, ... across days, and
another desk's TP-BWE-0001: two desks printing while cut off from each other never reuse a serial.
Passes printed before desk marks (TP-0001) keep their serials.

An assigned pass counts as the person's badge for its day in the delegation quota (1 + 3): a
delegation whose members hold 3 badges and 1 pass for today has used its 4 places today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain import passes as domain
from regdesk.domain.authority import Act
from regdesk.domain.events import EventKind
from regdesk.domain.names import display_name
from regdesk.domain.payloads import MAX_PASSES_PER_RUN
from regdesk.domain.token import event_tag
from regdesk.errors import RegdeskError
from regdesk.services import desk, operators
from regdesk.services.station import Station
from regdesk.store import files
from regdesk.store.models import Participant, TemporaryPass
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import participants as participant_queries
from regdesk.store.queries import passes as pass_queries


class PassError(RegdeskError, ValueError):
    """A pass that cannot be printed, assigned or voided; the message says why and what to do."""


@dataclass(frozen=True)
class PrintedRun:
    day: date
    first: int
    last: int
    key_id: str
    pdf_path: Path
    event_id: str
    mark: str = ""

    @property
    def serials(self) -> list[str]:
        return [domain.pass_serial(n, self.mark) for n in range(self.first, self.last + 1)]

    def as_json(self) -> dict[str, Any]:
        return {
            "printed": True,
            "day": self.day.isoformat(),
            "count": self.last - self.first + 1,
            "first": domain.pass_serial(self.first, self.mark),
            "last": domain.pass_serial(self.last, self.mark),
            "mark": self.mark,
            "key_id": self.key_id,
            "pdf": str(self.pdf_path),
            "event_id": self.event_id,
        }


@dataclass(frozen=True)
class AssignedPass:
    serial: str
    participant_id: str
    name: str
    day: str
    event_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "assigned": True,
            "serial": self.serial,
            "pass": domain.format_pass_serial(self.serial),
            "accreditation_id": self.participant_id,
            "name": self.name,
            "day": self.day,
            "event_id": self.event_id,
        }


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _require(station: Station, operator: str, act: str) -> None:
    try:
        operators.require_act(station, operator, act)
    except operators.NotAllowed as exc:
        raise PassError(str(exc)) from None


def print_passes(station: Station, *, day: date, count: int, operator: str, out: Path | None = None) -> PrintedRun:
    """Sign `count` numbered passes for `day`, render them (A4, 8 per page) and record the run.
    The PDF is written inside the transaction: no file, no recorded run."""
    _require(station, operator, Act.PRINT_PASSES)
    if not 1 <= count <= MAX_PASSES_PER_RUN:
        raise PassError(f"--count: print 1 to {MAX_PASSES_PER_RUN} passes at a time, not {count}")
    if day not in station.config.valid_days:
        days = ", ".join(d.isoformat() for d in station.config.valid_days)
        raise PassError(f"--day {day.isoformat()} is not a meeting day; passes can be printed for {days}")
    # The pass sheet's renderer (reportlab) loads when passes are printed, not when a desk starts.
    from regdesk.render.passes import PassContent, render_pass_sheet

    desk.require_signing_key(station)
    assert station.signing_key is not None and station.key_id is not None
    tag = event_tag(station.config.code)
    mark = domain.desk_mark(station.key_id)
    with station.transaction() as session:
        if domain.mark_taken(station.key_id, list(station.public_keys(session))):
            raise PassError(
                f"this desk's passes would read TP-{mark}-..., like another desk's; print the stock on another desk"
            )
        highest = pass_queries.highest_number(session, station.key_id, mark)
        first, last = highest + 1, highest + count
        if last > domain.MAX_NUMBER:
            raise PassError(f"pass numbers would pass {domain.MAX_NUMBER}; void unused passes instead")
        contents = [
            PassContent(
                domain.sign_pass(domain.PassClaims(tag, station.key_id, day, n), station.signing_key),
                domain.format_pass_serial(domain.pass_serial(n, mark)),
                day_label(day),
                station.config.short_name,
            )
            for n in range(first, last + 1)
        ]
        pdf = render_pass_sheet(contents, title=f"Temporary passes {day.isoformat()}")
        path = out or station.output_dir / f"passes-{day.isoformat()}-{mark}-{first:04d}-{last:04d}.pdf"
        files.private_dir(path.parent, tighten=out is None)
        files.write_private(path, pdf)
        event = station.record(
            session,
            EventKind.PASSES_PRINTED,
            ep.PassesPrinted(day.isoformat(), first, last, station.key_id, output=path.name, mark=mark),
            operator,
        )
    return PrintedRun(day, first, last, station.key_id, path, event.id, mark)


def parse_serial(text: str) -> str:
    serial = domain.normalise_pass_serial(text)
    if serial is None:
        raise PassError(
            f"{text!r} is not a pass number; type the number printed on the pass, e.g. TP-KQX-0012 or KQX12"
        )
    return serial


def resolve_serial(session: Session, serial: str) -> str:
    """The pass a typed serial means. A number typed without its desk mark ("12") is the unmarked
    TP-0012 when that was printed, else the one marked pass of that number; when several desks
    printed it, the clerk is asked for the letters."""
    if domain.pass_number(serial) is None or serial[2:3].isalpha():
        return serial
    row = session.get(TemporaryPass, serial)
    if row is not None and row.printed_event_id:
        return serial
    number = domain.pass_number(serial)
    assert number is not None  # checked above
    marked = pass_queries.printed_with_number(session, number, other_than=serial)
    if len(marked) == 1:
        return marked[0]
    if len(marked) > 1:
        choices = " or ".join(domain.format_pass_serial(s) for s in sorted(marked))
        raise PassError(f"{len(marked)} desks printed pass number {number}: {choices}? type the letters too")
    return serial


def pass_day_holders(session: Session, participant_ids: list[str], day: str) -> set[str]:
    """Of these participants, those holding a pass assigned for `day` (not voided)."""
    return pass_queries.holders_on(session, participant_ids, day)


def assign_pass(
    station: Station, serial_text: str, participant_id: str, *, operator: str, document_type: str, document_number: str
) -> AssignedPass:
    """Give a printed pass to a person after an identity check (type and last 4 characters only).
    Refused for an unknown, voided or already assigned pass, a withdrawn or unknown participant,
    and when the delegation's places for the pass's day are used (badges and passes together)."""
    _require(station, operator, Act.ASSIGN_PASS)
    serial = parse_serial(serial_text)
    try:
        doc_type, last4 = desk.parse_id_check(f"{document_type}:{document_number}")
    except desk.DeskError as exc:
        raise PassError(str(exc)) from None
    with station.transaction() as session:
        serial = resolve_serial(session, serial)
        label = domain.format_pass_serial(serial)
        row = session.get(TemporaryPass, serial)
        if row is None or not row.printed_event_id:
            raise PassError(
                f"pass {label} was never printed (or its print run has not reached this station yet); "
                "check the number on the pass"
            )
        if row.voided:
            raise PassError(f"pass {label} was voided ({row.void_reason}); give another pass")
        if row.participant_id:
            if row.participant_id == participant_id:
                raise PassError(f"pass {label} is already assigned to {participant_id}")
            raise PassError(
                f"pass {label} is already assigned to someone else ({row.participant_id}); give another pass"
            )
        person = _check_holder(station, session, participant_id, row.day)
        event = station.record(
            session,
            EventKind.PASS_ASSIGNED,
            ep.PassAssigned(serial, participant_id, row.day, doc_type, last4),
            operator,
        )
    return AssignedPass(serial, participant_id, display_name(person.given_names, person.family_name), row.day, event.id)


def _check_holder(station: Station, session: Session, participant_id: str, day: str) -> Participant:
    """The participant, if they may hold a pass on `day`: known, accredited, within the quota."""
    person = session.get(Participant, participant_id)
    if person is None:
        raise PassError(f"unknown accreditation id {participant_id!r}")
    if person.status != "accredited":
        raise PassError(f"{participant_id}: accreditation withdrawn; no pass can be assigned")
    _check_quota(station, session, person, day)
    return person


def _check_quota(station: Station, session: Session, person: Participant, day: str) -> None:
    """1 + 3 for the pass's day: the person takes a place unless they already hold a badge or a pass."""
    category = station.config.category(person.category)
    if not category or not category.quota:
        return
    pid = person.accreditation_id
    members = participant_queries.delegation_roles(session, person.category, person.delegation)
    ids = [m[0] for m in members]
    badge_holders = badge_queries.holders_among(session, ids)
    holders = badge_holders | pass_day_holders(session, ids, day)
    if pid in holders:
        return  # already counted: a second document for the same place
    heads = {m[0] for m in members if m[1] == "head"}
    if len(holders) >= category.quota:
        raise PassError(
            f"{person.delegation} already uses {len(holders)} of its {category.quota} places on {day} "
            "(badges and assigned passes count alike); a supervisor must decide"
        )
    # 1 + 3, as policy.member_places_full: a member may not take the place kept for a head without one.
    if category.head_reserved and pid not in heads and not heads & holders and len(holders) >= category.quota - 1:
        raise PassError(
            f"{person.delegation} uses {len(holders)} of its {category.quota} places on {day}; the last "
            "is kept for its head of delegation (1 + 3), who holds no badge or pass yet"
        )


def void_pass(station: Station, serial_text: str, *, operator: str, reason: str) -> str:
    """A lost, stolen or spoilt pass: scan points deny it once the void reaches them."""
    _require(station, operator, Act.VOID_PASS)
    serial = parse_serial(serial_text)
    if not reason.strip():
        raise PassError("say why the pass is voided (lost, stolen, spoilt...)")
    with station.transaction() as session:
        serial = resolve_serial(session, serial)
        row = session.get(TemporaryPass, serial)
        if row is None or not row.printed_event_id:
            raise PassError(f"pass {domain.format_pass_serial(serial)} was never printed")
        if row.voided:
            raise PassError(f"pass {domain.format_pass_serial(serial)} is already voided")
        event = station.record(session, EventKind.PASS_VOIDED, ep.PassVoided(serial, reason.strip()[:400]), operator)
    return event.id


@dataclass(frozen=True)
class OverriddenAssignment:
    serial: str
    participant_id: str  # "" when un-assigned
    previous_participant_id: str
    event_id: str

    def as_json(self) -> dict[str, Any]:
        return {
            "overridden": True,
            "serial": self.serial,
            "pass": domain.format_pass_serial(self.serial),
            "accreditation_id": self.participant_id or None,
            "previous_accreditation_id": self.previous_participant_id or None,
            "event_id": self.event_id,
        }


def override_assignment(
    station: Station, serial_text: str, participant_id: str, *, operator: str, reason: str
) -> OverriddenAssignment:
    """A supervisor corrects an assignment: the pass goes to `participant_id`, or back to the unused
    stock when it is "". Scan points follow the latest override; the audit keeps the reason."""
    _require(station, operator, Act.OVERRIDE_PASS_ASSIGNMENT)
    if not reason.strip():
        raise PassError("--reason: say why the assignment is changed (wrong person, pass handed over...)")
    serial = parse_serial(serial_text)
    with station.transaction() as session:
        serial = resolve_serial(session, serial)
        label = domain.format_pass_serial(serial)
        row = session.get(TemporaryPass, serial)
        if row is None or not row.printed_event_id:
            raise PassError(f"pass {label} was never printed (or its print run has not reached this station yet)")
        if row.voided:
            raise PassError(f"pass {label} was voided ({row.void_reason}); nothing to re-assign")
        previous = row.participant_id
        if not participant_id and not previous:
            raise PassError(f"pass {label} is not assigned; nothing to un-assign")
        if participant_id:
            if participant_id == previous:
                raise PassError(f"pass {label} is already assigned to {participant_id}")
            _check_holder(station, session, participant_id, row.day)
        event = station.record(
            session,
            EventKind.PASS_ASSIGNMENT_OVERRIDDEN,
            ep.PassAssignmentOverridden(serial, participant_id, reason.strip()[:400], previous_participant_id=previous),
            operator,
        )
    return OverriddenAssignment(serial, participant_id, previous, event.id)


# --- reconciliation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayStock:
    day: str
    printed: int
    assigned: int
    voided: int  # voided passes (assigned or not)

    @property
    def unused(self) -> int:
        """Printed, neither assigned nor voided: in the supervisor's drawer (or unaccounted for)."""
        return self.printed - self.assigned - self.voided

    def as_json(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "printed": self.printed,
            "assigned": self.assigned,
            "voided": self.voided,
            "unused": self.unused,
        }


def stock(session: Session) -> list[DayStock]:
    """Printed / assigned / voided / unused passes per day. An assigned pass later voided counts as voided."""
    rows = pass_queries.stock_per_day(session)
    return [DayStock(day, int(n), int(a or 0), int(v or 0)) for day, n, a, v in rows]


def station_stock(station: Station) -> list[DayStock]:
    with station.sessions() as session:
        return stock(session)
