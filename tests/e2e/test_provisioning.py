"""Enrolling stations: a supervisor provisions (root passphrase), the new machine joins with the
one-time code, from a join file or from the hub. Scan stations never get a badge-signing key."""

from __future__ import annotations

import json
import os
import stat

import pytest
from meeting import (
    ROOT_PASSPHRASE,
    SUPERVISOR,
    SUPERVISOR_SECRET,
    SUPERVISOR_SESSION,
    enrol_beside,
    exported_root_key,
    transfer,
)
from pg_fixtures import hub_url  # noqa: F401 - fixture
from sqlalchemy import select
from sync_helpers import event_ids, issue, make_station, security_scanner, seed

from conftest import local
from regdesk import cli
from regdesk.clock import FixedClock
from regdesk.services import bundles, provisioning, sync, trust
from regdesk.services.station import open_station
from regdesk.store.models import EnrolledStation, EventRow, Operator, Participant, PublicKey


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


@pytest.fixture
def westin(tmp_path, clock):
    station = make_station(tmp_path, "Westin desk 1", "desk", clock)
    seed(station)
    yield station
    station.close()


def key_files(station) -> list[str]:
    keys = station.data_dir / "keys"
    return sorted(p.name for p in keys.iterdir()) if keys.exists() else []


def provision(station, path, role, name):
    return provisioning.provision(
        station,
        role=role,
        name=name,
        by=SUPERVISOR_SESSION,
        root_passphrase=ROOT_PASSPHRASE,
        root_key_file=exported_root_key(station),
        out=path,
    )


def test_join_file_makes_a_security_station_with_its_own_key_only(westin, tmp_path, clock):
    badge = issue(westin, "CH-1")
    join = tmp_path / "icc.rdj"
    made = provision(westin, join, "security", "ICC main")
    assert stat.S_IMODE(os.stat(join).st_mode) == 0o600
    content = join.read_bytes()
    # Locked with the code: no personal data, no key, not even the station's name readable in it.
    for secret in (
        b"PRIVATE KEY",
        b"Muster",
        b"ICC main",
        made.code.encode(),
        (westin.data_dir / "keys" / f"{westin.key_id}.key").read_bytes(),
    ):
        assert secret not in content

    result = provisioning.join_station(tmp_path / "icc", join_file=join, code=made.code.lower(), clock=clock)
    icc = result.station
    try:
        assert (icc.role, icc.name, icc.signing_key, icc.key_id) == ("security", "ICC main", None, None)
        assert key_files(icc) == ["station.key"]
        assert icc.root_fingerprint == westin.root_fingerprint == made.root_fingerprint
        assert icc.config.code == westin.config.code
        assert (icc.data_dir / "event.toml").read_text() == westin.config.source_text
        assert event_ids(westin) <= event_ids(icc)
        with icc.sessions() as session:
            assert session.get(Participant, "CH-1") is not None
            assert session.get(Operator, "Maria Supervisor") is not None
            assert session.get(EnrolledStation, icc.station_id).role == "security"
        assert str(security_scanner(icc).scan(badge.token).verdict.outcome) == "valid"
        assert stat.S_IMODE(os.stat(icc.data_dir).st_mode) == 0o700
    finally:
        icc.close()


def test_a_joining_desk_makes_its_own_badge_key_and_its_badges_verify_elsewhere(westin, tmp_path, clock):
    join = tmp_path / "desk.rdj"
    made = provision(westin, join, "desk", "Westin desk 2")
    desk2 = provisioning.join_station(
        tmp_path / "desk2", join_file=join, code=made.code, role="desk", clock=clock
    ).station
    icc = make_station(tmp_path, "ICC main", "security", clock)
    try:
        assert desk2.key_id and desk2.key_id != westin.key_id
        assert key_files(desk2) == sorted([f"{desk2.key_id}.key", "station.key"])  # never a copy of Westin's
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


def test_provisioning_needs_a_supervisor_and_the_root_passphrase(westin, tmp_path):
    from regdesk.errors import NotAllowed
    from regdesk.services.operators import OperatorSession

    with pytest.raises(NotAllowed, match="only for a supervisor"):
        provisioning.provision(
            westin,
            role="bus",
            name="Melia",
            by=OperatorSession("ana", "clerk"),
            root_passphrase=ROOT_PASSPHRASE,
            out=tmp_path / "x.rdj",
        )
    with pytest.raises(trust.TrustError, match="root key is not on this station.*--root-key"):
        provisioning.provision(
            westin,
            role="bus",
            name="Melia",
            by=SUPERVISOR_SESSION,
            root_passphrase=ROOT_PASSPHRASE,
            out=tmp_path / "x.rdj",
        )
    with pytest.raises(trust.TrustError, match="wrong root passphrase"):
        provisioning.provision(
            westin,
            role="bus",
            name="Melia",
            by=SUPERVISOR_SESSION,
            root_passphrase="not the root passphrase",
            root_key_file=exported_root_key(westin),
            out=tmp_path / "x.rdj",
        )
    assert not (tmp_path / "x.rdj").exists()


def test_refusals_leave_nothing_behind(westin, tmp_path, clock):
    join = tmp_path / "bus.rdj"
    made = provision(westin, join, "bus", "Melia bus stop")
    with pytest.raises(provisioning.ProvisioningError, match="made for a bus station, not desk"):
        provisioning.join_station(tmp_path / "new", role="desk", join_file=join, code=made.code, clock=clock)
    with pytest.raises(provisioning.ProvisioningError, match="wrong join code"):
        provisioning.join_station(tmp_path / "new", join_file=join, code="AAAA-AAAA-AAAA-AAAA-AAAA", clock=clock)
    with pytest.raises(provisioning.ProvisioningError, match="root .* not XXXX-XXXX"):
        provisioning.join_station(
            tmp_path / "new", join_file=join, code=made.code, expect_root="XXXX-XXXX-XXXX-XXXX", clock=clock
        )
    with pytest.raises(provisioning.ProvisioningError, match="already holds a station"):
        provisioning.join_station(westin.data_dir, join_file=join, code=made.code, clock=clock)
    broken = tmp_path / "broken.rdj"
    broken.write_bytes(join.read_bytes()[:-40])
    with pytest.raises(provisioning.ProvisioningError, match="wrong join code \\(or the file was altered\\)"):
        provisioning.join_station(tmp_path / "new", join_file=broken, code=made.code, clock=clock)
    bundle = tmp_path / "plain.rdb"
    bundles.export_bundle(westin, bundle)
    with pytest.raises(provisioning.ProvisioningError, match="not a regdesk locked file"):
        provisioning.join_station(tmp_path / "new", join_file=bundle, code=made.code, clock=clock)
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if ".joining-" in p.name] == []


def test_join_from_the_hub_with_a_code_that_works_once(westin, tmp_path, clock, hub_url):  # noqa: F811
    issue(westin, "CH-1")
    with sync.Hub(hub_url) as hub:
        made = provisioning.provision(
            westin,
            role="bus",
            name="Melia bus",
            by=SUPERVISOR_SESSION,
            root_passphrase=ROOT_PASSPHRASE,
            root_key_file=exported_root_key(westin),
            hub=hub,
        )
    assert made.join_file is None
    with pytest.raises(provisioning.ProvisioningError, match="no join ticket for this code"):
        provisioning.join_station(tmp_path / "wrong", hub_url=hub_url, code="AAAA-AAAA-AAAA-AAAA-AAAA", clock=clock)
    result = provisioning.join_station(tmp_path / "melia", hub_url=hub_url, code=made.code, clock=clock)
    bus = result.station
    try:
        assert bus.signing_key is None and key_files(bus) == ["station.key"]
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
    with pytest.raises(provisioning.ProvisioningError, match="no join ticket for this code.*already used"):
        provisioning.join_station(tmp_path / "again", hub_url=hub_url, code=made.code, clock=clock)
    assert not (tmp_path / "again").exists() and not (tmp_path / "wrong").exists()


def test_cli_provision_and_join(westin, tmp_path, capsys, monkeypatch):
    join = tmp_path / "sec.rdj"
    monkeypatch.setenv("REGDESK_PIN", SUPERVISOR_SECRET)
    monkeypatch.setenv("REGDESK_ROOT_PASSPHRASE", ROOT_PASSPHRASE)
    assert (
        cli.main(
            [
                "--data-dir",
                str(westin.data_dir),
                "provision",
                "--role",
                "security",
                "--name",
                "ICC side",
                "--out",
                str(join),
                "--operator",
                SUPERVISOR,
                "--root-key",
                str(exported_root_key(westin)),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    code = next(line.split(": ")[-1] for line in out.splitlines() if line.startswith("Join code"))
    assert westin.root_fingerprint in out
    target = tmp_path / "icc"
    monkeypatch.setenv("REGDESK_JOIN_CODE", code)
    assert (
        cli.main(
            [
                "--data-dir",
                str(target),
                "--clock",
                "2017-12-04T09:00",
                "join",
                "--from",
                str(join),
                "--role",
                "security",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ICC side (security)" in out and westin.root_fingerprint in out
    station = open_station(target)
    try:
        assert station.role == "security" and station.signing_key is None
    finally:
        station.close()
    assert cli.main(["--data-dir", str(target), "join", "--from", str(join)]) == 2
    assert "already holds a station" in capsys.readouterr().err
    monkeypatch.setenv("REGDESK_PIN", "wrong")
    assert (
        cli.main(
            [
                "--data-dir",
                str(westin.data_dir),
                "provision",
                "--role",
                "bus",
                "--name",
                "Melia",
                "--out",
                str(tmp_path / "m.rdj"),
                "--operator",
                SUPERVISOR,
                "--root-key",
                str(exported_root_key(westin)),
            ]
        )
        == 4
    )
    assert not (tmp_path / "m.rdj").exists()


def test_cli_station_list_shows_who_is_enrolled_and_who_is_cut_off(westin, tmp_path, capsys, monkeypatch, clock):
    monkeypatch.setenv("REGDESK_PIN", SUPERVISOR_SECRET)
    monkeypatch.setenv("REGDESK_ROOT_PASSPHRASE", ROOT_PASSPHRASE)
    melia = enrol_beside(westin, tmp_path / "melia", role="bus", name="Melia stop", clock=clock)
    transfer(melia, westin)  # its station_created event, as a sync would bring it
    melia.close()
    base = ["--data-dir", str(westin.data_dir)]
    assert cli.main([*base, "station", "list", "--json"]) == 0
    listed = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert listed["Melia stop"]["role"] == "bus" and not listed["Melia stop"]["revoked"]
    assert not listed["Westin desk 1"]["revoked"]

    assert (
        cli.main(
            [
                *base,
                "station",
                "revoke",
                "Melia stop",
                "--reason",
                "laptop lost on the bus",
                "--operator",
                SUPERVISOR,
                "--root-key",
                str(exported_root_key(westin)),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert cli.main([*base, "station", "list"]) == 0
    lines = {line.split()[0] + " " + line.split()[1]: line for line in capsys.readouterr().out.splitlines()}
    assert "REVOKED (laptop lost on the bus)" in lines["Melia stop"]
    assert "enrolled" in lines["Westin desk"] and "REVOKED" not in lines["Westin desk"]
