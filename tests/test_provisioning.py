"""Creating stations from an existing one: join files and the hub. Scan stations never get a signing key."""

from __future__ import annotations

import gzip
import os
import stat

import pytest
from sqlalchemy import select

from conftest import local
from pg_fixtures import hub_url  # noqa: F401 - fixture
from regdesk import cli
from regdesk.clock import FixedClock
from regdesk.domain.events import EventKind
from regdesk.services import bundles, provisioning, sync
from regdesk.services.station import open_station
from regdesk.store.models import EventRow, Operator, Participant, PublicKey
from sync_helpers import event_ids, issue, make_station, security_scanner, seed


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


@pytest.fixture
def westin(tmp_path, clock):
    station = make_station(tmp_path, "Westin desk 1", "desk", clock)
    seed(station)
    with station.transaction() as session:
        station.record(session, EventKind.OPERATOR_ADDED,
                       {"name": "Maria Supervisor", "role": "supervisor", "pin_hash": "scrypt$stub"}, "system")
    yield station
    station.close()


def key_files(station) -> list[str]:
    keys = station.data_dir / "keys"
    return sorted(p.name for p in keys.iterdir()) if keys.exists() else []


def test_join_file_makes_a_security_station_with_public_keys_only(westin, tmp_path, clock):
    badge = issue(westin, "CH-1")
    join = tmp_path / "icc.rdj"
    provisioning.create_join_file(westin, join, "security")
    assert stat.S_IMODE(os.stat(join).st_mode) == 0o600
    content = gzip.decompress(join.read_bytes())
    assert b"PRIVATE KEY" not in content
    assert (westin.data_dir / "keys" / f"{westin.key_id}.key").read_bytes() not in content

    result = provisioning.join_station(tmp_path / "icc", role="security", join_file=join, name="ICC main",
                                       clock=clock)
    icc = result.station
    try:
        assert (icc.role, icc.name, icc.signing_key, icc.key_id) == ("security", "ICC main", None, None)
        assert key_files(icc) == []
        assert icc.config.code == westin.config.code
        assert (icc.data_dir / "event.toml").read_text() == westin.config.source_text
        assert event_ids(westin) <= event_ids(icc)
        with icc.sessions() as session:
            assert session.get(Participant, "CH-1") is not None
            assert session.get(Operator, "Maria Supervisor") is not None
        assert str(security_scanner(icc).scan(badge.token).verdict.outcome) == "valid"
        assert stat.S_IMODE(os.stat(icc.data_dir).st_mode) == 0o700
    finally:
        icc.close()


def test_a_joining_desk_makes_its_own_key_and_its_badges_verify_elsewhere(westin, tmp_path, clock):
    join = tmp_path / "desk.rdj"
    provisioning.create_join_file(westin, join, "desk")
    desk2 = provisioning.join_station(tmp_path / "desk2", role="desk", join_file=join, name="Westin desk 2",
                                      clock=clock).station
    icc = make_station(tmp_path, "ICC main", "security", clock)
    try:
        assert desk2.key_id and desk2.key_id != westin.key_id
        assert key_files(desk2) == [f"{desk2.key_id}.key"]  # never a copy of the Westin key
        assert stat.S_IMODE(os.stat(desk2.data_dir / "keys" / f"{desk2.key_id}.key").st_mode) == 0o600
        badge = issue(desk2, "CH-2")
        bundles.export_bundle(desk2, tmp_path / "d2.rdb")
        bundles.import_bundle(icc, tmp_path / "d2.rdb")
        with icc.sessions() as session:
            assert set(session.execute(select(PublicKey.key_id)).scalars()) == {westin.key_id, desk2.key_id}
        assert str(security_scanner(icc).scan(badge.token).verdict.outcome) == "valid"
    finally:
        desk2.close()
        icc.close()


def test_refusals_leave_nothing_behind(westin, tmp_path, clock):
    join = tmp_path / "bus.rdj"
    provisioning.create_join_file(westin, join, "bus")
    with pytest.raises(provisioning.ProvisioningError, match="made for a bus station, not desk"):
        provisioning.join_station(tmp_path / "new", role="desk", join_file=join, clock=clock)
    with pytest.raises(provisioning.ProvisioningError, match="already holds a station"):
        provisioning.join_station(westin.data_dir, role="bus", join_file=join, clock=clock)
    broken = tmp_path / "broken.rdj"
    broken.write_bytes(join.read_bytes()[:-40])
    with pytest.raises(provisioning.ProvisioningError, match="truncated|damaged"):
        provisioning.join_station(tmp_path / "new", role="bus", join_file=broken, clock=clock)
    bundle = tmp_path / "plain.rdb"
    bundles.export_bundle(westin, bundle)
    with pytest.raises(provisioning.ProvisioningError, match="regdesk-bundle file; expected regdesk-join"):
        provisioning.join_station(tmp_path / "new", role="bus", join_file=bundle, clock=clock)
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if ".joining-" in p.name] == []


def test_join_from_the_hub(westin, tmp_path, clock, hub_url):  # noqa: F811
    issue(westin, "CH-1")
    sync.sync_with(westin, hub_url)
    result = provisioning.join_station(tmp_path / "melia", role="bus", hub_url=hub_url, name="Melia bus",
                                       clock=clock)
    bus = result.station
    try:
        assert bus.signing_key is None and key_files(bus) == []
        assert event_ids(westin) <= event_ids(bus)
        assert bus.setting(sync.SETTING_HUB_URL) == hub_url  # background sync knows where to go
        with sync.Hub(hub_url) as hub:
            assert hub.event_count() == len(event_ids(bus))  # its own creation is already on the hub
        sync.sync_with(westin, hub_url)
        with westin.sessions() as session:
            names = session.execute(select(EventRow.payload).where(EventRow.kind == "station_created")).scalars()
            assert any('"Melia bus"' in n for n in names)
    finally:
        bus.close()


def test_join_from_an_empty_hub_is_refused(tmp_path, clock, hub_url):  # noqa: F811
    with pytest.raises(provisioning.ProvisioningError, match="holds no event yet"):
        provisioning.join_station(tmp_path / "x", role="security", hub_url=hub_url, clock=clock)
    assert not (tmp_path / "x").exists()


def test_cli_provision_and_join(westin, tmp_path, capsys):
    join = tmp_path / "sec.rdj"
    assert cli.main(["--data-dir", str(westin.data_dir), "provision", "--role", "security", "--out", str(join)]) == 0
    assert "no private key" in capsys.readouterr().out
    target = tmp_path / "icc"
    assert cli.main(["--data-dir", str(target), "--clock", "2017-12-04T09:00", "join", "--from", str(join),
                     "--role", "security", "--name", "ICC side"]) == 0
    assert "ICC side (security)" in capsys.readouterr().out
    station = open_station(target)
    try:
        assert station.role == "security" and station.signing_key is None
    finally:
        station.close()
    assert cli.main(["--data-dir", str(target), "join", "--from", str(join), "--role", "security"]) == 2
    assert "already holds a station" in capsys.readouterr().err
