"""A sequential two-sided test on paired run scores: after each round of seeds it says that
A scores higher, that B does, or that it cannot tell yet; at the most seeds allowed, "cannot
tell" is final. Over all its looks, it calls two equally good configs different at most
`alpha` of the time.

The test is AdaStop's (Mathieu et al., 2023, "AdaStop: adaptive statistical testing for
sound comparisons of Deep RL agents", arXiv:2306.10882) for two agents, in its paired form:
A and B play the same seeds (common random numbers), so the scores come in pairs, and the
permutations that AdaStop draws within each round become sign flips of each seed's
difference ``d = score A - score B`` (the paired permutation test: under the null that A
and B are exchangeable on a seed, each difference is as likely to have either sign).

At look k, after n_k seeds of each, the statistic is ``|sum of d|`` (n_k times the mean
difference). Its distribution under the null comes from `RESAMPLES` labellings of the
differences with random signs, drawn once, seeded, the first of them the one observed.
Alpha is spent over the looks as a Lan-DeMets spending function of the information
fraction t = n_k / max_seeds says (`SPENDING`): the boundary of look k is the smallest value
that at most ``floor(alpha(t) * RESAMPLES)`` labellings, counting those stopped at earlier
looks, exceed, among the labellings that have not crossed an earlier boundary. The
observed labelling beyond it decides, in the direction of its sign.

Every labelling is treated alike, and the observed one is one of them, so under the null the
chance that it is among those that cross any boundary is at most alpha, exactly, however
few the resamples and whatever the distribution of the scores (a Monte Carlo permutation
test's finite-sample guarantee). What the test assumes is that under the null each seed's
difference is symmetric about 0: true when A and B are the same agent, and the null of a
paired comparison of two agents. A sign-flip test on n seeds cannot reach a two-sided
p-value below 2 / 2**n: at alpha 0.05 no decision is possible before 6 seeds of each
(`fewest_seeds`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from gymrun.config.wording import wording
from gymrun.errors import UsageError

TEST = "paired sign-flip permutation test, group-sequential (AdaStop, paired)"
REFERENCE = (
    "Mathieu et al. 2023, AdaStop: adaptive statistical testing for sound comparisons of "
    "Deep RL agents (arXiv:2306.10882), paired; Lan and DeMets 1983, Discrete sequential "
    "boundaries for clinical trials (Biometrika 70:659)"
)
RESAMPLES = 20_000  # random sign labellings, the observed one among them
SEED = 0
# A tie between two labellings' statistics is a tie within this share of the largest
# statistic: sums of the same differences in another order differ in their last bits.
TIE = 1e-9


def _linear(alpha: float, t: float) -> float:
    return alpha * t


def _obrien_fleming(alpha: float, t: float) -> float:
    normal = NormalDist()
    return 2 * (1 - normal.cdf(normal.inv_cdf(1 - alpha / 2) / math.sqrt(t)))


def _pocock(alpha: float, t: float) -> float:
    return alpha * math.log(1 + (math.e - 1) * t)


# Lan-DeMets spending functions: the share of alpha a test may have spent once the fraction
# t of its most seeds is in. `linear` is AdaStop's (alpha k / K); `obrien-fleming` spends
# next to nothing early and keeps the most for the end; `pocock` spends early.
SPENDING: dict[str, Callable[[float, float], float]] = {
    "linear": _linear,
    "obrien-fleming": _obrien_fleming,
    "pocock": _pocock,
}
DECISIONS = ("A", "B", "none")


@dataclass(frozen=True)
class Look:
    """The test after `seeds` seeds of each side: each side's mean score, the boundary the
    mean difference (A - B) must go beyond (None: no difference could, yet), the alpha spent
    by then, and what it decided: ``A`` or ``B`` (that side scores higher), ``none`` (the
    last look: no difference detectable within the most seeds) or None (go on)."""

    seeds: int
    mean_a: float
    mean_b: float
    boundary: float | None
    spent: float
    decision: str | None

    @property
    def difference(self) -> float:
        return self.mean_a - self.mean_b

    def to_json(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "mean_a": self.mean_a,
            "mean_b": self.mean_b,
            "difference": self.difference,
            "boundary": self.boundary,
            "spent": self.spent,
            "decision": self.decision,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Look:
        keys = ("seeds", "mean_a", "mean_b", "boundary", "spent", "decision")
        return cls(*(data[key] for key in keys))


def round_sizes(max_seeds: int, per_round: int) -> list[int]:
    """The seeds of each side at each look: `per_round` more each round, up to `max_seeds`.

    >>> round_sizes(20, 4), round_sizes(10, 4), round_sizes(3, 5)
    ([4, 8, 12, 16, 20], [4, 8, 10], [3])
    """
    return [min(size, max_seeds) for size in range(per_round, max_seeds + per_round, per_round)]


def fewest_seeds(alpha: float) -> int:
    """The fewest seeds of each side at which a sign-flip test can decide at `alpha`, when
    all of it is spent there: the smallest n with 2 / 2**n <= alpha.

    >>> fewest_seeds(0.05), fewest_seeds(0.01), fewest_seeds(0.5)
    (6, 8, 2)
    """
    return max(1, math.ceil(math.log2(2 / alpha) - 1e-12))


def check_settings(alpha: float, spending: str) -> None:
    """Refuse a level outside (0, 1) and a spending function that is not one of `SPENDING`."""
    given = wording().valued  # a library call's arguments, or gymrun duel's options
    if not 0 < alpha < 1:
        raise UsageError(
            f"{given('alpha', alpha)}: the test's level is a probability between 0 and 1"
        )
    if spending not in SPENDING:
        raise UsageError(f"{given('spending', spending)}: use one of {', '.join(SPENDING)}")


def sequential_looks(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    sizes: Sequence[int],
    *,
    max_seeds: int,
    alpha: float = 0.05,
    spending: str = "linear",
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> list[Look]:
    """The test's looks at paired scores (``a[i]`` and ``b[i]`` from seed i) after each
    number of seeds in `sizes`, up to the first that decides. The same scores give the same
    looks every time: the labellings are seeded, and the first n seeds' signs do not depend
    on how many seeds come after.

    >>> a, b = [20.0, 22, 19, 25, 21, 23, 18, 24], [500.0] * 8
    >>> [(look.seeds, look.boundary, look.decision) for look in
    ...  sequential_looks(a, b, [4, 8], max_seeds=20)]
    [(4, None, None), (8, 359.5, 'B')]
    >>> sequential_looks(a, a, [4, 8], max_seeds=8)[-1].decision
    'none'
    """
    check_settings(alpha, spending)
    differences = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(differences) != len(b) or not all(0 < n <= len(differences) for n in sizes):
        raise ValueError("sizes must count seeds that both sides have scores for")
    if any(n >= m for n, m in itertools.pairwise(sizes)) or sizes[-1] > max_seeds:
        raise ValueError("sizes must increase, up to max_seeds")
    if not np.isfinite(differences).all():
        raise ValueError("every score must be a finite number")
    spend = SPENDING[spending]
    rng = np.random.default_rng(seed)
    sums = np.zeros(resamples)
    alive = np.ones(resamples, dtype=bool)
    crossed = 0
    looks: list[Look] = []
    done = 0
    for n in sizes:
        new = differences[done:n]
        # One row of signs per seed, in seed order: seed i's signs are the same however
        # the seeds are cut into rounds.
        flips = rng.random((len(new), resamples)) < 0.5
        flips[:, 0] = False  # labelling 0 is the one observed
        sums += new @ np.where(flips, -1.0, 1.0)
        done = n
        allowed = math.floor(spend(alpha, n / max_seeds) * resamples + 1e-9) - crossed
        statistics = np.abs(sums)
        largest = float(np.abs(differences[:n]).sum())  # what any labelling can reach
        tie = TIE * largest
        boundary = _boundary(statistics[alive], allowed)
        beyond = alive & (statistics > boundary + tie)
        crossed += int(beyond.sum())
        alive &= ~beyond
        decision = None
        if beyond[0]:
            decision = "A" if sums[0] > 0 else "B"
        elif n == max_seeds:
            decision = "none"
        reachable = boundary + tie < largest
        looks.append(
            Look(
                n,
                float(np.mean(a[:n])),
                float(np.mean(b[:n])),
                boundary / n if reachable else None,
                spend(alpha, n / max_seeds),
                decision,
            )
        )
        if decision is not None:
            break
    return looks


def _boundary(statistics: np.ndarray, allowed: int) -> float:
    """The smallest value that at most `allowed` of `statistics` exceed: the largest but
    `allowed` of them (the largest of all when none may cross)."""
    if allowed <= 0:
        return float(statistics.max())
    if allowed >= len(statistics):
        return -math.inf
    return float(np.partition(statistics, len(statistics) - allowed - 1)[-allowed - 1])
