"""A stolen desk that went on working, and a revocation that arrives after its later events did.

The ICC took the thief's events (a bundle off the stolen laptop, or the hub) before the root's
revocation reached it. Once the revocation arrives, what the thief did after the cut-off must stop
counting there as everywhere else: no badge, no collection, no tally; the log keeps the events (it
is append-only, and a supervisor may need them as evidence), but they never travel on, so a station
that holds them does not poison the bundles it hands out."""

from __future__ import annotations

import gzip
import json

import pytest
from meeting import ROOT_PASSPHRASE, SUPERVISOR_SESSION, exported_root_key
from security_alerts import alerts
from sqlalchemy import select
from sync_helpers import issue, make_station, security_scanner, seed

from conftest import local
from regdesk.clock import FixedClock
from regdesk.services import bundles, integrity, provisioning
from regdesk.services.scanning import Scanner, ScanPoint
from regdesk.store.models import Badge, EventRow

pytestmark = pytest.mark.xdist_group("trust")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


def badge_holders(station) -> set[str]:
    with station.sessions() as session:
        return set(session.execute(select(Badge.participant_id).where(Badge.revoked.is_(False))).scalars())


def bundle_events(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [line for line in map(json.loads, fh.read().splitlines()) if "seq" in line]


def cut_off_of(station, revoked) -> int:
    from regdesk.store import enrolment

    with station.sessions() as session:
        return enrolment.cut_offs(session)[revoked.station_id]


def held_events(station, station_id: str) -> int:
    with station.sessions() as session:
        return len(session.execute(select(EventRow.id).where(EventRow.station_id == station_id)).all())


@pytest.fixture
def meeting(tmp_path, clock):
    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    seed(westin)
    supervisor = make_station(tmp_path, "Supervisor", "supervisor", clock)
    icc = make_station(tmp_path, "ICC main", "security", clock)
    bus = make_station(tmp_path, "Westin bus stop", "bus", clock)
    yield westin, supervisor, icc, bus
    for station in (westin, supervisor, icc, bus):
        station.close()


def test_a_revocation_that_arrives_late_undoes_what_the_thief_did_after_the_cut_off(meeting, tmp_path):
    westin, supervisor, icc, bus = meeting
    before = issue(westin, "CH-1")
    bundles.export_bundle(westin, tmp_path / "w1.rdb")
    bundles.import_bundle(supervisor, tmp_path / "w1.rdb")
    provisioning.revoke(
        supervisor,
        "Westin desk 1",
        by=SUPERVISOR_SESSION,
        reason="laptop stolen at the Melia",
        root_passphrase=ROOT_PASSPHRASE,
        root_key_file=exported_root_key(supervisor),
    )
    after = issue(westin, "CH-2")  # the thief goes on issuing
    bundles.export_bundle(westin, tmp_path / "w2.rdb")
    bundles.import_bundle(icc, tmp_path / "w2.rdb")  # the thief's events reach the ICC first
    assert badge_holders(icc) == {"CH-1", "CH-2"}
    thief_events = held_events(icc, westin.station_id)

    bundles.export_bundle(supervisor, tmp_path / "s.rdb")
    bundles.import_bundle(icc, tmp_path / "s.rdb")  # then the revocation

    assert badge_holders(icc) == {"CH-1"}, "a badge the thief issued after the cut-off still counts"
    assert held_events(icc, westin.station_id) == thief_events, "the log must keep every event"
    scanner = security_scanner(icc)
    assert str(scanner.scan(before.token).verdict.reason) == "valid"
    assert str(scanner.scan(after.token).verdict.reason) == "key_revoked"
    assert integrity.check_station(icc.data_dir).ok, "regdesk check must agree with the projections after the cut"

    # What the ICC hands on no longer carries the thief's later events: a station that knows the
    # revocation takes the ICC's bundle whole, and has the same badges.
    bundles.export_bundle(icc, tmp_path / "icc.rdb")
    carried = [e for e in bundle_events(tmp_path / "icc.rdb") if e["station_id"] == westin.station_id]
    assert max(e["seq"] for e in carried) == cut_off_of(icc, westin), "the thief's later events travel on"
    bundles.import_bundle(supervisor, tmp_path / "icc.rdb")
    bundles.import_bundle(bus, tmp_path / "icc.rdb")
    assert badge_holders(bus) == {"CH-1"}
    assert badge_holders(supervisor) == {"CH-1"}


def test_an_honest_station_that_relays_the_thiefs_later_events_is_not_refused(meeting, tmp_path):
    """The bus stop took the thief's events before anyone knew; its nightly bundle still reaches the
    supervisor, who knows of the revocation: the bus stop's own scans are imported, the thief's
    later events are left out and reported, never the whole stick refused."""
    westin, supervisor, icc, bus = meeting
    before = issue(westin, "CH-1")
    bundles.export_bundle(westin, tmp_path / "w1.rdb")
    bundles.import_bundle(supervisor, tmp_path / "w1.rdb")
    provisioning.revoke(
        supervisor,
        "Westin desk 1",
        by=SUPERVISOR_SESSION,
        reason="laptop stolen at the Melia",
        root_passphrase=ROOT_PASSPHRASE,
        root_key_file=exported_root_key(supervisor),
    )
    issue(westin, "CH-2")
    bundles.export_bundle(westin, tmp_path / "w2.rdb")
    bundles.import_bundle(bus, tmp_path / "w2.rdb")  # before the revocation reached the bus stop
    scanned = Scanner(bus, "marshal", ScanPoint("bus", "WES", "to_venue")).scan(before.token)
    assert str(scanned.verdict.reason) == "valid"
    alerts_before = len(alerts(supervisor))

    bundles.export_bundle(bus, tmp_path / "bus.rdb")
    result = bundles.import_bundle(supervisor, tmp_path / "bus.rdb")

    assert result.left_out >= 1, "the thief's later events were not reported as left out"
    assert held_events(supervisor, bus.station_id) == held_events(bus, bus.station_id), "the bus stop's scans"
    assert badge_holders(supervisor) == {"CH-1"}
    new_alerts = alerts(supervisor)[alerts_before:]
    assert len(new_alerts) == 1 and "revoked" in new_alerts[0]["reason"]
    assert new_alerts[0]["station_id"] == westin.station_id

    # The thief's own stick is no better: nothing of it counts, and the supervisors are told.
    result = bundles.import_bundle(supervisor, tmp_path / "w2.rdb")
    assert result.added == 0 and badge_holders(supervisor) == {"CH-1"}


def test_a_pass_override_the_thief_made_after_the_cut_off_stops_counting(meeting, tmp_path):
    """The temporary pass holder is folded from the log's assignments and overrides: an override the
    stolen desk recorded after its cut-off must not decide it once the revocation arrives."""
    from datetime import date

    from regdesk.services import passes

    westin, supervisor, icc, bus = meeting
    run = passes.print_passes(westin, day=date(2017, 12, 4), count=1, operator="maria", out=tmp_path / "p.pdf")
    passes.assign_pass(westin, "1", "CH-1", operator="clerk", document_type="passport", document_number="4821")
    bundles.export_bundle(westin, tmp_path / "w1.rdb")
    bundles.import_bundle(supervisor, tmp_path / "w1.rdb")
    provisioning.revoke(
        supervisor,
        "Westin desk 1",
        by=SUPERVISOR_SESSION,
        reason="laptop stolen at the Melia",
        root_passphrase=ROOT_PASSPHRASE,
        root_key_file=exported_root_key(supervisor),
    )
    passes.override_assignment(westin, "1", "CH-2", operator="maria", reason="the thief's friend")
    bundles.export_bundle(westin, tmp_path / "w2.rdb")
    bundles.import_bundle(icc, tmp_path / "w2.rdb")  # the thief's override reaches the ICC first

    def holder(station) -> str:
        with station.sessions() as session:
            return session.get(passes.TemporaryPass, run.serials[0]).participant_id

    assert holder(icc) == "CH-2"
    bundles.export_bundle(supervisor, tmp_path / "s.rdb")
    bundles.import_bundle(icc, tmp_path / "s.rdb")  # then the revocation
    assert holder(icc) == "CH-1", "an override the thief made after the cut-off still counts"
    assert integrity.check_station(icc.data_dir).ok
