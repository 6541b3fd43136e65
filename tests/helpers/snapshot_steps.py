"""What the snapshot tests do before the picture is taken: the steps on the desk (search, press a key
and wait for its outcome) and on a scan lane (wait for the lane, scan badges), each waiting until the
screen is settled, photos included, so that the picture is the same on every run."""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from desk_pilot import text_of, wait_until
from scan_helpers import photo_state, photos_settled, post_keys, scan_station, wait_for
from textual.widgets import Input

from conftest import EVENT_TOML, local
from regdesk.services.station import Station
from regdesk.tui.app import make_app
from regdesk.tui.screens.desk import DeskScreen
from regdesk.tui.screens.scan_base import ScanScreen
from regdesk.tui.widgets.photo import PhotoView

SIZES = pytest.mark.parametrize("size", [(80, 24), (140, 45)], ids=["80x24", "140x45"])
BADGE_FOLDER = Path(tempfile.gettempdir()) / "regdesk-snapshot-badges"

Step = Callable[..., Awaitable[None]]


# --- the desk ------------------------------------------------------------------------------------------


def desk_app(station: Station, operator: str = "ana"):
    return make_app(station, operator=operator)


def steps(*actions: Step) -> Callable:
    async def run(pilot) -> None:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, DeskScreen), "desk screen")
        for action in actions:
            await action(pilot)
        await wait_until(pilot, lambda: photos_settled(pilot.app), "the photo drawn")
        await pilot.pause(0.2)

    return run


def search(query: str, expect: str) -> Callable:
    async def run(pilot) -> None:
        await pilot.press(*query)
        await wait_until(pilot, lambda: expect in text_of(pilot.app.screen, "#detail-name"), f"{expect}'s card")

    return run


def press_until(key: str, done: Callable[[object], bool], what: str) -> Callable:
    async def run(pilot) -> None:
        await pilot.press(key)
        await wait_until(pilot, lambda: done(pilot.app), what)

    return run


def outcome_says(words: str) -> Callable[[object], bool]:
    def check(app) -> bool:
        screen = app.screen
        return isinstance(screen, DeskScreen) and words in text_of(screen, "#outcome")

    return check


# --- the scan lanes ------------------------------------------------------------------------------------


def lane(scene, role: str, name: str, when: str, event_path=EVENT_TOML) -> Station:
    station = scan_station(scene["tmp"], scene["desk"], scene["clock"], role, name, event_path)
    scene["clock"].set(local(when))
    return station


def still(app) -> None:
    """No blinking cursor, verdicts that stay: a screenshot taken now or a second later is the same."""
    for field in app.screen.query(Input):
        field.cursor_blink = False
    for screen in app.screen_stack:
        if isinstance(screen, ScanScreen):
            screen.hold_seconds = 3600


def runner(*steps: Step) -> Callable[..., Awaitable[None]]:
    async def run_before(pilot) -> None:
        for step in steps:
            await step(pilot)
        await wait_for(
            pilot, lambda: photos_settled(pilot.app), "the photos drawn", state=lambda: photo_state(pilot.app)
        )
        await pilot.pause()
        still(pilot.app)
        await pilot.pause()

    return run_before


def ready(cls) -> Step:
    async def step(pilot) -> None:
        app = pilot.app
        await wait_for(
            pilot, lambda: isinstance(app.screen, cls) and getattr(app.screen, "scanner_info", True), cls.__name__
        )
        still(app)

    return step


def scan(badge_tokens: list[str]) -> Step:
    async def step(pilot) -> None:
        screen = pilot.app.screen
        before = len(screen.results)
        for code in badge_tokens:
            post_keys(pilot.app, code + "\r")
            await wait_for(pilot, lambda n=before + 1: len(screen.results) >= n, "the verdict")
            before += 1
        # The holder's photo is read after the verdict is painted: wait for it (same pixels every run).
        await wait_for(pilot, lambda: not screen.query_one(PhotoView).photo_pending, "the photo")

    return step
