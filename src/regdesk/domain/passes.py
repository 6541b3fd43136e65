"""Temporary passes: the contingency stock a supervisor pre-prints for one local day. Pure.

When the desk loses power or its laptop, the meeting goes on with numbered passes printed in
advance. A pass carries no name: it is signed by a desk's badge-signing key exactly like a
badge (the same Ed25519 keys, published in the desk's certified chain, the same base32 text
that survives any keyboard layout), with its own version byte and signature domain, so a pass
can never be read as a badge nor a badge as a pass.

Binary layout (version 2), then RFC 4648 base32 without padding:

    0      version (2)
    1..4   event tag: first 4 bytes of SHA-256(event code)
    5..8   key id: first 4 bytes of SHA-256(raw Ed25519 public key)
    9..10  year, 11 month, 12 day: the one local day the pass opens the venue and the buses
    13..16 pass number (unsigned, big-endian): the number printed on the pass
    ..+64  Ed25519 signature over PASS_DOMAIN + all the bytes above

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

PASS_VERSION = 2
PASS_DOMAIN = b"regdesk-temporary-pass-v1\x00"
BODY_LEN = 17
MAX_NUMBER = 99_999  # printed as five digits at most
SERIAL_PREFIX = "TP"
_SERIAL = re.compile(r"TP(\d{4,5})")


def pass_serial(number: int) -> str:
    """The pass's serial as stored and typed: TP0012 (at least four digits)."""
    return f"{SERIAL_PREFIX}{number:04d}"


def format_pass_serial(serial: str) -> str:
    """Printed form: TP-0012."""
    return f"{serial[:2]}-{serial[2:]}" if serial.startswith(SERIAL_PREFIX) else serial


def pass_number(serial: str) -> int | None:
    found = _SERIAL.fullmatch(serial)
    return int(found.group(1)) if found else None


def normalise_pass_serial(text: str) -> str | None:
    """What a clerk types from the printed pass ("TP-0012", "tp12", "12") -> "TP0012"; None if not one."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    if cleaned.startswith(SERIAL_PREFIX):
        cleaned = cleaned[2:]
    if not cleaned.isdigit() or not cleaned.isascii() or len(cleaned) > 5:
        return None
    number = int(cleaned)
    return pass_serial(number) if 1 <= number <= MAX_NUMBER else None


@dataclass(frozen=True)
class PassClaims:
    event_tag: bytes
    key_id: str
    day: date
    number: int

    @property
    def serial(self) -> str:
        return pass_serial(self.number)


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
        bytes([PASS_VERSION])
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
    if len(raw) != BODY_LEN + tokens.SIGNATURE_LEN or raw[0] != PASS_VERSION:
        return None
    try:
        day = date(int.from_bytes(raw[9:11], "big"), raw[11], raw[12])
    except ValueError:
        return None
    number = int.from_bytes(raw[13:17], "big")
    if not 1 <= number <= MAX_NUMBER:
        return None
    return PassClaims(raw[1:5], raw[5:9].hex(), day, number), raw[:BODY_LEN], raw[BODY_LEN:]


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
