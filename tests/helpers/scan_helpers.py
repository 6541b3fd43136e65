"""Shared by the scan-point, supervisor and snapshot tests: operators with the demo credentials, a desk
that issued a few badges, scan and supervisor stations that received them by sync, and waiting helpers.

Credentials always come from `regdesk.services.demo.DEMO_OPERATORS` (never literals): the supervisor's
demo credential becomes a passphrase."""

from __future__ import annotations

from pathlib import Path

from meeting import SUPERVISOR, transfer
from sync_helpers import make_station
from textual import events
from textual.keys import _character_to_key

from conftest import EVENT_TOML, participant_row, seed_participants
from regdesk.clock import FixedClock
from regdesk.services import desk, operators
from regdesk.services.demo import DEMO_OPERATORS
from regdesk.services.station import Station

PEOPLE = [
    participant_row("CH-1", "Muster", "Hans", delegation="Switzerland", role="head"),
    participant_row(
        "MX-1",
        "Gómez Camacho de la Fuente",
        "María Guadalupe Alejandra",
        category="HC",
        delegation="Mexico",
        role="head",
    ),
    participant_row("JP-1", "山田", "太郎", family_latin="Yamada", given_latin="Taro", delegation="Japan"),
    participant_row("NGO-7", "Okafor", "Ngozi", category="NGO", delegation="Migrant Forum"),
    participant_row("XX-W", "Gone", "Someone", delegation="Nowhere"),
]
TERMINATOR_KEYS = {"\r": "enter", "\n": "ctrl+j", "\t": "tab"}


def demo_operator(name: str):
    return next(op for op in DEMO_OPERATORS if op.name == name)


def demo_secret(name: str) -> str:
    """The demo credential (PIN or passphrase) of a demo operator."""
    return demo_operator(name).pin


def add_demo_operators(station: Station) -> None:
    """The demo crew's credentials on the test meeting (its supervisor `maria` sets them)."""
    for op in DEMO_OPERATORS:
        operators.add_operator(station, op.name, op.role, op.pin, by=SUPERVISOR)


def copy_log(source: Station, target: Station) -> None:
    """What a hub or a bundle does: every event of `source` lands in `target` (set union)."""
    transfer(source, target)


def issue_badges(station: Station, pids: list[str] | None = None) -> dict[str, desk.IssuedBadge]:
    issued = {}
    for pid in pids or [p["accreditation_id"] for p in PEOPLE]:
        desk.record_identity_check(station, pid, "passport", "X1234567", "ana")
        issued[pid] = desk.issue_badge(station, pid, operator="ana")
    return issued


def prepared_desk(station: Station) -> dict[str, desk.IssuedBadge]:
    """The desk of the `desk_station` fixture with PEOPLE, a badge each and the demo operators."""
    seed_participants(station, PEOPLE)
    add_photos(station, ("CH-1", "MX-1", "NGO-7"))  # JP-1 has none: the lanes and the desk say so
    badges = issue_badges(station)
    add_demo_operators(station)
    return badges


def add_photos(station: Station, ids) -> None:
    """Synthetic photos (drawn from the id, never a real person) imported as a desk imports them."""
    import tempfile

    from regdesk.render import avatar
    from regdesk.services import photos

    with tempfile.TemporaryDirectory() as folder:
        for pid in ids:
            (Path(folder) / f"{pid}.jpg").write_bytes(avatar.jpeg(pid))
        photos.import_photos(station, Path(folder), operator="maria")


def scan_station(
    base: Path, desk_station: Station, clock: FixedClock, role: str, name: str, event_path: Path = EVENT_TOML
) -> Station:
    """A security / bus / supervisor station that received everything the desk recorded."""
    station = make_station(base, name, role, clock, event_path)
    copy_log(desk_station, station)
    return station


def post_keys(app, text: str) -> None:
    """Every character as a key event, all queued at once, as a fast keyboard-wedge scanner does."""
    for ch in text:
        key = TERMINATOR_KEYS.get(ch) or _character_to_key(ch)
        app.post_message(events.Key(key, ch))


async def wait_for(pilot, condition, what: str, tries: int = 750, state=None) -> None:  # up to ~15 s on a loaded box
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what}" + (f": {state()}" if state else ""))


def photo_state(app) -> str:
    """What each photo slot on screen holds, for a timeout's message."""
    from regdesk.tui.widgets.photo import PhotoView

    parts = []
    for view in app.screen.query(PhotoView):
        images = [(i.display, i.image is not None, tuple(i.region)) for i in view.query(".photo-image")]
        workers = [(w.name, w.state.name) for w in app.screen.workers]
        parts.append(
            f"{view.id}: display={view.display} loading={view.photo_pending} for={view.shown_for} "
            f"region={tuple(view.region)} images={images} workers={workers}"
        )
    return "; ".join(parts)


def photos_settled(app) -> bool:
    """Every photo slot on screen has its photo (or its caption) and is laid out: a screenshot
    taken now is the one taken a second later."""
    from regdesk.tui.widgets.photo import PhotoView

    for view in app.screen.query(PhotoView):
        if not view.display:
            continue
        if view.photo_pending:
            return False
        for image in view.query(".photo-image"):
            if image.display and (image.region.height == 0 or image.region.width == 0):
                return False
    return True
