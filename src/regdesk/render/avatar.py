"""Synthetic "passport photos" for the demo, the tests and the bench: a drawn figure (head,
hair, shoulders, on a coloured backdrop) whose colours and shapes come from the accreditation id
alone. Deterministic (same id, same pixels), never a real person, never anything downloaded."""

from __future__ import annotations

import hashlib
import io
import random

from PIL import Image, ImageDraw

_BACKDROPS = ((208, 222, 236), (226, 230, 214), (236, 226, 212), (214, 226, 226), (228, 218, 232), (240, 240, 240))
_SKIN = ((255, 224, 196), (241, 194, 160), (224, 172, 128), (198, 134, 90), (161, 102, 66), (110, 70, 44))
_HAIR = ((30, 24, 20), (70, 44, 26), (120, 84, 48), (190, 160, 110), (150, 150, 150), (40, 40, 48))
_CLOTHES = ((30, 42, 72), (60, 60, 64), (110, 30, 40), (24, 80, 70), (80, 80, 110), (20, 20, 24))


def draw(seed: str, width: int = 300, height: int = 375, *, grain: int = 0) -> Image.Image:
    """The figure for `seed` (an accreditation id) as an RGB image. `grain` adds seeded noise of
    that amplitude: the texture of a real photograph, so that JPEG sizes come out realistic."""
    rng = random.Random(hashlib.sha256(seed.encode("utf-8")).digest())
    image = Image.new("RGB", (width, height), rng.choice(_BACKDROPS))
    d = ImageDraw.Draw(image)
    w, h = width, height
    skin, hair, clothes = rng.choice(_SKIN), rng.choice(_HAIR), rng.choice(_CLOTHES)
    # Shoulders and neck.
    d.ellipse((w * 0.08, h * 0.72, w * 0.92, h * 1.25), fill=clothes)
    d.rectangle((w * 0.42, h * 0.58, w * 0.58, h * 0.78), fill=skin)
    # Hair behind the head, the head, hair on top.
    hair_len = rng.uniform(0.55, 0.8)
    d.ellipse((w * 0.24, h * 0.14, w * 0.76, h * hair_len), fill=hair)
    d.ellipse((w * 0.3, h * 0.2, w * 0.7, h * 0.66), fill=skin)
    d.chord((w * 0.28, h * 0.13, w * 0.72, h * rng.uniform(0.34, 0.42)), 180, 360, fill=hair)
    # Eyes, brows and mouth: dots and lines, not a face of anyone.
    eye_y = h * 0.42
    for x in (w * 0.42, w * 0.58):
        d.ellipse((x - w * 0.02, eye_y - h * 0.012, x + w * 0.02, eye_y + h * 0.012), fill=(40, 30, 30))
        d.line((x - w * 0.04, eye_y - h * 0.04, x + w * 0.04, eye_y - h * 0.04), fill=hair, width=max(1, w // 100))
    d.arc((w * 0.43, h * 0.5, w * 0.57, h * 0.58), 20, 160, fill=(120, 60, 60), width=max(1, w // 120))
    if rng.random() < 0.3:  # glasses
        for x in (w * 0.42, w * 0.58):
            d.ellipse(
                (x - w * 0.06, eye_y - h * 0.035, x + w * 0.06, eye_y + h * 0.035),
                outline=(30, 30, 30),
                width=max(1, w // 120),
            )
    if grain:  # seeded, so the same id still gives the same pixels
        noise = Image.frombytes("L", (width, height), rng.randbytes(width * height)).convert("RGB")
        image = Image.blend(image, noise, grain / 255)
    return image


def jpeg(seed: str, width: int = 300, height: int = 375, *, grain: int = 0, quality: int = 90) -> bytes:
    out = io.BytesIO()
    draw(seed, width, height, grain=grain).save(out, "JPEG", quality=quality)
    return out.getvalue()
