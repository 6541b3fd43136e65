"""A station: one install with an id, a name, a role, its database and (desks only) a signing key.

Data directory layout:
    station.db        SQLite (WAL): event log + projections
    event.toml        the event settings this station was created with
    keys/<kid>.key    Ed25519 signing key (desk stations only), mode 0600
    output/           badge PDFs and exports when no printer is configured
    backups/          automatic copies of station.db
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from regdesk.errors import RegdeskError
from regdesk.clock import Clock, SystemClock
from regdesk.config import EventConfig, load_event_config, parse_event_config
from regdesk.domain import token as tokens
from regdesk.domain.events import Event, EventKind
from regdesk.services import preflight
from regdesk.store import eventlog, files
from regdesk.store.db import open_database, write_transaction
from regdesk.store.models import Meta, PublicKey

ROLES = ("desk", "security", "bus", "supervisor")
SIGNING_ROLES = ("desk",)
SYSTEM_OPERATOR = "system"


class StationError(RegdeskError, RuntimeError):
    pass


@dataclass
class Station:
    data_dir: Path
    config: EventConfig
    station_id: str
    name: str
    role: str
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    signing_key: Ed25519PrivateKey | None = None
    key_id: str | None = None
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "station.db"

    @property
    def output_dir(self) -> Path:
        return files.private_dir(self.data_dir / "output")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work holding the write lock from its first statement (BEGIN IMMEDIATE, see
        store/db.py): commits on success, rolls back everything on any exception."""
        with write_transaction(self.sessions) as session:
            yield session

    def record(self, session: Session, kind: str, payload: dict[str, Any], operator: str) -> Event:
        return eventlog.append(session, station_id=self.station_id, operator=operator, kind=kind,
                               payload=payload, at=self.clock.now())

    def public_keys(self, session: Session) -> dict[str, bytes]:
        rows = session.execute(
            select(PublicKey.key_id, PublicKey.public_key).where(PublicKey.event_code == self.config.code)
        ).all()
        return {kid: bytes.fromhex(pub) for kid, pub in rows}

    def setting(self, key: str, default: str = "") -> str:
        return self.settings.get(key, default)

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as session:
            session.merge(Meta(key=key, value=value))
        self.settings[key] = value

    def close(self) -> None:
        self.engine.dispose()


def _keys_dir(data_dir: Path) -> Path:
    return files.private_dir(data_dir / "keys")


def write_signing_key(data_dir: Path, key: Ed25519PrivateKey) -> str:
    kid = tokens.key_id_for(tokens.public_key_raw(key))
    path = _keys_dir(data_dir) / f"{kid}.key"
    files.write_private(path, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return kid


def read_signing_key(data_dir: Path, kid: str) -> Ed25519PrivateKey:
    path = data_dir / "keys" / f"{kid}.key"
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except ValueError:
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise StationError(f"{path} is damaged (not an Ed25519 signing key): move it away, then have a supervisor "
                           f"start a new key (regdesk --data-dir {data_dir} rotate-key); issued badges stay valid")
    return key


def _read_meta(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Meta.key, Meta.value)).all())


def publish_new_key(station: Station, operator: str = SYSTEM_OPERATOR, *, replaces_key_id: str | None = None) -> str:
    """Create a signing key (desk stations only) and publish its public half in the log."""
    if station.role not in SIGNING_ROLES:
        raise StationError(f"a {station.role} station never holds a signing key")
    key = tokens.generate_signing_key()
    # The file first: if we die before the commit, an unused key file is all that is left.
    kid = write_signing_key(station.data_dir, key)
    payload = {"key_id": kid, "public_key": tokens.public_key_raw(key).hex(), "event_code": station.config.code}
    if replaces_key_id:
        payload["replaces_key_id"] = replaces_key_id
    with station.transaction() as session:
        station.record(session, EventKind.KEY_PUBLISHED, payload, operator)
        session.merge(Meta(key="active_key_id", value=kid))
    station.signing_key, station.key_id = key, kid
    station.settings["active_key_id"] = kid
    return kid


def init_station(
    data_dir: Path | str,
    event_path: Path | str,
    *,
    role: str = "desk",
    name: str | None = None,
    clock: Clock | None = None,
) -> Station:
    data_dir = Path(data_dir)
    if role not in ROLES:
        raise StationError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if (data_dir / "station.db").exists():
        raise StationError(f"{data_dir} already holds a station; use a new --data-dir")
    config = load_event_config(event_path)
    files.private_dir(data_dir)
    files.write_private(data_dir / "event.toml", config.source_text.encode("utf-8"))
    engine, sessions = open_database(data_dir / "station.db")
    station_id = str(uuid.uuid4())
    name = name or f"{role}-{station_id[:4]}"
    station = Station(data_dir, config, station_id, name, role, engine, sessions, clock or SystemClock())
    with station.transaction() as session:
        for key, value in {"station_id": station_id, "station_name": name, "role": role,
                           "event_code": config.code}.items():
            session.add(Meta(key=key, value=value))
        station.record(session, EventKind.STATION_CREATED,
                       {"name": name, "role": role, "event_code": config.code}, SYSTEM_OPERATOR)
    station.settings = {"station_id": station_id, "station_name": name, "role": role, "event_code": config.code}
    if role in SIGNING_ROLES:
        publish_new_key(station)
    return station


def open_station(data_dir: Path | str, *, clock: Clock | None = None) -> Station:
    data_dir = Path(data_dir)
    db_path = data_dir / "station.db"
    if not db_path.exists():
        raise StationError(f"{data_dir} holds no station; run `regdesk --data-dir {data_dir} init` first")
    preflight.check_station_folder(data_dir)  # damaged or read-only: one line, nothing written
    config = load_event_config(data_dir / "event.toml")
    engine, sessions = open_database(db_path, existing=True)
    with sessions() as session:
        meta = _read_meta(session)
    if "station_id" not in meta or "role" not in meta:
        engine.dispose()
        raise preflight.StationUnusable(f"{db_path} holds no station (an interrupted init?). "
                                        f"{preflight.restore_hint(data_dir)}")
    station = Station(data_dir, config, meta["station_id"], meta.get("station_name", ""), meta["role"],
                      engine, sessions, clock or SystemClock(), settings=meta)
    kid = meta.get("active_key_id")
    if kid and station.role in SIGNING_ROLES:
        station.key_id = kid
        # Without its key file a desk still searches, syncs and exports; issuing says what is missing.
        if (data_dir / "keys" / f"{kid}.key").exists():
            station.signing_key = read_signing_key(data_dir, kid)
    return station


def replace_event_config(station: Station, text: str) -> None:
    """Used by provisioning: adopt the event settings of the station we join."""
    station.config = parse_event_config(text, str(station.data_dir / "event.toml"))
    files.write_private(station.data_dir / "event.toml", text.encode("utf-8"))
