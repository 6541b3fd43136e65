"""Provisioning: a supervisor enrols a new station; the new machine takes its place.

On the supervisor's station (it holds the root key, or the supervisor brings the exported copy):
    `provision` makes the new station's identity: a fresh station key, a certificate the root
    signs (station id, name, role, validity), and a one-time join code. The ticket (certificate,
    key, the meeting's root public key and event settings) is locked with the code and written
    to a join file together with the events so far, or left on the hub for the new station.
On the new machine:
    `join` opens the ticket with the code, pins the root it names, verifies every event of the
    join file against that root (services/merge.py), and becomes the station.

The code travels another way than the file (read from the supervisor's screen, on paper), so a
lost USB stick is no station: without the code the file is ciphertext, and a wrong or guessed
code (92 bits, scrypt-stretched) opens nothing. A join code works once on the hub.

The new station is assembled in a scratch folder next to the target and moved into place only
when complete, so a failed join leaves no half station behind.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from regdesk.clock import Clock
from regdesk.config import parse_event_config
from regdesk.domain import authority, secretbox
from regdesk.domain import event_payloads as ep
from regdesk.domain import trust as certs
from regdesk.domain.events import EventKind
from regdesk.errors import NotAllowed, RegdeskError
from regdesk.services import bundles, trust
from regdesk.services.operators import OperatorSession
from regdesk.services.station import (
    ROLES,
    Station,
    StationError,
    create_from_ticket,
    open_station,
)
from regdesk.services.sync import SETTING_HUB_URL, Hub, SyncError, sync_once
from regdesk.store import enrolment, files


class ProvisioningError(RegdeskError, ValueError):
    pass


@dataclass(frozen=True)
class Provisioned:
    station_id: str
    name: str
    role: str
    code: str  # the one-time join code to give the new station's operator
    root_fingerprint: str
    join_file: Path | None  # None when the ticket waits on the hub
    events: int


@dataclass(frozen=True)
class JoinResult:
    station: Station
    events_received: int
    source: str  # join file path or hub display URL


def ticket_id(code: str) -> str:
    """Where a ticket waits on the hub: derived from the code, so only its holder finds it."""
    return hashlib.sha256(("regdesk-ticket\n" + secretbox.normalise_code(code)).encode()).hexdigest()[:32]


def provision(
    station: Station,
    *,
    role: str,
    name: str,
    by: OperatorSession,
    root_passphrase: str,
    root_key_file: Path | None = None,
    out: Path | None = None,
    hub: Hub | None = None,
) -> Provisioned:
    """Enrol a new station of this meeting. `by` is the signed-in supervisor doing it."""
    if role not in ROLES:
        raise ProvisioningError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    refusal = authority.act_refusal(authority.Act.PROVISION_STATION, by.role, station.role)
    if refusal:
        raise NotAllowed(refusal)
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise ProvisioningError("give the new station a name of 1 to 120 characters, e.g. 'Melia bus stop'")
    if (out is None) == (hub is None):
        raise ProvisioningError("provision to exactly one place: a join file (--out) or the hub (--hub)")
    root = trust.load_root(
        station.data_dir, root_passphrase, expected_public_key=station.root_public_key, key_file=root_key_file
    )
    station_key = Ed25519PrivateKey.generate()
    certificate = trust.certify(
        root,
        station.config,
        station_id=str(uuid.uuid4()),
        name=name,
        role=role,
        public_key=certs.public_hex(station_key),
        now=station.clock.now(),
    )
    hub_url = station.setting(SETTING_HUB_URL) if hub is None else hub.source_url
    ticket = trust.Ticket(certificate, station_key, station.root_public_key, station.config.source_text, hub_url)
    with station.transaction() as session:
        station.record(session, EventKind.STATION_CERTIFIED, ep.StationCertified(certificate.to_json()), by.name)
    code = secretbox.new_code()
    events = 0
    if out is not None:
        if not out.parent.exists():
            raise ProvisioningError(f"{out.parent}: folder does not exist")
        with tempfile.TemporaryDirectory(prefix=".regdesk-join-") as scratch:
            exported = bundles.write_bundle(station, Path(scratch) / "events.gz", fmt=bundles.JOIN_FORMAT)
            events = exported.count
            box = trust.lock_ticket(ticket, code, exported.path.read_bytes())
        files.write_private(out, box)
    else:
        assert hub is not None
        sync_once(station, hub)  # the hub has every event the new station will verify
        hub.put_ticket(ticket_id(code), trust.lock_ticket(ticket, code))
    return Provisioned(certificate.station_id, name, role, code, station.root_fingerprint, out, events)


def _check_target(data_dir: Path) -> None:
    if (data_dir / "station.db").exists():
        raise ProvisioningError(f"{data_dir} already holds a station; join into a new --data-dir")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise ProvisioningError(f"{data_dir} is not empty; join into a new or empty --data-dir")


def _scratch(data_dir: Path) -> Path:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return data_dir.parent / f".{data_dir.name}.joining-{uuid.uuid4().hex[:8]}"


def _check_ticket(ticket: trust.Ticket, role: str | None, expect_root: str | None, source: str) -> None:
    if role and ticket.certificate.role != role:
        raise ProvisioningError(
            f"{source} was made for a {ticket.certificate.role} station, not {role}; ask for a "
            f"new one (`regdesk provision --role {role}`) or join as {ticket.certificate.role}"
        )
    fingerprint = certs.fingerprint(ticket.root_public_key)
    if expect_root and secretbox.normalise_code(expect_root) != secretbox.normalise_code(fingerprint):
        raise ProvisioningError(
            f"{source} belongs to the meeting with root {fingerprint}, not {expect_root}: "
            "do not use it; tell a supervisor"
        )


ClockChoice = Clock | Callable[[ZoneInfo], Clock] | None


def _clock(choice: ClockChoice, ticket: trust.Ticket) -> Clock | None:
    """A rehearsal clock given as text needs the meeting's time zone, known once the ticket is open."""
    if choice is None or hasattr(choice, "now"):
        return choice
    return choice(parse_event_config(ticket.event_toml, "join ticket").zone)


def _build(data_dir: Path, ticket: trust.Ticket, clock: ClockChoice, fill: Callable[[Station], int]) -> int:
    """Create the station in a scratch folder, let `fill(station)` bring the events, move it in place."""
    scratch = _scratch(data_dir)
    try:
        station = create_from_ticket(scratch, ticket, clock=_clock(clock, ticket))
        try:
            received = fill(station)
            if ticket.hub_url:
                station.set_setting(SETTING_HUB_URL, ticket.hub_url)
        finally:
            station.close()
        if data_dir.exists():
            data_dir.rmdir()  # checked empty above
        scratch.rename(data_dir)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return received


def join_from_file(
    data_dir: Path | str,
    join_file: Path | str,
    code: str,
    *,
    role: str | None = None,
    expect_root: str | None = None,
    clock: ClockChoice = None,
) -> JoinResult:
    data_dir, join_file = Path(data_dir), Path(join_file)
    _check_target(data_dir)
    try:
        box = join_file.read_bytes()
    except FileNotFoundError:
        raise ProvisioningError(f"{join_file}: file does not exist") from None
    except IsADirectoryError:
        raise ProvisioningError(f"{join_file}: is a folder, not a join file") from None
    ticket, events = trust.unlock_ticket(box, code, str(join_file))
    _check_ticket(ticket, role, expect_root, str(join_file))

    def fill(station: Station) -> int:
        with tempfile.TemporaryDirectory(prefix=".regdesk-join-") as scratch:
            path = Path(scratch) / "events.gz"
            path.write_bytes(events)
            return bundles.import_bundle(station, path, formats=(bundles.JOIN_FORMAT,)).received

    received = _build(data_dir, ticket, clock, fill)
    return JoinResult(open_station(data_dir, clock=_clock(clock, ticket)), received, str(join_file))


def join_from_hub(
    data_dir: Path | str,
    hub_url: str,
    code: str,
    *,
    role: str | None = None,
    expect_root: str | None = None,
    clock: ClockChoice = None,
) -> JoinResult:
    data_dir = Path(data_dir)
    _check_target(data_dir)
    with Hub(hub_url) as hub:
        box = hub.take_ticket(ticket_id(code))
        if box is None:
            raise ProvisioningError(
                f"hub {hub.display} holds no join ticket for this code (mistyped, already "
                "used, or made for another hub); ask the supervisor for a new one"
            )
        try:
            ticket, _ = trust.unlock_ticket(box, code, f"hub {hub.display}")
            _check_ticket(ticket, role, expect_root, f"the ticket on hub {hub.display}")
        except RegdeskError:
            hub.put_ticket(ticket_id(code), box)  # not used up by a failed attempt
            raise
        ticket = trust.Ticket(
            ticket.certificate, ticket.station_key, ticket.root_public_key, ticket.event_toml, hub_url
        )

        def fill(station: Station) -> int:
            return sync_once(station, hub).pulled

        try:
            received = _build(data_dir, ticket, clock, fill)
        except BaseException:
            hub.put_ticket(ticket_id(code), box)
            raise
        return JoinResult(open_station(data_dir, clock=_clock(clock, ticket)), received, hub.display)


def join_station(
    data_dir: Path | str,
    *,
    code: str,
    join_file: Path | str | None = None,
    hub_url: str | None = None,
    role: str | None = None,
    expect_root: str | None = None,
    clock: ClockChoice = None,
) -> JoinResult:
    if (join_file is None) == (hub_url is None):
        raise ProvisioningError("join from exactly one source: a join file or a hub URL")
    try:
        if join_file is not None:
            return join_from_file(data_dir, join_file, code, role=role, expect_root=expect_root, clock=clock)
        assert hub_url is not None
        return join_from_hub(data_dir, hub_url, code, role=role, expect_root=expect_root, clock=clock)
    except (bundles.BundleError, SyncError, StationError, trust.TrustError) as exc:
        raise ProvisioningError(str(exc)) from None


def list_stations(station: Station) -> list[enrolment.EnrolledRow]:
    """The meeting's stations as this station knows them (from the log), revoked ones marked."""
    with station.sessions() as session:
        return enrolment.enrolled_stations(session)


def revoke(
    station: Station,
    target: str,
    *,
    by: OperatorSession,
    reason: str,
    root_passphrase: str,
    root_key_file: Path | None = None,
) -> certs.Revocation:
    """Cut off a lost or stolen station (by name or id): every station id certified with its key is
    trusted only up to the events this station has verified of it; badges its keys sign later
    are denied at every scan point once the revocation arrives there."""
    from regdesk.domain.events import format_utc
    from regdesk.store import eventlog

    refusal = authority.act_refusal(authority.Act.REVOKE_STATION, by.role, station.role)
    if refusal:
        raise NotAllowed(refusal)
    if len(reason.split()) < 2:
        raise ProvisioningError("say in a few words why the station is cut off (e.g. 'laptop stolen at the Melia')")
    with station.sessions() as session:
        rows = enrolment.enrolled_stations(session)
        matches = [r for r in rows if target in (r.station_id, r.name) or r.station_id.startswith(target)]
        if not matches:
            raise ProvisioningError(f"no enrolled station is named {target!r} (see `regdesk station list`)")
        keys = {r.public_key for r in matches}
        if len(keys) > 1:
            raise ProvisioningError(f"{target!r} names several stations; give the station id")
        key = keys.pop()
        if any(r.station_id == station.station_id for r in rows if r.public_key == key):
            raise ProvisioningError("a station cannot revoke itself")
        heads = {r.station_id: eventlog.head(session, r.station_id)[0] for r in rows if r.public_key == key}
        station_name = matches[0].name
    root = trust.load_root(
        station.data_dir, root_passphrase, expected_public_key=station.root_public_key, key_file=root_key_file
    )
    revocation = certs.revoke_station(
        root,
        meeting=station.config.code,
        station_key=key,
        heads=heads,
        reason=" ".join(reason.split())[:500],
        revoked_at=format_utc(station.clock.now()),
    )
    with station.transaction() as session:
        station.record(
            session,
            EventKind.STATION_REVOKED,
            ep.StationRevoked(revocation.to_json(), station_name),
            by.name,
        )
    return revocation
