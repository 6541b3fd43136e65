"""The verdict panel shows what the accreditation list says, as written: a name that looks like
markup is shown as text, and a name too long for the terminal wraps instead of pushing the verdict
out of sight."""

from __future__ import annotations

from textual.app import App, ComposeResult

from regdesk.tui.widgets.verdict_panel import ScanView, VerdictPanel

HOSTILE = "[bold red]Admit[/] [link=https://x.example]all[/link] ${x} " + "Wolfeschlegelsteinhausenberger " * 6


class PanelApp(App):
    CSS = "VerdictPanel { padding: 0 1; }"

    def compose(self) -> ComposeResult:
        yield VerdictPanel()


def painted(app: App, panel: VerdictPanel) -> list[str]:
    strips = app.screen._compositor.render_strips()  # noqa: SLF001 - the frame as painted
    inner = panel.content_region
    return [strip.crop(inner.x, inner.right).text.strip() for strip in strips[inner.y : inner.bottom]]


async def test_a_name_that_looks_like_markup_is_shown_as_written_and_wraps_at_80_columns():
    app = PanelApp()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(VerdictPanel)
        panel.show(
            ScanView(state="valid", title="VALID", reason="Valid meeting badge", name=HOSTILE, delegation="[i]X[/i]")
        )
        await pilot.pause()
        rows = painted(app, panel)
        shown = " ".join(row for row in rows if row)
        assert "[bold red]Admit[/] [link=https://x.example]all[/link] ${x}" in shown
        assert "[i]X[/i]" in shown
        assert shown.count("Wolfeschlegelsteinhausenberger") == 6  # wrapped, nothing cut
        assert "█" in panel.title_text and "Valid meeting badge" in rows  # the verdict still on screen
        name = panel.line_region("name")
        assert name is not None and name.height > 1
