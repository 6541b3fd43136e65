"""Issue 10, tried as an attacker would: hand-written bundles on a USB stick, rogue hub rows, a stolen
scan laptop's key, guessed credentials. Each attack must change no state, say why in one line, and
leave a security alert for the supervisors; genuine events keep flowing."""

from __future__ import annotations

import gzip
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from meeting import ROOT_PASSPHRASE, SUPERVISOR_SECRET, SUPERVISOR_SESSION, exported_root_key, secret_of
from pg_fixtures import hub_url  # noqa: F401 - fixture
from security_alerts import alerts, refused_bundle, state
from sqlalchemy import create_engine, select, text
from sync_helpers import event_ids, issue, make_station, security_scanner

from conftest import local, participant_row
from regdesk.clock import FixedClock
from regdesk.domain import chain, credentials
from regdesk.domain import token as tokens
from regdesk.domain.events import EventKind, canonical_json, format_utc
from regdesk.services import bundles, integrity, operators, provisioning, sync
from regdesk.services.merge import TrustContext, incoming_from_row, merge, travelling_rows
from regdesk.services.station import seal_own_head
from regdesk.store import eventlog
from regdesk.store.models import EventRow

pytestmark = pytest.mark.xdist_group("trust")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


# westin and icc: tests/helpers/pass_stations.py (a plugin), with this module's clock.


# --- helpers: what an attacker writes --------------------------------------------------------------------


def bundle_lines(path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh.read().splitlines()]


def write_bundle(path, header: dict, events: list[dict]) -> None:
    header = {**header, "count": len(events)}
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for line in (header, *events):
            fh.write(json.dumps(line) + "\n")


def forged_event(
    station_id: str,
    seq: int,
    kind: str,
    payload: dict,
    *,
    prev_hash: str,
    operator: str = "maria",
    operator_role: str = "supervisor",
    key: Ed25519PrivateKey | None = None,
    meeting: str = "GCM-PV-2017",
    at: str = "2017-12-04T15:00:00.000000Z",
) -> dict:
    """A travelling event as a bundle line; sealed with `key` when given (a stolen or made-up key)."""
    from datetime import datetime

    event_id = eventlog.new_event_id(datetime.fromisoformat(at))
    payload_json = canonical_json(payload)
    own = chain.event_hash(event_id, station_id, seq, at, operator, operator_role, kind, payload_json, prev_hash)
    return {
        "id": event_id,
        "station_id": station_id,
        "seq": seq,
        "recorded_at": at,
        "operator": operator,
        "operator_role": operator_role,
        "kind": kind,
        "payload": payload,
        "prev_hash": prev_hash,
        "seal": chain.seal(key, meeting, station_id, seq, own) if key else None,
    }


def head_of(station, station_id: str) -> tuple[int, str]:
    with station.sessions() as session:
        return eventlog.head(session, station_id)


# --- forged bundles -------------------------------------------------------------------------------------


def test_a_made_up_badge_key_never_makes_a_badge_valid(westin, icc, tmp_path):
    """Attack 1: key_published for a made-up key (from a new station, or appended to a genuine one)."""
    genuine = tmp_path / "genuine.rdb"
    bundles.export_bundle(westin, genuine)
    header, *lines = bundle_lines(genuine)
    thief = Ed25519PrivateKey.generate()
    kid = tokens.key_id_for(tokens.public_key_raw(thief))
    payload = {"key_id": kid, "public_key": tokens.public_key_raw(thief).hex(), "event_code": "GCM-PV-2017"}
    seq, prev = head_of(westin, westin.station_id)
    # a) appended to the Westin desk's chain, sealed with the attacker's own key
    appended = forged_event(westin.station_id, seq + 1, "key_published", payload, prev_hash=prev, key=thief)
    write_bundle(tmp_path / "a.rdb", header, [*lines, appended])
    refused_bundle(icc, tmp_path / "a.rdb", "seal that is not the station's signature")
    # b) a whole new "station" whose certificate is signed by the attacker's own root
    from regdesk.domain import trust as certs

    fake_root = Ed25519PrivateKey.generate()
    cert = certs.issue_certificate(
        fake_root,
        meeting="GCM-PV-2017",
        station_id="11111111-2222-4333-8444-555555555555",
        name="Westin desk 9",
        role="desk",
        public_key=certs.public_hex(thief),
        issued_at="2017-12-04T15:00:00.000000Z",
        valid_until="2018-01-05T00:00:00.000000Z",
    )
    sid = cert.station_id
    first = forged_event(
        sid,
        1,
        "station_created",
        {"name": "Westin desk 9", "role": "desk", "event_code": "GCM-PV-2017", "certificate": cert.to_json()},
        prev_hash=chain.genesis_hash(sid),
        operator="system",
        operator_role="system",
    )
    second_hash = chain.event_hash(
        first["id"],
        sid,
        1,
        first["recorded_at"],
        "system",
        "system",
        "station_created",
        canonical_json(first["payload"]),
        first["prev_hash"],
    )
    key_event = forged_event(
        sid, 2, "key_published", payload, prev_hash=second_hash, operator="system", operator_role="system", key=thief
    )
    write_bundle(tmp_path / "b.rdb", header, [*lines, first, key_event])
    refused_bundle(icc, tmp_path / "b.rdb", "not enrolled in this meeting.*root")
    # Either way, a badge signed with that key is not accepted anywhere.
    forged_badge = tokens.sign_token(
        tokens.BadgeClaims(tokens.event_tag("GCM-PV-2017"), kid, tokens.new_serial(), 1, "CH-1"), thief
    )
    bundles.import_bundle(icc, genuine)
    assert str(security_scanner(icc).scan(forged_badge).verdict.reason) == "unknown_key"


def test_forged_operator_revocation_badge_and_import_events_are_refused(westin, icc, tmp_path):
    """Attacks 2 and 3: an operator_added replacing the supervisor's PIN, a badge_revoked turning a
    genuine badge into DENIED, a badge_issued blocking a real participant, an accreditation import
    with terminal escape sequences. Written into the Westin desk's chain, with or without a seal."""
    badge = issue(westin, "CH-1")
    genuine = tmp_path / "genuine.rdb"
    bundles.export_bundle(westin, genuine)
    header, *lines = bundle_lines(genuine)
    seq, prev = head_of(westin, westin.station_id)
    forgeries = {
        "operator_added": (
            {
                "name": "maria",
                "role": "supervisor",
                "pin_hash": credentials.hash_secret("attacker-owns-this-now", "supervisor"),
            },
            "supervisor",
        ),
        "badge_revoked": ({"serial": badge.serial, "participant_id": "CH-1", "reason": "replaced"}, "clerk"),
        "badge_issued": (
            {
                "serial": "AAAABBBB",
                "participant_id": "CH-2",
                "issue_no": 1,
                "key_id": westin.key_id,
                "token": "A" * 120,
            },
            "clerk",
        ),
        "accreditation_imported": (
            {"revision": "2099-01-01T00:00:00Z", "rows": [participant_row("CH-2", "\x1b[2J\x1b[31mOWNED", "x")]},
            "supervisor",
        ),
    }
    for kind, (payload, role) in forgeries.items():
        for sealed in (None, Ed25519PrivateKey.generate()):
            event = forged_event(
                westin.station_id, seq + 1, kind, payload, prev_hash=prev, operator_role=role, key=sealed
            )
            write_bundle(tmp_path / f"{kind}.rdb", header, [*lines, event])
            refused_bundle(icc, tmp_path / f"{kind}.rdb", "refused, nothing was imported")
    # Nothing of it took: the genuine bundle imports and the real badge is valid, the PIN is Maria's.
    bundles.import_bundle(icc, genuine)
    assert str(security_scanner(icc).scan(badge.token).verdict.reason) == "valid"
    assert operators.authenticate_supervisor(icc, "maria", SUPERVISOR_SECRET)
    assert not operators.authenticate_supervisor(icc, "maria", "attacker-owns-this-now")


def test_an_edited_genuine_event_is_found_wherever_it_is(westin, icc, tmp_path):
    """Changing any field of any genuine event in a bundle breaks the chain or the seal."""
    issue(westin, "CH-1")
    issue(westin, "NG-1")
    genuine = tmp_path / "genuine.rdb"
    bundles.export_bundle(westin, genuine)
    header, *lines = bundle_lines(genuine)
    new_here = [i for i, line in enumerate(lines) if line["id"] not in event_ids(icc)]  # (the rest icc holds)
    edits = [
        (
            "payload",
            lambda e: (
                {**e["payload"], "participant_id": "CH-3"}
                if "participant_id" in e["payload"]
                else {**e["payload"], "x": 1}
            ),
        ),
        ("operator", lambda e: "maria"),
        ("operator_role", lambda e: "supervisor"),
        ("recorded_at", lambda e: "2017-12-04T15:00:00.000001Z"),
        ("kind", lambda e: "badge_printed"),
    ]
    for index in (new_here[0], new_here[len(new_here) // 2], new_here[-1]):
        for field, change in edits:
            edited = [dict(line) for line in lines]
            edited[index][field] = change(edited[index])
            write_bundle(tmp_path / "edited.rdb", header, edited)
            refused_bundle(icc, tmp_path / "edited.rdb", "refused|line")
    assert bundles.import_bundle(icc, genuine).added > 0


def test_control_characters_planted_in_a_bundle_are_refused_with_an_alert_that_shows_them(westin, icc, tmp_path):
    """A forged bundle whose fields hold terminal-control and bidirectional characters (in an event's
    payload, its kind, its station, and the bundle's station name): refused whole in one line, and
    the supervisors' alert records it, with each planted character shown as <U+XXXX>. The alert
    quoting the planted text once failed to record, and the refusal became a crash (found by the
    random-mutation test below)."""
    issue(westin, "CH-1")
    genuine = tmp_path / "genuine.rdb"
    bundles.export_bundle(westin, genuine)
    header, *lines = bundle_lines(genuine)
    index = next(i for i, line in enumerate(lines) if line["id"] not in event_ids(icc))
    edits = [
        ("payload", lambda e: {**e["payload"], "participant_id": "CH-\x991"}),
        ("kind", lambda e: "badge\x1b[31m_issued"),
        ("station_id", lambda e: e["station_id"][:-1] + "\u202e"),
    ]
    for field, change in edits:
        edited = [dict(line) for line in lines]
        edited[index][field] = change(edited[index])
        write_bundle(tmp_path / "planted.rdb", {**header, "station_name": "Westin\x9b2J desk"}, edited)
        refused_bundle(icc, tmp_path / "planted.rdb", "refused|line")
        recorded = json.dumps(alerts(icc)[-1], ensure_ascii=False)
        assert "<U+" in recorded
        assert not any(ch in recorded for ch in "\x99\x1b\u202e\x9b"), recorded
    assert bundles.import_bundle(icc, genuine).added > 0


def test_a_stolen_scan_laptop_key_cannot_add_operators_or_revoke_badges(westin, icc, tmp_path):
    """The bus station's own key, stolen: its events are authentic, but a bus station may not make
    them, so the station's chain halts there, everywhere; supervisors see why."""
    bus = make_station(tmp_path, "Melia bus", "bus", icc.clock)
    try:
        badge = issue(westin, "CH-1")
        bundles.export_bundle(westin, tmp_path / "w.rdb")
        bundles.import_bundle(bus, tmp_path / "w.rdb")
        # The thief writes with the station's own code path bypassed: straight into its store.
        with bus.transaction() as session:
            eventlog.append(
                session,
                station_id=bus.station_id,
                operator="bruno",
                operator_role="marshal",
                kind="badge_revoked",
                payload={"serial": badge.serial, "reason": "replaced"},
                at=bus.clock.now(),
            )
        path = tmp_path / "bus.rdb"
        bundles.export_bundle(bus, path)
        refused_bundle(westin, path, "a bus station may not record badge_revoked")
        with pytest.raises(Exception, match="may not"):  # and regdesk itself would never have written it
            with bus.transaction() as session:
                bus.record(
                    session, EventKind.OPERATOR_ADDED, {"name": "evil", "role": "supervisor", "pin_hash": "x"}, "bruno"
                )
        bundles.import_bundle(icc, tmp_path / "w.rdb")
        assert str(security_scanner(icc).scan(badge.token).verdict.reason) == "valid"
    finally:
        bus.close()


def test_random_mutations_of_a_genuine_bundle_never_change_state_unless_harmless(westin, icc, tmp_path):
    """A fuzzer's USB stick: every single-character change to a genuine bundle's event lines is
    either refused whole (with an alert) or verifies to exactly the genuine events."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    issue(westin, "CH-1")
    genuine = tmp_path / "genuine.rdb"
    bundles.export_bundle(westin, genuine)
    with gzip.open(genuine, "rt", encoding="utf-8") as fh:
        header, *lines = fh.read().splitlines()
    reference = make_station(tmp_path, "Reference", "security", icc.clock)
    bundles.import_bundle(reference, genuine)
    expected = state(reference)
    reference.close()
    before = state(icc)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        line=st.integers(0, len(lines) - 1),
        position=st.integers(0, 10**6),
        char=st.characters(codec="utf-8", exclude_categories=("Cs",)),
    )
    def mutate(line: int, position: int, char: str) -> None:
        text_line = lines[line]
        at = position % len(text_line)
        mutated = [*lines]
        mutated[line] = text_line[:at] + char + text_line[at + 1 :]
        path = tmp_path / "fuzzed.rdb"
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write("\n".join([header, *mutated]) + "\n")
        try:
            bundles.import_bundle(icc, path)
        except bundles.BundleError:
            assert state(icc) in (before, expected)  # refused whole: nothing of it applied
            return
        assert state(icc) == expected  # accepted: the change did not matter (JSON spacing, a known id)

    mutate()


# --- the hub ----------------------------------------------------------------------------------------------


def test_a_rogue_hub_row_is_skipped_alerted_and_genuine_events_keep_flowing(westin, icc, hub_url, tmp_path):  # noqa: F811
    badge = issue(westin, "CH-1")
    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
    seq, prev = head_of(westin, westin.station_id)
    rogue = forged_event(
        westin.station_id,
        seq + 1,
        "badge_revoked",
        {"serial": badge.serial, "participant_id": "CH-1", "reason": "replaced"},
        prev_hash=prev,
        operator="ana",
        operator_role="clerk",
        key=Ed25519PrivateKey.generate(),
    )
    unknown = forged_event(
        "99999999-2222-4333-8444-555555555555",
        1,
        "operator_added",
        {"name": "maria", "role": "supervisor", "pin_hash": "scrypt$2$8$1$x$y"},
        prev_hash=chain.genesis_hash("99999999-2222-4333-8444-555555555555"),
    )
    engine = create_engine(hub_url)
    with engine.begin() as conn:
        for row in (rogue, unknown):
            conn.execute(
                text(
                    "INSERT INTO hub_events (id, station_id, seq, recorded_at, operator, operator_role, kind, payload, "
                    "prev_hash, seal) VALUES (:id, :station_id, :seq, :recorded_at, :operator, :operator_role, :kind, "
                    ":payload, :prev_hash, :seal)"
                ),
                {**row, "payload": canonical_json(row["payload"])},
            )
    engine.dispose()
    issue(westin, "NG-1")  # genuine events after the rogue rows
    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
        report = sync.sync_once(icc, hub)
    assert report.pulled >= 2
    with sync.Hub(hub_url) as hub:  # the desk's own alert about the unknown station goes up too
        sync.sync_once(westin, hub)
        sync.sync_once(icc, hub)
    assert event_ids(westin) <= event_ids(icc)  # everything genuine arrived
    assert str(security_scanner(icc).scan(badge.token).verdict.reason) == "valid"  # the rogue revocation did not
    reasons = " | ".join(a["reason"] for a in alerts(icc))
    assert (
        "(badge_revoked) is not in the station's signed chain" in reasons or "(badge_revoked) carries a seal" in reasons
    )
    assert "station 99999999 (operator_added)" in reasons and "not station_created" in reasons
    from regdesk.services.merge import held_count

    with icc.sessions() as session:  # nothing forged is kept waiting (a flood would fill the disk)
        assert held_count(session) == 0
    assert all(a["source"].startswith("hub ") for a in alerts(icc))
    assert integrity.check_station(icc.data_dir).ok


def test_a_hub_that_lost_its_events_gets_them_all_again(westin, icc, tmp_path, hub_url):  # noqa: F811
    """Attack 10 / point 6: the hub's table dropped (a DBA restore, a new hub): the desk notices and
    pushes everything again, so a station that joins later still learns its key."""
    badge = issue(westin, "CH-1")
    with sync.Hub(hub_url) as hub:
        sync.sync_once(westin, hub)
    engine = create_engine(hub_url)
    with engine.begin() as conn:  # restored from an empty backup: the table is there, the rows are not
        conn.execute(text("DELETE FROM hub_events"))
    engine.dispose()
    with sync.Hub(hub_url) as hub:
        report = sync.sync_once(westin, hub)
        assert report.pushed >= len(event_ids(westin)) - 1  # everything again (the hub ignores what it has)
        sync.sync_once(icc, hub)
    assert str(security_scanner(icc).scan(badge.token).verdict.reason) == "valid"
    engine = create_engine(hub_url)
    with engine.begin() as conn:  # dropped entirely: a new hub under the old name
        conn.execute(text("DROP TABLE hub_events"))
    engine.dispose()
    late = make_station(tmp_path, "ICC side", "security", icc.clock)
    try:
        with sync.Hub(hub_url) as hub:
            sync.sync_once(westin, hub)
            sync.sync_once(late, hub)
        assert str(security_scanner(late).scan(badge.token).verdict.reason) == "valid"
    finally:
        late.close()


# --- a stolen desk laptop ----------------------------------------------------------------------------------


def test_a_revoked_desk_is_cut_off_everywhere(westin, icc, tmp_path, clock):
    """Point 7: a supervisor revokes a stolen desk (root-signed); after the revocation travels, its
    later events are refused and badges its key signs later are denied at every scan point; the
    badges it made before stay valid."""
    before = issue(westin, "CH-1")
    bundles.export_bundle(westin, tmp_path / "w1.rdb")
    supervisor = make_station(tmp_path, "Supervisor", "supervisor", clock)
    try:
        bundles.import_bundle(supervisor, tmp_path / "w1.rdb")
        revocation = provisioning.revoke(
            supervisor,
            "Westin desk 1",
            by=SUPERVISOR_SESSION,
            reason="laptop stolen at the Melia",
            root_passphrase=ROOT_PASSPHRASE,
            root_key_file=exported_root_key(supervisor),
        )
        assert revocation.heads[westin.station_id] == head_of(supervisor, westin.station_id)[0]
        after = issue(westin, "CH-2")  # the thief goes on issuing
        bundles.export_bundle(supervisor, tmp_path / "s.rdb")
        bundles.import_bundle(icc, tmp_path / "s.rdb")  # the revocation reaches the ICC
        scanner = security_scanner(icc)
        assert str(scanner.scan(before.token).verdict.reason) == "valid"
        assert str(scanner.scan(after.token).verdict.reason) == "key_revoked"
        bundles.export_bundle(westin, tmp_path / "w2.rdb")
        # The thief's stick: its events are authentic but come after the cut-off, so they are left
        # out and reported (an honest station relaying them must not have its own refused).
        before_state, alerts_before = state(icc), len(alerts(icc))
        result = bundles.import_bundle(icc, tmp_path / "w2.rdb")
        assert result.added == 0 and result.left_out >= 1
        assert state(icc) == before_state, "the thief's later events changed the station"
        assert "recorded after the station was revoked" in alerts(icc)[alerts_before]["reason"]
        # and a station that has the thief's events but also the revocation denies them all the same
        assert str(security_scanner(icc).scan(after.token).verdict.reason) == "key_revoked"
    finally:
        supervisor.close()


def test_only_the_root_can_revoke(westin, icc, tmp_path, clock):
    supervisor = make_station(tmp_path, "Supervisor", "supervisor", clock)
    try:
        from regdesk.services import trust

        bundles.export_bundle(westin, tmp_path / "w.rdb")
        bundles.import_bundle(supervisor, tmp_path / "w.rdb")

        with pytest.raises(trust.TrustError, match="wrong root passphrase"):
            provisioning.revoke(
                supervisor,
                "Westin desk 1",
                by=SUPERVISOR_SESSION,
                reason="laptop stolen today",
                root_passphrase="guessing the root",
                root_key_file=exported_root_key(supervisor),
            )
        from regdesk.errors import NotAllowed
        from regdesk.services.operators import OperatorSession

        with pytest.raises(NotAllowed):
            provisioning.revoke(
                supervisor,
                "Westin desk 1",
                by=OperatorSession("ana", "clerk"),
                reason="laptop stolen today",
                root_passphrase=ROOT_PASSPHRASE,
                root_key_file=exported_root_key(supervisor),
            )
    finally:
        supervisor.close()


# --- operators and credentials -----------------------------------------------------------------------------


def test_nobody_acts_under_a_name_that_is_no_operator_or_outside_their_role(westin):
    from regdesk.errors import NotAllowed
    from regdesk.services import desk

    with pytest.raises(NotAllowed, match="not an operator"):
        desk.record_identity_check(westin, "CH-1", "passport", "X1234567", "nobody")
    with pytest.raises(NotAllowed, match="security operator may not record identity_checked"):
        desk.record_identity_check(westin, "CH-1", "passport", "X1234567", "sam")
    with pytest.raises(NotAllowed):
        operators.add_operator(westin, "eve", "supervisor", "a long enough passphrase here", by="ana")
    with westin.sessions() as session:
        assert session.execute(select(EventRow).where(EventRow.kind == "identity_checked")).first() is None


def test_forty_wrong_pins_then_the_right_one_is_still_locked_out(westin):
    clock = {"now": 5_000.0}
    westin.wall_clock = lambda: clock["now"]
    refused = 0
    for _ in range(40):
        clock["now"] += 1
        try:
            operators.sign_in(westin, "maria", "not her passphrase at all")
        except operators.SignInRefused:
            refused += 1
    assert refused == 40
    with pytest.raises(operators.SignInRefused, match="locked"):
        operators.sign_in(westin, "maria", SUPERVISOR_SECRET)
    with westin.sessions() as session:  # the attempts are in the log for the supervisors
        failures = session.execute(select(EventRow).where(EventRow.kind == "signin_failed")).scalars().all()
    assert 4 <= len(failures) < 40  # counted until the lock, not while locked
    clock["now"] += 3601
    assert operators.sign_in(westin, "maria", SUPERVISOR_SECRET).role == "supervisor"


def test_supervisor_credentials_are_passphrases_hashed_to_outlast_a_cpu_year(tmp_path):
    """Point 4: what leaves a station (bundles, join files, backups) carries supervisor hashes that
    survive an offline guessing attack: 12+ characters, 40+ estimated bits, scrypt at 128 MiB."""
    for weak in ("2468", "12345678", "password1234", "aaaaaaaaaaaaaaaa", "supervisor2017"):
        assert credentials.secret_problem(weak, "supervisor"), weak
    assert credentials.secret_problem("puerto vallarta 2017", "supervisor") is None
    # The settings regdesk runs with (the in-process tests lower them; a fresh process has the real ones):
    # one guess costs what it costs here, measured, not assumed; a passphrase that passes the rule
    # has 2^40 candidates: far over a CPU-year.
    import subprocess
    import sys

    measured = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import hashlib, time; from regdesk.domain import credentials as c; k = c.PASSPHRASE_COST; "
                "t = time.process_time(); hashlib.scrypt(b'guess', salt=b's' * 16, n=k.n, r=k.r, p=k.p, "
                "maxmem=2 * k.memory, dklen=32); "
                "print(k.n, k.memory, time.process_time() - t, c.MIN_COST['passphrase'])"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    n, memory, per_guess, floor = int(measured[0]), int(measured[1]), float(measured[2]), int(measured[3])
    assert n >= 2**17 and memory >= 128 * 2**20 and floor == n
    assert per_guess * 2**credentials.PASSPHRASE_MIN_BITS / (365 * 24 * 3600) > 1
    # Hashes that claim less work are refused on merge, and a malformed one never raises at sign-in.
    assert credentials.hash_problem("scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$" + "A" * 44, "supervisor")
    for broken in ("", "scrypt$stub", "scrypt$1$8$1$!!$!!", "scrypt$1073741824$8$1$AAAA$AAAA", None, 42):
        assert credentials.secret_matches("x", broken) is False  # type: ignore[arg-type]


def test_a_join_file_is_nothing_without_its_code(westin, tmp_path, clock):
    made = provisioning.provision(
        westin,
        role="security",
        name="ICC lane 3",
        by=SUPERVISOR_SESSION,
        root_passphrase=ROOT_PASSPHRASE,
        root_key_file=exported_root_key(westin),
        out=tmp_path / "lane.join",
    )
    data = made.join_file.read_bytes()
    assert b"scrypt$" not in data and b"Muster" not in data and b"PRIVATE" not in data
    from regdesk.domain import secretbox

    header = secretbox.header_of(data)
    assert header["n"] >= 2**15 or header["n"] == secretbox.JOIN_CODE_COST.n  # tests run it cheap
    assert len(made.code.replace("-", "")) == secretbox.CODE_LENGTH  # 92 bits
    for guess in ("AAAA-AAAA-AAAA-AAAA-AAAA", made.code[:-1] + ("A" if made.code[-1] != "A" else "C")):
        with pytest.raises(provisioning.ProvisioningError, match="wrong join code"):
            provisioning.join_station(tmp_path / "x", code=guess, join_file=made.join_file, clock=clock)
    assert not (tmp_path / "x").exists()


def test_the_verifying_merge_accepts_a_genuine_chain_delivered_backwards(westin, icc):
    """Order-independence survives verification: a station's events, delivered in any order in one
    batch, are accepted (and the stations agree)."""
    issue(westin, "CH-1")
    seal_own_head(westin)
    with westin.sessions() as session:
        items = [incoming_from_row(row[1:]) for row in travelling_rows(session)]
    with icc.transaction() as session:
        result = merge(
            session,
            list(reversed(items)),
            TrustContext(icc.config.code, icc.root_public_key, icc.station_id),
            strict=True,
        )
    assert not result.rejected and event_ids(westin) <= event_ids(icc)
    _ = format_utc, secret_of  # (imported for the helpers above)


async def test_supervisors_see_security_alerts_on_their_screen(westin, icc, tmp_path):
    """A refused USB bundle at the ICC, synced to the supervisor: the dashboard says so on top."""
    from regdesk.tui.app import make_app
    from regdesk.tui.screens.supervisor import SupervisorScreen

    genuine = tmp_path / "genuine.rdb"
    bundles.export_bundle(westin, genuine)
    header, *lines = bundle_lines(genuine)
    seq, prev = head_of(westin, westin.station_id)
    write_bundle(
        tmp_path / "forged.rdb",
        header,
        [
            *lines,
            forged_event(
                westin.station_id,
                seq + 1,
                "operator_added",
                {"name": "eve", "role": "supervisor", "pin_hash": "x"},
                prev_hash=prev,
            ),
        ],
    )
    with pytest.raises(bundles.BundleError):
        bundles.import_bundle(icc, tmp_path / "forged.rdb")
    supervisor = make_station(tmp_path, "Supervisor", "supervisor", icc.clock)
    try:
        bundles.export_bundle(icc, tmp_path / "icc.rdb")
        bundles.import_bundle(supervisor, tmp_path / "icc.rdb")
        app = make_app(supervisor, operator="maria")
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(600):
                await pilot.pause(0.05)
                screen = app.screen
                if isinstance(screen, SupervisorScreen) and screen.query_one("#alert-hint").display:
                    break
            shown = str(app.screen.query_one("#alert-hint").render())
            assert "1 security alert" in shown and "ICC main" in shown and "forged.rdb" in shown
            assert app.screen.query_one("#alert-hint").region.y < 3  # on top, also at 80x24
    finally:
        supervisor.close()
