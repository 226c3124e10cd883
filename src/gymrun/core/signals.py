"""Keeping Ctrl-C from landing between two writes that must agree."""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any


class InterruptGuard:
    """While active, Ctrl-C raises `KeyboardInterrupt` as usual, except between `hold()` and
    `release()`, where it waits for `release()`.

    Episodes go to the record on disk and into the summary as one step: an interrupt between
    the two would leave a summary that disagrees with the record. The handler is installed
    once per run, so holding costs two attribute writes. Outside the main thread (where
    handlers cannot be set) it does nothing.

    >>> with InterruptGuard() as guard:
    ...     guard.hold()
    ...     guard.release()
    """

    def __init__(self) -> None:
        self._holding = False
        self._pending = False
        self._previous: Any = None
        self._active = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            handler = signal.getsignal(signal.SIGINT)
            if handler is signal.default_int_handler:  # leave a user's own handler alone
                self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
                self._active = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._active:
            signal.signal(signal.SIGINT, self._previous)
            self._active = False

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self._pending = True
        else:
            raise KeyboardInterrupt

    def hold(self) -> None:
        self._holding = True

    def release(self, *, deliver: bool = True) -> None:
        """Let Ctrl-C through again; one that came while held is raised now (or, when not
        `deliver`, dropped: it came after the work it would have stopped was done)."""
        self._holding = False
        if self._pending:
            self._pending = False
            if deliver:
                raise KeyboardInterrupt
