"""Badge tokens: signed, layout-safe alphabet, and every way a scan can be wrong."""

from __future__ import annotations

import re

from regdesk.domain import token as t


def make(event="GCM-PV-2017", pid="GCM17-000123", issue=1):
    key = t.generate_signing_key()
    kid = t.key_id_for(t.public_key_raw(key))
    serial = t.new_serial()
    text = t.sign_token(t.BadgeClaims(t.event_tag(event), kid, serial, issue, pid), key)
    return text, {kid: t.public_key_raw(key)}, serial


def test_token_uses_only_layout_safe_characters_and_round_trips():
    text, keys, serial = make()
    assert re.fullmatch(r"[A-Z2-7]+", text)
    check = t.read_token(text, event_code="GCM-PV-2017", public_keys=keys)
    assert check.ok and check.claims.serial == serial and check.claims.participant_id == "GCM17-000123"


def test_caps_lock_and_terminators_still_decode():
    text, keys, _ = make()
    for scanned in (text.lower() + "\r", text + "\n", text + "\t", " " + text.swapcase() + "\r\n"):
        assert t.read_token(scanned, event_code="GCM-PV-2017", public_keys=keys).ok


def test_azerty_host_garbling_is_undone_only_when_signature_verifies():
    text, keys, _ = make()
    azerty = text.translate(
        str.maketrans(
            {
                "2": "é",
                "3": '"',
                "4": "'",
                "5": "(",
                "6": "-",
                "7": "è",
                "A": "Q",
                "Q": "A",
                "Z": "W",
                "W": "Z",
                "M": "?",
            }
        )
    )
    assert t.read_token(azerty, event_code="GCM-PV-2017", public_keys=keys).ok


def test_tampered_token_is_forged():
    text, keys, _ = make()
    i = len(text) // 3
    tampered = text[:i] + ("A" if text[i] != "A" else "B") + text[i + 1 :]
    assert t.read_token(tampered, event_code="GCM-PV-2017", public_keys=keys).problem in (
        t.TokenProblem.FORGED,
        t.TokenProblem.UNREADABLE,
    )


def test_signature_bit_flip_is_forged():
    text, keys, _ = make()
    tampered = text[:-3] + ("A" if text[-3] != "A" else "B") + text[-2:]
    assert t.read_token(tampered, event_code="GCM-PV-2017", public_keys=keys).problem is t.TokenProblem.FORGED


def test_other_event_and_unknown_key():
    text, keys, _ = make(event="COP-99")
    assert t.read_token(text, event_code="GCM-PV-2017", public_keys=keys).problem is t.TokenProblem.WRONG_EVENT
    text, _, _ = make()
    assert t.read_token(text, event_code="GCM-PV-2017", public_keys={}).problem is t.TokenProblem.UNKNOWN_KEY


def test_junk_is_unreadable():
    for junk in ("", "hello world", "12345", "Ñ'¿¡", "A" * 10_000, "\x00\x1b[2J"):
        assert t.read_token(junk, event_code="GCM-PV-2017", public_keys={}).problem is t.TokenProblem.UNREADABLE
