"""Local backups of the station database, and how to restore one.

Backups
    `backup_now(station)` copies station.db with SQLite's online backup API (a consistent
    snapshot even while the station is recording, WAL contents included) into
    data_dir/backups/station-<UTC stamp>.db, checks the copy with PRAGMA integrity_check, and
    keeps the newest N (station setting "backup_keep", default 24). A copy is written under a
    temporary name and renamed only once verified, so a crash mid-backup never leaves a
    half file that looks like a backup. Each backup also carries the event settings (meta
    key "event_toml"), so it can rebuild a station on a new disk. Private signing keys are NOT
    in backups (they stay in keys/, owner-only).
    `BackupScheduler` runs `backup_now` every "backup_minutes" (default 15) on a thread.

Restore (documented procedure; `regdesk restore BACKUP_FILE` does steps 2-5)
    1. Stop the station (quit the TUI; no `regdesk` command running on this data dir).
       `restore` refuses while another process has station.db open, unless --force.
    2. The backup is verified (integrity_check, same event) before anything is touched.
    3. The current database is kept as station.db.before-restore (a consistent copy).
    4. The backup is copied into place as station.db (atomic rename; stale -wal/-shm removed).
    5. The restored station gets a NEW station id (its name stays). Events this station made
       after the backup may already be on other stations with the old id and their sequence
       numbers; a new id means new events can never collide with them. Those events, and
       everything other stations recorded, re-arrive by the next sync.
       A desk restored onto a disk without its key file gets a new signing key; badges signed
       by the old key keep verifying through the public key in the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from regdesk.clock import Clock
from regdesk.errors import RegdeskError
from regdesk.services.station import SIGNING_ROLES, Station
from regdesk.services.trust import STATION_KEY_FILE
from regdesk.store import files
from regdesk.store.queries import dbfile

log = logging.getLogger(__name__)

DEFAULT_KEEP = 24
DEFAULT_MINUTES = 15.0
_PREFIX, _SUFFIX = "station-", ".db"
_PARTIAL = ".partial-"


class BackupError(RegdeskError, RuntimeError):
    pass


def backups_dir(data_dir: Path) -> Path:
    return files.private_dir(Path(data_dir) / "backups")  # copies of personal data: owner only


def _copy_private(source: Path, dest: Path) -> None:
    with files.private_writer(dest) as out, open(source, "rb") as src:
        shutil.copyfileobj(src, out)


def integrity(path: Path) -> str:
    """PRAGMA integrity_check of an SQLite file: 'ok' or the problems found."""
    return dbfile.integrity_check(path)


def read_meta(path: Path) -> dict[str, str]:
    try:
        return dbfile.read_meta(path)
    except dbfile.DatabaseError as exc:
        raise BackupError(f"{path}: not a regdesk station database ({exc})") from None


def list_backups(data_dir: Path) -> list[Path]:
    """Finished backups, newest first (by when they were written)."""
    folder = Path(data_dir) / "backups"
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob(f"{_PREFIX}*{_SUFFIX}") if p.is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_partials(folder: Path) -> None:
    """Temp files of backups that were killed half-way (their process is gone)."""
    for partial in folder.glob(f"{_PARTIAL}*"):
        try:
            pid = int(partial.name[len(_PARTIAL) :].split("-", 1)[0])
        except ValueError:
            pid = -1
        if pid != os.getpid() and not _pid_alive(pid):
            partial.unlink(missing_ok=True)


def _final_name(folder: Path, moment: datetime) -> Path:
    stamp = moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    candidate = folder / f"{_PREFIX}{stamp}{_SUFFIX}"
    n = 2
    while candidate.exists():
        candidate = folder / f"{_PREFIX}{stamp}-{n}{_SUFFIX}"
        n += 1
    return candidate


def copy_database(source: Path, dest: Path, *, extra_meta: dict[str, str] | None = None) -> None:
    """Consistent copy of a live SQLite database with the online backup API, as one plain file
    (owner-only, like the database)."""
    dbfile.copy_database(source, dest, extra_meta=extra_meta)


def backup_database(
    db_path: Path,
    data_dir: Path,
    moment: datetime,
    *,
    keep: int = DEFAULT_KEEP,
    extra_meta: dict[str, str] | None = None,
) -> Path:
    folder = backups_dir(data_dir)
    _remove_stale_partials(folder)
    partial = folder / f"{_PARTIAL}{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex[:8]}"
    try:
        copy_database(db_path, partial, extra_meta=extra_meta)
        verdict = integrity(partial)
        if verdict != "ok":
            raise BackupError(f"backup of {db_path} failed its integrity check: {verdict}")
        final = _final_name(folder, moment)
        os.replace(partial, final)
        files.fsync_dir(folder)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    prune(data_dir, keep)
    return final


def prune(data_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups; returns what was deleted."""
    keep = max(1, keep)
    removed = list_backups(data_dir)[keep:]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _int_setting(station: Station, key: str, default: int) -> int:
    try:
        return int(station.setting(key, str(default)))
    except ValueError:
        return default


def backup_now(station: Station) -> Path:
    """Back up the station database now; returns the verified backup file."""
    return backup_database(
        station.db_path,
        station.data_dir,
        station.clock.now(),
        keep=_int_setting(station, "backup_keep", DEFAULT_KEEP),
        extra_meta={"event_toml": station.config.source_text},
    )


# --- restore -----------------------------------------------------------------------------------


def processes_using(path: Path) -> list[int]:
    """Other processes that have this database (or its WAL) open. Linux /proc; [] elsewhere."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    target = str(Path(path).resolve())
    wanted = {target, target + "-wal", target + "-shm"}
    pids = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                try:
                    if os.readlink(fd) in wanted:
                        pids.append(int(entry.name))
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return sorted(pids)


@dataclass
class RestoreReport:
    backup: Path
    previous_saved_as: Path | None
    old_station_id: str
    new_station_id: str
    events_in_backup: int
    notes: list[str] = field(default_factory=list)


def restore(
    backup_path: Path | str, data_dir: Path | str, *, force: bool = False, clock: Clock | None = None
) -> RestoreReport:
    """Put a backup back as the station database. See the module docstring for the procedure."""
    from regdesk.services.station import SYSTEM_OPERATOR, continue_as_new_station, open_station, publish_new_key

    backup_path, data_dir = Path(backup_path), Path(data_dir)
    if not backup_path.is_file():
        raise BackupError(f"{backup_path}: no such backup file")
    verdict = integrity(backup_path)
    if verdict != "ok":
        raise BackupError(f"{backup_path}: failed its integrity check ({verdict}); pick an older backup")
    meta = read_meta(backup_path)
    if "station_id" not in meta or "event_code" not in meta:
        raise BackupError(f"{backup_path}: not a regdesk station backup (no station id in it)")
    db_path = data_dir / "station.db"
    files.private_dir(data_dir)

    if db_path.exists():
        users = processes_using(db_path)
        if users and not force:
            raise BackupError(
                f"the station is running (process {', '.join(map(str, users))} has {db_path} open); "
                "stop it first, or use --force"
            )
        try:
            current = read_meta(db_path)
        except BackupError:
            current = {}
        if current.get("event_code") and current["event_code"] != meta["event_code"] and not force:
            raise BackupError(
                f"{backup_path} is a backup of event {meta['event_code']}, this station is "
                f"{current['event_code']}; refusing (use --force to replace it anyway)"
            )
        if current.get("station_id") and current["station_id"] != meta["station_id"] and not force:
            raise BackupError(
                f"{backup_path} is a backup of another station ({meta.get('station_name', '?')}); "
                "refusing (use --force to replace this station with it)"
            )

    if not (data_dir / "keys" / STATION_KEY_FILE).exists():
        raise BackupError(
            f"{data_dir / 'keys' / STATION_KEY_FILE} is not on this disk, and a station cannot go on under its "
            "identity without its own key (backups never hold it). Copy the keys folder of the old laptop here "
            "first; or have a supervisor provision this laptop as a new station and sync: the events of the "
            "old one come back from the hub or a bundle"
        )
    event_toml = data_dir / "event.toml"
    if not event_toml.exists():
        if not meta.get("event_toml"):
            raise BackupError(f"{data_dir} has no event.toml and the backup carries none; copy event.toml there first")
        files.write_private(event_toml, meta["event_toml"].encode("utf-8"))

    # 1. the backup, copied next to its final place (same file system: the rename is atomic)
    incoming = data_dir / "station.db.restore-tmp"
    incoming.unlink(missing_ok=True)
    copy_database(backup_path, incoming)
    # 2. a consistent copy of what is there now, WAL contents included
    previous: Path | None = None
    if db_path.exists():
        previous = data_dir / "station.db.before-restore"
        previous.unlink(missing_ok=True)
        try:
            copy_database(db_path, previous)
        except dbfile.DatabaseError:  # a broken database: keep its files as they are
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{db_path}{suffix}").exists():
                    _copy_private(Path(f"{db_path}{suffix}"), Path(f"{previous}{suffix}"))
    # 3. the old WAL must never be replayed onto the restored file
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    os.replace(incoming, db_path)
    files.fsync_dir(data_dir)

    # 4. a new identity, so events made after the backup can never collide with new ones: the
    #    station's own key vouches for it (a continuation certificate), no root needed.
    old_id = meta["station_id"]
    notes: list[str] = []
    key_id, missing_key, events = dbfile.forget_missing_active_key(
        db_path, lambda kid: not (data_dir / "keys" / f"{kid}.key").exists()
    )

    station = open_station(data_dir, clock=clock)
    try:
        new_id = continue_as_new_station(
            station, created_payload={"restored_from_station_id": old_id, "backup": backup_path.name[:200]}
        )
        if missing_key and station.role in SIGNING_ROLES:
            kid = publish_new_key(station, SYSTEM_OPERATOR)
            notes.append(
                f"the signing key {key_id} was not on this disk: new key {kid} created; "
                "badges signed before keep verifying"
            )
    finally:
        station.close()
    notes.append("events recorded after the backup come back with the next sync")
    return RestoreReport(backup_path, previous, old_id, new_id, events, notes)


# --- schedule ----------------------------------------------------------------------------------


def backup_minutes(station: Station) -> float:
    try:
        return float(station.setting("backup_minutes", str(DEFAULT_MINUTES)))
    except ValueError:
        return DEFAULT_MINUTES


class BackupScheduler:
    """Runs `backup_now` every `minutes` (station setting "backup_minutes"; 0 = off) on a thread.

    For the TUI: create it with the station, `start()` on mount, `stop()` on exit. The callbacks
    run on the backup thread; use `app.call_from_thread` inside them to touch widgets.
    """

    def __init__(
        self,
        station: Station,
        *,
        minutes: float | None = None,
        on_done: Callable[[Path], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        backup: Callable[[Station], Path] = backup_now,
    ) -> None:
        self.station = station
        self.minutes = backup_minutes(station) if minutes is None else minutes
        self.on_done, self.on_error = on_done, on_error
        self._backup = backup
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_path: Path | None = None
        self.last_error: Exception | None = None
        self.runs = 0

    @property
    def enabled(self) -> bool:
        return self.minutes > 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if not self.enabled or self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="regdesk-backup", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run_once(self) -> Path | None:
        try:
            path = self._backup(self.station)
        except Exception as exc:  # a failed backup must never take the station down
            self.last_error = exc
            log.error("station backup failed: %s", exc)
            if self.on_error:
                self.on_error(exc)
            return None
        self.runs += 1
        self.last_path, self.last_error = path, None
        if self.on_done:
            self.on_done(path)
        return path

    def _loop(self) -> None:
        while not self._stop.wait(self.minutes * 60):
            self.run_once()
