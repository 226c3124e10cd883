"""episodes.jsonl lines built from columns are exactly what json.dumps writes."""

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.records.lines import episode_line, episode_lines

REWARDS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6).map(float),
    st.sampled_from([0.0, -0.0, 1e15, -1e15, 1e16, 0.1, 5e-324]),
)


@settings(max_examples=60, deadline=None)
@given(
    rewards=st.lists(REWARDS, min_size=1, max_size=40),
    first=st.integers(0, 10**9),
    seeded=st.booleans(),
    boundary=st.one_of(st.none(), st.floats(-100, 100)),
)
def test_lines_from_columns_are_json_dumps_lines(
    rewards: list[float], first: int, seeded: bool, boundary: float | None
) -> None:
    rng = np.random.default_rng(len(rewards))
    episodes = [
        EpisodeResult(
            first + i,
            int(rng.integers(0, 2**32)) if seeded else None,
            reward,
            int(rng.integers(1, 100_000)),
            bool(rng.random() < 0.5),
            bool(rng.random() < 0.5),
            None if boundary is None else reward >= boundary,
            0.0,
        )
        for i, reward in enumerate(rewards)
    ]
    batch = EpisodeBatch.of(episodes, boundary)
    expected = "".join(json.dumps(e.to_json()) + "\n" for e in batch)
    assert episode_lines(batch).decode() == expected
    assert "".join(map(episode_line, batch)) == expected
    for line in expected.splitlines():
        json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


@settings(max_examples=30, deadline=None)
@given(
    steps=st.lists(st.integers(1, 500), min_size=1, max_size=60),
    terminated=st.sampled_from(["all", "none", "mixed"]),
    sign=st.sampled_from([1.0, -1.0, 0.0]),
)
def test_lines_of_a_vector_run_are_json_dumps_lines(
    steps: list[int], terminated: str, sign: float
) -> None:
    # A vector run's batches: whole rewards of one sign and columns that often never vary,
    # which the lines are built with less padding for.
    count = len(steps)
    ends = {"all": [True] * count, "none": [False] * count}.get(
        terminated, [i % 3 == 0 for i in range(count)]
    )
    episodes = [
        EpisodeResult(10**5 + i, None, sign * n, n, end, not end, sign * n >= 195, 0.0)
        for i, (n, end) in enumerate(zip(steps, ends, strict=True))
    ]
    batch = EpisodeBatch.of(episodes, 195.0)
    expected = "".join(json.dumps(e.to_json()) + "\n" for e in batch)
    assert episode_lines(batch).decode() == expected
