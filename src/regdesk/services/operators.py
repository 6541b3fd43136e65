"""Operators: adding them, and signing them in, the same way for the TUI and the CLI.

Credentials are stored only as scrypt hashes (domain/credentials.py): PINs for clerks, security
staff and marshals, passphrases for supervisors. Wrong credentials are counted per name in the
station database, so every process on the station (TUI, CLI, a second TUI) shares one count:
after FREE_ATTEMPTS misses the name is locked for a delay that doubles with each further miss.
Each miss is recorded as a `signin_failed` event (never the secret itself), so supervisors see
it in the audit and on their screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from regdesk import errors
from regdesk.domain import authority, credentials
from regdesk.domain import event_payloads as ep
from regdesk.domain import trust as certs
from regdesk.domain.events import EventKind
from regdesk.errors import RegdeskError
from regdesk.services.station import SYSTEM_OPERATOR, Station
from regdesk.store.models import Operator, SigninThrottle
from regdesk.store.queries import station as station_queries

OPERATOR_ROLES = authority.OPERATOR_ROLES
FREE_ATTEMPTS = 4  # misses before the first lockout
FIRST_LOCKOUT_SECONDS = 30
MAX_LOCKOUT_SECONDS = 3600


class OperatorError(RegdeskError, ValueError):
    pass


class NotAllowed(OperatorError, errors.NotAllowed):
    """The operator's role does not permit this screen or action."""


class SignInRefused(OperatorError):
    """Wrong name or secret, or locked out. Never says which of name or secret was wrong."""

    exit_code = 4

    def __init__(self, message: str, *, locked_seconds: int = 0, attempts_left: int | None = None) -> None:
        super().__init__(message)
        self.locked_seconds = locked_seconds
        self.attempts_left = attempts_left


@dataclass(frozen=True)
class OperatorSession:
    """Who is signed in; every event recorded for them carries `name`."""

    name: str
    role: str


# --- adding operators ------------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    problem = certs_name_problem(name)
    if problem:
        raise OperatorError(f"operator name: {problem}")
    return name


def certs_name_problem(name: str) -> str | None:
    from regdesk.domain.payloads import text_problem

    if name == SYSTEM_OPERATOR:
        return f"{SYSTEM_OPERATOR!r} is reserved for the station itself"
    return text_problem(name, 120, empty_ok=False)


def _check_secret(name: str, role: str, secret: str) -> None:
    if role not in OPERATOR_ROLES:
        raise OperatorError(f"unknown operator role {role!r}; choose one of {', '.join(OPERATOR_ROLES)}")
    problem = credentials.secret_problem(secret, role)
    if problem:
        raise OperatorError(f"{name}: {problem}")


def add_operator(station: Station, name: str, role: str, secret: str, *, by: str) -> None:
    """Add or update an operator. `by` must be a supervisor of this meeting (already signed in)."""
    name = _clean_name(name)
    _check_secret(name, role, secret)
    with station.transaction() as session:
        station.record(
            session,
            EventKind.OPERATOR_ADDED,
            ep.OperatorAdded(name, role, credentials.hash_secret(secret, role)),
            by,
        )


def add_first_supervisor(station: Station, root: Ed25519PrivateKey, name: str, secret: str) -> None:
    """The meeting's first supervisor, granted by the root key itself (nobody can sign in yet)."""
    name = _clean_name(name)
    _check_secret(name, "supervisor", secret)
    pin_hash = credentials.hash_secret(secret, "supervisor")
    grant = certs.grant_operator(root, meeting=station.config.code, name=name, role="supervisor", pin_hash=pin_hash)
    with station.transaction() as session:
        station.record(
            session,
            EventKind.OPERATOR_ADDED,
            ep.OperatorAdded(name, "supervisor", pin_hash, root_grant=grant),
            SYSTEM_OPERATOR,
        )


def list_operators(station: Station) -> list[tuple[str, str]]:
    with station.sessions() as session:
        return list(station_queries.active_operators(session))


def role_of(station: Station, name: str) -> str | None:
    """The active operator's role, or None when no such active operator exists on this station."""
    with station.sessions() as session:
        operator = session.get(Operator, " ".join(name.split()))
        return operator.role if operator is not None and operator.active else None


# --- signing in --------------------------------------------------------------------------------------------


def _lock_seconds(failures: int) -> int:
    if failures < FREE_ATTEMPTS:
        return 0
    # 1 << n rather than 2 ** n: the same number for n >= 0 (checked above), and typed as int
    return min(FIRST_LOCKOUT_SECONDS * (1 << (failures - FREE_ATTEMPTS)), MAX_LOCKOUT_SECONDS)


def seconds_locked(station: Station, name: str) -> int:
    with station.sessions() as session:
        row = session.get(SigninThrottle, " ".join(name.split()))
        remaining = (row.locked_until - station.wall_clock()) if row is not None else 0
    return max(0, int(remaining + 0.999))


def _lookup(session: Session, name: str) -> Operator | None:
    operator = session.get(Operator, name)
    return operator if operator is not None and operator.active else None


def sign_in(station: Station, name: str, secret: str, *, where: str = "cli") -> OperatorSession:
    """Check an operator's credential, with the station-wide throttle. Raises SignInRefused."""
    name = " ".join(name.split())
    if not name or not secret:
        raise SignInRefused("type the operator name and the PIN or passphrase")
    locked = seconds_locked(station, name)
    if locked:
        raise SignInRefused(
            f"too many wrong attempts for {name}: signing in is locked for {locked} s", locked_seconds=locked
        )
    with station.sessions() as session:
        operator = _lookup(session, name)
        stored = operator.pin_hash if operator is not None else credentials.hash_secret("x" * 12, "clerk")
        role = operator.role if operator is not None else ""
    matches = credentials.secret_matches(secret, stored)  # hashed even for unknown names: same timing
    with station.transaction() as session:
        row = session.get(SigninThrottle, name)
        if matches and operator is not None:
            if row is not None:
                session.delete(row)
            return OperatorSession(name, role)
        if row is None:
            row = SigninThrottle(name=name, failures=0, locked_until=0.0)
            session.add(row)
        row.failures += 1
        lock = _lock_seconds(row.failures)
        row.locked_until = station.wall_clock() + lock
        station.record(
            session,
            EventKind.SIGNIN_FAILED,
            ep.SigninFailed(name[:120], where, row.failures, lock),
            SYSTEM_OPERATOR,
        )
        failures = row.failures
    if lock:
        raise SignInRefused(
            f"name or PIN/passphrase is wrong; {failures} wrong attempts: signing in as {name} is locked for {lock} s",
            locked_seconds=lock,
        )
    left = FREE_ATTEMPTS - failures
    raise SignInRefused(
        f"name or PIN/passphrase is wrong ({left} attempt{'s' if left != 1 else ''} left before a lockout)",
        attempts_left=left,
    )


def authorise(station: Station, name: str, secret: str, act: str, *, where: str = "cli") -> OperatorSession:
    """Sign in and check that this operator may do `act` at this station."""
    session = sign_in(station, name, secret, where=where)
    refusal = authority.act_refusal(act, session.role, station.role)
    if refusal:
        raise NotAllowed(refusal)
    return session


def authenticate_supervisor(station: Station, name: str, secret: str, *, where: str = "tui") -> bool:
    """A supervisor vouching for an act at someone else's station (override, manual entry)."""
    try:
        return sign_in(station, name, secret, where=where).role == authority.OperatorRole.SUPERVISOR
    except SignInRefused:
        return False


def require_act(station: Station, operator: str, act: str) -> str:
    """The operator's role, once authority.py allows `act` for it at this station."""
    role = role_of(station, operator)
    refusal = authority.act_refusal(act, role, station.role)
    if refusal:
        raise NotAllowed(refusal)
    assert role is not None
    return role
