"""Operators and PINs. PINs are stored only as scrypt hashes (memory-hard KDF)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from regdesk import errors
from regdesk.errors import RegdeskError
from regdesk.domain.events import EventKind
from regdesk.services.station import Station
from regdesk.store.models import Operator

OPERATOR_ROLES = ("clerk", "security", "marshal", "supervisor")
# scrypt with N=2^14, r=8 uses 16 MiB per hash: slow to brute-force a 4-8 digit PIN offline,
# still ~50 ms at the desk.
_N, _R, _P = 2**14, 8, 1


class OperatorError(RegdeskError, ValueError):
    pass


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def check_pin(pin: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(pin.encode("utf-8"), salt=base64.b64decode(salt_b64), n=int(n), r=int(r),
                            p=int(p), maxmem=64 * 1024 * 1024, dklen=32)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def add_operator(station: Station, name: str, role: str, pin: str, *, by: str = "system") -> None:
    name = name.strip()
    if not name:
        raise OperatorError("operator name is empty")
    if role not in OPERATOR_ROLES:
        raise OperatorError(f"unknown operator role {role!r}; choose one of {', '.join(OPERATOR_ROLES)}")
    if not (pin.isdigit() and 4 <= len(pin) <= 12):
        raise OperatorError("PIN must be 4 to 12 digits")
    with station.transaction() as session:
        station.record(session, EventKind.OPERATOR_ADDED,
                       {"name": name, "role": role, "pin_hash": hash_pin(pin)}, by)


def authenticate(session: Session, name: str, pin: str) -> Operator | None:
    operator = session.execute(select(Operator).where(Operator.name == name.strip())).scalar_one_or_none()
    if operator is None or not operator.active or not check_pin(pin, operator.pin_hash):
        return None
    return operator


def authenticate_supervisor(station: Station, name: str, pin: str) -> bool:
    with station.sessions() as session:
        operator = authenticate(session, name, pin)
        return operator is not None and operator.role == "supervisor"


def list_operators(station: Station) -> list[tuple[str, str]]:
    with station.sessions() as session:
        return list(session.execute(select(Operator.name, Operator.role).order_by(Operator.name)).all())


class NotAllowed(OperatorError, errors.NotAllowed):
    """The operator's role does not permit this screen or action."""


def require_role(operator_role: str | None, allowed: tuple[str, ...] | frozenset[str], action: str = "this") -> None:
    """Service-level guard: raise NotAllowed unless `operator_role` is one of `allowed`."""
    if operator_role not in allowed:
        who = f"a {operator_role}" if operator_role else "an unknown operator"
        raise NotAllowed(f"{action} is for {' or '.join(sorted(allowed))} operators only; {who} may not")


def role_of(station: Station, name: str) -> str | None:
    """The active operator's role, or None when no such active operator exists on this station."""
    with station.sessions() as session:
        operator = session.execute(select(Operator).where(Operator.name == name.strip())).scalar_one_or_none()
        return operator.role if operator is not None and operator.active else None
