"""The command line: Typer commands that parse options, call the library and render.

Only this package imports typer and rich. `main` is the ``gymrun`` command itself: it
handles the signals that stop a command before anything else is imported, so that Ctrl-C
(or SIGTERM, SIGHUP) at any moment ends the command quietly, with 128 + the signal's number.
"""

from __future__ import annotations

import importlib
import signal
import sys

TYPE_CHECKING = False  # typing itself is not imported: see `main`
if TYPE_CHECKING:
    from typing import Any

    from gymrun.cli.command import app

__all__ = ["app", "main"]


def main() -> None:
    # Everything is imported in here (lazy imports for start-up time), so that a Ctrl-C
    # from the first instant of the command is handled: before `main` runs, Python itself
    # starts (and would print a traceback).
    try:
        from gymrun.core.signals import InterruptGuard

        with InterruptGuard():
            from gymrun.cli.command import main as command

            command()
    except KeyboardInterrupt:  # while starting, reading the command line, or ending
        _quiet_from_now()
        from gymrun.core.signals import last_stop, said
        from gymrun.errors import ExitStatus

        sys.stderr.write(f"{said(last_stop())}\n")
        sys.exit(ExitStatus.of_signal(last_stop()))
    finally:
        _quiet_from_now()


def _quiet_from_now() -> None:
    """The command is ending: a Ctrl-C from now on ends it at once, as SIGTERM would,
    rather than as a traceback from Python's exit."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def __getattr__(name: str) -> Any:
    if name != "app":
        raise AttributeError(f"module 'gymrun.cli' has no attribute '{name}'")
    return importlib.import_module("gymrun.cli.command").app
