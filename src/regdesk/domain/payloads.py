"""The checks event payloads are held to: field checks, the Schema they make up, the text rules
and the participant fields. Pure. Each kind's fields and their checks are declared once, in
event_payloads.py, which derives every kind's Schema from them.

A payload that fails its schema never reaches the projections, wherever it comes from. Text is
held to the accreditation import's rules (length, no control characters, no terminal escapes,
no bidirectional overrides), because names from the log end up on screens, badges and terminals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# C0 and C1 controls (ESC and CSI start terminal escape sequences), line/paragraph separators,
# bidirectional embeddings/overrides/isolates and the Arabic letter mark (they reorder what a
# reader sees), and the byte-order mark.
UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f\ufeff]")
# Printable characters that are still unsafe (str.isprintable() lets them through).
_NEEDS_A_LOOK = re.compile("[\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f\ufeff]")
# Free text people type (a reason, a note) may also hold tabs and line breaks.
UNSAFE_FREE_TEXT = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f\ufeff]"
)
# The same without \x1f, for columns joined by \x1f and checked in one pass.
UNSAFE_JOINED = re.compile("[\x00-\x1e\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f\ufeff]")
_IDENT = re.compile(r"[a-z0-9_]{1,40}")
_ACCREDITATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_SERIAL = re.compile(r"[A-Z2-7]{8}")
_PASS_SERIAL = re.compile(r"TP(?:[A-Z]{3})?\d{4,5}")  # TP0012, or with its desk mark TPKQX0012
MAX_PASSES_PER_RUN = 1000
_KEY_ID = re.compile(r"[0-9a-f]{8}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_TOKEN = re.compile(r"[A-Z2-7]{40,400}")
_CONFLICT_KEY = re.compile(r"[A-Za-z0-9._:/ -]{1,300}", re.UNICODE)

PARTICIPANT_FIELDS = (
    "accreditation_id",
    "family_name",
    "given_names",
    "family_name_latin",
    "given_names_latin",
    "category",
    "delegation",
    "delegation_role",
    "status",
    "confirmation_code",
    "title",
)
PARTICIPANT_MAX_LENGTH = {
    "accreditation_id": 64,
    "title": 64,
    "confirmation_code": 64,
    "category": 200,
    "delegation_role": 16,
    "status": 16,
}
PARTICIPANT_DEFAULT_MAX_LENGTH = 200
# The columns of the UN accreditation export (services/accreditation): required, then optional.
PARTICIPANT_REQUIRED_FIELDS = (
    "accreditation_id",
    "family_name",
    "given_names",
    "category",
    "delegation",
    "delegation_role",
    "status",
)
PARTICIPANT_OPTIONAL_FIELDS = ("title", "family_name_latin", "given_names_latin", "confirmation_code")
# Free text a person typed (names, titles, delegation): formula and script rules apply.
PARTICIPANT_TEXT_FIELDS = (
    "title",
    "family_name",
    "given_names",
    "family_name_latin",
    "given_names_latin",
    "delegation",
)
DELEGATION_ROLES = ("head", "member")
PARTICIPANT_STATUSES = ("accredited", "withdrawn")
MAX_PAYLOAD_TEXT = 2000  # any one free-text value (reasons, notes)
AUTHORISATION_MAX = 300  # the reference of a note verbale or letter authorising a collection


class BadPayload(ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"field {field!r}: {message}")


def text_problem(value: object, max_length: int = 200, *, empty_ok: bool = True, free: bool = False) -> str | None:
    if (
        type(value) is str
        and value
        and len(value) <= max_length
        and value.isprintable()
        and (value.isascii() or not _NEEDS_A_LOOK.search(value))
    ):
        return None  # the usual case, decided in C
    if not isinstance(value, str):
        return "must be text"
    if len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} are allowed"
    if not value and not empty_ok:
        return "is empty"
    found = (UNSAFE_FREE_TEXT if free else UNSAFE_TEXT).search(value)
    if found:
        return f"contains the control or bidirectional character U+{ord(found.group()):04X}"
    return None


# --- field checks: each returns None or a problem -------------------------------------------------

Check = Callable[[Any], "str | None"]


def shown_safely(value: str, max_length: int, *, free: bool = False) -> str:
    """`value` as a log may hold it: each character `text_problem` refuses is written as <U+XXXX>, and
    the whole cut to `max_length`. For text that quotes refused input (a security alert's reason)."""
    unsafe = UNSAFE_FREE_TEXT if free else UNSAFE_TEXT
    return unsafe.sub(lambda found: f"<U+{ord(found.group()):04X}>", value)[:max_length]


def text(max_length: int = 200, *, empty_ok: bool = True) -> Check:
    return lambda v: text_problem(v, max_length, empty_ok=empty_ok)


def free_text(max_length: int = MAX_PAYLOAD_TEXT, *, empty_ok: bool = True) -> Check:
    """What a person wrote in their own words: tabs and line breaks allowed, escapes never."""
    return lambda v: text_problem(v, max_length, empty_ok=empty_ok, free=True)


def pattern(regex: re.Pattern[str], words: str, *, empty_ok: bool = False) -> Check:
    match = regex.fullmatch

    def check(value: Any) -> str | None:
        if type(value) is str and (match(value) or (empty_ok and not value)):
            return None
        return "must be text" if not isinstance(value, str) else f"is not {words}"

    return check


def one_of(choices: tuple[str, ...] | frozenset[str]) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(sorted(choices))}"


def whole(low: int = 0, high: int = 10**9) -> Check:
    return lambda v: None if type(v) is int and low <= v <= high else f"must be a whole number {low}..{high}"


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def nullable(check: Check) -> Check:
    return lambda v: None if v is None else check(v)


def list_of(check: Check, max_items: int = 1000) -> Check:
    def checker(value: Any) -> str | None:
        if not isinstance(value, list) or len(value) > max_items:
            return f"must be a list of at most {max_items} items"
        for item in value:
            problem = check(item)
            if problem:
                return f"has an item that {problem}"
        return None

    return checker


def small_object(value: Any) -> str | None:
    """A nested object (a certificate, counts): bounded, every key and text value safe."""

    def walk(item: Any, depth: int) -> str | None:
        if depth > 6:
            return "is nested too deeply"
        if isinstance(item, dict):
            if len(item) > 100:
                return "has too many fields"
            for key, sub in item.items():
                problem = text_problem(key, 64) or walk(sub, depth + 1)
                if problem:
                    return problem
        elif isinstance(item, list):
            if len(item) > 1000:
                return "has too many items"
            for sub in item:
                problem = walk(sub, depth + 1)
                if problem:
                    return problem
        elif isinstance(item, str):
            return text_problem(item, MAX_PAYLOAD_TEXT, free=True)
        elif item is not None and not isinstance(item, (bool, int, float)):
            return "holds a value of an unknown type"
        return None

    return "must be an object" if not isinstance(value, dict) else walk(value, 0)


IDENT = pattern(_IDENT, "a lower-case identifier")
PARTICIPANT = pattern(_ACCREDITATION_ID, "an accreditation id")
SERIAL = pattern(_SERIAL, "a badge serial (8 characters A-Z, 2-7)")
UUID = pattern(_UUID, "a UUID")
DAY = pattern(_DAY, "a day like 2017-12-04")
UTC = pattern(_UTC, "a UTC time like 2017-12-01T19:05:00.000000Z")
NAME = text(120, empty_ok=False)
PASS_SERIAL = pattern(_PASS_SERIAL, "a temporary pass serial (TP, a desk mark of 3 letters or none, 4-5 digits)")
LAST4 = pattern(re.compile(r"[A-Z0-9]{1,4}"), "the last 4 characters of a document number")
KEY_ID = pattern(_KEY_ID, "a key id")
HEX64 = pattern(_HEX64, "a SHA-256 or public key (64 hex digits)")
SIGNATURE = pattern(_HEX128, "a signature")
TOKEN = pattern(_TOKEN, "a badge token")
CONFLICT_KEY = pattern(_CONFLICT_KEY, "a conflict key")
# The patterns themselves, for checks that build their own (scan fields that may be empty).
IDENT_RE, DAY_RE, SERIAL_RE, ACCREDITATION_ID_RE, PASS_SERIAL_RE, HEX64_RE = (
    _IDENT,
    _DAY,
    _SERIAL,
    _ACCREDITATION_ID,
    _PASS_SERIAL,
    _HEX64,
)


@dataclass(frozen=True)
class Schema:
    required: Mapping[str, Check]
    optional: Mapping[str, Check]
    max_json: int = 8000  # characters of canonical JSON; accreditation imports are checked row by row

    def problems(self, payload: Mapping[str, Any]) -> BadPayload | None:
        # Runs for every event recorded and every event merged: plain loops, no allocations on
        # the usual (valid) path.
        required, optional = self.required, self.optional
        for name, check in required.items():
            if name not in payload:
                return BadPayload(name, "is missing")
            problem = check(payload[name])
            if problem:
                return BadPayload(name, problem)
        for name, value in payload.items():
            if name in required:
                continue
            optional_check = optional.get(name)
            if optional_check is None:
                # A field a newer regdesk adds: kept, never read by this one, held to the text rules.
                problem = text_problem(name, 64) or (small_object({"v": value}) if value is not None else None)
            else:
                problem = optional_check(value)
            if problem:
                return BadPayload(name, problem)
        return None


def participant_rows_problem(payload: Mapping[str, Any]) -> str | None:
    """Every cell of an accreditation import held to the importer's own rules (one pass per column)."""
    columns = payload.get("columns")
    rows = payload.get("rows")
    if not isinstance(rows, list):
        return "rows: must be a list"
    if columns is None:  # the older shape: one object per row
        if not all(isinstance(r, dict) for r in rows):
            return "rows: each row must be an object"
        rows = [[r.get(f, "") for f in PARTICIPANT_FIELDS] for r in rows]
        columns = list(PARTICIPANT_FIELDS)
    if (
        not isinstance(columns, list)
        or len(columns) > 40
        or not all(isinstance(c, str) for c in columns)
        or len(set(columns)) != len(columns)
    ):
        return "columns: must be a list of distinct field names"
    if "accreditation_id" not in columns:
        return "columns: accreditation_id is missing"
    width = len(columns)
    if not all(type(r) is list and len(r) == width for r in rows):
        return f"rows: each row must be a list of {width} values"
    for index, name in enumerate(columns):
        column = [r[index] for r in rows]
        if not all(type(v) is str for v in column):
            return f"rows: every {name} must be text"
        joined = "\x1f".join(column)
        limit = PARTICIPANT_MAX_LENGTH.get(name, PARTICIPANT_DEFAULT_MAX_LENGTH)
        if UNSAFE_JOINED.search(joined) or (column and joined.count("\x1f") != len(column) - 1):
            bad = next(v for v in column if UNSAFE_TEXT.search(v))
            return f"rows: a {name} holds a control or bidirectional character ({bad[:40]!r})"
        if column and max(map(len, column)) > limit:
            return f"rows: a {name} is longer than {limit} characters"
        if name == "accreditation_id" and not all(map(_ACCREDITATION_ID.fullmatch, column)):
            return "rows: an accreditation id is malformed"
        if name == "delegation_role" and not set(column) <= set(DELEGATION_ROLES) | {""}:
            return "rows: a delegation role is not head or member"
        if name == "status" and not set(column) <= set(PARTICIPANT_STATUSES):
            return "rows: a status is not accredited or withdrawn"
    return None
