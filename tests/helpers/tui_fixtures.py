"""Fixtures of the TUI tests (a pytest plugin, named in tests/conftest.py): the demo station each desk
test works on, and what keeps a snapshot's pixels the same from run to run."""

from __future__ import annotations

import hashlib
import itertools
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from scan_helpers import prepared_desk
from snapshot_steps import BADGE_FOLDER
from textual.widgets import Input

from conftest import local
from regdesk.clock import FixedClock
from regdesk.domain import token as tokens
from regdesk.services import desk
from regdesk.services.demo import build_demo_station
from regdesk.services.station import Station, open_station


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    """Build the demo station once per module; every test works on its own copy."""
    path = tmp_path_factory.mktemp("template") / "demo"
    build_demo_station(path, clock=FixedClock(local("2017-12-01T13:05"))).close()
    return path


@pytest.fixture
def station(demo_template: Path, tmp_path: Path, clock: FixedClock) -> Station:
    """A copy of the demo station (bundled event, 900 participants) on the test's clock."""
    shutil.copytree(demo_template, tmp_path / "demo")
    st = open_station(tmp_path / "demo", clock=clock)
    yield st
    st.close()


# --- snapshots: the same pixels on every run ------------------------------------------------------------


@pytest.fixture
def steady_pictures(monkeypatch):
    """Input cursors that do not blink, badge serials from a counter, badge PDFs in one fixed folder."""
    monkeypatch.setattr(Input, "cursor_blink", False)
    serials = (f"SNAP{a}{b}{c}{d}" for a, b, c, d in itertools.product("ABCDEFGH", repeat=4))
    monkeypatch.setattr(tokens, "new_serial", lambda: next(serials))
    BADGE_FOLDER.mkdir(exist_ok=True)
    monkeypatch.setattr(Station, "output_dir", property(lambda self: BADGE_FOLDER))


@pytest.fixture
def fixed_root_key(station: Station) -> None:
    """The meeting's root is made afresh with each demo build: the picture shows a fixed one."""
    station.settings["root_public_key"] = "a" * 64


@pytest.fixture
def fixed_randomness(monkeypatch):
    """Badge serials and signing keys from counters: the same pixels on every run."""
    serials = itertools.count(1)
    keys = itertools.count(1)
    monkeypatch.setattr(tokens, "new_serial", lambda: tokens._b32(next(serials).to_bytes(tokens.SERIAL_BYTES, "big")))
    monkeypatch.setattr(
        tokens,
        "generate_signing_key",
        lambda: Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"snapshot key {next(keys)}".encode()).digest()),
    )


@pytest.fixture
def scene(tmp_path, desk_station, clock: FixedClock):
    """A desk that issued badges (CH-1's replaced: its first badge is revoked), then the lanes."""
    badges = prepared_desk(desk_station)
    old_ch1 = badges["CH-1"]
    clock.advance(minutes=30)  # lost within half an hour: a new ID check, a new badge
    desk.record_identity_check(desk_station, "CH-1", "passport", "X1234567", "ana")
    badges["CH-1"] = desk.issue_badge(desk_station, "CH-1", operator="ana", replace=True)
    badges["CH-1 old"] = old_ch1
    return {"badges": badges, "tmp": tmp_path, "desk": desk_station, "clock": clock}
