"""Passphrase- or code-locked boxes: the root key at rest and join tickets in transit. Pure.

Format: a magic line, a JSON header line (KDF parameters, salt, nonce) and the ChaCha20-Poly1305
ciphertext, with the header as associated data: changing any byte of the header or the
ciphertext makes opening fail, so a box is either opened whole or not at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from regdesk.domain.credentials import ScryptCost

MAGIC = b"regdesk-box-v1\n"
ROOT_KEY_COST = ScryptCost(2**17)
JOIN_CODE_COST = ScryptCost(2**15)
_MAX_N = 2**20
_MAX_HEADER = 1000


class BoxError(ValueError):
    """Not a box, a damaged box, or the wrong passphrase: nothing was opened."""


class WrongSecret(BoxError):
    pass


def _derive(secret: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=cost.n, r=cost.r, p=cost.p, maxmem=2 * cost.memory, dklen=32
    )


def lock(plaintext: bytes, secret: str, cost: ScryptCost, *, purpose: str) -> bytes:
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = json.dumps(
        {
            "purpose": purpose,
            "kdf": "scrypt",
            "n": cost.n,
            "r": cost.r,
            "p": cost.p,
            "salt": base64.b64encode(salt).decode(),
            "nonce": base64.b64encode(nonce).decode(),
        },
        sort_keys=True,
    ).encode()
    ciphertext = ChaCha20Poly1305(_derive(secret, salt, cost)).encrypt(nonce, plaintext, MAGIC + header)
    return MAGIC + header + b"\n" + ciphertext


def header_of(box: bytes) -> dict[str, Any]:
    if not box.startswith(MAGIC):
        raise BoxError("not a regdesk locked file")
    end = box.find(b"\n", len(MAGIC), len(MAGIC) + _MAX_HEADER)
    if end < 0:
        raise BoxError("the locked file is damaged (no header)")
    try:
        header: dict[str, Any] = json.loads(box[len(MAGIC) : end])
        cost = ScryptCost(int(header["n"]), int(header["r"]), int(header["p"]))
        base64.b64decode(header["salt"], validate=True)
        base64.b64decode(header["nonce"], validate=True)
    except (ValueError, KeyError, TypeError):
        raise BoxError("the locked file is damaged (bad header)") from None
    if header.get("kdf") != "scrypt" or not (2 <= cost.n <= _MAX_N) or cost.r != 8 or cost.p != 1:
        raise BoxError("the locked file asks for key-derivation settings regdesk never uses")
    return header


def unlock(box: bytes, secret: str, *, purpose: str) -> bytes:
    header = header_of(box)
    if header.get("purpose") != purpose:
        raise BoxError(f"this locked file holds a {header.get('purpose')!r}, not a {purpose!r}")
    end = box.index(b"\n", len(MAGIC))
    cost = ScryptCost(int(header["n"]), int(header["r"]), int(header["p"]))
    key = _derive(secret, base64.b64decode(header["salt"]), cost)
    try:
        return ChaCha20Poly1305(key).decrypt(base64.b64decode(header["nonce"]), box[end + 1 :], box[:end])
    except InvalidTag:
        raise WrongSecret("wrong passphrase or code, or the file was altered") from None


# Join codes: read aloud or typed from a screen, so no 0/O, 1/I/L, 5/S, 2/Z, 8/B pairs.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 20  # 20 characters of 25 symbols: 92 bits


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalise_code(text: str) -> str:
    cleaned = "".join(c for c in text.upper() if c.isalnum())
    return "-".join(cleaned[i : i + 4] for i in range(0, len(cleaned), 4))
