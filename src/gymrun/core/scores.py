"""How a run scores, and how groups of runs compare, as Agarwal et al. (2021, the `rliable`
library) and Henderson et al. (2018) recommend: interval estimates, not point estimates.

A run's score is its mean episode reward. Across the runs of a group (one config, several
seeds) the interquartile mean (IQM: the mean of the middle half) and the mean come with
stratified bootstrap 95% intervals: runs are resampled within each stratum (an
environment), never across. Two groups are compared by the probability of improvement
P(X > Y), and a group's whole distribution of run scores by its performance profile.

Every estimate is seeded, so the same runs always give the same intervals, and equals
scipy's (``scipy.stats.bootstrap``, ``trim_mean``): the bootstrap is scipy's percentile
bootstrap without its checks, and scipy itself is imported only where its ``trim_mean`` is
used (importing ``scipy.stats`` costs half a second, which ``gymrun board`` would pay at
every build).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gymrun.core.statistics import scale_of

CONFIDENCE = 0.95
SEED = 0
GROUP_RESAMPLES = 10_000  # runs of a group: few values, so many resamples are cheap
PAIR_RESAMPLES = 2_000  # probability of improvement and profiles, as rliable's examples
IQM_TRIM = 0.25  # cut from each end: the interquartile mean


@dataclass(frozen=True)
class Estimate:
    """A statistic and its 95% interval (None when there is too little to resample)."""

    value: float | None
    low: float | None = None
    high: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "ci95": [self.low, self.high]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Estimate:
        return cls(data["value"], *data["ci95"])

    def complement(self) -> Estimate:
        """1 - the estimate, its interval turned round: P(Y > X) from P(X > Y).

        >>> Estimate(0.75, 0.5, 1.0).complement()
        Estimate(value=0.25, low=0.0, high=0.5)
        """

        def flip(v: float | None) -> float | None:
            return None if v is None else 1.0 - v

        return Estimate(flip(self.value), flip(self.high), flip(self.low))


def _bootstrap(
    samples: Sequence[np.ndarray],
    statistic: Callable[..., Any],
    resamples: int,
    batch: int | None = None,
) -> tuple[Any, Any]:
    """The percentile bootstrap of ``scipy.stats.bootstrap`` (``method="percentile"``,
    ``paired=False``, `batch`), each sample resampled on its own (stratified): the same
    draws from the same generator, the same interval, without the cost of its checks (a
    board computes thousands of these)."""
    rng = np.random.default_rng(SEED)
    step = batch or resamples
    found = []
    for start in range(0, resamples, step):
        size = min(step, resamples - start)
        drawn = [s[rng.integers(0, s.shape[-1], (size, s.shape[-1]))] for s in samples]
        found.append(statistic(*drawn, axis=-1))
    theta = np.concatenate(found, axis=-1)
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.moveaxis(np.quantile(theta, [alpha, 1 - alpha], axis=-1), 0, -1).T
    return low, high


def _finite(values: Sequence[float] | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    finite: np.ndarray = array[np.isfinite(array)]
    return finite


def _iqm(*strata: np.ndarray, axis: int = -1) -> Any:
    # scipy.stats.trim_mean(x, 0.25) by sorting: the same runs kept, for rows of resamples
    # three times faster than its partitions
    joined = np.concatenate(strata, axis=axis)
    count = joined.shape[axis]
    cut = int(IQM_TRIM * count)
    ordered = np.sort(joined, axis=axis)
    return np.take(ordered, np.arange(cut, count - cut), axis=axis).mean(axis=axis)


def _mean(*strata: np.ndarray, axis: int = -1) -> Any:
    return np.mean(np.concatenate(strata, axis=axis), axis=axis)


def _stratified(
    strata: Sequence[np.ndarray], statistic: Callable[..., Any], resamples: int
) -> tuple[Any, Any] | None:
    """`statistic`'s 95% interval, each stratum's runs resampled on their own (None when no
    stratum has two runs to resample). `statistic(*strata, axis=-1)` sees the strata in the
    order given; a stratum of one run resamples to itself and joins every resample as it is.
    """
    varied = [i for i, s in enumerate(strata) if len(s) > 1]
    if not varied:
        return None

    def resampled(*xs: np.ndarray, axis: int = -1) -> Any:
        drawn = dict(zip(varied, xs, strict=True))
        shape = (*xs[0].shape[:-1], 1)
        every = [
            drawn[i] if i in drawn else np.broadcast_to(s, shape) for i, s in enumerate(strata)
        ]
        return statistic(*every, axis=axis)

    runs = sum(len(s) for s in strata)
    batch = max(1, 4_000_000 // runs)  # bounded memory for many runs
    return _bootstrap([strata[i] for i in varied], resampled, resamples, batch)


def _across_runs(strata: Sequence[np.ndarray], statistic: Callable[..., Any]) -> Estimate:
    strata = [s for s in (_finite(s) for s in strata) if len(s)]
    if not strata:
        return Estimate(None)
    scale = scale_of(*strata)
    if scale != 1.0:  # too large to sum: the same on the values divided by the largest
        scaled = _across_runs([s / scale for s in strata], statistic)
        return Estimate(
            *(None if v is None else v * scale for v in (scaled.value, scaled.low, scaled.high))
        )
    value = float(statistic(*strata))
    # a stratum of one run resamples to itself: the others first, as scipy resamples them
    ordered = [s for s in strata if len(s) > 1] + [s for s in strata if len(s) == 1]
    interval = _stratified(ordered, statistic, GROUP_RESAMPLES)
    if interval is None:
        return Estimate(value)
    return Estimate(value, float(interval[0]), float(interval[1]))


def iqm(strata: Sequence[Sequence[float] | np.ndarray]) -> Estimate:
    """Interquartile mean of run scores (``scipy.stats.trim_mean(scores, 0.25)``) with a
    stratified bootstrap 95% interval; one array of run scores per stratum.

    >>> iqm([[1.0, 2.0, 3.0, 4.0, 100.0]]).value  # the outlier run is trimmed
    3.0
    """
    return _across_runs([np.asarray(s, dtype=float) for s in strata], _iqm)


def mean(strata: Sequence[Sequence[float] | np.ndarray]) -> Estimate:
    """Mean of run scores with a stratified bootstrap 95% interval.

    >>> mean([[1.0, 2.0, 3.0, 4.0, 100.0]]).value
    22.0
    """
    return _across_runs([np.asarray(s, dtype=float) for s in strata], _mean)


def _iqm_and_mean(x: np.ndarray, axis: int = -1) -> Any:
    return np.stack([_iqm(x, axis=axis), _mean(x, axis=axis)])


def iqm_and_mean(run_scores: Sequence[float] | np.ndarray) -> tuple[Estimate, Estimate]:
    """`iqm` and `mean` of one stratum's run scores, the same numbers as each gives, from
    one set of resamples (they draw the same ones).

    >>> [e.value for e in iqm_and_mean([1.0, 2.0, 3.0, 4.0, 100.0])]
    [3.0, 22.0]
    """
    values = _finite(run_scores)
    if not len(values) or scale_of(values) != 1.0 or len(values) < 2:
        return iqm([values]), mean([values])
    both = _iqm_and_mean(values)
    batch = max(1, 4_000_000 // len(values))  # as `_stratified` draws them
    low, high = _bootstrap([values], _iqm_and_mean, GROUP_RESAMPLES, batch)
    return tuple(  # type: ignore[return-value]
        Estimate(float(both[k]), float(low[k]), float(high[k])) for k in range(2)
    )


# rliable's get_interval_estimates draws 50,000: as many runs x tasks cost 5x the time, for
# interval ends that differ in the third digit (gymrun compare --bootstrap 50000)
AGGREGATE_RESAMPLES = GROUP_RESAMPLES
OPTIMAL = 1.0  # a normalized score of 1 is the reference: the optimality gap's threshold
AGGREGATES = ("iqm", "median", "mean", "optimality_gap")


def _matrix(strata: Sequence[np.ndarray], axis: int = -1) -> np.ndarray | None:
    """The strata as rliable's score matrix (runs x tasks), when each has as many runs."""
    if len({s.shape[axis] for s in strata}) != 1:
        return None
    return np.stack(strata, axis=-1 if axis == -1 else axis + 1)


def _aggregates(*strata: np.ndarray, axis: int = -1) -> Any:
    """rliable's IQM, median, mean and optimality gap over the runs of every task (one
    stratum per task), first on the leading axis. On a score matrix, the very arithmetic of
    ``rliable.metrics`` (so the point estimates equal its to the last bit); tasks with
    different numbers of runs are pooled (IQM, gap) or averaged per task (median, mean).
    """
    from scipy import stats  # here: for start-up time (see the module's docstring)

    matrix = _matrix(strata, axis) if axis == -1 else None
    if matrix is not None:  # [..., runs, tasks]
        task_means = np.mean(matrix, axis=-2)
        pooled = matrix.reshape(*matrix.shape[:-2], -1)
    else:
        task_means = np.stack([np.mean(s, axis=axis) for s in strata], axis=-1)
        pooled = np.concatenate(strata, axis=axis)
    return np.stack(
        [
            stats.trim_mean(pooled, IQM_TRIM, axis=-1),
            np.median(task_means, axis=-1),
            np.mean(task_means, axis=-1),
            OPTIMAL - np.mean(np.minimum(pooled, OPTIMAL), axis=-1),
        ]
    )


def _one_task(run_scores: np.ndarray, axis: int = -1) -> Any:
    """The same four statistics of one task's runs, its median the median of its runs."""
    from scipy import stats  # here: for start-up time (see the module's docstring)

    return np.stack(
        [
            stats.trim_mean(run_scores, IQM_TRIM, axis=axis),
            np.median(run_scores, axis=axis),
            np.mean(run_scores, axis=axis),
            OPTIMAL - np.mean(np.minimum(run_scores, OPTIMAL), axis=axis),
        ]
    )


def aggregates(
    strata: Sequence[Sequence[float] | np.ndarray], resamples: int = AGGREGATE_RESAMPLES
) -> dict[str, Estimate]:
    """rliable's aggregate metrics of normalized scores, one array of run scores per task:
    the IQM of all runs (``rliable.metrics.aggregate_iqm``), the median and the mean of the
    task means (``aggregate_median``, ``aggregate_mean``) and the optimality gap, how far
    the runs fall short of 1 on average, scores above 1 counting as 1
    (``aggregate_optimality_gap``), each with a stratified percentile bootstrap 95% interval:
    `resamples` times, every task's runs are resampled on their own.

    >>> found = aggregates([[0.0, 0.5, 1.0, 1.5], [0.2, 0.4, 0.6, 0.8]], resamples=2000)
    >>> {name: round(e.value, 4) for name, e in found.items()}
    {'iqm': 0.575, 'median': 0.625, 'mean': 0.625, 'optimality_gap': 0.4375}
    """
    tasks = [_finite(s) for s in strata]
    tasks = [t for t in tasks if len(t)]
    if not tasks:
        return dict.fromkeys(AGGREGATES, Estimate(None))
    return _estimates(tasks, _aggregates, resamples)


def task_aggregates(
    run_scores: Sequence[float] | np.ndarray, resamples: int = AGGREGATE_RESAMPLES
) -> dict[str, Estimate]:
    """The same statistics of one task's normalized run scores, with a percentile bootstrap
    95% interval over its runs; its median is the median of its runs.

    >>> found = task_aggregates([0.0, 0.5, 1.0, 1.5], resamples=2000)
    >>> {name: round(e.value, 4) for name, e in found.items()}
    {'iqm': 0.75, 'median': 0.75, 'mean': 0.75, 'optimality_gap': 0.375}
    """
    scores = _finite(run_scores)
    if not len(scores):
        return dict.fromkeys(AGGREGATES, Estimate(None))
    return _estimates([scores], _one_task, resamples)


def _estimates(
    strata: list[np.ndarray], statistic: Callable[..., Any], resamples: int
) -> dict[str, Estimate]:
    values = statistic(*strata)
    interval = _stratified(strata, statistic, resamples)
    lows, highs = (None, None) if interval is None else interval
    return {
        name: Estimate(
            float(values[k]),
            None if lows is None else float(lows[k]),
            None if highs is None else float(highs[k]),
        )
        for k, name in enumerate(AGGREGATES)
    }


def _improvement(x: np.ndarray, y: np.ndarray, axis: int = -1) -> Any:
    # Mann-Whitney's U counts the pairs with x > y (ties count a half): divided by the
    # number of pairs, it is P(X > Y), as rliable computes it (counted here pair by pair,
    # which gives U exactly, without ranking every resample)
    x, y = np.moveaxis(x, axis, -1), np.moveaxis(y, axis, -1)
    above = (x[..., :, None] > y[..., None, :]).sum(axis=(-2, -1))
    ties = (x[..., :, None] == y[..., None, :]).sum(axis=(-2, -1))
    return (above + 0.5 * ties) / (x.shape[-1] * y.shape[-1])


def probability_of_improvement(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray
) -> Estimate:
    """P(X > Y): the chance that a run of group X scores higher than a run of group Y (ties
    count a half), with a 95% interval from resampling each group's runs on their own.

    >>> probability_of_improvement([3.0, 4.0, 5.0], [1.0, 2.0, 3.0]).value
    0.9444444444444444
    """
    xs, ys = _finite(x), _finite(y)
    if not len(xs) or not len(ys):
        return Estimate(None)
    value = float(_improvement(xs, ys))
    if len(xs) < 2 and len(ys) < 2:
        return Estimate(value)
    if len(xs) < 2 or len(ys) < 2:  # one run resamples to itself
        one, many = (xs, ys) if len(xs) < 2 else (ys, xs)

        def against_one(sample: np.ndarray, axis: int = -1) -> Any:
            fixed = np.broadcast_to(one, (*sample.shape[:-1], 1))
            pair = (fixed, sample) if len(xs) < 2 else (sample, fixed)
            return _improvement(*pair, axis=axis)

        low, high = _bootstrap([many], against_one, PAIR_RESAMPLES)
    else:
        low, high = _bootstrap([xs, ys], _improvement, PAIR_RESAMPLES)
    return Estimate(value, float(low), float(high))


@dataclass(frozen=True)
class Profile:
    """A performance profile: at each threshold `tau`, the fraction of runs scoring above
    it, with a 95% band."""

    tau: np.ndarray
    fraction: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Profile:
        low, high = data["ci95"]
        return cls(*(np.array(v, dtype=float) for v in (data["tau"], data["fraction"], low, high)))

    def to_json(self) -> dict[str, Any]:
        return {
            k: v.tolist() if k != "ci95" else [a.tolist() for a in v]
            for k, v in self.arrays().items()
        }

    def arrays(self) -> dict[str, Any]:
        """`to_json` with numpy arrays for lists (orjson writes them as they are: a board
        writes hundreds of profiles, each four lists of floats)."""
        return {"tau": self.tau, "fraction": self.fraction, "ci95": [self.low, self.high]}


def profile_thresholds(scores: Sequence[np.ndarray], points: int = 101) -> np.ndarray:
    """Evenly spaced thresholds from just below the lowest score to the highest.

    >>> profile_thresholds([np.array([0.0, 10.0])], points=3).tolist()
    [-0.1, 4.95, 10.0]
    """
    values = np.concatenate([_finite(s) for s in scores]) if scores else np.zeros(0)
    if not len(values):
        return np.zeros(0)
    low, high = float(values.min()), float(values.max())
    margin = 0.01 * high - 0.01 * low if high > low else max(1.0, abs(low)) * 0.01
    return np.linspace(low - margin, high, points)


def performance_profile(scores: Sequence[float] | np.ndarray, tau: np.ndarray) -> Profile:
    """The fraction of runs whose score is above each threshold in `tau` (the run-score
    distribution of rliable), with a bootstrap 95% band over runs.

    >>> p = performance_profile([1.0, 2.0, 3.0, 4.0], np.array([0.0, 2.5, 5.0]))
    >>> p.fraction.tolist()
    [1.0, 0.5, 0.0]
    """
    values = _finite(scores)
    count = len(values)
    # a run is above τ when its place among the runs in order is past the runs at or below
    # τ: each resample is counted by places, thresholds by one look-up, not run by run
    first_above = count - np.array([np.count_nonzero(values > t) for t in tau], dtype=int)
    fraction = (count - first_above) / count if count else np.full(len(tau), math.nan)
    if count < 2:
        return Profile(tau, fraction, fraction, fraction)
    places = np.empty(count)
    places[np.argsort(values, kind="stable")] = np.arange(count)

    def statistic(drawn: np.ndarray, axis: int = -1) -> Any:
        rows = drawn.shape[0]
        offsets = (np.arange(rows)[:, None] * count + drawn.astype(int)).ravel()
        at = np.bincount(offsets, minlength=rows * count).reshape(rows, count)
        from_place = np.zeros((rows, count + 1))
        from_place[:, :count] = np.cumsum(at[:, ::-1], axis=1)[:, ::-1]
        return (from_place[:, first_above] / count).T  # thresholds first, as scipy expects

    low, high = _bootstrap([places], statistic, PAIR_RESAMPLES)
    return Profile(tau, fraction, np.asarray(low, dtype=float), np.asarray(high, dtype=float))
