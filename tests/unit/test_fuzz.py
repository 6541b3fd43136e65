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

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from conftest import EVENT_TOML
from regdesk.config import ConfigError, EventConfig, parse_event_config
from regdesk.domain import token as t

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
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: {float("inf"): "inf", float("-inf"): "-inf"}.get(f, "nan" if f != f else repr(f))
    ),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(max_size=30).map(lambda s: json.dumps(s)),
    st.sampled_from(
        [
            "2017-12-01",
            "2017-12-01T13:00:00",
            "2017-12-01T13:00:00Z",
            "13:00:00",
            "9999-12-31T23:59:59",
            "0001-01-01",
            '"2017-12-05T15:00"',
            '"America"',
            '"UTC"',
            '"#ZZZZZZ"',
            '"#abcdef"',
            "{}",
            '{ code = "X" }',
            "[]",
            '"0000-00-00"',
            '"2017-02-30"',
            '"24:00"',
        ]
    ),
)
toml_values = st.recursive(
    toml_scalars, lambda inner: st.lists(inner, max_size=4).map(lambda v: f"[{', '.join(v)}]"), max_leaves=6
)


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
            lines[i] = lines[i][:pos] + draw(st.text(max_size=5)) + lines[i][pos + 1 :]
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


# --- accreditation import ------------------------------------------------------------------------

GOOD_CSV = (
    "accreditation_id,title,family_name,given_names,family_name_latin,given_names_latin,category,delegation,"
    "delegation_role,status,confirmation_code\n"
    "GCM17-000001,H.E. Mr.,Thapa,Arjun,Thapa,Arjun,MS,Nepal,head,accredited,EQ5X7YCVT2\n"
    "GCM17-000002,Ms.,Ben Ali,Yasmine,Ben Ali,Yasmine,MS,Algeria,member,accredited,2YJKQ23ZED\n"
    "GCM17-000003,Mr.,Иванов,Пётр,Ivanov,Pyotr,OS,Holy See,head,accredited,QQ5X7YCVT3\n"
    "GCM17-000004,,Núñez,José,Núñez,José,NGO,Sin Fronteras IAP,head,withdrawn,ZZ5X7YCVT4\n"
).encode("utf-8")


@st.composite
def mutated_exports(draw):
    data = bytearray(GOOD_CSV)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(
            st.sampled_from(
                [
                    "insert",
                    "delete",
                    "replace",
                    "truncate",
                    "encoding",
                    "delimiter",
                    "formula",
                    "long",
                    "control",
                    "duplicate_line",
                ]
            )
        )
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if action == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del data[i : i + draw(st.integers(1, 20))]
        elif action == "replace" and data:
            data[i] = draw(st.integers(0, 255))
        elif action == "truncate":
            del data[i:]
        elif action == "encoding":
            text = bytes(data).decode("utf-8", errors="replace")
            codec = draw(st.sampled_from(["latin-1", "utf-16", "utf-16-le", "cp1252", "utf-8-sig"]))
            data = bytearray(text.encode(codec, errors="replace"))
        elif action == "delimiter":
            data = bytearray(bytes(data).replace(b",", draw(st.sampled_from([b";", b"\t", b"|", b", "]))))
        elif action == "formula":
            data[i:i] = draw(st.sampled_from([b"=cmd|' /C calc'!A0", b"+1+1", b"@SUM(A1)", b"-2"]))
        elif action == "long":
            data[i:i] = b"x" * draw(st.integers(200, 20_000))
        elif action == "control":
            data[i:i] = draw(st.sampled_from([b"\x00", b"\x1b[2J", b"\r", b"\x7f", b"\xe2\x80\xa8", b'"']))
        else:
            lines = bytes(data).split(b"\n")
            k = draw(st.integers(0, max(0, len(lines) - 1)))
            lines.insert(k, lines[k])
            data = bytearray(b"\n".join(lines))
    return bytes(data)


def _mirror(station) -> tuple[int, list]:
    from sqlalchemy import func, select

    from regdesk.store.models import EventRow, Participant

    with station.sessions() as s:
        return (
            s.execute(select(func.count()).select_from(EventRow)).scalar_one(),
            s.execute(
                select(Participant.accreditation_id, Participant.family_name, Participant.status).order_by(
                    Participant.accreditation_id
                )
            ).all(),
        )


IMPORT_FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


@IMPORT_FUZZ
@given(data=mutated_exports())
def test_import_takes_a_file_whole_or_not_at_all(desk_station, tmp_path, data):
    from regdesk.services import accreditation

    path = tmp_path / "export.csv"
    path.write_bytes(data)
    before = _mirror(desk_station)
    try:
        report = accreditation.import_file(desk_station, path, operator="fuzz")
    except accreditation.AccreditationImportError as error:
        event("refused: " + error.problems[0].message.split(" ")[0])
        assert error.problems and all(p.file == str(path) for p in error.problems)
        assert "nothing was imported" in str(error)
        assert _mirror(desk_station) == before  # no partial change
    else:
        event("imported")
        events, mirror = _mirror(desk_station)
        assert events == before[0] + 1 and report.event_id
        ids = [row[0] for row in mirror]
        assert len(ids) == len(set(ids))


def test_import_refuses_a_truncated_xlsx_and_changes_nothing(desk_station, tmp_path):
    from openpyxl import Workbook

    from regdesk.services import accreditation

    book = Workbook()
    sheet = book.active
    for line in GOOD_CSV.decode().splitlines():
        sheet.append(line.split(","))
    whole = tmp_path / "export.xlsx"
    book.save(whole)
    raw = whole.read_bytes()
    before = _mirror(desk_station)
    for cut in (10, len(raw) // 3, len(raw) // 2, len(raw) - 30):
        part = tmp_path / f"cut-{cut}.xlsx"
        part.write_bytes(raw[:cut])
        with pytest.raises(accreditation.AccreditationImportError) as error:
            accreditation.import_file(desk_station, part, operator="fuzz")
        assert str(part) in str(error.value)
        assert _mirror(desk_station) == before
    assert accreditation.import_file(desk_station, whole, operator="fuzz").counts["added"] == 4


@pytest.mark.parametrize(
    "data",
    [b"\x80\ra", GOOD_CSV.replace(b"Thapa", b"Th\xe1\rapa", 1)],
    ids=["latin1-byte-then-CR", "latin1-name-with-stray-CR"],
)
def test_import_of_non_utf8_file_with_a_stray_carriage_return_is_a_clear_refusal(desk_station, tmp_path, data):
    """Found by the fuzz test above: the not-UTF-8 diagnosis itself must not crash on a bare CR."""
    from regdesk.services import accreditation

    path = tmp_path / "export.csv"
    path.write_bytes(data)
    with pytest.raises(accreditation.AccreditationImportError, match="UTF-8"):
        accreditation.import_file(desk_station, path, operator="fuzz")
