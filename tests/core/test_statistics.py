"""A point's mean and its bootstrap interval: seeded, and the same whether resampled by episode
or by counts of few distinct rewards."""

import numpy as np
import pytest

from gymrun.core.statistics import bootstrap_ci


def test_bootstrap_interval_is_seeded_and_brackets_the_mean() -> None:
    rewards = np.random.default_rng(1).normal(20, 5, 400)
    low, high = bootstrap_ci(rewards)
    assert (low, high) == bootstrap_ci(rewards)
    assert low < rewards.mean() < high
    # about 1.96 standard errors either side
    assert high - low == pytest.approx(2 * 1.96 * rewards.std() / 20, rel=0.15)


def test_few_distinct_rewards_resample_by_counts_to_the_same_interval() -> None:
    # episode lengths: a few dozen values; the interval matches one from picking episodes
    rewards = np.random.default_rng(2).geometric(0.05, 3000).astype(float)
    assert 2 * len(np.unique(rewards)) <= len(rewards)  # the counts path is taken
    low, high = bootstrap_ci(rewards)
    picks = np.random.default_rng(9).integers(0, len(rewards), size=(20000, len(rewards)))
    ref_low, ref_high = np.percentile(rewards[picks].mean(axis=1), [2.5, 97.5])
    width = ref_high - ref_low
    assert abs(low - ref_low) < 0.08 * width and abs(high - ref_high) < 0.08 * width
    assert (low, high) == bootstrap_ci(rewards)


@pytest.mark.filterwarnings("error")  # numpy's overflow warnings fail the test
def test_an_interval_of_rewards_too_large_to_sum_is_the_scaled_interval() -> None:
    rewards = np.random.default_rng(0).normal(20, 5, 50)
    low, high = bootstrap_ci(rewards)
    assert bootstrap_ci(rewards * 1e306) == pytest.approx((low * 1e306, high * 1e306))
