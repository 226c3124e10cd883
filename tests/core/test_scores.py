"""Comparing groups of runs: the stratified bootstrap, IQM and probability of improvement
agree with their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from gymrun.core import scores


def test_stratified_bootstrap_resamples_within_each_stratum() -> None:
    # Each stratum resampled on its own keeps three runs at 0 and three at 10 in every
    # resample, so the mean of the six is always 5; pooled, resamples would mix them.
    assert scores.mean([[0.0, 0.0, 0.0], [10.0, 10.0, 10.0]]) == scores.Estimate(5.0, 5.0, 5.0)
    pooled = scores.mean([[0.0, 0.0, 0.0, 10.0, 10.0, 10.0]])
    assert pooled.low < 5.0 < pooled.high


def test_iqm_and_improvement_agree_with_their_definitions() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.normal(14, 2, 5), rng.normal(11, 2, 5)
    estimate = scores.iqm([x])
    assert estimate.value == pytest.approx(np.mean(np.sort(x)[1:4]))  # middle half of 5 runs
    assert estimate.low <= estimate.value <= estimate.high
    pairs = [(a > b) + 0.5 * (a == b) for a in x for b in y]
    improvement = scores.probability_of_improvement(x, y)
    assert improvement.value == pytest.approx(np.mean(pairs))
    assert 0.0 <= improvement.low <= improvement.value <= improvement.high <= 1.0
    profile = scores.performance_profile(x, np.array([x.min() - 1, np.median(x), x.max()]))
    assert profile.fraction.tolist() == [1.0, 0.4, 0.0]
    # iqm and mean drawn together are the numbers each gives alone
    assert scores.iqm_and_mean(x) == (scores.iqm([x]), scores.mean([x]))


@pytest.mark.filterwarnings("error")  # numpy's overflow warnings fail the test
def test_scores_of_rewards_too_large_to_sum_are_the_scaled_scores() -> None:
    rewards = np.array([26.0, 11.0, 39.0, 30.0, 12.0, 23.0])
    scale = 1e306  # the sum of these overflows a float; their mean does not
    for estimate in (
        lambda r: scores.iqm([r]),
        lambda r: scores.mean([r]),
        lambda r: scores.iqm_and_mean(r)[0],
        lambda r: scores.iqm_and_mean(r)[1],
    ):
        small, large = estimate(rewards), estimate(rewards * scale)
        assert (large.value, large.low, large.high) == pytest.approx(
            (small.value * scale, small.low * scale, small.high * scale)
        )
    assert np.isfinite(scores.profile_thresholds([rewards * scale])).all()
