"""Badge PDF: one badge (any layout) or sheets of several (four A6 on A4).

Hierarchy, top to bottom on the A6: meeting and dates (small), the name as large as fits (up to
two lines), its Latin rendering under non-Latin names, delegation, a "Head of delegation"
marker, the QR (signed token) beside the Code128 and human-readable serial, and the category's
colour band with its name in large letters, readable across a screening hall.

Where every box sits comes from the layout file (badges/<name>.toml, see layouts.py).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from regdesk.domain.token import format_serial
from regdesk.render import codes, fonts, text
from regdesk.render.content import BadgeContent
from regdesk.render.layouts import BadgeLayout, Box, SheetLayout, load_layout

TEXT_DARK = HexColor("#1A1A1A")
TEXT_MUTED = HexColor("#555555")
CUT_MARK_GREY = Color(0.6, 0.6, 0.6)


@dataclass(frozen=True)
class PlacedText:
    fitted: text.Fitted
    rect: tuple[float, float, float, float]  # x, y (bottom-left), w, h in pt, badge coordinates
    align: str = "center"
    colour: Color = TEXT_DARK


@dataclass(frozen=True)
class BadgePlan:
    """Every piece of text with its size and box: what gets drawn, and what tests inspect."""

    layout: BadgeLayout
    texts: dict[str, PlacedText]
    band_colour: Color
    band_text_colour: Color
    role_shown: bool


def _has_case(s: str) -> bool:
    return s.upper() != s.lower()


def _is_cjk(s: str) -> bool:
    return any(
        fonts.face_for(ch) in text.CJK_FACES
        and unicodedata.category(ch)[0] == "L"
        and not ch.isascii()
        and not _has_case(ch)
        for ch in s
    )


def display_name(given: str, family: str) -> str:
    """UN badge style: Given FAMILY; Chinese, Japanese and Korean names family first, unspaced."""
    given, family = text.normalise(given), text.normalise(family)
    if _is_cjk(family + given):
        return f"{family}{given}"
    return " ".join(part for part in (given, family.upper() if _has_case(family) else family) if part)


def latin_display_name(content: BadgeContent) -> str:
    given, family = text.normalise(content.given_names_latin), text.normalise(content.family_name_latin)
    if _is_cjk(content.family_name + content.given_names):
        return " ".join(p for p in (family.upper(), given) if p)  # Chinese order: WANG Xiaoming
    return display_name(given, family)


def names_for(content: BadgeContent) -> tuple[str, str]:
    """(name in passport script, Latin line or ""). A name no badge font can draw falls back to
    its Latin rendering rather than printing boxes."""
    primary = display_name(content.given_names, content.family_name)
    latin = latin_display_name(content)
    if not primary or not text.renderable(primary):
        return latin or "(name missing)", ""
    if not latin or latin.casefold() == primary.casefold() or not text.renderable(latin):
        return primary, ""
    return primary, latin


def _contrast_text(colour: Color) -> Color:
    """Black or white, whichever reads better on `colour` (WCAG relative luminance)."""

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * lin(colour.red) + 0.7152 * lin(colour.green) + 0.0722 * lin(colour.blue)
    # White while it keeps the 3:1 contrast WCAG asks of large text (UN blue passes), else black.
    return white if 1.05 / (lum + 0.05) >= 3.0 else TEXT_DARK


def _directly_below(upper: Box, lower: Box) -> bool:
    gap = lower.y - (upper.y + upper.height)
    return 0 <= gap <= 2.0 and lower.x >= upper.x and lower.x + lower.width <= upper.x + upper.width


def _rect(layout: BadgeLayout, box: Box) -> tuple[float, float, float, float]:
    return box.rect_pt(layout.height)


def plan_badge(content: BadgeContent, layout: BadgeLayout) -> BadgePlan:
    texts: dict[str, PlacedText] = {}
    band_colour = HexColor(content.category_colour)
    band_text = _contrast_text(band_colour)

    # Colour band: the category name, in capitals, as large as fits on one line.
    band = layout.box("band")
    x, y, w, h = _rect(layout, band)
    pad = min(h * 0.18, 3 * 72 / 25.4)
    label = (content.category_name or content.category_code).upper()
    texts["band"] = PlacedText(
        text.fit(label, w - 2 * pad, h - pad, max_size=band.size, weight=band.weight, max_lines=band.lines),
        (x + pad, y + pad / 2, w - 2 * pad, h - pad),
        band.align,
        band_text,
    )

    # Name, with the title as a small line just above it; the pair is centred in the name box.
    box = layout.box("name")
    x, y, w, h = _rect(layout, box)
    primary, latin = names_for(content)
    below = layout.box("latin")
    if not latin and _directly_below(box, below):
        # No Latin line under this name: the name takes that space too.
        _, below_y, _, _ = _rect(layout, below)
        h += y - below_y
        y = below_y
    title = text.normalise(content.title)
    title_size = box.get("title_size")
    title_h = text.block_height(1, title_size) if title else 0.0
    one_line = box.get("one_line_down_to") or None
    name = text.fit(
        primary, w, h - title_h, max_size=box.size, weight=box.weight, max_lines=box.lines, one_line_down_to=one_line
    )
    top = y + h - max(0.0, h - title_h - name.height()) / 2
    if title:  # never larger than the name it introduces
        texts["title"] = PlacedText(
            text.fit(title, w, title_h, max_size=min(title_size, name.size), weight=fonts.REGULAR),
            (x, top - title_h, w, title_h),
            box.align,
            TEXT_MUTED,
        )
    texts["name"] = PlacedText(
        name, (x, top - title_h - name.height(), w, name.height()), box.align, HexColor(box.colour)
    )

    if latin:
        box = layout.box("latin")
        x, y, w, h = _rect(layout, box)
        texts["latin"] = PlacedText(
            text.fit(latin, w, h, max_size=box.size, weight=box.weight, max_lines=box.lines),
            (x, y, w, h),
            box.align,
            HexColor(box.colour),
        )

    if content.delegation.strip():
        box = layout.box("delegation")
        x, y, w, h = _rect(layout, box)
        texts["delegation"] = PlacedText(
            text.fit(content.delegation, w, h, max_size=box.size, weight=box.weight, max_lines=box.lines),
            (x, y, w, h),
            box.align,
            HexColor(box.colour),
        )

    role_shown = bool(content.role_label.strip())
    if role_shown:
        box = layout.box("role")
        x, y, w, h = _rect(layout, box)
        pad = h * 0.2
        texts["role"] = PlacedText(
            text.fit(content.role_label.upper(), w - 4 * pad, h - 2 * pad, max_size=box.size, weight=box.weight),
            (x + 2 * pad, y + pad, w - 4 * pad, h - 2 * pad),
            "center",
            band_text,
        )

    # Serial ABCD-EFGH with the issue number under it.
    box = layout.box("serial")
    x, y, w, h = _rect(layout, box)
    issue_size = box.get("issue_size")
    issue_h = text.block_height(1, issue_size)
    texts["serial"] = PlacedText(
        text.fit(format_serial(content.serial), w, h - issue_h, max_size=box.size, weight=box.weight),
        (x, y + issue_h, w, h - issue_h),
        box.align,
        HexColor(box.colour),
    )
    texts["issue"] = PlacedText(
        text.fit(f"Badge no. {content.issue_no}", w, issue_h, max_size=issue_size, weight=fonts.REGULAR),
        (x, y, w, issue_h),
        box.align,
        TEXT_MUTED,
    )

    # Meeting name (bold) and dates.
    box = layout.box("event")
    x, y, w, h = _rect(layout, box)
    dates_size = box.get("dates_size")
    dates_h = text.block_height(1, dates_size)
    texts["event"] = PlacedText(
        text.fit(content.event_name, w, h - dates_h, max_size=box.size, weight=fonts.BOLD, max_lines=box.lines),
        (x, y + dates_h, w, h - dates_h),
        box.align,
        HexColor(box.colour),
    )
    texts["dates"] = PlacedText(
        text.fit(content.event_dates, w, dates_h, max_size=dates_size, weight=fonts.REGULAR),
        (x, y, w, dates_h),
        box.align,
        TEXT_MUTED,
    )
    return BadgePlan(layout, texts, band_colour, band_text, role_shown)


def _draw_badge(canvas: Canvas, content: BadgeContent, layout: BadgeLayout, origin: tuple[float, float]) -> BadgePlan:
    plan = plan_badge(content, layout)
    canvas.saveState()
    canvas.translate(*origin)

    x, y, w, h = _rect(layout, layout.box("band"))
    canvas.setFillColor(plan.band_colour)
    canvas.rect(x, y, w, h, stroke=0, fill=1)

    if plan.role_shown:
        x, y, w, h = _rect(layout, layout.box("role"))
        canvas.setFillColor(plan.band_colour)
        canvas.roundRect(x, y, w, h, h / 2, stroke=0, fill=1)

    if layout.has_photo and content.photo_jpeg:
        _draw_photo(canvas, content.photo_jpeg, *_rect(layout, layout.box("photo")))

    x, y, w, h = _rect(layout, layout.box("qr"))
    codes.draw_qr(canvas, content.token, x, y, w)
    x, y, w, h = _rect(layout, layout.box("barcode"))
    codes.draw_code128(canvas, content.serial, x, y, w, h)

    for placed in plan.texts.values():
        text.draw(canvas, placed.fitted, *placed.rect, align=placed.align, colour=placed.colour)
    canvas.restoreState()
    return plan


def _draw_photo(canvas: Canvas, jpeg: bytes, x: float, y: float, w: float, h: float) -> None:
    """The photo centred in its box, its proportions kept, with a hairline frame. The JPEG goes
    into the PDF as it is (reportlab passes JPEG data through); one that cannot be read leaves
    the box empty rather than stopping the badge."""
    try:
        reader = ImageReader(io.BytesIO(jpeg))
        iw, ih = reader.getSize()
    except Exception:  # noqa: BLE001 - a damaged photo must never stop a badge
        return
    scale = min(w / iw, h / ih)
    dw, dh = iw * scale, ih * scale
    left, bottom = x + (w - dw) / 2, y + (h - dh) / 2
    canvas.drawImage(reader, left, bottom, dw, dh)
    canvas.setStrokeColor(CUT_MARK_GREY)
    canvas.setLineWidth(0.3)
    canvas.rect(left, bottom, dw, dh, stroke=1, fill=0)


def _new_canvas(buffer: io.BytesIO, size: tuple[float, float], title: str) -> Canvas:
    canvas = Canvas(buffer, pagesize=size, pageCompression=1)
    canvas.setTitle(title)  # never the token: PDFs end up in print spools and mailboxes
    canvas.setCreator("regdesk")
    return canvas


def _draw_cut_marks(canvas: Canvas, sheet: SheetLayout) -> None:
    """Dashed hairlines along the cuts, in the badges' blank margins."""
    from regdesk.render.layouts import MM

    canvas.saveState()
    canvas.setStrokeColor(CUT_MARK_GREY)
    canvas.setLineWidth(0.3)
    canvas.setDash(2, 2)
    page_w, page_h = sheet.page_size_pt
    for col in range(1, sheet.columns):
        left_edge = sheet.offset_x + (col - 1) * sheet.column_pitch + sheet.badge.width
        right_edge = sheet.offset_x + col * sheet.column_pitch
        cut = (left_edge + right_edge) / 2 * MM
        canvas.line(cut, 0, cut, page_h)
    for row in range(1, sheet.rows):
        bottom_edge = sheet.offset_y + (row - 1) * sheet.row_pitch + sheet.badge.height
        top_edge = sheet.offset_y + row * sheet.row_pitch
        cut = page_h - (bottom_edge + top_edge) / 2 * MM
        canvas.line(0, cut, page_w, cut)
    canvas.restoreState()


def render_badge_sheet(contents: Sequence[BadgeContent], layout: str = "a4-4up") -> bytes:
    """Several badges in one PDF: on a sheet layout, `per_page` to a page (row by row); on a badge
    layout (e.g. cr80 for a card printer's batch), one badge per page."""
    if not contents:
        raise ValueError("no badges to render")
    chosen = load_layout(layout)
    buffer = io.BytesIO()
    if isinstance(chosen, SheetLayout):
        canvas = _new_canvas(buffer, chosen.page_size_pt, f"{len(contents)} badges")
        for i, content in enumerate(contents):
            if i and i % chosen.per_page == 0:
                canvas.showPage()
            if i % chosen.per_page == 0 and chosen.cut_marks:
                _draw_cut_marks(canvas, chosen)
            _draw_badge(canvas, content, chosen.badge, chosen.cell_origin_pt(i))
    else:
        canvas = _new_canvas(buffer, chosen.page_size_pt, f"{len(contents)} badges")
        for i, content in enumerate(contents):
            if i:
                canvas.showPage()
            _draw_badge(canvas, content, chosen, (0.0, 0.0))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_badge_pdf(content: BadgeContent, layout: str = "a6") -> bytes:
    """One badge as PDF bytes. On a sheet layout it takes the first cell of the sheet."""
    chosen = load_layout(layout)
    if isinstance(chosen, SheetLayout):
        return render_badge_sheet([content], layout)
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, chosen.page_size_pt, f"Badge {format_serial(content.serial)}")
    _draw_badge(canvas, content, chosen, (0.0, 0.0))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
