"""Issuance rules at their edges: window minutes (local time), quota 4 vs 5, withdrawn."""

from __future__ import annotations

import pytest

from conftest import EVENT_TOML, local
from regdesk.config import load_event_config
from regdesk.domain.policy import IssueFacts, Refusal, decide_issue

CONFIG = load_event_config(EVENT_TOML)


def facts(now: str, **overrides) -> IssueFacts:
    base = dict(
        now=local(now),
        window_opens=CONFIG.collection_opens_utc,
        window_closes=CONFIG.collection_closes_utc,
        participant_known=True,
        participant_status="accredited",
        identity_checked=True,
        holds_valid_badge=False,
        replace=False,
        quota=4,
        delegation_holders=0,
    )
    base.update(overrides)
    return IssueFacts(**base)


@pytest.mark.parametrize(
    "now,expected",
    [
        ("2017-12-01T12:59", Refusal.WINDOW_NOT_OPEN),
        ("2017-12-01T12:59:59", Refusal.WINDOW_NOT_OPEN),
        ("2017-12-01T13:00", None),
        ("2017-12-05T14:59:59", None),
        ("2017-12-05T15:00", Refusal.WINDOW_CLOSED),
        ("2017-12-06T09:00", Refusal.WINDOW_CLOSED),
    ],
)
def test_collection_window_in_local_time(now, expected):
    assert decide_issue(facts(now)).reason == expected


def test_window_edges_are_local_not_utc():
    # 13:00 in Puerto Vallarta is 19:00 UTC: 13:30 UTC on 1 Dec is 07:30 local, still closed.
    assert CONFIG.collection_opens_utc.isoformat() == "2017-12-01T19:00:00+00:00"
    assert CONFIG.collection_closes_utc.isoformat() == "2017-12-05T21:00:00+00:00"


def test_fourth_member_of_delegation_allowed_fifth_refused():
    assert decide_issue(facts("2017-12-02T10:00", delegation_holders=3)).allowed
    assert decide_issue(facts("2017-12-02T10:00", delegation_holders=4)).reason is Refusal.QUOTA_REACHED


def test_unlimited_category_ignores_holders():
    assert decide_issue(facts("2017-12-02T10:00", quota=0, delegation_holders=50)).allowed


def test_withdrawn_is_refused_whatever_else_holds():
    decision = decide_issue(facts("2017-12-02T10:00", participant_status="withdrawn"))
    assert decision.refusals == (Refusal.WITHDRAWN,)


def test_unknown_participant_is_not_accredited():
    assert decide_issue(facts("2017-12-02T10:00", participant_known=False)).reason is Refusal.NOT_ACCREDITED


def test_identity_check_required():
    assert decide_issue(facts("2017-12-02T10:00", identity_checked=False)).reason is Refusal.IDENTITY_NOT_CHECKED


def test_second_badge_refused_replacement_allowed_and_ignores_quota():
    assert decide_issue(facts("2017-12-02T10:00", holds_valid_badge=True)).reason is Refusal.ALREADY_HOLDS_BADGE
    assert decide_issue(facts("2017-12-02T10:00", holds_valid_badge=True, replace=True, delegation_holders=4)).allowed
    assert decide_issue(facts("2017-12-02T10:00", replace=True)).reason is Refusal.NOTHING_TO_REPLACE


# --- 1 + 3: the head of delegation's place -----------------------------------------------------------


def one_plus_three(**overrides) -> IssueFacts:
    return facts("2017-12-02T10:00", head_reserved=True, **overrides)


def test_three_members_take_their_places_the_fourth_member_waits_for_the_head():
    assert decide_issue(one_plus_three(delegation_holders=2)).allowed
    assert decide_issue(one_plus_three(delegation_holders=3)).reason is Refusal.HEAD_PLACE_RESERVED


def test_the_head_always_takes_the_fourth_place():
    assert decide_issue(one_plus_three(delegation_holders=3, participant_is_head=True)).allowed


def test_once_the_head_holds_a_badge_members_fill_the_quota():
    assert decide_issue(one_plus_three(delegation_holders=3, head_holds_badge=True)).allowed
    assert decide_issue(one_plus_three(delegation_holders=4, head_holds_badge=True)).reason is Refusal.QUOTA_REACHED


def test_without_head_reservation_the_quota_is_flat():
    assert decide_issue(facts("2017-12-02T10:00", delegation_holders=3)).allowed


def test_head_place_is_overridable_by_a_supervisor():
    from regdesk.domain.policy import OVERRIDABLE

    assert Refusal.HEAD_PLACE_RESERVED in OVERRIDABLE


# --- identity check: order of events, not clocks -----------------------------------------------------


def test_a_check_counts_only_against_the_badge_it_was_made_for():
    from regdesk.domain.policy import check_counts

    none, s1, s2 = frozenset(), frozenset({"S1"}), frozenset({"S2"})
    assert check_counts(None, none, none)  # first issue, check made when they had no badge
    assert not check_counts("S1", none, none)
    assert not check_counts(None, s1, s1)  # made before badge S1: used up by it
    assert check_counts("S1", s1, s1)  # made while holding S1: good for its replacement
    assert not check_counts("S1", s2, s2)  # S1 was replaced since: used up by S2
    assert check_counts("S2", none, s2)  # S2 revoked (no valid badge): a check made after S2 counts


# --- plain words -----------------------------------------------------------------------------------


def words(refusal: Refusal, now: str, **context) -> str:
    from regdesk.domain.policy import RefusalContext, explain

    return explain(refusal, facts(now), RefusalContext(zone=CONFIG.zone, **context))


def test_window_refusals_say_when_in_local_time():
    assert "opens Fri 1 Dec 13:00, in 25 min" in words(Refusal.WINDOW_NOT_OPEN, "2017-12-01T12:35")
    assert "in 2 h 5 min" in words(Refusal.WINDOW_NOT_OPEN, "2017-12-01T10:55")
    closed = words(Refusal.WINDOW_CLOSED, "2017-12-05T15:20")
    assert "closed Tue 5 Dec 15:00" in closed and "supervisor" in closed


def test_refusal_words_never_show_a_reason_code():
    for refusal in Refusal:
        text = words(refusal, "2017-12-02T10:00", delegation="Benin", current_badge="ABCD-EFGH")
        assert "_" not in text and "[" not in text, text  # codes are snake_case words: none on screen
        assert text.endswith(".")


def test_identity_refusal_says_the_check_was_used_by_the_previous_badge():
    text = words(
        Refusal.IDENTITY_NOT_CHECKED,
        "2017-12-02T10:00",
        last_check="Passport ····4821, Fri 1 Dec 13:10",
        check_used_by="ABCD-EFGH",
    )
    assert "used for badge ABCD-EFGH" in text and "Passport ····4821" in text and "again" in text
