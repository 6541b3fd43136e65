"""The report's body: the cover and, for each day, its tables and charts (badges, screening, buses, people)."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from regdesk.config import EventConfig
from regdesk.domain.buses import TO_HOTEL, TO_VENUE
from regdesk.domain.tallies import DayTallies, no_show_label, summarise
from regdesk.domain.words import plural as _plural
from regdesk.render.report.charts import bus_chart, category_chart, hour_chart
from regdesk.render.report.style import (
    CONTENT_W,
    MAX_DELEGATIONS,
    MAX_DEPARTURES,
    MAX_NO_SHOWS,
    MAX_PEOPLE_ROWS,
    Styles,
    count_text,
    empty_note,
    escape,
    local_time,
    long_day,
    percent_text,
    short_stop,
    table_of,
)
from regdesk.render.report.summary import attention_box, days_heading, headline_tiles, meeting_tiles


def cover_page(st: Styles, results: Sequence[DayTallies], config: EventConfig) -> list[Flowable]:
    last = results[-1]
    summary = summarise(results)
    story: list[Flowable] = [Spacer(1, 30 * mm)]
    story.append(Paragraph(escape(days_heading(results[0].day, last.day)), st.h1))
    if len(results) == 1:
        story.append(
            Paragraph(
                f"Local day in {escape(config.timezone)} (00:00–24:00). Cumulative figures run from the opening of "
                "badge collection.",
                st.small,
            )
        )
        tiles = headline_tiles(st, last)
    else:
        story.append(
            Paragraph(
                f"Meeting summary over {summary.days} local days in {escape(config.timezone)} (00:00–24:00): figures "
                f"added up over the days; collection as at the end of {escape(long_day(last.day))}. "
                "Each day follows on its own pages.",
                st.small,
            )
        )
        tiles = meeting_tiles(st, summary)
    story.append(Spacer(1, 5 * mm))
    story.append(tiles)
    story.append(Spacer(1, 5 * mm))
    story.append(attention_box(st, summary, config))
    story.append(Spacer(1, 5 * mm))
    if len(results) > 1:
        story.append(Paragraph("Day by day", st.h3))
        rows = [
            [
                f"{r.day:%a %d %b}",
                count_text(r.badges.issued),
                count_text(r.badges.replaced),
                count_text(r.badges.collected),
                percent_text(r.badges.collected_pct),
                count_text(r.security.entries),
                count_text(r.security.distinct_people),
                count_text(r.security.denied),
                count_text(r.buses.boardings),
                str(len(r.overrides)),
            ]
            for r in results
        ]
        total = [
            "All days",
            count_text(summary.badges_issued),
            count_text(summary.badges_replaced),
            count_text(summary.collected),
            percent_text(summary.collected_pct),
            count_text(summary.entries),
            count_text(summary.distinct_people),
            count_text(summary.denied),
            count_text(summary.bus_boardings),
            str(summary.overrides),
        ]
        story.append(
            table_of(
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
    story.append(category_chart(st, last))
    return story


def is_quiet(day: DayTallies) -> bool:
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


def quiet_day(st: Styles, day: DayTallies) -> list[Flowable]:
    b = day.badges
    return [
        CondPageBreak(40 * mm),
        Paragraph(escape(long_day(day.day)), st.h2),
        Paragraph(
            f"No badges issued, no scans and no boardings were recorded on this day. At the end of the day "
            f"{count_text(b.collected)} of {count_text(b.pre_registered)} pre-registered participants held a badge "
            f"({percent_text(b.collected_pct)}); "
            + (
                _plural(day.no_show_count, "no-show")
                if day.collection_closed
                else f"{day.no_show_count:,} not yet collected"
            )
            + ".",
            st.body,
        ),
    ]


def day_sections(
    st: Styles, day: DayTallies, config: EventConfig, *, with_title: bool, lists: bool = True
) -> list[Flowable]:
    """All sections of one day; `lists=False` leaves out the delegation and no-show lists (multi-day
    reports list them once, for the last day)."""
    story: list[Flowable] = []
    if with_title:
        story.append(Paragraph(escape(long_day(day.day)), st.h1))
        story.append(headline_tiles(st, day))

    # 1. Badges
    b = day.badges
    story.append(Paragraph("1. Badges", st.h2))
    story.append(
        Paragraph(
            f"{_plural(b.issued, 'first badge')} and {_plural(b.replaced, 'replacement')} issued; "
            f"{_plural(b.revoked, 'serial')} revoked. "
            f"Since collection opened: {count_text(b.issued_cum)} issued, {count_text(b.replaced_cum)} replaced, "
            f"{count_text(b.collected)} of {count_text(b.pre_registered)} pre-registered participants collected "
            f"({percent_text(b.collected_pct)}).",
            st.body,
        )
    )
    story.append(Paragraph("By category", st.h3))
    cats = [c for c in day.categories if c.pre_registered or c.issued_cum or c.revoked_cum]
    rows = [
        [
            c.name,
            count_text(c.issued),
            count_text(c.replaced),
            count_text(c.revoked),
            count_text(c.issued_cum),
            count_text(c.collected),
            count_text(c.pre_registered),
            percent_text(c.collected_pct),
        ]
        for c in cats
    ]
    widths = [52 * mm] + [(CONTENT_W - 52 * mm) / 7] * 7
    if rows:
        story.append(
            table_of(
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
                    count_text(b.issued),
                    count_text(b.replaced),
                    count_text(b.revoked),
                    count_text(b.issued_cum),
                    count_text(b.collected),
                    count_text(b.pre_registered),
                    percent_text(b.collected_pct),
                ],
            )
        )
    else:
        story.append(empty_note(st, "No participants and no badges yet."))
    if with_title:
        story.append(Spacer(1, 3 * mm))
        story.append(category_chart(st, day))

    half = (CONTENT_W - 6 * mm) / 2
    station_rows = [
        [s.station_name, count_text(s.issued), count_text(s.replaced), count_text(s.issued_cum + s.replaced_cum)]
        for s in day.stations[:MAX_PEOPLE_ROWS]
    ]
    operator_rows = [
        [o.operator, count_text(o.issued), count_text(o.replaced), count_text(o.issued_cum + o.replaced_cum)]
        for o in day.operators[:MAX_PEOPLE_ROWS]
    ]
    left = [
        Paragraph("By desk station", st.h3),
        table_of(
            st,
            ["Station", "Issued", "Replaced", "All (cum.)"],
            station_rows,
            [half - 48 * mm, 15 * mm, 16 * mm, 17 * mm],
        )
        if station_rows
        else empty_note(st, "No badges yet."),
    ]
    right = [
        Paragraph("By operator", st.h3),
        table_of(
            st,
            ["Operator", "Issued", "Replaced", "All (cum.)"],
            operator_rows,
            [half - 48 * mm, 15 * mm, 16 * mm, 17 * mm],
        )
        if operator_rows
        else empty_note(st, "No badges yet."),
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
            f"{_plural(counts['complete'], 'delegation')} complete, {count_text(counts['partial'])} partly collected, "
            f"{count_text(counts['not_collected'])} not collected at all. "
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
                Paragraph(escape(d.delegation), st.cell),
                d.category,
                "partly collected" if d.status == "partial" else "none collected",
                count_text(d.collected),
                count_text(d.pre_registered),
            ]
            for d in pending[:MAX_DELEGATIONS]
        ]
        story.append(
            table_of(
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
                Paragraph(escape(n.delegation), st.cell),
                Paragraph(escape(n.name_latin), st.cell),
                n.category,
                "head" if n.delegation_role == "head" else "",
                n.accreditation_id,
            ]
            for n in day.no_shows[:MAX_NO_SHOWS]
        ]
        story.append(
            table_of(
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
                f"{count_text(s.entries_cum)} entries by {count_text(s.distinct_people_cum)} people.",
                st.body,
            )
        )
    else:
        story += _security_details(st, day)
    story += _bus_section(st, day, config)
    story += _closing_sections(st, day)
    return story


def _security_details(st: Styles, day: DayTallies) -> list[Flowable]:
    s = day.security
    story: list[Flowable] = []
    story.append(
        Paragraph(
            f"{_plural(s.scans, 'scan')}: {_plural(s.entries, 'valid entry', 'valid entries')} by "
            f"{_plural(s.distinct_people, 'person', 'different people')}, "
            f"{count_text(s.denied)} denied, {_plural(s.repeats, 'repeat')} (shown, not counted). Since the start: "
            f"{count_text(s.entries_cum)} entries by {count_text(s.distinct_people_cum)} people, "
            f"{count_text(s.denied_cum)} denied.",
            st.body,
        )
    )
    story.append(Spacer(1, 2 * mm))
    story.append(hour_chart(st, day))
    rows = [
        [
            c.name,
            count_text(c.scans),
            count_text(c.entries),
            count_text(c.denied),
            count_text(c.repeats),
            count_text(c.entries_cum),
        ]
        for c in day.checkpoints
    ]
    story.append(
        KeepTogether(
            [
                Paragraph("By checkpoint", st.h3),
                table_of(
                    st,
                    ["Checkpoint", "Scans", "Entries", "Denied", "Repeats", "Entries (cum.)"],
                    rows,
                    [CONTENT_W - 100 * mm] + [20 * mm] * 5,
                    total=[
                        "Total",
                        count_text(s.scans),
                        count_text(s.entries),
                        count_text(s.denied),
                        count_text(s.repeats),
                        count_text(s.entries_cum),
                    ],
                ),
            ]
        )
    )
    denial_rows = [
        [d.label, "venue" if d.point_kind == "security" else "bus", count_text(d.count), count_text(d.count_cum)]
        for d in day.denials
    ]
    story.append(
        KeepTogether(
            [
                Paragraph("Denials by reason", st.h3),
                table_of(
                    st,
                    ["Reason", "Where", "Today", "Since start"],
                    denial_rows,
                    [CONTENT_W - 75 * mm, 25 * mm, 25 * mm, 25 * mm],
                    numeric_from=2,
                )
                if denial_rows
                else empty_note(st, "No denials."),
            ]
        )
    )
    return story


def _bus_section(st: Styles, day: DayTallies, config: EventConfig) -> list[Flowable]:
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
            f"of {config.bus_capacity}), {count_text(bus.denied)} denied. "
            f"Since the start: {count_text(bus.boardings_cum)} boardings.",
            st.body,
        )
    )
    story.append(Spacer(1, 2 * mm))
    story.append(bus_chart(st, day, config))
    direction = {TO_VENUE: f"to the {config.venue_stop.short}", TO_HOTEL: "to the hotels"}
    rows = [
        [
            short_stop(r.stop_name),
            direction.get(r.direction, r.direction),
            count_text(r.boardings),
            count_text(r.denied),
            count_text(r.boardings_cum),
        ]
        for r in day.stops
    ]
    story.append(
        KeepTogether(
            [
                Paragraph("By stop and direction", st.h3),
                table_of(
                    st,
                    ["Stop", "Direction", "Boardings", "Denied", "Boardings (cum.)"],
                    rows,
                    [CONTENT_W - 110 * mm, 35 * mm, 25 * mm, 22 * mm, 28 * mm],
                    numeric_from=2,
                )
                if rows
                else empty_note(st, "No boardings."),
            ]
        )
    )
    if day.departures:
        story.append(CondPageBreak(30 * mm))
        story.append(Paragraph("Departures: headcount against capacity", st.h3))
        shown = day.departures[:MAX_DEPARTURES]
        rows = [
            [
                local_time(d.first_boarding),
                Paragraph(escape(d.label), st.cell),
                short_stop(d.stop_name),
                direction.get(d.direction, d.direction),
                count_text(d.headcount),
                count_text(d.capacity),
                percent_text(d.load_pct),
            ]
            for d in shown
        ]
        over = [i for i, d in enumerate(shown) if d.over_capacity]
        story.append(
            table_of(
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


def _closing_sections(st: Styles, day: DayTallies) -> list[Flowable]:
    """5. Overrides and conflicts, 6. Hour by hour."""
    story: list[Flowable] = []
    s, bus = day.security, day.buses
    story.append(CondPageBreak(50 * mm if day.overrides or day.conflicts else 25 * mm))
    story.append(Paragraph("5. Overrides and conflicts", st.h2))
    story.append(Paragraph("Issuance rules set aside by a supervisor", st.h3))
    if day.overrides:
        rows = [
            [
                local_time(o.time_local),
                Paragraph(escape(o.rule.replace("_", " ")), st.cell),
                Paragraph(
                    f"{escape(o.participant_name or o.participant_id)}<br/><font color='#5F6B7A'>"
                    f"{escape(o.delegation)}</font>",
                    st.cell,
                ),
                Paragraph(escape(o.reason), st.cell),
                Paragraph(
                    f"{escape(o.supervisor)}<br/>"
                    f"<font color='#5F6B7A'>{escape(o.operator)}, {escape(o.station_name)}</font>",
                    st.cell,
                ),
            ]
            for o in day.overrides
        ]
        story.append(
            table_of(
                st,
                ["Time", "Rule", "Participant", "Reason", "Authorised by / clerk"],
                rows,
                [13 * mm, 24 * mm, 38 * mm, CONTENT_W - 115 * mm, 40 * mm],
                numeric_from=99,
            )
        )
    else:
        story.append(empty_note(st, "No overrides were granted on this day."))
    story.append(Spacer(1, 3 * mm))
    story.append(Paragraph("Conflicts between stations", st.h3))
    if day.conflicts:
        rows = [
            [
                local_time(c.time_local),
                c.state,
                Paragraph(escape(c.participant_name or c.participant_id), st.cell),
                Paragraph(escape(c.resolution), st.cell),
                Paragraph(escape(c.reason), st.cell),
                Paragraph(escape(c.resolved_by), st.cell),
            ]
            for c in day.conflicts
        ]
        story.append(
            table_of(
                st,
                ["Time", "State", "Participant", "Resolution", "Reason", "By"],
                rows,
                [13 * mm, 16 * mm, 34 * mm, 40 * mm, CONTENT_W - 138 * mm, 35 * mm],
                numeric_from=99,
            )
        )
    else:
        story.append(empty_note(st, "No conflicts were resolved on this day."))
    for stock in day.temporary_passes:  # the contingency stock, when passes were printed for the day
        story.append(Spacer(1, 3 * mm))
        story.append(Paragraph("Temporary passes", st.h3))
        story.append(Paragraph(escape(stock.line) + ".", st.body))

    # 6. Hour by hour
    active = [h for h in day.hourly if h.badges or h.entries or h.denied or h.boardings]
    if active:
        rows = [
            [
                f"{h.hour:02d}:00–{h.hour:02d}:59",
                count_text(h.badges),
                count_text(h.entries),
                count_text(h.denied),
                count_text(h.boardings),
            ]
            for h in active
        ]
        hourly: Flowable = table_of(
            st,
            ["Local hour", "Badges", "Entries", "Denied", "Boardings"],
            rows,
            [CONTENT_W - 100 * mm] + [25 * mm] * 4,
            total=[
                "Day",
                count_text(sum(h.badges for h in day.hourly)),
                count_text(s.entries),
                count_text(s.denied),
                count_text(bus.boardings),
            ],
        )
    else:
        hourly = empty_note(st, "No activity recorded on this day.")
    story.append(KeepTogether([Paragraph("6. Hour by hour", st.h2), hourly]))
    return story
