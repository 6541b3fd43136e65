"""Badge issuance rules. Pure: the caller gathers the facts, this decides and explains.

Order of checks (first failing rule is the reason shown; all failing rules are listed):
accreditation → existing badge → identity check → collection window → delegation quota (1 + 3).

Identity check: a check counts for the next issuance only if it was made against the
participant's current badge ("for_badge", None when they never had one). The rule reads the
order of events, never clocks, so desks whose clocks disagree, and events that sync in any
order, give the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
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
    HEAD_PLACE_RESERVED = "head_place_reserved"


MESSAGES: dict[Refusal, str] = {
    Refusal.NOT_ACCREDITED: "Not on the accreditation list. Only duly accredited participants receive a badge.",
    Refusal.WITHDRAWN: "Accreditation withdrawn. No badge can be issued.",
    Refusal.IDENTITY_NOT_CHECKED: "Check an identity document first (type and last 4 characters).",
    Refusal.WINDOW_NOT_OPEN: "Badge collection has not opened yet.",
    Refusal.WINDOW_CLOSED: "Badge collection has closed.",
    Refusal.ALREADY_HOLDS_BADGE: "Already holds a valid badge. Replace it if it was lost.",
    Refusal.NOTHING_TO_REPLACE: "No valid badge to replace; issue a first badge instead.",
    Refusal.QUOTA_REACHED: "Delegation quota reached.",
    Refusal.HEAD_PLACE_RESERVED: "The delegation's last place is kept for its head of delegation.",
}

# Rules a supervisor may set aside with a recorded reason. Accreditation and the identity check
# are never overridable: the UN accredits, the desk only verifies.
OVERRIDABLE = frozenset(
    {
        Refusal.WINDOW_NOT_OPEN,
        Refusal.WINDOW_CLOSED,
        Refusal.QUOTA_REACHED,
        Refusal.HEAD_PLACE_RESERVED,
        Refusal.ALREADY_HOLDS_BADGE,
    }
)


@dataclass(frozen=True)
class IssueFacts:
    now: datetime  # aware
    window_opens: datetime
    window_closes: datetime
    participant_known: bool
    participant_status: str  # accredited | withdrawn
    identity_checked: bool  # a check made against the participant's current badge (see check_counts)
    holds_valid_badge: bool
    replace: bool
    quota: int  # 0 = unlimited
    delegation_holders: int  # others in the delegation holding a valid badge
    head_reserved: bool = False  # the category keeps one place for the head of delegation (1 + 3)
    participant_is_head: bool = False
    head_holds_badge: bool = False  # some head of this delegation holds a valid badge
    # Collected by a focal point (services/collection.py): the identity check is the collector's,
    # recorded with the letter that authorises the collection.
    by_proxy: bool = False


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


def decide_issue(facts: IssueFacts) -> Decision:
    refusals: list[Refusal] = []
    if not facts.participant_known:
        return Decision((Refusal.NOT_ACCREDITED,))
    if facts.participant_status != "accredited":
        return Decision((Refusal.WITHDRAWN,))
    # Someone who already holds a badge hears that first: the clerk's next step is a replacement.
    if not facts.replace and facts.holds_valid_badge:
        refusals.append(Refusal.ALREADY_HOLDS_BADGE)
    if not facts.identity_checked and not facts.by_proxy:
        refusals.append(Refusal.IDENTITY_NOT_CHECKED)
    if facts.now < facts.window_opens:
        refusals.append(Refusal.WINDOW_NOT_OPEN)
    elif facts.now >= facts.window_closes:
        refusals.append(Refusal.WINDOW_CLOSED)
    if facts.replace:
        if not facts.holds_valid_badge:
            refusals.append(Refusal.NOTHING_TO_REPLACE)
    # A replacement never changes the head count, so the quota is checked on first issue only.
    elif not facts.holds_valid_badge and facts.quota:
        if facts.delegation_holders >= facts.quota:
            refusals.append(Refusal.QUOTA_REACHED)
        elif member_places_full(facts):
            refusals.append(Refusal.HEAD_PLACE_RESERVED)
    return Decision(tuple(refusals))


def member_places_full(facts: IssueFacts) -> bool:
    """1 + 3: a member would take the place kept for a head of delegation who has no badge yet."""
    return (
        facts.head_reserved
        and not facts.participant_is_head
        and not facts.head_holds_badge
        and facts.delegation_holders >= facts.quota - 1
    )


def decide_batch(members: Sequence[tuple[str, IssueFacts, bool]]) -> dict[str, tuple[Decision, IssueFacts]]:
    """Decide a batch of first badges for one delegation, collected together.

    `members`: (participant id, facts as they stand before the batch, is head), in the order the
    clerk ticked them. Heads are decided first (the head's place is theirs), then members in that
    order; every badge the batch would issue counts against the quota of the ones after it, so
    the 1 + 3 rule holds across the batch exactly as if the badges were issued one by one.
    Returns each member's decision with the facts it was decided on (for the plain words).
    """
    decisions: dict[str, tuple[Decision, IssueFacts]] = {}
    issued = 0
    head_issued = False
    for pid, facts, _is_head in sorted(members, key=lambda m: not m[2]):
        now = replace(
            facts,
            delegation_holders=facts.delegation_holders + issued,
            head_holds_badge=facts.head_holds_badge or head_issued,
        )
        decision = decide_issue(now)
        decisions[pid] = (decision, now)
        if decision.allowed:
            issued += 1
            head_issued = head_issued or now.participant_is_head
    return decisions


def check_counts(for_badge: str | None, current_badges: frozenset[str], latest_badges: frozenset[str]) -> bool:
    """Does an identity check made against `for_badge` count for the participant's next issuance?

    `current_badges`: their valid badges; `latest_badges`: their badges of the highest issue number
    (empty when they never had one). A check names the badge the person held when it was made;
    it counts while that badge is still their current one (or, holding none, their latest), so a
    check is used up by the next badge issued after it, whatever the clocks of the desks said.
    """
    reference = current_badges or latest_badges
    if not reference:
        return for_badge is None
    return for_badge in reference


# --- plain words ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefusalContext:
    """What the words of a refusal need besides the facts (names, serials, the local zone)."""

    zone: tzinfo
    delegation: str = ""
    current_badge: str = ""  # the valid badge held, as printed (ABCD-EFGH)
    last_check: str = ""  # "Passport ····4821, Fri 1 Dec 13:10", "" when none recorded
    check_used_by: str = ""  # the badge (as printed) issued after the last check, which used it up
    head_name: str = ""  # the delegation's head, for the 1 + 3 refusal


def local_moment(moment: datetime, zone: tzinfo) -> str:
    """'Fri 1 Dec 13:00' in the event's zone."""
    here = moment.astimezone(zone)
    return f"{here:%a} {here.day} {here:%b %H:%M}"


def until(now: datetime, then: datetime) -> str:
    """'25 min', '2 h 5 min', '3 days' from now until then (rounded up to the minute)."""
    minutes = max(0, -(-(then - now) // timedelta(minutes=1)))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days = round(minutes / (24 * 60))
    return f"{days} days"


SEE_SUPERVISOR = "Send the person to the registration supervisor"


def explain(refusal: Refusal, facts: IssueFacts, context: RefusalContext) -> str:
    """One refusal in plain words, saying what to do next. Never a reason code."""
    delegation = context.delegation or "This delegation"
    if refusal is Refusal.NOT_ACCREDITED:
        return f"Not on the accreditation list: no badge can be issued. {SEE_SUPERVISOR}."
    if refusal is Refusal.WITHDRAWN:
        return f"This accreditation was withdrawn: no badge can be issued. {SEE_SUPERVISOR}."
    if refusal is Refusal.IDENTITY_NOT_CHECKED:
        if context.check_used_by:
            return (
                f"The last identity check ({context.last_check}) was used for badge {context.check_used_by}, "
                "issued after it. Check the identity document again, then issue."
            )
        return "No identity document checked yet. Check one (type and last 4 characters), then issue."
    if refusal is Refusal.WINDOW_NOT_OPEN:
        return (
            f"Badge collection opens {local_moment(facts.window_opens, context.zone)}, "
            f"in {until(facts.now, facts.window_opens)}. Ask the person to come back then, "
            "or a supervisor may override."
        )
    if refusal is Refusal.WINDOW_CLOSED:
        return (
            f"Badge collection closed {local_moment(facts.window_closes, context.zone)}. "
            f"{SEE_SUPERVISOR}: only a supervisor can still issue a badge."
        )
    if refusal is Refusal.ALREADY_HOLDS_BADGE:
        held = f" {context.current_badge}" if context.current_badge else ""
        return f"Already holds valid badge{held}. If it was lost, check the ID again and replace it."
    if refusal is Refusal.NOTHING_TO_REPLACE:
        return "Holds no valid badge to replace: issue a first badge instead."
    if refusal is Refusal.QUOTA_REACHED:
        return (
            f"{delegation} already has {facts.delegation_holders} badges (limit {facts.quota}). "
            f"{SEE_SUPERVISOR}: only a supervisor can allow one more."
        )
    if refusal is Refusal.HEAD_PLACE_RESERVED:
        head = f" ({context.head_name})" if context.head_name else ""
        return (
            f"{delegation} has {facts.delegation_holders} of {facts.quota} badges; the last place is kept for "
            f"the head of delegation{head}, who has not collected a badge yet (1 + 3). "
            f"{SEE_SUPERVISOR} if the head is not coming."
        )
    return MESSAGES[refusal]
