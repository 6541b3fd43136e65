"""The sync indicator and background auto-sync, driven with Textual's Pilot."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pg_fixtures import hub_url  # noqa: F401 - fixture
from sync_helpers import event_count, issue, make_station, meeting_morning, seed, westin  # noqa: F401 (fixtures)
from textual.app import App, ComposeResult
from textual.containers import Horizontal

from regdesk.clock import FixedClock
from regdesk.services import sync
from regdesk.tui.widgets.sync_status import SyncStatusWidget


class Shell(App):
    """Just a status-bar slot, as the real StatusBar provides it."""

    def __init__(self, station) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.station = station

    def compose(self) -> ComposeResult:
        yield Horizontal(SyncStatusWidget(), id="sync-status")


@pytest.fixture
def clock(meeting_morning) -> FixedClock:
    return meeting_morning


async def wait_until(pilot, condition: Callable[[], bool], what: str, *, all_workers: bool = True) -> None:
    for _ in range(400):
        if all_workers:
            await pilot.app.workers.wait_for_complete()  # must return: no auto-sync worker lives forever
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError(f"timed out waiting for: {what}")


def shown(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.query_one(SyncStatusWidget).render())


async def test_without_a_hub_the_indicator_says_so(westin):
    app = Shell(westin)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: "no hub" in shown(app), "no-hub indicator")
        assert "OFFLINE" not in shown(app)


@pytest.mark.pg
async def test_background_sync_goes_online_and_sends_new_events(westin, hub_url, clock):  # noqa: F811
    westin.set_setting(sync.SETTING_HUB_URL, hub_url)
    app = Shell(westin)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: "online" in shown(app), "online indicator")
        assert "synced 08:30" in shown(app) and "0 waiting" in shown(app)
        issue(westin, "CH-1")  # while the app runs: the desk never waits for the hub
        clock.advance(minutes=5)
        await pilot.click(SyncStatusWidget)  # sync now
        await wait_until(pilot, lambda: "synced 08:35" in shown(app), "second sync")
        assert "0 waiting" in shown(app)
    with sync.Hub(hub_url) as hub:
        assert hub.event_count() == event_count(westin)


@pytest.mark.pg
async def test_unreachable_hub_shows_offline_with_events_waiting(westin):
    westin.set_setting(sync.SETTING_HUB_URL, "postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    app = Shell(westin)
    async with app.run_test() as pilot:
        await wait_until(pilot, lambda: "OFFLINE" in shown(app), "offline indicator")
        assert f"{event_count(westin)} waiting" in shown(app)
        assert "last sync never" in shown(app)
        assert "not reachable" in str(app.query_one(SyncStatusWidget).tooltip)


async def test_the_real_status_bar_carries_the_indicator(tmp_path, clock):
    from regdesk.tui.app import make_app

    station = make_station(tmp_path, "ICC main", "security", clock)
    try:
        app = make_app(station, operator="guard")
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_until(
                pilot,
                lambda: bool(app.screen.query("#sync-status SyncStatusWidget")),
                "indicator in the status bar",
                all_workers=False,
            )  # the scan screen keeps a worker
            widget = app.screen.query_one("#sync-status SyncStatusWidget")
            await wait_until(pilot, lambda: "no hub" in str(widget.render()), "no-hub text", all_workers=False)
    finally:
        station.close()
