"""Conflicts that only show up after a merge, and how a supervisor resolves them.

Each desk enforces "one valid badge per participant" and the delegation quota on what it
knows. Two desks cut off from each other can both be right locally and wrong together:
    duplicate badge   a participant holds valid badges issued at two different stations
                      (key "badge:<accreditation id>")
    quota exceeded    a delegation has more valid-badge holders than its category quota,
                      not counting holders a supervisor admitted with a quota override
                      (key "quota:<category>:<delegation>")
Both are computed from the projections whenever asked, so they appear as soon as the second
side arrives by hub or bundle. Until a supervisor decides, both badges stay valid: scan points
keep admitting the legitimate holder (nothing is revoked automatically).

A resolution records CONFLICT_RESOLVED {conflict_key, decision, reason, revoked_serials,
kept_serials, sides} and a BADGE_REVOKED (reason "conflict") for each losing badge, in one
transaction; the revocations travel like any other and deny the old badge everywhere. A
conflict stays hidden while a resolution covers all of its current badges; a new badge joining
it (another partitioned issuance) opens it again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain.authority import Act
from regdesk.domain.events import EventKind, parse_utc
from regdesk.domain.names import display_name
from regdesk.domain.policy import Refusal
from regdesk.errors import RegdeskError
from regdesk.services import operators
from regdesk.services.station import Station
from regdesk.store.models import Badge, Participant
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import events as event_queries
from regdesk.store.queries import overrides as override_queries

DUPLICATE = "duplicate_badge"
QUOTA = "quota_exceeded"


class ConflictError(RegdeskError, ValueError):
    pass


@dataclass(frozen=True)
class Side:
    """One badge involved in a conflict, with who issued it where and when."""

    serial: str
    participant_id: str
    participant_name: str
    station_id: str
    station_name: str
    operator: str
    issued_at: str  # UTC, stored format
    issued_local: str  # event-local time for display

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Conflict:
    key: str
    kind: str  # DUPLICATE | QUOTA
    summary: str
    sides: tuple[Side, ...]
    participant_id: str = ""
    delegation: str = ""
    category: str = ""
    quota: int = 0
    holders: int = 0  # counted holders (quota conflicts)

    @property
    def serials(self) -> tuple[str, ...]:
        return tuple(s.serial for s in self.sides)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["sides"] = [s.as_json() for s in self.sides]
        return data


@dataclass(frozen=True)
class Resolution:
    key: str
    decision: str
    revoked_serials: tuple[str, ...]
    kept_serials: tuple[str, ...]


def station_names(session: Session) -> dict[str, str]:
    rows = event_queries.payloads_of_kind(session, str(EventKind.STATION_CREATED))
    return {sid: ep.StationCreated.from_payload(json.loads(payload)).name or sid[:8] for sid, payload in rows}


def _resolved(session: Session) -> dict[str, list[set[str]]]:
    """conflict key -> the badge sets each recorded resolution covered."""
    covered: dict[str, list[set[str]]] = {}
    for _station_id, payload in event_queries.payloads_of_kind(session, str(EventKind.CONFLICT_RESOLVED)):
        resolved = ep.ConflictResolved.from_payload(json.loads(payload))
        covered.setdefault(resolved.conflict_key, []).append(set(resolved.sides))
    return covered


def _is_resolved(key: str, serials: tuple[str, ...], covered: dict[str, list[set[str]]]) -> bool:
    return any(set(serials) <= sides for sides in covered.get(key, []))


def _side(station: Station, badge: Badge, participant: Participant | None, names: dict[str, str]) -> Side:
    name = display_name(participant.given_names, participant.family_name) if participant else badge.participant_id
    local = station.config.local(parse_utc(badge.issued_at)).strftime("%a %d %b %H:%M")
    return Side(
        badge.serial,
        badge.participant_id,
        name,
        badge.station_id,
        names.get(badge.station_id, badge.station_id[:8]),
        badge.operator,
        badge.issued_at,
        local,
    )


def _overridden(session: Session, participant_ids: list[str], rule: Refusal) -> set[str]:
    rows = override_queries.rules_by_participant(session, participant_ids)
    return {pid for pid, rules in rows if str(rule) in rules.split(",")}


def _overridden_badges(session: Session, badges: list[Badge], rule: Refusal) -> set[str]:
    """Serials issued under a supervisor override of `rule` (a deliberate decision, not a conflict)."""
    ids = [b.override_event_id for b in badges if b.override_event_id]
    rules = override_queries.rules_by_event(session, ids)
    return {
        b.serial for b in badges if b.override_event_id and str(rule) in rules.get(b.override_event_id, "").split(",")
    }


def _duplicates(station: Station, session: Session, names: dict[str, str]) -> list[Conflict]:
    suspects = badge_queries.holders_across_stations(session)
    found = []
    for pid in suspects:
        badges = badge_queries.valid_badges_of(session, pid)
        deliberate = _overridden_badges(session, badges, Refusal.ALREADY_HOLDS_BADGE)
        if len({b.station_id for b in badges if b.serial not in deliberate}) < 2:
            continue
        participant = session.get(Participant, pid)
        sides = tuple(_side(station, b, participant, names) for b in badges)
        who = sides[0].participant_name
        summary = (
            f"{who} ({pid}) holds {len(sides)} valid badges issued at "
            f"{', '.join(sorted({s.station_name for s in sides}))}"
        )
        found.append(
            Conflict(
                f"badge:{pid}",
                DUPLICATE,
                summary,
                sides,
                participant_id=pid,
                delegation=participant.delegation if participant else "",
                category=participant.category if participant else "",
            )
        )
    return found


def _quota(station: Station, session: Session, names: dict[str, str]) -> list[Conflict]:
    limited = {c.code: c.quota for c in station.config.categories if c.quota}
    if not limited:
        return []
    rows = badge_queries.delegation_holder_counts(session, list(limited))
    found = []
    for category, delegation, holders in rows:
        quota = limited[category]
        if holders <= quota:
            continue
        pairs = badge_queries.valid_badges_in_delegation(session, category, delegation)
        admitted = _overridden(session, sorted({p.accreditation_id for _b, p in pairs}), Refusal.QUOTA_REACHED)
        counted = [(b, p) for b, p in pairs if p.accreditation_id not in admitted]
        counted_holders = len({p.accreditation_id for _b, p in counted})
        if counted_holders <= quota:
            continue
        sides = tuple(_side(station, b, p, names) for b, p in counted)
        summary = f"{delegation} ({category}) has {counted_holders} badge holders, quota {quota}" + (
            f" (+{len(admitted)} admitted by override)" if admitted else ""
        )
        found.append(
            Conflict(
                f"quota:{category}:{delegation}",
                QUOTA,
                summary,
                sides,
                delegation=delegation,
                category=category,
                quota=quota,
                holders=counted_holders,
            )
        )
    return found


def list_conflicts(station: Station) -> list[Conflict]:
    """Open conflicts, duplicates first, each with all its sides."""
    with station.sessions() as session:
        names = station_names(session)
        covered = _resolved(session)
        found = _duplicates(station, session, names) + _quota(station, session, names)
        return [c for c in found if not _is_resolved(c.key, c.serials, covered)]


def get_conflict(station: Station, key: str) -> Conflict:
    for conflict in list_conflicts(station):
        if conflict.key == key:
            return conflict
    raise ConflictError(
        f"no open conflict {key!r} (already resolved, or its badges changed); "
        "run `regdesk conflicts` to see the open ones"
    )


def resolve(
    station: Station,
    key: str,
    *,
    reason: str,
    operator: str,
    keep: tuple[str, ...] | list[str] = (),
    revoke: tuple[str, ...] | list[str] = (),
    keep_all: bool = False,
) -> Resolution:
    """Record a supervisor's decision: which badges stay valid; the others are revoked."""
    if not reason.strip():
        raise ConflictError("a resolution needs a written reason")
    try:
        operators.require_act(station, operator, Act.RESOLVE_CONFLICT)
    except operators.NotAllowed as exc:
        raise ConflictError(str(exc)) from None
    if sum((bool(keep), bool(revoke), keep_all)) != 1:
        raise ConflictError(
            "say which badges stay valid: --keep SERIAL (repeatable), --revoke SERIAL (repeatable) or --keep-all"
        )
    conflict = get_conflict(station, key)
    serials = conflict.serials
    chosen = [_normalise(s) for s in (keep or revoke)]
    unknown = [s for s in chosen if s not in serials]
    if unknown:
        raise ConflictError(f"{', '.join(unknown)} is not one of the badges in conflict {key}: {', '.join(serials)}")
    kept: tuple[str, ...]
    revoked: tuple[str, ...]
    if keep_all:
        kept, revoked = serials, ()
        decision = "keep all"
    elif keep:
        kept = tuple(s for s in serials if s in chosen)
        revoked = tuple(s for s in serials if s not in chosen)
        decision = f"keep {', '.join(kept)}"
    else:
        revoked = tuple(s for s in serials if s in chosen)
        kept = tuple(s for s in serials if s not in chosen)
        decision = f"revoke {', '.join(revoked)}"
    if conflict.kind == DUPLICATE and not kept:
        raise ConflictError("keep one badge: revoking all of them would lock the participant out")
    by_serial = {s.serial: s for s in conflict.sides}
    with station.transaction() as session:
        for serial in revoked:
            station.record(
                session,
                EventKind.BADGE_REVOKED,
                ep.BadgeRevoked(serial, by_serial[serial].participant_id, reason="conflict", conflict_key=key),
                operator,
            )
        station.record(
            session,
            EventKind.CONFLICT_RESOLVED,
            ep.ConflictResolved(key, decision, reason.strip(), conflict.kind, list(revoked), list(kept), list(serials)),
            operator,
        )
    return Resolution(key, decision, revoked, kept)


def _normalise(serial: str) -> str:
    return "".join(ch for ch in serial.upper() if ch.isalnum())
