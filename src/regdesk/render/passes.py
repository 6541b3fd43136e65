"""The contingency stock on paper: an A4 sheet of numbered temporary passes, 8 to a page.

Each pass (105 x 74 mm, cut along the dashed lines) carries an amber band that reads TEMPORARY
PASS, the one day it is valid, its number in large digits, the signed QR code and a line where
the desk writes the name when it assigns the pass. Built-in PDF fonts: a pass holds no name to
print, only ASCII.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from regdesk.render import codes

COLUMNS, ROWS = 2, 4
PASS_W, PASS_H = A4[0] / COLUMNS, A4[1] / ROWS
AMBER = HexColor("#E0A030")
INK = HexColor("#1A1A1A")


@dataclass(frozen=True)
class PassContent:
    token: str
    serial_label: str  # TP-0012
    day_label: str  # Mon 4 Dec 2017
    event_name: str


def _draw_pass(canvas: Canvas, content: PassContent, x: float, y: float) -> None:
    pad = 6 * mm
    band = 13 * mm
    canvas.setFillColor(AMBER)
    canvas.rect(x, y + PASS_H - band, PASS_W, band, stroke=0, fill=1)
    canvas.setFillColor(INK)
    canvas.setFont("Helvetica-Bold", 20)
    canvas.drawString(x + pad, y + PASS_H - band + 4 * mm, "TEMPORARY PASS")
    qr = PASS_H - band - 2 * pad + 4 * mm
    codes.draw_qr(canvas, content.token, x + PASS_W - qr - pad + 2 * mm, y + pad - 2 * mm, qr)
    left = x + pad
    top = y + PASS_H - band - 8 * mm
    canvas.setFont("Helvetica", 8.5)
    canvas.drawString(left, top, content.event_name[:40])
    canvas.setFont("Helvetica-Bold", 11)
    canvas.drawString(left, top - 6 * mm, "Valid ONLY on")
    canvas.drawString(left, top - 11 * mm, content.day_label)
    canvas.setFont("Helvetica-Bold", 26)
    canvas.drawString(left, top - 22 * mm, content.serial_label)
    canvas.setFont("Helvetica", 7.5)
    canvas.drawString(left, top - 29 * mm, "No name: valid with an identity document.")
    canvas.drawString(left, top - 36 * mm, "Assigned to:")
    canvas.setLineWidth(0.5)
    canvas.line(left + 16 * mm, top - 36.5 * mm, x + PASS_W - qr - pad, top - 36.5 * mm)


def _cut_marks(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setStrokeColor(HexColor("#999999"))
    canvas.setLineWidth(0.3)
    canvas.setDash(2, 2)
    for col in range(1, COLUMNS):
        canvas.line(col * PASS_W, 0, col * PASS_W, A4[1])
    for row in range(1, ROWS):
        canvas.line(0, row * PASS_H, A4[0], row * PASS_H)
    canvas.restoreState()


def render_pass_sheet(passes: Sequence[PassContent], title: str = "Temporary passes") -> bytes:
    """A4 pages of passes in number order, left to right, top to bottom."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(title)  # never a token: PDFs end up in print spools and mailboxes
    canvas.setCreator("regdesk")
    per_page = COLUMNS * ROWS
    for start in range(0, len(passes), per_page):
        for index, content in enumerate(passes[start : start + per_page]):
            col, row = index % COLUMNS, index // COLUMNS
            _draw_pass(canvas, content, col * PASS_W, A4[1] - (row + 1) * PASS_H)
        _cut_marks(canvas)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
