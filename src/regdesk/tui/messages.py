"""Messages that thread workers post back to the UI thread.

Workers never touch widgets: they call a service, wrap the plain result in one of these and
`post_message` it (thread-safe); the screen's handler updates the widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

from regdesk.services.collection import BatchResult, DelegationRoster, MemberOutcome
from regdesk.services.desk import PrintOutcome
from regdesk.services.desk_view import ParticipantCard
from regdesk.services.idcheck import CheckRecorded, Identification
from regdesk.services.lookup import SearchHit
from regdesk.services.printers import Printers, PrinterStatus


@dataclass
class SearchFinished(Message):
    """Lookup results for one query. `ticket` orders them: older tickets are stale and dropped."""

    ticket: int
    query: str
    hits: list[SearchHit]
    submitted: bool  # Enter was pressed (a typed or scanned code), not live typing


@dataclass
class CardLoaded(Message):
    ticket: int
    card: ParticipantCard | None  # None: the participant vanished from the mirror


@dataclass
class IdentityRecorded(Message):
    participant_id: str
    document_type: str
    last4: str


@dataclass
class BadgeIssued(Message):
    participant_id: str
    serial: str
    issue_no: int
    replaced_serial: str | None
    overridden: bool


@dataclass
class IssueWasRefused(Message):
    participant_id: str
    refusal: str  # the reason code, e.g. quota_reached (never shown: the screen shows `text`)
    text: str  # the plain-words explanation
    all_refusals: tuple[str, ...]
    overridable: bool
    replace: bool  # the refused attempt was a replacement
    all_texts: tuple[str, ...] = ()  # plain words of every refusal, same order as all_refusals


@dataclass
class BadgePrinted(Message):
    """Rendering worked; `status` says whether the badge reached a printer (desk.PRINTED), is a PDF to
    hand over on a station without printer (desk.PDF_ONLY), or was NOT printed (desk.NOT_PRINTED)."""

    participant_id: str
    serial: str
    pdf_path: Path
    printed: bool  # a printer accepted the job
    text: str
    status: str = "printed"
    printer: str = ""
    problem: str = ""  # NOT_PRINTED: why
    reprint: bool = False


@dataclass
class PrintFailed(Message):
    """The badge exists (it was issued and recorded); only rendering/printing failed."""

    participant_id: str
    serial: str
    error: str
    reprint: bool = False
    printer: str = ""  # the printer it was meant for ("" = the station's main printer)


@dataclass
class PassAssigned(Message):
    """A temporary pass was assigned to the participant (services/passes.py)."""

    participant_id: str
    serial: str
    day: str


@dataclass
class DeskActionFailed(Message):
    """A service said no for a reason that is not an issuance rule (bad input, wrong supervisor PIN...)."""

    participant_id: str
    action: str
    text: str


@dataclass
class PassportChecked(Message):
    """A passport reader's MRZ identified the participant and the identity check was recorded."""

    identification: Identification
    check: CheckRecorded


@dataclass
class PassportNotIdentified(Message):
    """A passport was read (its MRZ is right) but the desk could not tell whose it is: the clerk picks."""

    identification: Identification


@dataclass
class PassportUnreadable(Message):
    """The MRZ typed by the reader cannot be used: `text` names the line and the field."""

    text: str


@dataclass
class RosterLoaded(Message):
    """The collector's delegation, for the focal-point dialog."""

    collector_id: str
    collector_name: str
    roster: DelegationRoster


@dataclass
class BatchIssued(Message):
    result: BatchResult


@dataclass
class BatchWasRefused(Message):
    """Nothing was recorded; `outcomes` says who could and who could not be issued."""

    collector_id: str
    outcomes: tuple[MemberOutcome, ...]


@dataclass
class BatchPrinted(Message):
    result: BatchResult
    outcome: PrintOutcome | None  # None: printing failed with `error`
    error: str = ""


@dataclass
class PrintersRead(Message):
    """How CUPS says the station's printers are doing (main first); none configured: `printers.main` is ""."""

    printers: Printers
    statuses: list[PrinterStatus]
    error: str = ""  # the reading itself failed (the station's settings could not be read)
