"""Scan-point verdicts: decide from plain facts whether a scanned badge lets its holder in.

Pure: no I/O, no clock. The scanning service gathers the facts (token check, revocation set,
local mirror, earlier scans) and this module turns them into one answer with a reason code and
the short plain-words text the officer reads on screen.

Check order (first failure wins): the token itself (unreadable, wrong event, unknown key,
forged) -> key of a revoked station -> revoked serial -> withdrawn accreditation -> not a meeting day
-> repeat (same badge at the same point within the window, or already aboard this bus departure) -> valid.
A repeat is only ever reported for a badge that would otherwise be valid, so a second scan of a
bad badge never looks friendlier than the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Outcome(StrEnum):
    VALID = "valid"
    DENIED = "denied"
    REPEAT = "repeat"  # informational: shown, not counted twice
    TEMPORARY = "temporary"  # a contingency pass (domain/passes.py): let in after an ID check, counted


# Scan verdicts that count as an entry / a boarding (stored in scans.verdict).
COUNTED_VERDICTS: tuple[str, ...] = ("valid", "temporary")


class Reason(StrEnum):
    VALID = "valid"
    UNREADABLE = "unreadable"
    FORGED = "forged"
    WRONG_EVENT = "wrong_event"
    UNKNOWN_KEY = "unknown_key"
    KEY_REVOKED = "key_revoked"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"
    NOT_VALID_TODAY = "not_valid_today"
    REPEAT = "repeat"
    TEMPORARY_PASS = "temporary_pass"
    PASS_ASSIGNED = "pass_assigned"
    PASS_VOIDED = "pass_voided"
    PASS_WRONG_DAY = "pass_wrong_day"


# What the officer reads under VALID / DENIED. Plain words, no codes, fits one line.
REASON_TEXT: dict[Reason, str] = {
    Reason.VALID: "Valid meeting badge",
    Reason.UNREADABLE: "Not a meeting badge code - scan the QR code again",
    Reason.FORGED: "Badge is forged or altered - signature does not match",
    Reason.WRONG_EVENT: "Badge is for a different event",
    Reason.UNKNOWN_KEY: "Badge signed by an unknown desk - call the supervisor",
    Reason.KEY_REVOKED: "Badge made by a desk that was cut off (lost or stolen)",
    Reason.REVOKED: "Badge was replaced - this old badge is cancelled",
    Reason.WITHDRAWN: "Accreditation withdrawn",
    Reason.NOT_VALID_TODAY: "Badge not valid today - not a meeting day",
    Reason.REPEAT: "Already scanned here a moment ago - not counted again",
    Reason.TEMPORARY_PASS: "TEMPORARY PASS - check ID",
    Reason.PASS_ASSIGNED: "TEMPORARY PASS - check ID against the name",
    Reason.PASS_VOIDED: "Temporary pass was voided (lost, stolen or spoilt)",
    Reason.PASS_WRONG_DAY: "Temporary pass not valid today - it is for another day",
}

# What the officer does next, per denial (the reason line says what is wrong, this line what to do).
# {desk}: where meeting badges are issued; {days}: the days a badge opens the venue and the buses.
REASON_ACTION: dict[Reason, str] = {
    Reason.UNREADABLE: "Scan again, QR code flat and in the light. Still unreadable: F2 manual entry with a supervisor",
    Reason.FORGED: "Do not admit. Keep the badge, ask the person to wait here and call the supervisor",
    Reason.WRONG_EVENT: "Do not admit. Give the badge back: badges for this meeting are issued at {desk}",
    Reason.UNKNOWN_KEY: "Do not admit yet. Ask the person to wait and call the supervisor (this station may "
    "not have that desk's key yet)",
    Reason.REVOKED: "Do not admit. Keep this old badge. The holder's newer badge works; if it is lost, send them "
    "to {desk}",
    Reason.WITHDRAWN: "Do not admit. Keep the badge and call the supervisor: the accreditation was withdrawn",
    Reason.KEY_REVOKED: "Do not admit. Keep the badge and call the supervisor: it was made on a desk reported lost "
    "or stolen",
    Reason.NOT_VALID_TODAY: "Do not admit today. Give the badge back: it is valid on {days}",
    Reason.TEMPORARY_PASS: "Check an identity document before letting the person in (pass not yet assigned)",
    Reason.PASS_ASSIGNED: "Check an identity document: its name must be the one shown here",
    Reason.PASS_VOIDED: "Do not admit. Keep the pass and call the supervisor",
    Reason.PASS_WRONG_DAY: "Do not admit. Keep the pass: send the person to {desk} for a badge",
}


def guidance(reason: Reason | str, *, desk: str, days: str) -> str:
    """The next step for the officer after a denial; "" when there is nothing to do (valid, repeat)."""
    template = REASON_ACTION.get(Reason(reason), "") if reason in Reason._value2member_map_ else ""
    return template.format(desk=desk, days=days)


# Headline shown in large letters.
OUTCOME_TITLE: dict[Outcome, str] = {
    Outcome.VALID: "VALID",
    Outcome.DENIED: "DENIED",
    Outcome.REPEAT: "REPEAT",
    Outcome.TEMPORARY: "TEMPORARY PASS",
}

TOKEN_PROBLEMS = {
    "unreadable": Reason.UNREADABLE,
    "forged": Reason.FORGED,
    "wrong_event": Reason.WRONG_EVENT,
    "unknown_key": Reason.UNKNOWN_KEY,
}

STALE_MIRROR_NOTE = "Signature genuine, but holder not in this station's list yet: compare the printed name"
ALREADY_ABOARD_NOTE = "Already boarded this bus: counted once"
MANUAL_NO_BADGE_NOTE = "No badge for this person on this station yet: check the badge in hand"


@dataclass(frozen=True)
class ScanFacts:
    token_problem: str | None  # a TokenProblem value, or None when the signature verified
    revoked: bool  # serial is on the revocation set
    holder_in_mirror: bool  # participant found in the local accreditation mirror
    holder_status: str  # accredited | withdrawn | "" when unknown
    local_day: date  # today in the event's zone
    valid_days: tuple[date, ...]
    recent_same_point: bool  # a counted valid scan of this badge at this point within the repeat window
    already_aboard: bool = False  # bus: this person already boarded the current departure
    manual: bool = False  # supervisor looked the person up by name (damaged badge)
    manual_badge_known: bool = True  # manual only: the person holds a known, unrevoked badge here
    key_revoked: bool = False  # signed by a key of a revoked station, not among the badges it made before


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: Reason
    note: str = ""  # extra line for the officer, e.g. stale mirror

    @property
    def counted(self) -> bool:
        """Counted in entries / boardings: valid scans only, never repeats or denials."""
        return self.outcome is Outcome.VALID or self.outcome is Outcome.TEMPORARY

    @property
    def title(self) -> str:
        return OUTCOME_TITLE[self.outcome]

    @property
    def text(self) -> str:
        return REASON_TEXT[self.reason]


def _denied(reason: Reason, note: str = "") -> Verdict:
    return Verdict(Outcome.DENIED, reason, note)


def decide(facts: ScanFacts) -> Verdict:
    if facts.token_problem is not None:
        return _denied(TOKEN_PROBLEMS.get(facts.token_problem, Reason.UNREADABLE))
    if facts.key_revoked:
        return _denied(Reason.KEY_REVOKED)
    if facts.revoked:
        return _denied(Reason.REVOKED)
    if facts.holder_in_mirror and facts.holder_status == "withdrawn":
        return _denied(Reason.WITHDRAWN)
    if facts.local_day not in facts.valid_days:
        return _denied(Reason.NOT_VALID_TODAY)
    if facts.manual:
        note = "" if facts.manual_badge_known else MANUAL_NO_BADGE_NOTE
    else:
        note = "" if facts.holder_in_mirror else STALE_MIRROR_NOTE
    if facts.recent_same_point:
        return Verdict(Outcome.REPEAT, Reason.REPEAT, note)
    if facts.already_aboard:
        return Verdict(Outcome.REPEAT, Reason.REPEAT, note or ALREADY_ABOARD_NOTE)
    return Verdict(Outcome.VALID, Reason.VALID, note)


def sanitise_raw(raw: str, limit: int = 200) -> str:
    """What is kept of the scanned input: printable characters only, bounded length."""
    if raw.isprintable():  # the usual case, checked in C
        return raw[:limit]
    return "".join(ch for ch in raw if ch.isprintable())[:limit]
