"""Property tests: what comes from a scanner or an event file can be anything.

- read_token never raises, whatever it is fed, and never accepts a changed token: if a mutated
  string verifies, it decodes to the very bytes of the genuine badge (case, terminators and the
  unused low bits of the last base32 character are the only freedom).
- parse_event_config never raises anything but ConfigError (which names the key).
"""

from __future__ import annotations

import base64
import json
import string

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from regdesk.config import ConfigError, EventConfig, parse_event_config
from regdesk.domain import token as t

from conftest import EVENT_TOML

EVENT = "GCM-PV-2017"
KEY = t.generate_signing_key()
KID = t.key_id_for(t.public_key_raw(KEY))
KEYS = {KID: t.public_key_raw(KEY)}
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def genuine(participant_id: str = "CH-0001", issue_no: int = 1) -> str:
    claims = t.BadgeClaims(t.event_tag(EVENT), KID, t.new_serial(), issue_no, participant_id)
    return t.sign_token(claims, KEY)


def decoded(text: str) -> bytes:
    return base64.b32decode(text + "=" * ((-len(text)) % 8))


participant_ids = st.text(alphabet=string.ascii_uppercase + string.digits + "-/", min_size=1, max_size=40)


@st.composite
def mutated_tokens(draw):
    token = genuine(draw(participant_ids), draw(st.integers(1, 255)))
    kind = draw(st.sampled_from(["replace", "delete", "insert", "truncate", "swap", "bitflip", "splice"]))
    chars = list(token)
    i = draw(st.integers(0, len(chars) - 1))
    if kind == "replace":
        chars[i] = draw(st.sampled_from(B32.replace(chars[i], "")))
    elif kind == "delete":
        del chars[i]
    elif kind == "insert":
        chars.insert(i, draw(st.sampled_from(B32)))
    elif kind == "truncate":
        chars = chars[:i]
    elif kind == "swap":
        j = draw(st.integers(0, len(chars) - 1))
        assume(chars[i] != chars[j])
        chars[i], chars[j] = chars[j], chars[i]
    elif kind == "bitflip":
        raw = bytearray(decoded(token))
        k = draw(st.integers(0, len(raw) - 1))
        raw[k] ^= 1 << draw(st.integers(0, 7))
        chars = list(base64.b32encode(bytes(raw)).decode().rstrip("="))
    else:  # the head of one genuine badge, the tail of another
        other = genuine(draw(participant_ids))
        chars = chars[:i] + list(other[i:])
        assume("".join(chars) != other)
    mutated = "".join(chars)
    assume(mutated != token)
    return token, mutated


@FUZZ
@given(mutated_tokens())
def test_read_token_never_accepts_a_changed_token(pair):
    token, mutated = pair
    check = t.read_token(mutated, event_code=EVENT, public_keys=KEYS)
    if check.ok:
        assert decoded(check.text) == decoded(token), "a changed token verified with different content"


@FUZZ
@given(st.text(max_size=2000))
def test_read_token_never_raises_on_any_text(raw):
    check = t.read_token(raw, event_code=EVENT, public_keys=KEYS)
    assert not check.ok
    assert check.problem is not None


@FUZZ
@given(st.text(alphabet=B32 + B32.lower() + "\r\n\t -'Ñ\x00\x1b", min_size=0, max_size=600))
def test_read_token_never_raises_on_scanner_like_junk(raw):
    check = t.read_token(raw, event_code=EVENT, public_keys=KEYS)
    assert not check.ok


@FUZZ
@given(st.binary(min_size=0, max_size=300))
def test_read_token_never_raises_on_any_decodable_bytes(raw):
    text = base64.b32encode(raw).decode().rstrip("=")
    check = t.read_token(text, event_code=EVENT, public_keys=KEYS)
    assert not check.ok


def test_read_token_handles_the_adversarial_classics():
    token = genuine()
    other_event = t.sign_token(t.BadgeClaims(t.event_tag("OTHER-2017"), KID, t.new_serial(), 1, "CH-1"), KEY)
    rogue = t.generate_signing_key()
    forged = t.sign_token(t.BadgeClaims(t.event_tag(EVENT), KID, t.new_serial(), 1, "CH-1"), rogue)
    cases = {
        "": "unreadable",
        "\x00" * 50: "unreadable",
        "A" * 10_000: "unreadable",
        token * 3: "unreadable",
        token[:-1]: None,  # truncated: never valid (exact problem depends on where it was cut)
        token[: len(token) // 2]: "unreadable",
        other_event: "wrong_event",
        forged: "forged",
        "\u202e" + token: "valid",  # a bidi control character is not part of the token
    }
    for raw, expected in cases.items():
        check = t.read_token(raw, event_code=EVENT, public_keys=KEYS)
        if expected == "valid":
            assert check.ok
        else:
            assert not check.ok
            if expected:
                assert check.problem == expected, (raw[:20], check.problem)
    assert t.read_token(token, event_code=EVENT, public_keys={}).problem == "unknown_key"


# --- event settings ------------------------------------------------------------------------------

BASE = EVENT_TOML.read_text(encoding="utf-8")
ASSIGNMENT_LINES = [i for i, line in enumerate(BASE.splitlines()) if " = " in line and not line.startswith("#")]

toml_scalars = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: {float("inf"): "inf", float("-inf"): "-inf"}.get(f, "nan" if f != f else repr(f))),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(max_size=30).map(lambda s: json.dumps(s)),
    st.sampled_from(["2017-12-01", "2017-12-01T13:00:00", "2017-12-01T13:00:00Z", "13:00:00", "9999-12-31T23:59:59",
                     "0001-01-01", '"2017-12-05T15:00"', '"America"', '"UTC"', '"#ZZZZZZ"', '"#abcdef"', "{}",
                     '{ code = "X" }', "[]", '"0000-00-00"', '"2017-02-30"', '"24:00"']),
)
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=4).map(lambda v: f"[{', '.join(v)}]"),
                           max_leaves=6)


@st.composite
def mutated_configs(draw):
    lines = BASE.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["value", "delete", "duplicate", "chars"]))
        i = draw(st.sampled_from(ASSIGNMENT_LINES))
        if i >= len(lines):
            continue
        if action == "value":
            key = lines[i].split(" = ", 1)[0]
            lines[i] = f"{key} = {draw(toml_values)}"
        elif action == "delete":
            lines[i] = ""
        elif action == "duplicate":
            lines.insert(i, lines[i])
        else:
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(st.text(max_size=5)) + lines[i][pos + 1:]
    return "\n".join(lines) + "\n"


@FUZZ
@given(mutated_configs())
def test_config_parser_only_ever_raises_config_error(text):
    try:
        config = parse_event_config(text, "event.toml")
    except ConfigError as error:
        assert str(error).startswith("event.toml: ") and error.key
    else:
        assert isinstance(config, EventConfig)
        assert config.collection_closes_utc > config.collection_opens_utc


@FUZZ
@given(st.text(max_size=500))
def test_config_parser_on_arbitrary_text(text):
    try:
        parse_event_config(text, "event.toml")
    except ConfigError:
        pass
