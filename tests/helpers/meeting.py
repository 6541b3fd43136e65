"""Test meetings: every station in a test belongs to one meeting, founded once per test folder
and enrolled the way a supervisor enrols a real station (provision → join file → join).

The meeting's founder is a hidden supervisor station holding the root key and a standard crew of
operators, so tests can record acts as "ana" (clerk), "sam" (security), "bruno" (marshal),
"maria" (supervisor) and the like.
"""

from __future__ import annotations

from pathlib import Path

from regdesk.clock import Clock
from regdesk.services import operators, provisioning
from regdesk.services.operators import OperatorSession
from regdesk.services.station import Station, found_meeting, open_station

ROOT = Path(__file__).resolve().parents[2]
EVENT_TOML = ROOT / "fixtures" / "event.toml"
ROOT_PASSPHRASE = "test meeting root passphrase"
SUPERVISOR = "maria"
SUPERVISOR_SECRET = "maria-test-passphrase-2017"
SUPERVISOR_SESSION = OperatorSession(SUPERVISOR, "supervisor")
# name -> (role, PIN or passphrase)
CREW: dict[str, tuple[str, str]] = {
    "ana": ("clerk", "1111"),
    "clerk": ("clerk", "1212"),
    "Carlos Clerk": ("clerk", "1357"),
    "bea": ("clerk", "2580"),
    "Ana Night": ("clerk", "2582"),
    "Ana Clerk": ("clerk", "2583"),
    "luis": ("clerk", "2586"),
    "ben": ("clerk", "2587"),
    "test": ("clerk", "2588"),
    "fuzz": ("clerk", "2584"),
    "t": ("clerk", "2585"),
    "carla": ("clerk", "2581"),
    "sam": ("security", "3333"),
    "guard": ("security", "3434"),
    "bruno": ("marshal", "4444"),
    "marshal": ("marshal", "4545"),
    "Maria Supervisor": ("supervisor", SUPERVISOR_SECRET),
}


def secret_of(name: str) -> str:
    return SUPERVISOR_SECRET if name == SUPERVISOR else CREW[name][1]


_FOUNDERS: dict[Path, Station] = {}  # open founder stations, by meeting folder
_MEETING_OF_ROOT: dict[str, Path] = {}  # root public key -> meeting folder (for copies of stations)
FOUNDER_FOLDER = "_meeting-founder"


def founder(base: Path, clock: Clock) -> Station:
    """The meeting of everything under `base` (one per test: tmp_path)."""
    base = Path(base)
    station = _FOUNDERS.get(base)
    if station is None:
        folder = base / FOUNDER_FOLDER
        if (folder / "station.db").exists():
            station = open_station(folder, clock=clock)
        else:
            station = found_meeting(
                folder,
                EVENT_TOML,
                root_passphrase=ROOT_PASSPHRASE,
                supervisor=SUPERVISOR,
                supervisor_secret=SUPERVISOR_SECRET,
                role="supervisor",
                name="Meeting founder",
                clock=clock,
            )
            for name, (role, secret) in CREW.items():
                operators.add_operator(station, name, role, secret, by=SUPERVISOR)
        _FOUNDERS[base] = station
        _MEETING_OF_ROOT[station.root_public_key] = base
    station.clock = clock
    return station


def enrol_beside(station: Station, folder: Path, *, role: str, name: str, clock: Clock) -> Station:
    """A new station in the meeting of `station` (also of a copy of a station made elsewhere)."""
    return enrol(_MEETING_OF_ROOT[station.root_public_key], folder, role=role, name=name, clock=clock)


def enrol(base: Path, folder: Path, *, role: str, name: str, clock: Clock) -> Station:
    """A station of the meeting under `base`, provisioned by its founder with a join file."""
    root = founder(base, clock)
    join_file = base / f".{folder.name}.join"
    provisioned = provisioning.provision(
        root, role=role, name=name, by=SUPERVISOR_SESSION, root_passphrase=ROOT_PASSPHRASE, out=join_file
    )
    result = provisioning.join_station(folder, code=provisioned.code, join_file=join_file, clock=clock)
    join_file.unlink()
    return result.station


def close_founders() -> None:
    for station in _FOUNDERS.values():
        station.close()
    _FOUNDERS.clear()


def init_station(
    data_dir: Path,
    event_path: Path = EVENT_TOML,
    *,
    role: str = "desk",
    name: str | None = None,
    clock: Clock | None = None,
) -> Station:
    """A station for a test: enrolled in the meeting of its folder's parent, or, for other event
    settings, founding a meeting of its own (a station of another meeting)."""
    from regdesk.clock import SystemClock

    clock = clock or SystemClock()
    data_dir = Path(data_dir)
    name = name or f"{role} {data_dir.name}"
    if Path(event_path).resolve() == EVENT_TOML.resolve():
        return enrol(data_dir.parent, data_dir, role=role, name=name, clock=clock)
    station = found_meeting(
        data_dir,
        event_path,
        root_passphrase=ROOT_PASSPHRASE,
        supervisor=SUPERVISOR,
        supervisor_secret=SUPERVISOR_SECRET,
        role=role,
        name=name,
        clock=clock,
    )
    for crew_name, (crew_role, secret) in CREW.items():
        if role in ("desk", "supervisor"):
            operators.add_operator(station, crew_name, crew_role, secret, by=SUPERVISOR)
    return station


def transfer(source: Station, target: Station, *, reverse: bool = False) -> int:
    """Everything `source` holds, merged into `target` through the verifying merge (what a bundle
    carried between them would do). Returns the number of events new to `target`."""
    from regdesk.services.merge import TrustContext, incoming_from_row, merge, summarise, travelling_rows
    from regdesk.services.station import seal_own_head

    seal_own_head(source)
    with source.sessions() as session:
        rows = travelling_rows(session)
    items = [incoming_from_row(row[1:]) for row in rows]
    if reverse:
        items.reverse()
    with target.transaction() as session:
        result = merge(
            session, items, TrustContext(target.config.code, target.root_public_key, target.station_id), strict=False
        )
    assert not result.rejected, summarise(result.rejected)
    return result.added_count


def exported_root_key(station: Station) -> Path:
    """The meeting's root key as a supervisor carries it (`regdesk root export`) to another station."""
    from regdesk.services import trust

    return trust.root_file(_MEETING_OF_ROOT[station.root_public_key] / FOUNDER_FOLDER)
