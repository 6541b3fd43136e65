"""Identity checks from a passport reader: the MRZ lines a keyboard-wedge reader types.

`read(station, text)` checks every check digit (domain/mrz.py) and keeps what the desk may know:
document type, the LAST 4 characters of the number, names, nationality, dates. The full number
never leaves this module's first function: it is not in `DocumentRead`, not in any message and
not in the log (the identity_checked event carries type and last 4 only, plus whether the
document had expired and whether its name matched).

`identify(station, document)` finds the participant: the desk's own search by the document's
family name (names folded as the search folds them), each hit compared name by name
(domain/document_names.py), nationality compared with the delegation where the delegation is a
state. The accreditation list carries no date of birth, so birth dates are not compared
(`DATE_OF_BIRTH_NOTE`). Only a participant whose names agree is taken without the clerk: one
such participant, or one of several whose delegation is the document's nationality.

`record(station, participant_id, document, operator)` records the check with its warnings: an
expired document, a name that does not match the accreditation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from regdesk.domain import icao_states, mrz
from regdesk.domain.document_names import NameComparison, compare
from regdesk.domain.names import fold
from regdesk.services import desk, lookup
from regdesk.services.desk import DOCUMENT_LABELS, DeskError
from regdesk.services.station import Station
from regdesk.store.models import Participant
from regdesk.store.queries import participants as participant_queries

DATE_OF_BIRTH_NOTE = "The accreditation list has no date of birth: it was not compared."
CANDIDATE_LIMIT = 100
SHOWN_CANDIDATES = 20


class DocumentUnreadable(DeskError):
    """The reading cannot be used: `problem` names the line and the field."""

    def __init__(self, problem: mrz.MrzProblem) -> None:
        self.problem = problem
        super().__init__(f"passport reader: {problem}")


@dataclass(frozen=True)
class DocumentRead:
    """What the desk keeps of a document read: never its full number."""

    format: str  # TD1 | TD2 | TD3
    document_type: str  # desk.DOCUMENT_TYPES
    last4: str
    surname: str
    given_names: str
    name_truncated: bool
    nationality: str  # ICAO code
    issuing_state: str
    expiry: date | None
    birth: date | None
    expired: bool  # relative to the station's local day when it was read
    corrections: tuple[str, ...] = ()  # plain words; never a character of the document number

    @property
    def document_label(self) -> str:
        return DOCUMENT_LABELS.get(self.document_type, self.document_type)

    @property
    def holder(self) -> str:
        return f"{self.surname}, {self.given_names}" if self.given_names else self.surname

    @property
    def nationality_name(self) -> str:
        return icao_states.name_of(self.nationality)

    def expiry_words(self) -> str:
        if self.expiry is None:
            return "no expiry date"
        return f"{'EXPIRED' if self.expired else 'valid until'} {self.expiry.day} {self.expiry:%b %Y}"

    def summary(self) -> str:
        """'Passport ····8907 · ERIKSSON, ANNA MARIA · Utopia · valid until 15 Apr 2030'."""
        return (
            f"{self.document_label} ····{self.last4} · {self.holder} · {self.nationality_name} · {self.expiry_words()}"
        )


def read_text(text: str, today: date) -> DocumentRead:
    """Check the MRZ and keep only what the desk may know. DocumentUnreadable when it cannot be used."""
    found = mrz.parse(text)
    if isinstance(found, mrz.MrzProblem):
        raise DocumentUnreadable(found)
    return DocumentRead(
        format=str(found.format),
        document_type=found.document_type,
        last4=found.last4,
        surname=found.surname,
        given_names=found.given_names,
        name_truncated=found.name_truncated,
        nationality=found.nationality,
        issuing_state=found.issuing_state,
        expiry=found.expiry(today),
        birth=found.birth(today),
        expired=found.expired(today),
        corrections=tuple(str(c) for c in found.corrections),
    )


def local_today(station: Station) -> date:
    return station.config.local(station.clock.now()).date()


def read(station: Station, text: str) -> DocumentRead:
    """`read_text` against the station's clock (rehearsal clocks included)."""
    return read_text(text, local_today(station))


# --- who is it? -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    accreditation_id: str
    name: str
    delegation: str
    names: NameComparison
    nationality_fits: bool | None  # None: the delegation is not a state (an organisation)


@dataclass(frozen=True)
class Identification:
    document: DocumentRead
    participant_id: str | None  # found without doubt; None: the clerk picks
    candidates: tuple[Candidate, ...]  # best first
    note: str  # how it was found, or why not, in plain words

    @property
    def candidate_ids(self) -> list[str]:
        return [c.accreditation_id for c in self.candidates]


_STATE_NAMES = frozenset(fold(name) for name in icao_states.state_names())


def nationality_fits(nationality: str, delegation: str) -> bool | None:
    """Is this delegation the state of this nationality? None when the delegation is no state."""
    folded = fold(delegation.strip())
    if folded not in _STATE_NAMES:
        return None
    return folded in {fold(name) for name in icao_states.names_of_state(nationality)}


def _listed_forms(p: Participant) -> list[tuple[str, str]]:
    return [(p.family_name, p.given_names), (p.family_name_latin, p.given_names_latin)]


def compare_with(document: DocumentRead, participant: Participant) -> NameComparison:
    return compare(
        document.surname, document.given_names, _listed_forms(participant), truncated=document.name_truncated
    )


def _search_ids(station: Station, document: DocumentRead) -> list[str]:
    ids = [hit.accreditation_id for hit in lookup.search(station, document.surname, limit=CANDIDATE_LIMIT)]
    first_family = document.surname.split(" ")[0]
    first_given = document.given_names.split(" ")[0] if document.given_names else ""
    if first_family != document.surname or not ids:
        # A passport may carry more family names than the list ("GOMEZ CAMACHO" vs "Gómez").
        more = lookup.search(station, f"{first_family} {first_given}".strip(), limit=CANDIDATE_LIMIT)
        ids += [hit.accreditation_id for hit in more if hit.accreditation_id not in ids]
    return ids


def identify(station: Station, document: DocumentRead, *, selected: str | None = None) -> Identification:
    """Who on the list this document belongs to. `selected`: the participant on the desk's screen,
    taken first when the document's names agree with theirs."""
    ids = _search_ids(station, document)
    if selected and selected not in ids:
        ids.insert(0, selected)
    with station.sessions() as session:
        rows = participant_queries.by_ids(session, ids)
    candidates = []
    for pid in ids:
        p = rows.get(pid)
        if p is None:
            continue
        candidates.append(
            Candidate(
                pid,
                lookup.display_name(p),
                p.delegation,
                compare_with(document, p),
                nationality_fits(document.nationality, p.delegation),
            )
        )
    rank = {"same": 0, "close": 1, "different": 2}
    candidates.sort(
        key=lambda c: (
            rank[c.names.overall],
            rank[c.names.family],
            c.nationality_fits is False,
            c.nationality_fits is not True,
        )
    )
    agreeing = [c for c in candidates if c.names.matches]
    shown = tuple(c for c in candidates if c.names.family != "different" or c.accreditation_id == selected)
    shown = shown[:SHOWN_CANDIDATES]
    who = document.holder
    if selected and any(c.accreditation_id == selected for c in agreeing):
        return Identification(document, selected, shown, f"{who}: the participant on screen")
    if len(agreeing) == 1:
        return Identification(document, agreeing[0].accreditation_id, shown, f"{who}: found by name")
    if agreeing:
        same_state = [c for c in agreeing if c.nationality_fits]
        if len(same_state) == 1:
            return Identification(
                document,
                same_state[0].accreditation_id,
                shown,
                f"{who}: found by name and nationality ({document.nationality_name})",
            )
        return Identification(
            document, None, shown, f"{len(agreeing)} participants are named {who}: pick the right one, then F2"
        )
    if shown:
        return Identification(
            document, None, shown, f"No participant's name agrees exactly with {who}; similar names are listed"
        )
    return Identification(document, None, (), f"Nobody on the list is named {who}")


# --- recording ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckRecorded:
    participant_id: str
    participant_name: str
    document_type: str
    document_label: str
    last4: str
    expired: bool
    name_matches: bool
    event_id: str
    warnings: tuple[str, ...]  # expired, name mismatch: the clerk must look again
    notes: tuple[str, ...]  # corrections, nationality, date of birth: for information

    def as_json(self) -> dict[str, Any]:
        return {
            "recorded": True,
            "participant_id": self.participant_id,
            "document_type": self.document_type,
            "last4": self.last4,
            "expired": self.expired,
            "name_matches": self.name_matches,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


def assess(
    station: Station, participant_id: str, document: DocumentRead
) -> tuple[Participant, NameComparison, list[str], list[str]]:
    """(participant, name comparison, warnings, notes) for recording this document for them."""
    with station.sessions() as session:
        participant = session.get(Participant, participant_id)
    if participant is None:
        raise DeskError(f"unknown accreditation id {participant_id!r}")
    names = compare_with(document, participant)
    warnings, notes = [], []
    if document.expired and document.expiry is not None:
        warnings.append(f"The document EXPIRED on {document.expiry.day} {document.expiry:%b %Y}: ask for a valid one.")
    if not names.matches:
        warnings.append(f"The name on the document does not match the accreditation: {names.note}.")
    fits = nationality_fits(document.nationality, participant.delegation)
    if fits is False:
        notes.append(f"Nationality {document.nationality_name}; delegation {participant.delegation}.")
    notes += [f"Corrected reading: {c}." for c in document.corrections]
    notes.append(DATE_OF_BIRTH_NOTE)
    return participant, names, warnings, notes


def record(station: Station, participant_id: str, document: DocumentRead, operator: str) -> CheckRecorded:
    """Record the identity check a reader made for this participant (type and last 4 only)."""
    participant, names, warnings, notes = assess(station, participant_id, document)
    event_id = desk.record_identity_check(
        station,
        participant_id,
        document.document_type,
        document.last4,
        operator,
        details={"read_by": "mrz", "expired": document.expired, "name_matches": names.matches},
    )
    return CheckRecorded(
        participant_id,
        lookup.display_name(participant),
        document.document_type,
        document.document_label,
        document.last4,
        document.expired,
        names.matches,
        event_id,
        tuple(warnings),
        tuple(notes),
    )


def record_from_text(station: Station, participant_id: str, text: str, operator: str) -> CheckRecorded:
    """What `regdesk idcheck` does: read the MRZ a reader typed, record the check."""
    return record(station, participant_id, read(station, text), operator)


__all__ = [
    "DATE_OF_BIRTH_NOTE",
    "Candidate",
    "CheckRecorded",
    "DocumentRead",
    "DocumentUnreadable",
    "Identification",
    "assess",
    "identify",
    "local_today",
    "nationality_fits",
    "read",
    "read_text",
    "record",
    "record_from_text",
]
