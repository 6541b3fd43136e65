"""Many processes on one station (issue 10, point 5): real processes, one database file.

Two clerks press Issue for the same person at the same instant, four scan lanes record at once,
a screen reads while a long write holds the lock. Every write transaction must take SQLite's write
lock before it reads the facts it decides on (BEGIN IMMEDIATE, store/db.py); reads must not wait.
The processes are forked from the test (a warm interpreter each) and meet at a barrier so that
their transactions really start together.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections import Counter
from pathlib import Path

import pytest
from meeting import transfer
from sqlalchemy import func, select
from sync_helpers import make_station

from conftest import local, participant_row, seed_participants
from regdesk.clock import FixedClock
from regdesk.domain.events import EventKind
from regdesk.services import audit, desk, desk_view, lookup, scanning, sync, tallies
from regdesk.services.station import open_station
from regdesk.store.models import Badge, EventRow, Scan

pytestmark = pytest.mark.xdist_group("processes")

FORK = multiprocessing.get_context("fork")
TRIALS = 10
LANES = 4
SCANS_PER_LANE = 40
WAIT = 120.0  # seconds a process may wait for the others before the test gives up (never reached)
COLLECTION_DAY = "2017-12-01T13:05"
MEETING_DAY = "2017-12-04T08:40"


def _guarded(results, who: str, body) -> None:  # noqa: ANN001
    """Run `body` in a child process and report every outcome (a traceback too) to the parent."""
    try:
        results.put((who, "done", body()))
    except BaseException as exc:  # noqa: BLE001 - the parent must see what went wrong
        results.put((who, "crashed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))


def _collect(results, processes: list) -> dict[str, tuple[str, object]]:  # noqa: ANN001
    outcomes = {}
    for _ in processes:
        who, status, value = results.get(timeout=WAIT)
        outcomes[who] = (status, value)
    for process in processes:
        process.join(timeout=WAIT)
    return outcomes


# --- two clerks, one participant, the same instant ---------------------------------------------------


def _clerk(data_dir: Path, who: str, people: list[str], barrier, results) -> None:  # noqa: ANN001
    def body() -> list[tuple[str, str, str]]:
        station = open_station(data_dir, clock=FixedClock(local(COLLECTION_DAY)))
        outcomes = []
        try:
            for pid in people:
                barrier.wait(timeout=WAIT)
                try:
                    badge = desk.issue_badge(station, pid, operator=who)
                    outcomes.append((pid, "issued", badge.serial))
                except desk.IssueRefused as refused:
                    outcomes.append((pid, "refused", f"{refused.refusal}: {refused}"))
                except Exception as exc:  # noqa: BLE001 - an IntegrityError here is the bug
                    outcomes.append((pid, "failed", f"{type(exc).__name__}: {exc}"))
        finally:
            station.close()
        return outcomes

    _guarded(results, who, body)


def test_two_clerks_issuing_to_the_same_person_at_once_make_exactly_one_badge(tmp_path):
    clock = FixedClock(local(COLLECTION_DAY))
    station = make_station(tmp_path, "Westin desk 1", "desk", clock)
    people = [f"RACE-{n}" for n in range(TRIALS)]
    seed_participants(
        station,
        [participant_row(pid, f"Racer{n}", "Alex", delegation=f"Delegation {n}") for n, pid in enumerate(people)],
    )
    for pid in people:
        desk.record_identity_check(station, pid, "passport", "X1234567", "ana")
    data_dir = station.data_dir
    station.close()  # the children open their own connections; none is shared across fork

    barrier, results = FORK.Barrier(2), FORK.Queue()
    clerks = [FORK.Process(target=_clerk, args=(data_dir, who, people, barrier, results)) for who in ("ana", "ben")]
    for process in clerks:
        process.start()
    outcomes = _collect(results, clerks)

    assert {who: status for who, (status, _) in outcomes.items()} == {"ana": "done", "ben": "done"}, outcomes
    by_person: dict[str, list[tuple[str, str]]] = {pid: [] for pid in people}
    for _, (_, rows) in outcomes.items():
        for pid, kind, detail in rows:
            by_person[pid].append((kind, detail))
    for pid, pair in by_person.items():
        kinds = sorted(kind for kind, _ in pair)
        assert kinds == ["issued", "refused"], f"{pid}: {pair}"
        refusal = next(detail for kind, detail in pair if kind == "refused")
        assert refusal.startswith("already_holds_badge: Already holds valid badge"), refusal

    station = open_station(data_dir, clock=clock)
    try:
        with station.sessions() as session:
            badges = Counter(session.execute(select(Badge.participant_id).where(Badge.revoked.is_(False))).scalars())
            issued = session.execute(
                select(func.count()).select_from(EventRow).where(EventRow.kind == EventKind.BADGE_ISSUED)
            ).scalar_one()
        assert badges == Counter({pid: 1 for pid in people})
        assert issued == TRIALS
    finally:
        station.close()


# --- four scan lanes on one security station ---------------------------------------------------------


def _lane(data_dir: Path, who: str, tokens: list[str], barrier, results) -> None:  # noqa: ANN001
    def body() -> Counter:
        station = open_station(data_dir, clock=FixedClock(local(MEETING_DAY)))
        scanner = scanning.Scanner(station, who, scanning.ScanPoint("security", "ICC-MAIN"))
        verdicts: Counter = Counter()
        try:
            barrier.wait(timeout=WAIT)
            for token in tokens:
                verdicts[scanner.scan(token + "\r").outcome] += 1
        finally:
            scanner.close()
            station.close()
        return verdicts

    _guarded(results, who, body)


SCAN_STAFF = ("guard", "sam", "maria", "Maria Supervisor")  # one signed-in operator per lane


def test_four_scan_lanes_on_one_station_record_every_scan_with_contiguous_seq(tmp_path):
    clock = FixedClock(local(COLLECTION_DAY))
    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    people = [f"LANE-{n}" for n in range(12)]
    seed_participants(
        westin,
        [participant_row(pid, f"Walker{n}", "Sam", delegation=f"Delegation {n}") for n, pid in enumerate(people)],
    )
    tokens = []
    for pid in people:
        desk.record_identity_check(westin, pid, "passport", "X1234567", "ana")
        tokens.append(desk.issue_badge(westin, pid, operator="ana").token)
    icc = make_station(tmp_path, "ICC main", "security", clock)
    transfer(westin, icc)  # what a sync delivers
    icc_dir, icc_id = icc.data_dir, icc.station_id
    with icc.sessions() as session:
        own_before = session.execute(
            select(func.count()).select_from(EventRow).where(EventRow.station_id == icc_id)
        ).scalar_one()
    westin.close()
    icc.close()

    barrier, results = FORK.Barrier(LANES), FORK.Queue()
    lanes = []
    for lane in range(LANES):
        mine = [tokens[(lane + i) % len(tokens)] for i in range(SCANS_PER_LANE)]
        mine[::7] = ["NOT-A-BADGE"] * len(mine[::7])  # denials are recorded too
        lanes.append(FORK.Process(target=_lane, args=(icc_dir, SCAN_STAFF[lane], mine, barrier, results)))
    for process in lanes:
        process.start()
    outcomes = _collect(results, lanes)

    crashed = {who: detail for who, (status, detail) in outcomes.items() if status != "done"}
    assert not crashed, crashed
    answered = sum(sum(counts.values()) for _, counts in outcomes.values())
    assert answered == LANES * SCANS_PER_LANE

    icc = open_station(icc_dir, clock=clock)
    try:
        with icc.sessions() as session:
            recorded = session.execute(
                select(func.count()).select_from(EventRow).where(EventRow.kind == EventKind.SCAN_RECORDED)
            ).scalar_one()
            scan_rows = session.execute(select(func.count()).select_from(Scan)).scalar_one()
            seqs = list(
                session.execute(
                    select(EventRow.seq).where(EventRow.station_id == icc_id).order_by(EventRow.seq)
                ).scalars()
            )
            operators_seen = set(
                session.execute(select(EventRow.operator).where(EventRow.kind == EventKind.SCAN_RECORDED)).scalars()
            )
        assert recorded == scan_rows == LANES * SCANS_PER_LANE
        assert seqs == list(range(1, own_before + LANES * SCANS_PER_LANE + 1))
        assert operators_seen == set(SCAN_STAFF[:LANES])
    finally:
        icc.close()


# --- a screen reading while another process holds a long write --------------------------------------


def _long_writer(data_dir: Path, locked, release, results) -> None:  # noqa: ANN001
    def body() -> str:
        station = open_station(data_dir, clock=FixedClock(local(COLLECTION_DAY)))
        try:
            with station.transaction() as session:  # like a merge of a big bundle: holds the write lock
                station.record(
                    session,
                    EventKind.IDENTITY_CHECKED,
                    {"participant_id": "READ-1", "document_type": "passport", "document_last4": "9999"},
                    "ana",
                )
                session.flush()
                locked.set()
                if not release.wait(timeout=WAIT):
                    return "never released"
            return "committed"
        finally:
            station.close()

    _guarded(results, "writer", body)


def test_screens_read_while_another_process_holds_the_write_lock(tmp_path):
    clock = FixedClock(local(COLLECTION_DAY))
    station = make_station(tmp_path, "Westin desk 1", "desk", clock)
    seed_participants(
        station,
        [
            participant_row("READ-1", "Lauber", "Jürg", role="head"),
            participant_row("READ-2", "Gómez Camacho", "Juan José", delegation="Mexico"),
        ],
    )
    desk.record_identity_check(station, "READ-2", "passport", "X1234567", "ana")
    desk.issue_badge(station, "READ-2", operator="ana")
    data_dir = station.data_dir
    station.close()

    locked, release, results = FORK.Event(), FORK.Event(), FORK.Queue()
    writer = FORK.Process(target=_long_writer, args=(data_dir, locked, release, results))
    writer.start()
    try:
        assert locked.wait(timeout=WAIT), "the writer never took the lock"
        reader = open_station(data_dir, clock=clock)
        try:
            # What the desk, scan, supervisor and audit screens and the status bar read, in a
            # process of their own, while the write lock is held: none of it may wait or fail.
            assert [hit.accreditation_id for hit in lookup.search(reader, "lauber")] == ["READ-1"]
            card = desk_view.participant_card(reader, "READ-2")
            assert card is not None and card.holds_badge
            assert scanning.configured_point(reader) is None
            day = tallies.day_tallies(reader, local(COLLECTION_DAY).date())
            assert day.badges.issued == 1
            assert audit.list_audit(reader, audit.AuditFilter(), viewer_role="supervisor", limit=10)
            assert sync.local_status(reader).waiting is None
            assert not release.is_set()  # all of the above ran while the writer held the lock
        finally:
            reader.close()
    finally:
        release.set()
    assert _collect(results, [writer]) == {"writer": ("done", "committed")}


def test_the_suite_refuses_a_write_made_through_a_read_session(desk_station):
    """The check that keeps every path above honest (store/db.py, REGDESK_STRICT_TRANSACTIONS)."""
    seed_participants(desk_station, [participant_row("READ-1", "Lauber", "Jürg")])
    with pytest.raises(Exception, match="readonly"):
        with desk_station.sessions() as session:
            desk_station.record(
                session,
                EventKind.IDENTITY_CHECKED,
                {"participant_id": "READ-1", "document_type": "passport", "document_last4": "9999"},
                "ana",
            )
            session.commit()
    with desk_station.transaction() as session:  # the write path
        desk_station.record(
            session,
            EventKind.IDENTITY_CHECKED,
            {"participant_id": "READ-1", "document_type": "passport", "document_last4": "9999"},
            "ana",
        )


def test_raw_db_api_writes_inside_a_transaction_roll_back_with_it(desk_station):
    """The projections write through the DB-API connection itself (executemany): with pysqlite's
    own BEGIN switched off (store/db.py) they must still be part of the session's transaction."""
    from regdesk.store.models import Participant

    with pytest.raises(RuntimeError):
        with desk_station.transaction() as session:
            desk_station.record(
                session,
                EventKind.ACCREDITATION_IMPORTED,
                {
                    "revision": "2017-11-28T00:00:00Z",
                    "source": "test",
                    "withdrawn": [],
                    "rows": [participant_row("RAW-1", "Lauber", "Jürg")],
                },
                "test",
            )
            assert session.get(Participant, "RAW-1") is not None  # written by the raw projection path
            raise RuntimeError("the unit of work fails after the raw writes")
    with desk_station.sessions() as session:
        assert session.get(Participant, "RAW-1") is None
        assert (
            session.execute(
                select(func.count()).select_from(EventRow).where(EventRow.kind == EventKind.ACCREDITATION_IMPORTED)
            ).scalar_one()
            == 0
        )
