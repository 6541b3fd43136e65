"""Signing keys: rotation and a permission check.

Only desk stations sign badges. A rotation makes a new Ed25519 key with a new key id and
publishes its public half (KEY_PUBLISHED) in the log; scan points learn it by sync. The old
key's public half stays in `public_keys` for good, so every badge it signed keeps verifying
until that badge itself is revoked. The old private key file stays in keys/ (owner-only),
never used to sign again.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from regdesk.domain.authority import Act
from regdesk.services import operators
from regdesk.services.station import SIGNING_ROLES, Station, StationError, publish_new_key
from regdesk.services.trust import ROOT_KEY_FILE, STATION_KEY_FILE
from regdesk.store.queries import station as station_queries


class KeyRotationError(StationError):
    """A key operation that this station or operator may not do."""


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    station_id: str
    published_at: str
    active: bool  # this station signs with it now
    private_here: bool  # its private half is on this station's disk


def rotate_key(station: Station, operator: str) -> str:
    """Start signing with a new key; returns its key id. Desk stations and supervisors only."""
    if station.role not in SIGNING_ROLES:
        raise KeyRotationError(f"a {station.role} station holds public keys only; rotate the key on a desk station")
    try:
        operators.require_act(station, operator, Act.ROTATE_KEY)
    except operators.NotAllowed as exc:
        raise KeyRotationError(str(exc)) from None
    return publish_new_key(station, operator, replaces_key_id=station.key_id)


def list_keys(station: Station) -> list[KeyInfo]:
    keys_dir = station.data_dir / "keys"
    with station.sessions() as session:
        rows = station_queries.published_keys(session)
        return [
            KeyInfo(
                r.key_id,
                r.station_id,
                r.published_at,
                r.key_id == station.key_id,
                (keys_dir / f"{r.key_id}.key").exists(),
            )
            for r in rows
        ]


def key_file_problems(data_dir: Path, role: str) -> list[str]:
    """Private key files readable by anyone but the owner, or present where they must not be."""
    keys_dir = data_dir / "keys"
    if not keys_dir.is_dir():
        return []
    problems = []
    files = sorted(keys_dir.glob("*.key"))
    badge_keys = [f for f in files if f.name not in (STATION_KEY_FILE, ROOT_KEY_FILE)]
    if badge_keys and role not in SIGNING_ROLES:
        problems.append(f"{keys_dir}: a {role} station must hold no badge-signing key, found {len(badge_keys)}")
    dir_mode = stat.S_IMODE(os.stat(keys_dir).st_mode)
    if dir_mode & 0o077:
        problems.append(f"{keys_dir}: mode {dir_mode:o}, expected 700 (owner only)")
    for path in files:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            problems.append(f"{path}: mode {mode:o}, expected 600 (owner only)")
    return problems
