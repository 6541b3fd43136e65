"""What goes on a badge: plain data handed from the desk service to the renderer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BadgeContent:
    token: str  # the signed token, encoded in the QR code
    serial: str  # 8 base32 characters, encoded in the Code128 and printed as ABCD-EFGH
    issue_no: int
    given_names: str  # as in the passport (any script)
    family_name: str
    given_names_latin: str  # Latin rendering (equal to the above for Latin-script names)
    family_name_latin: str
    title: str
    delegation: str
    category_code: str
    category_name: str
    category_colour: str  # #RRGGBB
    role_label: str  # "Head of delegation" or ""
    event_name: str
    event_dates: str
    photo_jpeg: bytes | None = None  # the stored photo (services/photos.py), printed where the layout has room
