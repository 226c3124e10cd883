"""episodes.jsonl lines built from columns are exactly what json.dumps writes."""

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gymrun.core.episodes import EpisodeBatch, EpisodeResult, MetricColumn
from gymrun.records.lines import episode_line, episode_lines
from gymrun.records.reading import _columns

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


NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**6), 10**6).map(float),
)


@st.composite
def metric_rows(draw: st.DrawFn) -> list[dict[str, object]]:
    """Episodes' metrics as a run gives them: the metrics the config names are in every
    episode (None without a value); without any, is_success only in the episodes whose env
    reported it."""
    count = draw(st.integers(1, 30))
    if draw(st.booleans()):
        success = st.one_of(st.none(), st.booleans())
        distance = st.one_of(st.none(), NUMBERS)
        return [{"is_success": draw(success), "distance": draw(distance)} for _ in range(count)]
    reported = [draw(st.one_of(st.none(), st.booleans())) for _ in range(count)]
    return [{} if value is None else {"is_success": value} for value in reported]


@settings(max_examples=40, deadline=None)
@given(rows=metric_rows())
def test_lines_with_metrics_are_json_dumps_lines_and_read_back_the_same(
    rows: list[dict[str, object]],
) -> None:
    # booleans stay booleans, numbers numbers; an episode without an optional metric's
    # value leaves it out of its line, one without a named metric's holds null
    episodes = [
        EpisodeResult(i, i, float(i), i + 1, True, False, None, 0.0, None, metrics)  # type: ignore[arg-type]
        for i, metrics in enumerate(rows)
    ]
    batch = EpisodeBatch.of(episodes, None)
    expected = "".join(json.dumps(e.to_json()) + "\n" for e in episodes)
    assert episode_lines(batch).decode() == expected
    assert "".join(map(episode_line, episodes)) == expected
    assert [dict(e.metrics) for e in batch] == rows
    read = _columns([json.loads(line) for line in expected.splitlines()], None)
    assert [dict(e.metrics) for e in read] == rows


def test_a_metric_column_that_is_booleans_is_written_as_true_false_and_null() -> None:
    column = MetricColumn(np.array([1.0, 0.0, np.nan]), boolean=True)
    batch = EpisodeBatch(
        np.arange(3), np.ones(3), np.ones(3, dtype=np.int64), np.ones(3, bool),
        np.zeros(3, bool), None, metrics={"is_success": column},
    )  # fmt: skip
    assert [json.loads(line)["is_success"] for line in episode_lines(batch).splitlines()] == [
        True,
        False,
        None,
    ]
    optional = batch.slice(None, None)
    optional.metrics = {"is_success": column._replace(optional=True)}
    assert ["is_success" in json.loads(line) for line in episode_lines(optional).splitlines()] == [
        True,
        True,
        False,
    ]
    # an env that reports booleans and numbers under one key has numbers written
    mixed = [
        EpisodeResult(i, i, 1.0, 1, True, False, None, 0.0, None, {"d": value})
        for i, value in enumerate([False, 0.5])
    ]
    lines = episode_lines(EpisodeBatch.of(mixed, None)).splitlines()
    assert [json.loads(line)["d"] for line in lines] == [0.0, 0.5]
