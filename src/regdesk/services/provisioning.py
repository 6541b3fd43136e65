"""Creating a new station from an existing one: from a join file (USB stick) or from the hub.

A join file is a bundle (see services/bundles.py) whose header also carries the event settings
(event.toml text), the role it was made for and, when the source station syncs with a hub, the
hub URL. It holds every event: the accreditation mirror, operators (PIN hashes only), badges,
revocations, scans and every desk's PUBLIC key. It never holds a private signing key.

A desk that joins makes its own new Ed25519 key and publishes the public half in the log
(KEY_PUBLISHED, which reaches every scan point by the next sync). Why not copy a desk's key:
  * the private key never leaves the machine it was made on: no file on a USB stick that, lost
    in a hotel corridor, lets anyone mint valid badges;
  * each badge's key id names the desk that signed it, which is what an audit of a dubious
    badge needs;
  * a stolen or compromised desk exposes one key, whose badges can be found by key id, not
    the whole event's.
Security and bus stations hold public keys only (services/station.py never creates a key for
them), so a stolen scanner cannot mint badges.

The new station is assembled in a scratch folder next to the target and moved into place only
when complete, so a failed join (bad file, hub gone) leaves no half station behind.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from regdesk.errors import RegdeskError
from regdesk.clock import Clock
from regdesk.config import ConfigError, parse_event_config
from regdesk.services import bundles
from regdesk.services.station import ROLES, Station, StationError, init_station, open_station
from regdesk.services.sync import SETTING_HUB_URL, Hub, SyncError, sync_once


class ProvisioningError(RegdeskError, ValueError):
    pass


@dataclass(frozen=True)
class JoinResult:
    station: Station
    events_received: int
    source: str  # join file path or hub display URL


def create_join_file(station: Station, path: Path | str, role: str) -> bundles.ExportResult:
    """Write everything a new `role` station needs (never a private key), owner-only."""
    if role not in ROLES:
        raise ProvisioningError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    extra = {"role": role, "event_toml": station.config.source_text, "provisioned_by": station.name}
    hub_url = station.setting(SETTING_HUB_URL)
    if hub_url:
        extra["hub_url"] = hub_url
    return bundles.write_bundle(station, path, fmt=bundles.JOIN_FORMAT, extra=extra)


def _check_target(data_dir: Path) -> None:
    if (data_dir / "station.db").exists():
        raise ProvisioningError(f"{data_dir} already holds a station; join into a new --data-dir")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise ProvisioningError(f"{data_dir} is not empty; join into a new or empty --data-dir")


def _scratch(data_dir: Path) -> Path:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return data_dir.parent / f".{data_dir.name}.joining-{uuid.uuid4().hex[:8]}"


def _move_into_place(scratch: Path, data_dir: Path) -> None:
    if data_dir.exists():
        data_dir.rmdir()  # checked empty above
    scratch.rename(data_dir)


def _build(data_dir: Path, event_toml: str, role: str, name: str | None, clock: Clock | None,
           fill) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Create the station in a scratch folder, let `fill(station)` bring the events, move it in place."""
    scratch = _scratch(data_dir)
    scratch.mkdir(mode=0o700)
    try:
        (scratch / "event.toml").write_text(event_toml, encoding="utf-8")
        station = init_station(scratch, scratch / "event.toml", role=role, name=name, clock=clock)
        try:
            received, hub_url = fill(station)
            if hub_url:
                station.set_setting(SETTING_HUB_URL, hub_url)
        finally:
            station.close()
        _move_into_place(scratch, data_dir)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return received, hub_url


def join_from_file(data_dir: Path | str, join_file: Path | str, *, role: str, name: str | None = None,
                   clock: Clock | None = None) -> JoinResult:
    data_dir, join_file = Path(data_dir), Path(join_file)
    if role not in ROLES:
        raise ProvisioningError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    _check_target(data_dir)
    header = bundles.read_header(join_file, formats=(bundles.JOIN_FORMAT,))
    made_for = header.get("role")
    if made_for and made_for != role:
        raise ProvisioningError(f"{join_file} was made for a {made_for} station, not {role}; "
                                f"ask for a new one (`regdesk provision --role {role}`) or join as {made_for}")
    toml_text = header.get("event_toml")
    if not isinstance(toml_text, str) or not toml_text:
        raise ProvisioningError(f"{join_file}, line 1: field 'event_toml' is missing")
    try:
        config = parse_event_config(toml_text, f"{join_file} (event settings)")
    except ConfigError as exc:
        raise ProvisioningError(str(exc)) from None
    if config.code != header["event_code"]:
        raise ProvisioningError(f"{join_file}, line 1: event settings are for {config.code!r} but the "
                                f"events are for {header['event_code']!r}")
    bundles.validate(join_file, config.code, formats=(bundles.JOIN_FORMAT,))  # everything, before creating

    def fill(station: Station) -> tuple[int, str]:
        result = bundles.import_bundle(station, join_file, formats=(bundles.JOIN_FORMAT,))
        return result.received, str(header.get("hub_url", ""))

    received, _hub = _build(data_dir, toml_text, role, name, clock, fill)
    return JoinResult(open_station(data_dir, clock=clock), received, str(join_file))


def join_from_hub(data_dir: Path | str, hub_url: str, *, role: str, name: str | None = None,
                  clock: Clock | None = None) -> JoinResult:
    data_dir = Path(data_dir)
    if role not in ROLES:
        raise ProvisioningError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    _check_target(data_dir)
    with Hub(hub_url) as hub:
        meta = hub.read_meta()
        if not meta.get("event_toml") or not meta.get("event_code"):
            raise ProvisioningError(f"hub {hub.display} holds no event yet: sync an existing station with it "
                                    "first (`regdesk sync --hub URL --once`), then join")
        try:
            config = parse_event_config(meta["event_toml"], f"hub {hub.display} (event settings)")
        except ConfigError as exc:
            raise ProvisioningError(str(exc)) from None
        if config.code != meta["event_code"]:
            raise ProvisioningError(f"hub {hub.display}: event settings are for {config.code!r} but the hub "
                                    f"serves {meta['event_code']!r}")

        def fill(station: Station) -> tuple[int, str]:
            # Push first: the new station's creation (and a desk's public key) reach the hub at once.
            report = sync_once(station, hub)
            return report.pulled, hub_url

        received, _hub = _build(data_dir, meta["event_toml"], role, name, clock, fill)
        return JoinResult(open_station(data_dir, clock=clock), received, hub.display)


def join_station(data_dir: Path | str, *, role: str, join_file: Path | str | None = None,
                 hub_url: str | None = None, name: str | None = None, clock: Clock | None = None) -> JoinResult:
    if (join_file is None) == (hub_url is None):
        raise ProvisioningError("join from exactly one source: a join file or a hub URL")
    try:
        if join_file is not None:
            return join_from_file(data_dir, join_file, role=role, name=name, clock=clock)
        assert hub_url is not None
        return join_from_hub(data_dir, hub_url, role=role, name=name, clock=clock)
    except (bundles.BundleError, SyncError, StationError) as exc:
        raise ProvisioningError(str(exc)) from None
