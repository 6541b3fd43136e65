"""Per-station hash chains: how a station's events are tied together and signed. Pure.

Every event names the hash of the same station's previous event (`prev_hash`), so the events of
one station form a chain like a Git history or a Certificate Transparency log. A station signs
the hash of its latest event (a *seal*) before any of its events leave it: one Ed25519
signature then vouches for every event before it, which is what keeps verification cheap
(one signature per push or bundle, not one per event).

Whoever holds a sealed event and the chain up to it can check, with the station's public key
only, that nothing in between was added, removed or changed.
"""

from __future__ import annotations

import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

HASH_HEX_LEN = 64
SEAL_HEX_LEN = 128
_EVENT_DOMAIN = b"regdesk-event-v1\n"
_GENESIS_DOMAIN = b"regdesk-chain-genesis-v1\n"
_SEAL_DOMAIN = b"regdesk-seal-v1\n"
_LEN = struct.Struct(">I")


def genesis_hash(station_id: str) -> str:
    """The `prev_hash` of a station's first event."""
    return hashlib.sha256(_GENESIS_DOMAIN + station_id.encode("utf-8")).hexdigest()


def event_hash(event_id: str, station_id: str, seq: int, recorded_at: str, operator: str, operator_role: str,
               kind: str, payload_json: str, prev_hash: str) -> str:
    """SHA-256 over every stored field, each length-prefixed (no separator can be smuggled in)."""
    digest = hashlib.sha256(_EVENT_DOMAIN)
    for field in (event_id, station_id, str(seq), recorded_at, operator, operator_role, kind, payload_json,
                  prev_hash):
        data = field.encode("utf-8")
        digest.update(_LEN.pack(len(data)))
        digest.update(data)
    return digest.hexdigest()


def _seal_message(meeting: str, station_id: str, seq: int, head_hash: str) -> bytes:
    return _SEAL_DOMAIN + f"{meeting}\n{station_id}\n{seq}\n{head_hash}".encode()


def seal(key: Ed25519PrivateKey, meeting: str, station_id: str, seq: int, head_hash: str) -> str:
    return key.sign(_seal_message(meeting, station_id, seq, head_hash)).hex()


def seal_holds(public_key: bytes, meeting: str, station_id: str, seq: int, head_hash: str, signature_hex: str) -> bool:
    try:
        signature = bytes.fromhex(signature_hex)
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _seal_message(meeting, station_id, seq,
                                                                                       head_hash))
        return True
    except (ValueError, InvalidSignature):
        return False


def is_hash(text: object) -> bool:
    return isinstance(text, str) and len(text) == HASH_HEX_LEN and all(c in "0123456789abcdef" for c in text)


def is_seal(text: object) -> bool:
    return isinstance(text, str) and len(text) == SEAL_HEX_LEN and all(c in "0123456789abcdef" for c in text)
