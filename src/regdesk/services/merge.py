"""Merging other stations' events: the one way foreign events enter a station, for the hub and
for bundles alike. Nothing is merged before it is authenticated.

For each station whose events arrive, the merge
  1. knows the station by its first event, `station_created`, whose certificate must chain to
     this meeting's pinned root (domain/trust.py);
  2. follows the station's hash chain from what it already holds, and accepts events only up to
     the newest one carrying a valid seal of that station's key (domain/chain.py): one signature
     vouches for everything before it;
  3. checks every accepted event in chain order against authority.py (may this station and
     operator role make this kind of event?) and against its payload schema (event_payloads.py);
     the first event that fails halts the station: it and everything after it are refused (an
     event of a payload version newer than this station knows halts it too, but is left out and
     reported rather than refusing a bundle: its station runs a newer regdesk);
  4. refuses the events of a revoked station after the point its revocation trusts.
Events that cannot be verified *yet* (their seal has not arrived: a hub chunk ended between
them) are held and tried again at the next merge. Refused events never touch the log or the
projections; each refusal becomes a `security_alert` event that supervisors see.

A merge is still a set union by event id: an event already held is ignored, so bundles and hub
pulls can be repeated in any order.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from sqlalchemy.orm import Session

from regdesk.domain import authority, chain, credentials, event_payloads, payloads
from regdesk.domain import trust as certs
from regdesk.domain.chain import SEAL_EVERY
from regdesk.domain.events import Event, EventKind, canonical_json, parse_utc
from regdesk.errors import RegdeskError
from regdesk.store import eventlog, projections
from regdesk.store.eventlog import TRAVEL_COLUMNS
from regdesk.store.models import EnrolledStation, HeldEvent, StationRevocation
from regdesk.store.queries import events as event_queries

_IN_CHUNK = event_queries.IN_CHUNK
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HASH_MATCH = re.compile("[0-9a-f]{64}").fullmatch
_SEAL_MATCH = re.compile("[0-9a-f]{128}").fullmatch
MAX_PAYLOAD_CHARS = 64 * 1024 * 1024  # one accreditation import of 100k+ rows fits many times over


class MergeError(RegdeskError, ValueError):
    """Incoming events that cannot be merged; nothing of the batch is applied."""


class BadEvent(MergeError):
    def __init__(self, field_name: str, message: str) -> None:
        self.field_name = field_name
        super().__init__(f"field {field_name!r}: {message}")


class MergeRefused(MergeError):
    """A delivery that must be taken whole (a bundle) holds events that do not verify."""

    def __init__(self, message: str, rejections: list[Rejection]) -> None:
        super().__init__(message)
        self.rejections = rejections


class Incoming(NamedTuple):
    """An event as it travels, with the exact texts that are stored and hashed, and its hash
    (computed once, when it is read)."""

    event: Event
    payload_json: str
    recorded_at_text: str
    prev_hash: str
    seal: str | None
    hash: str

    def stored_row(self) -> tuple[Any, ...]:
        e = self.event
        return (
            e.id,
            e.station_id,
            e.seq,
            self.recorded_at_text,
            e.operator,
            e.operator_role,
            e.kind,
            self.payload_json,
            self.prev_hash,
            self.seal,
            self.hash,
        )


@dataclass(frozen=True)
class Rejection:
    item: Incoming
    reason: str
    # Authentic (in the station's signed chain) but recorded after a revocation's cut-off: left
    # out and reported, never a reason to refuse the rest of a delivery. An honest station that
    # took them before the revocation reached it hands them on with its own events.
    cut_off: bool = False
    # Made by a newer regdesk (a payload version this station does not know), or following such an
    # event in its station's chain: left out and reported likewise; the same delivery brings them
    # in once this station runs the newer software (a merge is a set union: nothing is lost).
    newer: bool = False

    @property
    def left_out(self) -> bool:
        """Left out and reported, never a reason to refuse the rest of a delivery."""
        return self.cut_off or self.newer


@dataclass
class MergeResult:
    received: int = 0
    added: list[Event] = field(default_factory=list)
    # local_order range the new rows occupy: contiguous, because they are inserted while this
    # transaction holds SQLite's write lock.
    first_local_order: int | None = None
    last_local_order: int | None = None
    rejected: list[Rejection] = field(default_factory=list)
    held: int = 0  # waiting for their station's seal
    newly_held: list[str] = field(default_factory=list)  # ids held by this merge
    # Held by this merge as made by a newer regdesk (from the hub): reported once, taken once
    # this station is updated.
    newer_held: list[Rejection] = field(default_factory=list)

    @property
    def added_count(self) -> int:
        return len(self.added)


# --- reading travelling events --------------------------------------------------------------------------


def incoming_from_dict(data: Any) -> Incoming:
    """Validate one travelling event (bundle line). Raises BadEvent naming the field."""
    if not isinstance(data, dict):
        raise BadEvent("(event)", "must be a JSON object")
    for name in TRAVEL_COLUMNS:
        if name not in data:
            raise BadEvent(name, "is missing")
    return incoming_from_row(tuple(data[name] for name in TRAVEL_COLUMNS))


def incoming_from_row(row: Sequence[Any]) -> Incoming:
    """Validate one travelling event given in TRAVEL_COLUMNS order, the payload as a dict or as
    JSON text (hub rows). Raises BadEvent naming the field."""
    if len(row) != len(TRAVEL_COLUMNS):
        raise BadEvent("(event)", f"has {len(row)} fields, expected {len(TRAVEL_COLUMNS)}")
    event_id, station_id, seq, recorded_text, operator, operator_role, kind, payload, prev_hash, seal = row
    if type(event_id) is not str or not _CANONICAL_UUID.fullmatch(event_id):
        try:
            event_id = str(uuid.UUID(str(event_id)))
        except ValueError:
            raise BadEvent("id", f"{str(event_id)[:60]!r} is not a UUID") from None
    if type(seq) is not int or not 1 <= seq <= 2**53:
        raise BadEvent("seq", "must be a whole number, 1 or more")
    if not (
        type(station_id) is str
        and 0 < len(station_id) <= 64
        and type(kind) is str
        and 0 < len(kind) <= 40
        and type(recorded_text) is str
        and type(operator_role) is str
        and 0 < len(operator_role) <= 16
    ):
        for name, value, limit in (
            ("station_id", station_id, 64),
            ("kind", kind, 40),
            ("recorded_at", recorded_text, 27),
            ("operator_role", operator_role, 16),
        ):
            if type(value) is not str or not value or len(value) > limit:
                raise BadEvent(name, "must be a non-empty string")
    if type(operator) is not str or len(operator) > 120:
        raise BadEvent("operator", "must be a string")
    if type(prev_hash) is not str or not _HASH_MATCH(prev_hash):
        raise BadEvent("prev_hash", "must be a SHA-256 hash in hex")
    if seal is not None and (type(seal) is not str or not _SEAL_MATCH(seal)):
        raise BadEvent("seal", "must be an Ed25519 signature in hex")
    try:
        recorded_at = parse_utc(recorded_text)  # exactly the stored shape, nothing else
    except ValueError:
        raise BadEvent(
            "recorded_at", f"{recorded_text[:40]!r} is not a UTC time like 2017-12-01T19:05:00.000000Z"
        ) from None
    if type(payload) is str:  # hub rows carry the payload as the origin station's JSON text
        if len(payload) > MAX_PAYLOAD_CHARS:
            raise BadEvent("payload", "is too large")
        try:
            payload_json, payload = payload, orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise BadEvent("payload", "is not valid JSON") from None
        if type(payload) is not dict:
            raise BadEvent("payload", "must be a JSON object")
    elif isinstance(payload, dict):
        try:
            payload_json = canonical_json(payload)
        except (TypeError, orjson.JSONEncodeError):
            raise BadEvent("payload", "holds a value JSON cannot carry") from None
    else:
        raise BadEvent("payload", "must be a JSON object")
    event = Event(event_id, station_id, seq, recorded_at, operator, kind, payload, operator_role)
    own = chain.event_hash(
        event_id, station_id, seq, recorded_text, operator, operator_role, kind, payload_json, prev_hash
    )
    return Incoming(event, payload_json, recorded_text, prev_hash, seal, own)


def travelling_rows(
    session: Session,
    *,
    after_local_order: int = 0,
    through_local_order: int | None = None,
    since_time: str | None = None,
    limit: int | None = None,
) -> list[tuple[Any, ...]]:
    """(local_order, *TRAVEL_COLUMNS) of the events this station may pass on, oldest first."""
    return event_queries.travelling_rows(
        session,
        TRAVEL_COLUMNS,
        after_local_order=after_local_order,
        through_local_order=through_local_order,
        since_time=since_time,
        limit=limit,
    )


# --- what the merge checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustContext:
    meeting: str  # event code
    root_public_key: str  # pinned when the station was created
    own_station_id: str


@dataclass
class _Known:
    """What this station knows of one other station before the merge."""

    role: str
    public_key: str
    certificate: certs.Certificate
    trusted_through: int | None  # None: not revoked


def _known_station(session: Session, ctx: TrustContext, station_id: str) -> _Known | None:
    row = session.get(EnrolledStation, station_id)
    if row is None:
        return None
    cert = certs.Certificate.from_json(json.loads(row.certificate))
    return _Known(row.role, row.public_key, cert, _trusted_through(session, row.public_key, station_id))


def _trusted_through(session: Session, public_key: str, station_id: str) -> int | None:
    revocation = session.get(StationRevocation, public_key)
    if revocation is None:
        return None
    return int(json.loads(revocation.heads).get(station_id, 0))


def _created_problem(ctx: TrustContext, item: Incoming) -> tuple[certs.Certificate | None, str | None]:
    """The certificate of a station's first event, or why it does not hold."""
    e = item.event
    if e.kind != EventKind.STATION_CREATED:
        return None, f"event #1 of station {e.station_id[:8]} is {e.kind}, not station_created"
    try:
        # Not yet held to its schema (the station is not known): read, and every value checked here.
        created = event_payloads.StationCreated.from_payload(e.payload)
        cert = certs.Certificate.from_json(created.certificate)
        certs.check_certificate(cert, root_public_key=ctx.root_public_key, meeting=ctx.meeting)
    except (certs.TrustProblem, payloads.BadPayload) as exc:
        return None, f"station {e.station_id[:8]} is not enrolled in this meeting: {exc}"
    if cert.station_id != e.station_id or cert.role != created.role:
        return None, f"station {e.station_id[:8]} carries a certificate of another station ({cert.station_id[:8]})"
    return cert, None


def event_problem(ctx: TrustContext, item: Incoming, role: str, cert: certs.Certificate) -> str | None:
    """Why an authentic event of a station with `role` must still be refused (None: accept)."""
    e = item.event
    refusal = authority.event_refusal(e.kind, role, e.operator_role, e.payload)
    if refusal:
        return refusal
    bad = event_payloads.payload_problem(e.kind, e.payload, len(item.payload_json))
    if bad is not None:
        return f"{e.kind}: {bad}"
    if (e.kind == EventKind.STATION_CREATED) != (e.seq == 1):
        return "station_created must be, and only be, a station's first event"
    if e.kind == EventKind.OPERATOR_ADDED:
        added = event_payloads.OperatorAdded.from_payload(e.payload)
        if e.operator_role == authority.SYSTEM and not certs.grant_holds(
            ctx.root_public_key,
            added.root_grant,
            meeting=ctx.meeting,
            name=added.name,
            role=added.role,
            pin_hash=added.pin_hash,
        ):
            return "operator_added by the station itself without a valid root grant"
        problem = credentials.hash_problem(added.pin_hash, added.role)
        if problem:
            return f"operator {added.name}: {problem}"
    if e.kind == EventKind.STATION_REVOKED:
        revocation = event_payloads.StationRevoked.from_payload(e.payload).revocation
        try:
            certs.check_revocation(
                certs.Revocation.from_json(revocation), root_public_key=ctx.root_public_key, meeting=ctx.meeting
            )
        except certs.TrustProblem as exc:
            return f"station_revoked: {exc}"
    if e.kind == EventKind.STATION_CERTIFIED:
        certificate = event_payloads.StationCertified.from_payload(e.payload).certificate
        try:
            certs.check_certificate(
                certs.Certificate.from_json(certificate), root_public_key=ctx.root_public_key, meeting=ctx.meeting
            )
        except certs.TrustProblem as exc:
            return f"station_certified: {exc}"
    if (
        e.kind == EventKind.KEY_PUBLISHED
        and event_payloads.KeyPublished.from_payload(e.payload).event_code != ctx.meeting
    ):
        return "key_published for another meeting"
    return None


@dataclass
class _Verdicts:
    accepted: list[Incoming] = field(default_factory=list)  # chain order
    rejected: list[Rejection] = field(default_factory=list)
    waiting: list[Incoming] = field(default_factory=list)
    newer: list[Rejection] = field(default_factory=list)  # held (from the hub) as made by a newer regdesk


def _verify_station(
    session: Session, ctx: TrustContext, station_id: str, items: list[Incoming], *, from_hub: bool = False
) -> _Verdicts:
    out = _Verdicts()
    if station_id == ctx.own_station_id:
        out.rejected = [Rejection(i, "claims to be an event of this very station, which never made it") for i in items]
        return out
    head_seq, head_hash = eventlog.head(session, station_id)
    below = [i for i in items if i.event.seq <= head_seq]
    out.rejected += [
        Rejection(
            i,
            f"differs from event #{i.event.seq} of this station that is already verified "
            "(forged, or a station restored from an old copy)",
        )
        for i in below
    ]
    above = sorted((i for i in items if i.event.seq > head_seq), key=lambda i: i.event.seq)
    if not above:
        return out
    known = _known_station(session, ctx, station_id)
    certified_firsts: dict[int, certs.Certificate] = {}
    if known is None:
        for candidate in (i for i in above if i.event.seq == 1):
            found, problem = _created_problem(ctx, candidate)
            if found is None:
                out.rejected.append(Rejection(candidate, problem or "bad certificate"))
            else:
                certified_firsts[id(candidate)] = found
        if not certified_firsts:
            rest = [i for i in above if i.event.seq != 1]
            if not from_hub:  # a bundle: perhaps an incremental one whose start is missing; it is refused
                out.waiting += rest
            else:
                # From the hub a station's first event always comes before its others (pushes go
                # in order, a pull holds what it cannot verify yet): these are not waiting, they
                # are forged, and holding them would let anyone fill this station's disk.
                out.rejected += [
                    Rejection(i, "belongs to a station this meeting never enrolled (no certified first event)")
                    for i in rest
                ]
            return out
        cert = next(iter(certified_firsts.values()))
        known = _Known(cert.role, cert.public_key, cert, _trusted_through(session, cert.public_key, station_id))
    by_hash = {i.hash: i for i in above}
    path: list[Incoming] = []
    bad_seals: set[int] = set()
    for sealed in sorted((i for i in above if i.seal), key=lambda i: i.event.seq, reverse=True):
        if not chain.seal_holds(
            bytes.fromhex(known.public_key), ctx.meeting, station_id, sealed.event.seq, sealed.hash, sealed.seal or ""
        ):
            bad_seals.add(id(sealed))
            continue
        walk, current = [sealed], sealed
        while current.event.seq > head_seq + 1:
            previous = by_hash.get(current.prev_hash)
            if previous is None or previous.event.seq != current.event.seq - 1:
                break
            walk.append(previous)
            current = previous
        if current.event.seq == head_seq + 1 and current.prev_hash == head_hash:
            path = walk[::-1]
            break
    if certified_firsts and path and id(path[0]) not in certified_firsts:
        path = []  # a new station's chain must start at its certified first event
    on_path = {id(i) for i in path}
    halted_at: int | None = None
    halted_by_cut_off = halted_by_newer = False
    for item in path:
        seq = item.event.seq
        if known.trusted_through is not None and seq > known.trusted_through:
            out.rejected.append(
                Rejection(
                    item,
                    f"was recorded after the station was revoked (trusted through #{known.trusted_through})",
                    cut_off=True,
                )
            )
            if halted_at is None:
                halted_at, halted_by_cut_off = seq, True
            continue
        if halted_at is not None:
            _halted(out, item, halted_at, cut_off=halted_by_cut_off, newer=halted_by_newer, hold=from_hub)
            continue
        newer = event_payloads.version_problem(item.event.kind, item.event.payload)
        if isinstance(newer, event_payloads.NewerPayload):
            # Authentic, but its fields mean what a newer regdesk says: not guessed at, left out
            # with the rest of its station's chain (a chain cannot skip a link) and reported.
            # From the hub they are held, so this station takes them once it is updated (its pull
            # has moved past them); a bundle can simply be imported again.
            left_out = Rejection(item, f"is left out: {newer}", newer=True)
            if from_hub:
                out.waiting.append(item)
                out.newer.append(left_out)
            else:
                out.rejected.append(left_out)
            halted_at, halted_by_newer = seq, True
            continue
        problem = event_problem(ctx, item, known.role, known.certificate)
        if problem:
            out.rejected.append(Rejection(item, f"is refused: {problem}"))
            halted_at = seq
            continue
        out.accepted.append(item)
    verified_through = path[-1].event.seq if path else head_seq
    for item in above:
        if id(item) in on_path:
            continue
        if id(item) in bad_seals:
            out.rejected.append(Rejection(item, "carries a seal that is not the station's signature (forged)"))
        elif item.event.seq <= verified_through:
            out.rejected.append(
                Rejection(item, f"is not in the station's signed chain at #{item.event.seq} (forged or altered)")
            )
        elif halted_at is not None:
            _halted(out, item, halted_at, cut_off=halted_by_cut_off, newer=halted_by_newer, hold=from_hub)
        elif item.event.seq > verified_through + SEAL_EVERY:
            # Every station seals a checkpoint at least every SEAL_EVERY events before any leaves
            # it: an event further than that beyond the last signature is no genuine one waiting.
            out.rejected.append(
                Rejection(item, f"is more than {SEAL_EVERY} events past the station's last signature (forged)")
            )
        elif id(item) in certified_firsts or item.event.seq > 1 or not certified_firsts:
            out.waiting.append(item)
    return out


def _halted(out: _Verdicts, item: Incoming, halted_at: int, *, cut_off: bool, newer: bool, hold: bool) -> None:
    """An event after the one that halted its station's chain: left out as that one was, or held
    with it (`hold`: from the hub, behind an event made by a newer regdesk)."""
    if newer and hold:
        out.waiting.append(item)
    elif newer:
        out.rejected.append(Rejection(item, f"follows an event (#{halted_at}) made by a newer regdesk", newer=True))
    else:
        out.rejected.append(
            Rejection(item, f"follows a refused event (#{halted_at}) of the same station", cut_off=cut_off)
        )


# --- the merge itself ------------------------------------------------------------------------------------


def _existing_ids(session: Session, ids: list[str]) -> set[str]:
    return event_queries.existing_ids(session, ids)


def _held(session: Session, station_ids: Iterable[str] | None = None) -> list[Incoming]:
    """Held events of these stations (all held events when None)."""
    rows: list[HeldEvent] = []
    if station_ids is None:
        rows = session.query(HeldEvent).all()
    else:
        wanted = list(station_ids)
        for start in range(0, len(wanted), _IN_CHUNK):
            rows += session.query(HeldEvent).filter(HeldEvent.station_id.in_(wanted[start : start + _IN_CHUNK])).all()
    out = []
    for r in rows:
        try:
            out.append(
                incoming_from_row(
                    (
                        r.id,
                        r.station_id,
                        r.seq,
                        r.recorded_at,
                        r.operator,
                        r.operator_role,
                        r.kind,
                        r.payload,
                        r.prev_hash,
                        r.seal,
                    )
                )
            )
        except BadEvent:
            continue
    return out


def held_events(session: Session) -> dict[str, Incoming]:
    """Every held event, by id: the starting point of a pull's `held` cache."""
    return {i.event.id: i for i in _held(session)}


def held_count(session: Session) -> int:
    return event_queries.held_count(session)


def store_held(session: Session, waiting: list[Incoming], now_text: str) -> None:
    _update_held(session, waiting, [], now_text)


def _update_held(session: Session, waiting: list[Incoming], settled_ids: list[str], now_text: str) -> None:
    event_queries.delete_held(session, settled_ids)
    if waiting:
        event_queries.insert_held(
            session,
            [
                (
                    i.event.id,
                    i.event.station_id,
                    i.event.seq,
                    i.recorded_at_text,
                    i.event.operator,
                    i.event.operator_role,
                    i.event.kind,
                    i.payload_json,
                    i.prev_hash,
                    i.seal,
                    now_text,
                )
                for i in waiting
            ],
        )


def summarise(rejections: list[Rejection]) -> str:
    first = rejections[0]
    e = first.item.event
    more = f" (and {len(rejections) - 1} more)" if len(rejections) > 1 else ""
    return f"event #{e.seq} of station {e.station_id[:8]} ({e.kind[:40]}) {first.reason}{more}"


def alert_payloads(source: str, rejections: list[Rejection]) -> list[event_payloads.SecurityAlert]:
    """One security alert per station whose events were refused."""
    by_station: dict[str, list[Rejection]] = {}
    for r in rejections:
        by_station.setdefault(r.item.event.station_id, []).append(r)
    alerts = []
    for station_id, group in by_station.items():
        first = min(group, key=lambda r: r.item.event.seq)
        ids = sorted(r.item.event.id for r in group)
        alerts.append(
            event_payloads.SecurityAlert.about(
                source=source,
                reason=summarise([first] + [r for r in group if r is not first]),
                fingerprint=hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32],
                station_id=station_id,
                seq=first.item.event.seq,
                event_id=first.item.event.id,
                kind=first.item.event.kind,
                count=len(group),
            )
        )
    return alerts


def merge(
    session: Session,
    incoming: Iterable[Incoming],
    ctx: TrustContext,
    *,
    strict: bool,
    now_text: str = "",
    held: dict[str, Incoming] | None = None,
    persist_held: bool = True,
    from_hub: bool = False,
) -> MergeResult:
    """Verify and insert the events this station lacks; apply them to the projections.

    `strict` (bundles, join files): any event that is refused or cannot be verified yet refuses
    the whole delivery (MergeRefused) before anything is written. Otherwise (the hub): refused
    events are left out and reported in the result, unverifiable ones are held for later.
    Runs inside the caller's transaction, which must hold the write lock.

    `held`: the caller's copy of the held events, kept in step (a pull passes it from chunk to
    chunk). `persist_held=False`: newly held events stay in that copy only; the caller then owns
    them (a pull keeps its cursor before them until it writes them, see services/sync.py).
    """
    result = MergeResult()
    batch: dict[str, Incoming] = {}
    for item in incoming:
        result.received += 1
        batch.setdefault(item.event.id, item)  # duplicates within one delivery
    if not batch:
        return result
    existing = _existing_ids(session, list(batch))
    for event_id in existing:
        del batch[event_id]
    by_station: dict[str, dict[str, Incoming]] = {}
    for item in batch.values():
        by_station.setdefault(item.event.station_id, {})[item.event.id] = item
    if strict:
        held_before: dict[str, Incoming] = {}
    elif held is not None:
        held_before = {k: i for k, i in held.items() if i.event.station_id in by_station}
    else:
        held_before = {i.event.id: i for i in _held(session, by_station)}
    for item in held_before.values():
        by_station.setdefault(item.event.station_id, {}).setdefault(item.event.id, item)
    accepted: list[Incoming] = []
    waiting: list[Incoming] = []
    newer: list[Rejection] = []
    for station_id, items in by_station.items():
        verdicts = _verify_station(session, ctx, station_id, list(items.values()), from_hub=from_hub)
        accepted += verdicts.accepted
        waiting += verdicts.waiting
        result.rejected += verdicts.rejected
        newer += verdicts.newer
    refusing = [r for r in result.rejected if not r.left_out]
    if strict and (refusing or waiting):
        if refusing:
            raise MergeRefused(summarise(refusing), refusing)
        unknown = waiting[0].event
        raise MergeRefused(
            f"event #{unknown.seq} of station {unknown.station_id[:8]} cannot be verified: the events before it or "
            "its station's signature are missing (an incremental bundle whose start this station lacks? import "
            "the full bundle)",
            [],
        )
    new_waiting = [i for i in waiting if i.event.id not in held_before]
    still_waiting = {w.event.id for w in waiting}
    settled = [i for i in held_before if i not in still_waiting]
    _update_held(session, new_waiting if persist_held else [], settled, now_text)
    if held is not None:
        for event_id in settled:
            held.pop(event_id, None)
        held.update((i.event.id, i) for i in new_waiting)
    result.held = len(waiting)
    result.newly_held = [i.event.id for i in new_waiting]
    result.newer_held = [r for r in newer if r.item.event.id not in held_before]
    if not accepted:
        return result
    # Each station's events in chain order, stations one after another: the log stays a valid
    # chain in local order, which is what a bundle of this station relays.
    rows = [item.stored_row() for item in accepted]
    before = event_queries.latest_local_order(session.connection())
    eventlog.insert_verified(session, rows)
    result.first_local_order = before + 1
    result.last_local_order = event_queries.max_local_order(session.connection())
    result.added = [item.event for item in accepted]
    projections.apply_many(session, result.added)
    return result


__all__ = [
    "BadEvent",
    "Incoming",
    "MergeError",
    "MergeRefused",
    "MergeResult",
    "Rejection",
    "TrustContext",
    "alert_payloads",
    "incoming_from_dict",
    "incoming_from_row",
    "merge",
    "summarise",
    "travelling_rows",
]
