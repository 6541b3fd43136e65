"""Temporary passes: the contingency stock a supervisor pre-prints for one local day. Pure.

When the desk loses power or its laptop, the meeting goes on with numbered passes printed in
advance. A pass carries no name: it is signed by a desk's badge-signing key exactly like a
badge (the same Ed25519 keys, published in the desk's certified chain, the same base32 text
that survives any keyboard layout), with its own version byte and signature domain, so a pass
can never be read as a badge nor a badge as a pass.

Binary layout (version 3; version 2 is the same without desk marks), then RFC 4648 base32
without padding:

    0      version (3, or 2 for the passes printed before desk marks)
    1..4   event tag: first 4 bytes of SHA-256(event code)
    5..8   key id: first 4 bytes of SHA-256(raw Ed25519 public key)
    9..10  year, 11 month, 12 day: the one local day the pass opens the venue and the buses
    13..16 pass number (unsigned, big-endian): the number printed on the pass
    ..+64  Ed25519 signature over PASS_DOMAIN + all the bytes above

Serials are unique by construction: each desk numbers its own passes (1, 2, ... per signing key,
from its own log), and the serial starts with its desk mark, three letters drawn from the key id
(TP-KQX-0012). Two desks printing while cut off from each other never reuse a serial. The mark is
what a clerk reads aloud and types; the pass itself (its QR) carries the whole key id. A desk
whose key's mark is already another desk's (1 in 17,576 per pair) is refused at printing time
(domain.mark_taken; services/passes.py), so typed serials stay unambiguous. Version 2 passes (printed
before marks, TP-0012) keep their serials and still scan.

A scan point shows a good pass as TEMPORARY PASS (its own verdict, amber, never plain VALID):
the officer checks an identity document, and once the desk assigned the pass, compares the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from regdesk.domain import token as tokens
from regdesk.domain.token import TokenProblem
from regdesk.domain.verdict import Outcome, Reason, Verdict

PASS_VERSION = 3
UNMARKED_VERSION = 2  # passes printed before desk marks: TP-0012
PASS_VERSIONS = (UNMARKED_VERSION, PASS_VERSION)
PASS_DOMAIN = b"regdesk-temporary-pass-v1\x00"
BODY_LEN = 17
MAX_NUMBER = 99_999  # printed as five digits at most
SERIAL_PREFIX = "TP"
MARK_LEN = 3
_SERIAL = re.compile(r"TP([A-Z]{3})?(\d{4,5})")


def desk_mark(key_id: str) -> str:
    """Three letters from a signing key's id (8 hex digits): the desk part of its passes' serials."""
    value = int(key_id, 16)
    letters = ""
    for _ in range(MARK_LEN):
        value, index = divmod(value, 26)
        letters += chr(ord("A") + index)
    return letters


def mark_taken(key_id: str, other_key_ids: list[str]) -> bool:
    """Whether another desk key already reads with this key's mark (its typed serials would clash)."""
    mark = desk_mark(key_id)
    return any(other != key_id and desk_mark(other) == mark for other in other_key_ids)


def pass_serial(number: int, mark: str = "") -> str:
    """The pass's serial as stored and typed: TPKQX0012, or TP0012 for an unmarked (version 2) pass."""
    return f"{SERIAL_PREFIX}{mark}{number:04d}"


def format_pass_serial(serial: str) -> str:
    """Printed form: TP-KQX-0012 (TP-0012 unmarked)."""
    found = _SERIAL.fullmatch(serial)
    if not found:
        return serial
    mark, digits = found.groups()
    return f"{SERIAL_PREFIX}-{mark}-{digits}" if mark else f"{SERIAL_PREFIX}-{digits}"


def pass_number(serial: str) -> int | None:
    found = _SERIAL.fullmatch(serial)
    return int(found.group(2)) if found else None


def normalise_pass_serial(text: str) -> str | None:
    """What a clerk types from the printed pass -> its serial; None if not one. "TP-KQX-0012",
    "kqx12" and "KQX-0012" give TPKQX0012; "TP-0012", "tp12" and "12" give TP0012 (unmarked)."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if not cleaned.isascii():
        return None
    if cleaned.startswith(SERIAL_PREFIX):
        found = _typed_serial(cleaned[len(SERIAL_PREFIX) :])
        if found is not None:
            return found
    return _typed_serial(cleaned)  # a mark that itself starts with TP, typed without the prefix


def _typed_serial(rest: str) -> str | None:
    mark = rest[:MARK_LEN] if rest[:MARK_LEN].isalpha() else ""
    digits = rest[len(mark) :]
    if not digits.isdigit() or len(digits) > 5:
        return None
    number = int(digits)
    return pass_serial(number, mark) if 1 <= number <= MAX_NUMBER else None


@dataclass(frozen=True)
class PassClaims:
    event_tag: bytes
    key_id: str
    day: date
    number: int
    marked: bool = True  # False: a version 2 pass, printed before desk marks

    @property
    def serial(self) -> str:
        return pass_serial(self.number, desk_mark(self.key_id) if self.marked else "")


@dataclass(frozen=True)
class PassCheck:
    """Outcome of reading a scanned string as a pass: claims when the signature holds, else a problem."""

    claims: PassClaims | None
    problem: TokenProblem | None
    text: str

    @property
    def ok(self) -> bool:
        return self.problem is None


def _body(claims: PassClaims) -> bytes:
    if not 1 <= claims.number <= MAX_NUMBER:
        raise ValueError(f"pass number must be 1..{MAX_NUMBER}")
    return (
        bytes([PASS_VERSION if claims.marked else UNMARKED_VERSION])
        + claims.event_tag
        + bytes.fromhex(claims.key_id)
        + claims.day.year.to_bytes(2, "big")
        + bytes([claims.day.month, claims.day.day])
        + claims.number.to_bytes(4, "big")
    )


def sign_pass(claims: PassClaims, private_key: Ed25519PrivateKey) -> str:
    body = _body(claims)
    return tokens._b32(body + private_key.sign(PASS_DOMAIN + body))


def _parse(raw: bytes) -> tuple[PassClaims, bytes, bytes] | None:
    if len(raw) != BODY_LEN + tokens.SIGNATURE_LEN or raw[0] not in PASS_VERSIONS:
        return None
    try:
        day = date(int.from_bytes(raw[9:11], "big"), raw[11], raw[12])
    except ValueError:
        return None
    number = int.from_bytes(raw[13:17], "big")
    if not 1 <= number <= MAX_NUMBER:
        return None
    claims = PassClaims(raw[1:5], raw[5:9].hex(), day, number, marked=raw[0] == PASS_VERSION)
    return claims, raw[:BODY_LEN], raw[BODY_LEN:]


def looks_like_pass(raw: str) -> bool:
    """Cheap pre-check on a scanned string: could it be a pass at all (right length)?"""
    cleaned = tokens.clean_scan(raw)
    return len(cleaned) == -(-(BODY_LEN + tokens.SIGNATURE_LEN) * 8 // 5)


def read_pass(raw: str, *, event_code: str, public_keys: dict[str, bytes]) -> PassCheck:
    """Decode and verify a scanned pass, as `token.read_token` does for badges (the same keyboard
    layout repairs, counted only when the signature verifies)."""
    return PassCheck(
        *tokens.verify_scanned(raw, event_code=event_code, public_keys=public_keys, parse=_parse, domain=PASS_DOMAIN)
    )


# --- the verdict at a scan point ---------------------------------------------------------------------

PASS_NOT_KNOWN_NOTE = "Pass genuine, but its print run is not on this station yet"


@dataclass(frozen=True)
class PassFacts:
    token_problem: str | None  # a TokenProblem value, or None when the signature verified
    pass_day: date | None  # the day signed into the pass
    local_day: date  # today in the event's zone (from the injected clock)
    valid_days: tuple[date, ...]
    voided: bool = False  # a supervisor voided this pass (lost, stolen, spoilt)
    key_revoked: bool = False  # signed by a key of a revoked station after its cut-off
    holder_status: str = ""  # the assigned person's accreditation status ("" when unassigned / unknown)
    assigned_name: str = ""  # the person the desk assigned the pass to ("" when not yet)
    printed_known: bool = True  # the passes_printed event of this pass reached this station
    recent_same_point: bool = False  # a counted scan of this pass here within the repeat window
    already_aboard: bool = False  # bus: this pass (or its holder) already boarded this departure


def decide_pass(facts: PassFacts) -> Verdict:
    """Check order (first failure wins), as for badges: the token itself -> key of a revoked station
    -> voided -> assigned person withdrawn -> wrong day -> not a meeting day -> repeat -> TEMPORARY PASS."""
    if facts.token_problem is not None:
        return Verdict(Outcome.DENIED, _TOKEN_REASONS.get(facts.token_problem, Reason.UNREADABLE))
    if facts.key_revoked:
        return Verdict(Outcome.DENIED, Reason.KEY_REVOKED)
    if facts.voided:
        return Verdict(Outcome.DENIED, Reason.PASS_VOIDED)
    if facts.holder_status == "withdrawn":
        return Verdict(Outcome.DENIED, Reason.WITHDRAWN)
    if facts.pass_day != facts.local_day:
        when = facts.pass_day.isoformat() if facts.pass_day else "another day"
        return Verdict(Outcome.DENIED, Reason.PASS_WRONG_DAY, f"This pass is for {when} only")
    if facts.local_day not in facts.valid_days:
        return Verdict(Outcome.DENIED, Reason.NOT_VALID_TODAY)
    note = "" if facts.printed_known else PASS_NOT_KNOWN_NOTE
    if facts.recent_same_point:
        return Verdict(Outcome.REPEAT, Reason.REPEAT, note)
    if facts.already_aboard:
        return Verdict(Outcome.REPEAT, Reason.REPEAT, note or "Already boarded this bus: counted once")
    if facts.assigned_name:
        return Verdict(
            Outcome.TEMPORARY,
            Reason.PASS_ASSIGNED,
            note or f"TEMPORARY PASS - assigned to {facts.assigned_name} - check ID",
        )
    return Verdict(Outcome.TEMPORARY, Reason.TEMPORARY_PASS, note)


_TOKEN_REASONS = {
    "unreadable": Reason.UNREADABLE,
    "forged": Reason.FORGED,
    "wrong_event": Reason.WRONG_EVENT,
    "unknown_key": Reason.UNKNOWN_KEY,
}
