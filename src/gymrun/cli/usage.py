"""How the command line describes itself and tells of its misuse.

``--help``: a flag is just its name, an option shows a word for its value (``N``, ``PATH``,
``TEXT``), arguments appear in the usage line as plain upper-case names (Typer would show
each parameter's Python type, ``<bool>``, and wrap required arguments in braces).

A misused command line (an unknown option, a missing argument) is bad input like any other:
one ``error:`` line naming it and where to look, exit 2, not a boxed usage screen.
"""

from __future__ import annotations

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


class Command(_ValuesNamed, typer.core.TyperCommand):
    """A Typer command whose help names values, not types."""


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
