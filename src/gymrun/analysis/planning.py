"""How many runs (seeds) a comparison needs, planned from a few pilot runs, as Colas, Sigaud
and Oudeyer recommend ("How Many Random Seeds? Statistical Power Analysis in Deep RL
Experiments", 2018).

The comparison planned for is Welch's t-test, two-sided, on run scores (a run's mean episode
reward), with the same number of runs in each group. The runs needed are the fewest whose
power (the chance the test finds a true difference of the size asked) reaches the target,
found with the t distribution itself: under the alternative, Welch's statistic follows a
noncentral t with Welch-Satterthwaite degrees of freedom. The normal approximation would ask
for too few runs when the answer is small, which is where RL experiments live.

A pilot's standard deviation is itself uncertain, and few runs measure it poorly; so the
plan is given again for the upper end of the standard deviation's 90% interval (from the
chi-square distribution of the sample variance), and a pilot of fewer than `FEW_RUNS` runs
is warned about. scipy is imported here, at the top, as in `gymrun.core.scores`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from gymrun.analysis.groups import (
    Member,
    experiment,
    group_key,
    labels,
    scored_runs,
    unscored,
)
from gymrun.config.wording import wording
from gymrun.errors import PilotError, UsageError
from gymrun.numbers import counted

TEST = "Welch's t-test, two-sided"
SD_CONFIDENCE = 0.90  # the interval of the pilot's standard deviation
FEW_RUNS = 5  # fewer pilot runs in a group than this, and the plan is warned about
MAX_RUNS = 10**12  # beyond this, a plan is no plan


@dataclass(frozen=True)
class Pilot:
    """The pilot runs of one group: each run's score, and what names the group and its runs.

    >>> pilot = Pilot((10.0, 12.0, 14.0), "baseline")
    >>> pilot.mean, pilot.sd, round(pilot.sd_high, 2)
    (12.0, 2.0, 8.83)
    """

    scores: tuple[float, ...]
    label: str = "pilot"
    runs: tuple[str, ...] = ()
    unscored: int = 0  # completed runs without a score (no episode with a finite reward)
    unfinished: tuple[str, ...] = ()  # runs of the group left out: not completed
    repeats: int = 0  # completed runs of a seed a newer run of the group stands for

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def sd(self) -> float:
        """The sample standard deviation (n - 1 in the denominator)."""
        return float(np.std(self.scores, ddof=1))

    @property
    def sd_high(self) -> float:
        """The upper end of the standard deviation's `SD_CONFIDENCE` interval:
        s * sqrt((n - 1) / chi2((1 - confidence) / 2; n - 1)), chi2(q; k) the q quantile."""
        dof = len(self.scores) - 1
        lower_quantile = stats.chi2.ppf((1 - SD_CONFIDENCE) / 2, dof)
        return self.sd * math.sqrt(dof / lower_quantile)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "runs": list(self.runs),
            "scores": list(self.scores),
            "mean": self.mean,
            "sd": self.sd,
            "sd_high": self.sd_high,
            "left_out_unfinished": list(self.unfinished),
        }


@dataclass(frozen=True)
class SeedPlan:
    """The runs per group a comparison needs, and what the plan rests on."""

    runs_per_group: int
    runs_per_group_if_sd_high: int
    achieved_power: float  # at runs_per_group, with the pilot's standard deviations
    difference: float  # in score units
    relative: float | None  # the difference as a fraction of the pilot mean, when so given
    alpha: float
    power: float
    pilots: tuple[Pilot, ...]
    warnings: tuple[str, ...]
    test: str = TEST

    @property
    def pilot_mean(self) -> float:
        """The mean of the groups' means (a relative difference is a share of it)."""
        return pilot_mean(self.pilots)

    def to_json(self) -> dict[str, Any]:
        return {
            "runs_per_group": self.runs_per_group,
            "test": self.test,
            "alpha": self.alpha,
            "power": self.power,
            "difference": self.difference,
            "difference_relative": self.relative,
            "achieved_power": self.achieved_power,
            "pilot": {
                "groups": [p.to_json() for p in self.pilots],
                "mean": self.pilot_mean,
                "sd_confidence": SD_CONFIDENCE,
                "same_spread_assumed": len(self.pilots) == 1,
            },
            "runs_per_group_if_sd_high": self.runs_per_group_if_sd_high,
            "warnings": list(self.warnings),
        }


def plan_seeds(
    scores_a: Sequence[float] | Pilot,
    scores_b: Sequence[float] | Pilot | None = None,
    *,
    difference: float | str,
    power: float = 0.8,
    alpha: float = 0.05,
) -> SeedPlan:
    """The runs per group that detect a true `difference` between two groups' mean scores
    with probability `power`, by Welch's two-sided t-test at level `alpha`.

    `scores_a` (and `scores_b`) are pilot runs' scores; with one group, both groups of the
    planned comparison are taken to spread as it does. `difference` is in score units, or a
    percentage of the pilot mean (``"10%"``).

    >>> plan = plan_seeds([8.0, 10.0, 12.0, 9.0, 11.0], difference=2.0)
    >>> plan.runs_per_group, plan.runs_per_group_if_sd_high
    (11, 57)
    >>> plan_seeds([8.0, 10.0, 12.0], [12.0, 16.0, 20.0], difference="20%").runs_per_group
    25
    """
    _check_level("power", power)
    _check_level("alpha", alpha)
    if power <= alpha:
        given = wording().valued  # a library call's arguments, or gymrun plan-seeds' options
        raise UsageError(f"{given('power', power)}: must be above {given('alpha', alpha)}")
    pilots = tuple(
        p if isinstance(p, Pilot) else Pilot(tuple(float(s) for s in p), label)
        for p, label in ((scores_a, "a"), (scores_b, "b"))
        if p is not None
    )
    for pilot in pilots:
        _check_pilot(pilot)
    # Welch's test needs some spread, not spread in each group: a group whose pilot runs
    # all scored alike is planned as never varying, and the plan says so.
    steady = [p for p in pilots if p.sd == 0]
    if len(steady) == len(pilots):
        pilot = steady[0]
        also = f" (and {steady[1].label}'s all {steady[1].scores[0]:g})" if len(steady) > 1 else ""
        raise PilotError(
            f"{pilot.label}: its {len(pilot.scores)} pilot runs all scored "
            f"{pilot.scores[0]:g}{also}: no spread to plan from"
        )
    sds = [p.sd for p in pilots] * (3 - len(pilots))  # one group: both spread as it does
    highs = [p.sd_high for p in pilots] * (3 - len(pilots))
    absolute, relative = _difference(difference, pilot_mean(pilots))
    runs = runs_needed(absolute, sds[0], sds[1], power=power, alpha=alpha)
    return SeedPlan(
        runs_per_group=runs,
        runs_per_group_if_sd_high=runs_needed(
            absolute, highs[0], highs[1], power=power, alpha=alpha
        ),
        achieved_power=welch_power(runs, absolute, sds[0], sds[1], alpha),
        difference=absolute,
        relative=relative,
        alpha=alpha,
        power=power,
        pilots=pilots,
        warnings=tuple(
            f"{p.label}: {len(p.scores)} pilot runs; with fewer than {FEW_RUNS} their "
            "standard deviation, and so this plan, is unreliable"
            for p in pilots
            if len(p.scores) < FEW_RUNS
        )
        + tuple(
            f"{p.label}: its {len(p.scores)} pilot runs all scored {p.scores[0]:g}; the plan "
            "takes it never to vary"
            for p in steady
        )
        + tuple(
            f"{p.label}: left out, not completed: {', '.join(p.unfinished)}"
            for p in pilots
            if p.unfinished
        ),
    )


def welch_power(runs: int, difference: float, sd_a: float, sd_b: float, alpha: float) -> float:
    """The power of Welch's two-sided t-test at level `alpha`, with `runs` runs in each of two
    groups whose means differ by `difference` and whose standard deviations are `sd_a` and
    `sd_b`: P(|T| > t crit) for T noncentral t with Welch-Satterthwaite degrees of freedom.

    >>> round(welch_power(64, 0.5, 1.0, 1.0, 0.05), 4)  # Cohen's d = 0.5: 64 a group
    0.8015
    """
    var_a, var_b = sd_a**2 / runs, sd_b**2 / runs
    dof = (var_a + var_b) ** 2 / ((var_a**2 + var_b**2) / (runs - 1))
    noncentrality = difference / math.sqrt(var_a + var_b)
    critical = stats.t.isf(alpha / 2, dof)
    return float(
        stats.nct.sf(critical, dof, noncentrality) + stats.nct.cdf(-critical, dof, noncentrality)
    )


def runs_needed(difference: float, sd_a: float, sd_b: float, *, power: float, alpha: float) -> int:
    """The fewest runs per group (2 at least) at which `welch_power` reaches `power`.

    >>> [runs_needed(d, 1.0, 1.0, power=0.8, alpha=0.05) for d in (0.2, 0.5, 0.8)]  # Cohen's d
    [394, 64, 26]
    """

    def enough(runs: int) -> bool:
        return welch_power(runs, difference, sd_a, sd_b, alpha) >= power

    # Power grows with the runs: double until enough, then halve the gap.
    low, high = 1, 2  # not enough at low (one run tests nothing), unknown at high
    while not enough(high):
        if high > MAX_RUNS:
            given = wording().valued("difference", difference)
            raise UsageError(
                f"{given}: too small next to a standard deviation of "
                f"{max(sd_a, sd_b):g} to detect with fewer than {MAX_RUNS:,} runs"
            )
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def pilots(members: Sequence[Member]) -> list[Pilot]:
    """The pilot runs grouped as ``gymrun compare`` groups them (by config, each seed's
    newest completed run scored), groups in the order of their first run.

    >>> def run(eps, seed, score):
    ...     config = {"name": "x", "env": {"id": "CartPole-v1"}, "epsilon": eps, "seed": seed}
    ...     return Member(f"{eps}-{seed}", config, "completed", score)
    >>> [(p.label, p.scores) for p in pilots([run(0.5, s, 13.0 + s) for s in range(3)])]
    [('x', (13.0, 14.0, 15.0))]
    """
    if not members:
        raise PilotError("no pilot runs")
    grouped: dict[str, list[Member]] = {}
    for member in members:
        grouped.setdefault(group_key(member.config, member.provenance), []).append(member)
    runs = list(grouped.values())
    names = labels([experiment(g[0].config, g[0].provenance) for g in runs])
    if len(runs) > 2:
        raise PilotError(
            f"the pilot runs make {len(runs)} groups ({'; '.join(names)}): a plan compares "
            "one group's spread, or two groups'; give the runs of one or two configs"
        )
    found = []
    for group, name in zip(runs, names, strict=True):
        scored = scored_runs(group)
        found.append(
            Pilot(
                tuple(float(m.score) for m in scored if m.score is not None),
                name,
                tuple(m.run for m in scored),
                sum(m.status == "completed" and m.score is None for m in group),
                tuple(m.run for m in group if m.status != "completed"),
                sum(m.status == "completed" and m.score is not None for m in group) - len(scored),
            )
        )
    return found


def pilot_mean(groups: Sequence[Pilot]) -> float:
    """The mean of the groups' mean scores: each group counts once, however many runs."""
    return float(np.mean([p.mean for p in groups]))


def _check_pilot(pilot: Pilot) -> None:
    count = len(pilot.scores)
    if count < 2:
        completed = unscored(pilot.unscored) if count == 0 else "1 completed run"
        if count and pilot.unscored:
            completed += f" with a score, and {unscored(pilot.unscored)}"
        if pilot.repeats:  # runs of one seed repeat each other: one stands for them all
            again = counted(pilot.repeats, "other run")
            completed += f" ({again} of the same seed, which repeat{'s' * (pilot.repeats == 1)} it)"
        # recordings/NAME names its newest run only, as for `gymrun compare`
        hint = " (for every run of recordings/NAME, give recordings/NAME/*)" if count else ""
        if pilot.repeats:
            hint = f" (run the config with other seeds: {wording().either('seed=N', '--seed N')})"
        raise PilotError(
            f"{pilot.label}: {completed}; a pilot needs at least 2 runs (seeds) to measure "
            f"how runs spread, {FEW_RUNS} or more to trust it{hint}"
        )
    if not all(math.isfinite(s) for s in pilot.scores):
        raise PilotError(f"{pilot.label}: a pilot score is not a finite number")


def _check_level(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise UsageError(f"{wording().valued(name, value)}: must be between 0 and 1 (exclusive)")


def _difference(difference: float | str, mean: float) -> tuple[float, float | None]:
    """`difference` in score units, and as a fraction of the pilot mean when so given."""
    text = str(difference).strip()
    where = wording().valued("difference", text if isinstance(difference, str) else difference)
    relative = text.endswith("%")
    try:
        value = float(text.removesuffix("%"))
    except ValueError:
        raise UsageError(
            f"{where}: not a number of score units (10) or a percentage of the pilot mean (10%)"
        ) from None
    if not math.isfinite(value):
        raise UsageError(f"{where}: must be a finite number above 0")
    if value <= 0:
        raise UsageError(f"{where}: must be above 0")
    if not relative:
        return value, None
    if mean == 0:
        raise UsageError(f"{where}: the pilot mean is 0; give the difference in units")
    return value / 100 * abs(mean), value / 100
