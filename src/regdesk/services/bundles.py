"""Bundles: the hub's merge carried by hand (a USB stick) when stations cannot reach each other.

File format (gzip, UTF-8 JSON lines):
    line 1   header {"format": "regdesk-bundle", "version": 3, "event_code", "root", "station_id",
             "station_name", "created_at", "count", "since", "through_local_order"}
    line 2+  one event per line: {"id", "station_id", "seq", "recorded_at", "operator", "operator_role",
             "kind", "payload", "prev_hash", "seal"}

A bundle is not trusted for what its header says: every event in it is verified against its
station's signed hash chain and the meeting's root (services/merge.py), and one event that does
not verify refuses the whole bundle. Editing any byte of an event, adding one or leaving one out
is found; the refusal is recorded as a security alert that supervisors see.

A bundle holds every event the exporting station has (its own and those it received), so a
bundle passed along a chain of stations carries everything. Import is the same set union by
event id as the hub: importing twice, or bundles out of order, changes nothing the second time.
Import reads the whole file once to validate it (header, event code, every line, the count;
gzip's own checksum catches a damaged file) before it touches the station, then merges it in
one transaction: a bad bundle changes nothing.

Bundles contain personal data and operators' credential hashes (supervisors' are passphrases,
see domain/credentials.py); they are written owner-only (0600) and never contain private keys.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain.events import EventKind, format_utc
from regdesk.errors import RegdeskError
from regdesk.services.merge import (
    BadEvent,
    Incoming,
    MergeError,
    MergeRefused,
    Rejection,
    TrustContext,
    alert_payloads,
    incoming_from_dict,
    merge,
    summarise,
    travelling_rows,
)
from regdesk.services.station import SYSTEM_OPERATOR, Station, seal_own_head
from regdesk.store import files, projections
from regdesk.store.eventlog import TRAVEL_COLUMNS
from regdesk.store.models import Base
from regdesk.store.queries import events as event_queries

FORMAT = "regdesk-bundle"
JOIN_FORMAT = "regdesk-join"
# Version 3: events carry their place in their station's signed hash chain. Older bundles hold
# events nobody can verify, so they are refused.
VERSION = 3
_READABLE_VERSIONS = (3,)
_CHUNK = 2000
_COLUMNS = tuple(c for c in TRAVEL_COLUMNS if c != "payload")


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
    # Events a revoked station recorded after its cut-off: authentic, but no longer trusted. They
    # are left out (and reported to the supervisors); the rest of the bundle is imported.
    left_out: int = 0
    # Events made by a newer regdesk (a payload version this station does not know), with the
    # later events of their stations: left out and reported; importing the same bundle again
    # once this station is updated brings them in.
    newer: int = 0


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
        raise BundleError(
            f"--since {value!r}: give the number printed by the previous export, or a time like 2017-12-02T08:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=station.config.zone)
    return ("recorded_at", format_utc(moment))


def _event_line(row: tuple[Any, ...]) -> str:
    # The payload column already holds canonical JSON; splice it in instead of re-encoding it.
    values = dict(zip(TRAVEL_COLUMNS, row[1:], strict=False))
    payload = values.pop("payload")
    head = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"payload":{payload}}}\n'


def write_bundle(
    station: Station,
    path: Path | str,
    *,
    since: str | int | None = None,
    fmt: str = FORMAT,
    extra: dict[str, Any] | None = None,
) -> ExportResult:
    path = Path(path)
    since_filter = parse_since(since, station)
    if not path.parent.exists():
        raise BundleError(f"{path.parent}: folder does not exist")
    through = seal_own_head(station)  # every event of ours in the bundle is covered by our signature
    after = since_filter[1] if since_filter and since_filter[0] == "local_order" else 0
    since_time = since_filter[1] if since_filter and since_filter[0] == "recorded_at" else None
    with station.sessions() as session:
        count = event_queries.count_between(session, after, through, since_time)
        header = {
            "format": fmt,
            "version": VERSION,
            "event_code": station.config.code,
            "root": station.root_fingerprint,
            "station_id": station.station_id,
            "station_name": station.name,
            "created_at": format_utc(station.clock.now()),
            "count": count,
            "since": None if since_filter is None else str(since),
            "through_local_order": through,
        }
        header.update(extra or {})
        with files.private_writer(path) as raw:  # a half-written bundle never carries the real name
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
                gz.write((json.dumps(header, ensure_ascii=False) + "\n").encode("utf-8"))
                cursor = after
                while True:
                    rows = travelling_rows(
                        session,
                        after_local_order=cursor,
                        through_local_order=through,
                        since_time=since_time,
                        limit=5000,
                    )
                    if not rows:
                        break
                    gz.write("".join(_event_line(r) for r in rows).encode("utf-8"))
                    cursor = rows[-1][0]
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
    if isinstance(header.get("version"), int) and header["version"] < min(_READABLE_VERSIONS):
        raise BundleError(
            f"{path}, line 1: field 'version': bundle format {header['version']} was written by an "
            "older regdesk, before the chain of trust: its events cannot be verified; export it again "
            "with this regdesk"
        )
    if header.get("version") not in _READABLE_VERSIONS:
        raise BundleError(
            f"{path}, line 1: field 'version': bundle format {header.get('version')!r}, this regdesk "
            f"reads version {VERSION}; update regdesk on this station"
        )
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


def validate(
    path: Path | str, station: Station | str, *, formats: tuple[str, ...] = (FORMAT, JOIN_FORMAT)
) -> dict[str, Any]:
    """Read the whole bundle without touching the station; returns the header or raises BundleError.

    `station` may also be just the event code the bundle must belong to.
    """
    path = Path(path)
    event_code = station if isinstance(station, str) else station.config.code
    root = None if isinstance(station, str) else station.root_fingerprint
    header: dict[str, Any] = {}
    events = 0
    for _number, item in _events(path, formats):
        if isinstance(item, dict):
            header = item
            if header["event_code"] != event_code:
                raise BundleError(
                    f"{path}: this bundle is for event {header['event_code']!r} but this station serves "
                    f"{event_code!r}; nothing was imported"
                )
            if root is not None and header.get("root") != root:
                raise BundleError(
                    f"{path}: this bundle comes from another meeting (root {str(header.get('root'))[:20]}, this "
                    f"station's root is {root}); nothing was imported"
                )
        else:
            events += 1
    if events != header["count"]:
        raise BundleError(
            f"{path}: the header announces {header['count']} events but the file holds {events}; "
            "the bundle is incomplete or was edited, nothing was imported"
        )
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


def trust_context(station: Station) -> TrustContext:
    if not station.root_public_key:
        raise BundleError(
            "this station was made before the chain of trust and cannot verify bundles; "
            "create the meeting again with this regdesk (see README, Trust)"
        )
    return TrustContext(station.config.code, station.root_public_key, station.station_id)


def record_alert(station: Station, source: str, rejections: list[Rejection], reason: str | None = None) -> None:
    """Security alerts for refused events, in their own transaction (the refused delivery rolled back)."""
    alerts = (
        alert_payloads(source, rejections)
        if rejections
        else [
            ep.SecurityAlert.about(
                source=source,
                reason=reason or "refused",
                fingerprint=hashlib.sha256(f"{source}\n{reason}".encode()).hexdigest()[:32],
            )
        ]
    )
    with station.transaction() as session:
        for payload in alerts:
            station.record(session, EventKind.SECURITY_ALERT, payload, SYSTEM_OPERATOR)


def import_bundle(
    station: Station, path: Path | str, *, formats: tuple[str, ...] = (FORMAT, JOIN_FORMAT)
) -> ImportResult:
    """Verify every event, then merge the whole bundle in one transaction, or nothing."""
    path = Path(path)
    ctx = trust_context(station)
    header = validate(path, station, formats=formats)
    received = added = 0
    left_out: list[Rejection] = []
    line_of: dict[str, int] = {}
    now_text = format_utc(station.clock.now())
    try:
        with station.transaction() as session:  # all or nothing
            chunk: list[tuple[int, Incoming]] = []

            def flush() -> None:
                nonlocal received, added
                try:
                    # Not strict per chunk: a station's seal may sit in a later chunk. What is
                    # still held at the end refuses the bundle (below), inside this transaction.
                    result = merge(session, [item for _n, item in chunk], ctx, strict=False, now_text=now_text)
                except MergeError as exc:
                    raise BundleError(f"{path}, lines {chunk[0][0]}-{chunk[-1][0]}: {exc}") from None
                except Exception as exc:  # a payload the projections cannot apply
                    found = _diagnose(chunk)
                    where = f"line {found[0]}" if found else f"lines {chunk[0][0]}-{chunk[-1][0]}"
                    problem = found[1] if found else exc
                    raise BundleError(
                        f"{path}, {where}: the event cannot be applied "
                        f"({type(problem).__name__}: {problem}); nothing was imported"
                    ) from None
                refusing = [r for r in result.rejected if not r.left_out]
                if refusing:
                    raise MergeRefused(summarise(refusing), refusing)
                left_out.extend(r for r in result.rejected if r.left_out)
                received += result.received
                added += result.added_count
                chunk.clear()

            for number, item in _events(path, formats):
                if isinstance(item, Incoming):
                    chunk.append((number, item))
                    line_of[item.event.id] = number
                    if len(chunk) >= _CHUNK:
                        flush()
            if chunk:
                flush()
            unverified = _still_held(session, list(line_of))
            if unverified:
                raise MergeRefused(
                    f"{unverified} event(s) cannot be verified: the events before them or their station's "
                    "signature are missing (an incremental bundle whose start this station lacks? "
                    "import the full bundle)",
                    [],
                )
    except MergeRefused as refused:
        source = f"bundle {path.name} from {str(header.get('station_name', '?'))[:60]}"
        record_alert(station, source, refused.rejections, str(refused))
        first = min((line_of.get(r.item.event.id, 0) for r in refused.rejections), default=0)
        where = f"{path}, line {first}" if first else str(path)
        raise BundleError(f"{where}: refused, nothing was imported: {refused}") from None
    from_station = str(header.get("station_name", header["station_id"]))
    if left_out:
        record_alert(station, f"bundle {path.name} from {from_station[:60]}", left_out)
    newer = sum(1 for r in left_out if r.newer)
    return ImportResult(
        path, received, added, from_station, str(header.get("created_at", "")), len(left_out) - newer, newer
    )


def _still_held(session: Session, ids: list[str]) -> int:
    return event_queries.held_among(session, ids)


__all__ = [
    "BundleError",
    "ExportResult",
    "ImportResult",
    "export_bundle",
    "import_bundle",
    "read_header",
    "validate",
    "write_bundle",
    "parse_since",
    "FORMAT",
    "JOIN_FORMAT",
]
