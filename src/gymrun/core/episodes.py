"""What episodes come to: one `EpisodeResult` each, or many at once as columns."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple, overload

import numpy as np


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
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EpisodeResult:
        """An episode read back from ``to_json`` form (its timing was not kept)."""
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
        )


def _number_json(value: float) -> float | str:
    # NaN and infinities are not JSON: they are written as "nan", "inf", "-inf"
    return value if math.isfinite(value) else str(value)


class EpisodeBatch(Sequence[EpisodeResult]):
    """Consecutive episodes held as columns; `EpisodeResult`s are made only when asked for.

    Vector runs and worker processes produce episodes by the thousand: as arrays they cost
    next to nothing until someone reads them one by one.
    """

    __slots__ = (
        "episode",
        "reached",
        "reward",
        "seconds",
        "seed",
        "shaped_reward",
        "steps",
        "terminated",
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
    ) -> None:
        self.episode, self.reward, self.steps = episode, reward, steps
        self.shaped_reward = shaped_reward
        self.terminated, self.truncated = terminated, truncated
        self.reached = None if reward_boundary is None else reward >= reward_boundary
        self.seed, self.seconds = seed, seconds

    @classmethod
    def of(cls, episodes: Sequence[EpisodeResult], reward_boundary: float | None) -> EpisodeBatch:
        """Columns of `episodes` (consecutive, in index order); a batch already in columns
        is given back as views, its `reached` measured against `reward_boundary`."""
        if isinstance(episodes, EpisodeBatch):
            batch = episodes.slice(None, None)
            batch.reached = None if reward_boundary is None else batch.reward >= reward_boundary
            return batch
        episode, seed, reward, steps, terminated, truncated, _, seconds, shaped = (
            zip(*episodes, strict=True) if episodes else ([],) * 9
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
        )

    @classmethod
    def joined(cls, batches: Sequence[EpisodeBatch]) -> EpisodeBatch:
        """Consecutive batches as one (a single batch as it is)."""
        if len(batches) == 1:
            return batches[0]
        batch = EpisodeBatch.__new__(EpisodeBatch)
        for name in EpisodeBatch.__slots__:
            columns = [getattr(part, name) for part in batches]
            joined = None if any(c is None for c in columns) else np.concatenate(columns)
            setattr(batch, name, joined)
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
        for name in EpisodeBatch.__slots__:
            column = getattr(self, name)
            setattr(batch, name, None if column is None else column[start:stop])
        return batch
