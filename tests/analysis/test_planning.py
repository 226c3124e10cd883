"""Seed planning: the runs per group match the textbook (Cohen; G*Power) with equal spreads,
and simulated experiments with Welch's test reach the power asked at that many runs and not
at one fewer; a small pilot is warned about and its uncertainty shown; bad input is refused."""

import math

import numpy as np
import pytest
from scipy import stats

from gymrun.analysis.groups import Member
from gymrun.analysis.planning import Pilot, pilots, plan_seeds, runs_needed, welch_power
from gymrun.errors import PilotError, UsageError

SIMULATED = 4000  # experiments per sample size: the power's standard error is under 0.0065
NOISE = 0.016  # 2.5 standard errors


def unit_sd(count: int, mean: float = 0.0) -> list[float]:
    """`count` scores with sample standard deviation exactly 1."""
    raw = np.arange(count, dtype=float)
    return list(mean + (raw - raw.mean()) / raw.std(ddof=1))


@pytest.mark.parametrize(
    ("effect", "power", "alpha", "runs"),
    [
        (0.2, 0.8, 0.05, 394),  # Cohen's small, medium and large effects
        (0.5, 0.8, 0.05, 64),
        (0.8, 0.8, 0.05, 26),
        (0.5, 0.9, 0.05, 86),
        (0.5, 0.8, 0.01, 96),
    ],
)
def test_equal_spreads_need_the_textbook_runs(
    effect: float, power: float, alpha: float, runs: int
) -> None:
    # With equal standard deviations and equal groups Welch's degrees of freedom are the
    # pooled test's, 2(n - 1): G*Power's "difference between two independent means".
    plan = plan_seeds(unit_sd(8, 100.0), difference=effect, power=power, alpha=alpha)
    assert plan.runs_per_group == runs
    assert plan.achieved_power >= power > welch_power(runs - 1, effect, 1.0, 1.0, alpha)


def simulated_power(runs: int, difference: float, sd_a: float, sd_b: float) -> float:
    """The share of `SIMULATED` experiments, `runs` normal scores a group, that scipy's Welch
    test finds significant at 0.05."""
    rng = np.random.default_rng(runs)
    a = rng.normal(0.0, sd_a, (SIMULATED, runs))
    b = rng.normal(difference, sd_b, (SIMULATED, runs))
    return float(np.mean(stats.ttest_ind(a, b, axis=1, equal_var=False).pvalue < 0.05))


@pytest.mark.parametrize(
    ("difference", "sd_a", "sd_b"), [(1.5, 1.0, 1.0), (1.5, 1.0, 3.0), (2.0, 1.0, 2.0)]
)
def test_simulated_experiments_reach_the_power_at_the_planned_runs(
    difference: float, sd_a: float, sd_b: float
) -> None:
    runs = runs_needed(difference, sd_a, sd_b, power=0.8, alpha=0.05)
    at_plan = simulated_power(runs, difference, sd_a, sd_b)
    assert at_plan >= 0.8 - NOISE
    assert simulated_power(runs - 1, difference, sd_a, sd_b) < 0.8 + NOISE
    assert at_plan == pytest.approx(welch_power(runs, difference, sd_a, sd_b, 0.05), abs=0.025)


def test_the_normal_approximation_would_plan_too_few_runs() -> None:
    runs = runs_needed(1.5, 1.0, 1.0, power=0.8, alpha=0.05)
    normal = math.ceil(2 * (stats.norm.isf(0.025) + stats.norm.isf(0.2)) ** 2 / 1.5**2)
    assert (runs, normal) == (9, 7)
    assert simulated_power(normal, 1.5, 1.0, 1.0) < 0.75  # far short of the 0.8 asked


def test_two_pilot_groups_are_planned_with_their_own_spreads() -> None:
    narrow, wide = unit_sd(6), [3 * s + 10 for s in unit_sd(6)]
    plan = plan_seeds(narrow, wide, difference=1.5)
    assert plan.runs_per_group == runs_needed(1.5, 1.0, 3.0, power=0.8, alpha=0.05) == 37
    assert [p.sd for p in plan.pilots] == pytest.approx([1.0, 3.0])


def test_the_plan_is_given_again_for_a_high_standard_deviation() -> None:
    plan = plan_seeds(unit_sd(6), difference=1.0)
    # the upper end of the 90% interval: s * sqrt(5 / chi2(0.05; 5)), chi2(0.05; 5) = 1.1455
    [pilot] = plan.pilots
    assert pilot.sd_high == pytest.approx(2.0893, abs=1e-4)
    high = runs_needed(1.0, pilot.sd_high, pilot.sd_high, power=0.8, alpha=0.05)
    assert (plan.runs_per_group, plan.runs_per_group_if_sd_high) == (17, high)
    assert high == 70


def test_a_pilot_of_fewer_than_five_runs_is_warned_about() -> None:
    assert plan_seeds(unit_sd(5), difference=1.0).warnings == ()
    plan = plan_seeds(unit_sd(4), unit_sd(9), difference=1.0)
    assert plan.warnings == (
        "a: 4 pilot runs; with fewer than 5 their standard deviation, and so this plan, "
        "is unreliable",
    )


def test_a_relative_difference_is_a_share_of_the_pilot_mean() -> None:
    plan = plan_seeds(unit_sd(6, 20.0), difference="10%")
    assert (plan.difference, plan.relative) == (pytest.approx(2.0), 0.1)
    assert plan.runs_per_group == plan_seeds(unit_sd(6, 20.0), difference=2.0).runs_per_group
    # with two groups, of the mean of their means: each group counts once
    two = plan_seeds(unit_sd(6, 20.0), unit_sd(3, 40.0), difference="10%")
    assert two.difference == pytest.approx(3.0)
    document = plan.to_json()
    assert document["difference"] == pytest.approx(2.0)
    assert document["test"] == "Welch's t-test, two-sided"
    assert set(document) >= {"runs_per_group", "runs_per_group_if_sd_high", "pilot", "warnings"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"difference": 0}, "difference=0: must be above 0"),
        ({"difference": "-5%"}, "difference='-5%': must be above 0"),
        ({"difference": float("inf")}, "difference=inf: must be a finite number above 0"),
        ({"difference": "nan%"}, "difference='nan%': must be a finite number above 0"),
        (
            {"difference": "ten"},
            "difference='ten': not a number of score units (10) or a percentage of the pilot "
            "mean (10%)",
        ),
        ({"difference": 1, "power": 1.0}, "power=1.0: must be between 0 and 1 (exclusive)"),
        ({"difference": 1, "alpha": 0}, "alpha=0: must be between 0 and 1 (exclusive)"),
        ({"difference": 1, "power": 0.04}, "power=0.04: must be above alpha=0.05"),
    ],
)
def test_bad_arguments_are_refused_naming_them(
    options: dict[str, float | str], message: str
) -> None:
    """As plan_seeds' arguments: ``--power`` and the like are gymrun plan-seeds' options."""
    with pytest.raises(UsageError) as raised:
        plan_seeds(unit_sd(5), **options)  # type: ignore[arg-type]
    assert str(raised.value) == message


def test_a_difference_too_small_to_detect_is_named_as_passed() -> None:
    with pytest.raises(UsageError) as raised:
        runs_needed(1e-9, 1.0, 1.0, power=0.8, alpha=0.05)
    assert str(raised.value) == (
        "difference=1e-09: too small next to a standard deviation of 1 to detect with fewer "
        "than 1,000,000,000,000 runs"
    )


def test_pilots_that_cannot_be_planned_from_are_refused() -> None:
    with pytest.raises(PilotError, match=r"^a: 1 completed run; a pilot needs at least 2 runs"):
        plan_seeds([10.0], difference=1.0)
    with pytest.raises(PilotError, match=r"^a: its 3 pilot runs all scored 9: no spread"):
        plan_seeds([9.0, 9.0, 9.0], difference=1.0)
    both = r"^a: its 3 pilot runs all scored 9 \(and b's all 4\): no spread to plan from$"
    with pytest.raises(PilotError, match=both):
        plan_seeds([9.0] * 3, Pilot((4.0,) * 5, "b"), difference=1.0)


def test_one_group_that_never_varied_is_planned_from_the_others_spread() -> None:
    # Welch's test needs spread, not spread in each group: a perfect baseline (CartPole's 500
    # every time) against a noisy agent is planned for, and the plan says what it assumed
    plan = plan_seeds(unit_sd(5), Pilot((9.0,) * 5, "b"), difference=1.0)
    assert plan.runs_per_group == runs_needed(1.0, 1.0, 0.0, power=0.8, alpha=0.05)
    assert plan.runs_per_group < plan_seeds(unit_sd(5), difference=1.0).runs_per_group
    assert plan.warnings == ("b: its 5 pilot runs all scored 9; the plan takes it never to vary",)


def member(epsilon: float, seed: int, score: float, status: str = "completed") -> Member:
    config = {"name": "x", "env": {"id": "CartPole-v1"}, "epsilon": epsilon, "seed": seed}
    return Member(f"{epsilon}-{seed}", config, status, score)


def test_runs_are_grouped_as_compare_groups_them() -> None:
    runs = [member(0.5, s, 10.0 + s) for s in range(3)] + [member(0.2, 0, 4.0)]
    runs += [member(0.2, 1, 6.0), member(0.2, 2, 99.0, status="interrupted")]
    found = pilots(runs)
    assert [(p.label, p.scores, p.runs) for p in found] == [
        ("x: epsilon=0.5", (10.0, 11.0, 12.0), ("0.5-0", "0.5-1", "0.5-2")),
        ("x: epsilon=0.2", (4.0, 6.0), ("0.2-0", "0.2-1")),
    ]
    # the interrupted run is left out, and the plan says so
    plan = plan_seeds(*found, difference=1.0)
    assert "x: epsilon=0.2: left out, not completed: 0.2-2" in plan.warnings
    assert plan.to_json()["pilot"]["groups"][1]["left_out_unfinished"] == ["0.2-2"]
    with pytest.raises(PilotError, match=r"^the pilot runs make 3 groups \(x: epsilon=0.5; "):
        pilots([*runs, member(0.9, 0, 1.0)])
    with pytest.raises(PilotError, match=r"^no pilot runs$"):
        pilots([])
