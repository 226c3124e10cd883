"""Interval estimates over episodes' rewards."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
# Resampling episodes by how often each distinct reward is picked (a multinomial draw) pays
# when there are at least this many episodes per distinct reward.
MULTINOMIAL_PER_VALUE = 16
# Below this magnitude sums of squares of values cannot overflow a float.
HUGE = 1e100


def scale_of(*samples: np.ndarray) -> float:
    """1.0, or for finite values so large that their sums could overflow (rewards scaled by
    1e200), their largest magnitude: a statistic that scales with the values (a mean, its
    interval) is computed on the values divided by it and multiplied back, so a number a
    float can hold is not lost to infinity on the way.

    >>> scale_of(np.array([1.0, -3.0])), scale_of(np.array([1e300, -3e300]))
    (1.0, 3e+300)
    """
    largest = max((float(np.max(np.abs(s))) for s in samples if len(s)), default=0.0)
    return largest if largest > HUGE else 1.0


def bootstrap_ci(rewards: np.ndarray, *, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean, resampling episodes; seeded.

    >>> bootstrap_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    (1.5, 3.5)
    >>> bootstrap_ci(np.array([10.0] * 60 + [20.0] * 40))  # by counts: two distinct rewards
    (13.0, 15.0)
    """
    if len(rewards) < 2:
        value = float(rewards[0]) if len(rewards) else math.nan
        return value, value
    scale = scale_of(rewards)
    if scale != 1.0:
        low, high = bootstrap_ci(rewards / scale, seed=seed)
        return low * scale, high * scale
    rng = np.random.default_rng(seed)
    values, counts = _distinct(rewards)
    n = len(rewards)
    if MULTINOMIAL_PER_VALUE * len(values) <= n:
        # Few distinct rewards for so many episodes (episode lengths, say): a resample's mean
        # depends only on how often it picks each, a multinomial draw, which then costs far
        # less than the picks (a value's binomial draw costs about as much as 16 picks).
        picked = rng.multinomial(n, counts / n, size=BOOTSTRAP_RESAMPLES)
        means = picked @ values / n
    else:
        means = np.empty(BOOTSTRAP_RESAMPLES)
        batch = max(1, 2**18 // n)  # a few MiB of picks at a time, however long the run
        kind = np.uint32 if n < 2**32 else np.int64  # half the cost of 64-bit picks
        for start in range(0, BOOTSTRAP_RESAMPLES, batch):
            stop = min(start + batch, BOOTSTRAP_RESAMPLES)
            picks = rng.integers(0, n, size=(stop - start, n), dtype=kind)
            means[start:stop] = rewards[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_counts=True)``; for whole numbers in a narrow range (episode
    lengths, CartPole's returns) counted in one pass instead of a sort.

    >>> _distinct(np.array([3.0, 1.0, 3.0, 2.5]))
    (array([1. , 2.5, 3. ]), array([1, 1, 2]))
    >>> _distinct(np.array([3.0, 1.0, 3.0]))
    (array([1., 3.]), array([1, 2]))
    """
    low, high = float(values.min()), float(values.max())
    if len(values) > 1024 and high - low < len(values):
        shifted = values - low
        whole = shifted.astype(np.int64)
        if np.array_equal(whole, shifted):
            counts = np.bincount(whole)
            present = np.flatnonzero(counts)
            return present + low, counts[present]
    return np.unique(values, return_counts=True)


def _iqm_rows(values: np.ndarray) -> np.ndarray:
    """The interquartile mean of each row (a quarter cut from each end, as
    ``scipy.stats.trim_mean(row, 0.25)`` cuts it)."""
    cut = int(0.25 * values.shape[-1])
    ordered = np.sort(values, axis=-1)
    return ordered[..., cut : values.shape[-1] - cut].mean(axis=-1)  # type: ignore[no-any-return]


def _mean_rows(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=-1)  # type: ignore[no-any-return]


def _median_rows(values: np.ndarray) -> np.ndarray:
    return np.median(values, axis=-1)  # type: ignore[no-any-return]


# A statistic of one run's episodes: rows of values in, one number per row out.
STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": _mean_rows,
    "iqm": _iqm_rows,
    "median": _median_rows,
}


def bootstrap_statistic(
    values: np.ndarray, statistic: str, *, seed: int = BOOTSTRAP_SEED
) -> tuple[float, float, float]:
    """``(value, low, high)``: a statistic of `STATISTICS` of finite `values` and its 95%
    percentile bootstrap interval, resampling episodes (1000 resamples, seeded); the mean's
    interval is `bootstrap_ci`'s.

    >>> bootstrap_statistic(np.array([1.0, 2.0, 3.0, 4.0, 100.0] * 4), "median")
    (3.0, 2.0, 4.0)
    >>> bootstrap_statistic(np.array([5.0]), "iqm")
    (5.0, 5.0, 5.0)
    """
    if statistic == "mean":
        return (float(values.mean()) if len(values) else math.nan, *bootstrap_ci(values, seed=seed))
    rows = STATISTICS[statistic]
    value = float(rows(values[None, :])[0]) if len(values) else math.nan
    if len(values) < 2:
        return value, value, value
    scale = scale_of(values)
    rng = np.random.default_rng(seed)
    found = np.empty(BOOTSTRAP_RESAMPLES)
    batch = max(1, 2_000_000 // len(values))  # bounded memory for long runs
    for start in range(0, BOOTSTRAP_RESAMPLES, batch):
        stop = min(start + batch, BOOTSTRAP_RESAMPLES)
        picks = rng.integers(0, len(values), size=(stop - start, len(values)))
        found[start:stop] = rows(values[picks] / scale) * scale
    low, high = np.percentile(found, [2.5, 97.5])
    return value, float(low), float(high)


def compared(low: float | None, high: float | None, bound: float) -> bool | None:
    """Where a 95% interval lies against `bound`: True when its lower end reaches it, False
    when its upper end is below it, None when it holds the bound inside (within noise).

    >>> compared(0.71, 0.86, 0.7), compared(0.5, 0.65, 0.7), compared(0.69975, 0.86, 0.7)
    (True, False, None)
    """
    if low is None or high is None:
        return None
    if low >= bound:
        return True
    return False if high < bound else None
