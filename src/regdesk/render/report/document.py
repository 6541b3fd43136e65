"""The PDF document: page templates, numbered pages, and render_report putting the sections together."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Spacer,
)

from regdesk.config import EventConfig
from regdesk.domain.events import parse_utc
from regdesk.domain.tallies import DayTallies
from regdesk.render.report.days import cover_page, day_sections, is_quiet, quiet_day
from regdesk.render.report.style import (
    CONTENT_W,
    MARGIN,
    MUTED,
    NAVY,
    PAGE_H,
    PAGE_W,
    RULE,
    UN_BLUE,
    Styles,
    fit_text,
    short_day,
)

# --- document ------------------------------------------------------------------------------------


def _draw_page(
    canvas: Canvas, doc: Any, *, cover: bool, st: Styles, title: str, config: EventConfig, generated: str
) -> None:
    canvas.saveState()
    if cover:
        canvas.setFillColor(UN_BLUE)
        canvas.rect(0, PAGE_H - 52 * mm, PAGE_W, 52 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(st.bold, 8.5)
        canvas.drawString(MARGIN, PAGE_H - 14 * mm, "SUPERVISOR REPORT · BADGES, SCREENING AND BUSES")
        canvas.setFont(st.bold, 20)
        canvas.drawString(MARGIN, PAGE_H - 26 * mm, title)
        canvas.setFont(st.regular, 9.5)
        canvas.drawString(MARGIN, PAGE_H - 34 * mm, fit_text(canvas, config.name, st.regular, 9.5, CONTENT_W))
        canvas.drawString(MARGIN, PAGE_H - 40 * mm, fit_text(canvas, config.dates_label, st.regular, 9.5, CONTENT_W))
        canvas.setFont(st.regular, 8)
        canvas.drawString(MARGIN, PAGE_H - 46 * mm, fit_text(canvas, config.venue, st.regular, 8, CONTENT_W))
    else:
        canvas.setStrokeColor(UN_BLUE)
        canvas.setLineWidth(1.2)
        canvas.line(MARGIN, PAGE_H - 12 * mm, PAGE_W - MARGIN, PAGE_H - 12 * mm)
        canvas.setFillColor(NAVY)
        canvas.setFont(st.bold, 8)
        canvas.drawString(MARGIN, PAGE_H - 10.5 * mm, fit_text(canvas, config.short_name, st.bold, 8, CONTENT_W * 0.6))
        canvas.setFont(st.regular, 8)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(PAGE_W - MARGIN, PAGE_H - 10.5 * mm, title)
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, 13 * mm, PAGE_W - MARGIN, 13 * mm)
    canvas.setFont(st.regular, 7)
    canvas.setFillColor(MUTED)
    canvas.drawString(
        MARGIN,
        9 * mm,
        f"Generated {generated} ({config.timezone}) · Internal: contains names of participants · No document numbers",
    )
    canvas.restoreState()


class _NumberedCanvas(Canvas):
    """Writes "Page X of N" once the page count is known (pages are kept until save)."""

    font = "Helvetica"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._saved: list[dict] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._saved)
        for number, state in enumerate(self._saved, start=1):
            self.__dict__.update(state)
            self.setFont(self.font, 7)
            self.setFillColor(MUTED)
            self.drawRightString(PAGE_W - MARGIN, 9 * mm, f"Page {number} of {total}")
            super().showPage()
        super().save()


def render_report(results: Sequence[DayTallies], config: EventConfig) -> bytes:
    """The PDF report for one or more days (cover on the last day, then one section per day)."""
    if not results:
        raise ValueError("no tallies to report")
    st = Styles()
    results = sorted(results, key=lambda r: r.day)
    if len(results) == 1:
        title = f"Daily tallies · {short_day(results[0].day)}"
    else:
        title = f"Tallies · {results[0].day.day} {results[0].day:%b} to {short_day(results[-1].day)}"
    generated_dt = parse_utc(results[-1].generated_at).astimezone(config.zone)
    generated = f"{generated_dt:%Y-%m-%d %H:%M}"

    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author="regdesk supervisor station",
        subject=config.short_name,
        creator="regdesk",
    )
    body = Frame(
        MARGIN,
        18 * mm,
        CONTENT_W,
        PAGE_H - 36 * mm,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    cover_frame = Frame(
        MARGIN,
        18 * mm,
        CONTENT_W,
        PAGE_H - 18 * mm - 52 * mm,
        id="cover",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    common = {"st": st, "title": title, "config": config, "generated": generated}
    doc.addPageTemplates(
        [
            PageTemplate("cover", [cover_frame], onPage=lambda c, d: _draw_page(c, d, cover=True, **common)),
            PageTemplate("body", [body], onPage=lambda c, d: _draw_page(c, d, cover=False, **common)),
        ]
    )
    story: list[Flowable] = cover_page(st, results, config)
    story[0] = Spacer(1, 4 * mm)
    story += [NextPageTemplate("body"), PageBreak()]
    multi = len(results) > 1
    for i, day in enumerate(results):
        last = i == len(results) - 1
        if multi and is_quiet(day) and not last:
            story += quiet_day(st, day)
            continue
        if i:
            story.append(PageBreak())
        story += day_sections(st, day, config, with_title=multi, lists=last)
    canvas_class = type("_ReportCanvas", (_NumberedCanvas,), {"font": st.regular})
    doc.build(story, canvasmaker=canvas_class)
    return buffer.getvalue()


__all__ = ["render_report"]
