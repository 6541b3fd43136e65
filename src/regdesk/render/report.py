"""The supervisor's tallies report (PDF, A4): a cover with the headline numbers, then the tables and
bar charts of each day. Pure rendering: takes DayTallies, returns PDF bytes.

Long lists (no-shows, delegations, departures at a 100,000-participant meeting) are cut at a
readable length with a note pointing to the CSV file that has them all.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from regdesk.config import EventConfig
from regdesk.domain.buses import TO_HOTEL, TO_VENUE
from regdesk.domain.events import parse_utc
from regdesk.domain.tallies import DayTallies, MeetingSummary, no_show_label, summarise
from regdesk.domain.words import plural as _plural

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


class _Styles:
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


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _n(value: int) -> str:
    return f"{value:,}"


def _pct(value: float) -> str:
    return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"


def _short_stop(name: str) -> str:
    return name.split(" (")[0]


def _integer_axis(axis: Any, values: Sequence[float]) -> None:
    """Whole-number ticks for small counts: an axis reading 0.5 or 1.5 people looks broken."""
    top = max([0, *values])
    axis.valueMin = 0
    if top == 0:
        axis.valueMax, axis.valueStep = 10, 2
    elif top <= 6:
        axis.valueMax, axis.valueStep = top + 1, 1
    elif top <= 14:
        axis.valueMax, axis.valueStep = top + 2 - top % 2, 2


def _local_time(iso: str) -> str:
    return iso[11:16] if len(iso) >= 16 else iso


def _long_day(day) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _short_day(day) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def _table(
    st: _Styles,
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
                f"<b>{_esc(h)}</b>",
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


def _empty(st: _Styles, text: str) -> Paragraph:
    return Paragraph(f"<i>{_esc(text)}</i>", st.small)


class _Tiles(Flowable):
    """The cover's headline numbers: a grid of tiles with a big figure, a label and a detail line."""

    def __init__(self, st: _Styles, tiles: Sequence[tuple[str, str, str, colors.Color]], columns: int = 4) -> None:
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
            c.drawString(x + 4.5 * mm, y + 3.8 * mm, _fit(c, detail, self.st.regular, 7, tile_w - 6 * mm))


def _fit(c: Canvas, text: str, font: str, size: float, width: float) -> str:
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


# --- charts --------------------------------------------------------------------------------------


def _chart_title(drawing: Drawing, st: _Styles, title: str) -> None:
    drawing.add(String(0, drawing.height - 11, title, fontName=st.bold, fontSize=9, fillColor=NAVY))


def _category_chart(st: _Styles, day: DayTallies) -> Drawing:
    cats = [c for c in day.categories if c.pre_registered or c.issued_cum]
    height = max(60, 14 * len(cats)) + 50
    drawing = Drawing(CONTENT_W, height)
    _chart_title(drawing, st, "Badges by category: collected and still to collect (end of day)")
    if not cats:
        drawing.add(
            String(
                0, height - 30, "No participants in the mirror yet.", fontName=st.regular, fontSize=8, fillColor=MUTED
            )
        )
        return drawing
    cats = list(reversed(cats))  # HorizontalBarChart draws the first category at the bottom
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 32
    chart.width, chart.height = CONTENT_W - 170, height - 50
    chart.data = [[c.collected for c in cats], [max(0, c.not_collected) for c in cats]]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = [c.name for c in cats]
    chart.categoryAxis.labels.fontName = st.regular
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.strokeColor = RULE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = st.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#E6EBF0")
    chart.valueAxis.gridStrokeWidth = 0.4
    chart.valueAxis.forceZero = True
    _integer_axis(chart.valueAxis, [c.pre_registered for c in cats])
    chart.bars.strokeColor = None
    chart.barWidth = 8
    chart.groupSpacing = 4
    chart.bars[1].fillColor = LIGHT
    for i, cat in enumerate(cats):
        chart.bars[(0, i)].fillColor = colors.HexColor(cat.colour)
    drawing.add(chart)
    for i, cat in enumerate(cats):
        step = chart.height / len(cats)
        y = chart.y + step * i + step / 2 - 3
        drawing.add(
            String(
                chart.x + chart.width + 6,
                y,
                f"{cat.collected}/{cat.pre_registered}  {_pct(cat.collected_pct)}",
                fontName=st.regular,
                fontSize=7,
                fillColor=INK,
            )
        )
    drawing.add(
        _legend(
            st, chart.x, 6, 150, [(NAVY, "collected (in the category's badge colour)"), (LIGHT, "not yet collected")]
        )
    )
    return drawing


def _two_series_bar_chart(
    st: _Styles, data: list[list[int]], names: list[str], *, label_size: float
) -> VerticalBarChart:
    """The report's standard full-width bar chart: quiet axes, light grid, labels in the report font."""
    chart = VerticalBarChart()
    chart.x, chart.y = 36, 30
    chart.width, chart.height = CONTENT_W - 50, 95
    chart.data = data
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = st.regular
    chart.categoryAxis.labels.fontSize = label_size
    chart.categoryAxis.strokeColor = RULE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    chart.valueAxis.labels.fontName = st.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#E6EBF0")
    chart.valueAxis.gridStrokeWidth = 0.4
    return chart


def _legend(st: _Styles, x: float, y: float, spacing: float, pairs: list) -> Legend:
    """One row of colour swatches under a chart."""
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = st.regular, 7
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = spacing
    legend.dx = legend.dy = 6
    legend.colorNamePairs = pairs
    return legend


def _hour_chart(st: _Styles, day: DayTallies) -> Drawing:
    active = [h.hour for h in day.hourly if h.entries or h.denied or h.boardings or h.badges]
    first = min([6, *active])
    last = max([21, *active])
    hours = [h for h in day.hourly if first <= h.hour <= last]
    drawing = Drawing(CONTENT_W, 150)
    _chart_title(drawing, st, "Security entries by local hour")
    chart = _two_series_bar_chart(
        st, [[h.entries for h in hours], [h.denied for h in hours]], [f"{h.hour:02d}" for h in hours], label_size=7
    )
    chart.categoryAxis.style = "stacked"
    _integer_axis(chart.valueAxis, [h.entries + h.denied for h in hours])
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = UN_BLUE
    chart.bars[1].fillColor = DENIED
    chart.barSpacing = 1
    chart.groupSpacing = 3
    drawing.add(chart)
    drawing.add(_legend(st, chart.x, 10, 70, [(UN_BLUE, "valid entries"), (DENIED, "denied")]))
    return drawing


def _bus_chart(st: _Styles, day: DayTallies, config: EventConfig) -> Drawing:
    stops = list(config.bus_stops)
    extra = sorted({r.stop for r in day.stops} - {s.code for s in stops})
    names = [s.name.split(" (")[0] for s in stops] + extra
    codes = [s.code for s in stops] + extra
    to_venue = {r.stop: r.boardings for r in day.stops if r.direction == TO_VENUE}
    to_hotel = {r.stop: r.boardings for r in day.stops if r.direction != TO_VENUE}
    drawing = Drawing(CONTENT_W, 150)
    _chart_title(drawing, st, "Bus boardings by hotel stop")
    chart = _two_series_bar_chart(
        st, [[to_venue.get(c, 0) for c in codes], [to_hotel.get(c, 0) for c in codes]], names, label_size=7.5
    )
    _integer_axis(chart.valueAxis, [*chart.data[0], *chart.data[1]])
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = UN_BLUE
    chart.bars[1].fillColor = NAVY
    chart.barSpacing = 2
    chart.groupSpacing = 14
    chart.barLabelFormat = lambda v: f"{v:,.0f}" if v else ""
    chart.barLabels.fontName = st.regular
    chart.barLabels.fontSize = 6.5
    chart.barLabels.nudge = 6
    drawing.add(chart)
    drawing.add(
        _legend(
            st,
            chart.x,
            10,
            110,
            [(UN_BLUE, f"boarded towards the {config.venue_stop.short}"), (NAVY, "boarded towards the hotels")],
        )
    )
    return drawing


# --- sections -----------------------------------------------------------------------------------


def _headline_tiles(st: _Styles, day: DayTallies) -> _Tiles:
    b, s, bus = day.badges, day.security, day.buses
    counts = day.delegation_counts
    open_conflicts = sum(1 for c in day.conflicts if c.state == "open")
    return _Tiles(
        st,
        [
            (_n(b.issued), "Badges issued today", f"+{b.replaced} replaced · {b.revoked} revoked", UN_BLUE),
            (
                f"{_n(b.collected)}/{_n(b.pre_registered)}",
                "Badges collected",
                f"{_pct(b.collected_pct)} of the pre-registered list",
                GOOD,
            ),
            (
                _n(counts["complete"]),
                "Delegations complete",
                f"{counts['partial']:,} partial · {counts['not_collected']:,} none yet",
                GOOD,
            ),
            (
                _n(day.no_show_count),
                no_show_label(day.collection_closed),
                "pre-registered, no badge yet",
                ALERT if day.no_show_count and day.collection_closed else GOOD,
            ),
            (
                _n(s.entries),
                "Venue entries",
                f"{_plural(s.distinct_people, 'person', 'people')} · {_plural(s.repeats, 'repeat')}",
                UN_BLUE,
            ),
            (_n(s.denied), "Entries denied", f"{_n(s.denied_cum)} since the start", DENIED if s.denied else GOOD),
            (
                _n(bus.boardings),
                "Bus boardings",
                f"{_plural(bus.departures, 'departure')} · {bus.over_capacity:,} overfull",
                ALERT if bus.over_capacity else UN_BLUE,
            ),
            (
                f"{len(day.overrides)} / {len(day.conflicts)}",
                "Overrides / conflicts",
                f"{_plural(open_conflicts, 'conflict')} still open" if open_conflicts else "each with who and why",
                NAVY,
            ),
        ],
    )


def _meeting_tiles(st: _Styles, m: MeetingSummary) -> _Tiles:
    """The first page of an all-days report: every day added up, collection at the end of the last day."""
    counts = m.delegation_counts
    over = len(m.over_capacity)
    return _Tiles(
        st,
        [
            (
                _n(m.badges_issued),
                "Badges issued",
                f"+{m.badges_replaced:,} replaced · {m.badges_revoked:,} revoked",
                UN_BLUE,
            ),
            (
                f"{_n(m.collected)}/{_n(m.pre_registered)}",
                "Badges collected",
                f"{_pct(m.collected_pct)} of the pre-registered list",
                GOOD,
            ),
            (
                _n(counts["complete"]),
                "Delegations complete",
                f"{counts['partial']:,} partial · {counts['not_collected']:,} none yet",
                GOOD,
            ),
            (
                _n(m.no_show_count),
                no_show_label(m.collection_closed),
                "pre-registered, no badge",
                ALERT if m.no_show_count and m.collection_closed else GOOD,
            ),
            (
                _n(m.entries),
                "Venue entries",
                f"{_plural(m.distinct_people, 'person', 'people')} · {_plural(m.repeats, 'repeat')}",
                UN_BLUE,
            ),
            (_n(m.denied), "Entries denied", f"over {_plural(m.days, 'day')}", DENIED if m.denied else GOOD),
            (
                _n(m.bus_boardings),
                "Bus boardings",
                f"{_plural(m.departures, 'departure')} · {over:,} overfull",
                ALERT if over else UN_BLUE,
            ),
            (
                f"{m.overrides} / {m.conflicts_resolved + m.open_conflicts}",
                "Overrides / conflicts",
                f"{_plural(m.open_conflicts, 'conflict')} still open" if m.open_conflicts else "each with who and why",
                NAVY,
            ),
        ],
    )


SECURITY_ALERT_REASONS = ("forged", "unknown_key", "wrong_event")


def _on_days(rows: Sequence[tuple[Any, int]], multi: bool) -> str:
    """ " (Mon 4 Dec, Tue 5 Dec)" in a report over several days, "" in a daily one."""
    if not multi or not rows:
        return ""
    return " (" + ", ".join(f"{day:%a} {day.day} {day:%b}" for day, _ in rows) + ")"


def attention_points(summary: MeetingSummary | DayTallies, config: EventConfig) -> list[str]:
    """Plain-language items a supervisor should look at first (the cover's "For attention" box),
    over every day of the report."""
    m = summary if isinstance(summary, MeetingSummary) else summarise([summary])
    multi = m.days > 1
    points = []
    if m.over_capacity:
        worst = ", ".join(
            f"{d.departure} ({d.headcount})" + (f" on {day:%a} {day.day} {day:%b}" if multi else "")
            for day, d in sorted(m.over_capacity, key=lambda pair: -pair[1].headcount)[:3]
        )
        points.append(
            f"{_plural(len(m.over_capacity), 'bus departure')} over the capacity of {config.bus_capacity}: {worst}."
        )
    suspicious = m.denied_for(*SECURITY_ALERT_REASONS)
    if suspicious:
        days = sorted({day for reason in SECURITY_ALERT_REASONS for day, _ in m.denials.get(reason, ())})
        points.append(
            f"{_plural(suspicious, 'scan')} of forged or foreign badges denied"
            f"{_on_days([(d, 0) for d in days], multi)} (see denials by reason)."
        )
    revoked = m.denied_for("revoked")
    if revoked:
        points.append(
            f"{_plural(revoked, 'attempt')} to use a replaced (revoked) badge{_on_days(m.denials['revoked'], multi)}."
        )
    if m.open_conflicts:
        points.append(
            f"{_plural(m.open_conflicts, 'conflict')} still open: resolve "
            f"{'it' if m.open_conflicts == 1 else 'them'} on the supervisor screen."
        )
    if m.overrides:
        points.append(
            f"{_plural(m.overrides, 'override')} of issuance rules granted (section 5"
            f"{' of each day' if multi else ''})."
        )
    closes = config.local(config.collection_closes_utc)
    if m.last_day <= closes.date():
        not_started = m.delegation_counts["not_collected"]
        if not_started:
            points.append(
                f"{_plural(not_started, 'delegation')} yet to collect any badge; "
                f"collection closes {_long_day(closes.date())} at {closes:%H:%M}."
            )
    return points or ["Nothing needs attention."]


def _attention_box(st: _Styles, summary: MeetingSummary, config: EventConfig) -> Table:
    items = [Paragraph("For attention", ParagraphStyle("att", parent=st.body, fontName=st.bold, textColor=NAVY))]
    items += [Paragraph(_esc(p), st.body, bulletText="•") for p in attention_points(summary, config)]
    box = Table([[items]], colWidths=[CONTENT_W])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#FFF8E6")),
                ("LINEBEFORE", (0, 0), (0, -1), 2, colors.HexColor("#F2B705")),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return box


def days_heading(first, last) -> str:
    """ "Monday 4 December 2017", or "Friday 1 – Wednesday 6 December 2017" for a span of days."""
    if first == last:
        return _long_day(last)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%A} {first.day} \u2013 {_long_day(last)}"
    if first.year == last.year:
        return f"{first:%A} {first.day} {first:%B} \u2013 {_long_day(last)}"
    return f"{_long_day(first)} \u2013 {_long_day(last)}"


def _cover(st: _Styles, results: Sequence[DayTallies], config: EventConfig) -> list[Flowable]:
    last = results[-1]
    summary = summarise(results)
    story: list[Flowable] = [Spacer(1, 30 * mm)]
    story.append(Paragraph(_esc(days_heading(results[0].day, last.day)), st.h1))
    if len(results) == 1:
        story.append(
            Paragraph(
                f"Local day in {_esc(config.timezone)} (00:00–24:00). Cumulative figures run from the opening of "
                "badge collection.",
                st.small,
            )
        )
        tiles = _headline_tiles(st, last)
    else:
        story.append(
            Paragraph(
                f"Meeting summary over {summary.days} local days in {_esc(config.timezone)} (00:00–24:00): figures "
                f"added up over the days; collection as at the end of {_esc(_long_day(last.day))}. "
                "Each day follows on its own pages.",
                st.small,
            )
        )
        tiles = _meeting_tiles(st, summary)
    story.append(Spacer(1, 5 * mm))
    story.append(tiles)
    story.append(Spacer(1, 5 * mm))
    story.append(_attention_box(st, summary, config))
    story.append(Spacer(1, 5 * mm))
    if len(results) > 1:
        story.append(Paragraph("Day by day", st.h3))
        rows = [
            [
                f"{r.day:%a %d %b}",
                _n(r.badges.issued),
                _n(r.badges.replaced),
                _n(r.badges.collected),
                _pct(r.badges.collected_pct),
                _n(r.security.entries),
                _n(r.security.distinct_people),
                _n(r.security.denied),
                _n(r.buses.boardings),
                str(len(r.overrides)),
            ]
            for r in results
        ]
        total = [
            "All days",
            _n(summary.badges_issued),
            _n(summary.badges_replaced),
            _n(summary.collected),
            _pct(summary.collected_pct),
            _n(summary.entries),
            _n(summary.distinct_people),
            _n(summary.denied),
            _n(summary.bus_boardings),
            str(summary.overrides),
        ]
        story.append(
            _table(
                st,
                [
                    "Day",
                    "Issued",
                    "Replaced",
                    "Collected",
                    "%",
                    "Entries",
                    "People",
                    "Denied",
                    "Boardings",
                    "Overrides",
                ],
                rows,
                [24 * mm] + [(CONTENT_W - 24 * mm) / 9] * 9,
                total=total,
            )
        )
        story.append(
            Paragraph(
                "Collected and % at the end of each day; People: different people who entered "
                "that day (All days: since the start).",
                st.note,
            )
        )
        story.append(Spacer(1, 4 * mm))
    story.append(_category_chart(st, last))
    return story


def _is_quiet(day: DayTallies) -> bool:
    """Nothing happened: no badge, scan, boarding, override or conflict on the day."""
    b = day.badges
    return not (
        b.issued
        or b.replaced
        or b.revoked
        or day.security.scans
        or day.buses.boardings
        or day.buses.denied
        or day.overrides
        or day.conflicts
    )


def _quiet_day(st: _Styles, day: DayTallies) -> list[Flowable]:
    b = day.badges
    return [
        CondPageBreak(40 * mm),
        Paragraph(_esc(_long_day(day.day)), st.h2),
        Paragraph(
            f"No badges issued, no scans and no boardings were recorded on this day. At the end of the day "
            f"{_n(b.collected)} of {_n(b.pre_registered)} pre-registered participants held a badge "
            f"({_pct(b.collected_pct)}); "
            + (
                _plural(day.no_show_count, "no-show")
                if day.collection_closed
                else f"{day.no_show_count:,} not yet collected"
            )
            + ".",
            st.body,
        ),
    ]


def _day_sections(
    st: _Styles, day: DayTallies, config: EventConfig, *, with_title: bool, lists: bool = True
) -> list[Flowable]:
    """All sections of one day; `lists=False` leaves out the delegation and no-show lists (multi-day
    reports list them once, for the last day)."""
    story: list[Flowable] = []
    if with_title:
        story.append(Paragraph(_esc(_long_day(day.day)), st.h1))
        story.append(_headline_tiles(st, day))

    # 1. Badges
    b = day.badges
    story.append(Paragraph("1. Badges", st.h2))
    story.append(
        Paragraph(
            f"{_plural(b.issued, 'first badge')} and {_plural(b.replaced, 'replacement')} issued; "
            f"{_plural(b.revoked, 'serial')} revoked. "
            f"Since collection opened: {_n(b.issued_cum)} issued, {_n(b.replaced_cum)} replaced, "
            f"{_n(b.collected)} of {_n(b.pre_registered)} pre-registered participants collected "
            f"({_pct(b.collected_pct)}).",
            st.body,
        )
    )
    story.append(Paragraph("By category", st.h3))
    cats = [c for c in day.categories if c.pre_registered or c.issued_cum or c.revoked_cum]
    rows = [
        [
            c.name,
            _n(c.issued),
            _n(c.replaced),
            _n(c.revoked),
            _n(c.issued_cum),
            _n(c.collected),
            _n(c.pre_registered),
            _pct(c.collected_pct),
        ]
        for c in cats
    ]
    widths = [52 * mm] + [(CONTENT_W - 52 * mm) / 7] * 7
    if rows:
        story.append(
            _table(
                st,
                [
                    "Category",
                    "Issued",
                    "Replaced",
                    "Revoked",
                    "Issued (cum.)",
                    "Collected",
                    "On the list",
                    "Collected %",
                ],
                rows,
                widths,
                total=[
                    "Total",
                    _n(b.issued),
                    _n(b.replaced),
                    _n(b.revoked),
                    _n(b.issued_cum),
                    _n(b.collected),
                    _n(b.pre_registered),
                    _pct(b.collected_pct),
                ],
            )
        )
    else:
        story.append(_empty(st, "No participants and no badges yet."))
    if with_title:
        story.append(Spacer(1, 3 * mm))
        story.append(_category_chart(st, day))

    half = (CONTENT_W - 6 * mm) / 2
    station_rows = [
        [s.station_name, _n(s.issued), _n(s.replaced), _n(s.issued_cum + s.replaced_cum)]
        for s in day.stations[:MAX_PEOPLE_ROWS]
    ]
    operator_rows = [
        [o.operator, _n(o.issued), _n(o.replaced), _n(o.issued_cum + o.replaced_cum)]
        for o in day.operators[:MAX_PEOPLE_ROWS]
    ]
    left = [
        Paragraph("By desk station", st.h3),
        _table(
            st,
            ["Station", "Issued", "Replaced", "All (cum.)"],
            station_rows,
            [half - 48 * mm, 15 * mm, 16 * mm, 17 * mm],
        )
        if station_rows
        else _empty(st, "No badges yet."),
    ]
    right = [
        Paragraph("By operator", st.h3),
        _table(
            st,
            ["Operator", "Issued", "Replaced", "All (cum.)"],
            operator_rows,
            [half - 48 * mm, 15 * mm, 16 * mm, 17 * mm],
        )
        if operator_rows
        else _empty(st, "No badges yet."),
    ]
    if len(day.operators) > MAX_PEOPLE_ROWS:
        right.append(
            Paragraph(
                f"… and {_plural(len(day.operators) - MAX_PEOPLE_ROWS, 'more operator')} in badges_by_operator.csv.",
                st.note,
            )
        )
    side = Table([[left, right]], colWidths=[half + 3 * mm, half + 3 * mm])
    side.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story.append(side)

    # 2. Delegations and no-shows
    counts = day.delegation_counts
    story.append(CondPageBreak(60 * mm))
    story.append(Paragraph("2. Delegations and no-shows", st.h2))
    story.append(
        Paragraph(
            f"{_plural(counts['complete'], 'delegation')} complete, {_n(counts['partial'])} partly collected, "
            f"{_n(counts['not_collected'])} not collected at all. "
            f"{_plural(day.no_show_count, 'pre-registered participant')} had no badge at the end of the day.",
            st.body,
        )
    )
    # Delegations that collected nothing first: they are the ones to chase.
    pending = (
        sorted((d for d in day.delegations if d.status != "complete"), key=lambda d: d.status != "not_collected")
        if lists
        else []
    )
    incomplete = day.delegation_counts["partial"] + day.delegation_counts["not_collected"]
    if not lists and (incomplete or day.no_show_count):
        story.append(
            Paragraph(
                "The lists of delegations still collecting and of no-shows are given for the "
                "last day of the report, and for every day in delegations.csv and no_shows.csv.",
                st.note,
            )
        )
    if pending:
        story.append(CondPageBreak(30 * mm))
        story.append(Paragraph("Delegations still collecting", st.h3))
        rows = [
            [
                Paragraph(_esc(d.delegation), st.cell),
                d.category,
                "partly collected" if d.status == "partial" else "none collected",
                _n(d.collected),
                _n(d.pre_registered),
            ]
            for d in pending[:MAX_DELEGATIONS]
        ]
        story.append(
            _table(
                st,
                ["Delegation", "Category", "Status", "Collected", "Members"],
                rows,
                [CONTENT_W - 98 * mm, 20 * mm, 34 * mm, 22 * mm, 22 * mm],
                numeric_from=3,
            )
        )
        if len(pending) > MAX_DELEGATIONS:
            story.append(Paragraph(f"… and {len(pending) - MAX_DELEGATIONS:,} more in delegations.csv.", st.note))
    if day.no_show_count and lists:
        story.append(CondPageBreak(30 * mm))
        story.append(Paragraph(f"{no_show_label(day.collection_closed)}, by delegation", st.h3))
        rows = [
            [
                Paragraph(_esc(n.delegation), st.cell),
                Paragraph(_esc(n.name_latin), st.cell),
                n.category,
                "head" if n.delegation_role == "head" else "",
                n.accreditation_id,
            ]
            for n in day.no_shows[:MAX_NO_SHOWS]
        ]
        story.append(
            _table(
                st,
                ["Delegation", "Participant", "Category", "Role", "Accreditation"],
                rows,
                [58 * mm, CONTENT_W - 126 * mm, 20 * mm, 14 * mm, 34 * mm],
                numeric_from=99,
            )
        )
        if day.no_show_count > MAX_NO_SHOWS:
            story.append(Paragraph(f"… and {day.no_show_count - MAX_NO_SHOWS:,} more in no_shows.csv.", st.note))

    # 3. Security
    s = day.security
    sec_active = bool(s.scans or any(d.count for d in day.denials))
    story.append(CondPageBreak(90 * mm if sec_active else 25 * mm))
    story.append(Paragraph("3. Venue security screening", st.h2))
    if not sec_active:
        story.append(
            Paragraph(
                f"No badge was scanned at the venue on this day. Since the start: "
                f"{_n(s.entries_cum)} entries by {_n(s.distinct_people_cum)} people.",
                st.body,
            )
        )
    else:
        story += _security_details(st, day)
    story += _bus_section(st, day, config)
    story += _closing_sections(st, day)
    return story


def _security_details(st: _Styles, day: DayTallies) -> list[Flowable]:
    s = day.security
    story: list[Flowable] = []
    story.append(
        Paragraph(
            f"{_plural(s.scans, 'scan')}: {_plural(s.entries, 'valid entry', 'valid entries')} by "
            f"{_plural(s.distinct_people, 'person', 'different people')}, "
            f"{_n(s.denied)} denied, {_plural(s.repeats, 'repeat')} (shown, not counted). Since the start: "
            f"{_n(s.entries_cum)} entries by {_n(s.distinct_people_cum)} people, {_n(s.denied_cum)} denied.",
            st.body,
        )
    )
    story.append(Spacer(1, 2 * mm))
    story.append(_hour_chart(st, day))
    rows = [
        [c.name, _n(c.scans), _n(c.entries), _n(c.denied), _n(c.repeats), _n(c.entries_cum)] for c in day.checkpoints
    ]
    story.append(
        KeepTogether(
            [
                Paragraph("By checkpoint", st.h3),
                _table(
                    st,
                    ["Checkpoint", "Scans", "Entries", "Denied", "Repeats", "Entries (cum.)"],
                    rows,
                    [CONTENT_W - 100 * mm] + [20 * mm] * 5,
                    total=["Total", _n(s.scans), _n(s.entries), _n(s.denied), _n(s.repeats), _n(s.entries_cum)],
                ),
            ]
        )
    )
    denial_rows = [
        [d.label, "venue" if d.point_kind == "security" else "bus", _n(d.count), _n(d.count_cum)] for d in day.denials
    ]
    story.append(
        KeepTogether(
            [
                Paragraph("Denials by reason", st.h3),
                _table(
                    st,
                    ["Reason", "Where", "Today", "Since start"],
                    denial_rows,
                    [CONTENT_W - 75 * mm, 25 * mm, 25 * mm, 25 * mm],
                    numeric_from=2,
                )
                if denial_rows
                else _empty(st, "No denials."),
            ]
        )
    )
    return story


def _bus_section(st: _Styles, day: DayTallies, config: EventConfig) -> list[Flowable]:
    bus = day.buses
    story: list[Flowable] = []
    active = bool(bus.boardings or bus.denied)
    story.append(CondPageBreak(90 * mm if active else 25 * mm))
    story.append(Paragraph("4. Buses", st.h2))
    if not active:
        story.append(
            Paragraph(
                f"No boarding was recorded on this day. Since the start: {_plural(bus.boardings_cum, 'boarding')}.",
                st.body,
            )
        )
        return story
    story.append(
        Paragraph(
            f"{_plural(bus.boardings, 'boarding')} on {_plural(bus.departures, 'departure')} "
            f"({bus.over_capacity} over the capacity "
            f"of {config.bus_capacity}), {_n(bus.denied)} denied. Since the start: {_n(bus.boardings_cum)} boardings.",
            st.body,
        )
    )
    story.append(Spacer(1, 2 * mm))
    story.append(_bus_chart(st, day, config))
    direction = {TO_VENUE: f"to the {config.venue_stop.short}", TO_HOTEL: "to the hotels"}
    rows = [
        [
            _short_stop(r.stop_name),
            direction.get(r.direction, r.direction),
            _n(r.boardings),
            _n(r.denied),
            _n(r.boardings_cum),
        ]
        for r in day.stops
    ]
    story.append(
        KeepTogether(
            [
                Paragraph("By stop and direction", st.h3),
                _table(
                    st,
                    ["Stop", "Direction", "Boardings", "Denied", "Boardings (cum.)"],
                    rows,
                    [CONTENT_W - 110 * mm, 35 * mm, 25 * mm, 22 * mm, 28 * mm],
                    numeric_from=2,
                )
                if rows
                else _empty(st, "No boardings."),
            ]
        )
    )
    if day.departures:
        story.append(CondPageBreak(30 * mm))
        story.append(Paragraph("Departures: headcount against capacity", st.h3))
        shown = day.departures[:MAX_DEPARTURES]
        rows = [
            [
                _local_time(d.first_boarding),
                Paragraph(_esc(d.label), st.cell),
                _short_stop(d.stop_name),
                direction.get(d.direction, d.direction),
                _n(d.headcount),
                _n(d.capacity),
                _pct(d.load_pct),
            ]
            for d in shown
        ]
        over = [i for i, d in enumerate(shown) if d.over_capacity]
        story.append(
            _table(
                st,
                ["First boarding", "Departure", "Stop", "Direction", "Headcount", "Capacity", "Load"],
                rows,
                [24 * mm, CONTENT_W - 141 * mm, 30 * mm, 27 * mm, 20 * mm, 20 * mm, 20 * mm],
                numeric_from=4,
                highlight=over,
            )
        )
        if len(day.departures) > MAX_DEPARTURES:
            story.append(
                Paragraph(f"… and {len(day.departures) - MAX_DEPARTURES:,} more in bus_departures.csv.", st.note)
            )

    return story


def _closing_sections(st: _Styles, day: DayTallies) -> list[Flowable]:
    """5. Overrides and conflicts, 6. Hour by hour."""
    story: list[Flowable] = []
    s, bus = day.security, day.buses
    story.append(CondPageBreak(50 * mm if day.overrides or day.conflicts else 25 * mm))
    story.append(Paragraph("5. Overrides and conflicts", st.h2))
    story.append(Paragraph("Issuance rules set aside by a supervisor", st.h3))
    if day.overrides:
        rows = [
            [
                _local_time(o.time_local),
                Paragraph(_esc(o.rule.replace("_", " ")), st.cell),
                Paragraph(
                    f"{_esc(o.participant_name or o.participant_id)}<br/><font color='#5F6B7A'>"
                    f"{_esc(o.delegation)}</font>",
                    st.cell,
                ),
                Paragraph(_esc(o.reason), st.cell),
                Paragraph(
                    f"{_esc(o.supervisor)}<br/><font color='#5F6B7A'>{_esc(o.operator)}, {_esc(o.station_name)}</font>",
                    st.cell,
                ),
            ]
            for o in day.overrides
        ]
        story.append(
            _table(
                st,
                ["Time", "Rule", "Participant", "Reason", "Authorised by / clerk"],
                rows,
                [13 * mm, 24 * mm, 38 * mm, CONTENT_W - 115 * mm, 40 * mm],
                numeric_from=99,
            )
        )
    else:
        story.append(_empty(st, "No overrides were granted on this day."))
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph("Conflicts between stations", st.h3))
    if day.conflicts:
        rows = [
            [
                _local_time(c.time_local),
                c.state,
                Paragraph(_esc(c.participant_name or c.participant_id), st.cell),
                Paragraph(_esc(c.resolution), st.cell),
                Paragraph(_esc(c.reason), st.cell),
                Paragraph(_esc(c.resolved_by), st.cell),
            ]
            for c in day.conflicts
        ]
        story.append(
            _table(
                st,
                ["Time", "State", "Participant", "Resolution", "Reason", "By"],
                rows,
                [13 * mm, 16 * mm, 34 * mm, 40 * mm, CONTENT_W - 138 * mm, 35 * mm],
                numeric_from=99,
            )
        )
    else:
        story.append(_empty(st, "No conflicts were resolved on this day."))
    for stock in day.temporary_passes:  # the contingency stock, when passes were printed for the day
        story.append(Spacer(1, 3 * mm))
        story.append(Paragraph("Temporary passes", st.h3))
        story.append(Paragraph(_esc(stock.line) + ".", st.body))

    # 6. Hour by hour
    active = [h for h in day.hourly if h.badges or h.entries or h.denied or h.boardings]
    if active:
        rows = [
            [f"{h.hour:02d}:00–{h.hour:02d}:59", _n(h.badges), _n(h.entries), _n(h.denied), _n(h.boardings)]
            for h in active
        ]
        hourly: Flowable = _table(
            st,
            ["Local hour", "Badges", "Entries", "Denied", "Boardings"],
            rows,
            [CONTENT_W - 100 * mm] + [25 * mm] * 4,
            total=["Day", _n(sum(h.badges for h in day.hourly)), _n(s.entries), _n(s.denied), _n(bus.boardings)],
        )
    else:
        hourly = _empty(st, "No activity recorded on this day.")
    story.append(KeepTogether([Paragraph("6. Hour by hour", st.h2), hourly]))
    return story


# --- document ------------------------------------------------------------------------------------


def _draw_page(
    canvas: Canvas, doc: Any, *, cover: bool, st: _Styles, title: str, config: EventConfig, generated: str
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
        canvas.drawString(MARGIN, PAGE_H - 34 * mm, _fit(canvas, config.name, st.regular, 9.5, CONTENT_W))
        canvas.drawString(MARGIN, PAGE_H - 40 * mm, _fit(canvas, config.dates_label, st.regular, 9.5, CONTENT_W))
        canvas.setFont(st.regular, 8)
        canvas.drawString(MARGIN, PAGE_H - 46 * mm, _fit(canvas, config.venue, st.regular, 8, CONTENT_W))
    else:
        canvas.setStrokeColor(UN_BLUE)
        canvas.setLineWidth(1.2)
        canvas.line(MARGIN, PAGE_H - 12 * mm, PAGE_W - MARGIN, PAGE_H - 12 * mm)
        canvas.setFillColor(NAVY)
        canvas.setFont(st.bold, 8)
        canvas.drawString(MARGIN, PAGE_H - 10.5 * mm, _fit(canvas, config.short_name, st.bold, 8, CONTENT_W * 0.6))
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
    st = _Styles()
    results = sorted(results, key=lambda r: r.day)
    if len(results) == 1:
        title = f"Daily tallies · {_short_day(results[0].day)}"
    else:
        title = f"Tallies · {results[0].day.day} {results[0].day:%b} to {_short_day(results[-1].day)}"
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
    story: list[Flowable] = _cover(st, results, config)
    story[0] = Spacer(1, 4 * mm)
    story += [NextPageTemplate("body"), PageBreak()]
    multi = len(results) > 1
    for i, day in enumerate(results):
        last = i == len(results) - 1
        if multi and _is_quiet(day) and not last:
            story += _quiet_day(st, day)
            continue
        if i:
            story.append(PageBreak())
        story += _day_sections(st, day, config, with_title=multi, lists=last)
    canvas_class = type("_ReportCanvas", (_NumberedCanvas,), {"font": st.regular})
    doc.build(story, canvasmaker=canvas_class)
    return buffer.getvalue()


__all__ = ["render_report"]
