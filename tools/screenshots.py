"""Regenerate the README's screenshots (SVG) of the main screens at 80×24: `make screenshots`.

Builds a throwaway meeting the way stations are really made (the demo desk, then security, bus and
supervisor stations joined from it with join files), records a little activity, and drives the real
app headless (App.run_test) into each state before saving a screenshot into docs/screens/.

    python tools/screenshots.py [--out docs/screens] [--size 80x24]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from textual.widgets import Input

from regdesk.clock import FixedClock
from regdesk.services import bundles, desk, lookup, provisioning, scanning
from regdesk.services.demo import DEMO_ROOT_PASSPHRASE, DEMO_SUPERVISOR, build_demo_station
from regdesk.services.operators import OperatorSession
from regdesk.services.station import Station
from regdesk.tui.app import make_app
from regdesk.tui.screens.bus import BusScreen
from regdesk.tui.screens.desk import DeskScreen
from regdesk.tui.screens.login import LoginScreen
from regdesk.tui.screens.security import SecurityScreen
from regdesk.tui.screens.supervisor import SupervisorScreen

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("America/Mexico_City")
COLLECTION = datetime(2017, 12, 1, 13, 5, tzinfo=ZONE)  # the window opened five minutes ago
MEETING_MORNING = datetime(2017, 12, 4, 8, 40, tzinfo=ZONE)  # day 1, screening and buses busy
BENIN_MEMBERS = ("Loïc Benoît Richard", "Hélène Françoise Durand", "Sébastien Noël Leroy")


def find_id(station: Station, name: str) -> str:
    hits = [h for h in lookup.search(station, name) if h.name == name]
    if not hits:
        raise SystemExit(f"screenshots: {name!r} is not in the demo participants")
    return hits[0].accreditation_id


def issue(station: Station, participant_id: str, operator: str = "ana") -> desk.IssuedBadge:
    desk.record_identity_check(station, participant_id, "passport", "X1234567", operator)
    badge = desk.issue_badge(station, participant_id, operator=operator)
    desk.print_badge(station, badge.serial, operator=operator)
    return badge


def join(desk_station: Station, folder: Path, role: str, name: str, clock: FixedClock) -> Station:
    """Enrol a station as a supervisor does: provision (root passphrase), then join with the code."""
    join_file = folder / f"{role}.join"
    made = provisioning.provision(
        desk_station,
        role=role,
        name=name,
        by=OperatorSession(DEMO_SUPERVISOR, "supervisor"),
        root_passphrase=DEMO_ROOT_PASSPHRASE,
        out=join_file,
    )
    return provisioning.join_station(folder / role, code=made.code, join_file=join_file, clock=clock).station


class Meeting:
    """The stations and the badges the screenshots show."""

    def __init__(self, folder: Path) -> None:
        self.desk_clock = FixedClock(COLLECTION)
        self.scan_clock = FixedClock(MEETING_MORNING)
        self.desk = build_demo_station(folder / "desk", clock=self.desk_clock)
        self.lauber = issue(self.desk, find_id(self.desk, "Jürg Lauber"))
        self.others = [
            issue(self.desk, h.accreditation_id)
            for h in lookup.search(self.desk, "switzerland")
            if h.accreditation_id != self.lauber.participant_id
        ]
        for member in BENIN_MEMBERS:  # three members of Benin: the fourth place is the head's
            issue(self.desk, find_id(self.desk, member))
        self.security = join(self.desk, folder, "security", "ICC main entrance", self.scan_clock)
        lane = scanning.Scanner(self.security, "sam", scanning.parse_point("security:ICC-MAIN", self.security.config))
        for badge in self.others:
            lane.scan(badge.token)
        self.bus = join(self.desk, folder, "bus", "Westin bus stop", self.scan_clock)
        scanning.configure_point(self.bus, scanning.parse_point("bus:WES:to_icc", self.bus.config))
        self.supervisor = join(self.desk, folder, "supervisor", "Registration supervisor", self.scan_clock)
        carried = folder / "security.bundle"
        bundles.export_bundle(self.security, carried)
        bundles.import_bundle(self.supervisor, carried)

    def close(self) -> None:
        for station in (self.desk, self.security, self.bus, self.supervisor):
            station.close()


async def wait_until(pilot, condition: Callable[[], bool], what: str, tries: int = 600) -> None:
    for _ in range(tries):
        await pilot.pause(0.05)
        if condition():
            return
    raise SystemExit(f"screenshots: timed out waiting for {what}")


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector).content)


async def shoot(
    station: Station,
    operator: str | None,
    name: str,
    out: Path,
    size: tuple[int, int],
    drive: Callable[..., Awaitable[None]],
) -> Path:
    app = make_app(station, operator=operator)
    async with app.run_test(size=size) as pilot:
        await drive(pilot)
        await pilot.pause(0.3)
        path = Path(app.save_screenshot(f"{name}.svg", str(out)))
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path


async def type_and_wait(pilot, query: str, name: str) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DeskScreen), "the desk")
    await pilot.press(*query)
    await wait_until(pilot, lambda: name in text(pilot.app.screen, "#detail-name"), f"{name}'s card")


async def run(out: Path, size: tuple[int, int]) -> None:
    Input.cursor_blink = False  # a steady cursor: every picture shows it the same way
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="regdesk-screens-") as tmp:
        meeting = Meeting(Path(tmp))
        try:

            async def sign_in(pilot) -> None:
                await wait_until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen), "the sign-in")
                await pilot.press(*"ana")

            async def participant(pilot) -> None:
                await type_and_wait(pilot, "gomez camacho", "Juan José Gómez Camacho")

            async def refusal(pilot) -> None:
                await type_and_wait(pilot, "jerome dubois", "Jérôme Dubois")
                await pilot.press("f2", *"7311", "enter")
                await wait_until(pilot, lambda: "Identity checked" in text(pilot.app.screen, "#outcome"), "the check")
                await pilot.press("f3")
                await wait_until(pilot, lambda: "NOT ISSUED" in text(pilot.app.screen, "#outcome"), "the refusal")

            async def security(pilot) -> None:
                app = pilot.app
                await wait_until(
                    pilot,
                    lambda: isinstance(app.screen, SecurityScreen) and app.screen.scanner_info,
                    "the security screen",
                )
                await pilot.press(*meeting.lauber.token, "enter")
                await wait_until(pilot, lambda: app.screen.results, "the verdict")

            async def bus(pilot) -> None:
                app = pilot.app
                await wait_until(
                    pilot, lambda: isinstance(app.screen, BusScreen) and app.screen.scanner_info, "the bus screen"
                )
                for badge in (meeting.others[0], meeting.lauber):
                    await pilot.press(*badge.token, "enter")
                await wait_until(pilot, lambda: len(app.screen.results) == 2, "two boardings")

            async def supervisor(pilot) -> None:
                await wait_until(pilot, lambda: isinstance(pilot.app.screen, SupervisorScreen), "the dashboard")
                await pilot.pause(1.0)  # the first refresh of the counters

            await shoot(meeting.desk, None, "sign-in", out, size, sign_in)
            await shoot(meeting.desk, "ana", "desk-participant", out, size, participant)
            await shoot(meeting.desk, "ana", "desk-refusal", out, size, refusal)
            await shoot(meeting.security, "sam", "security-verdict", out, size, security)
            await shoot(meeting.bus, "bruno", "bus", out, size, bus)
            await shoot(meeting.supervisor, "maria", "supervisor", out, size, supervisor)
        finally:
            meeting.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screens")
    parser.add_argument("--size", default="80x24", help="terminal size, columns x rows (default 80x24)")
    args = parser.parse_args(argv)
    columns, _, rows = args.size.partition("x")
    print(f"Screenshots at {columns}x{rows} into {args.out}:")
    asyncio.run(run(args.out, (int(columns), int(rows))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
