"""A Griffe extension for the Python API page: the docstrings' examples (``>>>`` lines, which
pytest runs as doctests) are shown as Python console code.

In Markdown a line starting with ``>`` is a quote, and a doctest's output such as
``(500.0, True)`` is plain text; this fences each run of example lines (from a ``>>>`` line to
the next blank line) as a ``pycon`` code block.
"""

from __future__ import annotations

from typing import Any

import griffe


def fence(text: str) -> str:
    """`text` with its doctest examples fenced as ``pycon`` code.

    >>> fence("Adds.\\n>>> 1 + 1\\n2\\n\\nThat was all.").splitlines()
    ['Adds.', '```pycon', '>>> 1 + 1', '2', '```', '', 'That was all.']
    """
    out: list[str] = []
    indent: str | None = None  # the example's indent while inside one
    for line in text.splitlines():
        stripped = line.lstrip()
        if indent is None and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
        elif indent is not None and not stripped:
            out.append(f"{indent}```")
            indent = None
        out.append(line)
    if indent is not None:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fences the examples of every docstring Griffe reads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence(obj.docstring.value)
