"""Photos for the photo tests: generated pictures (never of real people), the participants they belong to,
and a badge issued with or without one."""

from __future__ import annotations

import io

from PIL import Image

from conftest import participant_row, seed_participants
from regdesk.render import avatar
from regdesk.services import photos
from regdesk.services.station import Station

OPERATOR = "ana"
PEOPLE = ["GCM17-000001", "GCM17-000002", "GCM17-000003", "GCM17-000004"]


def with_photo_people(desk_station: Station) -> Station:
    """The desk with PEOPLE on its list (Given0 Family0, ...)."""
    seed_participants(desk_station, [participant_row(pid, f"Family{i}", f"Given{i}") for i, pid in enumerate(PEOPLE)])
    return desk_station


def image_bytes(fmt: str, seed: str = "x", size: tuple[int, int] = (300, 375), **save) -> bytes:
    out = io.BytesIO()
    avatar.draw(seed, *size).save(out, fmt, **save)
    return out.getvalue()


def issue_with_photo(desk_station, tmp_path, *, with_photo: bool):
    from regdesk.services import desk as desk_service

    seed_participants(desk_station, [participant_row("GCM17-000001", "Lauber", "Jurg")])
    if with_photo:
        folder = tmp_path / "photos"
        folder.mkdir()
        # A photo of one flat, vivid colour: easy to find again on the rendered page.
        (folder / "GCM17-000001.png").write_bytes(flat_png((0, 170, 80)))
        photos.import_photos(desk_station, folder, operator=OPERATOR)
    desk_service.record_identity_check(desk_station, "GCM17-000001", "passport", "X1234567", OPERATOR)
    return desk_service.issue_badge(desk_station, "GCM17-000001", operator=OPERATOR)


def flat_png(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 400), colour).save(out, "PNG")
    return out.getvalue()
