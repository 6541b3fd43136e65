"""Bundles: the hub's merge on a USB stick. Idempotent, order-independent, all-or-nothing."""

from __future__ import annotations

import gzip
import json
import os
import stat

import pytest
from meeting import init_station
from sqlalchemy import select
from sync_helpers import (  # noqa: F401 (fixtures)
    event_count,
    event_ids,
    icc,
    issue,
    make_station,
    meeting_morning,
    security_scanner,
    seed,
    westin,
)

from conftest import EVENT_TOML, local
from regdesk import cli
from regdesk.clock import FixedClock
from regdesk.services import bundles, integrity
from regdesk.store.models import Badge, EventRow, Participant, Revocation, Scan


@pytest.fixture
def clock(meeting_morning) -> FixedClock:
    return meeting_morning


def snapshot(station) -> dict:
    compared = integrity.projection_columns()  # surrogate keys differ between stations
    with station.sessions() as session:
        return {
            model.__tablename__: sorted(
                tuple(str(v) for v in row)
                for row in session.execute(select(*(model.__table__.c[name] for name in compared[model.__tablename__])))
            )
            for model in (Participant, Badge, Revocation, Scan)
        }


def kinds_of(station, ids) -> list[str]:
    with station.sessions() as session:
        return sorted(session.execute(select(EventRow.kind).where(EventRow.id.in_(ids))).scalars())


def write_lines(path, lines: list) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line)) + "\n")


def test_replaced_badge_is_denied_at_the_icc_after_a_bundle(westin, icc, clock, tmp_path):
    first = issue(westin, "CH-1")
    clock.advance(hours=2)
    second = issue(westin, "CH-1", replace=True)
    stick = tmp_path / "usb" / "westin.rdb"
    stick.parent.mkdir()
    lacking = event_ids(westin) - event_ids(icc)  # both hold the meeting's founding events already
    exported = bundles.export_bundle(westin, stick)
    result = bundles.import_bundle(icc, stick)
    assert exported.count == event_count(westin) and result.added == len(lacking)
    assert result.from_station == "Westin desk 1"
    scanner = security_scanner(icc)
    assert str(scanner.scan(first.token).verdict.reason) == "revoked"
    assert str(scanner.scan(second.token).verdict.reason) == "valid"


def test_importing_twice_changes_nothing_the_second_time(westin, icc, tmp_path):
    issue(westin, "CH-1")
    path = tmp_path / "b.rdb"
    bundles.export_bundle(westin, path)
    bundles.import_bundle(icc, path)
    before = (event_count(icc), snapshot(icc))
    again = bundles.import_bundle(icc, path)
    assert again.added == 0 and again.received == event_count(westin)
    assert (event_count(icc), snapshot(icc)) == before


def test_incremental_bundles_need_their_start_and_then_give_the_same_state(westin, icc, clock, tmp_path):
    old = issue(westin, "CH-1")
    first = bundles.export_bundle(westin, tmp_path / "1.rdb")
    clock.advance(hours=1)
    issue(westin, "CH-1", replace=True)  # revokes `old`
    issue(westin, "NG-1")
    second = bundles.export_bundle(westin, tmp_path / "2.rdb", since=first.through_local_order)
    assert second.count == 5  # two identity checks, one revocation, two badges
    in_order = make_station(tmp_path, "Melia bus", "bus", clock)
    try:
        bundles.import_bundle(in_order, tmp_path / "1.rdb")
        bundles.import_bundle(in_order, tmp_path / "2.rdb")
        # The newer bundle alone continues a chain this station does not hold: it cannot be verified,
        # so it is refused whole (not half-applied), and it says what to do.
        before = (event_ids(icc), snapshot(icc))
        with pytest.raises(bundles.BundleError, match="cannot be verified.*import the full bundle"):
            bundles.import_bundle(icc, tmp_path / "2.rdb")
        assert snapshot(icc) == before[1]
        assert kinds_of(icc, event_ids(icc) - before[0]) == ["security_alert"]  # the refusal, for supervisors
        bundles.import_bundle(icc, tmp_path / "1.rdb")
        assert str(security_scanner(icc).scan(old.token).verdict.reason) == "valid"
        bundles.import_bundle(icc, tmp_path / "2.rdb")
        assert snapshot(icc)["badges"] == snapshot(in_order)["badges"]
        assert snapshot(icc)["revocations"] == snapshot(in_order)["revocations"]
        assert snapshot(icc)["participants"] == snapshot(in_order)["participants"]
        assert str(security_scanner(icc).scan(old.token).verdict.reason) == "revoked"
    finally:
        in_order.close()


def test_since_a_local_time(westin, clock, tmp_path):
    clock.set(local("2017-12-04T10:00"))
    issue(westin, "CH-2")
    result = bundles.export_bundle(westin, tmp_path / "b.rdb", since="2017-12-04T09:00")
    assert result.count == 2  # the identity check and the badge, not the morning's setup
    header = bundles.read_header(tmp_path / "b.rdb")
    assert header["count"] == 2 and header["event_code"] == "GCM-PV-2017"


def test_bundle_is_owner_only_and_written_atomically(westin, tmp_path):
    path = tmp_path / "b.rdb"
    bundles.export_bundle(westin, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # personal data and PIN hashes
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".b.rdb")] == []
    with pytest.raises(bundles.BundleError, match="does not exist"):
        bundles.export_bundle(westin, tmp_path / "no-such-folder" / "b.rdb")


def test_bundle_for_another_event_is_refused(westin, tmp_path, clock):
    other_toml = tmp_path / "other.toml"
    other_toml.write_text(EVENT_TOML.read_text().replace('code = "GCM-PV-2017"', 'code = "OTHER-2018"'))
    other = init_station(tmp_path / "other", other_toml, role="desk", name="Elsewhere", clock=clock)
    try:
        bundles.export_bundle(other, tmp_path / "other.rdb")
        before = event_count(westin)
        with pytest.raises(bundles.BundleError, match="for event 'OTHER-2018'.*serves 'GCM-PV-2017'"):
            bundles.import_bundle(westin, tmp_path / "other.rdb")
        assert event_count(westin) == before
    finally:
        other.close()


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_bundle_changes_nothing(westin, icc, tmp_path, damage):
    for pid in ("CH-1", "CH-2", "NG-1"):
        issue(westin, pid)
    path = tmp_path / "b.rdb"
    bundles.export_bundle(westin, path)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) * 2 // 3]
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    before = (event_count(icc), snapshot(icc))
    with pytest.raises(bundles.BundleError, match=r"b\.rdb.*(truncated|damaged|line)") as err:
        bundles.import_bundle(icc, path)
    assert "nothing was imported" in str(err.value) or "line" in str(err.value)
    assert (event_count(icc), snapshot(icc)) == before


def test_a_bad_line_names_the_line_and_field_and_nothing_is_applied(westin, icc, tmp_path):
    issue(westin, "CH-1")
    good = tmp_path / "good.rdb"
    bundles.export_bundle(westin, good)
    with gzip.open(good, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    broken = json.loads(lines[3])
    broken["seq"] = "three"
    bad = tmp_path / "bad.rdb"
    write_lines(bad, [*lines[:3], broken, *lines[4:]])
    before = event_count(icc)
    with pytest.raises(bundles.BundleError, match=r"bad\.rdb, line 4: field 'seq'"):
        bundles.import_bundle(icc, bad)
    assert event_count(icc) == before


def test_header_count_must_match(westin, icc, tmp_path):
    path = tmp_path / "b.rdb"
    bundles.export_bundle(westin, path)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    write_lines(path, lines[:-1])  # one event line lost
    before = event_count(icc)
    with pytest.raises(bundles.BundleError, match="announces .* but the file holds"):
        bundles.import_bundle(icc, path)
    assert event_count(icc) == before


def test_bundles_of_older_and_newer_versions_are_refused_with_what_to_do(westin, icc, tmp_path):
    path = tmp_path / "b.rdb"
    bundles.export_bundle(westin, path)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        header, *events = fh.read().splitlines()
    assert json.loads(header)["version"] == bundles.VERSION == 3
    before = event_count(icc)
    write_lines(path, [json.dumps({**json.loads(header), "version": 99}), *events])
    with pytest.raises(bundles.BundleError, match="bundle format 99.*update regdesk"):
        bundles.import_bundle(icc, path)
    write_lines(path, [json.dumps({**json.loads(header), "version": 2}), *events])
    with pytest.raises(bundles.BundleError, match="older regdesk.*cannot be verified"):
        bundles.import_bundle(icc, path)
    assert event_count(icc) == before


def test_a_forged_line_names_its_line_refuses_the_bundle_and_alerts(westin, icc, tmp_path):
    issue(westin, "CH-1")
    path = tmp_path / "b.rdb"
    bundles.export_bundle(westin, path)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    badge_line = next(i for i, line in enumerate(lines) if '"badge_issued"' in line)
    forged = json.loads(lines[badge_line])
    forged["payload"]["participant_id"] = "NG-1"  # the same badge, handed to someone else
    write_lines(path, [*lines[:badge_line], json.dumps(forged), *lines[badge_line + 1 :]])
    before = (event_ids(icc), snapshot(icc))
    with pytest.raises(
        bundles.BundleError,
        match=rf"b\.rdb, line {badge_line + 1}: refused, nothing was imported: "
        "event #[0-9]+ of station .* \\(badge_issued\\) .*(signed chain|seal)",
    ):
        bundles.import_bundle(icc, path)
    assert snapshot(icc) == before[1]
    assert kinds_of(icc, event_ids(icc) - before[0]) == ["security_alert"]


def test_not_a_bundle(icc, tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("hello")
    with pytest.raises(bundles.BundleError, match="notes.txt.*damaged"):
        bundles.import_bundle(icc, plain)
    fake = tmp_path / "fake.rdb"
    write_lines(fake, [{"hello": 1}])
    with pytest.raises(bundles.BundleError, match="line 1: not a regdesk bundle"):
        bundles.import_bundle(icc, fake)
    with pytest.raises(bundles.BundleError, match="does not exist"):
        bundles.import_bundle(icc, tmp_path / "missing.rdb")


def test_cli_export_and_import(westin, icc, tmp_path, capsys):
    issue(westin, "CH-1")
    westin_dir, icc_dir = str(westin.data_dir), str(icc.data_dir)
    path = str(tmp_path / "w.rdb")
    assert cli.main(["--data-dir", westin_dir, "bundle", "export", path]) == 0
    out = capsys.readouterr().out
    assert "events written" in out and "--since" in out
    assert cli.main(["--data-dir", icc_dir, "bundle", "import", path, "--json"]) == 0
    assert '"added":' in capsys.readouterr().out
    assert cli.main(["--data-dir", icc_dir, "bundle", "import", path]) == 0
    assert "0 new here" in capsys.readouterr().out
    assert event_ids(westin) <= event_ids(icc)
    assert cli.main(["--data-dir", icc_dir, "bundle", "import", str(tmp_path / "nope.rdb")]) == 2
    assert "does not exist" in capsys.readouterr().err
