"""Issuance rules at their edges: window minutes (local time), quota 4 vs 5, withdrawn."""

from __future__ import annotations

import pytest

from regdesk.config import load_event_config
from regdesk.domain.policy import IssueFacts, Refusal, decide_issue

from conftest import EVENT_TOML, local

CONFIG = load_event_config(EVENT_TOML)


def facts(now: str, **overrides) -> IssueFacts:
    base = dict(now=local(now), window_opens=CONFIG.collection_opens_utc, window_closes=CONFIG.collection_closes_utc,
                participant_known=True, participant_status="accredited", identity_checked=True,
                holds_valid_badge=False, replace=False, quota=4, delegation_holders=0)
    base.update(overrides)
    return IssueFacts(**base)


@pytest.mark.parametrize("now,expected", [
    ("2017-12-01T12:59", Refusal.WINDOW_NOT_OPEN),
    ("2017-12-01T12:59:59", Refusal.WINDOW_NOT_OPEN),
    ("2017-12-01T13:00", None),
    ("2017-12-05T14:59:59", None),
    ("2017-12-05T15:00", Refusal.WINDOW_CLOSED),
    ("2017-12-06T09:00", Refusal.WINDOW_CLOSED),
])
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
    assert decide_issue(facts("2017-12-02T10:00", holds_valid_badge=True, replace=True,
                              delegation_holders=4)).allowed
    assert decide_issue(facts("2017-12-02T10:00", replace=True)).reason is Refusal.NOTHING_TO_REPLACE
