"""Stopping a run cleanly on Ctrl-C, ``kill``/``timeout``/a batch scheduler (SIGTERM) and a
closed terminal (SIGHUP), and keeping any of them from landing between two writes that
must agree."""

from __future__ import annotations

import signal
import threading
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


class InterruptGuard:
    """While active, a stopping signal raises `Stopped` (a `KeyboardInterrupt`), except
    between `hold()` and `release()`, where it waits for `release()`.

    Episodes go to the record on disk and into the summary as one step: an interrupt between
    the two would leave a summary that disagrees with the record. The handlers are installed
    once per run, so holding costs two attribute writes. A signal the user's process ignores
    (``nohup`` ignores SIGHUP) or has its own handler for is left alone; outside the main
    thread (where handlers cannot be set) the guard does nothing.

    >>> with InterruptGuard() as guard:
    ...     guard.hold()
    ...     guard.release()
    """

    def __init__(self) -> None:
        self._holding = False
        self._pending: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in STOPPING:
                default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
                if signal.getsignal(signum) is default:
                    self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        _received.append(signum)
        if self._holding:
            self._pending = signum
        else:
            raise Stopped(signum)

    def hold(self) -> None:
        self._holding = True

    def release(self, *, deliver: bool = True) -> None:
        """Let signals through again; one that came while held is raised now (or, when not
        `deliver`, dropped: it came after the work it would have stopped was done)."""
        self._holding = False
        if self._pending is not None:
            signum, self._pending = self._pending, None
            if deliver:
                raise Stopped(signum)
