"""Per-episode metrics: numbers the environment reports in its step infos (``is_success``,
a distance, a count), each made one value per episode.

A metric reads one info key; an episode's value is made from the steps whose info has it
(a step that does not report the key is passed over): the last value, their sum, their mean
or their largest (`reduce`). Booleans stay booleans where the value is one the env gave
(``last``, ``max``); sums and means are numbers. A value that is NaN or infinite counts as
not reported, and an episode none of whose steps reported the key has no value: ``null`` in
its line, left out of the statistics, and counted.

Without a ``metrics:`` key, ``is_success`` is recorded in the episodes whose env reports it
(`DEFAULT_METRICS`: optional), and an env that never does gets nothing.

The steppers keep a tally: `EpisodeTally` for one environment, `VectorTally` for the
sub-environments of a vector env (infos as arrays with ``_key`` masks, and under same-step
autoreset the last step's info in ``final_info``). Neither is stepped while no step has had
an info to read, so a run of an env with empty infos pays nothing for them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gymrun.components.spaces import value_label
from gymrun.config import ExperimentConfig
from gymrun.errors import InfoValueError

SUCCESS = "is_success"
SUCCESS_ALIAS = "success"  # what --expect, --score and the tables call it


@dataclass(frozen=True)
class Metric:
    """A metric as the loop reads it: recorded as `name`, from the info key `key`, an
    episode's values made one by `reduce`. An `optional` one (the default ``is_success``)
    is recorded only in the episodes whose env reported it."""

    name: str
    key: str
    reduce: str = "last"
    optional: bool = False

    @property
    def keeps_kind(self) -> bool:
        """Whether the episode's value is one the env gave (a boolean stays one)."""
        return self.reduce in ("last", "max")


DEFAULT_METRICS = (Metric(SUCCESS, SUCCESS, optional=True),)


def metrics_of(config: ExperimentConfig) -> tuple[Metric, ...]:
    """The metrics a run of `config` records.

    >>> metrics_of(ExperimentConfig(env="CartPole-v1"))
    (Metric(name='is_success', key='is_success', reduce='last', optional=True),)
    >>> metrics_of(ExperimentConfig(env="CartPole-v1", metrics=[{"name": "d", "key": "dist"}]))
    (Metric(name='d', key='dist', reduce='last', optional=False),)
    """
    if config.metrics is None:
        return DEFAULT_METRICS
    return tuple(Metric(m.name, m.info_key, m.reduce) for m in config.metrics)


def metric_named(name: str, names: Sequence[str]) -> str | None:
    """The metric among `names` that `name` means: itself, or for ``success`` (when no
    metric has that name) ``is_success``; None when there is none.

    >>> metric_named("success", ["is_success"]), metric_named("dist", ["is_success"])
    ('is_success', None)
    """
    if name in names:
        return name
    if name == SUCCESS_ALIAS and SUCCESS in names:
        return SUCCESS
    return None


def shown_name(name: str) -> str:
    """A metric's name in a table's heading: ``success`` for ``is_success``.

    >>> shown_name("is_success"), shown_name("distance")
    ('success', 'distance')
    """
    return SUCCESS_ALIAS if name == SUCCESS else name


def read_value(value: Any, metric: Metric) -> tuple[float, bool] | None:
    """An info's value as ``(number, whether it is a boolean)``; None when it says nothing
    (None, NaN or infinite). Anything else but a number is an `InfoValueError`.

    >>> read_value(True, DEFAULT_METRICS[0]), read_value(np.float32(0.5), DEFAULT_METRICS[0])
    ((1.0, True), (0.5, False))
    >>> read_value(None, DEFAULT_METRICS[0]), read_value(float("nan"), DEFAULT_METRICS[0])
    (None, None)
    """
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    if isinstance(value, bool | np.bool_):
        return float(value), True
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return (number, False) if math.isfinite(number) else None
    if value is None:
        return None
    raise _not_a_number(value, metric)


def _not_a_number(value: Any, metric: Metric) -> InfoValueError:
    return InfoValueError(
        f"info[{metric.key!r}] is {value_label(value)}, not a number or a boolean "
        f"(metric {metric.name})"
    )


class EpisodeTally:
    """What the step infos of one environment's current episode said of each metric."""

    def __init__(self, metrics: Sequence[Metric]) -> None:
        self.metrics = tuple(metrics)
        self.named = any(not metric.optional for metric in self.metrics)
        # per metric: [steps that reported it, last, sum, largest, all booleans]
        self._state: list[list[Any]] = []
        self._seen = True  # whether an info of this episode held a metric's key
        self.clear()

    def clear(self) -> None:
        """A new episode starts."""
        if self._seen:  # else there is nothing to clear (an env whose infos hold none)
            self._state = [[0, math.nan, 0.0, -math.inf, True] for _ in self.metrics]
            self._seen = False

    def see(self, info: Mapping[str, Any]) -> None:
        """A step's info (not the reset's)."""
        for metric, state in zip(self.metrics, self._state, strict=True):
            if metric.key in info:
                read = read_value(info[metric.key], metric)
                if read is None:
                    continue
                number, boolean = read
                self._seen = True
                state[0] += 1
                state[1] = number
                state[2] += number
                state[3] = max(state[3], number)
                state[4] = state[4] and boolean

    def values(self) -> dict[str, bool | float | None] | None:
        """The episode's value of each metric; an optional one the env did not report is
        left out (None: there is none to give)."""
        if not (self._seen or self.named):
            return None
        found: dict[str, bool | float | None] = {}
        for metric, (count, last, total, top, boolean) in zip(
            self.metrics, self._state, strict=True
        ):
            if count:
                value = _reduced(metric.reduce, count, last, total, top)
                if math.isfinite(value):
                    found[metric.name] = bool(value) if boolean and metric.keeps_kind else value
                    continue
            if not metric.optional:
                found[metric.name] = None
        return found


def _reduced(reduce: str, count: int, last: float, total: float, top: float) -> float:
    if reduce == "last":
        return last
    if reduce == "sum":
        return total
    if reduce == "mean":
        return total / count
    return top


class VectorTally:
    """What the step infos of each sub-environment's current episode said of each metric,
    as arrays over the sub-environments.

    `active` says whether anything is tallied: from the start when a metric is asked for by
    name, else from the first info that holds an optional metric's key (the stepper asks
    only when a step returned an info before then). `booleans` says of each metric whether
    every value its env gave was a boolean.
    """

    def __init__(self, metrics: Sequence[Metric], num_envs: int) -> None:
        self.metrics = tuple(metrics)
        self.n = num_envs
        self.active = any(not metric.optional for metric in self.metrics)
        shape = (len(self.metrics), num_envs)
        self.count = np.zeros(shape, dtype=np.int64)
        self.last = np.full(shape, math.nan)
        self.total = np.zeros(shape)
        self.top = np.full(shape, -math.inf)
        self.booleans = [True] * len(self.metrics)

    def reads(self, infos: Mapping[str, Any]) -> bool:
        """Whether `infos` hold a metric's key (in ``final_info`` too)."""
        if not isinstance(infos, Mapping):  # an env of its own kind: nothing gymrun can read
            return False
        final = infos.get("final_info")
        return any(
            metric.key in infos or (final is not None and metric.key in final)
            for metric in self.metrics
        )

    def see(
        self, infos: Mapping[str, Any], passed: np.ndarray | None = None, ended: Any = None
    ) -> bool:
        """A step's infos. `passed`: the sub-environments whose info in `infos` is not of a
        step of their episode (a reset's); `ended`: those that ended at this step, whose
        last info is in ``final_info`` (same-step autoreset). Returns whether it became
        active."""
        became = False
        final = infos.get("final_info") if ended is not None else None
        for number, metric in enumerate(self.metrics):
            if metric.key in infos:
                self._add(number, infos[metric.key], infos.get(f"_{metric.key}"), passed)
                became = True
            if final is not None and metric.key in final:
                mask = final.get(f"_{metric.key}")
                mask = ended if mask is None else mask & ended
                self._add(number, final[metric.key], mask, None)
                became = True
        if became and not self.active:
            self.active = True
            return True
        return False

    def _add(self, number: int, values: Any, mask: Any, passed: np.ndarray | None) -> None:
        metric = self.metrics[number]
        reported = np.ones(self.n, dtype=bool) if mask is None else np.array(mask, dtype=bool)
        if passed is not None:
            reported &= ~passed
        if not reported.any():
            return
        numbers, boolean = self._numbers(values, reported, metric)
        with np.errstate(invalid="ignore"):
            reported &= np.isfinite(numbers)
        if not reported.any():
            return
        if not boolean:
            self.booleans[number] = False
        self.count[number] += reported
        seen = numbers[reported]
        self.last[number, reported] = seen
        if metric.reduce in ("sum", "mean"):
            self.total[number, reported] += seen
        elif metric.reduce == "max":
            np.maximum(
                self.top[number], np.where(reported, numbers, -math.inf), out=self.top[number]
            )

    def _numbers(
        self, values: Any, reported: np.ndarray, metric: Metric
    ) -> tuple[np.ndarray, bool]:
        """The values of the sub-environments, as numbers (NaN where not `reported`), and
        whether those reported are all booleans."""
        array = np.asarray(values)
        if array.shape[:1] != (self.n,) or (array.ndim > 1 and array[0].size != 1):
            raise _not_a_number(values, metric)
        if array.dtype == bool:
            return array.reshape(self.n).astype(np.float64), True
        if np.issubdtype(array.dtype, np.number):
            return array.reshape(self.n).astype(np.float64), False
        numbers = np.full(self.n, math.nan)  # objects: each read as one env's info is
        boolean = True
        for slot in np.flatnonzero(reported).tolist():
            read = read_value(array[slot], metric)
            if read is not None:
                numbers[slot], kind = read
                boolean = boolean and kind
        return numbers, boolean

    def end(self, ended: np.ndarray) -> list[np.ndarray]:
        """The sub-environments `ended` have ended their episodes: each metric's values
        (NaN for none, and where not `ended`); their tallies start again."""
        values = []
        for number, metric in enumerate(self.metrics):
            count = self.count[number]
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                if metric.reduce == "last":
                    value = self.last[number].copy()
                elif metric.reduce == "sum":
                    value = self.total[number].copy()
                elif metric.reduce == "mean":
                    value = self.total[number] / count
                else:
                    value = self.top[number].copy()
            value[(count == 0) | ~ended | ~np.isfinite(value)] = math.nan
            values.append(value)
        self.count[:, ended] = 0
        self.last[:, ended] = math.nan
        self.total[:, ended] = 0.0
        self.top[:, ended] = -math.inf
        return values

    def episode(self, values: list[np.ndarray], slot: int) -> dict[str, bool | float | None]:
        """The values `end` gave of sub-environment `slot`, as an episode's (see
        `EpisodeTally.values`)."""
        found: dict[str, bool | float | None] = {}
        for number, metric in enumerate(self.metrics):
            value = float(values[number][slot])
            if math.isnan(value):
                if not metric.optional:
                    found[metric.name] = None
            elif self.booleans[number] and metric.keeps_kind:
                found[metric.name] = bool(value)
            else:
                found[metric.name] = value
        return found
