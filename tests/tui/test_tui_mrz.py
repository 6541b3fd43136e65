"""A passport reader at the desk, driven with Pilot: its MRZ burst typed into the search box (key by
key, and all at once as a fast reader does), into the F2 dialog, and a damaged reading."""

from __future__ import annotations

import json

from desk_pilot import LAUBER, outcome, participant_id_of, text_of, wait_until
from mrz_helpers import TD3, keys, passport, typed
from scan_helpers import post_keys
from sqlalchemy import select

from regdesk.services.station import Station
from regdesk.store.models import EventRow, IdentityCheck
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.identity_check import IdentityCheckDialog
from regdesk.tui.screens.desk import DeskScreen

NUMBER = "X4821K7Q9"
LAUBER_PASSPORT = passport("LAUBER", "JUERG", NUMBER, state="CHE", expiry="251130")
SIZE = (140, 45)


def checks(station: Station) -> list[IdentityCheck]:
    with station.sessions() as s:
        return list(s.execute(select(IdentityCheck)).scalars())


def no_full_number_anywhere(station: Station, app) -> None:
    data = b"".join(p.read_bytes() for p in station.data_dir.rglob("*") if p.is_file())
    assert NUMBER.encode() not in data and NUMBER[:5].encode() not in data
    screen = app.screen
    assert NUMBER not in screen.query_one("#search").value
    assert NUMBER not in outcome(app)


async def test_a_passport_burst_in_the_search_box_selects_the_holder_and_records_last4(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        await pilot.press(*keys(LAUBER_PASSPORT))
        await wait_until(pilot, lambda: "PASSPORT READ · Identity checked" in outcome(app), "the check recorded")
        await wait_until(pilot, lambda: LAUBER in text_of(app.screen, "#detail-name"), "Lauber's card")
        assert app.screen.selected_id == participant_id_of(station, "Lauber", "Jürg")
        assert app.screen.query_one("#search").value == "GCM17-000361"  # the person, never the MRZ
        text = outcome(app)
        assert "Passport ····K7Q9 · LAUBER, JUERG · Switzerland · valid until 30 Nov 2025" in text
        assert "F3 to issue" in text and "WARNING" not in text
        [check] = checks(station)
        assert (check.participant_id, check.document_type, check.document_last4) == ("GCM17-000361", "passport", "K7Q9")
        no_full_number_anywhere(station, app)
        # The next key acts on the selected person: F3 issues the badge the check allows.
        await pilot.press("f3")
        await wait_until(pilot, lambda: "ISSUED" in outcome(app), "badge issued")


async def test_a_reader_that_types_faster_than_the_screen_reads(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        post_keys(app, typed(passport("GOMEZ CAMACHO", "JUAN JOSE", "G98765432", state="MEX")))
        await wait_until(pilot, lambda: "PASSPORT READ · Identity checked" in outcome(app), "the check recorded")
        await wait_until(pilot, lambda: "Gómez Camacho" in text_of(app.screen, "#detail-name"), "the card")
        assert [c.document_last4 for c in checks(station)] == ["5432"]


async def test_a_damaged_reading_names_the_line_and_records_nothing(station):
    damaged = (
        LAUBER_PASSPORT[0],
        LAUBER_PASSPORT[1][:9] + ("1" if LAUBER_PASSPORT[1][9] != "1" else "2") + LAUBER_PASSPORT[1][10:],
    )
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        await pilot.press(*keys(damaged))
        await wait_until(pilot, lambda: "PASSPORT NOT READ" in outcome(app), "the refusal")
        assert "line 2, document number: the check digit does not match" in outcome(app)
        assert checks(station) == [] and app.screen.query_one("#search").value == ""
        no_full_number_anywhere(station, app)


async def test_nobody_of_that_name_then_f2_uses_the_passport_and_warns(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        await pilot.press(*keys(TD3))  # the ICAO specimen: Anna Maria Eriksson of Utopia, expired 2012
        await wait_until(pilot, lambda: "PASSPORT READ: Passport ····02C3" in outcome(app), "the read")
        assert "name agrees exactly with ERIKSSON, ANNA MARIA" in outcome(app)  # similar names only
        assert "EXPIRED 15 Apr 2012" in outcome(app) and "then F2" in outcome(app) and checks(station) == []
        await pilot.press(*"lauber")
        await wait_until(pilot, lambda: LAUBER in text_of(app.screen, "#detail-name"), "Lauber's card")
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentityCheckDialog), "the dialog")
        assert "From the passport reader: Passport ····02C3" in text_of(app.screen, "#id-document")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "WARNING: The document EXPIRED" in outcome(app), "the warnings")
        assert "does not match the accreditation" in outcome(app)
        [check] = checks(station)
        assert check.document_last4 == "02C3"
        with station.sessions() as s:
            payload = json.loads(
                s.execute(select(EventRow.payload).where(EventRow.kind == "identity_checked")).scalar_one()
            )
        assert (payload["read_by"], payload["expired"], payload["name_matches"]) == ("mrz", True, False)


async def test_a_passport_read_into_the_f2_dialog_fills_and_records_the_check(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        await pilot.press(*"lauber")
        await wait_until(pilot, lambda: LAUBER in text_of(app.screen, "#detail-name"), "Lauber's card")
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentityCheckDialog), "the dialog")
        await pilot.press(*keys(LAUBER_PASSPORT))
        await wait_until(pilot, lambda: "PASSPORT READ · Identity checked" in outcome(app), "the check recorded")
        assert [c.document_last4 for c in checks(station)] == ["K7Q9"]
        no_full_number_anywhere(station, app)
