"""What each kind of event carries: one frozen dataclass per EventKind, the one definition of its
fields, their checks and its version. Pure.

  * Services build payloads through these types (`BadgeIssued(...)`, recorded by Station.record),
    and every reader outside domain/ reads them back through `from_payload()`, so a field has one
    name and one type wherever it is used.
  * The schema every recorded and every merged event is held to (`payload_problem`) is derived
    from the same fields: required fields have no default; the check sits beside each field.
  * The wire shape is the dict `to_payload()` returns, stored and hashed as canonical JSON
    (events.canonical_json). Shapes are unchanged from the dict payloads written before these
    types, so every existing log, bundle and hash chain reads as before.

Versions. A payload without a "version" field is version 1; a kind whose meaning changes gets
VERSION 2 and writes "version": 2 (only versions above 1 are written, so version-1 events keep
their bytes). A station meets a version newer than it knows only in an event made by a station
running newer software: `payload_problem` answers NewerPayload, and the merge (services/merge.py)
takes nothing of that station from that event on instead of guessing what the fields mean: a
bundle is imported without them, the hub's are held until this station is updated, and a security
alert says "made by a newer regdesk (kind vN); update this station". A field a newer regdesk adds
without changing the version is kept, never read, and held to the text rules.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

from regdesk.domain import payloads as pc
from regdesk.domain import photos
from regdesk.domain.authority import OPERATOR_ROLES, STATION_ROLES
from regdesk.domain.events import EventKind
from regdesk.domain.passes import desk_mark

VERSION_FIELD = "version"

_NO_DEFAULT: Any = dataclasses.MISSING
_new = object.__new__


def need(check: pc.Check, *, default: Any = _NO_DEFAULT, default_factory: Any = _NO_DEFAULT) -> Any:
    """A required field (the schema refuses a payload without it). A default only serves readers
    of events recorded before the field was required."""
    return field(default=default, default_factory=default_factory, metadata={"check": check, "required": True})


def may(check: pc.Check, default: Any = None, *, always: bool = False, default_factory: Any = _NO_DEFAULT) -> Any:
    """An optional field: a reader sees `default` when it is absent. `to_payload` leaves a field
    at its default out, unless `always` (the writers have always written it, even empty)."""
    if default_factory is not _NO_DEFAULT:
        default = _NO_DEFAULT
    return field(
        default=default,
        default_factory=default_factory,
        metadata={"check": check, "required": False, "always": always},
    )


class NewerPayload(pc.BadPayload):
    """A payload of a version this station does not know: made by a newer regdesk."""

    def __init__(self, kind: str, version: int) -> None:
        self.kind, self.version = kind, version
        super().__init__(VERSION_FIELD, f"made by a newer regdesk ({kind} v{version}); update this station")

    def __str__(self) -> str:
        return f"made by a newer regdesk ({self.kind} v{self.version}); update this station"


@dataclass(frozen=True)
class Payload:
    """The base of every kind's payload type."""

    KIND: ClassVar[EventKind]
    VERSION: ClassVar[int] = 1
    MAX_JSON: ClassVar[int] = 8000  # characters of canonical JSON
    SCHEMA: ClassVar[pc.Schema]
    _NAMES: ClassVar[frozenset[str]]
    _WRITE: ClassVar[tuple[tuple[str, bool, Any], ...]]  # (name, always written, default)
    _DEFAULTS: ClassVar[dict[str, Any]]  # what a reader sees for an absent field
    _FACTORIES: ClassVar[tuple[tuple[str, Callable[[], Any]], ...]]  # fields whose default is made fresh
    _NEEDED: ClassVar[frozenset[str]]  # fields a payload must hold (no default for readers either)

    def to_payload(self) -> dict[str, Any]:
        """The dict that is stored (as canonical JSON) and travels."""
        out: dict[str, Any] = {}
        for name, always, default in self._WRITE:
            value = getattr(self, name)
            if always or value != default:
                out[name] = value
        if self.VERSION > 1:
            out[VERSION_FIELD] = self.VERSION
        return out

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        """Read a payload that is in the log (every one was held to `payload_problem` when it was
        recorded or merged): fields this version does not know are left aside."""
        version = payload.get(VERSION_FIELD)
        if version is not None and version != 1 and (type(version) is not int or version > cls.VERSION):
            raise NewerPayload(str(cls.KIND), version if type(version) is int else 0)
        if not cls._NEEDED <= payload.keys():
            missing = sorted(cls._NEEDED - payload.keys())
            raise pc.BadPayload(missing[0], f"{cls.KIND}: is missing")
        # Filled through the instance's __dict__ in two C calls, not field by field through the
        # frozen __init__ (object.__setattr__ per field: several times slower): a station that
        # syncs reads hundreds of thousands of scans through here.
        made = _new(cls)
        fields_ = made.__dict__
        fields_.update(cls._DEFAULTS)
        names = cls._NAMES
        fields_.update(payload if payload.keys() <= names else {k: v for k, v in payload.items() if k in names})
        for name, factory in cls._FACTORIES:  # a fresh list for each payload that lacks one
            if name not in payload:
                fields_[name] = factory()
        return made

    @classmethod
    def from_partial(cls, payload: Mapping[str, Any]) -> Self:
        """Read a payload some fields were taken out of (secrets scrubbed for a view, bulky lists
        left in the database): a required field that is missing reads as empty text."""
        return cls.from_payload({**dict.fromkeys(cls._NEEDED, ""), **payload})

    @classmethod
    def parse(cls, payload: Any) -> Self:
        """Read a payload from outside (hostile until checked): every field held to its check,
        and a field this type does not declare refused. BadPayload names the kind and the field."""
        problem = payload_problem(str(cls.KIND), payload)
        if problem is None and isinstance(payload, dict):
            unknown = sorted(k for k in payload if k not in cls._NAMES and k != VERSION_FIELD)
            if unknown:
                problem = pc.BadPayload(unknown[0], f"is not a field of {cls.KIND} v{cls.VERSION}")
        if problem is not None:
            if isinstance(problem, NewerPayload):
                raise problem
            raise pc.BadPayload(problem.field, f"{cls.KIND}: {str(problem).split(': ', 1)[-1]}")
        return cls.from_payload(payload)


PAYLOAD_TYPES: dict[str, type[Payload]] = {}
_P = TypeVar("_P", bound=type[Payload])


def payload_type(
    kind: EventKind, *, version: int = 1, max_json: int = 8000, register: bool = True
) -> Callable[[_P], _P]:
    """Make `cls` the payload type of `kind` at `version`: its schema derived from its fields.
    (`register=False`: a type that is not this station's, e.g. a newer one in a test.)"""

    def make(cls: _P) -> _P:
        if register and str(kind) in PAYLOAD_TYPES:
            raise TypeError(f"two payload types for {kind}")
        cls.KIND, cls.VERSION, cls.MAX_JSON = kind, version, max_json
        required: dict[str, pc.Check] = {}
        optional: dict[str, pc.Check] = {}
        write: list[tuple[str, bool, Any]] = []
        defaults: dict[str, Any] = {}
        factories: list[tuple[str, Callable[[], Any]]] = []
        needed: set[str] = set()
        for f in dataclasses.fields(cls):
            check = f.metadata["check"]
            (required if f.metadata["required"] else optional)[f.name] = check
            factory: Any = f.default_factory
            default = factory() if factory is not dataclasses.MISSING else f.default
            write.append((f.name, bool(f.metadata["required"] or f.metadata.get("always")), default))
            if factory is not dataclasses.MISSING:
                factories.append((f.name, factory))
            elif default is not _NO_DEFAULT:
                defaults[f.name] = default
            if default is _NO_DEFAULT:
                needed.add(f.name)
        cls.SCHEMA = pc.Schema(required, optional, max_json)
        cls._NAMES = frozenset(required) | frozenset(optional)
        cls._WRITE, cls._NEEDED = tuple(write), frozenset(needed)
        cls._DEFAULTS, cls._FACTORIES = defaults, tuple(factories)
        if register:
            PAYLOAD_TYPES[str(kind)] = cls
        return cls

    return make


# --- the kinds -------------------------------------------------------------------------------------------


@payload_type(EventKind.STATION_CREATED)
@dataclass(frozen=True)
class StationCreated(Payload):
    name: str = need(pc.NAME)
    role: str = need(pc.one_of(STATION_ROLES))
    event_code: str = need(pc.text(64, empty_ok=False))
    # A station made before the chain of trust carries none (it is then not an enrolled station).
    certificate: dict[str, Any] = need(pc.small_object, default_factory=dict)
    restored_from_station_id: str = may(pc.text(64), "")
    backup: str = may(pc.text(200), "")


@payload_type(EventKind.KEY_PUBLISHED)
@dataclass(frozen=True)
class KeyPublished(Payload):
    key_id: str = need(pc.KEY_ID)
    public_key: str = need(pc.HEX64)
    event_code: str = need(pc.text(64, empty_ok=False))
    replaces_key_id: str | None = may(pc.nullable(pc.KEY_ID))


@payload_type(EventKind.OPERATOR_ADDED)
@dataclass(frozen=True)
class OperatorAdded(Payload):
    name: str = need(pc.NAME)
    role: str = need(pc.one_of(OPERATOR_ROLES))
    pin_hash: str = need(pc.text(200, empty_ok=False))
    root_grant: str = may(pc.SIGNATURE, "")  # the root key's grant of the meeting's first supervisor


@payload_type(EventKind.ACCREDITATION_IMPORTED, max_json=10**9)
@dataclass(frozen=True)
class AccreditationImported(Payload):
    """The field names once ("columns") and each row as a list in that order: canonical JSON then
    sorts only these few keys, not eleven per row, and the text is half the size. Events recorded
    before carry one object per row and no "columns"; `records()` reads both."""

    revision: str = need(pc.text(64, empty_ok=False))
    rows: list[Any] = need(lambda v: None if isinstance(v, list) else "must be a list")
    source: str = may(pc.text(300), "", always=True)
    sha256: str = may(pc.text(64), "", always=True)
    format: str = may(pc.text(16), "", always=True)
    columns: list[str] | None = may(lambda v: None)  # checked with the rows (participant_rows_problem)
    counts: dict[str, Any] | None = may(pc.small_object)
    withdrawn: list[str] | None = may(pc.list_of(pc.PARTICIPANT, 10**6))

    def records(self) -> list[Any]:
        """The rows as sequences in PARTICIPANT_FIELDS order (the stored rows themselves when the
        columns are in that order, as the importer writes them: nothing is copied)."""
        fields_ = pc.PARTICIPANT_FIELDS
        if self.columns is None:
            empty = ("",) * len(fields_)
            return [tuple(map(row.get, fields_, empty)) for row in self.rows]
        if tuple(self.columns) == fields_:
            return self.rows
        where = [self.columns.index(f) if f in self.columns else -1 for f in fields_]
        return [tuple(row[i] if i >= 0 else "" for i in where) for row in self.rows]


@payload_type(EventKind.IDENTITY_CHECKED)
@dataclass(frozen=True)
class IdentityChecked(Payload):
    participant_id: str = need(pc.PARTICIPANT)
    document_type: str = need(pc.IDENT)
    document_last4: str = need(pc.LAST4)
    # The badge this check was made against (policy.check_counts).
    for_badge: str | None = may(pc.nullable(pc.SERIAL), always=True)
    # What a passport reader's MRZ told the desk (never the number).
    read_by: str | None = may(pc.one_of(("mrz",)))
    expired: bool | None = may(pc.boolean)
    name_matches: bool | None = may(pc.boolean)


@payload_type(EventKind.BADGE_ISSUED)
@dataclass(frozen=True)
class BadgeIssued(Payload):
    serial: str = need(pc.SERIAL)
    participant_id: str = need(pc.PARTICIPANT)
    issue_no: int = need(pc.whole(1, 10**6))
    key_id: str = need(pc.KEY_ID)
    token: str = need(pc.TOKEN)
    replaces: str | None = may(pc.nullable(pc.SERIAL), always=True)
    override_event_id: str | None = may(pc.nullable(pc.UUID), always=True)
    # A focal point collected it for the holder (services/collection.py), on the authority of a
    # letter, after their own identity check.
    collected_by: str = may(pc.PARTICIPANT, "")
    authorisation: str = may(pc.free_text(pc.AUTHORISATION_MAX, empty_ok=False), "")
    collector_check: str | None = may(pc.nullable(pc.UUID))


@payload_type(EventKind.BADGE_PRINTED)
@dataclass(frozen=True)
class BadgePrinted(Payload):
    serial: str = need(pc.SERIAL)
    printer: str = may(pc.text(200), "", always=True)
    layout: str = may(pc.text(64), "", always=True)
    output: str = may(pc.text(400), "", always=True)


@payload_type(EventKind.BADGE_REVOKED)
@dataclass(frozen=True)
class BadgeRevoked(Payload):
    serial: str = need(pc.SERIAL)
    participant_id: str = may(pc.PARTICIPANT, "")
    reason: str = may(pc.IDENT, "revoked")
    replaced_by: str | None = may(pc.nullable(pc.SERIAL))
    conflict_key: str = may(pc.text(300), "")


@payload_type(EventKind.OVERRIDE_GRANTED)
@dataclass(frozen=True)
class OverrideGranted(Payload):
    rule: str = need(pc.text(200, empty_ok=False))
    reason: str = need(pc.free_text(empty_ok=False))
    supervisor: str = need(pc.NAME)
    participant_id: str = may(pc.PARTICIPANT, "", always=True)


@payload_type(EventKind.SCAN_RECORDED)
@dataclass(frozen=True)
class ScanRecorded(Payload):
    local_day: str = need(pc.DAY)
    point_kind: str = need(pc.one_of(("security", "bus")))
    point: str = need(pc.text(64, empty_ok=False))
    verdict: str = need(pc.IDENT)
    reason: str = need(pc.IDENT)
    direction: str = may(pc.text(16), "", always=True)
    departure: str = may(pc.text(64), "", always=True)
    serial: str = may(pc.pattern(pc.SERIAL_RE, "a badge serial", empty_ok=True), "", always=True)
    participant_id: str = may(pc.pattern(pc.ACCREDITATION_ID_RE, "an accreditation id", empty_ok=True), "", always=True)
    counted: bool = may(pc.boolean, True, always=True)
    manual: bool = may(pc.boolean, False, always=True)
    raw: str = may(pc.text(400), "", always=True)
    holder_in_mirror: bool = may(pc.boolean, False, always=True)
    claimed_serial: str = may(pc.text(16), "")
    bus: str = may(pc.text(32), "")
    departure_time: str = may(pc.text(8), "")
    supervisor: str = may(pc.text(120), "")
    manual_note: str = may(pc.free_text(400), "")
    pass_serial: str = may(pc.pattern(pc.PASS_SERIAL_RE, "a pass serial", empty_ok=True), "")


@payload_type(EventKind.DEPARTURE_CLOSED)
@dataclass(frozen=True)
class DepartureClosed(Payload):
    departure: str = need(pc.text(64, empty_ok=False))
    stop: str = need(pc.text(64, empty_ok=False))
    direction: str = need(pc.text(16))
    bus: str = may(pc.text(32), "", always=True)
    departure_time: str = may(pc.text(8), "", always=True)
    opened_at: str = may(pc.text(32), "", always=True)
    headcount: int = may(pc.whole(), 0, always=True)
    capacity: int = may(pc.whole(), 0, always=True)
    local_day: str = may(pc.DAY, "")  # absent in departures closed before it was recorded
    closed_by: str = may(pc.text(64), "")  # "marshal" or "day_change"


@payload_type(EventKind.CONFLICT_RESOLVED)
@dataclass(frozen=True)
class ConflictResolved(Payload):
    conflict_key: str = need(pc.CONFLICT_KEY)
    decision: str = need(pc.text(500))
    reason: str = need(pc.free_text(empty_ok=False))
    kind: str = may(pc.IDENT, "conflict", always=True)
    revoked_serials: list[str] = may(pc.list_of(pc.SERIAL), default_factory=list, always=True)
    kept_serials: list[str] = may(pc.list_of(pc.SERIAL), default_factory=list, always=True)
    sides: list[str] = may(pc.list_of(pc.SERIAL), default_factory=list, always=True)


@payload_type(EventKind.STATION_CERTIFIED)
@dataclass(frozen=True)
class StationCertified(Payload):
    certificate: dict[str, Any] = need(pc.small_object)


@payload_type(EventKind.STATION_REVOKED)
@dataclass(frozen=True)
class StationRevoked(Payload):
    revocation: dict[str, Any] = need(pc.small_object)
    station_name: str = may(pc.text(120), "", always=True)


@payload_type(EventKind.SIGNIN_FAILED)
@dataclass(frozen=True)
class SigninFailed(Payload):
    name: str = need(pc.text(120))
    where: str = need(pc.IDENT)
    failures: int = may(pc.whole(), 0, always=True)
    locked_seconds: int = may(pc.whole(), 0, always=True)


@payload_type(EventKind.PHOTO_IMPORTED, max_json=photos.MAX_PHOTO_BASE64 + 2000)
@dataclass(frozen=True)
class PhotoImported(Payload):
    participant_id: str = need(pc.PARTICIPANT)
    jpeg: str = need(pc.text(photos.MAX_PHOTO_BASE64, empty_ok=False))
    sha256: str = need(pc.HEX64)
    source_sha256: str = need(pc.HEX64)
    width: int = need(pc.whole(1, photos.PHOTO_WIDTH))
    height: int = need(pc.whole(1, photos.PHOTO_HEIGHT))
    source: str = may(pc.text(300), "", always=True)


@payload_type(EventKind.SECURITY_ALERT)
@dataclass(frozen=True)
class SecurityAlert(Payload):
    source: str = need(pc.text(200))
    reason: str = need(pc.free_text(empty_ok=False))
    fingerprint: str = need(pc.text(64))
    station_id: str = may(pc.text(64), "")
    seq: int | None = may(pc.whole(0))
    event_id: str = may(pc.text(64), "")
    kind: str = may(pc.text(40), "")
    count: int | None = may(pc.whole())

    @classmethod
    def about(
        cls,
        *,
        source: str,
        reason: str,
        fingerprint: str,
        station_id: str = "",
        seq: int | None = None,
        event_id: str = "",
        kind: str = "",
        count: int | None = None,
    ) -> SecurityAlert:
        """An alert about refused input. Its words quote that input (a field of a forged event, a
        station's name from a bundle), so every text field is made fit to record: characters the log
        refuses shown as <U+XXXX>, each cut to its length. An alert that cannot be recorded would turn a
        refusal into a crash, and the refused input would leave no trace."""
        return cls(
            source=pc.shown_safely(source, 200) or "?",
            reason=pc.shown_safely(reason, pc.MAX_PAYLOAD_TEXT, free=True) or "refused",
            fingerprint=pc.shown_safely(fingerprint, 64) or "?",
            station_id=pc.shown_safely(station_id, 64),
            seq=seq,
            event_id=pc.shown_safely(event_id, 64),
            kind=pc.shown_safely(kind, 40),
            count=count,
        )


@payload_type(EventKind.PASSES_PRINTED)
@dataclass(frozen=True)
class PassesPrinted(Payload):
    """A printed run of temporary passes (domain/passes.py)."""

    day: str = need(pc.DAY)
    first: int = need(pc.whole(1, 99_999))
    last: int = need(pc.whole(1, 99_999))
    key_id: str = need(pc.KEY_ID)
    output: str = may(pc.text(400), "", always=True)
    layout: str = may(pc.text(64), "")
    # The desk mark of key_id (domain/passes.desk_mark) in every serial of the run; a run without one was
    # printed before desk marks (TP0012).
    mark: str = may(pc.pattern(re.compile(r"[A-Z]{3}"), "a desk mark"), "")


@payload_type(EventKind.PASS_ASSIGNED)
@dataclass(frozen=True)
class PassAssigned(Payload):
    serial: str = need(pc.PASS_SERIAL)
    participant_id: str = need(pc.PARTICIPANT)
    day: str = need(pc.DAY)
    document_type: str = need(pc.IDENT)
    document_last4: str = need(pc.LAST4)
    override_event_id: str | None = may(pc.nullable(pc.UUID))


@payload_type(EventKind.PASS_VOIDED)
@dataclass(frozen=True)
class PassVoided(Payload):
    serial: str = need(pc.PASS_SERIAL)
    reason: str = need(pc.free_text(400, empty_ok=False))


@payload_type(EventKind.PASS_ASSIGNMENT_OVERRIDDEN)
@dataclass(frozen=True)
class PassAssignmentOverridden(Payload):
    """A supervisor's correction of an assignment: participant_id "" un-assigns (the pass is unused again)."""

    serial: str = need(pc.PASS_SERIAL)
    participant_id: str = need(
        pc.pattern(pc.ACCREDITATION_ID_RE, "an accreditation id, or empty to un-assign", empty_ok=True)
    )
    reason: str = need(pc.free_text(400, empty_ok=False))
    previous_participant_id: str = may(pc.pattern(pc.ACCREDITATION_ID_RE, "an accreditation id", empty_ok=True), "")


@payload_type(EventKind.PHOTO_REMOVED)
@dataclass(frozen=True)
class PhotoRemoved(Payload):
    """A photo taken off. source_sha256 is the removed photo's source file, so re-importing that same file
    does not bring it back (a corrected photo, another file, does)."""

    participant_id: str = need(pc.PARTICIPANT)
    reason: str = need(pc.free_text(400, empty_ok=False))
    source_sha256: str = may(pc.pattern(pc.HEX64_RE, "a SHA-256", empty_ok=True), "")


SCHEMAS: Mapping[str, pc.Schema] = {kind: cls.SCHEMA for kind, cls in PAYLOAD_TYPES.items()}


def read(kind: str, payload: Mapping[str, Any]) -> Payload:
    """The typed payload of an event in the log (KeyError for a kind with no type)."""
    return PAYLOAD_TYPES[kind].from_payload(payload)


# --- the check every recorded and every merged payload passes -------------------------------------------

_SCAN_FIELDS = ScanRecorded._NAMES
_SCAN_FLAGS = ("counted", "manual", "holder_in_mirror")
_IDENT_MATCH, _DAY_MATCH, _SERIAL_MATCH, _ID_MATCH, _PASS_MATCH = (
    pc.IDENT_RE.fullmatch,
    pc.DAY_RE.fullmatch,
    pc.SERIAL_RE.fullmatch,
    pc.ACCREDITATION_ID_RE.fullmatch,
    pc.PASS_SERIAL_RE.fullmatch,
)


def _ordinary_scan(p: dict[str, Any]) -> bool:
    """True for the scan payloads a lane records thousands of times a day, decided in a few
    microseconds (all text printable ASCII within its limits, the patterns right); anything else
    goes through the full schema, which says what is wrong."""
    if not p.keys() <= _SCAN_FIELDS:
        return False
    # The three true/false fields hold booleans and every other field text ("yes" in counted, or
    # true in direction, goes to the full schema, which names the field).
    flags = 0
    for name in _SCAN_FLAGS:
        if name in p:
            if type(p[name]) is not bool:
                return False
            flags += 1
    texts = [v for v in p.values() if type(v) is str]
    if len(texts) + flags != len(p):
        return False
    joined = " ".join(texts)
    if not (joined.isascii() and joined.isprintable()):
        return False
    g = p.get
    if (
        len(joined) > 64
        and (
            len(g("point", "")) > 64
            or len(g("departure", "")) > 64
            or len(g("raw", "")) > 400
            or len(g("manual_note", "")) > 400
            or len(g("supervisor", "")) > 120
        )
    ) or (
        len(g("direction", "")) > 16
        or len(g("bus", "")) > 32
        or len(g("departure_time", "")) > 8
        or len(g("claimed_serial", "")) > 16
    ):
        return False
    serial, pid, pass_serial = g("serial", ""), g("participant_id", ""), g("pass_serial", "")
    if pass_serial and not _PASS_MATCH(pass_serial):
        return False
    return bool(
        _DAY_MATCH(g("local_day", ""))
        and g("point_kind") in ("security", "bus")
        and g("point")
        and _IDENT_MATCH(g("verdict", ""))
        and _IDENT_MATCH(g("reason", ""))
        and (not serial or _SERIAL_MATCH(serial))
        and (not pid or _ID_MATCH(pid))
    )


def names_a_version(payload: Mapping[str, Any]) -> bool:
    """True when a payload names its version: a kind at version 2 or more (perhaps one this
    station does not know yet). Version-1 payloads never do."""
    return VERSION_FIELD in payload


def version_problem(kind: str, payload: Mapping[str, Any]) -> pc.BadPayload | None:
    """None when this station knows the payload's version (absent means 1)."""
    version = payload.get(VERSION_FIELD)
    if version is None:
        return None
    if type(version) is not int or version < 1:
        return pc.BadPayload(VERSION_FIELD, "must be a whole number from 1")
    known = PAYLOAD_TYPES.get(kind)
    if known is not None and version > known.VERSION:
        return NewerPayload(kind, version)
    return None


def payload_problem(kind: str, payload: Any, payload_json_length: int | None = None) -> pc.BadPayload | None:
    """None when `payload` is a valid payload of `kind`."""
    if kind == "scan_recorded" and type(payload) is dict and _ordinary_scan(payload):
        return None
    payload_cls = PAYLOAD_TYPES.get(kind)
    if payload_cls is None:
        return pc.BadPayload("kind", f"unknown event kind {kind[:40]!r}")
    if not isinstance(payload, dict):
        return pc.BadPayload("payload", "must be an object")
    newer = version_problem(kind, payload)
    if newer is not None:
        return newer
    schema = payload_cls.SCHEMA
    if payload_json_length is not None and payload_json_length > schema.max_json:
        return pc.BadPayload("payload", f"is {payload_json_length} characters long; at most {schema.max_json}")
    found = schema.problems(payload)
    if (
        found is None
        and kind == "passes_printed"
        and not (0 <= payload["last"] - payload["first"] < pc.MAX_PASSES_PER_RUN)
    ):
        return pc.BadPayload("last", f"a run is 1..{pc.MAX_PASSES_PER_RUN} passes, first to last")
    if found is None and kind == "passes_printed" and payload.get("mark", "") not in ("", desk_mark(payload["key_id"])):
        return pc.BadPayload("mark", "is not the desk mark of the run's key")
    if found is None and kind == "photo_imported":
        image = photos.photo_problem(payload)
        if image:
            return pc.BadPayload(*image)
    if found is None and kind == "accreditation_imported":
        problem = pc.participant_rows_problem(payload)
        if problem:
            return pc.BadPayload(problem.split(":", 1)[0], problem.split(": ", 1)[-1])
    return found


__all__ = [
    "PAYLOAD_TYPES",
    "SCHEMAS",
    "VERSION_FIELD",
    "AccreditationImported",
    "BadgeIssued",
    "BadgePrinted",
    "BadgeRevoked",
    "ConflictResolved",
    "DepartureClosed",
    "IdentityChecked",
    "KeyPublished",
    "NewerPayload",
    "OperatorAdded",
    "OverrideGranted",
    "PassAssigned",
    "PassVoided",
    "PassesPrinted",
    "Payload",
    "PhotoImported",
    "ScanRecorded",
    "SecurityAlert",
    "SigninFailed",
    "StationCertified",
    "StationCreated",
    "StationRevoked",
    "payload_problem",
    "read",
    "names_a_version",
    "version_problem",
]
