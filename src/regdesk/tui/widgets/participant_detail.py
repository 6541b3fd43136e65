"""The selected participant: a big status banner, who they are, badges, last identity check, next step."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from regdesk.services.desk_view import ParticipantCard

BANNER = {
    "accredited": "ACCREDITED · NO BADGE YET",
    "badge_collected": "BADGE COLLECTED",
    "badge_replaced": "BADGE REPLACED",
    "withdrawn": "WITHDRAWN · NO BADGE",
}

EMPTY_HINT = ("Type a name, a delegation or an accreditation id in the search box,\n"
              "or scan the confirmation code. Use ↓ to move into the results.")


def next_step(card: ParticipantCard) -> tuple[str, str]:
    """(text, tone) telling the clerk what to do now, with the keys to press."""
    if card.status == "withdrawn":
        return card.blocker_text or "Accreditation withdrawn. No badge can be issued.", "error"
    if card.holds_badge:
        return (f"Holds valid badge {card.badges[-1].serial_display if card.badges else card.current_serial}. "
                "If it was lost: check the ID (F2), then replace it (F4). Reprint: F5."), "ok"
    if not card.issue_blockers:
        return "Ready: press F3 to issue and print the badge.", "ok"
    if card.issue_blockers[0] == "identity_not_checked":
        return "Next: check an identity document (F2), then issue (F3).", "info"
    text = card.blocker_text
    if card.blockers_overridable:
        text += " A supervisor may override it: F3, then F6."
    return text, "warn"


def facts_table(card: ParticipantCard) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True, justify="right")
    grid.add_column()
    if card.title:
        grid.add_row("Title", Text(card.title))
    grid.add_row("Delegation", Text(card.delegation, style="bold"))
    grid.add_row("Category", Text.assemble((f" {card.category_code} ", f"bold #ffffff on {card.category_colour}"),
                                           "  ", Text(card.category_name)))
    grid.add_row("Role", "Head of delegation" if card.delegation_role == "head" else "Member")
    grid.add_row("Accreditation", Text(card.accreditation_id))
    if card.confirmation_code:
        grid.add_row("Confirmation", Text(card.confirmation_code))
    if card.badges:
        lines = Text()
        for i, b in enumerate(card.badges):
            if i:
                lines.append("\n")
            lines.append(b.serial_display, style="bold strike dim" if b.revoked else "bold")
            lines.append(f"  issue {b.issue_no}  {b.issued_local:%d %b %H:%M}")
            if b.revoked:
                lines.append("  REVOKED", style="bold #ff6b6b")
            if b.overridden:
                lines.append("  (override)", style="#f0b43c")
        grid.add_row("Badges", lines)
    else:
        grid.add_row("Badges", Text("none issued", style="dim"))
    if card.last_check:
        c = card.last_check
        grid.add_row("Last ID check",
                     Text(f"{c.document_label} ····{c.last4}  {c.checked_local:%d %b %H:%M}  {c.operator}"))
    else:
        grid.add_row("Last ID check", Text("none recorded", style="dim"))
    return grid


class ParticipantDetail(Vertical, can_focus=False):
    DEFAULT_CSS = """
    ParticipantDetail { height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static("NO PARTICIPANT SELECTED", id="detail-banner", classes="-none")
        yield Static(EMPTY_HINT, id="detail-name")
        yield Static("", id="detail-latin")
        yield Static("", id="detail-facts")
        yield Static("", id="detail-next")

    def show_card(self, card: ParticipantCard) -> None:
        banner = self.query_one("#detail-banner", Static)
        banner.set_classes(f"-{card.status}")
        banner.update(BANNER.get(card.status, card.status.upper()))
        self.query_one("#detail-name", Static).update(Text(card.name, style="bold"))
        latin = self.query_one("#detail-latin", Static)
        latin.update(Text(f"Latin rendering: {card.name_latin}", style="italic") if card.name_latin != card.name
                     else "")
        latin.display = card.name_latin != card.name
        self.query_one("#detail-facts", Static).update(Group(facts_table(card)))
        text, tone = next_step(card)
        step = self.query_one("#detail-next", Static)
        step.set_classes(f"-{tone}")
        step.update(Text(text))

    def clear_card(self) -> None:
        banner = self.query_one("#detail-banner", Static)
        banner.set_classes("-none")
        banner.update("NO PARTICIPANT SELECTED")
        self.query_one("#detail-name", Static).update(EMPTY_HINT)
        self.query_one("#detail-latin", Static).update("")
        self.query_one("#detail-facts", Static).update("")
        step = self.query_one("#detail-next", Static)
        step.set_classes("")
        step.update("")
