"""Signing keys: owner-only files on desks, none on scan points, rotation that keeps old badges valid."""

from __future__ import annotations

import os
import stat

import pytest
from meeting import init_station, transfer
from sqlalchemy import select

from conftest import EVENT_TOML, participant_row, seed_participants
from regdesk.domain import token as t
from regdesk.domain.events import EventKind
from regdesk.services import desk, keys
from regdesk.services.station import open_station
from regdesk.store.models import EventRow


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def desk_with_people(desk_station):
    seed_participants(
        desk_station,
        [participant_row(f"CH-{i}", f"Family{i}", "Given", category="UN", delegation="OHCHR") for i in range(1, 6)],
    )
    return desk_station


def issue(station, pid):
    desk.record_identity_check(station, pid, "passport", "X1234567", "Carlos Clerk")
    return desk.issue_badge(station, pid, operator="Carlos Clerk")


def sync_into(target, source):
    """What sync does: the union of the logs by event id."""
    transfer(source, target)


def test_desk_key_file_is_owner_only(desk_station):
    key_file = desk_station.data_dir / "keys" / f"{desk_station.key_id}.key"
    assert mode(key_file) == 0o600
    assert mode(key_file.parent) == 0o700
    assert keys.key_file_problems(desk_station.data_dir, "desk") == []


def test_scan_stations_hold_public_keys_only_and_refuse_rotation(tmp_path, clock, desk_with_people):
    security = init_station(tmp_path / "sec", EVENT_TOML, role="security", clock=clock)
    try:
        assert security.signing_key is None
        # Its own station key (it seals its scans), never a badge-signing or root key.
        assert sorted(p.name for p in security.data_dir.glob("keys/*.key")) == ["station.key"]
        sync_into(security, desk_with_people)
        with pytest.raises(keys.KeyRotationError, match="public keys only"):
            keys.rotate_key(security, "Maria Supervisor")
        with security.sessions() as s:
            assert desk_with_people.key_id in security.public_keys(s)
        with pytest.raises(desk.DeskError, match="cannot issue"):
            desk.issue_badge(security, "CH-1", operator="Maria Supervisor")
    finally:
        security.close()


def test_only_a_supervisor_rotates(desk_with_people):
    before = desk_with_people.key_id
    with pytest.raises(keys.KeyRotationError, match="supervisor"):
        keys.rotate_key(desk_with_people, "Carlos Clerk")
    with pytest.raises(keys.KeyRotationError, match="unknown operator"):
        keys.rotate_key(desk_with_people, "Nobody")
    assert desk_with_people.key_id == before


def test_rotation_new_key_id_old_badges_stay_valid_until_revoked(desk_with_people, tmp_path, clock):
    station = desk_with_people
    old_badge = issue(station, "CH-1")
    old_kid = station.key_id

    new_kid = keys.rotate_key(station, "Maria Supervisor")

    assert new_kid != old_kid and station.key_id == new_kid
    new_badge = issue(station, "CH-2")
    code = station.config.code
    with station.sessions() as s:
        published = (
            s.execute(select(EventRow).where(EventRow.kind == EventKind.KEY_PUBLISHED).order_by(EventRow.local_order))
            .scalars()
            .all()
        )
        public = station.public_keys(s)
    assert [e.operator for e in published] == ["system", "Maria Supervisor"]
    assert t.read_token(new_badge.token, event_code=code, public_keys=public).claims.key_id == new_kid
    assert t.read_token(old_badge.token, event_code=code, public_keys=public).ok  # still valid
    # The old private key stays on disk, owner-only; the station never signs with it again.
    assert mode(station.data_dir / "keys" / f"{old_kid}.key") == 0o600
    assert mode(station.data_dir / "keys" / f"{new_kid}.key") == 0o600
    assert [k.key_id for k in keys.list_keys(station) if k.active] == [new_kid]

    # A scan point that learns the log by sync accepts both, and refuses the old one once revoked.
    from regdesk.services import scanning

    security = init_station(tmp_path / "sec", EVENT_TOML, role="security", clock=clock)
    try:
        clock.set(clock.now().replace(day=4, hour=15))  # 4 Dec, a meeting day
        sync_into(security, station)
        scanner = scanning.Scanner(security, "guard", scanning.ScanPoint("security", "ICC-MAIN"))
        assert str(scanner.scan(old_badge.token).verdict.reason) == "valid"
        assert str(scanner.scan(new_badge.token).verdict.reason) == "valid"
        desk.record_identity_check(station, "CH-1", "passport", "X1234567", "Carlos Clerk")
        replacement = desk.issue_badge(station, "CH-1", operator="Carlos Clerk", replace=True)
        sync_into(security, station)
        assert str(scanner.scan(old_badge.token).verdict.reason) == "revoked"
        assert replacement.token != old_badge.token
    finally:
        security.close()


def test_station_reopens_with_the_rotated_key(desk_with_people, clock):
    station = desk_with_people
    new_kid = keys.rotate_key(station, "Maria Supervisor")
    station.close()
    again = open_station(station.data_dir, clock=clock)
    try:
        assert again.key_id == new_kid
        badge = issue(again, "CH-3")
        with again.sessions() as s:
            assert (
                t.read_token(badge.token, event_code=again.config.code, public_keys=again.public_keys(s)).claims.key_id
                == new_kid
            )
    finally:
        again.close()


def test_check_spots_a_key_file_readable_by_others_and_keys_on_scan_points(desk_station):
    key_file = desk_station.data_dir / "keys" / f"{desk_station.key_id}.key"
    os.chmod(key_file, 0o644)
    problems = keys.key_file_problems(desk_station.data_dir, "desk")
    assert len(problems) == 1 and "644" in problems[0] and "owner only" in problems[0]
    os.chmod(key_file, 0o600)
    assert keys.key_file_problems(desk_station.data_dir, "security")[0].startswith(
        f"{desk_station.data_dir / 'keys'}: a security station must hold no badge-signing key"
    )
