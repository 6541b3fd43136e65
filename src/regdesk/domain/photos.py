"""Participant photos as the event log carries them. Pure: no I/O, no clock, no Pillow.

A photo travels in one `photo_imported` event: the participant, the stored JPEG (base64), its
SHA-256, the SHA-256 of the file it was made from (a re-import compares it) and its size in
pixels. Every station checks what it merges here before any decoder sees the bytes: the hash must
match, the bytes must be one baseline/progressive JPEG whose header declares exactly the pixel
size the payload claims, within the stored size. A station that decodes it later (a card, a
verdict, a badge) therefore never meets a decompression bomb or an image of another kind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

# What is stored and synced for every participant: one JPEG of at most this size (4:5, as a
# passport photo cropped to the face), quality PHOTO_QUALITY. About 4-9 KB each.
PHOTO_WIDTH = 160
PHOTO_HEIGHT = 200
PHOTO_QUALITY = 75
MAX_PHOTO_BYTES = 48 * 1024  # far above what 160 x 200 at quality 75 needs
MAX_PHOTO_BASE64 = (MAX_PHOTO_BYTES + 2) // 3 * 4

_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2})  # baseline, extended, progressive (Huffman)


def jpeg_dimensions(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, or None when `data` is not a JPEG whose
    segments can be walked to a frame header (and that ends with its end-of-image marker)."""
    if len(data) < 4 or data[:3] != b"\xff\xd8\xff" or data[-2:] != b"\xff\xd9":
        return None
    i = 2
    end = len(data)
    while i + 4 <= end:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2 or i + 2 + length > end:
            return None
        if marker in _SOF_MARKERS:
            if length < 8:
                return None
            height = int.from_bytes(data[i + 5 : i + 7], "big")
            width = int.from_bytes(data[i + 7 : i + 9], "big")
            return width, height
        if marker == 0xDA or (0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC)):
            return None  # scan data before any frame header, or a coding no stored photo uses
        i += 2 + length
    return None


def photo_problem(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(field, problem) when a photo_imported payload's image does not hold; None when it does."""
    encoded = payload.get("jpeg")
    if not isinstance(encoded, str) or not encoded or len(encoded) > MAX_PHOTO_BASE64:
        return "jpeg", f"must be base64 text of at most {MAX_PHOTO_BASE64} characters"
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return "jpeg", "is not base64"
    if hashlib.sha256(data).hexdigest() != payload.get("sha256"):
        return "sha256", "does not match the photo"
    size = jpeg_dimensions(data)
    if size is None:
        return "jpeg", "is not a JPEG image"
    if size != (payload.get("width"), payload.get("height")):
        return "width", f"the JPEG is {size[0]} x {size[1]} pixels, not what the payload says"
    if not (0 < size[0] <= PHOTO_WIDTH and 0 < size[1] <= PHOTO_HEIGHT):
        return "width", f"a stored photo is at most {PHOTO_WIDTH} x {PHOTO_HEIGHT} pixels"
    return None
