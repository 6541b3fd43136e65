"""Every full screen a station offers carries its own status bar (station, operator, clock):
no screen relies on the app to add one, so a new screen that forgets it fails here."""

from __future__ import annotations

import pytest
from meeting import enrol
from textual.screen import ModalScreen

from regdesk.domain import authority
from regdesk.tui.app import make_app
from regdesk.tui.screens.login import LoginScreen
from regdesk.tui.widgets.status_bar import StatusBar

SIZE = (100, 30)


async def settle(pilot, condition, tries: int = 200) -> None:
    for _ in range(tries):
        await pilot.pause(0.02)
        if condition():
            return
    raise AssertionError("condition never held")


@pytest.mark.parametrize("role", sorted(authority.START_SCREEN))
async def test_every_screen_of_a_station_shows_one_status_bar(role, tmp_path, clock):
    station = enrol(tmp_path, tmp_path / role, role=role, name=f"Test {role} post", clock=clock)
    try:
        modes = authority.screens_for(authority.OperatorRole.SUPERVISOR, role)
        assert modes, f"a supervisor has no screen at a {role} station"
        app = make_app(station, operator="Maria Supervisor")
        async with app.run_test(size=SIZE) as pilot:
            for mode in modes:
                await app.switch_mode(mode)
                await pilot.pause(0.1)
                # a dialog may open over it at once (the bus asks for its departure): look under it
                screen = [s for s in app.screen_stack if not isinstance(s, ModalScreen)][-1]
                await settle(pilot, lambda screen=screen: screen.is_attached)
                bars = screen.query(StatusBar)
                assert len(bars) == 1, f"the {mode} screen shows {len(bars)} status bars"
                station_text = str(bars.first().query_one("#status-station").render())
                assert f"Test {role} post" in station_text
                operator_text = str(bars.first().query_one("#status-operator").render())
                assert "Maria Supervisor" in operator_text, f"the {mode} screen does not name the operator"
    finally:
        station.close()


async def test_the_sign_in_screen_shows_the_station_before_anyone_signs_in(desk_station):
    app = make_app(desk_station)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, LoginScreen))
        bars = app.screen.query(StatusBar)
        assert len(bars) == 1
        assert "Westin desk 1" in str(bars.first().query_one("#status-station").render())
