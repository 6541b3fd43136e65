"""Badge token: what the QR code holds.

Binary layout (version 1), then RFC 4648 base32 without padding (A-Z, 2-7 only), because those
characters come out the same through a keyboard-wedge scanner on any keyboard layout:

    0      version (1)
    1..4   event tag: first 4 bytes of SHA-256(event code)
    5..8   key id: first 4 bytes of SHA-256(raw Ed25519 public key)
    9..13  badge serial (40 random bits; shown as 8 base32 characters)
    14     issue number (1 = first badge, 2 = first replacement, ...)
    15     n = length of the participant's accreditation id (ASCII)
    16..   accreditation id (n bytes)
    ..+64  Ed25519 signature over DOMAIN + all the bytes above

Pure: no I/O and no clock. Scan stations need only public keys to verify.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

VERSION = 1
DOMAIN = b"regdesk-badge-v1\x00"
SIGNATURE_LEN = 64
HEADER_LEN = 16
MAX_TOKEN_CHARS = 400  # anything longer is not one of ours; never decode unbounded input
SERIAL_BYTES = 5
SERIAL_LENGTH = 8  # base32 characters of SERIAL_BYTES

_B32_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def event_tag(event_code: str) -> bytes:
    return hashlib.sha256(event_code.encode("utf-8")).digest()[:4]


def key_id_for(public_key_raw: bytes) -> str:
    return hashlib.sha256(public_key_raw).digest()[:4].hex()


def public_key_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def new_serial() -> str:
    """8 base32 characters (40 bits): unique across partitioned desks without coordination."""
    return _b32(secrets.token_bytes(SERIAL_BYTES))


def format_serial(serial: str) -> str:
    """Human form printed on the badge: ABCD-EFGH."""
    return f"{serial[:4]}-{serial[4:]}" if len(serial) == 8 else serial


def normalise_serial(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch in _B32_ALPHABET)


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def _unb32(text: str) -> bytes:
    pad = (-len(text)) % 8
    return base64.b32decode(text + "=" * pad)


@dataclass(frozen=True)
class BadgeClaims:
    event_tag: bytes
    key_id: str
    serial: str
    issue_no: int
    participant_id: str


class TokenProblem(StrEnum):
    UNREADABLE = "unreadable"
    FORGED = "forged"
    WRONG_EVENT = "wrong_event"
    UNKNOWN_KEY = "unknown_key"


@dataclass(frozen=True)
class TokenCheck:
    """Outcome of reading a scanned string: claims when the signature holds, else a problem."""

    claims: BadgeClaims | None
    problem: TokenProblem | None
    text: str  # the cleaned token that was checked

    @property
    def ok(self) -> bool:
        return self.problem is None


def sign_token(claims: BadgeClaims, private_key: Ed25519PrivateKey) -> str:
    pid = claims.participant_id.encode("ascii")
    if len(pid) > 255:
        raise ValueError("accreditation id longer than 255 characters")
    if not 1 <= claims.issue_no <= 255:
        raise ValueError("issue number must be 1..255")
    body = (
        bytes([VERSION])
        + claims.event_tag
        + bytes.fromhex(claims.key_id)
        + _unb32(claims.serial)
        + bytes([claims.issue_no, len(pid)])
        + pid
    )
    signature = private_key.sign(DOMAIN + body)
    return _b32(body + signature)


def _parse(raw: bytes) -> tuple[BadgeClaims, bytes, bytes] | None:
    if len(raw) < HEADER_LEN + SIGNATURE_LEN or raw[0] != VERSION:
        return None
    n = raw[15]
    if len(raw) != HEADER_LEN + n + SIGNATURE_LEN:
        return None
    body = raw[: HEADER_LEN + n]
    try:
        pid = raw[HEADER_LEN : HEADER_LEN + n].decode("ascii")
    except UnicodeDecodeError:
        return None
    claims = BadgeClaims(
        event_tag=raw[1:5],
        key_id=raw[5:9].hex(),
        serial=_b32(raw[9:14]),
        issue_no=raw[14],
        participant_id=pid,
    )
    return claims, body, raw[HEADER_LEN + n :]


# Key positions a US-configured scanner sends, as other host layouts type them. Letters and
# 2-7 survive the Latin-American layout, but AZERTY and QWERTZ move some of them.
_AZERTY_TO_US = str.maketrans(
    {
        "é": "2",
        '"': "3",
        "'": "4",
        "(": "5",
        "-": "6",
        "è": "7",
        "É": "2",
        "È": "7",
        "a": "q",
        "q": "a",
        "z": "w",
        "w": "z",
        "A": "Q",
        "Q": "A",
        "Z": "W",
        "W": "Z",
        ",": "M",
        "?": "M",
    }
)
_QWERTZ_TO_US = str.maketrans({"z": "y", "y": "z", "Z": "Y", "Y": "Z"})


def clean_scan(raw: str) -> str:
    """Drop terminators and stray whitespace/control characters a scanner or a person adds."""
    return "".join(ch for ch in raw if ch.isprintable() and not ch.isspace())


def _candidates(raw: str) -> list[str]:
    cleaned = clean_scan(raw)
    seen: list[str] = []
    for variant in (cleaned, cleaned.translate(_QWERTZ_TO_US), cleaned.translate(_AZERTY_TO_US)):
        upper = variant.upper()
        if upper not in seen:
            seen.append(upper)
    return seen


def read_token(
    raw: str,
    *,
    event_code: str,
    public_keys: dict[str, bytes],
) -> TokenCheck:
    """Decode and verify a scanned string.

    `public_keys` maps key id -> raw Ed25519 public key. Tries the string as typed (any case),
    then as if typed through a QWERTZ or AZERTY host; a candidate counts only if its signature
    verifies, so a de-garbling guess can never turn a bad badge into a good one.
    """
    return TokenCheck(*verify_scanned(raw, event_code=event_code, public_keys=public_keys, parse=_parse, domain=DOMAIN))


def verify_scanned(
    raw: str,
    *,
    event_code: str,
    public_keys: dict[str, bytes],
    parse: Callable[[bytes], tuple[Any, bytes, bytes] | None],
    domain: bytes,
) -> tuple[Any, TokenProblem | None, str]:
    """(claims, problem or None, text read) for a scanned string of a signed format (badges here,
    temporary passes in domain/passes.py): each keyboard-layout candidate is parsed with `parse`
    and counts only if its signature under `domain` verifies with a known key."""
    if len(raw) > MAX_TOKEN_CHARS * 4:
        return None, TokenProblem.UNREADABLE, ""
    best: tuple[Any, TokenProblem | None, str] | None = None
    expected_tag = event_tag(event_code)
    for text in _candidates(raw):
        if not text or len(text) > MAX_TOKEN_CHARS or set(text) - _B32_ALPHABET:
            continue
        try:
            parsed = parse(_unb32(text))
        except (ValueError, TypeError):
            parsed = None
        if parsed is None:
            continue
        claims, body, signature = parsed
        if claims.event_tag != expected_tag:
            check = (claims, TokenProblem.WRONG_EVENT, text)
        elif claims.key_id not in public_keys:
            check = (claims, TokenProblem.UNKNOWN_KEY, text)
        else:
            try:
                Ed25519PublicKey.from_public_bytes(public_keys[claims.key_id]).verify(signature, domain + body)
                return claims, None, text
            except InvalidSignature:
                check = (claims, TokenProblem.FORGED, text)
        if best is None:
            best = check
    return best or (None, TokenProblem.UNREADABLE, clean_scan(raw)[:MAX_TOKEN_CHARS])


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
