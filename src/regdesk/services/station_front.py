"""What the sign-in screen shows of a station, known before the station is opened.

Opening a station means importing SQLAlchemy and the ORM, reading keys and checking the folder:
about a second of a cold start on the reference box, before anything is on screen. `regdesk tui`
draws the sign-in screen from a StationFront instead and opens the station behind it while the
operator types (tui/app.py). The front is for display only: signing in, and everything after it,
waits for the opened station.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from regdesk.clock import Clock
from regdesk.config import ConfigError, EventConfig, load_event_config
from regdesk.domain import authority
from regdesk.services import preflight
from regdesk.store.queries import dbfile


@dataclass(frozen=True)
class StationFront:
    data_dir: Path
    config: EventConfig
    station_id: str
    name: str
    role: str
    clock: Clock
    settings: Mapping[str, str] = field(default_factory=dict)

    def setting(self, key: str, default: str = "") -> str:
        return self.settings.get(key, default)

    @property
    def root_fingerprint(self) -> str:
        from regdesk.domain import trust as certs

        return certs.fingerprint_label(self.settings.get("root_public_key", ""))


def read_front(data_dir: Path | str, clock: Clock) -> StationFront | None:
    """The front of the station in `data_dir`, or None when anything about the folder is unusual
    (missing, damaged, not a station, an unknown role): then the caller opens the station at once,
    and open_station says what is wrong in its own words."""
    data_dir = Path(data_dir)
    try:
        preflight.check_station_folder(data_dir)
        config = load_event_config(data_dir / "event.toml")
    except (preflight.StationUnusable, ConfigError, OSError):
        return None
    try:
        meta = dbfile.read_meta(data_dir / "station.db")
    except dbfile.DatabaseError:  # not a database, no meta table, busy: open_station will say
        return None
    if not meta or not meta.get("station_id") or meta.get("role") not in authority.STATION_ROLES:
        return None
    return StationFront(
        data_dir, config, meta["station_id"], meta.get("station_name", ""), meta["role"], clock, settings=meta
    )
