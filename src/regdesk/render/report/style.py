"""The report's look: colours, page geometry, text styles and the small pieces every section uses (tables, tiles)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Paragraph,
    Table,
    TableStyle,
)

UN_BLUE = colors.HexColor("#009EDB")
NAVY = colors.HexColor("#1B365D")
INK = colors.HexColor("#222222")
MUTED = colors.HexColor("#5F6B7A")
RULE = colors.HexColor("#C9D3DD")
ZEBRA = colors.HexColor("#F2F6FA")
ALERT = colors.HexColor("#C0392B")
DENIED = colors.HexColor("#D9534F")
GOOD = colors.HexColor("#2E8B57")
LIGHT = colors.HexColor("#DCE3EA")

PAGE_W, PAGE_H = A4
MARGIN = 18 * mm
CONTENT_W = PAGE_W - 2 * MARGIN

MAX_NO_SHOWS = 400
MAX_DELEGATIONS = 250
MAX_DEPARTURES = 150
MAX_PEOPLE_ROWS = 40  # operators, stations


def _fonts() -> tuple[str, str]:
    """Noto Sans (the badge font: accents, Greek, Cyrillic) when installed, else Helvetica."""
    try:
        from regdesk.render import fonts

        return fonts.font_name(fonts.PRIMARY, fonts.REGULAR, ""), fonts.font_name(fonts.PRIMARY, fonts.BOLD, "")
    except Exception:  # the report must render even without the badge fonts
        return "Helvetica", "Helvetica-Bold"


class Styles:
    def __init__(self) -> None:
        regular, bold = _fonts()
        self.regular, self.bold = regular, bold
        self.body = ParagraphStyle("body", fontName=regular, fontSize=9, leading=12, textColor=INK)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=7.5, leading=9.5, textColor=MUTED)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=8, leading=10)
        self.h1 = ParagraphStyle("h1", fontName=bold, fontSize=17, leading=21, textColor=NAVY, spaceAfter=2 * mm)
        self.h2 = ParagraphStyle(
            "h2", fontName=bold, fontSize=12.5, leading=16, textColor=NAVY, spaceBefore=5 * mm, spaceAfter=2 * mm
        )
        self.h3 = ParagraphStyle(
            "h3", fontName=bold, fontSize=9.5, leading=12, textColor=NAVY, spaceBefore=3 * mm, spaceAfter=1.5 * mm
        )
        self.note = ParagraphStyle("note", parent=self.small, fontSize=7.5, spaceBefore=1 * mm, alignment=TA_LEFT)


# --- pieces --------------------------------------------------------------------------------------


def escape(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def count_text(value: int) -> str:
    return f"{value:,}"


def percent_text(value: float) -> str:
    return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"


def short_stop(name: str) -> str:
    return name.split(" (")[0]


def integer_axis(axis: Any, values: Sequence[float]) -> None:
    """Whole-number ticks for small counts: an axis reading 0.5 or 1.5 people looks broken."""
    top = max([0, *values])
    axis.valueMin = 0
    if top == 0:
        axis.valueMax, axis.valueStep = 10, 2
    elif top <= 6:
        axis.valueMax, axis.valueStep = top + 1, 1
    elif top <= 14:
        axis.valueMax, axis.valueStep = top + 2 - top % 2, 2


def local_time(iso: str) -> str:
    return iso[11:16] if len(iso) >= 16 else iso


def long_day(day) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_day(day) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def table_of(
    st: Styles,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    numeric_from: int = 1,
    highlight: Sequence[int] = (),
    total: Sequence[Any] | None = None,
) -> Table:
    """A report table: navy header, zebra rows, numbers right-aligned, optional total row."""
    data: list[list[Any]] = [
        [
            Paragraph(
                f"<b>{escape(h)}</b>",
                ParagraphStyle(
                    "th",
                    parent=st.cell,
                    fontName=st.bold,
                    textColor=colors.white,
                    fontSize=7.5,
                    leading=9,
                    alignment=2 if i >= numeric_from else 0,
                ),
            )
            for i, h in enumerate(header)
        ]
    ]
    for row in rows:
        data.append([c if isinstance(c, Flowable) else str(c) for c in row])
    if total is not None:
        data.append([str(c) for c in total])
    table = Table(data, colWidths=widths, repeatRows=1)
    style = [
        ("FONT", (0, 1), (-1, -1), st.regular, 8),
        ("TEXTCOLOR", (0, 1), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), NAVY),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (numeric_from, 1), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    for i in range(1, len(data)):
        if i % 2 == 0:
            style.append(("BACKGROUND", (0, i), (-1, i), ZEBRA))
    for i in highlight:
        style.append(("TEXTCOLOR", (0, i + 1), (-1, i + 1), ALERT))
        style.append(("FONT", (0, i + 1), (-1, i + 1), st.bold, 8))
    if total is not None:
        style += [
            ("FONT", (0, -1), (-1, -1), st.bold, 8),
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, NAVY),
            ("BACKGROUND", (0, -1), (-1, -1), colors.white),
        ]
    table.setStyle(TableStyle(style))
    return table


def empty_note(st: Styles, text: str) -> Paragraph:
    return Paragraph(f"<i>{escape(text)}</i>", st.small)


class Tiles(Flowable):
    """The cover's headline numbers: a grid of tiles with a big figure, a label and a detail line."""

    def __init__(self, st: Styles, tiles: Sequence[tuple[str, str, str, colors.Color]], columns: int = 4) -> None:
        super().__init__()
        self.st, self.tiles, self.columns = st, tiles, columns
        self.gap = 3 * mm
        self.tile_h = 25 * mm
        rows = (len(tiles) + columns - 1) // columns
        self.width = CONTENT_W
        self.height = rows * self.tile_h + (rows - 1) * self.gap

    def wrap(self, avail_w: float, avail_h: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        tile_w = (self.width - (self.columns - 1) * self.gap) / self.columns
        for i, (figure, label, detail, accent) in enumerate(self.tiles):
            row, col = divmod(i, self.columns)
            x = col * (tile_w + self.gap)
            y = self.height - (row + 1) * self.tile_h - row * self.gap
            c.setFillColor(colors.HexColor("#F5F8FB"))
            c.setStrokeColor(RULE)
            c.setLineWidth(0.5)
            c.roundRect(x, y, tile_w, self.tile_h, 2 * mm, stroke=1, fill=1)
            c.setFillColor(accent)
            c.rect(x, y + 2 * mm, 1.4 * mm, self.tile_h - 4 * mm, stroke=0, fill=1)
            c.setFillColor(NAVY)
            size = 20 if len(figure) <= 7 else 15
            c.setFont(self.st.bold, size)
            c.drawString(x + 4.5 * mm, y + self.tile_h - 10.5 * mm, figure)
            c.setFillColor(INK)
            c.setFont(self.st.bold, 8)
            c.drawString(x + 4.5 * mm, y + 8 * mm, label)
            c.setFillColor(MUTED)
            c.setFont(self.st.regular, 7)
            c.drawString(x + 4.5 * mm, y + 3.8 * mm, fit_text(c, detail, self.st.regular, 7, tile_w - 6 * mm))


def fit_text(c: Canvas, text: str, font: str, size: float, width: float) -> str:
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"
