"""The selected participant: a status banner, who they are, badges, last identity check, next step.

Two shapes: a full card (a grid of facts) where there is room, and a compact one (a few dense
lines) on a small terminal, so the next step and the outcome of an action stay on screen at 80×24.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from regdesk.services import photos
from regdesk.services.desk_view import ParticipantCard
from regdesk.tui.widgets.participant_table import shown_status
from regdesk.tui.widgets.photo import PhotoView

BANNER = {
    "accredited": "ACCREDITED · NO BADGE YET",
    "badge_collected": "BADGE COLLECTED",
    "badge_replaced": "BADGE REPLACED · NEW BADGE COLLECTED",
    "withdrawn": "WITHDRAWN · NO BADGE",
    "not_printed": "BADGE ISSUED · NOT PRINTED",
}

EMPTY_HINT = (
    "Type a name, a delegation or an accreditation number in the search box,\n"
    "or scan a badge or the confirmation code. ↓ moves into the results."
)

# What each key does, for the words of the next step (the footer shows the same keys).
KEY_HINTS = {
    "identity_not_checked": "check an identity document (F2), then issue (F3)",
    "already_holds_badge": "if it was lost: check the ID (F2), then replace it (F4)",
}


def card_status(card: ParticipantCard) -> str:
    return shown_status(card.status, card.badge_delivered)


def next_step(card: ParticipantCard) -> tuple[str, str]:
    """(text, tone) telling the clerk what to do now, with the keys to press."""
    if card.status == "withdrawn":
        return card.blocker_text or "Accreditation withdrawn. No badge can be issued.", "error"
    if card.holds_badge:
        serial = next((b.serial_display for b in card.badges if b.serial == card.current_serial), card.current_serial)
        if not card.badge_delivered:
            return f"Badge {serial} is issued but NOT printed. Press F5 to print it.", "warn"
        return (
            f"Holds valid badge {serial}. If it was lost: check the ID (F2), then replace it (F4). Print it again: F5."
        ), "ok"
    if not card.issue_blockers:
        return "Ready: press F3 to issue and print the badge.", "ok"
    first = card.issue_blockers[0]
    if first == "identity_not_checked":
        return f"Next: {KEY_HINTS[first]}.", "info"
    text = card.blocker_text
    if card.blockers_overridable:
        text += " A supervisor may override: F3, then F6."
    return text, "warn"


def _badge_lines(card: ParticipantCard) -> Text:
    lines = Text()
    for i, b in enumerate(card.badges):
        if i:
            lines.append("\n")
        lines.append(b.serial_display, style="bold strike dim" if b.revoked else "bold")
        lines.append(f"  issue {b.issue_no}  {b.issued_local:%d %b %H:%M}")
        if b.revoked:
            lines.append("  REVOKED", style="bold #ff6b6b")
        elif not b.delivered:
            lines.append("  NOT PRINTED", style="bold #f0b43c")
        if b.overridden:
            lines.append("  (override)", style="#f0b43c")
    return lines


def _check_line(card: ParticipantCard) -> Text:
    c = card.last_check
    if c is None:
        return Text("none recorded", style="dim")
    line = Text(f"{c.document_label} ····{c.last4}  {c.checked_local:%d %b %H:%M}  {c.operator}")
    if not c.counts and card.badges:
        line.append("  (used by the last badge)", style="dim")
    return line


def facts_table(card: ParticipantCard) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True, justify="right")
    grid.add_column()
    if card.title:
        grid.add_row("Title", Text(card.title))
    grid.add_row("Delegation", Text(card.delegation, style="bold"))
    if card.delegation_use:
        grid.add_row("Delegation use", Text(card.delegation_use))
    grid.add_row(
        "Category",
        Text.assemble(
            (f" {card.category_code} ", f"bold #ffffff on {card.category_colour}"), "  ", Text(card.category_name)
        ),
    )
    grid.add_row("Role", "Head of delegation" if card.delegation_role == "head" else "Member")
    grid.add_row("Accreditation", Text(card.accreditation_id))
    if card.confirmation_code:
        grid.add_row("Confirmation", Text(card.confirmation_code))
    grid.add_row("Badges", _badge_lines(card) if card.badges else Text("none issued", style="dim"))
    grid.add_row("Last ID check", _check_line(card))
    return grid


def compact_facts(card: ParticipantCard) -> Text:
    """The same facts in a few lines, for small terminals."""
    text = Text()
    text.append(f" {card.category_code} ", style=f"bold #ffffff on {card.category_colour}")
    text.append(f" {card.delegation}", style="bold")
    text.append(" · head of delegation" if card.delegation_role == "head" else " · member")
    text.append(f" · {card.accreditation_id}", style="dim")
    if card.delegation_use:
        text.append(f"\nQuota: {card.delegation_use}")
    current = [b for b in card.badges if not b.revoked]
    text.append("\nBadge: ", style="dim")
    if current:
        b = current[-1]
        text.append(b.serial_display, style="bold")
        text.append(f" issue {b.issue_no}, {b.issued_local:%d %b %H:%M}")
        if not b.delivered:
            text.append(" NOT PRINTED", style="bold #f0b43c")
        if len(card.badges) > len(current):
            text.append(f" ({len(card.badges) - len(current)} revoked)", style="dim")
    else:
        text.append("none valid" if card.badges else "none issued", style="dim")
    # The photo itself needs a larger window; here only whether there is one (short: one line at 80 columns).
    text.append("  Photo: ", style="dim")
    text.append("yes" if card.photo_jpeg else "NONE", style="" if card.photo_jpeg else "bold #f0b43c")
    text.append("\nID check: ", style="dim")
    text.append_text(_check_line(card))
    return text


class ParticipantDetail(Vertical, can_focus=False):
    DEFAULT_CSS = """
    ParticipantDetail { height: auto; }
    ParticipantDetail #detail-body { height: auto; }
    ParticipantDetail #detail-facts { width: 1fr; }
    /* A 160 x 200 photo is 16 x 10 cells. The height is fixed: an "auto" slot could keep the height
       it was laid out with before the picture had one (none), and the photo was never seen. */
    ParticipantDetail #detail-photo { width: 18; height: 11; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._card: ParticipantCard | None = None
        self._compact = False
        self._has_outcome = False

    def compose(self) -> ComposeResult:
        yield Static("NO PARTICIPANT SELECTED", id="detail-banner", classes="-none")
        yield Static(EMPTY_HINT, id="detail-name")
        yield Static("", id="detail-latin")
        with Horizontal(id="detail-body"):
            yield Static("", id="detail-facts")
            yield PhotoView(id="detail-photo")
        yield Static("", id="detail-next")

    def on_mount(self) -> None:
        self.query_one(PhotoView).clear()

    @property
    def card(self) -> ParticipantCard | None:
        return self._card

    def set_compact(self, compact: bool) -> None:
        if compact != self._compact:
            self._compact = compact
            if self._card is not None:
                self.show_card(self._card)

    def show_card(self, card: ParticipantCard) -> None:
        self._card = card
        status = card_status(card)
        banner = self.query_one("#detail-banner", Static)
        banner.set_classes(f"-{status}")
        banner.update(BANNER.get(status, status.upper()))
        self.query_one("#detail-name", Static).update(Text(card.name, style="bold"))
        latin = self.query_one("#detail-latin", Static)
        latin.update(
            Text(f"Latin rendering: {card.name_latin}", style="italic") if card.name_latin != card.name else ""
        )
        latin.display = card.name_latin != card.name
        facts = compact_facts(card) if self._compact else Group(facts_table(card))
        self.query_one("#detail-facts", Static).update(facts)
        photo = self.query_one(PhotoView)
        if self._compact:  # 80x24: the facts and the next step need the room; the facts say if there is one
            photo.clear()
        else:  # a 160 x 200 JPEG decodes in well under a millisecond
            photo.show(card.accreditation_id, photos.decode(card.photo_jpeg) if card.photo_jpeg else None)
        text, tone = next_step(card)
        step = self.query_one("#detail-next", Static)
        step.set_classes(self._next_step_classes(tone))
        step.update(Text(text))

    def set_has_outcome(self, shown: bool) -> None:
        """An action's outcome is shown under the card: on a small terminal it takes the place of
        the next-step line (desk.tcss)."""
        self._has_outcome = shown
        self.query_one("#detail-next", Static).set_class(shown, "-has-outcome")

    def _next_step_classes(self, tone: str) -> str:
        return " ".join(c for c in (f"-{tone}" if tone else "", "-has-outcome" if self._has_outcome else "") if c)

    def clear_card(self) -> None:
        self._card = None
        banner = self.query_one("#detail-banner", Static)
        banner.set_classes("-none")
        banner.update("NO PARTICIPANT SELECTED")
        self.query_one("#detail-name", Static).update(EMPTY_HINT)
        latin = self.query_one("#detail-latin", Static)
        latin.update("")
        latin.display = False
        self.query_one("#detail-facts", Static).update("")
        self.query_one(PhotoView).clear()
        step = self.query_one("#detail-next", Static)
        step.set_classes(self._next_step_classes(""))
        step.update("")
