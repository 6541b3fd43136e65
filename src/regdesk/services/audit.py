"""The supervisors' audit view of the event log: who did what, where, when, and what it changed.

Rows are newest first and never show a token, a PIN hash or more than the last 4 characters of
an identity document (the summaries are built from a scrubbed payload, see services/privacy.py).
Filters: kind, operator, station, local day, and free text matched against the payload
(an accreditation id, a badge serial, a delegation...) or, when it reads like a name, against the
participants' names (accents and case do not matter: `gomez camacho` finds the events of
MX-1 María Gómez Camacho). `parse_filter` reads the one-line form used by the screen and the
CLI: `kind:badge_issued op:ana station:westin day:2017-12-01 CH-12`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from regdesk.domain import authority
from regdesk.domain import event_payloads as ep
from regdesk.domain import token as tokens
from regdesk.domain.buses import bus_direction
from regdesk.domain.events import EventKind, parse_utc
from regdesk.domain.names import display_name
from regdesk.domain.passes import format_pass_serial, pass_serial
from regdesk.domain.token import format_serial
from regdesk.errors import RegdeskError
from regdesk.services import lookup, operators
from regdesk.services.privacy import mask_document, scrub_payload, scrub_text
from regdesk.services.station import Station
from regdesk.services.tallies import day_bounds_utc
from regdesk.store.queries import audit as audit_queries
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import participants as participant_queries

DEFAULT_LIMIT = 500
NAME_MATCHES = 50  # participants a name filter may stand for (best matches first)
# Kinds whose payload can be megabytes (a whole accreditation export): only counted, never loaded.
_BULKY_LISTS = {
    str(EventKind.ACCREDITATION_IMPORTED): ("rows", "withdrawn"),
    str(EventKind.PHOTO_IMPORTED): ("jpeg",),
}  # the photo itself is never shown in the audit


class AuditError(RegdeskError, ValueError):
    pass


@dataclass(frozen=True)
class AuditFilter:
    kind: str | None = None
    operator: str | None = None
    station: str | None = None  # station name (part of it) or station id prefix
    day: date | None = None  # local day in the event's time zone
    text: str | None = None  # accreditation id, serial, or any other payload text

    def is_empty(self) -> bool:
        return not any(asdict(self).values())


@dataclass(frozen=True)
class AuditRow:
    event_id: str
    local_time: str  # "2017-12-01 13:05:07", event's time zone
    station: str  # station name
    operator: str
    kind: str
    summary: str  # plain language, scrubbed
    participant_id: str
    serial: str
    cursor: str  # pass as `before=` to get the rows after this one
    participant_name: str = ""  # the participant the event is about, from the mirror

    def as_json(self) -> dict[str, str]:
        return asdict(self)


_FILTER_KEYS = {
    "kind": "kind",
    "k": "kind",
    "operator": "operator",
    "op": "operator",
    "by": "operator",
    "station": "station",
    "st": "station",
    "day": "day",
    "date": "day",
    "text": "text",
}


def parse_filter(line: str) -> AuditFilter:
    """`kind:badge_issued op:ana day:2017-12-01 CH-12` -> AuditFilter. Unknown words are free text."""
    values: dict[str, Any] = {}
    free: list[str] = []
    for word in line.split():
        key, sep, value = word.partition(":")
        field_name = _FILTER_KEYS.get(key.lower()) if sep else None
        if field_name is None or not value:
            free.append(word)
            continue
        if field_name == "day":
            try:
                values["day"] = date.fromisoformat(value)
            except ValueError:
                raise AuditError(f"day:{value} is not a date; write day:YYYY-MM-DD") from None
        elif field_name == "text":
            free.append(value)
        else:
            values[field_name] = value
    if free:
        values["text"] = " ".join(free)
    return AuditFilter(**values)


def station_names(station: Station) -> dict[str, str]:
    """station id -> name, from the station_created events every station logs (sync brings them)."""
    names: dict[str, str] = {}
    with station.sessions() as session:
        rows = audit_queries.station_created_names(session)
    for station_id, name in rows:
        if name:
            names[station_id] = str(name)
    names[station.station_id] = station.name or names.get(station.station_id, "")
    return names


def _text_variants(text: str) -> list[str]:
    text = text.strip()
    variants = [text]
    compact = text.replace("-", "")
    if len(compact) == 8 and compact.isalnum() and compact != text:  # a serial typed as ABCD-EFGH
        variants.append(compact.upper())
    return variants


def list_audit(
    station: Station,
    filters: AuditFilter | None = None,
    *,
    viewer_role: str | None,
    limit: int = DEFAULT_LIMIT,
    before: str | None = None,
) -> list[AuditRow]:
    """Events newest first (by recorded time) that match `filters`. Supervisors only.

    `before` is the `cursor` of the last row already shown: pass it to page on.
    """
    refusal = authority.act_refusal(authority.Act.READ_AUDIT, viewer_role, station.role)
    if refusal:
        raise operators.NotAllowed(refusal)
    filters = filters or AuditFilter()
    names = station_names(station)
    count_names = [key for keys in _BULKY_LISTS.values() for key in keys]
    wanted_kind = (filters.kind or "").strip().lower()
    exact_kind = wanted_kind in {str(k) for k in EventKind}
    station_ids = None
    if filters.station:
        wanted = filters.station.strip().casefold()
        station_ids = [sid for sid, name in names.items() if wanted in name.casefold() or sid.startswith(wanted)]
    start, end = day_bounds_utc(station.config, filters.day) if filters.day else ("", "")
    after: tuple[str, int] | None = None
    if before:
        at, _, order = before.partition("#")
        try:
            after = (at, int(order))
        except ValueError:
            raise AuditError(f"bad audit cursor {before!r}") from None
    query = audit_queries.AuditQuery(
        kind=wanted_kind if exact_kind else "",
        kind_prefix="" if exact_kind else wanted_kind,
        operator_contains=(filters.operator or "").lower(),
        station_ids=station_ids,
        recorded_from=start,
        recorded_until=end,
        text_contains=_text_variants(filters.text) if filters.text else (),
        about_participants=_participants_named(station, filters.text) if filters.text else (),
        before=after,
        limit=limit,
        bulky_lists=_BULKY_LISTS,
    )
    with station.sessions() as session:
        rows = audit_queries.page(session, query)
        result = []
        for local_order, event_id, station_id, recorded_at, operator, kind, payload_text, *list_lengths in rows:
            try:
                payload = json.loads(payload_text)
            except (TypeError, ValueError):
                payload = {}
            for key, length in zip(count_names, list_lengths, strict=False):
                if length is not None:
                    payload[f"{key}_count"] = length
            row = _row(station, names, event_id, station_id, recorded_at, operator, kind, payload)
            result.append(replace(row, cursor=f"{recorded_at}#{local_order}"))
        who = _names_of(session, {row.participant_id for row in result if row.participant_id})
    return [
        replace(row, participant_name=who[row.participant_id]) if row.participant_id in who else row for row in result
    ]


def _reads_like_a_name(text: str) -> bool:
    """ "gomez camacho" or "Lajčák", not an id, a serial or a code (those hold digits)."""
    letters = sum(ch.isalpha() for ch in text)
    return letters >= 2 and not any(ch.isdigit() for ch in text)


def _participants_named(station: Station, text: str) -> list[str]:
    """Accreditation ids of the participants whose names match `text` (the desk's own search)."""
    if not _reads_like_a_name(text) or _is_a_badge_serial(station, text):
        return []
    return [hit.accreditation_id for hit in lookup.search(station, text, limit=NAME_MATCHES)]


def _is_a_badge_serial(station: Station, text: str) -> bool:
    """A serial can be all letters ("FGPW-LYDV"), and so can a name ("Jean-Paul"): the badges decide."""
    compact = tokens.normalise_serial(text)
    if len(compact) != tokens.SERIAL_LENGTH or len(compact) != len(text.strip().replace("-", "")):
        return False
    with station.sessions() as session:
        return badge_queries.serial_exists(session, compact)


def _names_of(session: Session, ids: set[str]) -> dict[str, str]:
    """participant id -> "given family" for the participants a page of events is about."""
    if not ids:
        return {}
    found = participant_queries.names_of(session, sorted(ids))
    return {pid: display_name(given, family) for pid, (given, family) in found.items()}


def _row(
    station: Station,
    names: dict[str, str],
    event_id: str,
    station_id: str,
    recorded_at: str,
    operator: str,
    kind: str,
    payload: dict[str, Any],
) -> AuditRow:
    moment = station.config.local(parse_utc(recorded_at))
    clean = scrub_payload(payload)
    return AuditRow(
        event_id=event_id,
        local_time=moment.strftime("%Y-%m-%d %H:%M:%S"),
        station=names.get(station_id) or station_id[:8],
        operator=operator,
        kind=kind,
        summary=scrub_text(summarise(kind, clean)),
        participant_id=str(clean.get("participant_id", "") or ""),
        serial=str(clean.get("serial", "") or ""),
        cursor="",
    )


# --- "what it changed", one sentence per kind --------------------------------------------------


def _serial(value: Any) -> str:
    return format_serial(str(value)) if value else "?"


def _station_created(p: ep.StationCreated, _counts: dict[str, Any]) -> str:
    if p.restored_from_station_id:
        return (
            f"Station '{p.name}' restored from backup {p.backup}; "
            f"it continues under a new station id (was {p.restored_from_station_id[:8]})"
        )
    return f"Station '{p.name}' set up as a {p.role} station for {p.event_code}"


def _key_published(p: ep.KeyPublished, _counts: dict[str, Any]) -> str:
    text = f"Signing key {p.key_id} published; scan points verify badges signed with it"
    if p.replaces_key_id:
        text += f". Desk stopped signing with {p.replaces_key_id} (its badges stay valid)"
    return text


def _operator_added(p: ep.OperatorAdded, _counts: dict[str, Any]) -> str:
    return f"Operator '{p.name}' saved with role {p.role} (PIN set)"


def _accreditation_imported(p: ep.AccreditationImported, counts_of_lists: dict[str, Any]) -> str:
    text = f"Accreditation list imported ({p.source or 'unknown source'}, revision {p.revision})"
    counts = p.counts
    if counts:
        # The import service's own diff: how many rows the file had and what changed in the mirror.
        parts = [f"{counts['rows']} rows in the file"] if "rows" in counts else []
        parts += [f"{n} {what}" for what, n in counts.items() if what != "rows" and isinstance(n, int) and n]
        return text + ": " + (", ".join(parts) if parts else "no change")
    # The rows themselves never leave the database here, only how many there are (list_audit).
    if "rows_count" in counts_of_lists:
        text += f", {counts_of_lists['rows_count']} participants"
    if counts_of_lists.get("withdrawn_count"):
        text += f", {counts_of_lists['withdrawn_count']} withdrawn"
    return text


def _identity_checked(p: ep.IdentityChecked, _counts: dict[str, Any]) -> str:
    doc = p.document_type.replace("_", " ")
    text = f"Identity of {p.participant_id} checked: {doc} ending {mask_document(p.document_last4 or '')}"
    if p.read_by == "mrz":
        text += ", read by the passport reader"
        if p.expired:
            text += "; the document had EXPIRED"
        if p.name_matches is False:
            text += "; its name did not match the accreditation"
    return text


def _badge_issued(p: ep.BadgeIssued, _counts: dict[str, Any]) -> str:
    text = f"Badge {_serial(p.serial)} issued to {p.participant_id} (issue {p.issue_no}, key {p.key_id})"
    if p.replaces:
        text += f", replacing {_serial(p.replaces)}"
    if p.override_event_id:
        text += ", under a supervisor override"
    if p.collected_by:
        text += f", collected by {p.collected_by} on the authority of \u201c{p.authorisation}\u201d"
    return text


def _badge_printed(p: ep.BadgePrinted, _counts: dict[str, Any]) -> str:
    return f"Badge {_serial(p.serial)} printed on {p.printer or 'file'} ({p.layout or '?'} layout)"


def _badge_revoked(p: ep.BadgeRevoked, _counts: dict[str, Any]) -> str:
    text = f"Badge {_serial(p.serial)} of {p.participant_id or '?'} revoked ({p.reason})"
    if p.replaced_by:
        text += f"; new badge {_serial(p.replaced_by)}"
    return text


def _override_granted(p: ep.OverrideGranted, _counts: dict[str, Any]) -> str:
    return f"Supervisor {p.supervisor} set aside {p.rule} for {p.participant_id or '?'}: \u201c{p.reason}\u201d"


def _scan_recorded(p: ep.ScanRecorded, _counts: dict[str, Any]) -> str:
    where = p.point
    if p.direction:
        where += f" ({bus_direction(p.direction).replace('_', ' ')})"  # an old payload's to_icc reads to venue
    who = f"badge {_serial(p.serial)}" if p.serial else "an unreadable badge"
    if p.pass_serial:
        who = f"temporary pass {_pass(p.pass_serial)}"
    if p.participant_id:
        who += f" of {p.participant_id}"
    text = f"{p.point_kind.capitalize()} scan at {where}: {p.verdict.upper()}"
    if p.reason and p.reason != p.verdict:
        text += f" ({p.reason})"
    text += f", {who}"
    if p.manual:
        text += ", entered by hand"
    if p.counted is False:
        text += ", not counted twice"
    return text


def _pass(value: Any) -> str:
    return format_pass_serial(str(value or "?"))


def _passes_printed(p: ep.PassesPrinted, _counts: dict[str, Any]) -> str:
    return (
        f"{p.last - p.first + 1} temporary passes printed for {p.day}: {_pass(pass_serial(p.first, p.mark))} to "
        f"{_pass(pass_serial(p.last, p.mark))} (key {p.key_id})"
    )


def _pass_assigned(p: ep.PassAssigned, _counts: dict[str, Any]) -> str:
    doc = p.document_type.replace("_", " ")
    return (
        f"Temporary pass {_pass(p.serial)} ({p.day}) assigned to {p.participant_id}"
        f" after checking their {doc} ending {mask_document(p.document_last4 or '')}"
    )


def _photo_removed(p: ep.PhotoRemoved, _counts: dict[str, Any]) -> str:
    return f"photo of {p.participant_id} removed: \u201c{p.reason}\u201d"


def _pass_assignment_overridden(p: ep.PassAssignmentOverridden, _counts: dict[str, Any]) -> str:
    was = p.previous_participant_id or "nobody"
    now = f"re-assigned to {p.participant_id}" if p.participant_id else "un-assigned"
    return f"Temporary pass {_pass(p.serial)} {now} by a supervisor (was {was}): \u201c{p.reason}\u201d"


def _pass_voided(p: ep.PassVoided, _counts: dict[str, Any]) -> str:
    return f"Temporary pass {_pass(p.serial)} voided: \u201c{p.reason}\u201d"


def _photo_imported(p: ep.PhotoImported, _counts: dict[str, Any]) -> str:
    return f"photo of {p.participant_id} from {p.source or 'an import'} ({p.width} x {p.height} px)"


def _generic(p: dict[str, Any]) -> str:
    parts = []
    for key, value in p.items():
        if isinstance(value, (dict, list)):
            value = f"[{len(value)} items]"
        parts.append(f"{key}={value}")
    text = ", ".join(parts)
    return text if len(text) <= 200 else text[:199] + "…"


# Each takes the typed payload and the scrubbed dict it was read from (for the "<list>_count"
# entries list_audit puts in place of the bulky lists it never loads).
SUMMARIES: dict[str, Callable[[Any, dict[str, Any]], str]] = {
    EventKind.STATION_CREATED: _station_created,
    EventKind.KEY_PUBLISHED: _key_published,
    EventKind.OPERATOR_ADDED: _operator_added,
    EventKind.ACCREDITATION_IMPORTED: _accreditation_imported,
    EventKind.IDENTITY_CHECKED: _identity_checked,
    EventKind.BADGE_ISSUED: _badge_issued,
    EventKind.BADGE_PRINTED: _badge_printed,
    EventKind.BADGE_REVOKED: _badge_revoked,
    EventKind.OVERRIDE_GRANTED: _override_granted,
    EventKind.SCAN_RECORDED: _scan_recorded,
    EventKind.PASSES_PRINTED: _passes_printed,
    EventKind.PASS_ASSIGNED: _pass_assigned,
    EventKind.PASS_VOIDED: _pass_voided,
    EventKind.PASS_ASSIGNMENT_OVERRIDDEN: _pass_assignment_overridden,
    EventKind.PHOTO_IMPORTED: _photo_imported,
    EventKind.PHOTO_REMOVED: _photo_removed,
}


def summarise(kind: str, payload: dict[str, Any]) -> str:
    """Plain-language 'what it changed' for an event payload that has been scrubbed."""
    summary = SUMMARIES.get(kind)
    if summary is None:
        return _generic(payload)
    try:
        # Scrubbed: the token and the PIN hash are gone, and the bulky lists stayed in the database.
        return summary(ep.PAYLOAD_TYPES[kind].from_partial(payload), payload)
    except Exception:  # a payload shape we did not expect must not break the audit view
        return _generic(payload)


def audit_kinds() -> list[str]:
    return [str(k) for k in EventKind]


__all__ = [
    "AuditError",
    "AuditFilter",
    "AuditRow",
    "list_audit",
    "parse_filter",
    "summarise",
    "station_names",
    "audit_kinds",
]
