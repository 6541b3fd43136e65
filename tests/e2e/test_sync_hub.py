"""Hub sync against the real PostgreSQL: convergence, idempotence, resumption, refusals, CLI."""

from __future__ import annotations

import json
import threading

import pytest
from pg_fixtures import hub_url  # noqa: F401 - fixture
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

from conftest import participant_row, seed_participants
from regdesk import cli
from regdesk.clock import FixedClock
from regdesk.domain.events import EventKind
from regdesk.services import desk, sync
from regdesk.services import merge as merge_module
from regdesk.services.station import open_station
from regdesk.store.models import EventRow, Participant, PublicKey, Revocation

pytestmark = pytest.mark.pg


@pytest.fixture
def clock(meeting_morning) -> FixedClock:
    return meeting_morning


def test_replaced_badge_is_denied_at_the_icc_after_one_sync(westin, icc, hub_url, clock):  # noqa: F811
    first = issue(westin, "CH-1")
    clock.advance(hours=2)  # lost at lunch, replaced at the Westin
    second = issue(westin, "CH-1", replace=True)
    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
        sync.sync_once(icc, hub)
    scanner = security_scanner(icc)
    old = scanner.scan(first.token + "\r")
    new = scanner.scan(second.token)
    assert (str(old.verdict.outcome), str(old.verdict.reason)) == ("denied", "revoked")
    assert (str(new.verdict.outcome), str(new.verdict.reason)) == ("valid", "valid")
    assert new.holder is not None and new.holder.name == "Hans Muster"  # the mirror travelled too


def test_free_text_with_control_characters_arrives_byte_for_byte(westin, icc, hub_url):  # noqa: F811
    """Pushes travel by COPY, whose text format gives tabs, newlines and backslashes a meaning."""
    reason = 'Badge torn\tQR "unreadable"\nchecked passport \\ C:\\scans 50% Gómez 漢字'
    with westin.transaction() as session:
        westin.record(
            session,
            EventKind.OVERRIDE_GRANTED,
            {"participant_id": "CH-1", "rule": "id_check", "reason": reason, "supervisor": "maria"},
            "clerk",
        )
    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
        sync.sync_once(icc, hub)
    query = select(EventRow.id, EventRow.payload, EventRow.recorded_at).order_by(EventRow.id)
    with westin.sessions() as a, icc.sessions() as b:
        sent = [row for row in a.execute(query).all() if row[1].find("Badge torn") >= 0]
        got = [row for row in b.execute(query).all() if row[1].find("Badge torn") >= 0]
    assert len(sent) == 1 and got == sent
    assert json.loads(got[0][1])["reason"] == reason


def test_three_stations_converge_and_a_second_cycle_moves_nothing(tmp_path, westin, icc, hub_url, clock):  # noqa: F811
    other_desk = make_station(tmp_path, "Westin desk 2", "desk", clock)
    try:
        issue(westin, "CH-1")
        with sync.Hub(hub_url) as hub:
            for station in (westin, other_desk, icc, westin, other_desk, icc):
                sync.sync_once(station, hub)
            issue(other_desk, "CH-2")
            security_scanner(icc).scan("garbage")  # a denial travels like any scan
            reports = [sync.sync_once(s, hub) for s in (westin, other_desk, icc, westin, other_desk, icc)]
            again = [sync.sync_once(s, hub) for s in (westin, other_desk, icc)]
            total = hub.event_count()
        ids = event_ids(westin)
        assert ids == event_ids(other_desk) == event_ids(icc)
        assert len(ids) == total
        assert all(r.waiting == 0 for r in reports)
        assert [(r.pushed, r.added) for r in again] == [(0, 0)] * 3
        with icc.sessions() as session:
            keys = set(session.execute(select(PublicKey.key_id)).scalars())
        assert keys == {westin.key_id, other_desk.key_id}  # public keys travel, for verification
    finally:
        other_desk.close()


def test_events_pulled_from_the_hub_are_not_pushed_back(westin, icc, hub_url):  # noqa: F811
    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
        lacking = event_ids(westin) - event_ids(icc)  # both joined holding the meeting's first events
        report = sync.sync_once(icc, hub)
        assert report.added == len(lacking) > 0
        assert sync.sync_once(icc, hub).pushed == 0
        assert sync.local_status(icc).waiting == 0


def test_interrupted_push_resumes_without_losing_or_doubling(westin, icc, hub_url, monkeypatch):  # noqa: F811
    for pid in ("CH-1", "CH-2", "NG-1"):
        issue(westin, pid)
    real_push = sync.Hub.push_rows
    calls = {"n": 0}

    def flaky(self, rows):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise sync.HubUnreachable("hub 'test' is not reachable: cable pulled")
        return real_push(self, rows)

    monkeypatch.setattr(sync.Hub, "push_rows", flaky)
    with sync.Hub(hub_url) as hub:
        with pytest.raises(sync.HubUnreachable):
            sync.push(westin, hub, chunk_size=2)
        on_hub = hub.event_count()
        assert 0 < on_hub < event_count(westin)
        assert sync.local_status(westin).waiting == event_count(westin) - on_hub
        sync.push(westin, hub, chunk_size=2)  # resumes from the cursor
        assert hub.event_count() == event_count(westin)
        sync.pull(icc, hub)
    assert event_ids(icc) >= event_ids(westin)


def test_push_repeated_after_a_crash_before_the_cursor_moved_is_harmless(westin, hub_url, monkeypatch):  # noqa: F811
    with sync.Hub(hub_url) as hub:
        real_put = sync._put

        def crash_on_cursor(session, key, value):  # type: ignore[no-untyped-def]
            if key.endswith(".pushed"):
                raise RuntimeError("power cut")
            real_put(session, key, value)

        monkeypatch.setattr(sync, "_put", crash_on_cursor)
        with pytest.raises(RuntimeError):
            sync.push(westin, hub)
        assert hub.event_count() == event_count(westin)  # committed on the hub, cursor not saved
        monkeypatch.setattr(sync, "_put", real_put)
        sync.push(westin, hub)
        assert hub.event_count() == event_count(westin)
        assert sync.local_status(westin).waiting == 0


def test_pull_that_fails_mid_chunk_changes_nothing_and_resumes(westin, icc, hub_url, monkeypatch):  # noqa: F811
    issue(westin, "CH-1")
    with sync.Hub(hub_url) as hub:
        sync.push(westin, hub)
        before = event_count(icc)
        real_merge = sync.merge
        calls = {"n": 0}

        def merge_then_crash(session, incoming, *args, **kwargs):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            result = real_merge(session, incoming, *args, **kwargs)
            if calls["n"] == 2:
                raise RuntimeError("disk full")
            return result

        monkeypatch.setattr(sync, "merge", merge_then_crash)
        with pytest.raises(RuntimeError):
            sync.pull(icc, hub, chunk_size=2)
        partial = event_count(icc)
        # The first chunk committed (what it could verify), the second rolled back whole; what the
        # first chunk could not verify yet was only in memory, so the saved cursor stays before it
        # and the resumed pull reads it again.
        assert before <= partial <= before + 2
        with icc.sessions() as session:
            assert merge_module.held_count(session) == 0
        monkeypatch.setattr(sync, "merge", real_merge)
        sync.pull(icc, hub, chunk_size=2)
    assert event_ids(icc) >= event_ids(westin)
    with icc.sessions() as session:
        assert session.get(Participant, "CH-1") is not None


def test_concurrent_pushes_never_make_a_puller_skip_events(tmp_path, clock, hub_url):  # noqa: F811
    stations = [make_station(tmp_path, f"Desk {i}", "desk", clock) for i in range(3)]
    reader = make_station(tmp_path, "Bus", "bus", clock)
    try:
        for i, station in enumerate(stations):
            seed_participants(station, [participant_row(f"P-{i}-{n}", "Person", str(n)) for n in range(3)])
            for n in range(30):
                desk.record_identity_check(station, f"P-{i}-{n % 3}", "passport", f"X{n:06d}", "ana")
        errors: list[BaseException] = []

        def push_all(station):  # type: ignore[no-untyped-def]
            try:
                with sync.Hub(hub_url) as hub:
                    sync.push(station, hub, chunk_size=3)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=push_all, args=(s,)) for s in stations]
        with sync.Hub(hub_url) as hub:
            hub.ensure(reader.config.code, reader.config.source_text, reader.root_fingerprint)
            for t in threads:
                t.start()
            while any(t.is_alive() for t in threads):
                sync.pull(reader, hub, chunk_size=5)  # pulling while others commit
            for t in threads:
                t.join()
            sync.pull(reader, hub)
            assert not errors
            assert hub.event_count() == len(set().union(*(event_ids(s) for s in stations)))
        expected = set().union(*(event_ids(s) for s in stations))
        assert expected <= event_ids(reader)
    finally:
        for s in (*stations, reader):
            s.close()


def test_hub_of_another_event_is_refused(tmp_path, clock, westin, hub_url):  # noqa: F811
    from conftest import EVENT_TOML

    other_toml = tmp_path / "other.toml"
    other_toml.write_text(EVENT_TOML.read_text().replace('code = "GCM-PV-2017"', 'code = "OTHER-2018"'))
    from meeting import init_station

    other = init_station(tmp_path / "other", other_toml, role="desk", name="Elsewhere", clock=clock)
    try:
        with sync.Hub(hub_url) as hub:
            sync.sync_once(westin, hub)
            with pytest.raises(sync.SyncError, match="serves event 'GCM-PV-2017'.*'OTHER-2018'"):
                sync.sync_once(other, hub)
            assert hub.event_count() == event_count(westin)
    finally:
        other.close()


def test_hubs_of_other_formats_or_other_meetings_are_refused(westin, icc, hub_url, tmp_path, clock):  # noqa: F811
    from meeting import init_station
    from sqlalchemy import create_engine, text

    from conftest import EVENT_TOML

    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
    engine = create_engine(hub_url)
    try:
        for old, says in (("2", "A meeting created with this regdesk needs a new hub"), ("99", "format '99'")):
            with engine.begin() as conn:  # as an older (or newer) regdesk left it
                conn.execute(text("UPDATE hub_meta SET value = :v WHERE key = 'format'"), {"v": old})
            with sync.Hub(hub_url) as hub, pytest.raises(sync.SyncError, match=says):
                sync.sync_once(icc, hub)
        with engine.begin() as conn:
            conn.execute(text("UPDATE hub_meta SET value = :v WHERE key = 'format'"), {"v": sync.HUB_FORMAT})
    finally:
        engine.dispose()
    # The same event settings, but another meeting (another root): its stations cannot use this hub.
    same_settings = tmp_path / "same-settings.toml"
    same_settings.write_text(EVENT_TOML.read_text())
    stranger = init_station(tmp_path / "stranger", same_settings, role="desk", name="Stranger", clock=clock)
    try:
        with sync.Hub(hub_url) as hub, pytest.raises(sync.SyncError, match="serves another meeting"):
            sync.sync_once(stranger, hub)
    finally:
        stranger.close()


def test_a_hub_that_fails_inside_a_query_gives_a_sync_error_not_a_traceback(westin, icc, hub_url):  # noqa: F811
    from sqlalchemy import create_engine, text

    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
        engine = create_engine(hub_url)
        with engine.begin() as conn:  # e.g. someone "cleaned up" the hub database
            conn.execute(text("DROP TABLE hub_events"))
        engine.dispose()
        before = event_count(icc)
        with pytest.raises(sync.SyncError, match='relation "hub_events" does not exist'):
            sync.pull(icc, hub)
        with pytest.raises(sync.SyncError, match='relation "hub_events" does not exist'):
            hub.push_rows(
                [
                    (
                        "01600000-0000-7000-8000-000000000000",
                        westin.station_id,
                        999,
                        "2017-12-01T19:05:00.000000Z",
                        "clerk",
                        "clerk",
                        "badge_printed",
                        "{}",
                        "0" * 64,
                        None,
                    )
                ]
            )
    assert event_count(icc) == before


def test_unreachable_hub_is_reported_and_the_desk_keeps_working(westin):
    with pytest.raises(sync.HubUnreachable, match="not reachable"):
        sync.sync_with(westin, "postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    badge = issue(westin, "CH-2")  # no degradation other than staleness
    assert badge.serial
    assert sync.local_status(westin).last_sync is None


@pytest.mark.parametrize("url", ["sqlite:///hub.db", "not a url", "mysql://u@h/db"])
def test_only_postgresql_hubs_are_accepted(url):
    with pytest.raises(sync.SyncError, match="PostgreSQL|postgresql"):
        sync.Hub(url)


def test_status_counts_waiting_events_and_last_sync(westin, hub_url, clock):  # noqa: F811
    westin.set_setting(sync.SETTING_HUB_URL, hub_url)
    assert sync.local_status(westin).waiting == event_count(westin)  # never synced: everything waits
    sync.sync_with(westin, hub_url)
    issue(westin, "CH-1")  # identity check + badge
    status = sync.local_status(westin)
    assert status.waiting == 2
    assert status.last_sync == clock.now()
    assert "@127.0.0.1" in status.hub


def test_cli_sync_once_remember_and_offline_exit_code(westin, icc, hub_url, capsys):  # noqa: F811
    issue(westin, "CH-1")
    westin_dir, icc_dir = str(westin.data_dir), str(icc.data_dir)
    westin.close()
    icc.close()
    assert cli.main(["--data-dir", westin_dir, "sync", "--hub", hub_url, "--once", "--remember"]) == 0
    assert "synced with" in capsys.readouterr().out
    assert cli.main(["--data-dir", westin_dir, "sync", "--once", "--json"]) == 0  # the saved hub_url
    assert '"waiting":0' in capsys.readouterr().out
    assert cli.main(["--data-dir", icc_dir, "sync", "--hub", hub_url, "--once"]) == 0
    reopened = open_station(icc_dir)
    try:
        with reopened.sessions() as session:
            assert session.get(Participant, "CH-1") is not None
            assert session.execute(select(Revocation)).first() is None
    finally:
        reopened.close()
    code = cli.main(["--data-dir", icc_dir, "sync", "--hub", "postgresql+psycopg://postgres@127.0.0.1:1/x", "--once"])
    assert code == 4
    assert "keeps working offline" in capsys.readouterr().err


def test_a_pull_stands_aside_while_a_scan_waits_for_its_verdict(westin, icc, hub_url):  # noqa: F811
    """A pull merges nothing while the station's screen marks someone waiting, and goes on once
    the answer is on screen (services/give_way.py): the scan never queues behind the merge."""
    for pid in ("CH-1", "CH-2", "NG-1"):
        issue(westin, pid)
    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
    before = event_count(icc)
    icc.give_way.someone_waits()
    pulled: list[tuple[int, int]] = []

    def pull() -> None:
        with sync.Hub(hub_url) as hub:
            pulled.append(sync.pull(icc, hub, chunk_size=sync.INTERACTIVE_PULL_CHUNK))

    thread = threading.Thread(target=pull)
    thread.start()
    try:
        thread.join(timeout=0.6)
        assert thread.is_alive() and event_count(icc) == before  # fetched, not merged
    finally:
        icc.give_way.answered()
    thread.join(timeout=20)
    assert not thread.is_alive() and pulled[0][1] > 0
    assert event_ids(westin) <= event_ids(icc)
