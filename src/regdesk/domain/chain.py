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
import re
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

# A station seals a checkpoint at least every SEAL_EVERY of its events before they leave it, so a
# receiver never waits on more than SEAL_EVERY unverified events of one station.
SEAL_EVERY = 2000
HASH_HEX_LEN = 64
SEAL_HEX_LEN = 128
_EVENT_DOMAIN = b"regdesk-event-v1\n"
_GENESIS_DOMAIN = b"regdesk-chain-genesis-v1\n"
_SEAL_DOMAIN = b"regdesk-seal-v1\n"
_LENGTHS = struct.Struct(">9I")


def genesis_hash(station_id: str) -> str:
    """The `prev_hash` of a station's first event."""
    return hashlib.sha256(_GENESIS_DOMAIN + station_id.encode("utf-8")).hexdigest()


def event_hash(
    event_id: str,
    station_id: str,
    seq: int,
    recorded_at: str,
    operator: str,
    operator_role: str,
    kind: str,
    payload_json: str,
    prev_hash: str,
) -> str:
    """SHA-256 over every stored field: the nine lengths first, then the nine fields, so no field's
    content can be moved into its neighbour without changing the hash."""
    parts = (
        event_id.encode(),
        station_id.encode(),
        str(seq).encode(),
        recorded_at.encode(),
        operator.encode(),
        operator_role.encode(),
        kind.encode(),
        payload_json.encode(),
        prev_hash.encode(),
    )
    return hashlib.sha256(_EVENT_DOMAIN + _LENGTHS.pack(*map(len, parts)) + b"".join(parts)).hexdigest()


def _seal_message(meeting: str, station_id: str, seq: int, head_hash: str) -> bytes:
    return _SEAL_DOMAIN + f"{meeting}\n{station_id}\n{seq}\n{head_hash}".encode()


def seal(key: Ed25519PrivateKey, meeting: str, station_id: str, seq: int, head_hash: str) -> str:
    return key.sign(_seal_message(meeting, station_id, seq, head_hash)).hex()


def seal_holds(public_key: bytes, meeting: str, station_id: str, seq: int, head_hash: str, signature_hex: str) -> bool:
    try:
        signature = bytes.fromhex(signature_hex)
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, _seal_message(meeting, station_id, seq, head_hash)
        )
        return True
    except (ValueError, InvalidSignature):
        return False


_HASH = re.compile("[0-9a-f]{64}")
_SEAL = re.compile("[0-9a-f]{128}")
