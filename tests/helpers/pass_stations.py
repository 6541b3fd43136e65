"""The temporary-pass tests' meeting: the Westin desk that prints the stock (with the sync helpers' people)
and the ICC screening that scans it. A pytest plugin (root conftest): the fixtures take the `clock` of the
module that asks for them."""

from __future__ import annotations

import pytest
from sync_helpers import make_station, seed

from regdesk.services import bundles
from regdesk.services.station import Station


@pytest.fixture
def westin(tmp_path, clock):
    station = make_station(tmp_path, "Westin desk 1", "desk", clock)
    seed(station)
    yield station
    station.close()


@pytest.fixture
def icc(tmp_path, clock):
    station = make_station(tmp_path, "ICC main", "security", clock)
    yield station
    station.close()


def sync(source: Station, target: Station, path) -> None:
    """`source`'s events to `target` by bundle."""
    bundles.export_bundle(source, path)
    bundles.import_bundle(target, path)
