"""Interval estimates over episodes' rewards."""

from __future__ import annotations

import math

import numpy as np

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0
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
    values, counts = np.unique(rewards, return_counts=True)
    if 2 * len(values) <= len(rewards):
        # Few distinct rewards (episode lengths, say): a resample's mean depends only on how
        # often it picks each, a multinomial draw, which is far cheaper than the picks.
        picked = rng.multinomial(len(rewards), counts / len(rewards), size=BOOTSTRAP_RESAMPLES)
        means = picked @ values / len(rewards)
    else:
        means = np.empty(BOOTSTRAP_RESAMPLES)
        batch = max(1, 2_000_000 // len(rewards))  # bounded memory for long runs
        for start in range(0, BOOTSTRAP_RESAMPLES, batch):
            stop = min(start + batch, BOOTSTRAP_RESAMPLES)
            picks = rng.integers(0, len(rewards), size=(stop - start, len(rewards)))
            means[start:stop] = rewards[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)
