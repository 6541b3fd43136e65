"""The focal-point collection dialog at 80×24, driven with Pilot on the demo station (Benin: head
Clémence Gagné GCM17-000043, members GCM17-000044..47)."""

from __future__ import annotations

from desk_pilot import text_of, wait_until
from mrz_helpers import keys, passport
from sqlalchemy import select

from regdesk.services.station import Station
from regdesk.store.models import Badge, IdentityCheck
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.collection import CollectionDialog
from regdesk.tui.screens.desk import DeskScreen

SMALL = (80, 24)
HEAD = "GCM17-000043"
LETTER = "NV 045/2017"


def outcome(app) -> str:
    return text_of(app.screen, "#outcome") if isinstance(app.screen, DeskScreen) else ""


def held(station: Station) -> dict[str, Badge]:
    with station.sessions() as s:
        return {b.participant_id: b for b in s.execute(select(Badge)).scalars()}


async def open_dialog(pilot, query: str, name: str) -> CollectionDialog:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
    await pilot.press(*query)
    await wait_until(pilot, lambda: name in text_of(app.screen, "#detail-name"), f"{name}'s card")
    await pilot.press("ctrl+g")
    await wait_until(pilot, lambda: isinstance(app.screen, CollectionDialog), "the collection dialog")
    return app.screen


def fits(screen) -> bool:
    """Every field and button of the dialog is inside the 80×24 terminal."""
    for selector in ("#co-members", "#co-type", "#co-last4", "#co-auth", "#co-ok", "#co-cancel"):
        region = screen.query_one(selector).region
        if region.height < 1 or region.y < 0 or region.bottom > SMALL[1] or region.right > SMALL[0]:
            return False
    return True


async def test_the_head_collects_for_two_members_at_80x24(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        dialog = await open_dialog(pilot, "gagne", "Clémence Gagné")
        assert fits(dialog)
        assert "Collector: Clémence Gagné (GCM17-000043) · Benin 0/4, head not yet" in text_of(dialog, "#co-collector")
        await pilot.press("space", "down", "space", "down", "space")  # the head and the first two members
        await pilot.press("tab", "tab", *"4821", "enter", *LETTER, "enter")
        await wait_until(pilot, lambda: "Badges saved as one PDF" in outcome(app), "the batch printed")
        text = outcome(app)
        assert "COLLECTED BY Clémence Gagné for Benin (NV 045/2017):" in text
        assert text.count("✓") == 3 and "✗" not in text
        badges = held(station)
        assert badges[HEAD].collected_by == ""  # her own, in person
        members = [pid for pid, b in badges.items() if pid != HEAD]
        assert len(members) == 2 and all(
            badges[p].collected_by == HEAD and badges[p].authorisation == LETTER for p in members
        )
        with station.sessions() as s:
            [check] = s.execute(select(IdentityCheck)).scalars().all()
        assert (check.participant_id, check.document_last4) == (HEAD, "4821")


async def test_a_batch_that_breaks_one_plus_three_is_refused_member_by_member(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        await open_dialog(pilot, "richard loic", "Loïc Benoît Richard")
        await pilot.press("down", "space", "down", "space", "down", "space", "down", "space")  # four members
        await pilot.press("tab", "tab", *"4821", "enter", *LETTER, "enter")
        await wait_until(pilot, lambda: "NOT ISSUED" in outcome(app), "the refusal")
        text = outcome(app)
        lines = text.splitlines()
        assert sum(line.startswith("  ✓") for line in lines) == 3 and sum(line.startswith("  ✗") for line in lines) == 1
        assert "the last place is kept for the head of delegation (Clémence Gagné)" in text
        assert held(station) == {}


async def test_the_collectors_passport_read_into_the_dialog(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        dialog = await open_dialog(pilot, "gagne", "Clémence Gagné")
        await pilot.press("down", "space", "tab", "tab")
        await pilot.press(*keys(passport("GAGNE", "CLEMENCE", "BJ0045817", state="BEN")))
        await wait_until(pilot, lambda: "Read: Passport ····5817" in text_of(dialog, "#co-document"), "the read")
        assert dialog.query_one("#co-last4").value == "5817"
        await pilot.press(*LETTER, "enter")
        await wait_until(pilot, lambda: "Badges saved as one PDF" in outcome(app), "the batch printed")
        with station.sessions() as s:
            [check] = s.execute(select(IdentityCheck)).scalars().all()
        assert check.document_last4 == "5817"
