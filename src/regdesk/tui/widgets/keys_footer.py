"""A footer that greys keys in and out in place instead of rebuilding itself.

Textual's Footer removes and mounts all its keys on every refresh_bindings (new widgets, styles, a
full layout of the screen): on the desk that was tens of milliseconds each time F3 made the keys wait
for the badge and gave them back. When the same keys are shown, in the same order, with the same
labels, only the ones whose state changed are restyled; anything else (another screen's keys, a
focused widget with keys of its own) rebuilds the footer as Textual does.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    def _shown_keys(self) -> list[tuple[tuple[str, str, str, str], bool]] | None:
        """((key, action, description, tooltip), enabled) per key, as Footer.compose would lay them
        out; None when the footer uses what it does not update in place (groups, the palette key)."""
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            return None
        shown: dict[str, tuple[tuple[str, str, str, str], bool]] = {}
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show:
                continue
            if binding.group is not None:
                return None
            # Footer.compose shows the first binding of each action.
            shown.setdefault(
                binding.action, ((binding.key, binding.action, binding.description, tooltip or ""), enabled)
            )
        return list(shown.values())

    def bindings_changed(self, screen: Screen) -> None:
        ready = self._bindings_ready
        if not ready or not screen.app.app_focus or not (self.is_attached and screen is self.screen):
            super().bindings_changed(screen)
            return
        self.call_after_refresh(self._update_keys)

    async def _update_keys(self) -> None:
        if not self.is_attached:
            return
        shown = self._shown_keys()
        keys = list(self.query_children(FooterKey))
        if (
            shown is None
            or len(shown) != len(keys)
            or any(
                (key.key, key.action, key.description, str(key.tooltip or "")) != look
                for key, (look, _) in zip(keys, shown, strict=True)
            )
        ):
            await self.recompose()
            return
        for key, (_, enabled) in zip(keys, shown, strict=True):
            if key._disabled == enabled:  # noqa: SLF001 - the flag FooterKey reads on a click
                key._disabled = not enabled  # noqa: SLF001
                key.set_class(not enabled, "-disabled")
