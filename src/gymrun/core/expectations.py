"""Expectations a run must meet (``gymrun run --expect 'mean >= 195'``): each compares an end
of a statistic's 95% interval with a bound, so a gate passes only on what the episodes show
beyond their noise: the lower end for ``>=``, the upper end for ``<=``.

A metric is ``STATISTIC`` (of the reward), ``COLUMN.STATISTIC``, or ``COLUMN`` alone (its
mean): the columns are the reward, the steps and every metric the run recorded
(`gymrun.core.metrics`; ``success`` is ``is_success``), so ``success >= 0.9`` gates on the
success rate.

>>> from gymrun.core.episodes import EpisodeResult
>>> episodes = [EpisodeResult(i, i, 200.0 + i % 5, 200, True, False, None, 0.0) for i in range(50)]
>>> verdicts = check_expectations([Expectation.parse("mean >= 195")], episodes)
>>> verdicts.met, verdicts.verdicts[0].message
(True, 'met: mean 202.00 [201.62, 202.42], lower end >= 195')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

import numpy as np

from gymrun.config.wording import wording
from gymrun.core.episodes import EpisodeResult
from gymrun.core.metrics import SUCCESS, SUCCESS_ALIAS, metric_named
from gymrun.core.statistics import STATISTICS, bootstrap_statistic
from gymrun.errors import UnknownNameError, UsageError, did_you_mean
from gymrun.numbers import counted, figure, interval_against

# The columns of every run a metric can be a statistic of (besides the metrics a run
# recorded); a metric is "STATISTIC" (of the reward), "COLUMN.STATISTIC" or "COLUMN" (its
# mean). A new column or statistic is one entry here or in `core.statistics.STATISTICS`.
COLUMNS: dict[str, Callable[[EpisodeResult], float]] = {
    "reward": lambda e: e.reward,
    "steps": lambda e: e.steps,
}
METRICS = [
    *STATISTICS,
    *(f"{column}.{statistic}" for column in COLUMNS for statistic in STATISTICS),
]
_FORM = re.compile(r"\s*([A-Za-z_][\w.]*)\s*(>=|<=)\s*(\S+)\s*")


@dataclass(frozen=True)
class Expectation:
    """``metric op bound``: the metric's 95% interval must lie at or above the bound
    (``>=``) or at or below it (``<=``)."""

    metric: str
    op: str
    bound: float
    text: str = field(default="", compare=False, repr=False)  # as the user wrote it

    @classmethod
    def parse(cls, text: str) -> Expectation:
        """An expectation as written on the command line (its statistic checked; whether
        its column exists, by `check_names`, against what a run records).

        >>> Expectation.parse("iqm>=195"), str(Expectation.parse(" steps.mean <= 200.5 "))
        (Expectation(metric='iqm', op='>=', bound=195.0), 'steps.mean <= 200.5')
        >>> Expectation.parse("success >= 0.9").statistic
        'mean'
        """
        form = _FORM.fullmatch(text)
        where = wording().expectation(text)  # parse's argument, or gymrun run's --expect
        if form is None:
            raise UsageError(f"{where}: not METRIC >= NUMBER or METRIC <= NUMBER (mean >= 195)")
        metric, op, bound_text = form.groups()
        _, dot, statistic = metric.rpartition(".")
        if dot and statistic not in STATISTICS:
            raise UnknownNameError(
                f"{where}: no statistic {statistic!r}{did_you_mean(statistic, STATISTICS)} "
                f"(known: {', '.join(STATISTICS)}, as STATISTIC of the reward or "
                "COLUMN.STATISTIC)"
            )
        try:
            bound = float(bound_text)
        except ValueError:
            bound = math.nan
        if not math.isfinite(bound):
            raise UsageError(f"{where}: the bound {bound_text!r} is not a finite number")
        return cls(metric, op, bound, text)

    @property
    def column(self) -> str:
        """The column it is a statistic of: ``reward``, ``steps`` or a metric's name as
        written (``success`` too)."""
        column, dot, _ = self.metric.rpartition(".")
        if dot:
            return column
        return "reward" if self.metric in STATISTICS else self.metric

    @property
    def statistic(self) -> str:
        """The statistic of the column: the one written, else the mean."""
        _, dot, statistic = self.metric.rpartition(".")
        return statistic if dot or self.metric in STATISTICS else "mean"

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {figure(self.bound)}"


@dataclass(frozen=True)
class Verdict:
    """An expectation checked: the metric's value and 95% interval, and whether it is met."""

    expectation: Expectation
    value: float | None
    low: float | None
    high: float | None
    met: bool
    left_out: int = 0  # episodes without a finite value of the metric
    episodes: int = 0

    @property
    def message(self) -> str:
        """``met: mean 202.0 [201.6, 202.4], lower end >= 195`` (or ``not met: ...``), and
        how many episodes the metric leaves out when it leaves some out: a run that
        diverged now and then passes on its other episodes, and the report says so."""
        e = self.expectation
        if self.value is None:
            return f"not met: {e.metric} has no value (no episode with a finite value)"
        shown = interval_against(self.value, self.low, self.high, e.bound)
        end, relation = ("lower", e.op) if e.op == ">=" else ("upper", e.op)
        if not self.met:
            relation = "<" if e.op == ">=" else ">"
        word = "met" if self.met else "not met"
        said = f"{word}: {e.metric} {shown}, {end} end {relation} {figure(e.bound)}"
        if self.left_out:
            said += (
                f" ({self.left_out} of {counted(self.episodes, 'episode')} left out: "
                "no finite value)"
            )
        return said

    def to_json(self) -> dict[str, Any]:
        return {
            "expectation": str(self.expectation),
            "metric": self.expectation.metric,
            "op": self.expectation.op,
            "bound": self.expectation.bound,
            "value": self.value,
            "ci95": [self.low, self.high],
            "met": self.met,
            "episodes": self.episodes,
            "left_out": self.left_out,
        }


@dataclass(frozen=True)
class Verdicts:
    """Every expectation of a run checked, in the order given."""

    verdicts: list[Verdict]

    @property
    def met(self) -> bool:
        return all(v.met for v in self.verdicts)

    def to_json(self) -> list[dict[str, Any]]:
        return [v.to_json() for v in self.verdicts]

    def junit(self, suite: str) -> str:
        """A JUnit XML report: a test case per expectation, a failure (with the interval)
        for each one not met; what CI systems show as test results."""
        return junit_report(
            suite,
            [
                (str(v.expectation), "passed" if v.met else "failure", v.message)
                for v in self.verdicts
            ],
        )


def unchecked_junit(expectations: Sequence[Expectation], suite: str, reason: str) -> str:
    """A JUnit XML report of `expectations` that could not be checked (the run did not
    complete, for `reason`): an error for each, so a report read in CI says so instead of
    being missing, or a previous run's.

    >>> report = unchecked_junit([Expectation.parse("mean >= 1")], "x", "the run failed")
    >>> '<error message="not checked: the run failed">' in report
    True
    """
    cases = [(str(e), "error", f"not checked: {reason}") for e in expectations]
    return junit_report(suite, cases)


def junit_report(suite: str, cases: Sequence[tuple[str, str, str]]) -> str:
    """JUnit XML of test cases ``(name, outcome, message)``, `outcome` one of ``passed``
    (its message as its output), ``failure`` or ``error``."""
    failures = sum(outcome == "failure" for _, outcome, _ in cases)
    errors = sum(outcome == "error" for _, outcome, _ in cases)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": str(errors)}
    root = ElementTree.Element("testsuites", counts)
    tests = ElementTree.SubElement(root, "testsuite", {"name": suite, **counts})
    for name, outcome, message in cases:
        case = ElementTree.SubElement(tests, "testcase", classname=f"{suite}.expect", name=name)
        if outcome == "passed":
            ElementTree.SubElement(case, "system-out").text = message
        else:
            ElementTree.SubElement(case, outcome, message=message).text = message
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def check_names(expectations: Sequence[Expectation], metrics: Sequence[str]) -> None:
    """Refuse (`UnknownNameError`) an expectation of a column that is neither the reward,
    the steps nor one of `metrics` (the names of the metrics a run records)."""
    columns = [*COLUMNS, *metrics]
    for number, expectation in enumerate(expectations):
        column = expectation.column
        if column in COLUMNS or metric_named(column, metrics) is not None:
            continue
        aliases = [SUCCESS_ALIAS] if SUCCESS in metrics else []
        choices = [*STATISTICS, *columns, *aliases]
        shown = ", ".join(
            f"{name} ({SUCCESS_ALIAS})" if name == SUCCESS else name for name in columns
        )
        where = wording().expectation(expectation.text or str(expectation), number)
        raise UnknownNameError(
            f"{where}: no metric {column!r}"
            f"{did_you_mean(column, choices)} (a metric is {', '.join(STATISTICS)} of the "
            f"reward, or COLUMN.STATISTIC or COLUMN, its mean, with COLUMN one of {shown})"
        )


def recorded_metrics(episodes: Sequence[EpisodeResult]) -> list[str]:
    """The metrics `episodes` have, in the order they first come."""
    return list(dict.fromkeys(name for episode in episodes for name in episode.metrics))


def check_expectations(
    expectations: Sequence[Expectation], episodes: Sequence[EpisodeResult]
) -> Verdicts:
    """Each expectation checked on `episodes`: the metric's 95% percentile bootstrap
    interval over the episodes (1000 resamples, seeded; NaN and infinite values, and the
    episodes without a value of a metric, left out). An expectation of a metric the
    episodes do not have is an `UnknownNameError`."""
    metrics = recorded_metrics(episodes)
    check_names(expectations, metrics)
    verdicts = []
    for expectation in expectations:
        every = _values(expectation.column, metrics, episodes)
        values = every[np.isfinite(every)]
        if not len(values):
            verdicts.append(Verdict(expectation, None, None, None, False))
            continue
        value, low, high = bootstrap_statistic(values, expectation.statistic)
        end = low if expectation.op == ">=" else high
        met = end >= expectation.bound if expectation.op == ">=" else end <= expectation.bound
        left_out = len(every) - len(values)
        verdicts.append(Verdict(expectation, value, low, high, met, left_out, len(every)))
    return Verdicts(verdicts)


def _values(column: str, metrics: Sequence[str], episodes: Sequence[EpisodeResult]) -> np.ndarray:
    """The episodes' values of `column` (NaN where an episode has none)."""
    if column in COLUMNS:
        of = COLUMNS[column]
        return np.array([of(e) for e in episodes], dtype=float)
    name = metric_named(column, metrics)
    found = [e.metrics.get(name) if name is not None else None for e in episodes]
    return np.array([math.nan if v is None else float(v) for v in found], dtype=float)
