"""A run's reward curve, gathered as episodes finish: what ``reward.png`` draws.

Episodes are grouped in at most `MAX_POINTS` bins (a bin per episode for short runs); each
bin keeps its lowest and highest reward and the rolling mean at its end, so memory stays
the same however long the run. NaN and infinite rewards are left out, as in the summary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.summary import SOLVE_WINDOW

MAX_POINTS = 2000
_FOLD = 1024  # episodes given one at a time are folded in blocks of this many


@dataclass(frozen=True)
class Curve:
    """Per bin: its last episode, lowest and highest reward, and the mean of the last
    `window` rewards at its end (NaN until that many have been seen)."""

    episode: np.ndarray
    low: np.ndarray
    high: np.ndarray
    rolling: np.ndarray
    count: int  # episodes in the curve
    bin_size: int
    window: int


class RewardCurve:
    """Gathers the curve of a run expected to have `expected` episodes.

    >>> curve = RewardCurve(expected=5000)
    >>> curve.add_all(EpisodeBatch.of([EpisodeResult(i, 0, float(i % 10), 1, True, False,
    ...     None, 0.0) for i in range(5000)], None))
    >>> c = curve.curve()
    >>> c.bin_size, len(c.episode), float(c.low[0]), float(c.high[0]), float(c.rolling[-1])
    (3, 1667, 0.0, 2.0, 4.5)
    """

    def __init__(self, expected: int, window: int = SOLVE_WINDOW, *, merge: bool = False) -> None:
        # With `merge`, episodes past the expected ones double the bin size (pairs of bins
        # merged) instead of adding bins: at most `MAX_POINTS` bins whatever comes, for a
        # run whose length is not known while it is read.
        self.merge = merge
        self.bin_size = max(1, math.ceil(expected / MAX_POINTS))
        self.window = max(1, min(window, expected))
        bins = math.ceil(expected / self.bin_size) + 1
        self.episode = np.full(bins, -1, dtype=np.int64)
        self.low = np.full(bins, np.inf)
        self.high = np.full(bins, -np.inf)
        self.rolling = np.full(bins, np.nan)
        self.count = 0  # episodes seen
        self._recent = np.zeros(0)  # the last window - 1 finite rewards
        self._pending: list[tuple[int, float]] = []

    def add(self, episode: EpisodeResult) -> None:
        self._pending.append((episode.episode, episode.reward))
        if len(self._pending) >= _FOLD:
            self._fold_pending()

    def add_all(self, episodes: Sequence[EpisodeResult]) -> None:
        """Add consecutive episodes; an `EpisodeBatch` is taken as columns."""
        if not isinstance(episodes, EpisodeBatch):
            for episode in episodes:
                self.add(episode)
            return
        self._fold_pending()
        self._fold(episodes.episode, episodes.reward)

    def _fold_pending(self) -> None:
        if self._pending:
            index, reward = zip(*self._pending, strict=True)
            self._pending = []
            self._fold(np.array(index, dtype=np.int64), np.array(reward, dtype=np.float64))

    def _fold(self, index: np.ndarray, reward: np.ndarray) -> None:
        self.count += len(index)
        finite = np.isfinite(reward)
        if not finite.all():
            index, reward = index[finite], reward[finite]
        if not len(index):
            return
        while self.merge and int(index[-1]) // self.bin_size >= len(self.episode):
            self._merge()
        bins = index // self.bin_size
        if bins[-1] >= len(self.episode):  # more episodes than expected
            self._grow(int(bins[-1]) + 1)
        # Episodes come in index order, so each bin's are one stretch: reduced stretch by
        # stretch (ufunc.at, a scatter element by element, costs ten times more).
        last = np.flatnonzero(np.diff(bins, append=bins[-1] + 1))  # each bin's last episode
        first = np.concatenate([[0], last[:-1] + 1])
        held = bins[last]
        self.low[held] = np.minimum(self.low[held], np.minimum.reduceat(reward, first))
        self.high[held] = np.maximum(self.high[held], np.maximum.reduceat(reward, first))
        self.episode[held] = index[last]
        window = self.window
        recent = np.concatenate([self._recent, reward])
        ends = last + len(self._recent)
        seen = ends + 1 >= window  # positions (in `recent`) of each bin's last episode
        if seen.any():
            sums = np.cumsum(np.concatenate([[0.0], recent]))
            at = ends[seen] + 1
            self.rolling[held[seen]] = (sums[at] - sums[at - window]) / window
        self._recent = recent[-(window - 1) :] if window > 1 else recent[:0]

    def _merge(self) -> None:
        """Double the bin size: each pair of bins becomes one, which ends where the second
        ends (its last episode and rolling mean), or the first when the second is empty."""
        half = len(self.episode) // 2 + len(self.episode) % 2
        width = 2 * half
        pairs = {
            name: np.concatenate([values, fill[: width - len(values)]]).reshape(half, 2)
            for name, values, fill in (
                ("episode", self.episode, np.array([-1])),
                ("low", self.low, np.array([np.inf])),
                ("high", self.high, np.array([-np.inf])),
                ("rolling", self.rolling, np.array([np.nan])),
            )
        }
        second = pairs["episode"][:, 1] >= 0
        keep = len(self.episode)
        self.episode = np.full(keep, -1, dtype=np.int64)
        self.low, self.high = np.full(keep, np.inf), np.full(keep, -np.inf)
        self.rolling = np.full(keep, np.nan)
        self.episode[:half] = np.where(second, *pairs["episode"].T[::-1])
        self.low[:half] = pairs["low"].min(axis=1)
        self.high[:half] = pairs["high"].max(axis=1)
        self.rolling[:half] = np.where(second, *pairs["rolling"].T[::-1])
        self.bin_size *= 2

    def _grow(self, bins: int) -> None:
        extra = bins - len(self.episode)
        self.episode = np.concatenate([self.episode, np.full(extra, -1, dtype=np.int64)])
        self.low = np.concatenate([self.low, np.full(extra, np.inf)])
        self.high = np.concatenate([self.high, np.full(extra, -np.inf)])
        self.rolling = np.concatenate([self.rolling, np.full(extra, np.nan)])

    def curve(self) -> Curve:
        """The curve of every episode added so far."""
        self._fold_pending()
        used = self.episode >= 0
        return Curve(
            self.episode[used],
            self.low[used],
            self.high[used],
            self.rolling[used],
            self.count,
            self.bin_size,
            self.window,
        )
