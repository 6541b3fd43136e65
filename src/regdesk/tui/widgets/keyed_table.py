"""A DataTable that is refreshed in place, row by row, by key (the memray pattern).

`sync(rows)` takes the wanted rows as (key, cells) and touches only what changed: new keys are
added, vanished keys removed, changed cells updated. The table is never cleared and refilled,
so a live dashboard does not flicker and the cursor stays on its row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist, RowKey


class KeyedTable(DataTable):
    def __init__(self, columns: Sequence[tuple[str, str]], *, sort_columns: Sequence[str] = (),
                 sort_key: Callable[[Any], Any] | None = None, **kwargs: Any) -> None:
        """`columns`: (key, label) pairs. Rows are kept sorted by `sort_columns` / `sort_key`."""
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._column_spec = tuple(columns)
        self._sort_columns = tuple(sort_columns)
        self._sort_key = sort_key
        self.changes = 0  # cells added, updated or removed by the last sync (tests and debugging)

    def on_mount(self) -> None:
        super().on_mount()
        self._ensure_columns()

    def _ensure_columns(self) -> None:
        if not self.columns:
            for key, label in self._column_spec:
                self.add_column(label, key=key)

    def sync(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> int:
        """Make the table show exactly `rows`; returns how many cells changed."""
        self._ensure_columns()
        column_keys = [key for key, _ in self._column_spec]
        wanted = {key: cells for key, cells in rows}
        changes = 0
        for row_key in [k for k in self.rows if k.value not in wanted]:
            self.remove_row(row_key)
            changes += len(column_keys)
        added = False
        for key, cells in rows:
            if RowKey(key) in self.rows:
                for column, value in zip(column_keys, cells):
                    try:
                        current = self.get_cell(key, column)
                    except CellDoesNotExist:
                        current = None
                    if current != value:
                        self.update_cell(key, column, value, update_width=True)
                        changes += 1
            else:
                self.add_row(*cells, key=key)
                changes += len(column_keys)
                added = True
        if (added or changes) and (self._sort_columns or self._sort_key):
            self.sort(*self._sort_columns, key=self._sort_key)
        self.changes = changes
        return changes

    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [str(row.key.value) for row in self.ordered_rows]
