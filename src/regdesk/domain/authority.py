"""Who may do what: the one table of roles and authority. Pure: no I/O, no clock.

Three questions are answered here, and only here:
  * which operator may sign in at which station (`may_sign_in`),
  * which screen an operator may open at a station (`may_open`),
  * which act an operator may perform at a station (`may_act`), and which station and operator
    may make which kind of event (`event_refusal`). The event rule is applied twice with the
    same table: when a station records an event, and when another station's event is merged.

"system" is the station itself acting without a person (creating itself, publishing its first
badge key, raising a security alert). A person can never sign in as "system".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class StationRole(StrEnum):
    DESK = "desk"
    SECURITY = "security"
    BUS = "bus"
    SUPERVISOR = "supervisor"


class OperatorRole(StrEnum):
    CLERK = "clerk"
    SECURITY = "security"
    MARSHAL = "marshal"
    SUPERVISOR = "supervisor"


SYSTEM = "system"  # the station acting by itself; never a person's role or name

STATION_ROLES: tuple[str, ...] = tuple(StationRole)
OPERATOR_ROLES: tuple[str, ...] = tuple(OperatorRole)
SIGNING_ROLES: tuple[str, ...] = (StationRole.DESK,)  # stations that hold a badge-signing key
SCAN_ROLES: tuple[str, ...] = (StationRole.SECURITY, StationRole.BUS)

STATION_ROLE_LABELS: Mapping[str, str] = {
    StationRole.DESK: "Registration desk",
    StationRole.SECURITY: "Security screening",
    StationRole.BUS: "Bus stop",
    StationRole.SUPERVISOR: "Supervisor",
}
STATION_ROLE_WORDS: Mapping[str, str] = {
    StationRole.DESK: "a registration desk",
    StationRole.SECURITY: "a security screening point",
    StationRole.BUS: "a bus stop",
    StationRole.SUPERVISOR: "a supervisor station",
}
OPERATOR_ROLE_WORDS: Mapping[str, str] = {
    OperatorRole.CLERK: "a desk clerk",
    OperatorRole.SECURITY: "security staff",
    OperatorRole.MARSHAL: "a bus marshal",
    OperatorRole.SUPERVISOR: "a supervisor",
}

_ANY_STATION = frozenset(STATION_ROLES)
_STAFF_AT: Mapping[str, frozenset[str]] = {
    # The station role each kind of staff works at; supervisors may sign in anywhere.
    OperatorRole.CLERK: frozenset({StationRole.DESK}),
    OperatorRole.SECURITY: frozenset({StationRole.SECURITY}),
    OperatorRole.MARSHAL: frozenset({StationRole.BUS}),
    OperatorRole.SUPERVISOR: _ANY_STATION,
}


def may_sign_in(operator_role: str, station_role: str) -> bool:
    return station_role in _STAFF_AT.get(operator_role, frozenset())


def sign_in_refusal(name: str, operator_role: str, station_role: str) -> str | None:
    if may_sign_in(operator_role, station_role):
        return None
    who = OPERATOR_ROLE_WORDS.get(operator_role, operator_role)
    where = STATION_ROLE_WORDS.get(station_role, station_role)
    return f"{name} is {who} and cannot sign in at {where}."


# --- screens ---------------------------------------------------------------------------------------


class Screen(StrEnum):
    DESK = "desk"
    SECURITY = "security"
    BUS = "bus"
    SUPERVISOR = "supervisor"
    AUDIT = "audit"


@dataclass(frozen=True)
class ScreenRule:
    label: str
    key: str  # function key that switches to it (supervisors only)
    stations: frozenset[str]  # station roles where the screen can work at all
    operators: frozenset[str]  # operator roles who may open it


SCREENS: Mapping[str, ScreenRule] = {
    # A scan screen needs a station of its kind: the scanner records scans as that scan point.
    Screen.DESK: ScreenRule(
        "Desk", "f9", frozenset({StationRole.DESK}), frozenset({OperatorRole.CLERK, OperatorRole.SUPERVISOR})
    ),
    Screen.SECURITY: ScreenRule(
        "Security",
        "f10",
        frozenset({StationRole.SECURITY}),
        frozenset({OperatorRole.SECURITY, OperatorRole.SUPERVISOR}),
    ),
    Screen.BUS: ScreenRule(
        "Bus", "f11", frozenset({StationRole.BUS}), frozenset({OperatorRole.MARSHAL, OperatorRole.SUPERVISOR})
    ),
    Screen.SUPERVISOR: ScreenRule("Supervisor", "f12", _ANY_STATION, frozenset({OperatorRole.SUPERVISOR})),
    Screen.AUDIT: ScreenRule("Audit", "f7", _ANY_STATION, frozenset({OperatorRole.SUPERVISOR})),
}

START_SCREEN: Mapping[str, str] = {
    StationRole.DESK: Screen.DESK,
    StationRole.SECURITY: Screen.SECURITY,
    StationRole.BUS: Screen.BUS,
    StationRole.SUPERVISOR: Screen.SUPERVISOR,
}


def may_open(screen: str, operator_role: str | None, station_role: str) -> bool:
    rule = SCREENS.get(screen)
    return rule is not None and operator_role in rule.operators and station_role in rule.stations


def screens_for(operator_role: str | None, station_role: str) -> list[str]:
    return [name for name in SCREENS if may_open(name, operator_role, station_role)]


# --- acts (things a person does that are not one event kind) ---------------------------------------


class Act(StrEnum):
    ISSUE_BADGE = "issue_badge"
    CHECK_IDENTITY = "check_identity"
    PRINT_BADGE = "print_badge"
    SCAN = "scan"
    MANUAL_ENTRY = "manual_entry"  # let someone through by name when the badge cannot be read
    OVERRIDE_RULE = "override_rule"
    CLOSE_DEPARTURE = "close_departure"
    IMPORT_ACCREDITATION = "import_accreditation"
    ADD_OPERATOR = "add_operator"
    RESOLVE_CONFLICT = "resolve_conflict"
    ROTATE_KEY = "rotate_key"
    EXPORT_TALLIES = "export_tallies"
    READ_AUDIT = "read_audit"
    PROVISION_STATION = "provision_station"
    REVOKE_STATION = "revoke_station"
    PRINT_PASSES = "print_passes"  # the contingency stock of temporary passes (domain/passes.py)
    ASSIGN_PASS = "assign_pass"
    VOID_PASS = "void_pass"
    OVERRIDE_PASS_ASSIGNMENT = "override_pass_assignment"
    REMOVE_PHOTO = "remove_photo"


_DESK_STAFF = frozenset({OperatorRole.CLERK, OperatorRole.SUPERVISOR})
_SUPERVISORS = frozenset({OperatorRole.SUPERVISOR})
_SCAN_STAFF = frozenset({OperatorRole.SECURITY, OperatorRole.MARSHAL, OperatorRole.SUPERVISOR})
_DESK = frozenset({StationRole.DESK})
_ADMIN_STATIONS = frozenset({StationRole.DESK, StationRole.SUPERVISOR})

ACTS: Mapping[str, tuple[frozenset[str], frozenset[str], str]] = {
    # act: (station roles, operator roles, words for a refusal)
    Act.ISSUE_BADGE: (_DESK, _DESK_STAFF, "issuing a badge"),
    Act.CHECK_IDENTITY: (_DESK, _DESK_STAFF, "recording an identity check"),
    Act.PRINT_BADGE: (_DESK, _DESK_STAFF, "printing a badge"),
    Act.SCAN: (frozenset(SCAN_ROLES), _SCAN_STAFF, "scanning badges"),
    Act.MANUAL_ENTRY: (frozenset(SCAN_ROLES), _SUPERVISORS, "a manual entry"),
    Act.OVERRIDE_RULE: (_DESK, _SUPERVISORS, "overriding a rule"),
    Act.CLOSE_DEPARTURE: (
        frozenset({StationRole.BUS}),
        frozenset({OperatorRole.MARSHAL, OperatorRole.SUPERVISOR}),
        "closing a departure",
    ),
    # The desk refreshes its mirror from the UN export at the start of a shift; the import is
    # validated whole and never touches badges or scans.
    Act.IMPORT_ACCREDITATION: (_ADMIN_STATIONS, _DESK_STAFF, "importing the accreditation list"),
    Act.ADD_OPERATOR: (_ADMIN_STATIONS, _SUPERVISORS, "adding an operator"),
    Act.RESOLVE_CONFLICT: (_ADMIN_STATIONS, _SUPERVISORS, "resolving a conflict"),
    Act.ROTATE_KEY: (_DESK, _SUPERVISORS, "rotating the badge-signing key"),
    Act.EXPORT_TALLIES: (_ANY_STATION, _SUPERVISORS, "exporting tallies"),
    Act.READ_AUDIT: (_ANY_STATION, _SUPERVISORS, "the audit view"),
    Act.PROVISION_STATION: (_ADMIN_STATIONS, _SUPERVISORS, "provisioning a station"),
    Act.REVOKE_STATION: (_ADMIN_STATIONS, _SUPERVISORS, "revoking a station"),
    # Passes are signed with a desk's badge key, so they are printed on a desk, by a supervisor only.
    Act.PRINT_PASSES: (_DESK, _SUPERVISORS, "printing temporary passes"),
    Act.ASSIGN_PASS: (_ADMIN_STATIONS, _DESK_STAFF, "assigning a temporary pass"),
    Act.VOID_PASS: (_ADMIN_STATIONS, _SUPERVISORS, "voiding a temporary pass"),
    # Photos come and go with the accreditation list: the same stations and people as its import.
    Act.REMOVE_PHOTO: (_ADMIN_STATIONS, _DESK_STAFF, "removing a photo"),
    Act.OVERRIDE_PASS_ASSIGNMENT: (_ADMIN_STATIONS, _SUPERVISORS, "re-assigning or un-assigning a temporary pass"),
}


def act_refusal(act: str, operator_role: str | None, station_role: str) -> str | None:
    """None when allowed, else one sentence saying who may."""
    stations, operators, words = ACTS[act]
    if station_role not in stations:
        where = " or ".join(sorted(STATION_ROLE_WORDS.get(s, s) for s in stations))
        return f"{words.capitalize()} is done at {where}, not at {STATION_ROLE_WORDS.get(station_role, station_role)}."
    if operator_role not in operators:
        who = OPERATOR_ROLE_WORDS.get(operator_role or "", "an unknown operator")
        allowed = " or ".join(sorted(OPERATOR_ROLE_WORDS.get(o, o) for o in operators))
        return f"{words.capitalize()} is only for {allowed}; {who} may not."
    return None


def may_act(act: str, operator_role: str | None, station_role: str) -> bool:
    return act_refusal(act, operator_role, station_role) is None


# --- events ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventRule:
    stations: frozenset[str]
    operators: frozenset[str]  # operator roles; SYSTEM for the station itself


_SYS = frozenset({SYSTEM})
EVENT_RULES: Mapping[str, EventRule] = {
    "station_created": EventRule(_ANY_STATION, _SYS),
    "key_published": EventRule(_DESK, _SYS | _SUPERVISORS),
    # A root-signed grant lets "system" add the meeting's first supervisor (checked in trust).
    "operator_added": EventRule(_ADMIN_STATIONS, _SUPERVISORS | _SYS),
    "accreditation_imported": EventRule(_ADMIN_STATIONS, _DESK_STAFF),
    "identity_checked": EventRule(_DESK, _DESK_STAFF),
    "badge_issued": EventRule(_DESK, _DESK_STAFF),
    "badge_printed": EventRule(_DESK, _DESK_STAFF),
    "badge_revoked": EventRule(_ADMIN_STATIONS, _DESK_STAFF),
    "override_granted": EventRule(_DESK, _DESK_STAFF),
    "scan_recorded": EventRule(frozenset(SCAN_ROLES), _SCAN_STAFF),
    "departure_closed": EventRule(
        frozenset({StationRole.BUS}), frozenset({OperatorRole.MARSHAL, OperatorRole.SUPERVISOR})
    ),
    "conflict_resolved": EventRule(_ADMIN_STATIONS, _SUPERVISORS),
    "station_certified": EventRule(_ADMIN_STATIONS, _SUPERVISORS),
    "station_revoked": EventRule(_ADMIN_STATIONS, _SUPERVISORS),
    "signin_failed": EventRule(_ANY_STATION, _SYS),
    "security_alert": EventRule(_ANY_STATION, _SYS),
    "passes_printed": EventRule(_DESK, _SUPERVISORS),
    "pass_assigned": EventRule(_ADMIN_STATIONS, _DESK_STAFF),
    "pass_voided": EventRule(_ADMIN_STATIONS, _SUPERVISORS),
    "pass_assignment_overridden": EventRule(_ADMIN_STATIONS, _SUPERVISORS),
    # Photos come with the accreditation list (regdesk import --photos): the same stations and
    # people as the list itself; a scan point can never add or change a photo.
    "photo_imported": EventRule(_ADMIN_STATIONS, _DESK_STAFF),
    "photo_removed": EventRule(_ADMIN_STATIONS, _DESK_STAFF),
}

# Which scan-point kind each scan station records (a bus stop cannot pretend to be a security lane).
_SCAN_POINT_OF_STATION: Mapping[str, str] = {StationRole.SECURITY: "security", StationRole.BUS: "bus"}


def event_refusal(kind: str, station_role: str, operator_role: str, payload: Mapping[str, Any]) -> str | None:
    """None when a station of `station_role`, acting as `operator_role`, may record this event."""
    rule = EVENT_RULES.get(kind)
    if rule is None:
        return f"unknown event kind {kind!r}"
    if station_role not in rule.stations:
        return f"a {station_role} station may not record {kind}"
    if operator_role not in rule.operators:
        who = "the station itself" if operator_role == SYSTEM else f"a {operator_role or 'nameless'} operator"
        return f"{who} may not record {kind}"
    if kind == "scan_recorded" and payload.get("point_kind") != _SCAN_POINT_OF_STATION.get(station_role):
        return f"a {station_role} station may not record {payload.get('point_kind')!r} scans"
    if kind == "operator_added" and operator_role == SYSTEM and "root_grant" not in payload:
        return "only a supervisor, or the meeting's root key, may add an operator"
    return None


__all__ = [
    "ACTS",
    "Act",
    "EVENT_RULES",
    "OPERATOR_ROLES",
    "OPERATOR_ROLE_WORDS",
    "OperatorRole",
    "SCAN_ROLES",
    "SCREENS",
    "SIGNING_ROLES",
    "START_SCREEN",
    "STATION_ROLES",
    "STATION_ROLE_LABELS",
    "STATION_ROLE_WORDS",
    "SYSTEM",
    "Screen",
    "StationRole",
    "act_refusal",
    "event_refusal",
    "may_act",
    "may_open",
    "may_sign_in",
    "screens_for",
    "sign_in_refusal",
]
