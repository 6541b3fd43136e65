"""A station: one install with an id, a name, a role, its database, its own key and certificate,
and (desks only) a badge-signing key.

Data directory layout (owner-only, 0700/0600):
    station.db        SQLite (WAL): event log + projections
    event.toml        the event settings this station was created with
    keys/station.key  this station's key: seals its events (services/trust.py)
    keys/root.key     the meeting's root key, locked, only where the meeting was founded
    keys/<kid>.key    Ed25519 badge-signing key (desk stations only)
    output/           badge PDFs and exports when no printer is configured
    backups/          automatic copies of station.db

A station comes into being in one of two ways: `found_meeting` (the first station of a meeting:
it makes the root) or `create_from_ticket` (every other station, from a join ticket a supervisor
made with the root: services/provisioning.py). Either way its first event is `station_created`
carrying its root-signed certificate, which is what lets every other station verify it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
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
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from regdesk.clock import Clock, SystemClock
from regdesk.config import EventConfig, load_event_config, parse_event_config
from regdesk.domain import authority, credentials
from regdesk.domain import event_payloads as ep
from regdesk.domain import token as tokens
from regdesk.domain import trust as certs
from regdesk.domain.chain import SEAL_EVERY
from regdesk.domain.event_payloads import Payload, payload_problem
from regdesk.domain.events import Event, EventKind, format_utc
from regdesk.errors import NotAllowed, RegdeskError
from regdesk.services import preflight, trust
from regdesk.services.give_way import GiveWay
from regdesk.store import eventlog, files
from regdesk.store.db import open_database, write_transaction
from regdesk.store.models import Meta, Operator
from regdesk.store.queries import station as station_queries

ROLES = authority.STATION_ROLES
SIGNING_ROLES = authority.SIGNING_ROLES
SYSTEM_OPERATOR = authority.SYSTEM


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
    station_key: Ed25519PrivateKey | None = None
    # Real seconds for what must not follow a rehearsal clock (sign-in lockouts).
    wall_clock: Callable[[], float] = time.time
    # Marks when a person waits on a screen of this station; syncs stand aside between chunks.
    give_way: GiveWay = field(default_factory=GiveWay)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "station.db"

    @property
    def output_dir(self) -> Path:
        return files.private_dir(self.data_dir / "output")

    @property
    def root_public_key(self) -> str:
        """The pinned root of this station's meeting ("" for a station made before the chain of trust)."""
        return self.settings.get("root_public_key", "")

    @property
    def root_fingerprint(self) -> str:
        return certs.fingerprint_label(self.root_public_key)

    @property
    def certificate(self) -> certs.Certificate | None:
        text = self.settings.get("certificate")
        return certs.Certificate.from_json(json.loads(text)) if text else None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work holding the write lock from its first statement (BEGIN IMMEDIATE, see
        store/db.py): commits on success, rolls back everything on any exception."""
        with write_transaction(self.sessions) as session:
            yield session

    def operator_role(self, session: Session, operator: str) -> str:
        """The role an act is recorded under; NotAllowed for a name that is no active operator."""
        if operator == SYSTEM_OPERATOR:
            return SYSTEM_OPERATOR
        row = session.get(Operator, operator.strip()) if operator else None
        if row is None or not row.active:
            raise NotAllowed(f"{operator!r} is not an operator of this meeting; add them with `regdesk operator add`")
        return row.role

    def record(self, session: Session, kind: str, payload: Payload | dict[str, Any], operator: str) -> Event:
        """Record an event, after the same authority and payload checks a merge applies. The
        payload is built through its kind's type (domain/event_payloads.py)."""
        if isinstance(payload, Payload):
            if payload.KIND != kind:
                raise StationError(f"cannot record {kind}: the payload is a {payload.KIND}")
            payload = payload.to_payload()
        role = self.operator_role(session, operator)
        refusal = authority.event_refusal(str(kind), self.role, role, payload)
        if refusal:
            raise NotAllowed(f"{operator} may not do this here: {refusal}")
        problem = payload_problem(str(kind), payload)
        if problem:
            raise StationError(f"cannot record {kind}: {problem}")
        return eventlog.append(
            session,
            station_id=self.station_id,
            operator=operator.strip() or operator,
            operator_role=role,
            kind=kind,
            payload=payload,
            at=self.clock.now(),
        )

    def public_keys(self, session: Session) -> dict[str, bytes]:
        return station_queries.badge_keys(session, self.config.code)

    def setting(self, key: str, default: str = "") -> str:
        return self.settings.get(key, default)

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as session:
            session.merge(Meta(key=key, value=value))
        self.settings[key] = value

    def close(self) -> None:
        self.engine.dispose()


# --- badge-signing keys (desks) ------------------------------------------------------------------------


def write_signing_key(data_dir: Path, key: Ed25519PrivateKey) -> str:
    kid = tokens.key_id_for(tokens.public_key_raw(key))
    files.write_private(
        trust.keys_dir(data_dir) / f"{kid}.key", key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    return kid


def read_signing_key(data_dir: Path, kid: str) -> Ed25519PrivateKey:
    path = data_dir / "keys" / f"{kid}.key"
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise StationError(
            f"{path} is missing: this desk cannot sign badges. A supervisor can start a new key "
            f"(regdesk --data-dir {data_dir} rotate-key); issued badges stay valid"
        ) from None
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise StationError(
            f"{path} is damaged (not an Ed25519 signing key): move it away, then have a supervisor "
            f"start a new key (regdesk --data-dir {data_dir} rotate-key); issued badges stay valid"
        )
    return key


def publish_new_key(station: Station, operator: str = SYSTEM_OPERATOR, *, replaces_key_id: str | None = None) -> str:
    """Create a badge-signing key (desk stations only) and publish its public half in the log."""
    if station.role not in SIGNING_ROLES:
        raise StationError(f"a {station.role} station never holds a signing key")
    key = tokens.generate_signing_key()
    # The file first: if we die before the commit, an unused key file is all that is left.
    kid = write_signing_key(station.data_dir, key)
    published = ep.KeyPublished(kid, tokens.public_key_raw(key).hex(), station.config.code, replaces_key_id or None)
    with station.transaction() as session:
        station.record(session, EventKind.KEY_PUBLISHED, published, operator)
        session.merge(Meta(key="active_key_id", value=kid))
    station.signing_key, station.key_id = key, kid
    station.settings["active_key_id"] = kid
    return kid


# --- creating stations ----------------------------------------------------------------------------------


def _read_meta(session: Session) -> dict[str, str]:
    return station_queries.meta_values(session)


def _check_empty(data_dir: Path) -> None:
    if (data_dir / "station.db").exists():
        raise StationError(f"{data_dir} already holds a station; use a new --data-dir")


def _create(
    data_dir: Path,
    config: EventConfig,
    *,
    certificate: certs.Certificate,
    station_key: Ed25519PrivateKey,
    root_public_key: str,
    clock: Clock,
    extra_meta: dict[str, str] | None = None,
    created_payload: dict[str, Any] | None = None,
) -> Station:
    """The common part: files, database, identity, and the first event carrying the certificate."""
    files.private_dir(data_dir)
    files.write_private(data_dir / "event.toml", config.source_text.encode("utf-8"))
    trust.write_station_key(data_dir, station_key)
    engine, sessions = open_database(data_dir / "station.db")
    station = Station(
        data_dir,
        config,
        certificate.station_id,
        certificate.name,
        certificate.role,
        engine,
        sessions,
        clock,
        station_key=station_key,
    )
    meta = {
        "station_id": certificate.station_id,
        "station_name": certificate.name,
        "role": certificate.role,
        "event_code": config.code,
        "root_public_key": root_public_key,
        "certificate": json.dumps(certificate.to_json(), sort_keys=True),
        **(extra_meta or {}),
    }
    with station.transaction() as session:
        for key, value in meta.items():
            session.merge(Meta(key=key, value=value))
        station.settings = dict(meta)
        station.record(
            session,
            EventKind.STATION_CREATED,
            ep.StationCreated(
                certificate.name, certificate.role, config.code, certificate.to_json(), **(created_payload or {})
            ),
            SYSTEM_OPERATOR,
        )
    if certificate.role in SIGNING_ROLES:
        publish_new_key(station)
    return station


def found_meeting(
    data_dir: Path | str,
    event_path: Path | str,
    *,
    root_passphrase: str,
    supervisor: str,
    supervisor_secret: str,
    role: str = "supervisor",
    name: str | None = None,
    clock: Clock | None = None,
) -> Station:
    """Create a meeting's first station: the root key (locked with `root_passphrase`, kept in
    keys/root.key until exported for offline custody) and the first supervisor, granted by the root."""
    from regdesk.services import operators

    data_dir = Path(data_dir)
    if role not in ROLES:
        raise StationError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    _check_empty(data_dir)
    problem = credentials.secret_problem(supervisor_secret, "supervisor")
    if problem:
        raise StationError(f"supervisor {supervisor!r}: {problem}")
    config = load_event_config(event_path)
    clock = clock or SystemClock()
    root, root_box = trust.create_root(root_passphrase)
    station_key = Ed25519PrivateKey.generate()
    station_id = str(uuid.uuid4())
    name = name or f"{role}-{station_id[:4]}"
    certificate = trust.certify(
        root,
        config,
        station_id=station_id,
        name=name,
        role=role,
        public_key=certs.public_hex(station_key),
        now=clock.now(),
    )
    files.private_dir(data_dir)
    files.write_private(trust.keys_dir(data_dir) / trust.ROOT_KEY_FILE, root_box)
    station = _create(
        data_dir,
        config,
        certificate=certificate,
        station_key=station_key,
        root_public_key=certs.public_hex(root),
        clock=clock,
        extra_meta={"founder": "1"},
    )
    operators.add_first_supervisor(station, root, supervisor, supervisor_secret)
    return station


def create_from_ticket(data_dir: Path | str, ticket: trust.Ticket, *, clock: Clock | None = None) -> Station:
    """A provisioned station: the certificate and key a supervisor made for it (services/provisioning.py)."""
    data_dir = Path(data_dir)
    _check_empty(data_dir)
    config = parse_event_config(ticket.event_toml, f"{data_dir / 'event.toml'}")
    try:
        certs.check_certificate(ticket.certificate, root_public_key=ticket.root_public_key, meeting=config.code)
    except certs.TrustProblem as exc:
        raise StationError(f"the join ticket's certificate does not hold: {exc}") from None
    if certs.public_hex(ticket.station_key) != ticket.certificate.public_key:
        raise StationError("the join ticket's key does not match its certificate")
    return _create(
        data_dir,
        config,
        certificate=ticket.certificate,
        station_key=ticket.station_key,
        root_public_key=ticket.root_public_key,
        clock=clock or SystemClock(),
    )


def continue_as_new_station(station: Station, *, created_payload: dict[str, Any]) -> str:
    """After a restore: take a new station id, vouched for by this station's own key, so nothing
    recorded from now on can collide with events made after the backup. Returns the new id."""
    parent = station.certificate
    if parent is None or station.station_key is None:
        raise StationError("this station has no certificate (made before the chain of trust); it cannot continue")
    new_id = str(uuid.uuid4())
    cert = certs.continue_certificate(
        station.station_key, parent, new_station_id=new_id, issued_at=format_utc(station.clock.now())
    )
    with station.transaction() as session:
        for key, value in {"station_id": new_id, "certificate": json.dumps(cert.to_json(), sort_keys=True)}.items():
            session.merge(Meta(key=key, value=value))
        station.station_id = new_id
        station.settings.update(station_id=new_id, certificate=json.dumps(cert.to_json(), sort_keys=True))
        station.record(
            session,
            EventKind.STATION_CREATED,
            ep.StationCreated(station.name, station.role, station.config.code, cert.to_json(), **created_payload),
            SYSTEM_OPERATOR,
        )
    return new_id


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
        raise preflight.StationUnusable(
            f"{db_path} holds no station (an interrupted init?). {preflight.restore_hint(data_dir)}"
        )
    station = Station(
        data_dir,
        config,
        meta["station_id"],
        meta.get("station_name", ""),
        meta["role"],
        engine,
        sessions,
        clock or SystemClock(),
        settings=meta,
    )
    try:
        if meta.get("root_public_key") and (data_dir / "keys" / trust.STATION_KEY_FILE).exists():
            # Without it the station still works here; sync and bundles say what is missing.
            station.station_key = trust.read_station_key(data_dir)
        kid = meta.get("active_key_id")
        if kid and station.role in SIGNING_ROLES:
            station.key_id = kid
            # Without its key file a desk still searches, syncs and exports; issuing says what is missing.
            if (data_dir / "keys" / f"{kid}.key").exists():
                station.signing_key = read_signing_key(data_dir, kid)
    except RegdeskError:
        engine.dispose()
        raise
    return station


def replace_event_config(station: Station, text: str) -> None:
    """Used by provisioning: adopt the event settings of the station we join."""
    station.config = parse_event_config(text, str(station.data_dir / "event.toml"))
    files.write_private(station.data_dir / "event.toml", text.encode("utf-8"))


SETTING_SEALED_THROUGH = "chain.sealed_through"


def seal_own_head(station: Station) -> int:
    """Sign this station's events before they leave: a checkpoint every SEAL_EVERY events and the
    newest one, so a receiver verifies what arrives in steps of at most SEAL_EVERY events however
    the delivery is cut (hub chunks, bundle chunks). Returns the local_order up to which our
    events are now covered."""
    if station.station_key is None:
        if station.root_public_key:
            raise StationError(
                f"{station.data_dir / 'keys' / trust.STATION_KEY_FILE} is missing: this station cannot "
                "sign its events for the others. Copy the keys folder back from this laptop's backup, "
                "or have a supervisor provision a new station"
            )
        raise StationError(
            "this station was made before the chain of trust: its events cannot be verified "
            "elsewhere. Create the meeting again with this regdesk (see README, Trust)"
        )
    from regdesk.store.queries import events as event_queries

    with station.transaction() as session:
        through = event_queries.latest_local_order(session)
        head_seq, _ = eventlog.head(session, station.station_id)
        done = session.get(Meta, SETTING_SEALED_THROUGH)
        sealed_through = int(done.value) if done is not None else 0
        if head_seq <= sealed_through:
            return through
        checkpoints = [*range((sealed_through // SEAL_EVERY + 1) * SEAL_EVERY, head_seq, SEAL_EVERY), head_seq]
        for seq in checkpoints:
            row = event_queries.event_at(session, station.station_id, seq)
            if row is not None and row.seal is None:
                eventlog.seal_event(
                    session,
                    row.id,
                    trust.seal(station.station_key, station.config.code, station.station_id, row.seq, row.hash),
                )
        session.merge(Meta(key=SETTING_SEALED_THROUGH, value=str(head_seq)))
    return through
