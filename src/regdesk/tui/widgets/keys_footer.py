"""A footer that fits its width and greys keys in and out in place instead of rebuilding itself.

Fitting: Textual's Footer lays every key in one row and clips what passes the right edge, which at
80 columns cut "f8 Sign out" off the desk as soon as the printer keys (ctrl+r, ctrl+o) joined. This
footer shows what fits and puts a "^p More" key (the command palette, which lists every action of
the screen and the app) where keys were left out; on a screen that shows the palette key on the
right (supervisor, audit, scan lanes) that key is the way to the rest, and its room is kept. A
screen names the keys it never leaves out (`FOOTER_KEEP`: the act a clerk is in the middle of);
signing out is never left out either. The rest go in this order: the screen keys of other screens
(F9-F12; the current screen's own is greyed and goes first), then greyed keys, then the others, each
from the right.

In place: Textual's Footer removes and mounts all its keys on every refresh_bindings (new widgets,
styles, a full layout of the screen): on the desk that was tens of milliseconds each time F3 made
the keys wait for the badge and gave them back. When the same keys are shown, in the same order,
with the same labels, only the ones whose state changed are restyled; anything else (another
screen's keys, a focused widget with keys of its own, a new width) rebuilds the footer.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ALWAYS_KEPT = frozenset({"sign_out"})
MORE = Binding("ctrl+p", "app.command_palette", "More", tooltip="Every action of this screen (command palette)")


@dataclass(frozen=True)
class ShownKey:
    key: str
    key_display: str
    action: str
    description: str
    tooltip: str
    enabled: bool

    @property
    def look(self) -> tuple[str, str, str, str]:
        return (self.key, self.action, self.description, self.tooltip)


def key_width(key: ShownKey, *, compact: bool) -> int:
    """Cells a FooterKey takes: "f8 Sign out" and Footer's margin of 1 compact, " f8 Sign out " otherwise."""
    return cell_len(key.key_display) + 1 + cell_len(key.description) + (1 if compact else 2)


def drop_order(keys: list[ShownKey], keep: frozenset[str]) -> list[int]:
    """Indexes of the keys that may be left out, the first to go first."""

    def tier(key: ShownKey) -> int:
        if key.action.startswith("mode("):
            return 0 if not key.enabled else 1
        return 2 if not key.enabled else 3

    droppable = [i for i, key in enumerate(keys) if key.action not in keep]
    return sorted(droppable, key=lambda i: (tier(keys[i]), -i))


def fit(
    keys: list[ShownKey], width: int, keep: frozenset[str], more: ShownKey | None, *, compact: bool
) -> list[ShownKey]:
    """The keys that fit `width` cells, in their order, with `more` at the end when any was left out
    (None: the palette key is on the footer anyway, its width already taken off `width`)."""

    def total(shown: list[ShownKey]) -> int:
        return sum(key_width(k, compact=compact) for k in shown)

    if total(keys) <= width:
        return keys
    left_out: set[int] = set()
    budget = width - (key_width(more, compact=compact) if more else 0)
    for index in drop_order(keys, keep):
        if total([k for i, k in enumerate(keys) if i not in left_out]) <= budget:
            break
        left_out.add(index)
    return [*(k for i, k in enumerate(keys) if i not in left_out), *([more] if more else [])]


class KeysFooter(Footer):
    def _palette_key(self) -> ShownKey | None:
        """The command palette's key, docked right, when this footer shows it (as Footer does)."""
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        try:
            _node, binding, enabled, _tooltip = self.screen.active_bindings[self.app.COMMAND_PALETTE_BINDING]
        except KeyError:
            return None
        display = self.app.get_key_display(binding)
        return ShownKey(binding.key, display, binding.action, binding.description, binding.tooltip, enabled)

    def _all_keys(self) -> list[ShownKey] | None:
        """The keys Footer.compose would lay out (the palette key aside); None when the footer uses
        what it does not fit or update in place (groups)."""
        palette = self.app.COMMAND_PALETTE_BINDING
        shown: dict[str, ShownKey] = {}
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.key == palette:
                continue
            if binding.group is not None:
                return None
            # Footer.compose shows the first binding of each action.
            shown.setdefault(
                binding.action,
                ShownKey(
                    binding.key,
                    self.app.get_key_display(binding),
                    binding.action,
                    binding.description,
                    tooltip or "",
                    enabled,
                ),
            )
        return list(shown.values())

    def _shown_keys(self) -> list[ShownKey] | None:
        keys = self._all_keys()
        if keys is None:
            return None
        keep = ALWAYS_KEPT | frozenset(getattr(self.screen, "FOOTER_KEEP", ()))
        width = self.size.width or self.app.size.width
        palette = self._palette_key()
        if palette is not None:  # docked right, with its border: it is the way to the rest
            return fit(keys, width - key_width(palette, compact=self.compact) - 1, keep, None, compact=self.compact)
        more = ShownKey(MORE.key, self.app.get_key_display(MORE), MORE.action, MORE.description, MORE.tooltip, True)
        return fit(keys, width, keep, more, compact=self.compact)

    def compose(self) -> ComposeResult:
        shown = self._shown_keys() if self._bindings_ready else None
        if shown is None:
            yield from super().compose()
            return
        for key in shown:
            yield FooterKey(
                key.key, key.key_display, key.description, key.action, disabled=not key.enabled, tooltip=key.tooltip
            ).data_bind(compact=Footer.compact)
        palette = self._palette_key()
        if palette is not None:
            yield FooterKey(
                palette.key,
                palette.key_display,
                palette.description,
                palette.action,
                classes="-command-palette",
                disabled=not palette.enabled,
                tooltip=palette.tooltip or palette.description,
            )

    def bindings_changed(self, screen: Screen) -> None:
        ready = self._bindings_ready
        if not ready or not screen.app.app_focus or not (self.is_attached and screen is self.screen):
            super().bindings_changed(screen)
            return
        self.call_after_refresh(self._update_keys)

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready:
            self.call_after_refresh(self._update_keys)

    async def _update_keys(self) -> None:
        if not self.is_attached:
            return
        shown = self._shown_keys()
        keys = [key for key in self.query_children(FooterKey) if not key.has_class("-command-palette")]
        if (
            shown is None
            or len(shown) != len(keys)
            or any(
                (key.key, key.action, key.description, str(key.tooltip or "")) != want.look
                for key, want in zip(keys, shown, strict=True)
            )
        ):
            await self.recompose()
            return
        for key, want in zip(keys, shown, strict=True):
            if key._disabled == want.enabled:  # noqa: SLF001 - the flag FooterKey reads on a click
                key._disabled = not want.enabled  # noqa: SLF001
                key.set_class(not want.enabled, "-disabled")
