"""Keys on disk and the acts of the root: found a meeting's root, certify and revoke stations,
lock join tickets, seal a station's chain.

Files in DATA_DIR/keys/ (owner-only):
    root.key       the meeting's root key, locked with the root passphrase (only where the meeting
                   was founded, until a supervisor moves it to offline custody: `regdesk root export`)
    station.key    this station's own key: it seals the station's events (unattended, so unlocked)
    <kid>.key      desk badge-signing keys (services/station.py)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key

from regdesk.config import EventConfig
from regdesk.domain import chain, secretbox
from regdesk.domain.credentials import secret_problem
from regdesk.domain.events import format_utc
from regdesk.domain.trust import Certificate, TrustProblem, fingerprint, issue_certificate, public_hex
from regdesk.errors import RegdeskError
from regdesk.store import files

ROOT_KEY_FILE = "root.key"
STATION_KEY_FILE = "station.key"
CERTIFICATE_VALIDITY_AFTER_MEETING = timedelta(days=30)


class TrustError(RegdeskError):
    """A key, certificate or passphrase problem; the message says what to do."""

    exit_code = 4


def keys_dir(data_dir: Path) -> Path:
    path = data_dir / "keys"
    files.private_dir(path)
    return path


# --- the root ----------------------------------------------------------------------------------------


def root_passphrase_problem(passphrase: str) -> str | None:
    problem = secret_problem(passphrase, "supervisor")
    return problem.replace("supervisor passphrase", "root passphrase") if problem else None


def create_root(passphrase: str) -> tuple[Ed25519PrivateKey, bytes]:
    """A new root key and its locked file content."""
    problem = root_passphrase_problem(passphrase)
    if problem:
        raise TrustError(problem)
    root = Ed25519PrivateKey.generate()
    raw = root.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return root, secretbox.lock(raw, passphrase, secretbox.ROOT_KEY_COST, purpose="root key")


def unlock_root(box: bytes, passphrase: str, *, expected_public_key: str, source: str) -> Ed25519PrivateKey:
    try:
        raw = secretbox.unlock(box, passphrase, purpose="root key")
    except secretbox.WrongSecret:
        raise TrustError(f"{source}: wrong root passphrase (or the file was altered)") from None
    except secretbox.BoxError as exc:
        raise TrustError(f"{source}: {exc}") from None
    root = Ed25519PrivateKey.from_private_bytes(raw)
    if public_hex(root) != expected_public_key:
        raise TrustError(
            f"{source} holds the root key of another meeting (root {fingerprint(public_hex(root))}, "
            f"this meeting's root is {fingerprint(expected_public_key)})"
        )
    return root


def root_file(data_dir: Path) -> Path:
    return data_dir / "keys" / ROOT_KEY_FILE


def load_root(
    data_dir: Path, passphrase: str, *, expected_public_key: str, key_file: Path | None = None
) -> Ed25519PrivateKey:
    path = key_file or root_file(data_dir)
    try:
        box = path.read_bytes()
    except FileNotFoundError:
        raise TrustError(
            f"the root key is not on this station ({path}); give the exported copy with --root-key FILE"
        ) from None
    except OSError as exc:
        raise TrustError(f"{path}: cannot read the root key ({exc.strerror})") from None
    return unlock_root(box, passphrase, expected_public_key=expected_public_key, source=str(path))


# --- a station's own key -------------------------------------------------------------------------------


def write_station_key(data_dir: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    files.write_private(keys_dir(data_dir) / STATION_KEY_FILE, pem)


def read_station_key(data_dir: Path) -> Ed25519PrivateKey:
    path = data_dir / "keys" / STATION_KEY_FILE
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise TrustError(
            f"{path} is missing: this station cannot sign its events. Restore the keys folder "
            "from a backup of this laptop, or provision the station again"
        ) from None
    except (ValueError, TypeError):
        raise TrustError(f"{path} is damaged: not a station key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise TrustError(f"{path}: not an Ed25519 key")
    return key


# --- certificates ------------------------------------------------------------------------------------


def valid_until(config: EventConfig, issued: datetime) -> str:
    """A month after the meeting's last day, or after issuance for a station enrolled later
    (a rehearsal on today's clock of a past meeting)."""
    last_day = max((*config.valid_days, config.collection_closes_utc.date()))
    end = max(datetime(last_day.year, last_day.month, last_day.day, tzinfo=timezone.utc), issued)
    return format_utc(end + CERTIFICATE_VALIDITY_AFTER_MEETING)


def certify(
    root: Ed25519PrivateKey,
    config: EventConfig,
    *,
    station_id: str,
    name: str,
    role: str,
    public_key: str,
    now: datetime,
) -> Certificate:
    return issue_certificate(
        root,
        meeting=config.code,
        station_id=station_id,
        name=name,
        role=role,
        public_key=public_key,
        issued_at=format_utc(now),
        valid_until=valid_until(config, now),
    )


# --- join tickets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    """What a new station needs to take its place: sealed in a join file or on the hub."""

    certificate: Certificate
    station_key: Ed25519PrivateKey
    root_public_key: str
    event_toml: str
    hub_url: str = ""

    def to_bytes(self) -> bytes:
        raw = self.station_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return json.dumps(
            {
                "certificate": self.certificate.to_json(),
                "station_key": raw.hex(),
                "root_public_key": self.root_public_key,
                "event_toml": self.event_toml,
                "hub_url": self.hub_url,
            }
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, source: str) -> Ticket:
        try:
            obj = json.loads(data)
            return cls(
                Certificate.from_json(obj["certificate"]),
                Ed25519PrivateKey.from_private_bytes(bytes.fromhex(obj["station_key"])),
                str(obj["root_public_key"]),
                str(obj["event_toml"]),
                str(obj.get("hub_url") or ""),
            )
        except (ValueError, KeyError, TypeError, TrustProblem):
            raise TrustError(f"{source}: the join ticket inside is damaged") from None


def lock_ticket(ticket: Ticket, code: str, extra: bytes = b"") -> bytes:
    """The ticket (and, for a join file, the events after it) locked with the one-time code."""
    body = ticket.to_bytes()
    return secretbox.lock(
        len(body).to_bytes(8, "big") + body + extra,
        secretbox.normalise_code(code),
        secretbox.JOIN_CODE_COST,
        purpose="join ticket",
    )


def unlock_ticket(box: bytes, code: str, source: str) -> tuple[Ticket, bytes]:
    try:
        plain = secretbox.unlock(box, secretbox.normalise_code(code), purpose="join ticket")
    except secretbox.WrongSecret:
        raise TrustError(
            f"{source}: wrong join code (or the file was altered); ask the supervisor who "
            "provisioned this station for the code shown then"
        ) from None
    except secretbox.BoxError as exc:
        raise TrustError(f"{source}: {exc}") from None
    size = int.from_bytes(plain[:8], "big")
    return Ticket.from_bytes(plain[8 : 8 + size], source), plain[8 + size :]


# --- sealing -----------------------------------------------------------------------------------------


def seal(station_key: Ed25519PrivateKey, meeting: str, station_id: str, seq: int, head_hash: str) -> str:
    return chain.seal(station_key, meeting, station_id, seq, head_hash)
