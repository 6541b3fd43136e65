"""The demo station: the bundled Puerto Vallarta event, the 900-participant fixture and four operators.

Built in a sibling folder and moved into place only when complete, so an interrupted first run
never leaves a half-made station behind (the next run simply builds it again).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from regdesk.clock import Clock
from regdesk.config import bundled_event_path
from regdesk.errors import RegdeskError
from regdesk.services import operators
from regdesk.services.station import Station, StationError, found_meeting, open_station

DEMO_CLOCK = "2017-12-01T13:05"  # local: the collection window opened five minutes ago
DEMO_STATION_NAME = "Westin desk 1"


@dataclass(frozen=True)
class DemoOperator:
    name: str
    role: str
    pin: str


DEMO_OPERATORS = (
    DemoOperator("ana", "clerk", "1111"),
    DemoOperator("maria", "supervisor", "puerto vallarta 2017"),  # supervisors use passphrases
    DemoOperator("sam", "security", "3333"),
    DemoOperator("bruno", "marshal", "4444"),
)
DEMO_SUPERVISOR = "maria"
# The demo meeting's root passphrase: a real meeting's is chosen by its supervisors and kept safe.
DEMO_ROOT_PASSPHRASE = "demo root of the stocktaking meeting"


def demo_secret(name: str) -> str:
    return next(op.pin for op in DEMO_OPERATORS if op.name == name)


class DemoError(RegdeskError, RuntimeError):
    pass


def bundled_accreditation_path() -> Path:
    return bundled_event_path().parent / "accreditation.csv"


def is_demo_station(station: Station) -> bool:
    return station.setting("demo") == "1"


def build_demo_station(data_dir: Path | str, *, clock: Clock | None = None) -> Station:
    """Create the demo station in `data_dir` (which must not hold anything yet) and return it open."""
    from regdesk.services.accreditation import import_file  # the importer area owns CSV/XLSX parsing

    data_dir = Path(data_dir)
    if data_dir.exists() and any(data_dir.iterdir()):
        raise DemoError(f"{data_dir} is not empty and holds no station; choose another --data-dir")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.building-", dir=data_dir.parent))
    try:
        station = found_meeting(
            work_dir,
            bundled_event_path(),
            role="desk",
            name=DEMO_STATION_NAME,
            clock=clock,
            root_passphrase=DEMO_ROOT_PASSPHRASE,
            supervisor=DEMO_SUPERVISOR,
            supervisor_secret=demo_secret(DEMO_SUPERVISOR),
        )
        try:
            import_file(station, bundled_accreditation_path(), operator=DEMO_SUPERVISOR)
            add_demo_photos(station, work_dir / "photos")
            for op in DEMO_OPERATORS:
                if op.name != DEMO_SUPERVISOR:
                    operators.add_operator(station, op.name, op.role, op.pin, by=DEMO_SUPERVISOR)
            station.set_setting("demo", "1")
        finally:
            station.close()
        if data_dir.exists():
            data_dir.rmdir()  # empty (checked above); rename needs the name free
        work_dir.rename(data_dir)
    except BaseException:
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    return open_station(data_dir, clock=clock)


def demo_has_photo(accreditation_id: str) -> bool:
    """Most demo participants have a photo; one in fifty has none, to show what the desk and the
    scan points say then."""
    digits = "".join(ch for ch in accreditation_id if ch.isdigit())
    return not digits or int(digits) % 50 != 13


def add_demo_photos(station: Station, folder: Path) -> int:
    """Draw a synthetic photo for the demo's participants (services/avatar: shapes and colours
    from the accreditation id, never a real person), then import them the way a desk imports
    the UN's photos. Made at build time, nothing committed; the folder is removed afterwards."""
    from regdesk.render import avatar
    from regdesk.services import photos
    from regdesk.store.queries import photos as photo_queries

    with station.sessions() as session:
        ids = photo_queries.sorted_participant_ids(session)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        made = 0
        for aid in ids:
            if demo_has_photo(aid):
                (folder / f"{aid}.jpg").write_bytes(avatar.jpeg(aid, 200, 250))
                made += 1
        photos.import_photos(station, folder, operator=DEMO_SUPERVISOR)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return made


def open_or_build_demo(data_dir: Path | str, *, clock: Clock | None = None) -> tuple[Station, bool]:
    """(station, created). An existing station in `data_dir` is opened as it is, demo or not."""
    data_dir = Path(data_dir)
    if (data_dir / "station.db").exists():
        try:
            return open_station(data_dir, clock=clock), False
        except StationError as exc:
            raise DemoError(str(exc)) from None
    return build_demo_station(data_dir, clock=clock), True
