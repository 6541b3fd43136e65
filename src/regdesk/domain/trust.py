"""The meeting's chain of trust: root key, station certificates, grants and revocations. Pure.

    root key (supervisors' custody, passphrase-protected)
      ├─ certifies each station's key, role and name            (Certificate, issuer "root")
      │    └─ a restored station continues under a new id        (Certificate, issuer = the old id,
      │       signed by the same station key)
      ├─ grants the meeting's first supervisor                   (operator grant)
      └─ revokes a lost station                                  (Revocation)

A station's badge-signing keys are published in that station's own signed event chain
(`key_published`), so they are certified through the station's certificate.

Every statement is canonical JSON signed with a domain-separation prefix, so a signature made
for one purpose can never be replayed as another.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from regdesk.domain.authority import STATION_ROLES

ROOT_ISSUER = "root"
_CERT_DOMAIN = b"regdesk-certificate-v1\n"
_GRANT_DOMAIN = b"regdesk-operator-grant-v1\n"
_REVOCATION_DOMAIN = b"regdesk-station-revocation-v1\n"


class TrustProblem(ValueError):
    """A certificate, grant or revocation that does not hold; the message says why."""


def canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def fingerprint(public_key_hex: str) -> str:
    """What people compare by eye: 16 base32 characters in groups of four (80 bits)."""
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).digest()
    text = base64.b32encode(digest).decode("ascii")[:16]
    return "-".join(text[i : i + 4] for i in range(0, 16, 4))


def fingerprint_label(public_key_hex: str) -> str:
    """A station's meeting root as the sign-in screen and `regdesk status` show it."""
    return fingerprint(public_key_hex) if public_key_hex else "none (no chain of trust)"


def _verify(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex)).verify(bytes.fromhex(signature_hex), message)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


# --- station certificates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    meeting: str  # event code
    root: str  # fingerprint of the root this certificate chains to
    station_id: str
    name: str
    role: str
    public_key: str  # hex of the station's raw Ed25519 public key
    issued_at: str  # stored UTC text
    # Stored UTC text, shown to people. Not enforced on events: their times are the station's own
    # word (and rehearsals run on 2017 clocks); a station is cut off by revocation, not expiry.
    valid_until: str
    issuer: str = ROOT_ISSUER  # "root", or the station id this one continues (a restore)
    signature: str = ""
    parent: Certificate | None = field(default=None, compare=False)  # the certificate continued

    def body(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("signature")
        data.pop("parent")
        return data

    def message(self) -> bytes:
        return _CERT_DOMAIN + canonical(self.body())

    def to_json(self) -> dict[str, Any]:
        data = {**self.body(), "signature": self.signature}
        if self.parent is not None:
            data["parent"] = self.parent.to_json()
        return data

    @classmethod
    def from_json(cls, data: Any, *, depth: int = 0) -> Certificate:
        if not isinstance(data, dict):
            raise TrustProblem("the certificate is not an object")
        names = (
            "meeting",
            "root",
            "station_id",
            "name",
            "role",
            "public_key",
            "issued_at",
            "valid_until",
            "issuer",
            "signature",
        )
        values = {}
        for name in names:
            value = data.get(name)
            if not isinstance(value, str) or not value or len(value) > 300:
                raise TrustProblem(f"the certificate's {name!r} is missing or malformed")
            values[name] = value
        parent = None
        if data.get("parent") is not None:
            if depth >= 8:
                raise TrustProblem("the certificate continues too many others")
            parent = cls.from_json(data["parent"], depth=depth + 1)
        extra = set(data) - set(names) - {"parent"}
        if extra:
            raise TrustProblem(f"the certificate has unknown fields {sorted(extra)}")
        return cls(**values, parent=parent)


def issue_certificate(
    root: Ed25519PrivateKey,
    *,
    meeting: str,
    station_id: str,
    name: str,
    role: str,
    public_key: str,
    issued_at: str,
    valid_until: str,
) -> Certificate:
    unsigned = Certificate(
        meeting, fingerprint(public_hex(root)), station_id, name, role, public_key, issued_at, valid_until
    )
    return Certificate(**unsigned.body(), signature=root.sign(unsigned.message()).hex())


def continue_certificate(
    station_key: Ed25519PrivateKey, parent: Certificate, *, new_station_id: str, issued_at: str
) -> Certificate:
    """A restored station's new identity, vouched for by the key of the station it continues."""
    if public_hex(station_key) != parent.public_key:
        raise TrustProblem("only the station's own key can continue its certificate")
    unsigned = Certificate(
        parent.meeting,
        parent.root,
        new_station_id,
        parent.name,
        parent.role,
        parent.public_key,
        issued_at,
        parent.valid_until,
        issuer=parent.station_id,
    )
    return Certificate(**unsigned.body(), signature=station_key.sign(unsigned.message()).hex(), parent=parent)


def check_certificate(cert: Certificate, *, root_public_key: str, meeting: str) -> None:
    """Raise TrustProblem unless `cert` chains to this meeting's root."""
    if cert.meeting != meeting:
        raise TrustProblem(f"the certificate is for meeting {cert.meeting!r}, not {meeting!r}")
    if cert.root != fingerprint(root_public_key):
        raise TrustProblem(
            f"the certificate chains to root {cert.root}, not to this meeting's root {fingerprint(root_public_key)}"
        )
    if cert.role not in STATION_ROLES:
        raise TrustProblem(f"the certificate names an unknown role {cert.role!r}")
    try:
        if len(bytes.fromhex(cert.public_key)) != 32:
            raise ValueError
    except ValueError:
        raise TrustProblem("the certificate's public key is malformed") from None
    if cert.issuer == ROOT_ISSUER:
        if cert.parent is not None:
            raise TrustProblem("a root certificate continues no other")
        if not _verify(root_public_key, cert.signature, cert.message()):
            raise TrustProblem("the certificate's root signature does not hold (forged or altered)")
        return
    parent = cert.parent
    if parent is None or parent.station_id != cert.issuer:
        raise TrustProblem("a continued certificate must carry the certificate it continues")
    if (parent.public_key, parent.role, parent.meeting) != (cert.public_key, cert.role, cert.meeting):
        raise TrustProblem("a continued certificate must keep the key, role and meeting of the one it continues")
    check_certificate(parent, root_public_key=root_public_key, meeting=meeting)
    if not _verify(parent.public_key, cert.signature, cert.message()):
        raise TrustProblem("the continuation is not signed by the station it continues")


# --- operator grants (the meeting's first supervisor) ----------------------------------------------


def _grant_message(meeting: str, name: str, role: str, pin_hash: str) -> bytes:
    return _GRANT_DOMAIN + canonical({"meeting": meeting, "name": name, "role": role, "pin_hash": pin_hash})


def grant_operator(root: Ed25519PrivateKey, *, meeting: str, name: str, role: str, pin_hash: str) -> str:
    return root.sign(_grant_message(meeting, name, role, pin_hash)).hex()


def grant_holds(root_public_key: str, signature: str, *, meeting: str, name: str, role: str, pin_hash: str) -> bool:
    return _verify(root_public_key, signature, _grant_message(meeting, name, role, pin_hash))


# --- station revocations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Revocation:
    meeting: str
    station_key: str  # hex public key: every station id certified with it is cut off
    heads: dict[str, int]  # station id -> last sequence number still trusted (0: none)
    reason: str
    revoked_at: str
    signature: str = ""

    def body(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("signature")
        return data

    def message(self) -> bytes:
        return _REVOCATION_DOMAIN + canonical(self.body())

    def to_json(self) -> dict[str, Any]:
        return {**self.body(), "signature": self.signature}

    @classmethod
    def from_json(cls, data: Any) -> Revocation:
        if not isinstance(data, dict):
            raise TrustProblem("the revocation is not an object")
        try:
            heads = {str(k): int(v) for k, v in dict(data["heads"]).items()}
            revocation = cls(
                str(data["meeting"]),
                str(data["station_key"]),
                heads,
                str(data["reason"]),
                str(data["revoked_at"]),
                str(data["signature"]),
            )
        except (KeyError, TypeError, ValueError):
            raise TrustProblem("the revocation is malformed") from None
        if any(v < 0 for v in heads.values()):
            raise TrustProblem("the revocation is malformed")
        return revocation

    def trusted_through(self, station_id: str) -> int:
        return self.heads.get(station_id, 0)


def revoke_station(
    root: Ed25519PrivateKey, *, meeting: str, station_key: str, heads: Mapping[str, int], reason: str, revoked_at: str
) -> Revocation:
    unsigned = Revocation(meeting, station_key, dict(heads), reason, revoked_at)
    return Revocation(**unsigned.body(), signature=root.sign(unsigned.message()).hex())


def check_revocation(revocation: Revocation, *, root_public_key: str, meeting: str) -> None:
    if revocation.meeting != meeting:
        raise TrustProblem(f"the revocation is for meeting {revocation.meeting!r}")
    if not _verify(root_public_key, revocation.signature, revocation.message()):
        raise TrustProblem("the revocation's root signature does not hold (forged or altered)")
