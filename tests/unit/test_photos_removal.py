"""Issue 12, photo removal: desk staff take a photo off with a reason (`regdesk photos remove`); the desk,
scan stations and the badge stop showing it, the removal travels by sync, the audit says who and why.
A re-import of the same file leaves it removed; another file (a corrected photo) shows again. A
re-import of a folder without a participant's photo removes nothing: a folder holds the photos a
clerk has, not the ones to delete, and a photo missing from today's folder (a partial export) must
not vanish from every scan point."""

from __future__ import annotations

import json

import pytest
from photo_helpers import OPERATOR, image_bytes, issue_with_photo, with_photo_people
from sync_helpers import make_station

from conftest import participant_row, seed_participants
from regdesk import cli
from regdesk.services import audit, bundles, photos
from regdesk.store import eventlog, projections
from regdesk.store.queries import photos as photo_queries

PID = "GCM17-000001"


@pytest.fixture
def desk(desk_station):
    return with_photo_people(desk_station)


def import_one(station, folder, content: bytes) -> photos.PhotoReport:
    folder.mkdir(exist_ok=True)
    (folder / f"{PID}.jpg").write_bytes(content)
    return photos.import_photos(station, folder, operator=OPERATOR)


def shown(station) -> tuple[bool, bool, bool]:
    with station.sessions() as session:
        return (
            photos.load_photo(station, PID) is not None,
            photos.has_photo(session, PID),
            PID in set(photo_queries.photo_ids(session)),
        )


def test_a_removed_photo_is_shown_nowhere_and_the_audit_says_why(desk, tmp_path):  # noqa: F811
    import_one(desk, tmp_path / "photos", image_bytes("JPEG", "someone else"))
    assert shown(desk) == (True, True, True)
    photos.remove_photo(desk, PID, operator=OPERATOR, reason="another person's photo")
    assert shown(desk) == (False, False, False)
    with desk.transaction() as session:
        projections.rebuild(session)
    assert shown(desk) == (False, False, False)
    rows = audit.list_audit(desk, audit.AuditFilter(kind="photo_removed"), viewer_role="supervisor")
    assert [r.summary for r in rows] == [f"photo of {PID} removed: “another person's photo”"]
    with pytest.raises(photos.PhotoRemovalError, match="has no photo"):
        photos.remove_photo(desk, PID, operator=OPERATOR, reason="again")
    with pytest.raises(photos.PhotoRemovalError, match="reason"):
        photos.remove_photo(desk, "GCM17-000002", operator=OPERATOR, reason=" ")


def test_the_same_file_again_stays_removed_a_new_one_is_shown(desk, tmp_path):  # noqa: F811
    wrong = image_bytes("JPEG", "someone else")
    import_one(desk, tmp_path / "photos", wrong)
    photos.remove_photo(desk, PID, operator=OPERATOR, reason="another person's photo")
    report = import_one(desk, tmp_path / "photos", wrong)
    assert report.unchanged == 1 and shown(desk)[0] is False
    report = import_one(desk, tmp_path / "photos", image_bytes("JPEG", "the right person"))
    assert report.replaced == [PID] and shown(desk) == (True, True, True)


def test_a_folder_without_the_photo_removes_nothing(desk, tmp_path):  # noqa: F811
    import_one(desk, tmp_path / "photos", image_bytes("JPEG", "jl"))
    other = tmp_path / "other"
    other.mkdir()
    (other / "GCM17-000002.jpg").write_bytes(image_bytes("JPEG", "b"))
    photos.import_photos(desk, other, operator=OPERATOR)
    assert shown(desk) == (True, True, True)


def test_the_badge_printed_after_removal_has_no_photo(desk_station, tmp_path):
    from regdesk.services import desk as desk_service

    badge = issue_with_photo(desk_station, tmp_path, with_photo=True)
    photos.remove_photo(desk_station, PID, operator=OPERATOR, reason="withdrawn by the participant")
    outcome = desk_service.print_badge(
        desk_station, badge.serial, operator=OPERATOR, layout="a6", out=tmp_path / "b.pdf"
    )
    assert outcome.photo == "none" and "No photo on file" in outcome.message


def test_the_removal_travels_to_a_scan_station_and_a_scan_station_cannot_remove(tmp_path, clock):
    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    icc = make_station(tmp_path, "ICC main", "security", clock)
    try:
        seed_participants(westin, [participant_row(PID, "Lauber", "Jurg")])
        import_one(westin, tmp_path / "photos", image_bytes("JPEG", "jl"))
        bundles.export_bundle(westin, tmp_path / "w1.rdb")
        bundles.import_bundle(icc, tmp_path / "w1.rdb")
        assert photos.load_photo(icc, PID) is not None
        photos.remove_photo(westin, PID, operator="maria", reason="wrong person")  # a supervisor may too
        bundles.export_bundle(westin, tmp_path / "w2.rdb")
        bundles.import_bundle(icc, tmp_path / "w2.rdb")
        assert photos.load_photo(icc, PID) is None
        with pytest.raises(photos.PhotoRemovalError, match="security"):
            photos.remove_photo(icc, PID, operator="sam", reason="no")
        # A stolen security laptop writes a removal into its own chain: refused at the merge.
        import_one(westin, tmp_path / "photos", image_bytes("JPEG", "jl again"))
        with icc.transaction() as session:
            eventlog.append(
                session,
                station_id=icc.station_id,
                operator="sam",
                operator_role="security",
                kind="photo_removed",
                payload={"participant_id": PID, "reason": "gone"},
                at=icc.clock.now(),
            )
        bundles.export_bundle(icc, tmp_path / "icc.rdb")
        with pytest.raises(bundles.BundleError, match="a security station may not record photo_removed"):
            bundles.import_bundle(westin, tmp_path / "icc.rdb")
        assert photos.load_photo(westin, PID) is not None
    finally:
        westin.close()
        icc.close()


def test_cli_removes_with_the_pin_and_a_reason(desk, tmp_path, capsys, monkeypatch):  # noqa: F811
    import_one(desk, tmp_path / "photos", image_bytes("JPEG", "jl"))
    data_dir = str(desk.data_dir)
    desk.close()
    base = ["--data-dir", data_dir, "photos", "remove", PID, "--operator", "ana"]
    monkeypatch.setenv("REGDESK_PIN", "0000")
    assert cli.main([*base, "--reason", "wrong person"]) == 4  # a wrong PIN
    monkeypatch.setenv("REGDESK_PIN", "1111")
    with pytest.raises(SystemExit):  # --reason is required
        cli.main(base)
    capsys.readouterr()
    assert cli.main([*base, "--reason", "wrong person", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] is True
    assert cli.main([*base, "--reason", "again"]) == 2
    assert "has no photo" in capsys.readouterr().err
