"""What episodes come to: one `EpisodeResult` each, or many at once as columns."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, overload

import numpy as np

from gymrun.core.transitions import Transitions

# The metrics of an episode that recorded none (shared: an episode's metrics are read-only)
NO_METRICS: Mapping[str, bool | float | None] = {}


class EpisodeResult(NamedTuple):
    """What one finished episode came to."""

    episode: int  # its index in the run, from 0
    seed: int | None  # the environment's reset seed; None when the env was seeded once per run
    reward: float
    steps: int
    terminated: bool
    truncated: bool
    reached: bool | None  # reward >= the boundary; None when there is no boundary
    seconds: float  # wall time of the episode; nan when it was not timed alone
    # What the agent saw: the rewards the config's wrappers returned, summed; None when
    # the config has no wrappers (`reward`, the environment's own return, is what it saw)
    shaped_reward: float | None = None
    # The numbers the env reported in its step infos, one per metric (see
    # `gymrun.core.metrics`): a boolean or a number, None when the env reported none
    metrics: Mapping[str, bool | float | None] = NO_METRICS

    def to_json(self) -> dict[str, Any]:
        """The episode as ``--json`` and the recordings show it (timings left out)."""
        data: dict[str, Any] = {
            "episode": self.episode,
            "seed": self.seed,
            "reward": _number_json(self.reward),
        }
        if self.shaped_reward is not None:
            data["shaped_reward"] = _number_json(self.shaped_reward)
        data.update(steps=self.steps, terminated=self.terminated, truncated=self.truncated)
        data["reached"] = self.reached
        data.update(self.metrics)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EpisodeResult:
        """An episode read back from ``to_json`` form (its timing was not kept); every key
        beside an episode's own fields is a metric."""
        return cls(
            data["episode"],
            data["seed"],
            float(data["reward"]),
            data["steps"],
            data["terminated"],
            data["truncated"],
            data["reached"],
            math.nan,
            None if data.get("shaped_reward") is None else float(data["shaped_reward"]),
            {k: v for k, v in data.items() if k not in _LINE_FIELDS} or NO_METRICS,
        )


# The fields of an episode's JSON form that are not metrics.
_LINE_FIELDS = frozenset(
    ("episode", "seed", "reward", "shaped_reward", "steps", "terminated", "truncated", "reached")
)


class MetricColumn(NamedTuple):
    """A metric's values over consecutive episodes (see `gymrun.core.metrics`)."""

    values: np.ndarray  # float64; NaN where the episode has no value
    boolean: bool  # every value it holds is a boolean the env gave (true when it holds none)
    # An episode without a value leaves the metric out (the default is_success, recorded
    # where the env reports it) instead of holding None
    optional: bool = False

    def slice(self, start: int | None, stop: int | None) -> MetricColumn:
        return MetricColumn(self.values[start:stop], self.boolean, self.optional)


def metric_columns(
    episodes: Sequence[Mapping[str, bool | float | None]],
) -> dict[str, MetricColumn]:
    """Columns of the metrics of consecutive episodes (each episode's `metrics`).

    >>> metric_columns([{"is_success": True}, {}, {"is_success": False}])["is_success"]
    MetricColumn(values=array([ 1., nan,  0.]), boolean=True, optional=True)
    """
    if not any(episodes):
        return {}
    names = dict.fromkeys(name for metrics in episodes for name in metrics)
    columns = {}
    for name in names:
        found = [metrics.get(name, _ABSENT) for metrics in episodes]
        optional = any(value is _ABSENT for value in found)
        given = [value for value in found if value is not None and value is not _ABSENT]
        values = [
            math.nan if value is None or value is _ABSENT else float(value)  # type: ignore[arg-type]
            for value in found
        ]
        boolean = all(isinstance(value, bool) for value in given)
        columns[name] = MetricColumn(np.array(values, dtype=np.float64), boolean, optional)
    return columns


_ABSENT = object()


def joined_metrics(
    parts: Sequence[tuple[int, Mapping[str, MetricColumn]]],
) -> dict[str, MetricColumn]:
    """The metric columns of consecutive parts, each given as ``(episodes, columns)``; a
    part without a metric the others have holds no value of it."""
    names = dict.fromkeys(name for _, columns in parts for name in columns)
    if not names:
        return {}
    if len(parts) == 1:
        return dict(parts[0][1])
    joined = {}
    for name in names:
        present = [columns[name] for _, columns in parts if name in columns]
        values = np.concatenate(
            [
                columns[name].values if name in columns else np.full(count, math.nan)
                for count, columns in parts
            ]
        )
        joined[name] = MetricColumn(
            values,
            all(column.boolean for column in present),
            len(present) < len(parts) or any(column.optional for column in present),
        )
    return joined


def episode_metrics(columns: Mapping[str, MetricColumn], count: int) -> Sequence[Mapping[str, Any]]:
    """Each episode's `metrics` from the columns of `count` consecutive episodes."""
    if not columns:
        return [NO_METRICS] * count
    rows: list[dict[str, Any]] = [{} for _ in range(count)]
    for name, column in columns.items():
        values = column.values.tolist()
        kind = bool if column.boolean else float
        for row, value in zip(rows, values, strict=True):
            if value == value:  # not NaN
                row[name] = kind(value)
            elif not column.optional:
                row[name] = None
    return rows


def _number_json(value: float) -> float | str:
    # NaN and infinities are not JSON: they are written as "nan", "inf", "-inf"
    return value if math.isfinite(value) else str(value)


class EpisodeBatch(Sequence[EpisodeResult]):
    """Consecutive episodes held as columns; `EpisodeResult`s are made only when asked for.

    Vector runs and worker processes produce episodes by the thousand: as arrays they cost
    next to nothing until someone reads them one by one. A run that writes a dataset has
    each episode's steps in `transitions` (None otherwise, and for episodes read back).
    """

    __slots__ = (
        "episode",
        "metrics",
        "reached",
        "reward",
        "seconds",
        "seed",
        "shaped_reward",
        "steps",
        "terminated",
        "transitions",
        "truncated",
    )

    def __init__(
        self,
        episode: np.ndarray,
        reward: np.ndarray,
        steps: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        reward_boundary: float | None,
        seed: np.ndarray | None = None,
        seconds: np.ndarray | None = None,
        shaped_reward: np.ndarray | None = None,
        metrics: dict[str, MetricColumn] | None = None,
    ) -> None:
        self.episode, self.reward, self.steps = episode, reward, steps
        self.shaped_reward = shaped_reward
        self.metrics = {} if metrics is None else metrics
        self.terminated, self.truncated = terminated, truncated
        self.reached = None if reward_boundary is None else reward >= reward_boundary
        self.seed, self.seconds = seed, seconds
        self.transitions: list[Transitions] | None = None

    @classmethod
    def of(cls, episodes: Sequence[EpisodeResult], reward_boundary: float | None) -> EpisodeBatch:
        """Columns of `episodes` (consecutive, in index order); a batch already in columns
        is given back as views, its `reached` measured against `reward_boundary`."""
        if isinstance(episodes, EpisodeBatch):
            batch = episodes.slice(None, None)
            batch.reached = None if reward_boundary is None else batch.reward >= reward_boundary
            return batch
        episode, seed, reward, steps, terminated, truncated, _, seconds, shaped, metrics = (
            zip(*episodes, strict=True) if episodes else ([],) * 10
        )
        return cls(
            np.array(episode, dtype=np.int64),
            np.array(reward, dtype=np.float64),
            np.array(steps, dtype=np.int64),
            np.array(terminated, dtype=bool),
            np.array(truncated, dtype=bool),
            reward_boundary,
            None if None in seed else np.array(seed, dtype=np.int64),
            np.array(seconds, dtype=np.float64),
            None if None in shaped or not episodes else np.array(shaped, dtype=np.float64),
            metric_columns(metrics),
        )

    @classmethod
    def joined(cls, batches: Sequence[EpisodeBatch]) -> EpisodeBatch:
        """Consecutive batches as one (a single batch as it is)."""
        if len(batches) == 1:
            return batches[0]
        batch = EpisodeBatch.__new__(EpisodeBatch)
        for name in _COLUMNS:
            columns = [getattr(part, name) for part in batches]
            joined = None if any(c is None for c in columns) else np.concatenate(columns)
            setattr(batch, name, joined)
        batch.metrics = joined_metrics([(len(part), part.metrics) for part in batches])
        steps = [part.transitions for part in batches if len(part)]  # an empty one has none
        batch.transitions = (
            None if not steps or None in steps else [t for part in steps for t in part or ()]
        )
        return batch

    def __len__(self) -> int:
        return len(self.episode)

    def __iter__(self) -> Iterator[EpisodeResult]:
        count = len(self.episode)
        columns = (
            self.episode.tolist(),
            [None] * count if self.seed is None else self.seed.tolist(),
            self.reward.tolist(),
            self.steps.tolist(),
            self.terminated.tolist(),
            self.truncated.tolist(),
            [None] * count if self.reached is None else self.reached.tolist(),
            [math.nan] * count if self.seconds is None else self.seconds.tolist(),
            [None] * count if self.shaped_reward is None else self.shaped_reward.tolist(),
            episode_metrics(self.metrics, count),
        )
        return map(EpisodeResult._make, zip(*columns, strict=True))

    @overload
    def __getitem__(self, item: int) -> EpisodeResult: ...
    @overload
    def __getitem__(self, item: slice) -> list[EpisodeResult]: ...
    def __getitem__(self, item: int | slice) -> EpisodeResult | list[EpisodeResult]:
        if isinstance(item, slice):
            return list(self.slice(item.start, item.stop))
        position = range(len(self))[item]
        return next(iter(self.slice(position, position + 1)))

    def slice(self, start: int | None, stop: int | None) -> EpisodeBatch:
        """Episodes ``start:stop`` of this batch, still as columns (views, not copies)."""
        batch = EpisodeBatch.__new__(EpisodeBatch)
        for name in _COLUMNS:
            column = getattr(self, name)
            setattr(batch, name, None if column is None else column[start:stop])
        batch.metrics = {name: column.slice(start, stop) for name, column in self.metrics.items()}
        batch.transitions = None if self.transitions is None else self.transitions[start:stop]
        return batch


# The slots of an `EpisodeBatch` that hold one array each (or None)
_COLUMNS = tuple(name for name in EpisodeBatch.__slots__ if name not in ("metrics", "transitions"))
