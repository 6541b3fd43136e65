"""Driving the desk with Pilot: wait for what the screen shows, read its fields, sign in, find a
participant, and the facts the tests check afterwards. Shared by the desk's Pilot and snapshot tests."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from regdesk.services import desk
from regdesk.services.demo import DEMO_OPERATORS
from regdesk.services.station import Station
from regdesk.store.models import EventRow, Participant
from regdesk.tui.screens.login import LoginScreen
from regdesk.tui.widgets.participant_table import ParticipantTable

LAUBER = "Jürg Lauber"


def demo_secret(name: str) -> str:
    """A demo operator's sign-in secret (never written out in tests: the supervisor's will change)."""
    return next(op.pin for op in DEMO_OPERATORS if op.name == name)


async def wait_until(pilot, condition: Callable[[], bool], what: str, tries: int = 400) -> None:
    """Let messages, timers and workers run until `condition` holds (fails after ~20 s)."""
    for _ in range(tries):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if condition():
            return
    outcome = pilot.app.screen.query("#outcome")
    shown = str(outcome.first().content) if outcome else type(pilot.app.screen).__name__
    raise AssertionError(f"timed out waiting for: {what} (outcome panel: {shown!r})")


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).content)


def table_names(screen) -> list[str]:
    table = screen.query_one("#results", ParticipantTable)
    return [str(table.get_cell_at((row, 0))) for row in range(table.row_count)]


def status_cell(screen, participant_id: str) -> str:
    return str(screen.query_one("#results", ParticipantTable).get_cell(participant_id, "status"))


def participant_id_of(station: Station, family: str, given: str) -> str:
    with station.sessions() as s:
        return s.execute(
            select(Participant.accreditation_id).where(
                Participant.family_name == family, Participant.given_names == given
            )
        ).scalar_one()


async def sign_in(pilot, name: str, pin: str) -> None:
    screen = pilot.app.screen
    assert isinstance(screen, LoginScreen)
    screen.query_one("#login-name").value = ""
    await pilot.click("#login-name")
    await pilot.press(*name, "enter", *pin, "enter")


async def find(pilot, query: str, expected_name: str) -> None:
    """Type a query; wait until its first result is selected and its card is on screen."""
    await pilot.press(*query)
    await wait_until(pilot, lambda: expected_name in table_names(pilot.app.screen), f"{expected_name} in results")
    await wait_until(
        pilot, lambda: expected_name in text_of(pilot.app.screen, "#detail-name"), f"{expected_name}'s card"
    )


async def select_lauber(pilot) -> None:
    await find(pilot, "lauber", LAUBER)


def events_of(station: Station, kind: str) -> list[EventRow]:
    with station.sessions() as s:
        return list(s.execute(select(EventRow).where(EventRow.kind == kind)).scalars())


def checked_lauber(station: Station) -> str:
    """Jürg Lauber's passport checked at the desk (last 4: 4821): he may be issued a badge."""
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    return lauber


def outcome(app) -> str:
    """The desk's outcome line, "" when the desk is not the screen shown."""
    from regdesk.tui.screens.desk import DeskScreen

    return text_of(app.screen, "#outcome") if isinstance(app.screen, DeskScreen) else ""
