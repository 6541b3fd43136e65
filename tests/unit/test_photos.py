"""Issue 12, photos: imported with the list from real image files (checked by decoding, EXIF
orientation applied, metadata stripped), all or nothing, replaced on re-import, carried to other
stations by sync, and refused by the merge when a station that may not make photos sends one."""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from pg_fixtures import hub_url  # noqa: F401 - fixture
from photo_helpers import OPERATOR, PEOPLE, image_bytes, issue_with_photo, with_photo_people
from PIL import Image
from sqlalchemy import select, text
from sync_helpers import make_station

from conftest import participant_row, seed_participants
from regdesk import cli
from regdesk.domain import photos as rules
from regdesk.domain.event_payloads import payload_problem
from regdesk.domain.events import EventKind
from regdesk.render import avatar
from regdesk.services import bundles, photos
from regdesk.store import eventlog
from regdesk.store.models import EventRow, Participant, Photo


@pytest.fixture
def desk(desk_station):
    return with_photo_people(desk_station)


def photo_rows(station) -> dict[str, str]:
    with station.sessions() as session:
        return dict(session.execute(select(Photo.participant_id, Photo.sha256)).all())


def photo_events(station) -> int:
    with station.sessions() as session:
        return len(session.execute(select(EventRow.id).where(EventRow.kind == EventKind.PHOTO_IMPORTED)).all())


def stored_image(station, pid: str) -> Image.Image:
    jpeg = photos.load_photo(station, pid)
    assert jpeg is not None, f"no photo stored for {pid}"
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    return image


def huge_png_header(width: int, height: int) -> bytes:
    """A tiny PNG file that declares width x height pixels (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


# --- real files --------------------------------------------------------------------------------


def test_jpeg_png_and_webp_are_imported_as_small_jpegs(desk, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "GCM17-000001.jpg").write_bytes(image_bytes("JPEG", "a", quality=92))
    (folder / "GCM17-000002.PNG").write_bytes(image_bytes("PNG", "b"))
    (folder / "GCM17-000003.webp").write_bytes(image_bytes("WEBP", "c", (400, 400)))
    (folder / "notes.txt").write_text("who took these")
    report = photos.import_photos(desk, folder, operator=OPERATOR)
    assert sorted(report.added) == PEOPLE[:3] and report.unchanged == 0
    assert any("not named like a photo" in n for n in report.notes)
    for pid in PEOPLE[:3]:
        image = stored_image(desk, pid)
        assert image.size == (rules.PHOTO_WIDTH, rules.PHOTO_HEIGHT)
        assert len(photos.load_photo(desk, pid)) < 16 * 1024
    assert photos.load_photo(desk, PEOPLE[3]) is None


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("GCM17-000002.jpg", b"Family,Given\nthis is a CSV, not a photo\n", "not a JPEG, PNG or WebP image"),
        ("GCM17-000002.jpg", "truncated", "damaged or cut off"),
        ("GCM17-000002.png", "bomb", "decompression bomb"),
        ("GCM17-000002.png", "large", "is 9000 x 9000 pixels; a photo may have at most 50 megapixels"),
        ("GCM17-000002.jpg", "tiny", "only 40 x 50 pixels"),
        ("GCM17-000002.jpg", b"", "is empty"),
        ("GCM17-000099.jpg", "fine", "no participant GCM17-000099"),
    ],
)
def test_a_bad_file_is_named_with_its_reason_and_nothing_is_imported(desk, tmp_path, name, content, reason):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "GCM17-000001.jpg").write_bytes(image_bytes("JPEG", "good"))
    if content == "truncated":
        content = image_bytes("JPEG", "cut", (600, 750))[:4000]
    elif content == "bomb":
        content = huge_png_header(30_000, 30_000)
    elif content == "large":
        content = huge_png_header(9000, 9000)
    elif content == "tiny":
        content = image_bytes("JPEG", "tiny", (40, 50))
    elif content == "fine":
        content = image_bytes("JPEG", "fine")
    (folder / name).write_bytes(content)
    with pytest.raises(photos.PhotoImportError) as refused:
        photos.import_photos(desk, folder, operator=OPERATOR)
    lines = [str(p) for p in refused.value.problems]
    assert len(lines) == 1 and lines[0].startswith(f"{name}: ") and reason in lines[0], lines
    assert "no photo was imported" in str(refused.value)
    assert photo_rows(desk) == {} and photo_events(desk) == 0


def test_a_file_over_the_byte_limit_is_refused_before_it_is_decoded(desk, tmp_path, monkeypatch):
    monkeypatch.setattr(photos, "MAX_SOURCE_BYTES", 1 << 20)
    folder = tmp_path / "photos"
    folder.mkdir()
    big = avatar.jpeg("big", 1600, 2000, grain=120, quality=98)
    assert len(big) > 1 << 20
    (folder / "GCM17-000001.png").write_bytes(big)
    with pytest.raises(photos.PhotoImportError, match=r"GCM17-000001.png: is .* MB; a photo may be at most"):
        photos.import_photos(desk, folder, operator=OPERATOR)


def test_exif_orientation_is_applied_and_gps_and_camera_metadata_are_stripped(desk, tmp_path):
    # A landscape frame, red on the left and blue on the right, that the camera says to turn 90
    # degrees clockwise (orientation 6): upright, red is on top.
    image = Image.new("RGB", (500, 300), "blue")
    image.paste((220, 0, 0), (0, 0, 250, 300))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {1: "N", 2: (19.0, 36.0, 12.0), 3: "W", 4: (105.0, 14.0, 24.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    source = out.getvalue()
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(0x8825), "the test file must carry GPS"
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "GCM17-000001.jpeg").write_bytes(source)
    photos.import_photos(desk, folder, operator=OPERATOR)
    jpeg = photos.load_photo(desk, "GCM17-000001")
    stored = Image.open(io.BytesIO(jpeg))
    assert stored.size == (160, 200)
    top, bottom = stored.getpixel((80, 20)), stored.getpixel((80, 180))
    assert top[0] > 150 and top[2] < 80, f"top should be red after rotation, got {top}"
    assert bottom[2] > 150 and bottom[0] < 80, f"bottom should be blue, got {bottom}"
    assert not stored.getexif() and "exif" not in stored.info and "icc_profile" not in stored.info
    assert b"SecretCam" not in jpeg and b"Exif" not in jpeg
    with desk.sessions() as session:
        logged = session.execute(select(EventRow.payload).where(EventRow.kind == EventKind.PHOTO_IMPORTED)).scalar_one()
    assert "SecretCam" not in logged and base64.b64decode(json.loads(logged)["jpeg"]) == jpeg


# --- ZIP archives --------------------------------------------------------------------------------


def test_a_zip_of_photos_is_read_without_unpacking(desk, tmp_path):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export/GCM17-000001.jpg", image_bytes("JPEG", "z1"))
        archive.writestr("export/GCM17-000002.png", image_bytes("PNG", "z2"))
        archive.writestr("__MACOSX/export/._GCM17-000001.jpg", b"resource fork")
    report = photos.import_photos(desk, path, operator=OPERATOR)
    assert sorted(report.added) == PEOPLE[:2]


@pytest.mark.parametrize(
    "evil", ["../GCM17-000002.jpg", "/etc/GCM17-000002.jpg", "a/../../GCM17-000002.jpg", "..\\GCM17-000002.jpg"]
)
def test_a_zip_with_a_path_leaving_its_folder_is_refused_whole(desk, tmp_path, evil):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("GCM17-000001.jpg", image_bytes("JPEG", "z1"))
        archive.writestr(evil, image_bytes("JPEG", "z2"))
    with pytest.raises(photos.PhotoImportError, match="leaving the archive's folder"):
        photos.import_photos(desk, path, operator=OPERATOR)
    assert photo_rows(desk) == {}
    assert not (tmp_path.parent / "GCM17-000002.jpg").exists()


def test_a_zip_bomb_and_a_zip_with_too_many_entries_are_refused(desk, tmp_path, monkeypatch):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("GCM17-000001.png", b"\x00" * (12 << 20))
    with pytest.raises(photos.PhotoImportError, match="inflate .* times"):
        photos.import_photos(desk, bomb, operator=OPERATOR)
    monkeypatch.setattr(photos, "MAX_ZIP_ENTRIES", 3)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for i in range(5):
            archive.writestr(f"x{i}.txt", b"x")
    with pytest.raises(photos.PhotoImportError, match="holds 5 entries"):
        photos.import_photos(desk, many, operator=OPERATOR)
    assert photo_rows(desk) == {}


def test_two_photos_for_one_participant_are_refused(desk, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "GCM17-000001.jpg").write_bytes(image_bytes("JPEG", "a"))
    (folder / "GCM17-000001.png").write_bytes(image_bytes("PNG", "b"))
    with pytest.raises(photos.PhotoImportError, match="a second photo for GCM17-000001"):
        photos.import_photos(desk, folder, operator=OPERATOR)


# --- re-import and the list together ---------------------------------------------------------------


def test_a_reimport_replaces_changed_photos_and_leaves_the_others(desk, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for pid in PEOPLE:
        (folder / f"{pid}.jpg").write_bytes(image_bytes("JPEG", pid))
    photos.import_photos(desk, folder, operator=OPERATOR)
    before = photo_rows(desk)
    (folder / "GCM17-000002.jpg").write_bytes(image_bytes("JPEG", "a new photo"))
    (folder / "GCM17-000004.jpg").unlink()  # missing from the new folder: kept as it was
    report = photos.import_photos(desk, folder, operator=OPERATOR)
    assert report.replaced == ["GCM17-000002"] and report.added == [] and report.unchanged == 2
    after = photo_rows(desk)
    assert after["GCM17-000002"] != before["GCM17-000002"]
    assert {k: v for k, v in after.items() if k != "GCM17-000002"} == {
        k: v for k, v in before.items() if k != "GCM17-000002"
    }
    assert photo_events(desk) == 5
    # The projection rebuilt from the log says the same.
    from regdesk.store import projections

    with desk.transaction() as session:
        projections.rebuild(session)
    assert photo_rows(desk) == after


def _export(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = ["accreditation_id,family_name,given_names,category,delegation,delegation_role,status"]
    lines += [f"{aid},{family},Ana,MS,Mexico,member,accredited" for aid, family in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_imports_the_list_and_its_photos_together_or_neither(data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REGDESK_PIN", "1111")
    export = _export(tmp_path / "export.csv", [("MX-1", "Lopez"), ("MX-2", "Garcia")])
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "MX-1.jpg").write_bytes(image_bytes("JPEG", "mx1"))
    (folder / "MX-2.jpg").write_bytes(b"not an image at all")
    base = ["--data-dir", str(data_dir), "import"]
    assert cli.main([*base, str(export), "--photos", str(folder), "--operator", "ana"]) == 2
    err = capsys.readouterr().err
    assert "MX-2.jpg: is not a JPEG, PNG or WebP image" in err and "nothing was imported" in err
    from regdesk.services.station import open_station

    station = open_station(data_dir)
    try:
        with station.sessions() as session:
            assert session.execute(select(Participant.accreditation_id)).all() == []
    finally:
        station.close()
    (folder / "MX-2.jpg").write_bytes(image_bytes("JPEG", "mx2"))
    assert cli.main([*base, str(export), "--photos", str(folder), "--operator", "ana", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["added"] == 2 and out["photos"]["counts"]["added"] == 2
    # --photos alone: a re-import of the photos only.
    (folder / "MX-1.jpg").write_bytes(image_bytes("JPEG", "mx1 again"))
    assert cli.main([*base, "--photos", str(folder), "--operator", "ana"]) == 0
    assert "1 replaced, 1 unchanged" in capsys.readouterr().out


def test_a_photo_problem_found_after_the_list_rolls_the_list_back(desk, tmp_path):
    export = _export(tmp_path / "export.csv", [("MX-1", "Lopez")])
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "MX-1.jpg").write_bytes(image_bytes("JPEG", "mx1"))
    (folder / "MX-7.jpg").write_bytes(image_bytes("JPEG", "mx7"))  # not in the list
    with pytest.raises(photos.PhotoImportError, match="MX-7.jpg: no participant MX-7") as refused:
        photos.import_with_list(desk, export, folder, operator=OPERATOR, allow_mass_withdrawal=True)
    assert "neither the list nor any photo" in str(refused.value)
    with desk.sessions() as session:
        assert session.get(Participant, "MX-1") is None
    assert photo_rows(desk) == {}


# --- sync and authority ----------------------------------------------------------------------------


def test_a_bundle_carries_photos_to_a_scan_station(tmp_path, clock):
    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    icc = make_station(tmp_path, "ICC main", "security", clock)
    try:
        seed_participants(westin, [participant_row("GCM17-000001", "Lauber", "Jurg")])
        folder = tmp_path / "photos"
        folder.mkdir()
        (folder / "GCM17-000001.jpg").write_bytes(image_bytes("JPEG", "jl"))
        photos.import_photos(westin, folder, operator=OPERATOR)
        bundles.export_bundle(westin, tmp_path / "w.rdb")
        bundles.import_bundle(icc, tmp_path / "w.rdb")
        assert photos.load_photo(icc, "GCM17-000001") == photos.load_photo(westin, "GCM17-000001") is not None
    finally:
        westin.close()
        icc.close()


def test_a_photo_made_by_a_scan_station_is_refused_by_the_merge(tmp_path, clock):
    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    icc = make_station(tmp_path, "ICC main", "security", clock)
    try:
        seed_participants(westin, [participant_row("GCM17-000001", "Lauber", "Jurg")])
        bundles.export_bundle(westin, tmp_path / "w.rdb")
        bundles.import_bundle(icc, tmp_path / "w.rdb")
        jpeg, w, h = photos.normalise(image_bytes("JPEG", "impostor"))
        payload = {
            "participant_id": "GCM17-000001",
            "jpeg": base64.b64encode(jpeg).decode(),
            "width": w,
            "height": h,
            "sha256": __import__("hashlib").sha256(jpeg).hexdigest(),
            "source_sha256": "0" * 64,
        }
        with pytest.raises(Exception, match="may not"):  # regdesk itself never writes it there
            with icc.transaction() as session:
                icc.record(session, EventKind.PHOTO_IMPORTED, payload, "sam")
        # The security laptop's store written directly (a stolen laptop): authentic, not authorised.
        with icc.transaction() as session:
            eventlog.append(
                session,
                station_id=icc.station_id,
                operator="sam",
                operator_role="security",
                kind="photo_imported",
                payload=payload,
                at=icc.clock.now(),
            )
        bundles.export_bundle(icc, tmp_path / "icc.rdb")
        with pytest.raises(bundles.BundleError, match="a security station may not record photo_imported"):
            bundles.import_bundle(westin, tmp_path / "icc.rdb")
        assert photos.load_photo(westin, "GCM17-000001") is None
    finally:
        westin.close()
        icc.close()


def test_the_merge_checks_the_image_in_a_photo_payload():
    jpeg, w, h = photos.normalise(image_bytes("JPEG", "x"))
    import hashlib

    good = {
        "participant_id": "A1",
        "jpeg": base64.b64encode(jpeg).decode(),
        "width": w,
        "height": h,
        "sha256": hashlib.sha256(jpeg).hexdigest(),
        "source_sha256": "0" * 64,
    }
    assert payload_problem("photo_imported", good) is None
    assert "does not match" in str(payload_problem("photo_imported", {**good, "sha256": "1" * 64}))
    assert "not what the payload says" in str(payload_problem("photo_imported", {**good, "width": w - 1}))
    png = image_bytes("PNG", "x", (160, 200))
    as_png = {**good, "jpeg": base64.b64encode(png).decode(), "sha256": hashlib.sha256(png).hexdigest()}
    assert "not a JPEG" in str(payload_problem("photo_imported", as_png))
    big = image_bytes("JPEG", "x", (1600, 2000), quality=20)
    as_big = {
        **good,
        "jpeg": base64.b64encode(big).decode(),
        "sha256": hashlib.sha256(big).hexdigest(),
        "width": 1600,
        "height": 2000,
    }
    assert payload_problem("photo_imported", as_big) is not None
    assert "not base64" in str(payload_problem("photo_imported", {**good, "jpeg": "!!!!"}))


def test_a_v5_station_gets_the_photos_table_filled_from_its_log(desk, tmp_path):
    import sqlite3

    from regdesk.services.station import open_station

    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "GCM17-000001.jpg").write_bytes(image_bytes("JPEG", "a"))
    photos.import_photos(desk, folder, operator=OPERATOR)
    jpeg = photos.load_photo(desk, "GCM17-000001")
    data_dir = desk.data_dir
    desk.close()
    con = sqlite3.connect(data_dir / "station.db")
    with con:  # the shape of a v5 station (its log may hold photo events merged from a newer one)
        con.execute("DROP TABLE photos")
        con.execute("PRAGMA user_version = 5")
    con.close()
    station = open_station(data_dir, clock=desk.clock)
    try:
        assert photos.load_photo(station, "GCM17-000001") == jpeg is not None
    finally:
        station.close()


@pytest.fixture
def data_dir(desk_station):
    desk_station.close()
    return desk_station.data_dir


# --- on the badge ----------------------------------------------------------------------------------


def _region_colour(image, layout_name: str, dpi: int):
    from regdesk.render.layouts import load_layout

    layout = load_layout(layout_name)
    badge = layout if hasattr(layout, "boxes") else layout.badge
    box = badge.box("photo")
    px = dpi / 25.4
    cx, cy = (box.x + box.width / 2) * px, (box.y + box.height / 2) * px
    return image.crop((int(cx - 10), int(cy - 10), int(cx + 10), int(cy + 10))).resize((1, 1)).getpixel((0, 0))


@pytest.mark.parametrize("layout", ["a6", "cr80", "a4-4up"])
def test_the_photo_is_printed_and_the_qr_still_decodes(desk_station, tmp_path, layout):
    import pypdfium2 as pdfium
    import zxingcpp

    from regdesk.domain import token as tokens
    from regdesk.render.badge import render_badge_pdf
    from regdesk.services import desk as desk_service

    badge = issue_with_photo(desk_station, tmp_path, with_photo=True)
    content = desk_service.badge_content(desk_station, badge.serial)
    assert content.photo_jpeg == photos.load_photo(desk_station, "GCM17-000001")
    pdf = render_badge_pdf(content, layout)
    dpi = 200
    image = pdfium.PdfDocument(pdf)[0].render(scale=dpi / 72).to_pil().convert("RGB")
    r, g, b = _region_colour(image, layout, dpi)
    assert g > 120 and r < 60 and b < 120, f"the photo's green is missing from its box: {(r, g, b)}"
    qrs = [x for x in zxingcpp.read_barcodes(image) if x.format == zxingcpp.BarcodeFormat.QRCode]
    assert [q.text for q in qrs] == [badge.token]
    with desk_station.sessions() as session:
        assert tokens.read_token(
            qrs[0].text, event_code=desk_station.config.code, public_keys=desk_station.public_keys(session)
        ).ok
    # Without the photo the box is blank paper.
    blank = render_badge_pdf(
        desk_service.badge_content(desk_station, badge.serial).__class__(**{**content.__dict__, "photo_jpeg": None}),
        layout,
    )
    r, g, b = _region_colour(pdfium.PdfDocument(blank)[0].render(scale=dpi / 72).to_pil().convert("RGB"), layout, dpi)
    assert min(r, g, b) > 200


def test_a_badge_without_a_photo_tells_the_clerk(desk_station, tmp_path):
    from regdesk.services import desk as desk_service

    badge = issue_with_photo(desk_station, tmp_path, with_photo=False)
    outcome = desk_service.print_badge(
        desk_station, badge.serial, operator=OPERATOR, layout="a6", out=tmp_path / "b.pdf"
    )
    assert outcome.photo == "none" and "No photo on file" in outcome.message
    outcome = desk_service.print_badge(
        desk_station, badge.serial, operator=OPERATOR, layout="label-4x3", out=tmp_path / "c.pdf"
    )
    assert outcome.photo == "no_room" and "No photo on file" not in outcome.message


def test_with_a_photo_the_clerk_gets_no_warning(desk_station, tmp_path):
    from regdesk.services import desk as desk_service

    badge = issue_with_photo(desk_station, tmp_path, with_photo=True)
    outcome = desk_service.print_badge(
        desk_station, badge.serial, operator=OPERATOR, layout="cr80", out=tmp_path / "b.pdf"
    )
    assert outcome.photo == "printed" and "No photo" not in outcome.message


def test_the_audit_says_a_photo_was_imported_and_never_shows_it(desk, tmp_path):
    from regdesk.services import audit

    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "GCM17-000001.jpg").write_bytes(image_bytes("JPEG", "a"))
    photos.import_photos(desk, folder, operator=OPERATOR)
    rows = [r for r in audit.list_audit(desk, audit.AuditFilter(kind="photo_imported"), viewer_role="supervisor")]
    assert [r.summary for r in rows] == ["photo of GCM17-000001 from GCM17-000001.jpg (160 x 200 px)"]


def test_the_hub_carries_photos_to_a_scan_station(tmp_path, clock, hub_url):  # noqa: F811
    from regdesk.services import sync

    westin = make_station(tmp_path, "Westin desk 1", "desk", clock)
    icc = make_station(tmp_path, "ICC main", "security", clock)
    try:
        seed_participants(westin, [participant_row(pid, "Family", "Given") for pid in PEOPLE])
        folder = tmp_path / "photos"
        folder.mkdir()
        for pid in PEOPLE[:3]:
            (folder / f"{pid}.jpg").write_bytes(image_bytes("JPEG", pid))
        photos.import_photos(westin, folder, operator=OPERATOR)
        with sync.Hub(hub_url) as hub:
            sync.sync_once(westin, hub)
            sync.sync_once(icc, hub)
        for pid in PEOPLE[:3]:
            assert photos.load_photo(icc, pid) == photos.load_photo(westin, pid) is not None
        assert photos.load_photo(icc, PEOPLE[3]) is None
    finally:
        westin.close()
        icc.close()


# --- on screen -------------------------------------------------------------------------------------


async def test_the_lane_reads_the_photo_only_after_the_verdict_is_committed_and_shown(
    tmp_path, desk_station, clock, monkeypatch
):
    from meeting import enrol_beside, transfer
    from scan_helpers import add_photos, post_keys, wait_for

    from regdesk.services import desk as desk_service
    from regdesk.tui.app import make_app
    from regdesk.tui.screens.security import SecurityScreen
    from regdesk.tui.widgets.photo import PhotoView
    from regdesk.tui.widgets.verdict_panel import VerdictPanel

    seed_participants(
        desk_station, [participant_row("CH-1", "Muster", "Hans"), participant_row("JP-1", "Yamada", "Taro")]
    )
    add_photos(desk_station, ["CH-1"])
    badges = {}
    for pid in ("CH-1", "JP-1"):
        desk_service.record_identity_check(desk_station, pid, "passport", "X1234567", "clerk")
        badges[pid] = desk_service.issue_badge(desk_station, pid, operator="clerk")
    security = enrol_beside(desk_station, tmp_path / "security", role="security", name="security 1", clock=clock)
    transfer(desk_station, security)
    clock.set(__import__("conftest").local("2017-12-04T08:40"))
    seen, panel = [], []
    real_load = photos.load_photo

    written: list[tuple[int, str]] = []  # (verdicts so far, the panel's state) at each frame written

    def watched_load(station, participant_id):
        with station.sessions() as session:
            committed = session.execute(text("SELECT count(*) FROM scans")).scalar_one()
        painted = (len(app.screen.results), panel[0].state) in written
        seen.append((participant_id, committed, panel[0].state, painted))
        return real_load(station, participant_id)

    monkeypatch.setattr(photos, "load_photo", watched_load)
    app = make_app(security, operator="sam")
    write_frame = app._display

    def watched_frame(screen, update):
        if update is not None and isinstance(screen, SecurityScreen) and panel:
            written.append((len(screen.results), panel[0].state))
        write_frame(screen, update)

    app._display = watched_frame
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SecurityScreen) and app.screen.scanner_info, "lane")
        screen = app.screen
        screen.hold_seconds = 3600
        view = screen.query_one(PhotoView)
        panel.append(screen.query_one(VerdictPanel))
        post_keys(app, badges["CH-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 1 and not view.photo_pending, "verdict and photo")
        # read after the scan row was committed, and after the frame that paints VALID was written
        assert seen == [("CH-1", 1, "valid", True)]
        assert view.display and view.query_one(".photo-image").display
        post_keys(app, badges["JP-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 2 and not view.photo_pending, "second verdict")
        assert "NO PHOTO" in str(view.query_one("#photo-caption").content)
    security.close()
