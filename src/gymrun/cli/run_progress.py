"""The progress bar of a run: episodes done, the mean reward so far, episodes per second."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from gymrun.cli.console import progress
from gymrun.core.episodes import EpisodeBatch
from gymrun.numbers import figure

if TYPE_CHECKING:
    from rich.console import Console

    from gymrun.config import ExperimentConfig
    from gymrun.core.episodes import EpisodeResult

REFRESH = 0.1  # seconds between updates: an episode can take microseconds


class RunProgress:
    """A bar on a terminal (nothing elsewhere) that takes finished episodes as they come."""

    def __init__(self, err: Console, config: ExperimentConfig, *, enabled: bool) -> None:
        from rich.progress import MofNCompleteColumn, TimeRemainingColumn

        self._bar = progress(
            err,
            MofNCompleteColumn(),
            "mean reward {task.fields[mean]}",
            "{task.fields[rate]}",
            TimeRemainingColumn(),
            enabled=enabled,
        )
        self.shown = enabled and err.is_terminal
        self._name, self._total = config.name or "run", config.episodes
        self._count = self._finite = 0
        self._sum = 0.0
        self._started = self._updated = time.perf_counter()

    def __enter__(self) -> RunProgress:
        self._bar.__enter__()
        self._task = self._bar.add_task(self._name, total=self._total, mean="—", rate="")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> Any:
        return self._bar.__exit__(kind, error, trace)

    def add_all(self, episodes: Sequence[EpisodeResult]) -> None:
        if not self.shown:
            return
        self._count += len(episodes)
        if isinstance(episodes, EpisodeBatch):  # columns: one sum, not one per episode
            finite = episodes.reward[np.isfinite(episodes.reward)]
            self._sum += float(finite.sum())
            self._finite += len(finite)
        else:
            for episode in episodes:
                if math.isfinite(episode.reward):
                    self._sum += episode.reward
                    self._finite += 1
        now = time.perf_counter()
        if now - self._updated >= REFRESH or self._count >= self._total:
            self._updated = now
            mean = figure(self._sum / self._finite) if self._finite else "—"
            rate = self._count / max(now - self._started, 1e-9)
            self._bar.update(
                self._task, completed=self._count, mean=mean, rate=f"{rate:,.0f} episodes/s"
            )
