"""How the command line describes itself and tells of its misuse.

``--help``: a flag is just its name, an option shows a word for its value (``N``, ``PATH``,
``TEXT``), arguments appear in the usage line as plain upper-case names (Typer would show
each parameter's Python type, ``<bool>``, and wrap required arguments in braces).

Examples stay one to a line: Typer dedents a command's help twice, and the second time
takes an example block's indent away (making it one paragraph) when nothing else below the
first line is indented; ``Command`` writes such blocks as lines of code, each ending in a
hard line break (Rich pads a code block with a blank line above and below it, which made
two after ``Examples:``).

A misused command line (an unknown option, a missing argument) is bad input like any other:
one ``error:`` line naming it and where to look, exit 2, not a boxed usage screen.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core
import typer.main

_WORDS = {"int": "N", "float": "X"}  # a value's word when the option names none


def _name_values(params: list[Any]) -> list[Any]:
    """`params`, each option without one given a metavar naming its value (none for a flag),
    each argument its upper-case name, which says what it takes (Typer's type beside it,
    ``<Path>`` or ``<list[Path]>``, is the program's, not the user's)."""
    for param in params:
        if isinstance(param, typer.core.TyperArgument):
            param.metavar = (param.metavar or param.name or "").upper()
            param.display_type_rich = _no_type  # type: ignore[method-assign]
        elif isinstance(param, typer.core.TyperOption) and param.metavar is None:
            param.metavar = _word(param)
    return params


def _no_type(ctx: Any) -> None:
    return None


def _word(option: Any) -> str:
    if option.is_flag:
        return ""
    descriptor = option.type_descriptor
    if descriptor.is_path or descriptor.annotation is Path:  # a path parsed by `given_path`
        return "PATH"
    if descriptor.is_choice:  # the choices themselves: local|process|dask
        return "|".join(option.type.choices)
    return _WORDS.get(option.bare_type(), "TEXT")


def _usage_pieces(command: Any, ctx: Any) -> list[str]:
    """The usage line: ``[OPTIONS]``, then each argument as its plain name (Typer would wrap
    a required one in braces)."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if isinstance(param, typer.core.TyperArgument):
            name = (param.metavar or "") + ("..." if param.nargs != 1 else "")
            pieces.append(name if param.required else f"[{name}]")
    return pieces


def examples_kept(help_text: str) -> str:
    """`help_text` dedented, each line of its indented blocks (the examples) kept a line
    of code of its own.

    >>> text = "Describe it.\\n\\nExamples:\\n\\n    gymrun a\\n    gymrun 'b*'"
    >>> print(examples_kept(text))
    Describe it.
    <BLANKLINE>
    Examples:
    <BLANKLINE>
    `gymrun a`\\
    `gymrun 'b*'`
    """
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        code = _rstripped(block)
        lines = [_code(line[4:]) if line.strip() else "" for line in code]
        for number, line in enumerate(lines[:-1]):
            if line and lines[number + 1]:
                lines[number] += "\\"  # a hard line break: the next line stays a line
        out.extend([*lines, *[""] * (len(block) - len(code))])
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


def _code(line: str) -> str:
    """`line` as Markdown's inline code, whose text Markdown leaves as it is (``*`` and
    ``_`` too); one holding a backtick is opened and closed by two."""
    return f"`` {line} ``" if "`" in line else f"`{line}`"


def _rstripped(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


class Command(typer.core.TyperCommand):
    """A Typer command whose help names values, not types, keeps its examples one to a
    line, and takes ``--debug``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(_debug_option())
        if self.help:
            self.help = examples_kept(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        return _name_values(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _usage_pieces(self, ctx)


class TableCommand(Command):
    """A command that prints tables: it takes ``--wide`` too, which holds while it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.insert(len(self.params) - 1, _wide_option())

    def invoke(self, ctx: Any) -> Any:
        from gymrun.cli.console import WIDE

        wide = bool(ctx.meta.get(_WIDE))
        if wide:
            _refuse_wide_without_tables(ctx.params)
        token = WIDE.set(wide)
        try:
            return super().invoke(ctx)
        finally:
            WIDE.reset(token)


def _refuse_wide_without_tables(params: dict[str, Any]) -> None:
    """``--wide`` widens tables: with an option that prints none (``--json``, ``--markdown``)
    it would be ignored without a word, so it is refused."""
    from gymrun.errors import UsageError

    for name, reason in (
        ("as_json", "--json prints no table to widen"),
        ("markdown", "--markdown prints its table whole, as Markdown"),
    ):
        if params.get(name):
            raise UsageError(f"{reason}: drop --wide")


def _remember_debug(ctx: typer.Context, value: bool) -> None:
    ctx.meta[DEBUG] = ctx.meta.get(DEBUG, False) or value


def _remember_wide(ctx: typer.Context, value: bool) -> None:
    ctx.meta[_WIDE] = ctx.meta.get(_WIDE, False) or value


@functools.cache
def _debug_option() -> Any:
    """``--debug`` (or ``GYMRUN_DEBUG=1``): the error boundary shows tracebacks. The flag
    goes into the context's `meta`, which every context of the command line shares; the
    option is made by Typer, from a command that has nothing else."""

    template = typer.Typer()

    @template.command()
    def command(
        debug: Annotated[
            bool,
            typer.Option(
                "--debug",
                envvar="GYMRUN_DEBUG",
                expose_value=False,
                callback=_remember_debug,
                help="Show Python tracebacks on errors.",
            ),
        ] = False,
    ) -> None:
        """Nothing: the template of the option."""

    return typer.main.get_command(template).params[0]


DEBUG = "gymrun.debug"
_WIDE = "gymrun.wide"


@functools.cache
def _wide_option() -> Any:
    """``--wide``: tables keep every column, as wide as they are, whatever the terminal's
    width (as they do in a pipe). Kept in the context's `meta`, as ``--debug`` is."""

    template = typer.Typer()

    @template.command()
    def command(
        wide: Annotated[
            bool,
            typer.Option(
                "--wide",
                expose_value=False,
                callback=_remember_wide,
                help="Print every column of every table, however narrow the terminal.",
            ),
        ] = False,
    ) -> None:
        """Nothing: the template of the option."""

    return typer.main.get_command(template).params[0]


def debugging(ctx: Any) -> bool:
    """Whether ``--debug`` (or ``GYMRUN_DEBUG``) was given to this command line."""
    return bool(ctx.meta.get(DEBUG))


class _Stopped(Exception):
    """A stop (`interrupt`) carried past Typer."""

    def __init__(self, interrupt: KeyboardInterrupt) -> None:
        super().__init__()
        self.interrupt = interrupt


class _Context(typer.Context):
    def __exit__(self, *exc_info: Any) -> None:
        with _carried():
            super().__exit__(*exc_info)


@contextlib.contextmanager
def _carried() -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt as exc:
        raise _Stopped(exc) from exc


class Group(typer.core.TyperGroup):
    """The ``gymrun`` command itself: no arguments shows its help; the one error boundary
    of every command (gymrun's errors, a misused command line, signals, faults) is here."""

    context_class = _Context

    def get_params(self, ctx: Any) -> list[Any]:
        return _name_values(super().get_params(ctx))

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            args = ["--help"]  # the help is the answer
        return super().parse_args(ctx, args)

    # Typer turns a stop it catches into a silent exit 130, whatever the signal: a stop
    # while the command line is read, the error boundary imported or the context closed
    # is carried past it (`_Stopped`), to be said by `gymrun.cli.main` with its status.

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _carried():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _carried():
            return self._invoke(ctx)

    def _invoke(self, ctx: Any) -> Any:
        from gymrun.cli.console import exit_for
        from gymrun.config.wording import options_named

        try:
            with options_named():  # a config's messages name the options that gave it
                return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except BaseException as exc:
            exit_for(exc, debug=debugging(ctx))

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
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except _Stopped as exc:
            raise exc.interrupt from None  # said by `gymrun.cli.main`, with its signal
        except typer.TyperException as exc:
            _misused(exc)
        sys.exit(code if isinstance(code, int) else 0)


def _misused(exc: Any) -> NoReturn:
    from gymrun.cli.console import console

    message = exc.format_message().rstrip(".")
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" ({_as_setting(exc, ctx)}see {ctx.command_path} --help)"
    console(stderr=True).print(f"error: {message}", style="red")
    sys.exit(exc.exit_code)


def _as_setting(exc: Any, ctx: Any) -> str:
    """For one of ``gymrun run``'s shortcuts (-n, --seed, ...) given to a command that has
    none but takes ``--set``: the config key it stands for, there."""
    from gymrun.config.loading import SHORTCUT_KEYS

    name = getattr(exc, "option_name", None)
    run = getattr(ctx.find_root().command, "commands", {}).get("run")
    if name is None or run is None or not any(p.name == "overrides" for p in ctx.command.params):
        return ""
    shortcut = next((p.name for p in run.params if name in p.opts), None)
    key = SHORTCUT_KEYS.get(shortcut or "")
    return "" if key is None else f"here {key} is a config key: --set {key}=VALUE; "
