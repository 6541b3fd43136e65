"""Typed event payloads (domain/event_payloads.py): one type per kind, the wire shape unchanged,
hostile fields refused with the kind and field named, and versions a station does not know
recognised as the work of a newer regdesk."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass

import orjson
import pytest
from PIL import Image

from regdesk.domain import event_payloads as ep
from regdesk.domain.events import EventKind, canonical_json
from regdesk.domain.payloads import NAME, PARTICIPANT_FIELDS, PASS_SERIAL, BadPayload, free_text
from regdesk.services import photos as photo_service

SERIAL, SERIAL2 = "ABCDEFGH", "QRSTUVWX"
UUID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


def _jpeg() -> tuple[str, int, int, str]:
    out = io.BytesIO()
    Image.new("RGB", (80, 100), (120, 30, 60)).save(out, "JPEG")
    data, w, h = photo_service.normalise(out.getvalue())
    return base64.b64encode(data).decode(), w, h, hashlib.sha256(data).hexdigest()


JPEG, WIDTH, HEIGHT, JPEG_SHA = _jpeg()

# One payload of every kind, with its optional fields set, as a station builds it.
SAMPLES: dict[str, ep.Payload] = {
    p.KIND: p
    for p in (
        ep.StationCreated(
            "Westin desk", "desk", "GCM17", {"station_id": "s1", "role": "desk"}, restored_from_station_id="s0"
        ),
        ep.KeyPublished("0a1b2c3d", "ab" * 32, "GCM17", replaces_key_id="0a1b2c3e"),
        ep.OperatorAdded("Ana", "supervisor", "scrypt$1$x", root_grant="cd" * 64),
        ep.AccreditationImported(
            "2017-12-01T10:00:00Z",
            [["CH-1", "Lauber", "Eva", "", "", "Party", "Switzerland", "head", "accredited", "", "Ms"]],
            source="export.csv",
            sha256="e" * 64,
            format="csv",
            columns=list(PARTICIPANT_FIELDS),
            counts={"added": 1},
        ),
        ep.IdentityChecked("CH-1", "passport", "1234", SERIAL, read_by="mrz", expired=False, name_matches=True),
        ep.BadgeIssued(
            SERIAL, "CH-1", 2, "0a1b2c3d", "A" * 60, SERIAL2, UUID, collected_by="CH-2", authorisation="NV 1"
        ),
        ep.BadgePrinted(SERIAL, "hp", "card", "printer"),
        ep.BadgeRevoked(SERIAL, "CH-1", "replaced", SERIAL2),
        ep.OverrideGranted("collected", "lost in the hotel", "Ana", "CH-1"),
        ep.ScanRecorded(
            "2017-12-04",
            "bus",
            "WESTIN",
            "allowed",
            "ok",
            "to_venue",
            "d1",
            SERIAL,
            "CH-1",
            bus="7",
            departure_time="08:10",
        ),
        ep.DepartureClosed(
            "d1", "WESTIN", "to_venue", "7", "08:10", "2017-12-04T07:00:00Z", 40, 50, "2017-12-04", "marshal"
        ),
        ep.ConflictResolved("badge:CH-1", "kept one", "two desks", "duplicate", [SERIAL], [SERIAL2], [SERIAL, SERIAL2]),
        ep.StationCertified({"station_id": "s2"}),
        ep.StationRevoked({"station_key": "k", "heads": {"s1": 3}, "reason": "stolen"}, "Westin desk"),
        ep.SigninFailed("Ana", "desk", 5, 30),
        ep.PhotoImported("CH-1", JPEG, JPEG_SHA, "0" * 64, WIDTH, HEIGHT, "eva.jpg"),
        ep.SecurityAlert("bundle x", "refused", "f" * 32, "s1", 4, UUID, "badge_issued", 2),
        ep.PassesPrinted("2017-12-04", 1, 20, "0a1b2c3d", "passes.pdf", "a4"),
        ep.PassAssigned("TP0001", "CH-1", "2017-12-04", "passport", "1234", UUID),
        ep.PassVoided("TP0001", "torn"),
        ep.PassAssignmentOverridden("TPKQX0001", "CH-2", "handed to the wrong person", previous_participant_id="CH-1"),
        ep.PhotoRemoved("CH-1", "another person's photo", source_sha256="0" * 64),
    )
}


def test_every_event_kind_has_exactly_one_payload_type():
    assert set(ep.PAYLOAD_TYPES) == {str(k) for k in EventKind}, (
        "a kind without a payload type, or a type without a kind"
    )
    assert len({id(cls) for cls in ep.PAYLOAD_TYPES.values()}) == len(EventKind)
    assert set(SAMPLES) == set(ep.PAYLOAD_TYPES), "every kind has a sample in this test"
    with pytest.raises(TypeError, match="two payload types"):
        ep.payload_type(EventKind.PASS_VOIDED)(ep.PassVoided)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_kind_round_trips_through_canonical_json(kind):
    built = SAMPLES[kind]
    stored = canonical_json(built.to_payload())
    assert ep.payload_problem(kind, orjson.loads(stored), len(stored)) is None
    assert ep.PAYLOAD_TYPES[kind].from_payload(orjson.loads(stored)) == built
    assert ep.PAYLOAD_TYPES[kind].parse(orjson.loads(stored)) == built
    assert ep.VERSION_FIELD not in orjson.loads(stored), "version 1 writes no version field"


def test_payloads_written_before_the_types_keep_their_bytes_and_read_the_same():
    # As main wrote them, byte for byte (a scan as a lane records it, the compact import, a badge).
    scan = {
        "local_day": "2017-12-04",
        "point_kind": "security",
        "point": "ICC-A",
        "direction": "",
        "departure": "",
        "verdict": "allowed",
        "reason": "ok",
        "serial": SERIAL,
        "participant_id": "CH-1",
        "counted": True,
        "manual": False,
        "raw": "X" * 50,
        "holder_in_mirror": True,
    }
    badge = {
        "serial": SERIAL,
        "participant_id": "CH-1",
        "issue_no": 1,
        "key_id": "0a1b2c3d",
        "token": "A" * 60,
        "replaces": None,
        "override_event_id": None,
    }
    row = ["CH-1", "Lauber", "Eva", "", "", "Party", "Switzerland", "head", "accredited", "", "Ms"]
    imported = {
        "revision": "r1",
        "source": "x.csv",
        "sha256": "e" * 64,
        "format": "csv",
        "columns": list(PARTICIPANT_FIELDS),
        "rows": [row],
        "counts": {"added": 1},
    }
    for kind, payload in (("scan_recorded", scan), ("badge_issued", badge), ("accreditation_imported", imported)):
        typed = ep.read(kind, payload)
        assert canonical_json(typed.to_payload()) == canonical_json(payload), kind
    assert ep.ScanRecorded.from_payload(scan).counted is True
    assert ep.BadgeIssued.from_payload(badge).replaces is None
    assert ep.AccreditationImported.from_payload(imported).records() == [row]
    # The older import shape, one object per row and no columns, still reads (records in field order).
    old = {"revision": "r0", "rows": [dict(zip(PARTICIPANT_FIELDS, row, strict=True))]}
    assert ep.payload_problem("accreditation_imported", old) is None
    assert ep.AccreditationImported.from_payload(old).records() == [tuple(row)]
    # A field left out by an older station reads as its default.
    assert ep.BadgeRevoked.from_payload({"serial": SERIAL}).reason == "revoked"


@pytest.mark.parametrize(
    ("kind", "change", "field", "words"),
    [
        ("badge_issued", {"issue_no": "2"}, "issue_no", "whole number"),
        ("badge_issued", {"serial": "abc"}, "serial", "badge serial"),
        ("scan_recorded", {"counted": "yes"}, "counted", "true or false"),
        ("pass_voided", {"reason": "\x1b[2Jgone"}, "reason", "control"),
        ("badge_printed", {"colour": "red"}, "colour", "not a field of badge_printed"),
        ("identity_checked", {"document_last4": None}, "document_last4", "must be text"),
    ],
)
def test_a_wrong_field_is_refused_naming_the_kind_and_the_field(kind, change, field, words):
    payload = {**SAMPLES[kind].to_payload(), **change}
    with pytest.raises(BadPayload) as refused:
        ep.PAYLOAD_TYPES[kind].parse(payload)
    assert refused.value.field == field
    assert kind in str(refused.value) and field in str(refused.value) and words in str(refused.value)


def test_a_scan_with_a_flag_or_a_text_of_the_wrong_type_is_refused_not_a_crash():
    # The scan fast path once waved "yes" through as `counted`, and raised TypeError on a
    # boolean where text belongs (a hostile bundle then failed with a confusing error).
    scan = SAMPLES["scan_recorded"].to_payload()
    for change, field in (({"counted": "yes"}, "counted"), ({"direction": True}, "direction")):
        problem = ep.payload_problem("scan_recorded", {**scan, **change})
        assert problem is not None and problem.field == field


def test_a_missing_required_field_is_refused_naming_it():
    payload = SAMPLES["pass_assigned"].to_payload()
    del payload["day"]
    with pytest.raises(BadPayload, match="pass_assigned.*is missing") as refused:
        ep.PassAssigned.parse(payload)
    assert refused.value.field == "day"


def test_the_merge_still_keeps_a_field_a_newer_regdesk_added_within_the_same_version():
    # Adding a field is not a new version: an older station keeps it and never reads it.
    payload = {**SAMPLES["badge_printed"].to_payload(), "tray": "2"}
    assert ep.payload_problem("badge_printed", payload) is None
    assert ep.BadgePrinted.from_payload(payload) == SAMPLES["badge_printed"]
    assert ep.payload_problem("badge_printed", {**payload, "tray": "\x1b]0;x"}) is not None


def test_a_version_newer_than_this_station_knows_is_named_as_such():
    payload = {**SAMPLES["badge_issued"].to_payload(), "version": 2}
    problem = ep.payload_problem("badge_issued", payload)
    assert isinstance(problem, ep.NewerPayload)
    assert str(problem) == "made by a newer regdesk (badge_issued v2); update this station"
    with pytest.raises(ep.NewerPayload):
        ep.BadgeIssued.from_payload(payload)
    scan = {**SAMPLES["scan_recorded"].to_payload(), "version": 3}  # not waved through by the fast path
    assert isinstance(ep.payload_problem("scan_recorded", scan), ep.NewerPayload)
    # Version 1 written out is version 1; nonsense is refused as such.
    assert ep.payload_problem("badge_printed", {**SAMPLES["badge_printed"].to_payload(), "version": 1}) is None
    bad = ep.payload_problem("badge_printed", {**SAMPLES["badge_printed"].to_payload(), "version": "2"})
    assert bad is not None and not isinstance(bad, ep.NewerPayload) and bad.field == "version"


def test_a_kind_at_version_2_writes_its_version_and_reads_it_back():
    @ep.payload_type(EventKind.PASS_VOIDED, version=2, register=False)
    @dataclass(frozen=True)
    class PassVoidedV2(ep.Payload):
        serial: str = ep.need(PASS_SERIAL)
        reason: str = ep.need(free_text(400, empty_ok=False))
        witness: str = ep.may(NAME, "")

    written = PassVoidedV2("TP0002", "torn", "Ana").to_payload()
    assert json.loads(canonical_json(written)) == {"serial": "TP0002", "reason": "torn", "witness": "Ana", "version": 2}
    assert PassVoidedV2.from_payload(written) == PassVoidedV2("TP0002", "torn", "Ana")
    # This station's own type (version 1) refuses to guess what a version-2 payload means.
    assert isinstance(ep.payload_problem("pass_voided", written), ep.NewerPayload)
    with pytest.raises(ep.NewerPayload, match=r"pass_voided v2"):
        ep.PassVoided.from_payload(written)


@pytest.mark.parametrize("planted", ["\x1b[2J", "\x99", "\u202e", "\x00", "\ufeff", "\u2028"])
def test_a_security_alert_about_hostile_text_can_always_be_recorded(planted):
    """An alert quotes what was refused: whatever that text holds, and however long, the alert is
    a valid payload, and each refused character is shown by its code point, never passed on."""
    alert = ep.SecurityAlert.about(
        source=f"bundle x.rdb from Westin{planted}" * 40,
        reason=f"field 'name' holds {planted}\n" * 400,
        fingerprint="f" * 10 + planted,
        station_id=f"desk{planted}" * 30,
        event_id=planted,
        kind=f"badge{planted}issued" * 10,
        seq=3,
        count=1,
    )
    payload = alert.to_payload()
    assert ep.payload_problem(str(EventKind.SECURITY_ALERT), payload) is None
    assert f"<U+{ord(planted[0]):04X}>" in alert.reason and planted not in json.dumps(payload, ensure_ascii=False)
