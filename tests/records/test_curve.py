"""reward.png's curve: per bin of episodes, however they arrive, what a plain loop gives."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.records.curve import RewardCurve


def straightforward(rewards: np.ndarray, expected: int, window: int) -> dict[int, tuple]:
    """Per bin: (last finite episode, lowest, highest, mean of the last `window` finite
    rewards at it or None), episode by episode."""
    curve = RewardCurve(expected, window)  # only for its bin size and window
    bins: dict[int, tuple] = {}
    finite: list[float] = []
    for index, reward in enumerate(rewards.tolist()):
        if not np.isfinite(reward):
            continue
        finite.append(reward)
        number = index // curve.bin_size
        low, high = bins[number][1:3] if number in bins else (reward, reward)
        enough = len(finite) >= curve.window
        rolling = sum(finite[-curve.window :]) / curve.window if enough else None
        bins[number] = (index, min(low, reward), max(high, reward), rolling)
    return bins


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(1, 3000),
    expected=st.integers(1, 6000),
    window=st.integers(1, 120),
    cuts=st.lists(st.integers(0, 3000), max_size=6),
    odd=st.floats(0, 0.2),
    one_by_one=st.booleans(),
)
def test_the_curve_is_the_straightforward_one(
    count: int, expected: int, window: int, cuts: list[int], odd: float, one_by_one: bool
) -> None:
    rng = np.random.default_rng(count)
    rewards = rng.integers(-50, 200, count).astype(float) + rng.random(count).round(1)
    rewards[rng.random(count) < odd] = rng.choice([np.nan, np.inf, -np.inf])
    batch = EpisodeBatch(
        np.arange(count),
        rewards,
        np.ones(count, dtype=np.int64),
        np.ones(count, dtype=bool),
        np.zeros(count, dtype=bool),
        None,
    )
    curve = RewardCurve(expected, window)
    if one_by_one:
        for episode in batch:
            curve.add(episode)
    else:
        for start, stop in zip([0, *sorted(cuts)], [*sorted(cuts), count], strict=True):
            curve.add_all(batch.slice(start, max(start, stop)))
    drawn = curve.curve()
    want = straightforward(rewards, expected, window)
    assert drawn.count == count
    assert drawn.episode.tolist() == [want[b][0] for b in sorted(want)]
    assert drawn.low.tolist() == [want[b][1] for b in sorted(want)]
    assert drawn.high.tolist() == [want[b][2] for b in sorted(want)]
    rolling = [np.nan if want[b][3] is None else want[b][3] for b in sorted(want)]
    np.testing.assert_allclose(drawn.rolling, rolling, rtol=1e-9, atol=1e-9)


def test_single_episodes_are_folded_as_a_batch_is() -> None:
    episodes = [EpisodeResult(i, 0, float(i % 7), 1, True, False, None, 0.0) for i in range(5000)]
    one, whole = RewardCurve(5000), RewardCurve(5000)
    for episode in episodes:
        one.add(episode)
    whole.add_all(EpisodeBatch.of(episodes, None))
    for name in ("episode", "low", "high", "rolling"):
        np.testing.assert_array_equal(getattr(one.curve(), name), getattr(whole.curve(), name))
