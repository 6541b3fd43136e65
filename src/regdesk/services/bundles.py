"""Bundles: the hub's merge carried by hand (a USB stick) when stations cannot reach each other.

File format (gzip, UTF-8 JSON lines):
    line 1   header {"format": "regdesk-bundle", "version": 2, "event_code", "station_id",
             "station_name", "created_at", "count", "since", "through_local_order"}
    line 2+  one event per line: {"id", "station_id", "seq", "recorded_at", "operator", "kind", "payload"}

A bundle holds every event the exporting station has (its own and those it received), so a
bundle passed along a chain of stations carries everything. Import is the same set union by
event id as the hub: importing twice, or bundles out of order, changes nothing the second time.
Import reads the whole file once to validate it (header, event code, every line, the count;
gzip's own checksum catches a damaged file) before it touches the station, then merges it in
one transaction: a bad bundle changes nothing.

Bundles (like the join files built on them) contain personal data and operators' PIN hashes;
they are written owner-only (0600) and never contain private signing keys.
"""

from __future__ import annotations

import gzip
import json
import os
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from regdesk.errors import RegdeskError
from regdesk.domain.events import format_utc
from regdesk.services.merge import BadEvent, Incoming, MergeError, incoming_from_dict, merge
from regdesk.services.station import Station
from regdesk.store import projections
from regdesk.store.models import Base, EventRow

FORMAT = "regdesk-bundle"
JOIN_FORMAT = "regdesk-join"
# Version 2: accreditation imports carry their rows as lists, which a version-1 regdesk cannot
# apply; it refuses a version-2 file by its header. Version-1 files are still read.
VERSION = 2
_READABLE_VERSIONS = (1, 2)
_CHUNK = 2000
_COLUMNS = ("id", "station_id", "seq", "recorded_at", "operator", "kind")


class BundleError(RegdeskError, ValueError):
    """A bundle that cannot be used; the message names the file, line and field."""


@dataclass(frozen=True)
class ExportResult:
    path: Path
    count: int
    through_local_order: int  # give this as --since next time for an incremental bundle


@dataclass(frozen=True)
class ImportResult:
    path: Path
    received: int
    added: int
    from_station: str  # name of the station that wrote the bundle
    created_at: str


# --- export --------------------------------------------------------------------------------------


def parse_since(value: str | int | None, station: Station) -> tuple[str, Any] | None:
    """`--since`: a local_order number (as printed by the previous export) or an ISO time.

    A time without an offset is the event's local time, like every time an operator types.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int) or str(value).strip().isdigit():
        return ("local_order", int(value))
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise BundleError(f"--since {value!r}: give the number printed by the previous export, "
                          "or a time like 2017-12-02T08:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=station.config.zone)
    return ("recorded_at", format_utc(moment))


def _event_line(row: Any) -> str:
    # The payload column already holds canonical JSON; splice it in instead of re-encoding it.
    head = json.dumps({c: getattr(row, c) for c in _COLUMNS}, ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"payload":{row.payload}}}\n'


def write_bundle(station: Station, path: Path | str, *, since: str | int | None = None,
                 fmt: str = FORMAT, extra: dict[str, Any] | None = None) -> ExportResult:
    path = Path(path)
    since_filter = parse_since(since, station)
    conditions = []
    with station.sessions() as session:
        # Events are append-only, so everything up to today's last local_order is a fixed set.
        through = session.execute(select(func.max(EventRow.local_order))).scalar_one() or 0
        conditions.append(EventRow.local_order <= through)
        if since_filter and since_filter[0] == "local_order":
            conditions.append(EventRow.local_order > since_filter[1])
        elif since_filter:
            conditions.append(EventRow.recorded_at >= since_filter[1])
        count = session.execute(select(func.count()).select_from(EventRow).where(*conditions)).scalar_one()
        header = {"format": fmt, "version": VERSION, "event_code": station.config.code,
                  "station_id": station.station_id, "station_name": station.name,
                  "created_at": format_utc(station.clock.now()), "count": count,
                  "since": None if since_filter is None else str(since), "through_local_order": through}
        header.update(extra or {})
        if not path.parent.exists():
            raise BundleError(f"{path.parent}: folder does not exist")
        partial = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                    gz.write((json.dumps(header, ensure_ascii=False) + "\n").encode("utf-8"))
                    cursor = 0
                    while True:
                        rows = session.execute(
                            select(EventRow).where(*conditions, EventRow.local_order > cursor)
                            .order_by(EventRow.local_order).limit(5000)).scalars().all()
                        if not rows:
                            break
                        gz.write("".join(_event_line(r) for r in rows).encode("utf-8"))
                        cursor = rows[-1].local_order
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, path)  # a half-written bundle never carries the real name
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return ExportResult(path, count, through)


def export_bundle(station: Station, path: Path | str, *, since: str | int | None = None) -> ExportResult:
    return write_bundle(station, path, since=since)


# --- import --------------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered text lines of a gzip bundle; damage becomes a BundleError naming the file."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as fh:
            for number, line in enumerate(fh, start=1):
                yield number, line
    except FileNotFoundError:
        raise BundleError(f"{path}: file does not exist") from None
    except IsADirectoryError:
        raise BundleError(f"{path}: is a folder, not a bundle file") from None
    except EOFError:
        raise BundleError(f"{path}: the file is truncated (copy interrupted?); nothing was imported") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise BundleError(f"{path}: not a readable bundle, the file is damaged ({exc}); nothing was imported") from None
    except UnicodeDecodeError:
        raise BundleError(f"{path}: damaged content (not UTF-8 text); nothing was imported") from None


def read_header(path: Path | str, *, formats: tuple[str, ...] = (FORMAT, JOIN_FORMAT)) -> dict[str, Any]:
    path = Path(path)
    for _number, line in _lines(path):
        return _check_header(path, line, formats)
    raise BundleError(f"{path}: empty file, not a regdesk bundle")


def _check_header(path: Path, line: str, formats: tuple[str, ...]) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") not in (FORMAT, JOIN_FORMAT):
        raise BundleError(f"{path}, line 1: not a regdesk bundle (no bundle header)")
    if header["format"] not in formats:
        raise BundleError(f"{path}, line 1: this is a {header['format']} file; expected {' or '.join(formats)}")
    if header.get("version") not in _READABLE_VERSIONS:
        raise BundleError(f"{path}, line 1: field 'version': bundle format {header.get('version')!r}, this regdesk "
                          f"reads version {VERSION}; update regdesk on this station")
    for name in ("event_code", "station_id"):
        if not isinstance(header.get(name), str) or not header[name]:
            raise BundleError(f"{path}, line 1: field {name!r} is missing")
    count = header.get("count")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise BundleError(f"{path}, line 1: field 'count' must be a whole number")
    return header


def _events(path: Path, formats: tuple[str, ...]) -> Iterator[tuple[int, Incoming | dict[str, Any]]]:
    """Header first (line 1, as a dict), then every event validated, with its line number."""
    seen_header = False
    for number, line in _lines(path):
        if not seen_header:
            yield number, _check_header(path, line, formats)
            seen_header = True
            continue
        if not line.strip():
            continue
        try:
            yield number, incoming_from_dict(json.loads(line))
        except ValueError as exc:
            if isinstance(exc, BadEvent):
                raise BundleError(f"{path}, line {number}: {exc}") from None
            raise BundleError(f"{path}, line {number}: not valid JSON (damaged or truncated bundle)") from None
    if not seen_header:
        raise BundleError(f"{path}: empty file, not a regdesk bundle")


def validate(path: Path | str, station: Station | str, *, formats: tuple[str, ...] = (FORMAT, JOIN_FORMAT)) -> dict:
    """Read the whole bundle without touching the station; returns the header or raises BundleError.

    `station` may also be just the event code the bundle must belong to.
    """
    path = Path(path)
    event_code = station if isinstance(station, str) else station.config.code
    header: dict[str, Any] = {}
    events = 0
    for _number, item in _events(path, formats):
        if isinstance(item, dict):
            header = item
            if header["event_code"] != event_code:
                raise BundleError(
                    f"{path}: this bundle is for event {header['event_code']!r} but this station serves "
                    f"{event_code!r}; nothing was imported")
        else:
            events += 1
    if events != header["count"]:
        raise BundleError(f"{path}: the header announces {header['count']} events but the file holds {events}; "
                          "the bundle is incomplete or was edited, nothing was imported")
    return header


def _diagnose(chunk: list[tuple[int, Incoming]]) -> tuple[int, Exception] | None:
    """Find the line whose event the projections reject, on a scratch in-memory database."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    try:
        for number, item in chunk:
            with Session(engine) as session:
                try:
                    projections.apply(session, item.event)
                    session.commit()
                except Exception as exc:  # noqa: BLE001 - reported to the operator with the line number
                    return number, exc
    finally:
        engine.dispose()
    return None


def import_bundle(station: Station, path: Path | str, *,
                  formats: tuple[str, ...] = (FORMAT, JOIN_FORMAT)) -> ImportResult:
    path = Path(path)
    header = validate(path, station, formats=formats)
    received = added = 0
    with station.transaction() as session:  # all or nothing
        chunk: list[tuple[int, Incoming]] = []

        def flush() -> None:
            nonlocal received, added
            try:
                result = merge(session, [item for _n, item in chunk])
            except MergeError as exc:
                raise BundleError(f"{path}, lines {chunk[0][0]}-{chunk[-1][0]}: {exc}") from None
            except Exception as exc:  # a payload the projections cannot apply
                found = _diagnose(chunk)
                where = f"line {found[0]}" if found else f"lines {chunk[0][0]}-{chunk[-1][0]}"
                problem = found[1] if found else exc
                raise BundleError(f"{path}, {where}: the event cannot be applied "
                                  f"({type(problem).__name__}: {problem}); nothing was imported") from None
            received += result.received
            added += result.added_count
            chunk.clear()

        for number, item in _events(path, formats):
            if isinstance(item, Incoming):
                chunk.append((number, item))
                if len(chunk) >= _CHUNK:
                    flush()
        if chunk:
            flush()
    return ImportResult(path, received, added, str(header.get("station_name", header["station_id"])),
                        str(header.get("created_at", "")))


__all__ = ["BundleError", "ExportResult", "ImportResult", "export_bundle", "import_bundle", "read_header",
           "validate", "write_bundle", "parse_since", "FORMAT", "JOIN_FORMAT"]

