"""Badge issuance rules. Pure: the caller gathers the facts, this decides.

Order of checks (first failing rule is the reason shown; all failing rules are listed):
accreditation → existing badge → identity check → collection window → delegation quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Refusal(StrEnum):
    NOT_ACCREDITED = "not_accredited"
    WITHDRAWN = "withdrawn"
    IDENTITY_NOT_CHECKED = "identity_not_checked"
    WINDOW_NOT_OPEN = "window_not_open"
    WINDOW_CLOSED = "window_closed"
    ALREADY_HOLDS_BADGE = "already_holds_badge"
    NOTHING_TO_REPLACE = "nothing_to_replace"
    QUOTA_REACHED = "quota_reached"


MESSAGES: dict[Refusal, str] = {
    Refusal.NOT_ACCREDITED: "Not on the accreditation list. Only duly accredited participants receive a badge.",
    Refusal.WITHDRAWN: "Accreditation withdrawn. No badge can be issued.",
    Refusal.IDENTITY_NOT_CHECKED: "Check an identity document first (type and last 4 characters).",
    Refusal.WINDOW_NOT_OPEN: "Badge collection has not opened yet.",
    Refusal.WINDOW_CLOSED: "Badge collection has closed.",
    Refusal.ALREADY_HOLDS_BADGE: "Already holds a valid badge. Replace it if it was lost.",
    Refusal.NOTHING_TO_REPLACE: "No valid badge to replace; issue a first badge instead.",
    Refusal.QUOTA_REACHED: "Delegation quota reached.",
}

# Rules a supervisor may set aside with a recorded reason. Accreditation and the identity check
# are never overridable: the UN accredits, the desk only verifies.
OVERRIDABLE = frozenset({Refusal.WINDOW_NOT_OPEN, Refusal.WINDOW_CLOSED, Refusal.QUOTA_REACHED,
                         Refusal.ALREADY_HOLDS_BADGE})


@dataclass(frozen=True)
class IssueFacts:
    now: datetime  # aware
    window_opens: datetime
    window_closes: datetime
    participant_known: bool
    participant_status: str  # accredited | withdrawn
    identity_checked: bool  # a check recorded since the participant's last badge
    holds_valid_badge: bool
    replace: bool
    quota: int  # 0 = unlimited
    delegation_holders: int  # others in the delegation holding a valid badge


@dataclass(frozen=True)
class Decision:
    refusals: tuple[Refusal, ...]

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def reason(self) -> Refusal | None:
        return self.refusals[0] if self.refusals else None

    def blocking(self, overridden: frozenset[Refusal] = frozenset()) -> tuple[Refusal, ...]:
        return tuple(r for r in self.refusals if r not in overridden)


def in_window(now: datetime, opens: datetime, closes: datetime) -> bool:
    """Opening minute included, closing minute excluded: 13:00 is open, 15:00 is closed."""
    return opens <= now < closes


def decide_issue(facts: IssueFacts) -> Decision:
    refusals: list[Refusal] = []
    if not facts.participant_known:
        return Decision((Refusal.NOT_ACCREDITED,))
    if facts.participant_status != "accredited":
        return Decision((Refusal.WITHDRAWN,))
    # Someone who already holds a badge hears that first: the clerk's next step is a replacement.
    if not facts.replace and facts.holds_valid_badge:
        refusals.append(Refusal.ALREADY_HOLDS_BADGE)
    if not facts.identity_checked:
        refusals.append(Refusal.IDENTITY_NOT_CHECKED)
    if facts.now < facts.window_opens:
        refusals.append(Refusal.WINDOW_NOT_OPEN)
    elif facts.now >= facts.window_closes:
        refusals.append(Refusal.WINDOW_CLOSED)
    if facts.replace:
        if not facts.holds_valid_badge:
            refusals.append(Refusal.NOTHING_TO_REPLACE)
    # A replacement never changes the head count, so the quota is checked on first issue only.
    elif not facts.holds_valid_badge and facts.quota and facts.delegation_holders >= facts.quota:
        refusals.append(Refusal.QUOTA_REACHED)
    return Decision(tuple(refusals))


def describe(refusal: Refusal, *, quota: int = 0, delegation: str = "") -> str:
    text = MESSAGES[refusal]
    if refusal is Refusal.QUOTA_REACHED and quota:
        text = f"Delegation quota reached: {delegation or 'this delegation'} already has {quota} badges (limit {quota})."
    return text
