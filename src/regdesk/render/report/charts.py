"""The report's bar charts: badges by category and hour, buses by stop and direction."""

from __future__ import annotations

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from regdesk.config import EventConfig
from regdesk.domain.buses import TO_VENUE
from regdesk.domain.tallies import DayTallies
from regdesk.render.report.style import (
    CONTENT_W,
    DENIED,
    INK,
    LIGHT,
    MUTED,
    NAVY,
    RULE,
    UN_BLUE,
    Styles,
    integer_axis,
    percent_text,
)

# --- charts --------------------------------------------------------------------------------------


def _chart_title(drawing: Drawing, st: Styles, title: str) -> None:
    drawing.add(String(0, drawing.height - 11, title, fontName=st.bold, fontSize=9, fillColor=NAVY))


def category_chart(st: Styles, day: DayTallies) -> Drawing:
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
    integer_axis(chart.valueAxis, [c.pre_registered for c in cats])
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
                f"{cat.collected}/{cat.pre_registered}  {percent_text(cat.collected_pct)}",
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
    st: Styles, data: list[list[int]], names: list[str], *, label_size: float
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


def _legend(st: Styles, x: float, y: float, spacing: float, pairs: list) -> Legend:
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


def hour_chart(st: Styles, day: DayTallies) -> Drawing:
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
    integer_axis(chart.valueAxis, [h.entries + h.denied for h in hours])
    chart.bars.strokeColor = None
    chart.bars[0].fillColor = UN_BLUE
    chart.bars[1].fillColor = DENIED
    chart.barSpacing = 1
    chart.groupSpacing = 3
    drawing.add(chart)
    drawing.add(_legend(st, chart.x, 10, 70, [(UN_BLUE, "valid entries"), (DENIED, "denied")]))
    return drawing


def bus_chart(st: Styles, day: DayTallies, config: EventConfig) -> Drawing:
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
    integer_axis(chart.valueAxis, [*chart.data[0], *chart.data[1]])
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
