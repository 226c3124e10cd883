"""The sequential test of a duel: its error rate over every look, measured by simulation on
synthetic scores, how soon it decides a clear difference, and that its looks do not depend
on the seeds still to come."""

import math

import numpy as np
import pytest

from gymrun.analysis.sequential import (
    SPENDING,
    fewest_seeds,
    round_sizes,
    sequential_looks,
)
from gymrun.errors import UsageError

DUELS = 2000
ALPHA = 0.05
# Three standard errors of a rate of ALPHA measured over DUELS duels.
SAMPLING = 3 * math.sqrt(ALPHA * (1 - ALPHA) / DUELS)


def decisions(draw, spending: str = "linear", max_seeds: int = 20, per_round: int = 4):  # type: ignore[no-untyped-def]
    """How often simulated duels of `draw`'s scores end in each decision, and their seeds."""
    rng = np.random.default_rng(7)
    sizes = round_sizes(max_seeds, per_round)
    found = {"A": 0, "B": 0, "none": 0}
    seeds = []
    for _ in range(DUELS):
        a, b = draw(rng, max_seeds)
        # 1,000 labellings: the guarantee holds for any number of them, and it keeps this cheap
        [*_, last] = sequential_looks(
            a, b, sizes, max_seeds=max_seeds, spending=spending, resamples=1000
        )
        found[last.decision] += 1
        seeds.append(last.seeds)
    return {k: v / DUELS for k, v in found.items()}, float(np.mean(seeds))


def equal_normals(rng, n):  # type: ignore[no-untyped-def]
    return rng.normal(100.0, 15.0, n), rng.normal(100.0, 15.0, n)


def equal_skewed(rng, n):  # type: ignore[no-untyped-def]
    # episode lengths of a weak agent: most short, a few long
    return rng.exponential(20.0, n), rng.exponential(20.0, n)


@pytest.mark.parametrize(
    ("draw", "spending"),
    [*((equal_normals, name) for name in SPENDING), (equal_skewed, "linear")],
    ids=[*(f"normal-{name}" for name in SPENDING), "skewed-linear"],
)
def test_equal_configs_are_called_different_at_most_alpha_of_the_time(draw, spending) -> None:  # type: ignore[no-untyped-def]
    rates, _ = decisions(draw, spending)
    different = rates["A"] + rates["B"]
    assert different <= ALPHA + SAMPLING, rates
    # it spends its alpha: a rule that never decided would pass the bound above
    assert different >= ALPHA - SAMPLING, rates
    assert abs(rates["A"] - rates["B"]) <= 2 * SAMPLING, rates  # two-sided: either way alike


def test_a_clear_difference_is_decided_at_the_first_round_that_can() -> None:
    def apart(rng, n):  # type: ignore[no-untyped-def]
        return rng.normal(110.0, 1.0, n), rng.normal(100.0, 1.0, n)

    rates, seeds = decisions(apart)
    assert rates == {"A": 1.0, "B": 0.0, "none": 0.0}
    # 4 seeds of each cannot decide at 0.05 (a sign-flip test needs 6), 8 can
    assert seeds == 8.0


def test_a_moderate_difference_is_found_more_often_than_not_and_before_the_end() -> None:
    def apart(rng, n):  # type: ignore[no-untyped-def]
        return rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n)

    rates, seeds = decisions(apart)
    assert rates["A"] > 0.7 and rates["B"] == 0.0
    assert seeds < 17


def test_identical_scores_are_never_called_different() -> None:
    scores = [21.2, 20.8, 17.6, 24.4, 21.4, 23.2]
    looks = sequential_looks(scores, scores, [3, 6], max_seeds=6)
    assert [(look.seeds, look.difference, look.boundary, look.decision) for look in looks] == [
        (3, 0.0, None, None),
        (6, 0.0, None, "none"),
    ]


def test_a_look_depends_only_on_the_seeds_so_far() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0.4, 1.0, 20), rng.normal(0.0, 1.0, 20)
    early = sequential_looks(a[:8], b[:8], [4, 8], max_seeds=20)
    whole = sequential_looks(a, b, [4, 8, 12, 16, 20], max_seeds=20)
    assert early[-1].decision is None
    assert whole[:2] == early
    assert sequential_looks(a, b, [4, 8, 12, 16, 20], max_seeds=20) == whole  # seeded


def test_too_few_seeds_for_alpha_never_decide() -> None:
    assert fewest_seeds(ALPHA) == 6
    a, b = [10.0] * 5, [0.0] * 5
    [look] = sequential_looks(a, b, [5], max_seeds=5)
    assert (look.boundary, look.decision) == (None, "none")
    [look] = sequential_looks([*a, 10.0], [*b, 0.0], [6], max_seeds=6)
    assert look.decision == "A"


def test_the_boundary_is_in_score_units_and_shrinks_as_alpha_is_spent() -> None:
    a = [20.0, 22, 19, 25, 21, 23, 18, 24, 20, 22, 19, 25]
    b = [21.0, 20, 22, 21, 20, 24, 19, 23, 22, 21, 20, 23]
    looks = sequential_looks(a, b, [4, 8, 12], max_seeds=12, spending="obrien-fleming")
    assert [look.decision for look in looks] == [None, None, "none"]
    assert looks[0].boundary is None and looks[1].boundary is not None
    assert 0 < looks[2].boundary < looks[1].boundary
    assert looks[2].spent == pytest.approx(ALPHA)
    assert looks[2].difference == pytest.approx(np.mean(a) - np.mean(b))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"alpha": 0.0}, "alpha=0.0: the test's level is a probability between 0 and 1"),
        ({"alpha": 1.5}, "alpha=1.5: the test's level is a probability between 0 and 1"),
        ({"spending": "fast"}, "spending='fast': use one of linear, obrien-fleming, pocock"),
    ],
)
def test_settings_that_mean_nothing_are_refused(settings, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError) as exc:
        sequential_looks([1.0], [2.0], [1], max_seeds=1, **settings)
    assert str(exc.value) == message
