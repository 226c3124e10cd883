"""Where the CLI writes: consoles, the one error boundary, progress bars.

rich is imported inside these functions so that ``gymrun --help`` starts quickly.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import io
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from gymrun.errors import ExitStatus, GymrunError, described
from gymrun.records import json_text

if TYPE_CHECKING:
    from rich.console import Console

PIPE_WIDTH = 400  # wide enough for every table, so none is squeezed
# --wide, for the command being run (set by `usage.TableCommand`)
WIDE: contextvars.ContextVar[bool] = contextvars.ContextVar("gymrun.wide", default=False)

# What a terminal that cannot encode them (ASCII, Latin-1) is shown for the characters
# gymrun's tables and messages use; one character for one, so tables keep their columns.
# Any other character it cannot encode (in a name, a path) is shown as "?".
STAND_INS = {
    "—": "-",
    "\u2013": "-",
    "✓": "v",
    "✗": "x",
    "★": "*",
    "±": "~",
    "…": ".",
    "≥": ">",
    "≤": "<",
    "τ": "t",
    "·": ".",
    "•": "*",
    "→": ">",
    "\u00d7": "x",
    "\u2018": "'",
    "\u2019": "'",
    "“": '"',
    "”": '"',
    "─": "-",
    "━": "-",
    "│": "|",
    "┃": "|",
}
_ERRORS = "gymrun-stand-ins"
# How Python's own streams handle what they cannot encode (stderr writes "\\u2014")
PYTHON_ERRORS = ("strict", "surrogateescape", "backslashreplace")


def _stand_ins(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start : exc.end]
    return "".join(STAND_INS.get(character, "?") for character in text), exc.end


codecs.register_error(_ERRORS, _stand_ins)


def encodable(text: str, fallback: str, stream: Any = None) -> str:
    """`text` if `stream` (stdout) can encode it, else `fallback`: for a symbol whose stand-in
    would say less (``≥`` is ``>=``, not ``>``)."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return fallback
    return text


def readable_streams() -> None:
    """Let stdout and stderr write every character: on a stream whose encoding cannot
    encode gymrun's symbols (``PYTHONIOENCODING=ascii``, a C locale, Latin-1), characters
    it cannot encode are written as their `STAND_INS` (or "?") instead of failing the
    command."""
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or stream.errors not in PYTHON_ERRORS:
            continue  # a test's capture, or errors the user chose (PYTHONIOENCODING=x:replace)
        if encodable("".join(STAND_INS), "", stream):
            continue
        with contextlib.suppress(AttributeError, OSError, ValueError):
            stream.reconfigure(errors=_ERRORS)


def console(stderr: bool = False) -> Console:
    """A console for results (stdout) or messages (stderr). On a stream that cannot encode
    every character, rich draws ASCII boxes and other characters have stand-ins."""
    from rich.console import Console

    readable_streams()

    # Messages on stderr are never wrapped: one problem, one line, whatever the width.
    # markup=False, emoji=False: names, paths and messages are shown as they are, brackets
    # and all, and ":100:" (a line number) stays ":100:", never an emoji.
    # Into a pipe or a file, tables keep their natural width (rich would assume 80
    # columns) unless COLUMNS says otherwise; under --wide, everywhere.
    stream = sys.stderr if stderr else sys.stdout
    piped = WIDE.get() or ("COLUMNS" not in os.environ and not _is_terminal(stream))
    return Console(
        stderr=stderr,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=stderr,
        width=PIPE_WIDTH if piped else None,
    )


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def exit_for(exc: BaseException, *, debug: bool) -> NoReturn:
    """The one error boundary (`Group.invoke` calls it for every command): gymrun's errors
    become red lines and their exit status, a signal its own status, anything else a fault."""
    if isinstance(exc, GymrunError):
        fail(exc, exc.exit_code, debug)
    if isinstance(exc, BrokenPipeError) and _reader_gone():
        # `gymrun show RUN | head`: what was left to print has nobody to read it. Exit as
        # Click does for its own output (1), quietly: there is nowhere to say it.
        raise typer.Exit(ExitStatus.FAILURE)
    if isinstance(exc, KeyboardInterrupt):
        stopped(getattr(exc, "signum", None))
    if not isinstance(exc, Exception):
        raise exc  # SystemExit, GeneratorExit: not errors
    message = f"unexpected {described(exc)}"
    if not debug:
        message += " (run with --debug for the traceback)"
    fail(exc, ExitStatus.FAILURE, debug, message)


def _reader_gone() -> bool:
    """Whether stdout's or stderr's reader has gone (a closed pipe polls as an error); if
    so, both are pointed at /dev/null, so that Python's last flush does not fail too."""
    import select

    gone = False
    for stream in (sys.stdout, sys.stderr):
        try:
            descriptor = stream.fileno()
        except (AttributeError, OSError, ValueError):  # a test's capture, a closed stream
            continue
        poller = select.poll()
        poller.register(descriptor, 0)  # errors are reported whatever is asked
        if any(events & select.POLLERR for _, events in poller.poll(0)):
            gone = True
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, descriptor)
            os.close(null)
    return gone


def stopped(signum: int | None = None, after: str = "") -> NoReturn:
    """Say a command was interrupted (``interrupted by SIGTERM`` for another signal than
    Ctrl-C's) and what it kept, and exit with the signal's status."""
    from gymrun.core.signals import last_stop, said

    signum = last_stop() if signum is None else signum
    console(stderr=True).print(f"{said(signum)}{after}", style="yellow")
    raise typer.Exit(ExitStatus.of_signal(signum))


def fail(exc: BaseException, code: int, debug: bool, message: str | None = None) -> NoReturn:
    """Print `exc` (or `message`) as ``error:`` lines, with its traceback under `debug`."""
    from rich.text import Text

    err = console(stderr=True)
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    for line in (message or str(exc)).splitlines():
        err.print(Text.assemble(("error:", "red"), f" {line}"))
    raise typer.Exit(code)


@contextmanager
def json_stdout(enabled: bool = True) -> Iterator[list[Any]]:
    """Under ``--json``, stdout holds one JSON document and nothing else: what is printed
    while the command runs (by an agent, an imported module, a C library) goes to stderr.
    Append the document to the list this yields; it is written, strict JSON, at the end."""
    documents: list[Any] = []
    if not enabled:
        yield documents
        return
    stdout = sys.stdout
    saved = None
    with contextlib.suppress(AttributeError, OSError, ValueError):
        if stdout.fileno() == 1:  # a real stdout: C code writes to the descriptor itself
            stdout.flush()
            saved = os.dup(1)
            os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield documents
    finally:
        if saved is not None:
            sys.stderr.flush()
            os.dup2(saved, 1)
            os.close(saved)
        for document in documents:
            stdout.write(json_text.dumps(document) + "\n")
        stdout.flush()


def progress(err: Console, *columns: Any, enabled: bool) -> Any:
    """A progress bar on `err`, shown only on a terminal: the task's name, a bar, then
    `columns`; gone when done."""
    from rich.progress import BarColumn, Progress, TextColumn

    return Progress(
        # markup off: a run's name is shown as it is, brackets and all
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        *columns,
        console=err,
        transient=True,
        disable=not (enabled and err.is_terminal),
    )
