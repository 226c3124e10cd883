"""One number across tasks: run scores normalized per task (the random agent 0, the
reference 1; see `gymrun.components.reference`) and aggregated over every run of every task
as rliable does (Agarwal et al. 2021): IQM, median, mean and optimality gap, with
stratified bootstrap intervals (`gymrun.core.scores.aggregates`).

Runs of several tasks belong to one group when their configs agree on everything but the
task (``env``, its ``reward_boundary``, the config's ``name``) and what does not change a
measurement (seed, ``record``, ``sweep``, a ``vector`` that plays the single env's
episodes): the same agent and wrappers. Each
task counts its completed runs, one per seed, as `gymrun.analysis.groups` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gymrun.analysis.groups import Member, digest, experiment, labels, scored_runs
from gymrun.components.reference import NORMALIZED, ReferenceScores, shipped_references
from gymrun.core import scores
from gymrun.core.scores import AGGREGATES, Estimate

# What differs between tasks of one group, besides what never groups runs.
TASK_KEYS = ("env", "name", "reward_boundary")

STATISTICS = {
    "normalized_score": f"a run's mean episode reward, {NORMALIZED}",
    "iqm": "interquartile mean of every run of every task (rliable.metrics.aggregate_iqm); "
    "of one task, of its runs",
    "median": "median of the tasks' mean scores (rliable.metrics.aggregate_median); "
    "of one task, the median of its runs",
    "mean": "mean of the tasks' mean scores (rliable.metrics.aggregate_mean)",
    "optimality_gap": "1 - the mean of every run's score capped at 1: how far the runs fall "
    "short of the reference (rliable.metrics.aggregate_optimality_gap)",
}


@dataclass
class TaskScores:
    """One task of a group: its runs' scores, raw and normalized, and their statistics."""

    env: str
    references: ReferenceScores
    runs: list[Member]
    estimates: dict[str, Estimate] = field(default_factory=dict)

    @property
    def normalized(self) -> np.ndarray:
        return np.array([self.references.normalize(m.score) for m in self.runs])  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "runs": [m.run for m in self.runs],
            "run_scores": [m.score for m in self.runs],
            "normalized_scores": self.normalized.tolist(),
            **self.references.to_json(),
            **{name: e.to_json() for name, e in self.estimates.items()},
        }


@dataclass
class TaskGroup:
    """The runs of one agent and wrapper stack on several tasks, and their aggregate."""

    key: str
    label: str
    tasks: list[TaskScores]
    left_out: list[str]  # tasks without reference scores
    aggregate: dict[str, Estimate] = field(default_factory=dict)

    @property
    def runs(self) -> int:
        return sum(len(t.runs) for t in self.tasks)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "tasks": [t.to_json() for t in self.tasks],
            "left_out": [{"env": env, "reason": "no reference scores"} for env in self.left_out],
            "aggregate": {
                "tasks": len(self.tasks),
                "runs": self.runs,
                **{name: e.to_json() for name, e in self.aggregate.items()},
            },
        }


@dataclass
class NormalizedComparison:
    """Every group of runs that spans several tasks, best aggregate IQM first."""

    groups: list[TaskGroup]
    resamples: int

    @property
    def aggregated_groups(self) -> list[TaskGroup]:
        """The groups with a task that has reference scores: those with an aggregate to
        show. A group none of whose tasks has them has nothing but dashes to show, and is
        named by `notes` instead (the terminal and the board both show these only)."""
        return [group for group in self.groups if group.tasks]

    @property
    def aggregated(self) -> bool:
        """Whether some group has a task with reference scores: its intervals were drawn."""
        return bool(self.aggregated_groups)

    @property
    def bootstrap(self) -> str:
        return (
            f"stratified percentile bootstrap (runs resampled within each task), "
            f"{self.resamples} resamples, seed {scores.SEED}, 95%"
        )

    @property
    def notes(self) -> list[str]:
        """One line per task left out of some group's aggregate, naming the groups."""
        missing: dict[str, list[str]] = {}
        for group in self.groups:
            for env in group.left_out:
                missing.setdefault(env, []).append(group.label)
        return [
            f"{env} has no reference scores: left out of the normalized scores of "
            f"{', '.join(names)} (tasks with them: gymrun baselines)"
            for env, names in missing.items()
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "interval": self.bootstrap,
            "statistics": STATISTICS,
            "groups": [g.to_json() for g in self.groups],
        }


def task_key(config: dict[str, Any], provenance: Any = None) -> str:
    """A short name for the runs of one agent and wrapper stack, whatever their task.

    >>> a = {"name": "a", "env": {"id": "CartPole-v1"}, "agent": {"name": "random"}}
    >>> b = {"name": "b", "env": {"id": "Acrobot-v1"}, "agent": {"name": "random"}}
    >>> task_key(a) == task_key(b), task_key(a) == task_key(a | {"episodes": 5})
    (True, False)
    """
    return digest(_across_tasks(experiment(config, provenance)))


def _across_tasks(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in TASK_KEYS}


def normalized_comparison(
    members: Sequence[Member],
    references: Mapping[str, ReferenceScores] | None = None,
    resamples: int = scores.AGGREGATE_RESAMPLES,
) -> NormalizedComparison:
    """The groups of `members` whose completed runs span several tasks, each run's score
    normalized by its task's `references` (gymrun's shipped ones by default), per task and
    aggregated across tasks with `resamples` stratified bootstrap resamples. A task without
    reference scores is left out of its group's aggregate (see `notes`).

    >>> def run(env, seed, score):
    ...     config = {"env": {"id": env}, "agent": {"name": "random"}, "seed": seed}
    ...     return Member(f"{env}-{seed}", config, "completed", score)
    >>> runs = [run("CartPole-v1", s, 23.04 + 47.696 * s) for s in range(3)]
    >>> runs += [run("Acrobot-v1", s, -496.35 + 40.783 * s) for s in range(3)]
    >>> [group] = normalized_comparison(runs, resamples=2000).groups
    >>> [round(t.estimates["mean"].value, 4) for t in group.tasks]
    [0.1, 0.1]
    >>> round(group.aggregate["iqm"].value, 4), round(group.aggregate["optimality_gap"].value, 4)
    (0.1, 0.9)
    """
    references = shipped_references() if references is None else references
    grouped: dict[str, list[Member]] = {}
    for member in members:
        grouped.setdefault(task_key(member.config, member.provenance), []).append(member)
    spanning = {}
    for key, runs in grouped.items():
        by_task: dict[str, list[Member]] = {}
        for member in runs:
            by_task.setdefault(member.env, []).append(member)
        scored = {env: s for env, task in sorted(by_task.items()) if (s := scored_runs(task))}
        if len(scored) > 1:
            spanning[key] = scored
    names = labels([_named(next(iter(s.values()))[0]) for s in spanning.values()])
    groups = [
        _group(key, label, scored, references, resamples)
        for (key, scored), label in zip(spanning.items(), names, strict=True)
    ]
    groups.sort(key=lambda g: (-_value(g.aggregate.get("iqm")), g.label))
    return NormalizedComparison(groups, resamples)


def _named(member: Member) -> dict[str, Any]:
    """The group's experiment, named for its agent (its tasks' configs have other names)."""
    across = _across_tasks(experiment(member.config, member.provenance))
    agent = member.config.get("agent")
    name = agent.get("name") if isinstance(agent, dict) else agent
    return {"name": name or "experiment"} | across


def _group(
    key: str,
    label: str,
    scored: dict[str, list[Member]],
    references: Mapping[str, ReferenceScores],
    resamples: int,
) -> TaskGroup:
    tasks = [
        TaskScores(env, references[env], runs) for env, runs in scored.items() if env in references
    ]
    for task in tasks:
        task.estimates = scores.task_aggregates(task.normalized, resamples)
    group = TaskGroup(key, label, tasks, [env for env in scored if env not in references])
    if tasks:
        group.aggregate = scores.aggregates([t.normalized for t in tasks], resamples)
    else:
        group.aggregate = dict.fromkeys(AGGREGATES, Estimate(None))
    return group


def _value(estimate: Estimate | None) -> float:
    return -np.inf if estimate is None or estimate.value is None else estimate.value
