"""Sinks: what a run's episodes are given to as they finish, besides its record and summary.

A sink is told when its run has started, gets each batch of episodes in index order (a
resumed run's kept episodes first), and is told how the run ended; what it returns then is
said to the user as notes. A new output of a run is a new sink.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from gymrun.core.episodes import EpisodeResult
from gymrun.core.plan import RunPlan
from gymrun.errors import GymrunError
from gymrun.records.dataset import DatasetTarget, DatasetWriter

if TYPE_CHECKING:
    from gymrun.pipeline.session import RunResult


class Sink:
    """A no-op base: override what you need."""

    # what it was to write and could not, and why (the run goes on without it)
    problem: str | None = None

    def started(self) -> None:
        """The run has started: its environment and agent are built, its record set up."""

    def add(self, episodes: Sequence[EpisodeResult]) -> None:
        """Finished episodes, in index order."""

    def finish(self, result: RunResult) -> list[str]:
        """The run ended as `result` says; notes for the user."""
        return []


class EpisodeList(Sink):
    """Keeps every episode, for a caller that wants them all back (memory grows with the
    run: a long run is better given to a sink that keeps what it needs)."""

    def __init__(self) -> None:
        self.episodes: list[EpisodeResult] = []

    def add(self, episodes: Sequence[EpisodeResult]) -> None:
        self.episodes.extend(episodes)


class Callback(Sink):
    """Calls `on_episodes(batch)` with each batch: the simplest way to watch a run.

    >>> seen = []
    >>> Callback(seen.extend).add([1, 2])  # type: ignore[list-item]
    >>> seen
    [1, 2]
    """

    def __init__(self, on_episodes: Callable[[Sequence[EpisodeResult]], object]) -> None:
        self.on_episodes = on_episodes

    def add(self, episodes: Sequence[EpisodeResult]) -> None:
        self.on_episodes(episodes)


class Dataset(Sink):
    """Writes the run of `plan` as the Minari dataset `target` (see
    `gymrun.records.dataset`): each batch as it comes, the dataset put in place when the
    run ends, however it ends, with every episode that finished. A dataset that cannot be
    written (a full disk, say) is left out whole, and the run goes on; its `problem` says
    why."""

    def __init__(self, plan: RunPlan, target: DatasetTarget) -> None:
        self.writer = DatasetWriter(plan, target)

    def add(self, episodes: Sequence[EpisodeResult]) -> None:
        if self.problem is not None:
            return
        try:
            self.writer.add(episodes)
        except Exception as exc:  # a full disk, or data Minari's storage will not take
            self._give_up(exc)

    def finish(self, result: RunResult) -> list[str]:
        if self.problem is None:
            try:
                return self.writer.close(result.status)
            except Exception as exc:
                self._give_up(exc)
        return []

    def _give_up(self, exc: Exception) -> None:
        if isinstance(exc, GymrunError):
            why = str(exc)
        elif isinstance(exc, OSError):
            why = str(exc.strerror or exc)
        else:
            why = f"{type(exc).__name__}: {exc}"
        self.problem = f"dataset {self.writer.target.dataset_id} was not written: {why}"
        self.writer.discard()
