"""How the command line describes itself and tells of its misuse.

``--help``: a flag is just its name, an option shows a word for its value (``N``, ``PATH``,
``TEXT``), arguments appear in the usage line as plain upper-case names (Typer would show
each parameter's Python type, ``<bool>``, and wrap required arguments in braces).

Examples stay one to a line: Typer dedents a command's help twice, and the second time
takes an example block's indent away (making it one paragraph) when nothing else below the
first line is indented; ``Command`` fences such blocks, which Rich draws the same way.

A misused command line (an unknown option, a missing argument) is bad input like any other:
one ``error:`` line naming it and where to look, exit 2, not a boxed usage screen.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import typer.core
from typer._click import exceptions

_WORDS = {"int": "N", "float": "X"}  # a value's word when the option names none


class _Argument(typer.core.TyperArgument):
    @property
    def display_name_raw(self) -> str:
        return (self.metavar or self.name or "").upper()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the argument's name and help say what it is

    def _usage_display_name(self) -> str:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"


class _Option(typer.core.TyperOption):
    def display_type_rich(self, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        if self.metavar is not None:
            return self.metavar
        if self.type_descriptor.is_path:
            return "PATH"
        if self.type_descriptor.is_choice:  # the choices themselves: local|process|dask
            return (super().display_type_rich(ctx) or "").strip("<>")
        return _WORDS.get(self.bare_type(), "TEXT")


def _named(param: Any) -> Any:
    if type(param) is typer.core.TyperArgument:
        param.__class__ = _Argument
    elif type(param) is typer.core.TyperOption:
        param.__class__ = _Option
    return param


class _ValuesNamed:
    """Gives a command's parameters the classes above, whichever Typer made."""

    def get_params(self, ctx: Any) -> list[Any]:
        return [_named(param) for param in super().get_params(ctx)]  # type: ignore[misc]


def fenced(help_text: str) -> str:
    """`help_text` dedented, its indented blocks (the examples) fenced as code.

    >>> print(fenced("Describe it.\\n\\n    Examples:\\n\\n        gymrun a\\n        gymrun b"))
    Describe it.
    <BLANKLINE>
    Examples:
    <BLANKLINE>
    ```
    gymrun a
    gymrun b
    ```
    """
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        code = _rstripped(block)
        out.extend(["```", *(line[4:] for line in code), "```", *[""] * (len(block) - len(code))])
        block.clear()

    for line in inspect.cleandoc(help_text).splitlines():
        if line.startswith("    ") or (block and not line.strip()):
            block.append(line)
            continue
        if block:
            flush()
        out.append(line)
    if block:
        flush()
    return "\n".join(out).rstrip("\n")


def _rstripped(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


class Command(_ValuesNamed, typer.core.TyperCommand):
    """A Typer command whose help names values, not types, and keeps its examples one to a
    line."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.help:
            self.help = fenced(self.help)


class Group(_ValuesNamed, typer.core.TyperGroup):
    """The ``gymrun`` command itself, its options shown as its commands' are."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        kwargs = extra | {
            "args": args,
            "prog_name": prog_name,
            "complete_var": complete_var,
            "standalone_mode": False,  # errors come here, to be told in one line
            "windows_expand_args": windows_expand_args,
        }
        if not standalone_mode:
            return super().main(**kwargs)
        try:
            code = super().main(**kwargs)
        except exceptions.NoArgsIsHelpError:
            sys.exit(0)  # the help was the answer
        except exceptions.ClickException as exc:
            _misused(exc)
        sys.exit(code if isinstance(code, int) else 0)


def _misused(exc: exceptions.ClickException) -> NoReturn:
    from gymrun.cli.console import console

    message = exc.format_message().rstrip(".")
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see {ctx.command_path} --help)"
    console(stderr=True).print(f"error: {message}", style="red")
    sys.exit(exc.exit_code)
