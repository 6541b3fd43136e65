"""The supervisor's tallies report (PDF, A4): a cover with the headline numbers, then the tables and
bar charts of each day. Pure rendering: takes DayTallies, returns PDF bytes.

Long lists (no-shows, delegations, departures at a 100,000-participant meeting) are cut at a
readable length with a note pointing to the CSV file that has them all.
"""

from regdesk.render.report.document import render_report
from regdesk.render.report.summary import attention_points, days_heading

__all__ = ["attention_points", "days_heading", "render_report"]
