"""Scores normalized per task and aggregated across tasks: the point estimates are rliable's
own, the intervals agree with rliable's stratified bootstrap, and a task without reference
scores is named and left out."""

from __future__ import annotations

import numpy as np
import pytest
from rliable import library, metrics

from gymrun.analysis.groups import Member
from gymrun.analysis.normalized import normalized_comparison
from gymrun.components.reference import Anchor, ReferenceScores, shipped_references

REFERENCES = shipped_references()
TASKS = ["Acrobot-v1", "CartPole-v1", "LunarLander-v3", "MountainCar-v0"]


def rliable_four(matrix: np.ndarray) -> np.ndarray:
    return np.array(
        [
            metrics.aggregate_iqm(matrix),
            metrics.aggregate_median(matrix),
            metrics.aggregate_mean(matrix),
            metrics.aggregate_optimality_gap(matrix),
        ]
    )


def members(raw: np.ndarray, agent: str = "heuristic") -> list[Member]:
    """Runs x tasks of raw mean rewards, as recorded runs of one agent."""
    return [
        Member(
            f"{env}-{seed}",
            {"name": env, "env": {"id": env}, "agent": {"name": agent}, "seed": seed},
            "completed",
            float(raw[seed, task]),
            started_at=f"2026-01-01T00:00:{seed:02d}",
        )
        for task, env in enumerate(TASKS)
        for seed in range(raw.shape[0])
    ]


@pytest.mark.filterwarnings("ignore:random_state is deprecated:FutureWarning")
def test_aggregates_equal_rliables_on_the_same_score_matrix() -> None:
    rng = np.random.default_rng(7)
    normalized = rng.normal(0.6, 0.5, size=(5, len(TASKS)))  # runs x tasks, some above 1
    anchors = [REFERENCES[env] for env in TASKS]
    raw = np.column_stack(
        [
            a.random.score + normalized[:, k] * (a.reference.score - a.random.score)
            for k, a in enumerate(anchors)
        ]
    )
    [group] = normalized_comparison(members(raw), resamples=2000).groups
    # the matrix gymrun normalized is the one given, to rounding of the raw scores
    matrix = np.column_stack([t.normalized for t in group.tasks])
    np.testing.assert_allclose(matrix, normalized, rtol=1e-9, atol=1e-9)
    points, intervals = library.get_interval_estimates(
        {"x": matrix},
        rliable_four,
        reps=2000,
        random_state=np.random.RandomState(0),
    )
    names = ["iqm", "median", "mean", "optimality_gap"]
    found = [group.aggregate[name] for name in names]
    assert [e.value for e in found] == points["x"].tolist()  # exactly rliable's
    # intervals: the same bootstrap, other random draws: equal within bootstrap noise
    for k, estimate in enumerate(found):
        low, high = intervals["x"][:, k]
        width = high - low
        assert estimate.low == pytest.approx(low, abs=0.1 * width)
        assert estimate.high == pytest.approx(high, abs=0.1 * width)
    # per task: the same statistics of that task's column
    for k, task in enumerate(group.tasks):
        column = matrix[:, k]
        assert task.estimates["mean"].value == pytest.approx(column.mean())
        assert task.estimates["median"].value == pytest.approx(np.median(column))
        assert task.estimates["iqm"].value == pytest.approx(metrics.aggregate_iqm(column[:, None]))


def test_a_task_without_reference_scores_is_named_and_left_out() -> None:
    references = {"CartPole-v1": REFERENCES["CartPole-v1"]}
    runs = members(np.full((3, len(TASKS)), 261.52))  # CartPole: 0.5
    result = normalized_comparison(runs, references, resamples=1000)
    [group] = result.groups
    assert [t.env for t in group.tasks] == ["CartPole-v1"]
    assert group.left_out == ["Acrobot-v1", "LunarLander-v3", "MountainCar-v0"]
    assert group.aggregate["mean"].value == pytest.approx(0.5)
    assert group.runs == 3
    assert result.notes[0] == (
        "Acrobot-v1 has no reference scores: left out of the normalized scores of heuristic "
        "(tasks with them: gymrun baselines)"
    )
    assert len(result.notes) == 3


def test_runs_of_one_task_or_of_other_agents_are_not_aggregated() -> None:
    one_task = [m for m in members(np.zeros((2, len(TASKS)))) if m.env == "CartPole-v1"]
    others = members(np.zeros((2, len(TASKS))), agent="random")
    result = normalized_comparison(one_task + others, resamples=1000)
    assert [g.label for g in result.groups] == ["random"]  # heuristic spans one task only


def test_normalize_puts_random_at_0_and_the_reference_at_1() -> None:
    task = ReferenceScores("T", Anchor(-200.0, "r"), Anchor(-100.0, "b"))
    assert [task.normalize(s) for s in (-200.0, -150.0, -100.0, -50.0)] == [0.0, 0.5, 1.0, 1.5]
