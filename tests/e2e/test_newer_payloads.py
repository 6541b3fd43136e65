"""A bundle from a station that runs a newer regdesk.

One desk was updated overnight; its newer software writes badge_printed at version 2. The
supervisor's laptop still runs the older regdesk. What a supervisor needs: the rest of the stick is
imported (the badges issued before, the other stations' events), the events this station cannot
read are left out, not guessed at, and an alert says which and what to do; once the laptop is
updated, the same bundle brings them in."""

from __future__ import annotations

import contextlib
import json

import pytest
from pg_fixtures import hub_url  # noqa: F401 - fixture
from sqlalchemy import select
from sync_helpers import issue, make_station, seed

from conftest import local
from regdesk import cli
from regdesk.clock import FixedClock
from regdesk.domain import event_payloads as ep
from regdesk.domain.events import EventKind
from regdesk.services import alerts, bundles, sync
from regdesk.store.models import Badge, EventRow

pytestmark = pytest.mark.xdist_group("trust")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


def badge_holders(station) -> set[str]:
    with station.sessions() as session:
        return set(session.execute(select(Badge.participant_id).where(Badge.revoked.is_(False))).scalars())


def events_of(station, station_id: str) -> list[dict]:
    with station.sessions() as session:
        rows = session.execute(
            select(EventRow.seq, EventRow.kind, EventRow.payload)
            .where(EventRow.station_id == station_id)
            .order_by(EventRow.seq)
        ).all()
    return [{"seq": seq, "kind": kind, "payload": json.loads(payload)} for seq, kind, payload in rows]


def test_a_bundle_with_an_event_of_a_newer_regdesk_is_imported_without_it(tmp_path, clock, monkeypatch, capsys):
    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    supervisor = make_station(tmp_path, "Supervisor", "supervisor", clock)
    try:
        seed(westin)
        before = issue(westin, "CH-1")
        # The Westin desk runs a regdesk that knows badge_printed v2 (a field's meaning changed).
        with monkeypatch.context() as newer_software:
            newer_software.setattr(ep.BadgePrinted, "VERSION", 2)
            with westin.transaction() as session:
                westin.record(session, EventKind.BADGE_PRINTED, ep.BadgePrinted(before.serial, "hp", "card"), "clerk")
        after = issue(westin, "CH-2")
        printed = [e for e in events_of(westin, westin.station_id) if e["kind"] == "badge_printed"]
        assert printed[0]["payload"]["version"] == 2

        bundles.export_bundle(westin, tmp_path / "westin.rdb")
        assert cli.main(["--data-dir", str(supervisor.data_dir), "bundle", "import", str(tmp_path / "westin.rdb")]) == 0
        out = capsys.readouterr().out
        assert "left out: made by a newer regdesk; update this station and import the bundle again" in out

        assert badge_holders(supervisor) == {"CH-1"}, "what came before the newer event is imported"
        kept = events_of(supervisor, westin.station_id)
        assert printed[0]["seq"] not in {e["seq"] for e in kept}, "an event it cannot read is not guessed at"
        assert max(e["seq"] for e in kept) == printed[0]["seq"] - 1
        shown = alerts.summary(supervisor).latest
        assert any(
            "made by a newer regdesk (badge_printed v2); update this station" in a.text and "westin.rdb" in a.text
            for a in shown
        ), [a.text for a in shown]

        # The supervisor's laptop is updated: the same bundle now brings in the rest.
        with monkeypatch.context() as updated:
            updated.setattr(ep.BadgePrinted, "VERSION", 2)
            result = bundles.import_bundle(supervisor, tmp_path / "westin.rdb")
            assert (result.newer, result.left_out) == (0, 0)
            assert badge_holders(supervisor) == {"CH-1", "CH-2"}
            assert after.serial in {e["payload"].get("serial") for e in events_of(supervisor, westin.station_id)}
    finally:
        westin.close()
        supervisor.close()


def test_a_station_refuses_to_record_a_version_it_does_not_know(tmp_path, clock):
    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    try:
        seed(westin)
        badge = issue(westin, "CH-1")
        with westin.transaction() as session, pytest.raises(Exception, match=r"badge_printed v2"):
            westin.record(session, EventKind.BADGE_PRINTED, {"serial": badge.serial, "version": 2}, "clerk")
    finally:
        westin.close()


@pytest.mark.pg
def test_from_the_hub_events_of_a_newer_regdesk_wait_for_the_update_and_are_reported_once(tmp_path, clock, hub_url):  # noqa: F811
    """The hub route: a pull moves past what it takes, so the events this station cannot read are
    held, not dropped (and never mistaken for forgeries as more arrive); one alert says why, and
    the first pull after the update takes them."""
    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    supervisor = make_station(tmp_path, "Supervisor", "supervisor", clock)
    try:
        seed(westin)
        issue(westin, "CH-1")
        with monkeypatch_version(ep.BadgePrinted, 2):
            badge = issue(westin, "CH-2")
            with westin.transaction() as session:
                westin.record(session, EventKind.BADGE_PRINTED, ep.BadgePrinted(badge.serial, "hp", "card"), "clerk")
            issue(westin, "NG-1")
        with sync.Hub(hub_url) as hub:
            sync.sync_once(westin, hub)
            sync.sync_once(supervisor, hub)
            assert badge_holders(supervisor) == {"CH-1", "CH-2"}, "what came before the newer event is taken"
            held = alerts.summary(supervisor).held
            assert held >= 2, "the newer event and those after it wait"
            with monkeypatch_version(ep.BadgePrinted, 2):
                issue(westin, "NG-2")  # the newer station goes on working; more of its events arrive
            sync.sync_once(westin, hub)
            sync.sync_once(supervisor, hub)
            texts = [a.text for a in alerts.summary(supervisor, limit=50).latest]
            newer = "made by a newer regdesk (badge_printed v2); update this station"
            assert sum(newer in t for t in texts) == 1, texts
            assert not any("forged" in t for t in texts), texts
            with monkeypatch_version(ep.BadgePrinted, 2):  # the supervisor's laptop is updated
                sync.sync_once(supervisor, hub)
                assert badge_holders(supervisor) == {"CH-1", "CH-2", "NG-1", "NG-2"}
                assert alerts.summary(supervisor).held == 0
    finally:
        westin.close()
        supervisor.close()


@contextlib.contextmanager
def monkeypatch_version(cls, version: int):
    """This process runs a regdesk that knows `cls` at `version` (a newer one) while inside."""
    before = cls.VERSION
    cls.VERSION = version
    try:
        yield
    finally:
        cls.VERSION = before
