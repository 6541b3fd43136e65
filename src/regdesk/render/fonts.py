"""Badge fonts: which font draws which character, in which weight.

Participants' names come in Latin (with accents), Cyrillic, Greek, Arabic, Chinese, Japanese,
Korean... and must print as real glyphs, never as .notdef boxes. The fonts are the OFL-licensed
Noto families, installed from PyPI (no font binaries in the repository):

    latin   Noto Sans           fontpkg-noto-sans          Latin, Greek, Cyrillic, Vietnamese
    arabic  Noto Sans Arabic    fontpkg-noto-sans-arabic   shaped with HarfBuzz, right to left
    sc/tc/jp/kr  Noto Sans SC/TC/JP/KR   justmytype-intl-cjk   Chinese (simplified/traditional),
                                                               Japanese kana, Korean hangul

Those packages ship *variable* fonts. reportlab embeds a variable font's default instance, which
is Regular for Noto Sans but Thin for the CJK fonts, and cannot pick a weight. So we cut static
instances ourselves with hb-subset (uharfbuzz), which is fast: the whole Latin font once per
process (~80 ms), and for the 10-17 MB CJK fonts only the characters of the text at hand (~1 ms),
so a CJK badge embeds a few kilobytes.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import uharfbuzz as hb
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from regdesk.errors import RegdeskError

REGULAR = 400
BOLD = 700

# Per-text CJK fonts kept registered with reportlab at once; older ones are unregistered.
_PER_TEXT_FONT_LIMIT = 256


class FontError(RegdeskError, RuntimeError):
    pass


@dataclass(frozen=True)
class FaceSource:
    key: str
    package: str  # the PyPI package's import name
    path: str  # the variable font inside that package
    rtl: bool = False  # a right-to-left script: runs in this face need shaping + reversed order
    whole: bool = True  # instantiate the whole font once; False: a small subset per text (huge CJK fonts)


# Fallback chain: the first face that has a glyph for a character draws it.
FACES: tuple[FaceSource, ...] = (
    FaceSource("latin", "fontpkg_noto_sans", "files/NotoSans[wdth,wght].ttf"),
    FaceSource("arabic", "fontpkg_noto_sans_arabic", "files/NotoSansArabic[wdth,wght].ttf", rtl=True),
    FaceSource("sc", "justmytype_intl_cjk", "fonts/ofl/notosanssc/NotoSansSC[wght].ttf", whole=False),
    FaceSource("tc", "justmytype_intl_cjk", "fonts/ofl/notosanstc/NotoSansTC[wght].ttf", whole=False),
    FaceSource("jp", "justmytype_intl_cjk", "fonts/ofl/notosansjp/NotoSansJP[wght].ttf", whole=False),
    FaceSource("kr", "justmytype_intl_cjk", "fonts/ofl/notosanskr/NotoSansKR[wght].ttf", whole=False),
)
_BY_KEY = {f.key: f for f in FACES}
PRIMARY = "latin"

_lock = threading.RLock()
_registered: set[str] = set()
_per_text_fonts: OrderedDict[str, None] = OrderedDict()


@dataclass(frozen=True)
class LoadedFace:
    source: FaceSource
    hb_face: hb.Face
    unicodes: frozenset[int]


def source(key: str) -> FaceSource:
    return _BY_KEY[key]


@cache
def _load(key: str) -> LoadedFace | None:
    """The variable font of a face, or None when its package is not installed."""
    src = _BY_KEY[key]
    try:
        path = resources.files(src.package) / src.path
        data = path.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        if key == PRIMARY:
            raise FontError(
                f"badge font {src.path} not found: install the {src.package.replace('_', '-')} "
                f"package (pip install -e . installs it)"
            ) from None
        return None
    face = hb.Face(hb.Blob(data))
    return LoadedFace(src, face, frozenset(face.unicodes))


def available(key: str) -> bool:
    return _load(key) is not None


def covers(key: str, char: str) -> bool:
    loaded = _load(key)
    return loaded is not None and ord(char) in loaded.unicodes


@lru_cache(maxsize=8192)
def face_for(char: str) -> str | None:
    """The first face in the fallback chain with a glyph for `char`; None if no font has one."""
    for src in FACES:
        if covers(src.key, char):
            return src.key
    return None


def _instance(loaded: LoadedFace, weight: int, text: str | None) -> bytes:
    """A static TrueType font at `weight`: whole font, or only the glyphs for `text`."""
    face = loaded.hb_face
    wanted = hb.SubsetInput()
    if text is None:
        wanted.keep_everything()
    else:
        for ch in set(text) | {" "}:
            wanted.unicode_set.add(ord(ch))
    axes = {axis.tag for axis in face.axis_infos}
    if "wght" in axes:
        wanted.pin_axis_location(face, "wght", weight)
    for tag in axes - {"wght"}:
        wanted.pin_axis_to_default(face, tag)
    # Hinting instructions are useless for print and slow reportlab's parser.
    wanted.flags |= hb.SubsetFlags.NO_HINTING
    subset = hb.subset(face, wanted)
    if subset is None:
        raise FontError(f"could not cut a {weight} instance of {loaded.source.path}")
    return subset.blob.data


def _register(name: str, data: bytes) -> None:
    # asciiReadable=False: embed only the glyphs used, not all of printable ASCII in every PDF.
    font = TTFont(name, io.BytesIO(data), asciiReadable=False)
    # Every instance keeps the variable font's PostScript name ("NotoSans-Regular"), and reportlab
    # shares one embedded font between all faces of the same name: the bold would print regular.
    font.face.name = name.encode("ascii")
    pdfmetrics.registerFont(font)
    _registered.add(name)


def font_name(key: str, weight: int, text: str) -> str:
    """The registered reportlab font that draws `text` (all covered by face `key`) at `weight`."""
    loaded = _load(key)
    if loaded is None:
        raise FontError(f"no font installed for face {key!r}")
    if loaded.source.whole:
        name = f"RD-{key}-{weight}"
        with _lock:
            if name not in _registered:
                _register(name, _instance(loaded, weight, None))
        return name
    chars = "".join(sorted(set(text)))
    digest = hashlib.blake2s(chars.encode("utf-8"), digest_size=8).hexdigest()
    name = f"RD-{key}-{weight}-{digest}"
    with _lock:
        if name in _per_text_fonts:
            _per_text_fonts.move_to_end(name)
            return name
        _register(name, _instance(loaded, weight, chars))
        _per_text_fonts[name] = None
        while len(_per_text_fonts) > _PER_TEXT_FONT_LIMIT:
            old, _ = _per_text_fonts.popitem(last=False)
            pdfmetrics.getFont(old).unregister()
            _registered.discard(old)
    return name


def warm_up() -> None:
    """Cut the always-used fonts now (desk start-up) instead of on the first badge."""
    for weight in (REGULAR, BOLD):
        font_name(PRIMARY, weight, "")
