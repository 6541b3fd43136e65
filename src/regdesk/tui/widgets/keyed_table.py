"""A DataTable that is refreshed in place, row by row, by key (the memray pattern).

`sync(rows)` takes the wanted rows, in display order, as (key, cells) and touches only what
changed: vanished keys are removed, changed cells updated, new keys appended. A live dashboard
therefore does not flicker and the cursor stays on its row. Only when new rows belong *between*
existing ones (a filter was widened) is the table rebuilt, once, in the right order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist


class KeyedTable(DataTable):
    def __init__(self, columns: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        """`columns`: (key, label) pairs."""
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._column_spec = tuple(columns)
        self.changes = 0  # cells written by the last sync (tests, debugging)
        self.rebuilt = False  # whether the last sync had to rebuild the table
        self._widths_changed = False

    def on_mount(self) -> None:
        super().on_mount()
        self._ensure_columns()

    def on_idle(self) -> None:
        # DataTable widens columns for new rows when idle, but keeps lines it already drew at the
        # old widths (its render caches are not keyed by width): drop them once the widths settled.
        if self._widths_changed:
            self._widths_changed = False
            self.notify_style_update()

    def _ensure_columns(self) -> None:
        if not self.columns:
            for key, label in self._column_spec:
                self.add_column(label, key=key)

    def sync(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> int:
        """Make the table show exactly `rows`, in that order; returns how many cells were written."""
        self._ensure_columns()
        column_keys = [key for key, _ in self._column_spec]
        wanted = dict(rows)
        order = [key for key, _ in rows]
        present = [str(row.key.value) for row in self.ordered_rows]
        kept = [key for key in present if key in wanted]
        new = [key for key in order if key not in set(kept)]
        # Appending keeps the order only if every new row comes after every kept row.
        position = {key: i for i, key in enumerate(order)}
        in_order = kept == [key for key in order if key in set(kept)]
        appendable = in_order and (not kept or not new or min(position[k] for k in new) > position[kept[-1]])
        self.rebuilt = not appendable
        if not appendable:
            return self._rebuild(rows, len(column_keys))
        changes = 0
        for key in present:
            if key not in wanted:
                self.remove_row(key)
                changes += len(column_keys)
        for key in kept:
            for column, value in zip(column_keys, wanted[key], strict=False):
                if self.get_cell(key, column) != value:
                    self.update_cell(key, column, value, update_width=True)
                    changes += 1
        for key in new:
            self.add_row(*wanted[key], key=key)
            changes += len(column_keys)
        self._widths_changed = self._widths_changed or changes > 0
        self.changes = changes
        return changes

    def _rebuild(self, rows: Sequence[tuple[str, Sequence[Any]]], width: int) -> int:
        cursor_key = None
        if self.row_count:
            try:
                cursor_key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
            except RowDoesNotExist:
                cursor_key = None
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if cursor_key is not None and cursor_key in dict(rows):
            self.move_cursor(row=self.get_row_index(cursor_key))
        self._widths_changed = True
        self.changes = len(rows) * width
        return self.changes

    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]
