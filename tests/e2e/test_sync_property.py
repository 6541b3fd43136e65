"""Property: whatever happens while stations are cut off, a full exchange makes them identical.

Four stations (two Westin desks, ICC security, Melia bus) do random work: accreditation imports,
identity checks and issues (duplicates and quota overruns across partitioned desks included),
replacements, scans with the real scanner, operator changes, conflict resolutions. Events travel
at random through the PostgreSQL hub (small chunks, interrupted pushes and pulls) and through
bundles (incremental or full, imported again and in any order). At the end every station pushes
and pulls once: all must hold the same set of event ids, lose nothing, and have identical
projection tables, equal to a rebuild of the log in recorded order.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from meeting import SUPERVISOR_SECRET, init_station
from pg_fixtures import hub_url  # noqa: F401 - fixture
from sqlalchemy import create_engine, select, text

from conftest import EVENT_TOML, local, participant_row
from regdesk.clock import FixedClock
from regdesk.domain import credentials
from regdesk.domain.events import EventKind, format_utc
from regdesk.services import bundles, conflicts, desk, integrity, sync
from regdesk.services.scanning import Scanner, ScanPoint
from regdesk.services.station import Station, open_station
from regdesk.store import projections
from regdesk.store.models import (
    Badge,
    EventRow,
    IdentityCheck,
    Operator,
    Override,
    Participant,
    PublicKey,
    Revocation,
    Scan,
)

pytestmark = [pytest.mark.pg, pytest.mark.slow]

STATIONS = (("desk", "Westin desk 1"), ("desk", "Westin desk 2"), ("security", "ICC main"), ("bus", "Melia bus"))
DESKS = (0, 1)
SUPERVISOR, SUPERVISOR_PIN = "Maria Supervisor", SUPERVISOR_SECRET
PIDS = ("CH-1", "CH-2", "CH-3", "NG-1", "NG-2", "NG-3")
EXPORTS = 3


def export_rows(revision_index: int) -> list[dict]:
    """Three successive UN exports: names corrected, one NGO participant withdrawn in the last."""
    rows = []
    for n in (1, 2, 3):
        rows.append(
            participant_row(f"CH-{n}", f"Muster{n}" + "e" * revision_index, "Hans", role="head" if n == 1 else "member")
        )
        rows.append(
            participant_row(
                f"NG-{n}",
                f"Okafor{n}",
                "Ada" + "h" * revision_index,
                category="NGO",
                delegation="Migrant Voices Network",
                status="withdrawn" if (n == 3 and revision_index == 2) else "accredited",
            )
        )
    return rows


# --- operations ----------------------------------------------------------------------------------

station_index = st.integers(0, len(STATIONS) - 1)
desk_index = st.sampled_from(DESKS)
chunk = st.sampled_from([1, 3, 2000])
stop_after = st.one_of(st.none(), st.integers(1, 3))

operations = st.one_of(
    st.tuples(st.just("import"), desk_index, st.integers(0, EXPORTS - 1)),
    st.tuples(st.just("issue"), desk_index, st.sampled_from(PIDS), st.booleans(), st.booleans()),
    st.tuples(st.just("scan"), st.sampled_from((2, 3)), st.integers(0, 50)),
    st.tuples(st.just("resolve"), desk_index, st.integers(0, 50)),
    st.tuples(
        st.just("operator"),
        station_index,
        st.sampled_from(["Ana", "Ben"]),
        st.sampled_from(["1234", "5678"]),
        st.sampled_from(["clerk", "security"]),
    ),
    st.tuples(st.just("clock"), station_index, st.sampled_from([0, 1, 7, 90])),
    st.tuples(st.just("push"), station_index, chunk, stop_after),
    st.tuples(st.just("pull"), station_index, chunk, stop_after),
    st.tuples(st.just("export"), station_index, st.booleans()),
    st.tuples(st.just("import_bundle"), station_index, st.integers(0, 50)),
)


class World:
    def __init__(self, template: Path, workdir: Path, hub: sync.Hub, pin_hashes: dict[str, str]) -> None:
        self.workdir = workdir
        self.hub = hub
        self.stations: list[Station] = []
        for i in range(len(STATIONS)):
            shutil.copytree(template / f"s{i}", workdir / f"s{i}")
            self.stations.append(open_station(workdir / f"s{i}", clock=FixedClock(local("2017-12-04T08:30"))))
        self.pin_hashes = pin_hashes  # every station knows the supervisor from the start (the meeting's crew)
        self.scanners: dict[int, Scanner] = {}
        self.tokens: list[str] = []
        self.bundles: list[Path] = []
        self.last_export: dict[int, int] = {}

    def close(self) -> None:
        for station in self.stations:
            station.close()

    def stopper(self, limit: int | None):  # type: ignore[no-untyped-def]
        calls = {"n": 0}

        def should_stop() -> bool:
            calls["n"] += 1
            return limit is not None and calls["n"] > limit

        return should_stop

    def run(self, op: tuple) -> None:  # noqa: C901 - one branch per operation
        name, *args = op
        if name == "import":
            i, rev = args
            station = self.stations[i]
            # As services/accreditation does: the revision is the import time, so two desks importing
            # different exports at the same instant tie on revision.
            with station.transaction() as session:
                station.record(
                    session,
                    EventKind.ACCREDITATION_IMPORTED,
                    {
                        "revision": format_utc(station.clock.now()),
                        "source": f"export-{rev}.csv",
                        "rows": export_rows(rev),
                    },
                    "clerk",
                )
        elif name == "issue":
            i, pid, replace, override = args
            station = self.stations[i]
            try:
                desk.record_identity_check(station, pid, "passport", "X1234567", "clerk")
                request = desk.OverrideRequest(SUPERVISOR, SUPERVISOR_PIN, "approved") if override else None
                badge = desk.issue_badge(station, pid, operator="clerk", replace=replace, override=request)
                self.tokens.append(badge.token)
            except desk.DeskError:
                pass  # unknown participant here yet, refused by policy: both are fine
        elif name == "scan":
            i, pick = args
            station = self.stations[i]
            if i not in self.scanners:
                point = (
                    ScanPoint("security", "ICC-MAIN")
                    if station.role == "security"
                    else ScanPoint("bus", "MEL", "to_icc")
                )
                self.scanners[i] = Scanner(station, "guard" if station.role == "security" else "marshal", point)
            self.scanners[i].scan(self.tokens[pick % len(self.tokens)] if self.tokens else "NOT-A-BADGE")
        elif name == "resolve":
            i, pick = args
            station = self.stations[i]
            found = conflicts.list_conflicts(station)
            if found:
                conflict = found[pick % len(found)]
                keep = conflict.serials[pick % len(conflict.serials)]
                conflicts.resolve(station, conflict.key, reason="checked passports", operator=SUPERVISOR, keep=[keep])
        elif name == "operator":
            i, who, pin, role = args
            station = self.stations[i]
            if station.role == "desk":  # a supervisor manages operators at a desk, never at a scan point
                with station.transaction() as session:
                    station.record(
                        session,
                        EventKind.OPERATOR_ADDED,
                        {"name": who, "role": role, "pin_hash": self.pin_hashes[pin]},
                        SUPERVISOR,
                    )
        elif name == "clock":
            i, minutes = args
            self.stations[i].clock.advance(minutes=minutes)  # type: ignore[attr-defined]
        elif name == "push":
            i, size, limit = args
            sync.push(self.stations[i], self.hub, chunk_size=size, should_stop=self.stopper(limit))
        elif name == "pull":
            i, size, limit = args
            sync.pull(self.stations[i], self.hub, chunk_size=size, should_stop=self.stopper(limit))
        elif name == "export":
            i, incremental = args
            since = self.last_export.get(i) if incremental else None
            path = self.workdir / f"bundle-{len(self.bundles)}.rdb"
            result = bundles.export_bundle(self.stations[i], path, since=since)
            self.last_export[i] = result.through_local_order
            self.bundles.append(path)
        elif name == "import_bundle":
            i, pick = args
            if self.bundles:
                try:
                    bundles.import_bundle(self.stations[i], self.bundles[pick % len(self.bundles)])
                except bundles.BundleError as exc:  # an incremental bundle whose start is not here yet
                    assert "cannot be verified" in str(exc), exc

    def full_exchange(self) -> None:
        for station in self.stations:
            sync.push(station, self.hub)
        for station in self.stations:
            sync.pull(station, self.hub)


def event_ids(station: Station) -> set[str]:
    with station.sessions() as session:
        return set(session.execute(select(EventRow.id)).scalars())


def tally_counts_models() -> tuple[type, ...]:
    from regdesk.store.projections import tally_counts

    return tuple(
        obj
        for obj in vars(tally_counts).values()
        if isinstance(obj, type) and getattr(obj, "__tablename__", "").startswith("tally_")
    )


def own_event_ids(station: Station) -> set[str]:
    with station.sessions() as session:
        return set(session.execute(select(EventRow.id).where(EventRow.station_id == station.station_id)).scalars())


# Every projection, the supervisor's tally counters included: they too must not depend on delivery order.
COMPARED = (Participant, Badge, Revocation, Scan, PublicKey, Override, IdentityCheck, Operator, *tally_counts_models())


def projection_snapshot(station: Station) -> dict[str, list[tuple]]:
    compared_columns = integrity.projection_columns()  # surrogate keys differ between stations
    snapshot = {}
    with station.sessions() as session:
        for model in COMPARED:
            table = model.__table__
            rows = session.execute(select(*(table.c[name] for name in compared_columns[table.name]))).all()
            snapshot[table.name] = sorted(tuple(str(v) for v in row) for row in rows)
    return snapshot


@pytest.fixture
def pin_hashes() -> dict[str, str]:
    return {pin: credentials.hash_secret(pin, "clerk") for pin in ("1234", "5678")}


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """Four fresh stations made once; each example works on copies."""
    base = tmp_path_factory.mktemp("templates")
    for i, (role, name) in enumerate(STATIONS):
        init_station(
            base / f"s{i}", EVENT_TOML, role=role, name=name, clock=FixedClock(local("2017-12-01T13:05"))
        ).close()
    return base


def reset_hub(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS hub_events, hub_meta, hub_tickets"))
    engine.dispose()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(ops=st.lists(operations, min_size=5, max_size=45))
# Two desks import different exports at the same instant (equal revisions).
@example(ops=[("import", 0, 1), ("import", 1, 2)])
# The same operator changed on two partitioned stations at the same instant.
@example(ops=[("operator", 0, "Ana", "5678", "clerk"), ("operator", 1, "Ana", "1234", "security")])
# Two desks issue to the same person while partitioned, then both resolve the conflict differently.
@example(
    ops=[
        ("import", 0, 0),
        ("export", 0, False),
        ("import_bundle", 1, 0),
        ("issue", 0, "CH-1", False, False),
        ("issue", 1, "CH-1", False, False),
        ("push", 0, 2000, None),
        ("push", 1, 2000, None),
        ("pull", 0, 2000, None),
        ("pull", 1, 2000, None),
        ("clock", 1, 1),
        ("resolve", 0, 0),
        ("resolve", 1, 1),
        ("scan", 2, 0),
        ("scan", 2, 1),
    ]
)
# Both desks replace the same lost badge while partitioned: one serial, two revocations.
@example(
    ops=[
        ("import", 0, 0),
        ("export", 0, False),
        ("import_bundle", 1, 0),
        ("issue", 0, "CH-1", False, False),
        ("push", 0, 2000, None),
        ("pull", 1, 2000, None),
        ("clock", 0, 1),
        ("clock", 1, 7),
        ("issue", 0, "CH-1", True, False),
        ("issue", 1, "CH-1", True, False),
    ]
)
def test_any_partition_and_delivery_order_converges(ops, template, hub_url, pin_hashes):  # noqa: F811
    reset_hub(hub_url)
    with tempfile.TemporaryDirectory() as tmp, sync.Hub(hub_url) as hub:
        world = World(template, Path(tmp), hub, pin_hashes)
        try:
            for op in ops:
                world.run(op)
            recorded_anywhere = set().union(*(own_event_ids(s) for s in world.stations))
            world.full_exchange()

            reference = event_ids(world.stations[0])
            assert recorded_anywhere <= reference, "an event was lost"
            for station in world.stations[1:]:
                assert event_ids(station) == reference, f"{station.name} holds a different set of events"
            assert hub.event_count() == len(reference)

            snapshots = [projection_snapshot(s) for s in world.stations]
            for station, snap in zip(world.stations[1:], snapshots[1:], strict=True):
                for table, rows in snapshots[0].items():
                    assert snap[table] == rows, f"{table} differs between {world.stations[0].name} and {station.name}"

            # Arrival order (incremental, batched) must give what a replay in recorded order gives.
            station = world.stations[2]
            with station.transaction() as session:
                projections.rebuild(session)
            assert projection_snapshot(station) == snapshots[2], "projections depend on arrival order"
        finally:
            world.close()
