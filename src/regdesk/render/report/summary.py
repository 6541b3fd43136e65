"""The headline figures: tiles, the points that need a supervisor's attention, the span of days covered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    Paragraph,
    Table,
    TableStyle,
)

from regdesk.config import EventConfig
from regdesk.domain.tallies import DayTallies, MeetingSummary, no_show_label, summarise
from regdesk.domain.words import plural as _plural
from regdesk.render.report.style import (
    ALERT,
    CONTENT_W,
    DENIED,
    GOOD,
    NAVY,
    UN_BLUE,
    Styles,
    Tiles,
    count_text,
    escape,
    long_day,
    percent_text,
)

# --- sections -----------------------------------------------------------------------------------


def headline_tiles(st: Styles, day: DayTallies) -> Tiles:
    b, s, bus = day.badges, day.security, day.buses
    counts = day.delegation_counts
    open_conflicts = sum(1 for c in day.conflicts if c.state == "open")
    return Tiles(
        st,
        [
            (count_text(b.issued), "Badges issued today", f"+{b.replaced} replaced · {b.revoked} revoked", UN_BLUE),
            (
                f"{count_text(b.collected)}/{count_text(b.pre_registered)}",
                "Badges collected",
                f"{percent_text(b.collected_pct)} of the pre-registered list",
                GOOD,
            ),
            (
                count_text(counts["complete"]),
                "Delegations complete",
                f"{counts['partial']:,} partial · {counts['not_collected']:,} none yet",
                GOOD,
            ),
            (
                count_text(day.no_show_count),
                no_show_label(day.collection_closed),
                "pre-registered, no badge yet",
                ALERT if day.no_show_count and day.collection_closed else GOOD,
            ),
            (
                count_text(s.entries),
                "Venue entries",
                f"{_plural(s.distinct_people, 'person', 'people')} · {_plural(s.repeats, 'repeat')}",
                UN_BLUE,
            ),
            (
                count_text(s.denied),
                "Entries denied",
                f"{count_text(s.denied_cum)} since the start",
                DENIED if s.denied else GOOD,
            ),
            (
                count_text(bus.boardings),
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


def meeting_tiles(st: Styles, m: MeetingSummary) -> Tiles:
    """The first page of an all-days report: every day added up, collection at the end of the last day."""
    counts = m.delegation_counts
    over = len(m.over_capacity)
    return Tiles(
        st,
        [
            (
                count_text(m.badges_issued),
                "Badges issued",
                f"+{m.badges_replaced:,} replaced · {m.badges_revoked:,} revoked",
                UN_BLUE,
            ),
            (
                f"{count_text(m.collected)}/{count_text(m.pre_registered)}",
                "Badges collected",
                f"{percent_text(m.collected_pct)} of the pre-registered list",
                GOOD,
            ),
            (
                count_text(counts["complete"]),
                "Delegations complete",
                f"{counts['partial']:,} partial · {counts['not_collected']:,} none yet",
                GOOD,
            ),
            (
                count_text(m.no_show_count),
                no_show_label(m.collection_closed),
                "pre-registered, no badge",
                ALERT if m.no_show_count and m.collection_closed else GOOD,
            ),
            (
                count_text(m.entries),
                "Venue entries",
                f"{_plural(m.distinct_people, 'person', 'people')} · {_plural(m.repeats, 'repeat')}",
                UN_BLUE,
            ),
            (count_text(m.denied), "Entries denied", f"over {_plural(m.days, 'day')}", DENIED if m.denied else GOOD),
            (
                count_text(m.bus_boardings),
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
                f"collection closes {long_day(closes.date())} at {closes:%H:%M}."
            )
    return points or ["Nothing needs attention."]


def attention_box(st: Styles, summary: MeetingSummary, config: EventConfig) -> Table:
    items = [Paragraph("For attention", ParagraphStyle("att", parent=st.body, fontName=st.bold, textColor=NAVY))]
    items += [Paragraph(escape(p), st.body, bulletText="•") for p in attention_points(summary, config)]
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
        return long_day(last)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%A} {first.day} \u2013 {long_day(last)}"
    if first.year == last.year:
        return f"{first:%A} {first.day} {first:%B} \u2013 {long_day(last)}"
    return f"{long_day(first)} \u2013 {long_day(last)}"
