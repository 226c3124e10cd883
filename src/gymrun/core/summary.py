"""Summaries of a run's episodes, built as episodes stream in (memory stays constant)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gymrun.core.episodes import EpisodeBatch, EpisodeResult

SOLVE_WINDOW = 100  # "solved" is judged on the best mean over this many consecutive episodes


@dataclass(frozen=True)
class Summary:
    """The numbers a run is judged by."""

    count: int
    nonfinite_rewards: int  # episodes whose reward was NaN or infinite: left out of the numbers
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
    """Accumulates episodes (in index order) into a `Summary`, in constant memory.

    Episodes are folded in with numpy, a block of `BLOCK` consecutive episodes at a time, so
    the numbers do not depend on how the episodes arrived: one by one, in vector batches or
    in chunks from worker processes.

    >>> builder = SummaryBuilder(reward_boundary=15.0)
    >>> for i, reward in enumerate([10.0, 20.0, 30.0]):
    ...     builder.add(EpisodeResult(i, 0, reward, 5, True, False, reward >= 15, 0.0))
    >>> s = builder.summary()
    >>> s.mean_reward, s.reached, s.window, s.solved
    (20.0, 2, 3, True)
    """

    BLOCK = 8192

    def __init__(self, reward_boundary: float | None, window: int = SOLVE_WINDOW) -> None:
        self.reward_boundary = reward_boundary
        self.window = window
        self._pending: list[EpisodeResult] = []
        self._batches: list[EpisodeBatch] = []
        self._pending_count = 0
        self._episodes = 0
        self._nonfinite = 0
        self._count = 0  # episodes with a finite reward
        self._total = 0.0
        self._mean = 0.0  # running mean and sum of squared deviations (Chan et al.), for std
        self._m2 = 0.0
        self._min = math.inf
        self._max = -math.inf
        self._steps = 0
        self._reached = 0
        self._terminated = 0
        self._truncated = 0
        self._recent = np.zeros(0)  # the last window - 1 rewards
        self._best_window_mean: float | None = None

    def add(self, episode: EpisodeResult) -> None:
        self._pending.append(episode)
        self._pending_count += 1
        if self._pending_count >= self.BLOCK:
            self._fold_block()

    def add_all(self, episodes: Sequence[EpisodeResult]) -> None:
        """Add consecutive episodes; an `EpisodeBatch` is taken as it is, without unpacking."""
        if not isinstance(episodes, EpisodeBatch):
            for episode in episodes:
                self.add(episode)
            return
        while len(episodes):
            room = self.BLOCK - self._pending_count
            self._park(episodes.slice(0, room))
            episodes = episodes.slice(room, None)
            if self._pending_count >= self.BLOCK:
                self._fold_block()

    def _park(self, part: EpisodeBatch) -> None:
        if self._pending:
            self._batches.append(EpisodeBatch.of(self._pending, self.reward_boundary))
            self._pending = []
        self._batches.append(part)
        self._pending_count += len(part)

    def _block_columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        parts = [*self._batches]
        if self._pending:
            parts.append(EpisodeBatch.of(self._pending, self.reward_boundary))
        if not parts:
            empty = np.zeros(0)
            return empty, empty.astype(np.int64), *(empty.astype(bool),) * 3
        reward = np.concatenate([p.reward for p in parts])
        reached = (
            np.zeros(len(reward), dtype=bool)
            if self.reward_boundary is None
            else reward >= self.reward_boundary
        )
        return (
            reward,
            np.concatenate([p.steps for p in parts]),
            np.concatenate([p.terminated for p in parts]),
            np.concatenate([p.truncated for p in parts]),
            reached,
        )

    def _fold_block(self) -> None:
        self._fold(*self._block_columns())
        self._pending, self._batches, self._pending_count = [], [], 0

    def _fold(
        self,
        reward: np.ndarray,
        steps: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        reached: np.ndarray,
    ) -> None:
        if not len(reward):
            return
        self._episodes += len(reward)
        self._steps += int(steps.sum())
        self._reached += int(np.count_nonzero(reached))
        self._terminated += int(np.count_nonzero(terminated))
        self._truncated += int(np.count_nonzero(truncated))
        finite = np.isfinite(reward)
        if not finite.all():
            self._nonfinite += int((~finite).sum())
            reward = reward[finite]
        count = len(reward)
        if not count:
            return
        block_mean = float(reward.mean())
        block_m2 = float(((reward - block_mean) ** 2).sum())
        total = self._count + count
        delta = block_mean - self._mean
        self._m2 += block_m2 + delta * delta * self._count * count / total
        self._mean += delta * count / total
        self._count = total
        self._total += float(reward.sum())
        self._min = min(self._min, float(reward.min()))
        self._max = max(self._max, float(reward.max()))
        window = self.window
        recent = np.concatenate([self._recent, reward])
        if len(recent) >= window:
            sums = np.cumsum(np.concatenate([[0.0], recent]))
            best = float((sums[window:] - sums[:-window]).max()) / window
            if self._best_window_mean is None or best > self._best_window_mean:
                self._best_window_mean = best
        self._recent = recent[-(window - 1) :] if window > 1 else recent[:0]

    def summary(self) -> Summary:
        """The summary of every episode added so far (a partial block included)."""
        state = self._copy_state()
        self._fold(*self._block_columns())
        count = self._count
        boundary = self.reward_boundary
        best = self._best_window_mean
        if best is None and count:  # fewer episodes than one window: judge on all of them
            best = self._total / count
        result = Summary(
            count=self._episodes,
            nonfinite_rewards=self._nonfinite,
            mean_reward=self._total / count if count else None,
            std_reward=math.sqrt(max(self._m2, 0.0) / count) if count else None,
            min_reward=self._min if count else None,
            max_reward=self._max if count else None,
            mean_steps=self._steps / self._episodes if self._episodes else None,
            reward_boundary=boundary,
            reached=None if boundary is None else self._reached,
            terminated=self._terminated,
            truncated=self._truncated,
            window=min(count, self.window),
            best_window_mean=best,
            solved=None if boundary is None or best is None else best >= boundary,
        )
        self.__dict__.update(state)  # the partial block stays pending
        return result

    def _copy_state(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("_pending", "_batches")}
