"""Text on a badge: split into per-font runs, order right-to-left scripts, shrink to fit a box.

A name may mix scripts ("Dr. محمد", "王小明 (Wang)"), so each line is cut into runs, each drawn with
the first font of the fallback chain (fonts.FACES) that has glyphs for it. Arabic runs are shaped
by HarfBuzz through reportlab (joining forms, lam-alef ligatures) and come out in visual order;
a line whose first strong character is right-to-left lays its runs out from the right.

Fitting never overflows: the text gets the largest size <= the box's maximum at which it fits the
box width and height, on one line or (when allowed and it helps) two; below a floor size it is
squeezed horizontally instead of getting smaller still.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import ShapedStr, shapeStr
from reportlab.pdfgen.canvas import Canvas

from regdesk.render import fonts

ASCENT = 0.92  # of the font size: where the first baseline sits below a line's top
DESCENT = 0.26  # below the last baseline (Arabic and Latin descenders, accents)
LEADING = 1.12  # baseline to baseline, multiple-line names
FLOOR_SIZE = 5.0  # pt: below this, squeeze horizontally rather than shrink
MIN_SQUEEZE = 0.55  # never narrower than this fraction; never reached for real names
SHAPING_SIZE = 10.0  # HarfBuzz advances scale linearly; shape once, draw at any size


@dataclass(frozen=True)
class Run:
    text: str  # logical order
    face: str
    font: str  # registered reportlab font name
    draw: str  # what to hand to drawString (a ShapedStr for shaped runs)
    width: float  # advance width at 1 pt


@dataclass(frozen=True)
class Line:
    text: str  # logical order
    runs: tuple[Run, ...]  # visual order, left to right
    width: float  # at 1 pt
    rtl: bool


@dataclass(frozen=True)
class Fitted:
    lines: tuple[Line, ...]
    size: float  # pt
    squeeze: float = 1.0  # horizontal scale (1.0 = none)

    def width(self) -> float:
        """Widest line as drawn, in pt."""
        return max((line.width for line in self.lines), default=0.0) * self.size * self.squeeze

    def height(self) -> float:
        return block_height(len(self.lines), self.size)


def block_height(n_lines: int, size: float) -> float:
    return size * (ASCENT + DESCENT + LEADING * (n_lines - 1)) if n_lines else 0.0


def normalise(text: str) -> str:
    """NFC (precomposed accents draw without mark positioning) and collapsed whitespace."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _is_strong(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _is_rtl(ch: str) -> bool:
    return unicodedata.bidirectional(ch) in ("R", "AL")


def renderable(text: str) -> bool:
    """Every character has a real glyph in some badge font (so nothing prints as a box)."""
    return all(ch.isspace() or fonts.face_for(ch) is not None for ch in normalise(text))


CJK_FACES = ("sc", "tc", "jp", "kr")


def _cjk_preference(text: str) -> str | None:
    """Kana make a name Japanese and hangul Korean: draw its Han characters with that font too
    (the same character has local glyph forms). Otherwise the chain's order (Chinese) applies."""
    for ch in text:
        if "\u3040" <= ch <= "\u30ff" or "\u31f0" <= ch <= "\u31ff":
            return "jp"
        if "\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f":
            return "kr"
    return None


def _assign_faces(text: str) -> list[str]:
    """Face per character. Marks stay with their base; spaces and punctuation join a neighbour."""
    faces: list[str | None] = []
    prev: str | None = None
    preferred = _cjk_preference(text)
    for ch in text:
        face = None
        if _is_strong(ch):
            if unicodedata.category(ch)[0] == "M" and prev and fonts.covers(prev, ch):
                face = prev
            else:
                face = fonts.face_for(ch)
                if face is None:
                    raise ValueError(f"no badge font has a glyph for {ch!r} (U+{ord(ch):04X})")
                if face in CJK_FACES and preferred and fonts.covers(preferred, ch):
                    face = preferred
            prev = face
        faces.append(face)
    # Neutrals (spaces, punctuation, digits) take the face before them, else the one after; an
    # opening bracket or quote belongs with what follows it.
    for i, ch in enumerate(text):
        if faces[i] is not None:
            continue
        before = next((faces[j] for j in range(i - 1, -1, -1) if faces[j] and _is_strong(text[j])), None)
        after = next((faces[j] for j in range(i + 1, len(text)) if faces[j] and _is_strong(text[j])), None)
        order = (after, before) if unicodedata.category(ch) in ("Ps", "Pi") else (before, after)
        for candidate in (*order, fonts.PRIMARY, fonts.face_for(ch)):
            if candidate and fonts.covers(candidate, ch):
                faces[i] = candidate
                break
        else:
            raise ValueError(f"no badge font has a glyph for {ch!r} (U+{ord(ch):04X})")
    return faces  # type: ignore[return-value]


def _make_run(text: str, face: str, weight: int) -> Run:
    font = fonts.font_name(face, weight, text)
    if fonts.source(face).rtl:
        shaped = shapeStr(text, font, SHAPING_SIZE)
        if isinstance(shaped, ShapedStr) and shaped.__shapeData__:
            width = sum(sd.x_advance for sd in shaped.__shapeData__) / 1000.0
            return Run(text, face, font, shaped, width)
    return Run(text, face, font, text, pdfmetrics.stringWidth(text, font, 1.0))


_line_cache: OrderedDict[tuple[str, int], Line] = OrderedDict()
_LINE_CACHE_SIZE = 1024
_line_lock = threading.Lock()


def layout_line(text: str, weight: int = fonts.REGULAR) -> Line:
    """`text` as one line of runs in visual order. Lines drawn only with whole-font faces are
    cached: meeting name, dates, category, delegations repeat on every badge."""
    key = (text, weight)
    with _line_lock:
        line = _line_cache.get(key)
        if line is not None:
            _line_cache.move_to_end(key)
            return line
    line = _layout_line(text, weight)
    # Lines using per-text CJK fonts are not kept: their font may be unregistered later.
    if all(fonts.source(run.face).whole for run in line.runs):
        with _line_lock:
            _line_cache[key] = line
            while len(_line_cache) > _LINE_CACHE_SIZE:
                _line_cache.popitem(last=False)
    return line


def _layout_line(text: str, weight: int) -> Line:
    text = normalise(text)
    if not text:
        return Line("", (), 0.0, False)
    faces = _assign_faces(text)
    runs: list[Run] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or faces[i] != faces[start]:
            runs.append(_make_run(text[start:i], faces[start], weight))
            start = i
    first_strong = next((ch for ch in text if _is_strong(ch)), "")
    rtl = bool(first_strong) and _is_rtl(first_strong)
    if rtl:
        runs.reverse()
    return Line(text, tuple(runs), sum(r.width for r in runs), rtl)


def _break_points(text: str) -> list[tuple[str, str]]:
    """Ways to cut a name into two lines: at spaces, else after hyphens, else between CJK characters."""
    options = [(text[:i], text[i + 1 :]) for i, ch in enumerate(text) if ch == " "]
    if not options:  # a compound name breaks after its hyphen only when it has no space
        options = [(text[: i + 1], text[i + 1 :]) for i, ch in enumerate(text) if ch == "-" and 0 < i < len(text) - 1]
    if not options:
        for i in range(1, len(text)):
            if fonts.face_for(text[i]) in CJK_FACES and fonts.face_for(text[i - 1]) in CJK_FACES:
                options.append((text[:i], text[i:]))
    return [(a.strip(), b.strip()) for a, b in options if a.strip() and b.strip()]


def _size_for(lines: list[Line], box_w: float, box_h: float, max_size: float) -> float:
    widest = max(line.width for line in lines) or 1e-9
    by_height = box_h / (ASCENT + DESCENT + LEADING * (len(lines) - 1))
    return min(max_size, box_w / widest, by_height)


def fit(
    text: str,
    box_w: float,
    box_h: float,
    *,
    max_size: float,
    weight: int = fonts.REGULAR,
    max_lines: int = 1,
    one_line_down_to: float | None = None,
) -> Fitted:
    """Largest size (<= max_size) at which `text` fits box_w x box_h (pt) on <= max_lines lines.

    A name reads better unbroken: it stays on one line while that line's size is at least
    `one_line_down_to` (default: max_size), or when two lines would not be 15% larger.
    """
    one = layout_line(text, weight)
    if not one.runs:
        return Fitted((), max_size)
    best_lines, best_size = [one], _size_for([one], box_w, box_h, max_size)
    threshold = max_size if one_line_down_to is None else one_line_down_to
    if max_lines >= 2 and best_size < threshold:
        two_lines, two_size, two_widest = None, 0.0, 0.0
        for first, second in _break_points(one.text):
            pair = [layout_line(first, weight), layout_line(second, weight)]
            size = _size_for(pair, box_w, box_h, max_size)
            widest = max(line.width for line in pair)
            # Largest size first; among equal sizes the most even pair of lines.
            if size > two_size + 1e-6 or (abs(size - two_size) <= 1e-6 and widest < two_widest):
                two_lines, two_size, two_widest = pair, size, widest
        if two_lines is not None and two_size > best_size * 1.15:
            best_lines, best_size = two_lines, two_size
    squeeze = 1.0
    if best_size < FLOOR_SIZE:
        by_height = box_h / (ASCENT + DESCENT + LEADING * (len(best_lines) - 1))
        size = min(FLOOR_SIZE, by_height)
        widest = max(line.width for line in best_lines) * size
        squeeze = max(MIN_SQUEEZE, min(1.0, box_w / widest)) if widest else 1.0
        if widest * squeeze > box_w:  # absurdly long: shrink again rather than overflow
            size = box_w / (max(line.width for line in best_lines) * squeeze)
        best_size = size
    return Fitted(tuple(best_lines), best_size, squeeze)


def draw(
    canvas: Canvas,
    fitted: Fitted,
    x: float,
    y: float,
    w: float,
    h: float,
    *,
    align: str = "center",
    valign: str = "middle",
    colour: object = None,
) -> None:
    """Draw fitted text inside the box whose lower-left corner is (x, y), in pt."""
    if not fitted.lines:
        return
    size = fitted.size
    slack = h - fitted.height()
    top = y + h - (slack / 2 if valign == "middle" else 0 if valign == "top" else slack)
    if colour is not None:
        canvas.setFillColor(colour)
    for i, line in enumerate(fitted.lines):
        baseline = top - size * (ASCENT + LEADING * i)
        line_w = line.width * size * fitted.squeeze
        side = align
        if align == "start":
            side = "right" if line.rtl else "left"
        if side == "left":
            cursor = x
        elif side == "right":
            cursor = x + w - line_w
        else:
            cursor = x + (w - line_w) / 2
        for run in line.runs:
            canvas.setFont(run.font, size)
            if fitted.squeeze != 1.0:
                canvas.saveState()
                canvas.translate(cursor, baseline)
                canvas.scale(fitted.squeeze, 1.0)
                canvas.drawString(0, 0, run.draw)
                canvas.restoreState()
            else:
                canvas.drawString(cursor, baseline, run.draw)
            cursor += run.width * size * fitted.squeeze
