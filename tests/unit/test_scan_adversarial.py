"""Adversarial input at a scan point: the scanner must not be fooled, must not crash, and must record
exactly one scan (denials included) per input, with a bounded, printable copy of what was read."""

from __future__ import annotations

import io
import json

import pytest
from meeting import init_station, transfer
from sqlalchemy import func, select

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk import cli
from regdesk.domain import token as t
from regdesk.services import desk, scanning
from regdesk.store.models import EventRow


def sync(source, target) -> None:
    transfer(source, target)


@pytest.fixture
def point(tmp_path, clock, desk_station):
    seed_participants(desk_station, [participant_row(f"CH-{i}", f"Family{i}", "Given") for i in (1, 2, 3)])
    badges = {}
    for pid in ("CH-1", "CH-2"):
        desk.record_identity_check(desk_station, pid, "passport", "X1234567", "clerk")
        badges[pid] = desk.issue_badge(desk_station, pid, operator="clerk")
    clock.advance(hours=2)  # CH-1 lost the badge and came back
    desk.record_identity_check(desk_station, "CH-1", "passport", "X1234567", "clerk")
    badges["CH-1 new"] = desk.issue_badge(desk_station, "CH-1", operator="clerk", replace=True)
    security = init_station(tmp_path / "sec", EVENT_TOML, role="security", name="ICC main", clock=clock)
    sync(desk_station, security)
    clock.set(local("2017-12-04T08:40"))
    scanner = scanning.Scanner(security, "guard", scanning.ScanPoint("security", "ICC-MAIN"))
    yield desk_station, security, scanner, badges, clock
    security.close()


def scan_count(station) -> int:
    with station.sessions() as s:
        return s.execute(
            select(func.count()).select_from(EventRow).where(EventRow.kind == "scan_recorded")
        ).scalar_one()


def bad_inputs(desk_station, badges) -> list[tuple[str, str, str]]:
    """(what a person or an attacker feeds the scanner, the input, the reason it must get)."""
    good = badges["CH-2"].token
    code = desk_station.config.code
    raw = t._unb32(good)
    claims = t.read_token(
        good, event_code=code, public_keys={desk_station.key_id: t.public_key_raw(desk_station.signing_key)}
    ).claims
    rogue = t.generate_signing_key()
    same_kid_rogue = t.sign_token(claims, rogue)  # claims the desk's key id, signed by another key
    other_kid_rogue = t.sign_token(
        t.BadgeClaims(claims.event_tag, t.key_id_for(t.public_key_raw(rogue)), claims.serial, 1, "CH-3"), rogue
    )
    other_event = t.sign_token(
        t.BadgeClaims(t.event_tag("GCM-NY-2018"), claims.key_id, t.new_serial(), 1, "CH-2"), desk_station.signing_key
    )
    flipped = bytearray(raw)
    flipped[16] ^= 0x01  # one bit of the accreditation id: "CH-2" -> "BH-2"
    swapped_pid = t._b32(bytes(flipped))
    return [
        ("empty after trimming", " \t ", "unreadable"),
        ("keyboard junk", "hello world", "unreadable"),
        ("a URL from another QR code", "https://example.org/?q=badge", "unreadable"),
        ("control characters and ANSI escapes", "\x00\x07\x1b[2J\x1b]0;pwn\x07", "unreadable"),
        ("10,000-character line", "A" * 10_000, "unreadable"),
        ("10,000 random base32 characters", ("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 313)[:10_000], "unreadable"),
        ("the token twice in one line", good + good, "unreadable"),
        ("token cut in half", good[: len(good) // 2], "unreadable"),
        ("token missing its last character", good[:-1], "unreadable"),
        (
            "token with one character changed in the signature",
            good[:-5] + ("A" if good[-5] != "A" else "B") + good[-4:],
            "forged",
        ),
        ("accreditation id altered by one bit", swapped_pid, "forged"),
        ("signed by a rogue key claiming the desk's key id", same_kid_rogue, "forged"),
        ("signed by a key no desk published", other_kid_rogue, "unknown_key"),
        ("genuine signature, another event", other_event, "wrong_event"),
        ("replaced (revoked) badge replayed", badges["CH-1"].token, "revoked"),
        ("emoji and right-to-left override", "\u202e\U0001f600" * 50, "unreadable"),
        ("lone surrogate-free unicode letters", "ÄÖÜßÑ" * 30, "unreadable"),
    ]


def test_bad_inputs_are_denied_recorded_once_and_bounded(point):
    desk_station, security, scanner, badges, _clock = point
    results = []
    for what, raw, expected in bad_inputs(desk_station, badges):
        before = scan_count(security)
        result = scanner.scan(raw)
        results.append((what, str(result.verdict.outcome), str(result.verdict.reason)))
        assert str(result.verdict.outcome) == "denied", what
        assert str(result.verdict.reason) == expected, (what, result.verdict.reason)
        assert scan_count(security) == before + 1, what  # one input, one recorded scan
        assert len(result.raw) <= scanning.RAW_LIMIT and result.raw.isprintable(), what
        if expected != "revoked":  # a revoked badge's signature holds: naming its holder is right
            assert result.holder is None and not result.serial, what  # nothing unverified is shown as fact
    for row in results:
        print("[scan]", " | ".join(row))


def test_tokens_a_scanner_mangles_harmlessly_still_pass(point):
    _desk, _security, scanner, badges, clock = point
    good = badges["CH-2"].token
    for variant in (good.lower(), good + "\r\n", good + "\t", "\n" + good, good.swapcase()):
        clock.advance(minutes=1)  # not a repeat
        assert str(scanner.scan(variant).verdict.reason) == "valid", repr(variant[-3:])


def test_every_single_character_change_and_every_truncation_is_refused(point):
    _desk, security, scanner, badges, _clock = point
    good = badges["CH-2"].token
    keys = scanner._keys
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    accepted = []
    for i, ch in enumerate(good):
        changed = good[:i] + alphabet[(alphabet.index(ch) + 7) % 32] + good[i + 1 :]
        check = t.read_token(changed, event_code=security.config.code, public_keys=keys)
        if check.ok and t._unb32(check.text) != t._unb32(good):
            accepted.append(("change", i))
    for cut in range(len(good)):
        if t.read_token(good[:cut], event_code=security.config.code, public_keys=keys).ok:
            accepted.append(("cut", cut))
    assert accepted == []


def test_cli_scan_survives_a_stream_of_bad_lines(point, monkeypatch, capsys):
    desk_station, security, _scanner, badges, _clock = point
    security.close()
    lines = [raw.replace("\n", " ") for _what, raw, _reason in bad_inputs(desk_station, badges)]
    lines += ["", "   ", badges["CH-2"].token]
    monkeypatch.setenv("REGDESK_PIN", "3333")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = cli.main(
        [
            "--data-dir",
            str(security.data_dir),
            "scan",
            "--operator",
            "sam",
            "--point",
            "security:ICC-MAIN",
            "--json",
            "--clock",
            "2017-12-04T08:45",
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    verdicts = [json.loads(line) for line in out]
    assert len(verdicts) == len([line for line in lines if line.strip()])  # a blank line is not a scan
    assert [v["verdict"] for v in verdicts[:-1]] == ["denied"] * (len(verdicts) - 1)
    assert verdicts[-1]["verdict"] == "valid" and verdicts[-1]["accreditation_id"] == "CH-2"
    assert all(badges["CH-2"].token not in line for line in out)
