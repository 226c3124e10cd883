"""Tables that fit the width they are given by leaving out their least valuable columns,
instead of cutting numbers or headers short."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Table


class FittedTable(Table):
    """A `rich.table.Table` that fits the width it is given: first the columns added with
    ``short=`` take that shorter heading, then those added with ``drop=N`` are left out,
    highest `N` first. Columns that must not wrap (numbers) are never cut: a table too
    wide even so is shown as wide as it needs.

    >>> from rich.console import Console
    >>> table = FittedTable()
    >>> table.add_column("id"); table.add_column("a long heading", drop=1)
    >>> table.add_row("CartPole-v1", "1234567890")
    >>> Console(width=20).print(table)
    ┏━━━━━━━━━━━━━┓
    ┃ id          ┃
    ┡━━━━━━━━━━━━━┩
    │ CartPole-v1 │
    └─────────────┘
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._drop: dict[int, int] = {}  # column position -> rank (left out first: highest)
        self._short: dict[int, str] = {}  # column position -> shorter heading

    def add_column(
        self, *args: Any, drop: int | None = None, short: str | None = None, **kwargs: Any
    ) -> None:
        # a word longer than its column folds onto the next line rather than losing its end
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)
        if drop is not None:
            self._drop[len(self.columns) - 1] = drop
        if short is not None:
            self._short[len(self.columns) - 1] = short

    def fitted(self, console: Console, width: int) -> Table:
        """This table, or a copy shortened as far as it takes to fit."""
        if _minimum(console, self, width) <= width:
            return self
        columns = [
            dataclasses.replace(column, header=self._short[i]) if i in self._short else column
            for i, column in enumerate(self.columns)
        ]
        kept = list(range(len(columns)))
        droppable = sorted(self._drop, key=lambda i: (-self._drop[i], -i))
        table = copy.copy(self)
        table.columns = columns
        while droppable and _minimum(console, table, width) > width:
            kept.remove(droppable.pop(0))
            table.columns = [columns[i] for i in kept]
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.fitted(console, options.max_width)
        yield from Table.__rich_console__(table, console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Table.__rich_measure__(self.fitted(console, options.max_width), console, options)


def _minimum(console: Console, table: Table, width: int) -> int:
    """The narrowest the table can be with no cell cut: rich counts a column that must not
    wrap as narrow as its longest word, so such a column counts whole here."""
    options = console.options.update_width(width)
    widths = []
    for column in table.columns:
        measured = table._measure_column(console, options, column)
        widths.append(measured.maximum if column.no_wrap else measured.minimum)
    return sum(widths) + table._extra_width
