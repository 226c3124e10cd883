"""Stopping a run cleanly on Ctrl-C, ``kill``/``timeout``/a batch scheduler (SIGTERM) and a
closed terminal (SIGHUP), and keeping any of them from landing between two writes that
must agree."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

# The signals that stop a run as Ctrl-C does: finished episodes kept, status "interrupted".
STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A run stopped by signal `signum`: a `KeyboardInterrupt`, so that everything that
    handles Ctrl-C handles SIGTERM and SIGHUP the same way."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[int] = []  # the stopping signals this process was sent, in order


def last_stop() -> int:
    """The signal that last stopped a run in this process, to exit with ``128 + N``:
    SIGINT when none came through a guard (Python's own Ctrl-C).

    Signals belong to the process, not to one run: a command that ran several runs
    (a sweep, the baselines) exits with the one that stopped it.
    """
    return _received[-1] if _received else signal.SIGINT


def said(signum: int) -> str:
    """How a command stopped by `signum` says so.

    >>> said(signal.SIGINT), said(signal.SIGTERM)
    ('interrupted', 'interrupted by SIGTERM')
    """
    return (
        "interrupted"
        if signum == signal.SIGINT
        else f"interrupted by {signal.Signals(signum).name}"
    )


class InterruptGuard:
    """While active, a stopping signal raises `Stopped` (a `KeyboardInterrupt`), except
    between `hold()` and `release()`, where it waits for `release()`.

    Episodes go to the record on disk and into the summary as one step: an interrupt between
    the two would leave a summary that disagrees with the record. The handlers are installed
    once per run, so holding costs two attribute writes. A signal the user's process ignores
    (``nohup`` ignores SIGHUP) or has its own handler for is left alone; outside the main
    thread (where handlers cannot be set) the guard does nothing. A guard entered within
    another (a run within the ``gymrun`` command's) takes its place until it exits.

    A stop is also kept until the next `release()`: the exception a signal raises lands in
    whatever code is running, and code that swallows exceptions (a ``__del__``, a weakref
    callback, the hooks ``os.fork`` runs in the parent) would otherwise lose it. Those it
    reaches as "unraisable" are dropped quietly rather than printed as "Exception ignored".

    >>> with InterruptGuard() as guard:
    ...     guard.hold()
    ...     guard.release()
    """

    def __init__(self) -> None:
        self._holding = False
        self._pending: int | None = None  # a stop asked for and not yet raised by `release`
        self._previous: dict[int, Any] = {}
        self._previous_hook: Any = None
        self._outer: InterruptGuard | None = None

    def __enter__(self) -> InterruptGuard:
        global _active
        if threading.current_thread() is threading.main_thread():
            outer = None if _active is None else _active._on_signal
            for signum in STOPPING:
                default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
                current = signal.getsignal(signum)
                if current is default or (outer is not None and current == outer):
                    self._previous[signum] = signal.signal(signum, self._on_signal)
        if self._previous:
            self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
            self._outer, _active = _active, self
            if self._outer is not None:  # a stop the command's guard kept is this run's
                self._pending, self._outer._pending = self._outer._pending, None
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _active
        if self._previous:
            sys.unraisablehook, _active = self._previous_hook, self._outer
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        _received.append(signum)
        self._pending = signum
        if not self._holding:
            raise Stopped(signum)

    def _unraisable(self, unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, Stopped):
            self._previous_hook(unraisable)
        # else: swallowed where it landed; still pending, it is raised by the next `release`

    def hold(self) -> None:
        self._holding = True

    def release(self, *, deliver: bool = True) -> None:
        """Let signals through again; a stop asked for since the last release (held, or
        raised where it was swallowed) is raised now (or, when not `deliver`, dropped: it
        came after the work it would have stopped was done)."""
        self._holding = False
        if self._pending is not None:
            signum, self._pending = self._pending, None
            if deliver:
                raise Stopped(signum)


_active: InterruptGuard | None = None  # the guard whose handlers are installed


@contextmanager
def deferred() -> Iterator[None]:
    """A stopping signal that comes during the block is raised at its end (by the guard
    whose handlers are installed; with none, nothing changes): for making something that
    must not be left half-made, and for starting a process by fork, whose child runs this
    process's handlers until it sets its own (a stop raised there would print the child's
    traceback) and whose parent runs fork's hooks, which swallow exceptions. Within a hold,
    the stop waits for that hold's release.

    >>> with deferred():
    ...     pass
    """
    guard = _active
    if guard is None or guard._holding:
        yield
        return
    guard.hold()
    try:
        yield
    finally:
        guard.release()
