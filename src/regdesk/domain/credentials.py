"""Operator credentials: what a PIN or a passphrase must look like, and how it is hashed. Pure.

Why supervisors need passphrases: operator hashes travel with the event log (every station must
check a supervisor at its own lock screen, offline), so a stolen scan laptop or a lost USB stick
hands the hashes to an attacker who can guess offline. No hashing makes a 4-digit PIN survive
that (10,000 guesses). A supervisor passphrase of 12+ characters, estimated at 40+ bits, hashed
with scrypt at 128 MiB (~0.5 s per guess on one core), costs far more than a CPU-year to guess:
2^40 guesses × 0.5 s ≈ 17,000 CPU-years. Clerks, security staff and marshals keep short PINs:
what their PIN opens (one station's screen, in person) is guarded by the station itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

from regdesk.domain.authority import OperatorRole


@dataclass(frozen=True)
class ScryptCost:
    n: int
    r: int = 8
    p: int = 1

    @property
    def memory(self) -> int:
        return 128 * self.r * self.n


PIN_COST = ScryptCost(2**14)  # 16 MiB, ~50 ms
PASSPHRASE_COST = ScryptCost(2**17)  # 128 MiB, ~0.5 s
# The weakest cost a stored hash may claim, per role; a hash made with less is refused as
# malformed. Lowered only by the test suite (conftest) to keep thousands of sign-ins fast.
MIN_COST = {"pin": PIN_COST.n, "passphrase": PASSPHRASE_COST.n}
_MAX_N = 2**20  # never let a stored hash make us allocate more than 1 GiB
_SALT_LEN, _DIGEST_LEN = 16, 32

PIN_MIN, PIN_MAX = 4, 12
PASSPHRASE_MIN, PASSPHRASE_MAX = 12, 200
PASSPHRASE_MIN_BITS = 40


def uses_passphrase(role: str) -> bool:
    return role == OperatorRole.SUPERVISOR


def kind_for(role: str) -> str:
    return "passphrase" if uses_passphrase(role) else "pin"


def estimated_bits(text: str) -> float:
    """A deliberately pessimistic strength estimate: the character pool the text draws from,
    counting only distinct characters, halved for human patterns."""
    pool = 0
    if any(c.islower() for c in text):
        pool += 26
    if any(c.isupper() for c in text):
        pool += 26
    if any(c.isdigit() for c in text):
        pool += 10
    if any(not c.isalnum() for c in text):
        pool += 33
    if not pool:
        return 0.0
    distinct = len(set(text.casefold()))
    effective_length = min(len(text), 2 * distinct)  # "aaaaaaaaaaaa" is not 12 characters of entropy
    return effective_length * math.log2(pool) / 2


_TOO_COMMON = ("password", "passphrase", "123456", "qwerty", "azerty", "letmein", "supervisor", "regdesk", "admin")


def secret_problem(secret: str, role: str) -> str | None:
    """None when `secret` may be used by an operator of `role`; else one sentence saying why not."""
    if uses_passphrase(role):
        if len(secret) < PASSPHRASE_MIN:
            return f"a supervisor passphrase needs at least {PASSPHRASE_MIN} characters (words and spaces are fine)"
        if len(secret) > PASSPHRASE_MAX:
            return f"a passphrase has at most {PASSPHRASE_MAX} characters"
        if any(not c.isprintable() for c in secret):
            return "a passphrase cannot hold control characters"
        folded = secret.casefold()
        if any(word in folded for word in _TOO_COMMON) and estimated_bits(secret) < PASSPHRASE_MIN_BITS + 20:
            return "this passphrase is too easy to guess; use a few unrelated words"
        if estimated_bits(secret) < PASSPHRASE_MIN_BITS:
            return "this passphrase is too easy to guess; make it longer or mix in other words"
        return None
    if not (secret.isascii() and secret.isdigit() and PIN_MIN <= len(secret) <= PIN_MAX):
        return f"a PIN is {PIN_MIN} to {PIN_MAX} digits"
    return None


def hash_secret(secret: str, role: str, *, cost: ScryptCost | None = None) -> str:
    cost = cost or (PASSPHRASE_COST if uses_passphrase(role) else PIN_COST)
    salt = secrets.token_bytes(_SALT_LEN)
    digest = hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=cost.n, r=cost.r, p=cost.p, maxmem=2 * cost.memory, dklen=_DIGEST_LEN
    )
    return f"scrypt${cost.n}${cost.r}${cost.p}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class StoredHash:
    cost: ScryptCost
    salt: bytes
    digest: bytes


def parse_hash(stored: object) -> StoredHash | None:
    """The parts of a stored hash, or None when it is not one regdesk could have written."""
    if not isinstance(stored, str) or len(stored) > 200:
        return None
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0 and r == 8 and p == 1):
        return None
    if len(salt) != _SALT_LEN or len(digest) != _DIGEST_LEN:
        return None
    return StoredHash(ScryptCost(n, r, p), salt, digest)


def hash_problem(stored: object, role: str) -> str | None:
    """Why a hash arriving in an event cannot be accepted for an operator of `role`."""
    parsed = parse_hash(stored)
    if parsed is None:
        return "the credential hash is malformed"
    if parsed.cost.n < MIN_COST[kind_for(role)]:
        return f"the credential hash is too cheap to guess for a {role} (scrypt N={parsed.cost.n})"
    return None


def secret_matches(secret: str, stored: str) -> bool:
    """Constant-time check; False (never an exception) for a malformed hash."""
    parsed = parse_hash(stored)
    if parsed is None:
        return False
    cost = parsed.cost
    digest = hashlib.scrypt(
        secret.encode("utf-8"),
        salt=parsed.salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=2 * cost.memory,
        dklen=_DIGEST_LEN,
    )
    return hmac.compare_digest(digest, parsed.digest)
