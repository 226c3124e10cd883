"""Tables that fit the width they are given by leaving out their least needed columns,
instead of cutting numbers or headers short, and that say what they left out."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Column, Table
from rich.text import Text

# What a cell holds when it has nothing to say.
BLANK = ("", "—", "-")


class FittedTable(Table):
    """A `rich.table.Table` that fits the width it is given: first the columns added with
    ``short=`` take that shorter heading, then columns with nothing in them (every cell
    blank or ``—``) are left out, then those added with ``drop=N``, highest `N` first.
    Columns added without ``drop`` are what makes a row mean something (what ran, its
    score and what judged it): they are never left out, and no column that must not wrap
    (numbers) is cut. A table too wide even so wraps its cells, numbers too, rather than
    cut one short.

    Under a table that left columns out, one line names them and how to see them
    (``--wide``, or a wider terminal).

    >>> from rich.console import Console
    >>> table = FittedTable()
    >>> table.add_column("id"); table.add_column("a long heading", drop=1)
    >>> table.add_row("CartPole-v1", "1234567890")
    >>> Console(width=24).print(table)  # doctest: +NORMALIZE_WHITESPACE
    ┏━━━━━━━━━━━━━┓
    ┃ id          ┃
    ┡━━━━━━━━━━━━━┩
    │ CartPole-v1 │
    └─────────────┘
    not shown: a long heading (--wide or a wider terminal shows them)
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

    def fitted(self, console: Console, width: int) -> tuple[Table, list[str]]:
        """This table, or a copy shortened as far as it takes to fit (its columns' widths
        set), and the headings of the columns left out."""
        if _natural(console, self, width) <= width:
            return self, []
        columns = [
            dataclasses.replace(column, header=self._short[i]) if i in self._short else column
            for i, column in enumerate(self.columns)
        ]
        kept = list(range(len(columns)))
        empty = [i for i in reversed(kept) if _is_blank(self.columns[i])]
        ranked = sorted(self._drop, key=lambda i: (-self._drop[i], -i))
        droppable = empty + [i for i in ranked if i not in empty]
        table = copy.copy(self)
        table.columns = columns
        left_out = []
        while droppable and _minimum(console, table, width) > width:
            position = droppable.pop(0)
            kept.remove(position)
            left_out.append(str(self.columns[position].header))
            table.columns = [columns[i] for i in kept]
        table.columns = _set_widths(console, table, width)
        return table, left_out

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table, left_out = self.fitted(console, options.max_width)
        yield from Table.__rich_console__(table, console, options)
        if left_out:
            yield Text(
                f"not shown: {', '.join(left_out)} (--wide or a wider terminal shows them)",
                style="dim",
            )

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        table, _ = self.fitted(console, options.max_width)
        return Table.__rich_measure__(table, console, options)


def _set_widths(console: Console, table: Table, width: int) -> list[Column]:
    """`table`'s columns with widths that fit `width`: the widest narrowed first, a column
    that must not wrap kept whole and any other no narrower than its longest word. Only a
    table that cannot fit so (a terminal too narrow for what a row needs) has its columns
    wrapped, numbers too, and then words folded: never cut."""
    options = console.options.update_width(width)
    measured = [table._measure_column(console, options, column) for column in table.columns]
    room = width - table._extra_width
    widths = [m.maximum for m in measured]
    columns = table.columns
    for lows in (
        [m.maximum if c.no_wrap else m.minimum for m, c in zip(measured, columns, strict=True)],
        [m.minimum for m in measured],
        [1 + table._get_padding_width(c._index) for c in columns],
    ):
        _narrow(widths, lows, sum(widths) - room)
        if sum(widths) <= room:
            break
        columns = [dataclasses.replace(c, no_wrap=False) for c in columns]
    return [
        dataclasses.replace(column, width=w - table._get_padding_width(column._index))
        for column, w in zip(columns, widths, strict=True)
    ]


def _narrow(widths: list[int], lows: list[int], excess: int) -> None:
    """Take `excess` off `widths`, a column at a time from the widest, none below its low."""
    while excess > 0:
        shrinkable = [i for i, w in enumerate(widths) if w > lows[i]]
        if not shrinkable:
            return
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1


def _is_blank(column: Column) -> bool:
    cells = list(column.cells)
    return bool(cells) and all(
        isinstance(cell, str | Text) and str(cell).strip() in BLANK for cell in cells
    )


def _natural(console: Console, table: Table, width: int) -> int:
    """The table's width with nothing wrapped."""
    options = console.options.update_width(width)
    return sum(table._measure_column(console, options, c).maximum for c in table.columns) + (
        table._extra_width
    )


def _minimum(console: Console, table: Table, width: int) -> int:
    """The narrowest the table can be with no cell cut: rich counts a column that must not
    wrap as narrow as its longest word, so such a column counts whole here."""
    options = console.options.update_width(width)
    widths = []
    for column in table.columns:
        measured = table._measure_column(console, options, column)
        widths.append(measured.maximum if column.no_wrap else measured.minimum)
    return sum(widths) + table._extra_width
