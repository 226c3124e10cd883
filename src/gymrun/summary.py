"""Summaries of a run's episodes, built as episodes stream in (memory stays constant)."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from gymrun.rollout import EpisodeResult

SOLVE_WINDOW = 100  # "solved" is judged on the best mean over this many consecutive episodes


@dataclass(frozen=True)
class Summary:
    """The numbers a run is judged by."""

    count: int
    mean_reward: float | None
    std_reward: float | None
    min_reward: float | None
    max_reward: float | None
    mean_steps: float | None
    reward_boundary: float | None
    reached: int | None  # episodes whose reward reached the boundary
    terminated: int
    truncated: int
    window: int  # episodes in the window "solved" was judged on (< 100 for a short run)
    best_window_mean: float | None
    solved: bool | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class SummaryBuilder:
    """Accumulates episodes into a `Summary` in constant memory.

    >>> builder = SummaryBuilder(reward_boundary=15.0)
    >>> for i, reward in enumerate([10.0, 20.0, 30.0]):
    ...     builder.add(EpisodeResult(i, 0, reward, 5, True, False, reward >= 15, 0.0))
    >>> s = builder.summary()
    >>> s.mean_reward, s.reached, s.window, s.solved
    (20.0, 2, 3, True)
    """

    def __init__(self, reward_boundary: float | None, window: int = SOLVE_WINDOW) -> None:
        self.reward_boundary = reward_boundary
        self._recent: deque[float] = deque(maxlen=window)
        self._count = 0
        self._total = 0.0
        self._mean = 0.0  # Welford's running mean and sum of squared deviations, for the std
        self._m2 = 0.0
        self._min = math.inf
        self._max = -math.inf
        self._steps = 0
        self._reached = 0
        self._terminated = 0
        self._truncated = 0
        self._best_window_mean: float | None = None

    def add(self, episode: EpisodeResult) -> None:
        reward = episode.reward
        self._count += 1
        self._total += reward
        delta = reward - self._mean
        self._mean += delta / self._count
        self._m2 += delta * (reward - self._mean)
        self._min = min(self._min, reward)
        self._max = max(self._max, reward)
        self._steps += episode.steps
        self._reached += bool(episode.reached)
        self._terminated += episode.terminated
        self._truncated += episode.truncated
        self._recent.append(reward)
        if len(self._recent) == self._recent.maxlen:
            window_mean = math.fsum(self._recent) / len(self._recent)
            if self._best_window_mean is None or window_mean > self._best_window_mean:
                self._best_window_mean = window_mean

    def summary(self) -> Summary:
        count = self._count
        boundary = self.reward_boundary
        best = self._best_window_mean
        if best is None and count:  # fewer episodes than one window: judge on all of them
            best = self._total / count
        window = min(count, self._recent.maxlen or 0)
        return Summary(
            count=count,
            mean_reward=self._total / count if count else None,
            std_reward=math.sqrt(self._m2 / count) if count else None,
            min_reward=self._min if count else None,
            max_reward=self._max if count else None,
            mean_steps=self._steps / count if count else None,
            reward_boundary=boundary,
            reached=None if boundary is None else self._reached,
            terminated=self._terminated,
            truncated=self._truncated,
            window=window,
            best_window_mean=best,
            solved=None if boundary is None or best is None else best >= boundary,
        )
