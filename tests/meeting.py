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
from regdesk.services.station import Station, found_meeting

ROOT = Path(__file__).resolve().parents[1]
EVENT_TOML = ROOT / "fixtures" / "event.toml"
ROOT_PASSPHRASE = "test meeting root passphrase"
SUPERVISOR = "maria"
SUPERVISOR_SECRET = "maria's test passphrase 2017"
SUPERVISOR_SESSION = OperatorSession(SUPERVISOR, "supervisor")
# name -> (role, PIN or passphrase)
CREW: dict[str, tuple[str, str]] = {
    "ana": ("clerk", "1111"),
    "clerk": ("clerk", "1212"),
    "Carlos Clerk": ("clerk", "1357"),
    "sam": ("security", "3333"),
    "guard": ("security", "3434"),
    "bruno": ("marshal", "4444"),
    "marshal": ("marshal", "4545"),
    "Maria Supervisor": ("supervisor", "second test supervisor passphrase"),
}


def secret_of(name: str) -> str:
    return SUPERVISOR_SECRET if name == SUPERVISOR else CREW[name][1]


_FOUNDERS: dict[Path, Station] = {}


def founder(base: Path, clock: Clock) -> Station:
    """The meeting of everything under `base` (one per test: tmp_path)."""
    base = Path(base)
    station = _FOUNDERS.get(base)
    if station is None or not (station.data_dir / "station.db").exists():
        station = found_meeting(base / "_meeting-founder", EVENT_TOML, root_passphrase=ROOT_PASSPHRASE,
                                supervisor=SUPERVISOR, supervisor_secret=SUPERVISOR_SECRET, role="supervisor",
                                name="Meeting founder", clock=clock)
        for name, (role, secret) in CREW.items():
            operators.add_operator(station, name, role, secret, by=SUPERVISOR)
        _FOUNDERS[base] = station
    station.clock = clock
    return station


def enrol(base: Path, folder: Path, *, role: str, name: str, clock: Clock) -> Station:
    """A station of the meeting under `base`, provisioned by its founder with a join file."""
    root = founder(base, clock)
    join_file = base / f".{folder.name}.join"
    provisioned = provisioning.provision(root, role=role, name=name, by=SUPERVISOR_SESSION,
                                         root_passphrase=ROOT_PASSPHRASE, out=join_file)
    result = provisioning.join_station(folder, code=provisioned.code, join_file=join_file, clock=clock)
    join_file.unlink()
    return result.station


def close_founders() -> None:
    for station in _FOUNDERS.values():
        station.close()
    _FOUNDERS.clear()
