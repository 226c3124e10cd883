"""Summaries of a run's episodes, built as episodes stream in (memory stays constant)."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.statistics import HUGE

SOLVE_WINDOW = 100  # "solved" is judged on the best mean over this many consecutive episodes


@dataclass(frozen=True)
class ShapedReward:
    """What the agent saw through the config's wrappers, summed per episode: the
    statistics of those sums (NaN and infinite ones left out, as for the reward)."""

    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    differing: int  # episodes whose shaped reward is not their reward
    nonfinite: int = 0  # episodes whose shaped reward was NaN or infinite: left out


@dataclass(frozen=True)
class Summary:
    """The numbers a run is judged by: the environment's own return per episode (the
    reward), and, for a config with wrappers, what the agent saw (`shaped_reward`)."""

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
    shaped_reward: ShapedReward | None = None  # None when the config has no wrappers

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.shaped_reward is None:  # a run without wrappers has no such statistic
            del data["shaped_reward"]
        return data


class _Spread:
    """Mean, standard deviation, minimum and maximum of finite values folded in blocks
    (the running mean and sum of squared deviations combined as Chan et al. do).

    Values too large to square (a reward scaled by 1e200) are folded divided by the largest
    magnitude yet seen, so that the numbers stay right without overflowing: a mean or
    standard deviation that a float can hold is never lost to infinity or NaN on the way
    (below `HUGE` nothing is scaled: ordinary rewards get what plain arithmetic gives)."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.scale = 1.0  # mean and m2 are kept divided by scale and scale**2
        self.mean = 0.0
        self.m2 = 0.0
        self.min = math.inf
        self.max = -math.inf

    def fold(self, values: np.ndarray, low: float | None = None, high: float | None = None) -> None:
        """Fold in finite `values` (`low` and `high`: their minimum and maximum, if known)."""
        count = len(values)
        if not count:
            return
        if low is None or high is None:
            low, high = float(values.min()), float(values.max())
        largest = max(abs(low), abs(high))
        if largest > HUGE and largest > self.scale:
            ratio = self.scale / largest
            self.mean *= ratio
            self.m2 *= ratio * ratio
            self.scale = largest
        with np.errstate(over="ignore"):  # a sum past the largest float is infinite
            total = float(values.sum())
        self.total += total
        if self.scale != 1.0:
            values = values / self.scale
            block_mean = float(values.mean())
        else:  # what values.mean() gives: the same sum, divided (no value is huge)
            block_mean = total / count
        deviations = values - block_mean
        np.square(deviations, out=deviations)  # as ** 2 does
        block_m2 = float(deviations.sum())
        total_count = self.count + count
        delta = block_mean - self.mean
        self.m2 += block_m2 + delta * delta * self.count * count / total_count
        self.mean += delta * count / total_count
        self.count = total_count
        self.min = min(self.min, low)
        self.max = max(self.max, high)

    def numbers(self) -> tuple[float | None, float | None, float | None, float | None]:
        """``(mean, std, min, max)``; all None before any value."""
        if not self.count:
            return None, None, None, None
        std = math.sqrt(max(self.m2, 0.0) / self.count) * self.scale
        mean = self.total / self.count
        if not math.isfinite(mean):  # the sum overflowed, the mean did not
            mean = self.mean * self.scale
        return mean, std, self.min, self.max


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
        self._reward = _Spread()  # of the episodes with a finite reward
        self._shaped: _Spread | None = None  # once an episode with a shaped reward comes
        self._differing = 0
        self._shaped_nonfinite = 0
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

    def _block_columns(self) -> tuple[np.ndarray, ...]:
        """The block's reward, steps, terminated, truncated and reached columns, and its
        shaped rewards when its episodes have them."""
        parts = [*self._batches]
        if self._pending:
            parts.append(EpisodeBatch.of(self._pending, self.reward_boundary))
        if not parts:
            empty = np.zeros(0)
            return empty, empty.astype(np.int64), *(empty.astype(bool),) * 3
        shaped = [p.shaped_reward for p in parts if p.shaped_reward is not None]
        reward = _joined([p.reward for p in parts])
        reached = (
            np.zeros(len(reward), dtype=bool)
            if self.reward_boundary is None
            else reward >= self.reward_boundary
        )
        return (
            reward,
            _joined([p.steps for p in parts]),
            _joined([p.terminated for p in parts]),
            _joined([p.truncated for p in parts]),
            reached,
            *([_joined(shaped)] if len(shaped) == len(parts) else []),
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
        shaped: np.ndarray | None = None,
    ) -> None:
        if not len(reward):
            return
        if shaped is not None:
            if self._shaped is None:
                self._shaped = _Spread()
            self._differing += int(np.count_nonzero(shaped != reward))
            finite = np.isfinite(shaped)
            self._shaped_nonfinite += len(shaped) - int(np.count_nonzero(finite))
            self._shaped.fold(shaped[finite])
        self._episodes += len(reward)
        self._steps += int(steps.sum())
        self._reached += int(np.count_nonzero(reached))
        self._terminated += int(np.count_nonzero(terminated))
        self._truncated += int(np.count_nonzero(truncated))
        low, high = float(reward.min()), float(reward.max())  # NaN if any is
        extremes: tuple[float, float] | tuple[None, None] = (low, high)
        if not (math.isfinite(low) and math.isfinite(high)):
            finite = np.isfinite(reward)
            self._nonfinite += len(reward) - int(np.count_nonzero(finite))
            reward = reward[finite]
            extremes = (None, None)
        if not len(reward):
            return
        self._reward.fold(reward, *extremes)
        window = self.window
        recent = self._recent
        if len(recent) + len(reward) >= window:
            # sums[j]: the sum of the first j rewards of the recent ones and these
            sums = np.empty(1 + len(recent) + len(reward))
            sums[0] = 0.0
            sums[1 : 1 + len(recent)] = recent
            sums[1 + len(recent) :] = reward
            np.cumsum(sums, out=sums)
            best = float((sums[window:] - sums[:-window]).max()) / window
            if self._best_window_mean is None or best > self._best_window_mean:
                self._best_window_mean = best
        if window <= 1:
            self._recent = reward[:0]
        elif len(reward) >= window - 1:
            self._recent = reward[-(window - 1) :].copy()
        else:
            self._recent = np.concatenate([recent, reward])[-(window - 1) :]

    def summary(self) -> Summary:
        """The summary of every episode added so far (a partial block included)."""
        state = self._copy_state()
        self._fold(*self._block_columns())
        count = self._reward.count
        boundary = self.reward_boundary
        best = self._best_window_mean
        mean, std, low, high = self._reward.numbers()
        if best is None and count:  # fewer episodes than one window: judge on all of them
            best = mean
        shaped = (
            None
            if self._shaped is None
            else ShapedReward(
                *self._shaped.numbers(),
                differing=self._differing,
                nonfinite=self._shaped_nonfinite,
            )
        )
        result = Summary(
            count=self._episodes,
            nonfinite_rewards=self._nonfinite,
            mean_reward=mean,
            std_reward=std,
            min_reward=low,
            max_reward=high,
            mean_steps=self._steps / self._episodes if self._episodes else None,
            reward_boundary=boundary,
            reached=None if boundary is None else self._reached,
            terminated=self._terminated,
            truncated=self._truncated,
            window=min(count, self.window),
            best_window_mean=best,
            solved=None if boundary is None or best is None else best >= boundary,
            shaped_reward=shaped,
        )
        self.__dict__.update(state)  # the partial block stays pending
        return result

    def _copy_state(self) -> dict[str, Any]:
        return {
            k: copy.copy(v) if isinstance(v, _Spread) else v
            for k, v in self.__dict__.items()
            if k not in ("_pending", "_batches")
        }


def _joined(columns: list[np.ndarray]) -> np.ndarray:
    """One column of consecutive parts (a single part as it is, not copied)."""
    return columns[0] if len(columns) == 1 else np.concatenate(columns)
