"""Drawing plots beside a run instead of after it.

A `Plotter` starts a process of its own when a recorded run or sweep starts. It imports
matplotlib (a third of a second) while the episodes are being played, and draws a plot of
nothing to memory (matplotlib's first drawing loads fonts and fills caches: two tenths of
a second more than the next), then draws each plot it is sent; `close` waits for the last.
Without a second core this costs what drawing in the run's own process would; with one,
the import and the drawing of a sweep's runs leave the critical path.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import multiprocessing
import multiprocessing.connection
import signal
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from gymrun.components.extras import writable_matplotlib_dir
from gymrun.core.orphans import die_with_parent
from gymrun.core.signals import STOPPING, deferred
from gymrun.errors import GymrunError
from gymrun.records.curve import Curve, RewardCurve
from gymrun.records.plots import plot_rewards, plot_sweep

WAIT_SECONDS = 60  # for the last plots at `close`; a stuck drawing is then abandoned
# Forking starts in milliseconds with everything imported; where it is not safe (macOS),
# a fresh interpreter.
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"


class Plotter:
    """Sends plots to a drawing process; `close` returns one note per plot that failed.

    >>> from gymrun.records.curve import RewardCurve
    >>> with Plotter() as plotter:
    ...     plotter.rewards(RewardCurve(1).curve(), Path("/nonexistent/r.png"), title="t",
    ...                     reward_boundary=None)
    >>> plotter.notes[0].startswith("no r.png: ")
    True
    """

    def __init__(self) -> None:
        self.notes: list[str] = []
        self._sent = 0
        self._closed = False
        writable_matplotlib_dir()  # here: the drawing process ends without running atexit
        context: Any = multiprocessing.get_context(START_METHOD)
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_draw_what_is_sent, args=(child,), daemon=True)
        with deferred():
            self._process.start()
            child.close()
            # The drawing process ignores the signals that stop a run, so it would outlive
            # an owner that never closes it (an error on the way out): at exit, it is told
            # to stop.
            atexit.register(self._abandon)

    def _abandon(self) -> None:
        with contextlib.suppress(OSError):
            self._connection.close()

    def rewards(
        self, curve: Curve, path: Path, *, title: str, reward_boundary: float | None
    ) -> None:
        """Draw a run's ``reward.png`` (see `plot_rewards`)."""
        self._send(("rewards", (curve, path), {"title": title, "reward_boundary": reward_boundary}))

    def sweep(self, path: Path, **options: Any) -> None:
        """Draw a sweep's ``sweep.png`` (see `plot_sweep`)."""
        self._send(("sweep", (path,), options))

    def _send(self, job: tuple[str, tuple[Any, ...], dict[str, Any]]) -> None:
        try:
            self._connection.send(job)
            self._sent += 1
        except OSError:  # the drawing process is gone: draw here
            self.notes += _draw(*job)

    def close(self) -> list[str]:
        """Wait for every plot sent; the notes of those that could not be drawn. Closing
        again only gives the notes."""
        if self._closed:
            return self.notes
        self._closed = True
        try:
            self._connection.send(None)
            for _ in range(self._sent):
                if not self._connection.poll(WAIT_SECONDS):
                    self.notes.append(f"plots: drawing took over {WAIT_SECONDS} s; gave up")
                    break
                self.notes += self._connection.recv()
        except (OSError, EOFError):
            self.notes.append("plots: the drawing process stopped before drawing them all")
        self._connection.close()
        atexit.unregister(self._abandon)
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        return self.notes

    def __enter__(self) -> Plotter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _draw_what_is_sent(connection: multiprocessing.connection.Connection) -> None:
    # Ctrl-C, SIGTERM and SIGHUP reach the whole process group (timeout, Slurm, a closing
    # terminal); they are the run's to handle: it sends what is left to draw, then stops
    # this process itself (or this process dies with it).
    for signum in STOPPING:
        signal.signal(signum, signal.SIG_IGN)
    die_with_parent()
    with contextlib.suppress(ImportError):  # each plot then says what to install
        import matplotlib.figure  # noqa: F401  (the import this process exists to make early)
    if not connection.poll(0):  # nothing to draw yet: a first drawing, to memory
        with contextlib.suppress(Exception):
            plot_rewards(RewardCurve(1).curve(), io.BytesIO(), title="", reward_boundary=0.0)  # type: ignore[arg-type]
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return  # the run's process is gone
        if job is None:
            return
        connection.send(_draw(*job))


def _draw(kind: str, args: tuple[Any, ...], options: dict[str, Any]) -> list[str]:
    path: Path = args[0] if kind == "sweep" else args[1]
    try:
        if kind == "rewards":
            plot_rewards(*args, **options)
        else:
            plot_sweep(*args, **options)
    except GymrunError as exc:
        return [f"no {path.name}: {exc}"]
    except OSError as exc:
        return [f"no {path.name}: cannot write it: {exc.strerror or exc}"]
    except Exception as exc:  # matplotlib's own: a plot is a note, never a traceback
        return [f"no {path.name}: matplotlib could not draw it: {type(exc).__name__}: {exc}"]
    return []
