"""Summaries of a run's episodes, built as episodes stream in."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gymrun.core.episodes import EpisodeBatch, EpisodeResult, MetricColumn, joined_metrics
from gymrun.core.statistics import HUGE, bootstrap_ci, compared

SOLVE_WINDOW = 100  # "solved" is judged on the best mean over this many consecutive episodes

# What a run's verdict against its reward boundary says: the old Gym scoreboard's rule for
# a run of at least `SOLVE_WINDOW` episodes, the mean over all of them for a shorter one,
# and "within noise" when the 95% interval of the mean judged holds the boundary.
SOLVED, NOT_SOLVED = "solved", "not solved"
REACHED, NOT_REACHED = "reached on average", "not reached on average"
WITHIN_NOISE = "within noise"
SOME_SOLVED = "solved by some seeds"  # runs of one config: some solved, the others not


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
class MetricSummary:
    """A metric over a run's episodes (see `gymrun.core.metrics`): the mean of the
    episodes' values (of a boolean, such as ``is_success``, the share of true: the success
    rate) and its 95% bootstrap interval, over the `episodes` that have a value; `missing`
    episodes had none (their env did not report it) and are left out."""

    mean: float | None
    low: float | None
    high: float | None
    episodes: int
    missing: int


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
    truncated: int  # cut by a time limit without terminating
    window: int  # episodes in the window "solved" was judged on (< 100 for a short run)
    best_window_mean: float | None
    solved: bool | None  # the old Gym rule: never for a run of fewer than 100 episodes
    shaped_reward: ShapedReward | None = None  # None when the config has no wrappers
    # Added later (a summary.json without them is read as before):
    mean_ci95: tuple[float, float] | None = None  # 95% bootstrap interval of mean_reward
    best_window_ci95: tuple[float, float] | None = None  # of best_window_mean, over its episodes
    episodes_before_solve: int | None = None  # first episode of the first window that solved
    verdict: str | None = None  # SOLVED, NOT_SOLVED, REACHED, NOT_REACHED or WITHIN_NOISE
    # each metric recorded, by name: those the config names, and is_success where the env
    # reported it (see `gymrun.core.metrics`)
    metrics: dict[str, MetricSummary] = field(default_factory=dict)

    @property
    def judged(self) -> tuple[float | None, tuple[float, float] | None]:
        """The mean the verdict compared with the boundary, and its 95% interval: the best
        window's for a run of a whole window, else the mean over every episode."""
        if self.window >= SOLVE_WINDOW:
            return self.best_window_mean, self.best_window_ci95
        return self.mean_reward, self.mean_ci95

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.shaped_reward is None:  # a run without wrappers has no such statistic
            del data["shaped_reward"]
        if not self.metrics:  # nor one of an env that reports none
            del data["metrics"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        """A summary from its `to_json` form (as ``summary.json`` holds it: NaN and
        infinities as strings); a `TypeError`, `KeyError` or `ValueError` for anything else.

        >>> s = SummaryBuilder(None).summary()
        >>> Summary.from_json(s.to_json()) == s
        True
        """
        found = {f: data[f] for f in _REQUIRED} | {f: data.get(f) for f in _OPTIONAL}
        for name in ("mean_ci95", "best_window_ci95"):
            pair = found[name]
            found[name] = None if pair is None else (_number(pair[0]), _number(pair[1]))
            if pair is not None and len(pair) != 2:
                raise ValueError(f"{name} is not a pair")
        for name in _STATISTICS:
            found[name] = None if found[name] is None else _number(found[name])
        shaped = found["shaped_reward"]
        if shaped is not None:
            found["shaped_reward"] = ShapedReward(**shaped)
        found["metrics"] = {
            name: MetricSummary(
                _optional(metric["mean"]),
                _optional(metric["low"]),
                _optional(metric["high"]),
                int(metric.get("episodes", 0)),
                int(metric.get("missing", 0)),
            )
            for name, metric in data.get("metrics", {}).items()
        }
        return cls(**found)


_REQUIRED = (
    "count",
    "nonfinite_rewards",
    "mean_reward",
    "std_reward",
    "min_reward",
    "max_reward",
    "mean_steps",
    "reward_boundary",
    "reached",
    "terminated",
    "truncated",
    "window",
    "best_window_mean",
    "solved",
)
_OPTIONAL = ("shaped_reward", "mean_ci95", "best_window_ci95", "episodes_before_solve", "verdict")
_STATISTICS = (
    "mean_reward",
    "std_reward",
    "min_reward",
    "max_reward",
    "mean_steps",
    "reward_boundary",
    "best_window_mean",
)


def _number(value: Any) -> float:
    """A number of ``summary.json`` (NaN and infinities are written as strings)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _optional(value: Any) -> float | None:
    return None if value is None else _number(value)


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
    """Accumulates episodes (in index order) into a `Summary`.

    Every finite reward is kept (8 bytes an episode, the only memory that grows) for the
    95% intervals of the mean and of the best window, and so is each value of a metric.
    Episodes are folded in with numpy, a block of `BLOCK` consecutive episodes at a time, so
    the numbers do not depend on how the episodes arrived: one by one, in vector batches or
    in chunks from worker processes.

    >>> builder = SummaryBuilder(reward_boundary=15.0)
    >>> for i, reward in enumerate([10.0, 20.0, 30.0]):
    ...     builder.add(EpisodeResult(i, 0, reward, 5, True, False, reward >= 15, 0.0))
    >>> s = builder.summary()
    >>> s.mean_reward, s.reached, s.window, s.solved, s.verdict
    (20.0, 2, 3, False, 'within noise')
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
        self._kept: list[np.ndarray] | None = []  # the finite rewards, for the intervals
        self._left_out: list[np.ndarray] = []  # positions in the run of non-finite rewards
        # each metric's values (NaN: none left out), and whether it is recorded only where
        # its env reported it
        self._metrics: dict[str, list[np.ndarray]] = {}
        self._optional: dict[str, bool] = {}

    def forgo_intervals(self) -> None:
        """Keep no rewards from now on (memory stays bounded however many episodes come):
        the summary then has no intervals, and so no verdict nor first solving episode."""
        self._kept = None

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

    def _block_parts(self) -> list[EpisodeBatch]:
        parts = [*self._batches]
        if self._pending:
            parts.append(EpisodeBatch.of(self._pending, self.reward_boundary))
        return parts

    def _block_columns(self, parts: list[EpisodeBatch] | None = None) -> tuple[np.ndarray, ...]:
        """The block's reward, steps, terminated, truncated and reached columns, and its
        shaped rewards when its episodes have them."""
        parts = self._block_parts() if parts is None else parts
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
        parts = self._block_parts()
        self._fold_metrics(joined_metrics([(len(part), part.metrics) for part in parts]))
        self._fold(*self._block_columns(parts))
        self._pending, self._batches, self._pending_count = [], [], 0

    def _fold_metrics(self, columns: dict[str, MetricColumn]) -> None:
        """Keep each metric's values of a block (an episode without one counts as missing)."""
        for name, column in columns.items():
            values = column.values
            self._metrics.setdefault(name, []).append(values[~np.isnan(values)])
            self._optional[name] = self._optional.get(name, True) and column.optional

    def _metric_summaries(self) -> dict[str, MetricSummary]:
        """Each metric recorded: one the config names always, the default ``is_success``
        once some episode has a value of it."""
        found = {}
        for name, parts in self._metrics.items():
            values = _joined(parts)
            if not len(values) and self._optional[name]:
                continue
            mean = low = high = None
            if len(values):
                mean = float(values.sum()) / len(values)
                low, high = bootstrap_ci(values)
            found[name] = MetricSummary(mean, low, high, len(values), self._episodes - len(values))
        return found

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
        first = self._episodes
        self._episodes += len(reward)
        self._steps += int(steps.sum())
        self._reached += int(np.count_nonzero(reached))
        self._terminated += int(np.count_nonzero(terminated))
        # an episode that terminated on the step a time limit cut it counts once, as
        # terminated (as every table shows it): the two counts add up to the episodes
        self._truncated += int(np.count_nonzero(truncated & ~terminated))
        low, high = float(reward.min()), float(reward.max())  # NaN if any is
        extremes: tuple[float, float] | tuple[None, None] = (low, high)
        if not (math.isfinite(low) and math.isfinite(high)):
            finite = np.isfinite(reward)
            self._nonfinite += len(reward) - int(np.count_nonzero(finite))
            reward = reward[finite]
            extremes = (None, None)
            self._left_out.append(first + np.flatnonzero(~finite))
        if not len(reward):
            return
        if self._kept is not None:
            self._kept.append(reward.copy())
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
        parts = self._block_parts()
        self._fold_metrics(joined_metrics([(len(part), part.metrics) for part in parts]))
        self._fold(*self._block_columns(parts))
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
            solved=(
                None
                if boundary is None or best is None
                else count >= self.window and best >= boundary
            ),
            shaped_reward=shaped,
            **self._intervals(boundary),
            metrics=self._metric_summaries(),
        )
        self.__dict__.update(state)  # the partial block stays pending
        return result

    def _position(self, kept: int) -> int:
        """The episode (its position in the run) of the `kept`-th finite reward."""
        if not self._left_out:
            return kept
        left_out = _joined(self._left_out)
        return int(np.delete(np.arange(self._episodes), left_out)[kept])

    def metric_values(self) -> dict[str, np.ndarray]:
        """Each metric's values of the episodes added so far, in order, those without one
        left out (copies)."""
        parts = self._block_parts()
        pending = joined_metrics([(len(part), part.metrics) for part in parts])
        found = {}
        for name in dict.fromkeys([*self._metrics, *pending]):
            kept = list(self._metrics.get(name, []))
            if name in pending:
                values = pending[name].values
                kept.append(values[~np.isnan(values)])
            found[name] = _joined(kept)
        return found

    def finite_rewards(self) -> np.ndarray:
        """The finite rewards of every episode added so far, in order (a copy)."""
        parts = [*(self._kept or [])]
        pending = self._block_columns()[0]
        parts.append(pending[np.isfinite(pending)])
        return np.concatenate(parts)

    def _copy_state(self) -> dict[str, Any]:
        return {
            k: _copied(v) if isinstance(v, _Spread | list | dict) else v
            for k, v in self.__dict__.items()
            if k not in ("_pending", "_batches")
        }

    def _intervals(self, boundary: float | None) -> dict[str, Any]:
        """The intervals of the mean and of the best window, the first episode of the first
        window whose mean reached `boundary`, and the verdict."""
        rewards = _joined(self._kept) if self._kept else np.zeros(0)
        if not len(rewards):  # no episodes, or intervals forgone
            return {}
        mean_ci95 = bootstrap_ci(rewards)
        found: dict[str, Any] = {"mean_ci95": mean_ci95}
        window = self.window
        if len(rewards) < window:
            if boundary is not None:
                side = compared(mean_ci95[0], mean_ci95[1], boundary)
                found["verdict"] = {True: REACHED, False: NOT_REACHED, None: WITHIN_NOISE}[side]
            return found
        sums = np.cumsum(np.concatenate([[0.0], rewards]))
        means = (sums[window:] - sums[:-window]) / window
        best = int(np.argmax(means))
        found["best_window_ci95"] = bootstrap_ci(rewards[best : best + window])
        if boundary is None:
            return found
        # a small tolerance: a window's mean equal to the boundary is not lost to rounding
        reached = np.flatnonzero(means >= boundary - 1e-9 * max(1.0, abs(boundary)))
        if len(reached):
            found["episodes_before_solve"] = self._position(int(reached[0]))
        low, high = found["best_window_ci95"]
        side = compared(low, high, boundary)
        found["verdict"] = {True: SOLVED, False: NOT_SOLVED, None: WITHIN_NOISE}[side]
        return found


def verdict_of_seeds(
    summaries: Sequence[Summary], interval: tuple[float | None, float | None]
) -> str | None:
    """The verdict of one config's runs over several seeds (a sweep's point): for runs of
    a whole window each, what their verdicts agree on (`SOME_SOLVED` when some solved and
    others did not); for shorter ones, their pooled mean's 95% `interval` against the
    boundary, as a short run is judged.

    >>> def run(verdict, window=100, count=100):
    ...     return Summary(count, 0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 100, 100, 0, window, 1.0,
    ...                    verdict == SOLVED, verdict=verdict)
    >>> verdict_of_seeds([run(SOLVED), run(NOT_SOLVED)], (0.5, 1.5))
    'solved by some seeds'
    >>> verdict_of_seeds([run(REACHED, window=10)] * 2, (0.5, 1.5))
    'within noise'
    >>> verdict_of_seeds([run(NOT_SOLVED), run(None, 0, count=0)], (0.5, 1.5))  # one never began
    'not solved'
    """
    # A run that played no episode (a stopped sweep's cancelled seeds) has no windows, and
    # would turn its point's runs of whole windows into short ones
    summaries = [s for s in summaries if s.count]
    boundaries = {s.reward_boundary for s in summaries}
    if not summaries or len(boundaries) != 1 or None in boundaries:
        return None
    if any(s.window < SOLVE_WINDOW for s in summaries):
        low, high = interval
        if low is None or high is None:
            return None
        side = compared(low, high, boundaries.pop())  # type: ignore[arg-type]
        return {True: REACHED, False: NOT_REACHED, None: WITHIN_NOISE}[side]
    verdicts = {s.verdict for s in summaries}
    if None in verdicts:  # a summary from before verdicts were written
        return None
    if len(verdicts) == 1:
        return verdicts.pop()
    return SOME_SOLVED if SOLVED in verdicts else WITHIN_NOISE


def _copied(value: Any) -> Any:
    """A copy of the builder's `value` that folding more episodes in leaves as it is."""
    if isinstance(value, dict):
        return {k: list(v) if isinstance(v, list) else v for k, v in value.items()}
    return copy.copy(value)


def _joined(columns: list[np.ndarray]) -> np.ndarray:
    """One column of consecutive parts (a single part as it is, not copied)."""
    return columns[0] if len(columns) == 1 else np.concatenate(columns)
