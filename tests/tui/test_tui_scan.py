"""Pilot tests of the security and bus scan screens, run inside the real app (make_app) after sign-in.

Scanner-speed input is simulated by posting every key event to the app without waiting between
them (Pilot.press waits after each key and would hide the ordering hazard of textual#6605)."""

from __future__ import annotations

import pytest
from meeting import SUPERVISOR_SECRET, enrol_beside, transfer
from scan_helpers import TERMINATOR_KEYS, post_keys, wait_for
from sqlalchemy import select
from textual import events
from textual.keys import _character_to_key

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk.services import desk, scanning
from regdesk.services.station import replace_event_config
from regdesk.store.models import EventRow, Scan
from regdesk.tui.app import make_app
from regdesk.tui.screens.bus import BusScreen
from regdesk.tui.screens.security import SecurityScreen
from regdesk.tui.widgets.scan_input import ScanInput
from regdesk.tui.widgets.verdict_panel import VerdictPanel

pytestmark = pytest.mark.xdist_group("tui_scan")


def sync(source, target) -> None:
    transfer(source, target)


@pytest.fixture
def badges(desk_station):
    seed_participants(
        desk_station,
        [
            participant_row("CH-1", "Muster", "Hans", delegation="Switzerland"),
            participant_row("JP-1", "山田", "太郎", family_latin="Yamada", given_latin="Taro", delegation="Japan"),
            participant_row("NGO-7", "Okafor", "Ngozi", category="NGO", delegation="Migrant Forum"),
        ],
    )
    issued = {}
    for pid in ("CH-1", "JP-1", "NGO-7"):
        desk.record_identity_check(desk_station, pid, "passport", "X1234567", "clerk")
        issued[pid] = desk.issue_badge(desk_station, pid, operator="clerk")
    return issued


def scan_station(tmp_path, desk_station, clock, role, event_path=EVENT_TOML):
    station = enrol_beside(desk_station, tmp_path / role, role=role, name=f"{role} 1", clock=clock)
    if event_path != EVENT_TOML:  # the same meeting, settings edited on this station (e.g. a smaller bus)
        replace_event_config(station, event_path.read_text())
    sync(desk_station, station)
    clock.set(local("2017-12-04T08:40"))
    return station


async def ready(pilot, cls):
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, cls) and app.screen.scanner_info, "the scan screen")
    return app.screen


def recorded(station) -> list[Scan]:
    with station.sessions() as s:
        return list(
            s.execute(
                select(Scan).join(EventRow, EventRow.id == Scan.event_id).order_by(EventRow.local_order)
            ).scalars()
        )


async def test_back_to_back_scans_at_scanner_speed_never_merge(tmp_path, desk_station, clock, badges):
    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        # Three scans in one burst, each with a different terminator, then a fourth with CR.
        burst = (
            badges["CH-1"].token
            + "\r"
            + "NOT-A-BADGE\n"
            + badges["JP-1"].token.lower()
            + "\t"
            + badges["NGO-7"].token
            + "\r"
        )
        post_keys(app, burst)
        await wait_for(pilot, lambda: len(screen.results) == 4, "four verdicts")
        assert [(str(r.outcome), r.serial) for r in screen.results] == [
            ("valid", badges["CH-1"].serial),
            ("denied", ""),
            ("valid", badges["JP-1"].serial),
            ("valid", badges["NGO-7"].serial),
        ]
        assert screen.results[1].raw == "NOT-A-BADGE"  # nothing from the neighbours leaked in
        assert isinstance(app.focused, ScanInput) and app.focused.value == ""  # Tab did not move focus
        panel = screen.query_one(VerdictPanel)
        assert panel.state == "valid" and "Okafor" in panel.view.name
    assert len(recorded(security)) == 4
    security.close()


async def test_denial_is_red_rings_the_bell_and_returns_to_ready(tmp_path, desk_station, clock, badges):
    security = scan_station(tmp_path, desk_station, clock, "security")
    clock.set(local("2017-12-07T09:00"))  # the day after the meeting
    app = make_app(security, operator="sam")
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        screen.hold_seconds = 2.0  # long enough to read the verdict on a loaded machine, short for the test
        post_keys(app, badges["CH-1"].token + "\r")
        await wait_for(pilot, lambda: screen.results, "the verdict")
        panel = screen.query_one(VerdictPanel)
        assert panel.state == "denied" and panel.has_class("-denied")
        assert "DENIED" not in panel.title_text and "█" in panel.title_text  # block letters, not plain text
        assert panel.view.reason == "Badge not valid today - not a meeting day"
        assert panel.view.name == "Hans Muster" and panel.view.category_name == "Member State"
        assert bells == [1]
        await wait_for(pilot, lambda: panel.state == "ready", "back to ready")
    security.close()


async def test_next_scan_replaces_the_verdict_and_repeat_is_shown_without_bell(tmp_path, desk_station, clock, badges):
    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        post_keys(app, badges["JP-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 1, "first verdict")
        post_keys(app, badges["JP-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 2, "second verdict")
        panel = screen.query_one(VerdictPanel)
        assert panel.state == "repeat" and "not counted" in panel.view.reason
        assert panel.view.name == "山田太郎" and panel.view.name_latin == "Yamada Taro"
        assert bells == []
    assert [(r.verdict, r.counted) for r in recorded(security)] == [("valid", True), ("repeat", False)]
    security.close()


async def test_scanner_without_suffix_is_submitted_after_an_idle_gap(tmp_path, desk_station, clock, badges):
    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        post_keys(app, "x")  # a stray key press is dropped, not recorded as a scan
        await pilot.pause(0.6)
        assert screen.query_one(ScanInput).value == "" and not screen.results
        post_keys(app, badges["CH-1"].token)
        await wait_for(pilot, lambda: screen.results, "idle-gap submit")
        assert screen.results[0].outcome == "valid"
    assert len(recorded(security)) == 1
    security.close()


async def test_manual_entry_by_name_with_supervisor_pin(tmp_path, desk_station, clock, badges):
    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 45)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.screen is not screen, "the manual entry dialog")
        dialog = app.screen
        await pilot.press(*"okafor")
        await wait_for(pilot, lambda: dialog.query_one("#me-results").option_count == 1, "search results")
        dialog.query_one("#me-supervisor").value = "maria"
        dialog.query_one("#me-pin").value = "1111"
        await pilot.click("#me-ok")
        await wait_for(pilot, lambda: "wrong" in str(dialog.query_one("#me-error").content), "PIN refusal")
        dialog.query_one("#me-pin").value = SUPERVISOR_SECRET
        # Textual ignores a click on a button still showing its previous press (0.2 s); a person
        # re-typing a PIN is slower than that, the test must wait for it.
        await wait_for(pilot, lambda: not dialog.query_one("#me-ok").has_class("-active"), "the button released")
        await pilot.click("#me-ok")
        await wait_for(pilot, lambda: screen.results, "the manual verdict")
        assert app.screen is screen and isinstance(app.focused, ScanInput)  # focus back on the scan input
        result = screen.results[0]
        assert result.manual and result.outcome == "valid" and result.holder.name == "Ngozi Okafor"
        assert screen.query_one(VerdictPanel).view.manual
    [row] = recorded(security)
    assert row.manual and row.participant_id == "NGO-7"
    security.close()


async def test_bus_screen_counts_heads_warns_at_capacity_and_closes_departures(tmp_path, desk_station, clock, badges):
    small_bus = tmp_path / "small_bus.toml"
    small_bus.write_text(EVENT_TOML.read_text().replace("bus_capacity = 45", "bus_capacity = 2"))
    bus = scan_station(tmp_path, desk_station, clock, "bus", small_bus)
    scanning.configure_point(bus, scanning.parse_point("bus:MEL:to_icc", bus.config))
    app = make_app(bus, operator="bruno")
    async with app.run_test(size=(120, 45)) as pilot:
        screen = await ready(pilot, BusScreen)
        assert "Melia" in str(screen.query_one("#point-line").content)

        await pilot.press("f3")  # bus number and time of this departure
        await wait_for(pilot, lambda: app.screen is not screen, "the departure dialog")
        app.screen.query_one("#dep-bus").value = "7"
        app.screen.query_one("#dep-time").value = "07:45"
        await pilot.click("#dep-ok")
        await wait_for(
            pilot, lambda: "Bus 7 at 07:45" in str(screen.query_one("#point-line").content), "the departure label"
        )

        post_keys(app, badges["CH-1"].token + "\r" + badges["JP-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 2, "two boardings")
        headcount = screen.query_one("#headcount")
        assert "2 / 2" in str(headcount.content) and headcount.has_class("-full")
        assert "BUS FULL" in str(headcount.content)

        await pilot.press("f4")
        await wait_for(pilot, lambda: app.screen is not screen, "the confirmation")
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: screen.headcount == 0, "the next departure")
        assert "Bus 8" in str(screen.query_one("#point-line").content)
        assert not screen.query_one("#headcount").has_class("-full")
        assert isinstance(app.focused, ScanInput)
    departures = {r.departure for r in recorded(bus)}
    assert len(departures) == 1 and next(iter(departures)).startswith("2017-12-04 07:45 bus 7")
    bus.close()


async def test_security_lane_can_move_to_another_checkpoint(tmp_path, desk_station, clock, badges):
    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        assert "ICC main entrance" in str(screen.query_one("#point-line").content)
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.screen is not screen, "the checkpoint dialog")
        app.screen.query_one("#cp-checkpoint").value = "ICC-SIDE"
        await pilot.click("#cp-ok")
        await wait_for(
            pilot, lambda: "side entrance" in str(screen.query_one("#point-line").content), "the new checkpoint"
        )
        assert isinstance(app.focused, ScanInput)
        post_keys(app, badges["CH-1"].token + "\r")
        await wait_for(pilot, lambda: screen.results, "the verdict")
    assert [r.point for r in recorded(security)] == ["ICC-SIDE"]
    assert security.setting(scanning.SETTING_POINT) == "security:ICC-SIDE"
    security.close()


async def test_each_verdict_is_painted_in_its_own_colours_scan_after_scan(tmp_path, desk_station, clock, badges):
    """The panel's colours change with every verdict, and the lines inside it take them on at once:
    white on green, then black on amber for a repeat, then white on purple for an unreadable code,
    then white on green again (never a line left in the previous verdict's colours)."""
    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        panel = screen.query_one(VerdictPanel)
        expected = [
            (badges["CH-1"].token, "valid", "#ffffff", "#0a7d2c"),
            (badges["CH-1"].token, "repeat", "#000000", "#b58900"),
            ("NOT-A-BADGE-AT-ALL", "denied", "#ffffff", "#b00020"),
            (badges["NGO-7"].token, "valid", "#ffffff", "#0a7d2c"),
        ]
        for n, (code, state, fg, bg) in enumerate(expected, start=1):
            post_keys(app, code + "\r")
            await wait_for(pilot, lambda n=n: len(screen.results) == n, f"verdict {n}")
            await pilot.pause()
            assert panel.state == state
            for line_id in ("title", "reason"):
                region = panel.line_region(line_id)
                assert region is not None, f"the {line_id} is not shown in full"
                painted = [
                    screen.get_style_at(x, y)
                    for y in range(region.y, region.bottom)
                    for x in range(region.x, region.right)
                ]
                glyphs = [s for s in painted if s.color is not None]
                assert glyphs, f"{line_id} painted nothing"
                assert {s.bgcolor.triplet.hex for s in painted if s.bgcolor} == {bg}, (state, line_id)
                assert {s.color.triplet.hex for s in glyphs} == {fg}, (state, line_id)
            # and the panel's own row between the headline and the reason (the headline's margin)
            gap_y = region_of_title(panel).bottom
            inner = panel.content_region
            around = {screen.get_style_at(x, gap_y).bgcolor.triplet.hex for x in range(inner.x, inner.right)}
            assert around == {bg}, (state, "panel")
    security.close()


def region_of_title(panel: VerdictPanel):
    region = panel.line_region("title")
    assert region is not None
    return region


async def test_a_scan_holds_back_syncing_until_its_verdict_is_shown(tmp_path, desk_station, clock, badges, monkeypatch):
    """From the scanner's Enter to the painted verdict, a sync in this station stands aside
    (services/give_way.py); right after, it goes on."""
    security = scan_station(tmp_path, desk_station, clock, "security")
    seen_while_scanning: list[bool] = []
    real_scan = scanning.Scanner.scan

    def scan(self, raw, *args, **kwargs):
        seen_while_scanning.append(security.give_way.busy)
        return real_scan(self, raw, *args, **kwargs)

    monkeypatch.setattr(scanning.Scanner, "scan", scan)
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        assert not security.give_way.busy
        for n, pid in enumerate(("CH-1", "JP-1"), start=1):
            post_keys(app, badges[pid].token + "\r")
            await wait_for(pilot, lambda n=n: len(screen.results) == n, f"verdict {n}")
            await wait_for(pilot, lambda: not security.give_way.busy, "the sync let go again")
    assert seen_while_scanning == [True, True]
    security.close()


def from_terminal(app, *keys: tuple[str, str | None]) -> None:
    """Keys as the terminal's driver hands them over (its input thread), all in one burst."""
    for key, char in keys:
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


def typed_keys(text: str) -> list[tuple[str, str | None]]:
    return [(TERMINATOR_KEYS.get(ch) or _character_to_key(ch), ch) for ch in text]


async def test_two_scans_in_one_burst_from_the_terminal_are_two_verdicts_in_order(
    tmp_path, desk_station, clock, badges
):
    """The terminal's keys reach the scan input without going through the app's queue one by one:
    two badges read back to back still make two scans, each recorded once, in the order read."""
    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        from_terminal(app, *typed_keys(badges["NGO-7"].token + "\r" + badges["CH-1"].token + "\r"))
        await wait_for(pilot, lambda: len(screen.results) == 2, "two verdicts")
        assert [r.holder.participant_id for r in screen.results] == ["NGO-7", "CH-1"]
        assert [str(r.outcome) for r in screen.results] == ["valid", "valid"]
        assert screen.query_one(ScanInput).value == ""
    assert [row.participant_id for row in recorded(security)] == ["NGO-7", "CH-1"]
    security.close()


async def test_keys_never_overtake_what_the_terminal_sent_before_them(tmp_path, desk_station, clock, badges):
    """A paste, then keys at once (a scanner set to send its code as a paste, then a person typing):
    the keys land after the pasted text, never before it. The paste used to be forwarded through the
    input's own queue while the keys went straight in, so the typed text came first."""
    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 45)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        scan_input = screen.query_one(ScanInput)
        scan_input.idle_submit = None  # the box is read below, not sent as a scan after a pause
        paste = events.Paste("PASTED-")
        paste.set_sender(app)
        app._driver.send_message(paste)
        from_terminal(app, *typed_keys("TYPED"))
        await wait_for(
            pilot,
            lambda: scan_input.scanned_text == "PASTED-TYPED",
            "both in the box, in order",
            state=lambda: scan_input.scanned_text,
        )
        from_terminal(app, *typed_keys("\r"))
        await wait_for(pilot, lambda: screen.results, "the verdict")
        assert str(screen.results[0].outcome) == "denied" and scan_input.value == ""
    security.close()


async def test_an_endless_burst_is_cut_to_the_longest_scan_and_answered_once(
    tmp_path, desk_station, clock, badges, monkeypatch
):
    """A device that types 5,000 characters and Enter (junk, or an attack on the lane): one DENIED
    verdict for the first MAX_SCAN_CHARS characters, as the box itself cuts what is typed into it."""
    from regdesk.tui.widgets.scan_input import MAX_SCAN_CHARS

    security = scan_station(tmp_path, desk_station, clock, "security")
    codes: list[str] = []
    real_scan = scanning.Scanner.scan

    def scan(self, raw, *args, **kwargs):
        codes.append(raw)
        return real_scan(self, raw, *args, **kwargs)

    monkeypatch.setattr(scanning.Scanner, "scan", scan)
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, SecurityScreen)
        from_terminal(app, *typed_keys("X" * 5000 + "\r"))
        await wait_for(pilot, lambda: screen.results, "the verdict")
        await pilot.pause(0.4)  # past the idle pause: nothing left over is sent as a second scan
        assert codes == ["X" * MAX_SCAN_CHARS]
        assert [str(r.outcome) for r in screen.results] == ["denied"]
        assert screen.query_one(ScanInput).value == ""
    security.close()


async def test_work_after_the_frame_still_runs_when_no_frame_comes(tmp_path, desk_station, clock, badges):
    # `after_painted` work (a photo read, a collector's pass) waits for the next frame written; when
    # none is written it runs after its time limit, and an earlier batch's limit does not run a
    # later batch before that batch's own frame or limit.
    from regdesk.tui.app import AFTER_PAINTED_LIMIT_S

    security = scan_station(tmp_path, desk_station, clock, "security")
    app = make_app(security, operator="sam")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, SecurityScreen)
        app._display = lambda screen, update: None  # no frame is written from now on
        ran: list[str] = []
        app.after_painted(lambda: ran.append("quiet"))
        await wait_for(pilot, lambda: ran == ["quiet"], "work with no frame, at its time limit")
        app.after_painted(lambda: ran.append("first"))
        app._run_after_painted()  # as the frame written after it does
        assert ran == ["quiet", "first"]
        await pilot.pause(AFTER_PAINTED_LIMIT_S * 0.6)
        app.after_painted(lambda: ran.append("second"))
        await pilot.pause(AFTER_PAINTED_LIMIT_S * 0.6)  # past the first batch's limit, not the second's
        assert ran == ["quiet", "first"]
        await wait_for(pilot, lambda: ran == ["quiet", "first", "second"], "the second batch, at its own limit")
    security.close()
