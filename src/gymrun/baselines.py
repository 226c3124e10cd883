"""Baselines: on every task, what the random agent scores and what the best shipped
non-learning agent reaches, against the task's reward threshold.

Each (environment, agent) is an ordinary run of `episodes` episodes with the same seed, so
the table is the same on every machine but for the seconds. The verdict here is the mean
over all the run's episodes against the threshold, "reached on average" (a run's own
summary judges "solved" on its windows of 100), and "within noise" when its 95% interval
holds the threshold. Where an agent knows the exact optimal expected return (dynamic
programming, Blackjack's basic strategy) the table shows it, and whether the threshold
can be reached on average at all: a mean above an unattainable threshold is noise.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.components.agents import resolve_agent
from gymrun.components.baselines import SHIPPED
from gymrun.components.catalog import find_spec, list_envs, require_plugin, suggestion
from gymrun.config import ExperimentConfig
from gymrun.core.episodes import EpisodeResult
from gymrun.core.experiment import Experiment
from gymrun.core.plan import RunPlan, episode_step_limit
from gymrun.core.signals import InterruptGuard
from gymrun.core.statistics import bootstrap_ci, compared
from gymrun.core.summary import NOT_REACHED, REACHED, WITHIN_NOISE
from gymrun.errors import GymrunError, RecordError, UnknownNameError
from gymrun.numbers import figure, interval_against
from gymrun.pipeline.playing import play_sessions
from gymrun.pipeline.session import RunResult, RunSession
from gymrun.pipeline.sinks import EpisodeList, Sink
from gymrun.records import files
from gymrun.records.plotter import Plotter
from gymrun.records.writer import write_json
from gymrun.scale.executors import Executor, InProcess

BASELINES_FILE = "baselines.json"
BASELINES_LIMIT = 64_000_000  # every registered env, with room to spare
# An env with no limit on its episodes' length (CliffWalking, Blackjack) is capped here, so
# that a random agent that never finds the goal still ends. An env that stops its episodes
# itself (an Atari game after 108,000 frames) keeps its own limit: a cap would cut them.
UNLIMITED_CAP = 1000


@dataclass(frozen=True)
class AgentScore:
    """One agent's run on one task."""

    agent: str
    options: dict[str, Any]
    privileged: bool
    episodes: int
    mean_reward: float | None
    ci_low: float | None
    ci_high: float | None
    solved: bool | None  # the mean over all episodes reached the threshold (see `verdict`)
    seconds_per_episode: float | None
    status: str
    error: str | None = None
    run_dir: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "options": self.options,
            "privileged": self.privileged,
            "episodes": self.episodes,
            "mean_reward": self.mean_reward,
            "ci95": [self.ci_low, self.ci_high],
            "solved": self.solved,
            "seconds_per_episode": self.seconds_per_episode,
            "status": self.status,
            "error": self.error,
            "run_dir": self.run_dir,
        }


@dataclass(frozen=True)
class TaskBaselines:
    """One task's row: its threshold, the random agent, the shipped agent, the optimum."""

    env_id: str
    threshold: float | None
    max_steps: int | None  # the cap gymrun set, when the env has no step limit
    random: AgentScore
    baseline: AgentScore | None
    optimum: float | None = None  # exact optimal expected return, where an agent knows it

    @property
    def attainable(self) -> bool | None:
        """Whether the optimum reaches the threshold, where both are known."""
        if self.optimum is None or self.threshold is None:
            return None
        return self.optimum >= self.threshold

    def to_json(self) -> dict[str, Any]:
        task: dict[str, Any] = {
            "env_id": self.env_id,
            "threshold": self.threshold,
            "max_steps": self.max_steps,
            "optimum": self.optimum,
            "attainable": self.attainable,
        }
        for name, score in (("random", self.random), ("baseline", self.baseline)):
            task[name] = None if score is None else score.to_json()
            if score is not None:
                task[name]["verdict"] = verdict(task, task[name])
        return task


@dataclass
class BaselinesResult:
    tasks: list[TaskBaselines]
    skipped: list[dict[str, str]]  # {"env_id", "reason"}: cannot run here
    episodes: int
    seed: int
    seconds: float = 0.0
    status: str = "completed"  # or "interrupted"
    directory: Path | None = None
    notes: list[str] = field(default_factory=list)  # from drawing the plots

    def to_json(self) -> dict[str, Any]:
        return {
            "episodes": self.episodes,
            "seed": self.seed,
            "seconds": self.seconds,
            "status": self.status,
            "solved_means": "mean over all episodes >= threshold",
            "verdict_means": "the mean's 95% interval against the threshold: reached on "
            "average, not reached on average, or within noise (it holds the threshold, or "
            "the threshold is unattainable)",
            "tasks": [task.to_json() for task in self.tasks],
            "skipped": self.skipped,
            "directory": None if self.directory is None else str(self.directory),
        }


def select_envs(pattern: str | None = None) -> list[str]:
    """The IDs `gymrun baselines` runs: those matching `pattern` (a substring or a glob,
    as for ``list-envs``), or without one every task with a shipped agent.

    >>> select_envs("FrozenLake")
    ['FrozenLake-v1', 'FrozenLake8x8-v1']
    >>> "Taxi-v4" in select_envs()
    True
    """
    if pattern is None:
        registered = {info.id for info in list_envs()}
        return [env_id for env_id in SHIPPED if env_id in registered]
    return [info.id for info in list_envs(pattern)]


def run_baselines(
    pattern: str | None = None,
    *,
    episodes: int = 100,
    seed: int = 0,
    directory: Path | None = None,
    executor: Executor | None = None,
    on_task: Callable[[TaskBaselines | None, str, int, int], None] | None = None,
) -> BaselinesResult:
    """Run the random agent and the shipped agent (where there is one) on every selected
    task (see `select_envs`), task by task, on `executor` (this process by default). With
    `directory`, each run is recorded in a directory of its own there and
    ``baselines.json`` is rewritten after every task, so an interrupted table keeps what
    finished. `on_task(task or None if skipped, env_id, done, total)`.
    """
    env_ids = select_envs(pattern)
    if not env_ids:
        hint = ""
        if pattern is not None and not any(c in pattern for c in "*?["):
            require_plugin(pattern)  # a game of a plugin that is not installed: install it
            hint = suggestion(pattern)
        raise UnknownNameError(
            f"no registered environment matches {pattern!r}{hint} (see gymrun list-envs)"
        )
    started = time.perf_counter()
    result = BaselinesResult([], [], episodes, seed, directory=directory)
    # one drawing process for every run's reward.png
    plotter = None if directory is None else Plotter()
    try:
        with executor or InProcess() as playing:
            _run_all(env_ids, result, started, plotter, playing, on_task)
    finally:
        if plotter is not None:
            result.notes = plotter.close()
    return result


def _run_all(
    env_ids: list[str],
    result: BaselinesResult,
    started: float,
    plotter: Plotter | None,
    executor: Executor,
    on_task: Callable[[TaskBaselines | None, str, int, int], None] | None,
) -> None:
    directory = result.directory
    for done, env_id in enumerate(env_ids, 1):
        task: TaskBaselines | None = None
        try:
            task = _task(env_id, result.episodes, result.seed, directory, executor, plotter)
        except GymrunError as exc:
            result.skipped.append({"env_id": env_id, "reason": str(exc)})
        else:
            result.tasks.append(task)
        result.seconds = time.perf_counter() - started
        interrupted = task is not None and "interrupted" in _statuses(task)
        if interrupted:
            result.status = "interrupted"
        if directory is not None:
            write_json(directory / BASELINES_FILE, result.to_json())
        if on_task is not None:
            on_task(task, env_id, done, len(env_ids))
        if interrupted:
            break


def _statuses(task: TaskBaselines) -> set[str]:
    return {score.status for score in (task.random, task.baseline) if score is not None}


def _task(
    env_id: str,
    episodes: int,
    seed: int,
    directory: Path | None,
    executor: Executor,
    plotter: Plotter | None,
) -> TaskBaselines:
    """The task's runs, the random agent's and the shipped agent's, played together (a run
    that cannot start skips the task, saying why)."""
    spec = find_spec(env_id)
    limit = episode_step_limit(_config(env_id, {"name": "random"}, episodes, seed, None))
    cap = UNLIMITED_CAP if limit is None else None
    shipped = SHIPPED.get(env_id)
    agents = [{"name": "random"}] + ([] if shipped is None else [shipped.entry()])
    configs = [_config(env_id, agent, episodes, seed, cap) for agent in agents]
    plans = [RunPlan.of(config) for config in configs]
    timers = [_Timer() for _ in plans]
    with InterruptGuard() as guard:
        sessions = [
            RunSession(
                plan,
                record_dir=None if directory is None else directory / str(plan.config.name),
                sinks=[EpisodeList(), timer],
                guard=guard,
                plotter=plotter,
                provenance=executor.provenance,
            )
            for plan, timer in zip(plans, timers, strict=True)
        ]
        status, _ = play_sessions(sessions, executor)
        results = [session.close(status) for session in sessions]
    for session in sessions:
        session.raise_if_never_started()  # the task cannot run here: skipped, saying why
    scores = [
        _score(result, agent, timer, spec.reward_threshold)
        for result, agent, timer in zip(results, agents, timers, strict=True)
    ]
    random, baseline = scores[0], scores[1] if len(scores) > 1 else None
    optimum = None if baseline is None else _optimum(configs[1].model_copy(update={"episodes": 1}))
    return TaskBaselines(env_id, spec.reward_threshold, cap, random, baseline, optimum)


class _Timer(Sink):
    """When a run started playing and when its last episode ended: the time spent playing,
    not recording."""

    def __init__(self) -> None:
        self.first = self.last = 0.0

    def started(self) -> None:
        self.first = self.last = time.perf_counter()

    def add(self, episodes: Sequence[EpisodeResult]) -> None:
        self.last = time.perf_counter()


def _config(
    env_id: str, agent: dict[str, Any], episodes: int, seed: int, cap: int | None
) -> ExperimentConfig:
    name = f"{env_id.replace('/', '_')}--{agent['name']}"
    document = {"name": name, "env": env_id, "agent": agent, "episodes": episodes, "seed": seed}
    if cap is not None:
        document["max_steps"] = cap
    return ExperimentConfig.model_validate(document)


def _score(
    run: RunResult, agent: dict[str, Any], timer: _Timer, threshold: float | None
) -> AgentScore:
    rewards = np.array([episode.reward for episode in run.episodes])
    rewards = rewards[np.isfinite(rewards)]
    mean = float(rewards.mean()) if len(rewards) else None
    low, high = bootstrap_ci(rewards) if len(rewards) else (None, None)
    options = {key: value for key, value in agent.items() if key != "name"}
    seconds = timer.last - timer.first
    return AgentScore(
        agent=agent["name"],
        options=options,
        privileged=bool(getattr(resolve_agent(agent["name"]), "privileged", False)),
        episodes=len(run.episodes),
        mean_reward=mean,
        ci_low=low,
        ci_high=high,
        solved=None if threshold is None or mean is None else mean >= threshold,
        seconds_per_episode=seconds / len(run.episodes) if run.episodes else None,
        status=run.status,
        error=None if run.error is None else str(run.error),
        run_dir=None if run.run_dir is None else str(run.run_dir),
    )


def _optimum(config: ExperimentConfig) -> float | None:
    """The exact optimal expected return, when the agent computes one."""
    with Experiment(config) as experiment:
        expected = getattr(experiment.policy.agents[0], "expected_return", None)
        value = expected() if callable(expected) else None
    return None if value is None or not math.isfinite(value) else float(value)


def find_baselines(directory: Path) -> Path | None:
    """The ``baselines.json`` of `directory`, or of its newest subdirectory that has one
    (``recordings/baselines``), or None when it holds no baselines."""
    if os.path.lexists(directory / BASELINES_FILE):
        return directory / BASELINES_FILE
    if not directory.is_dir():
        return None
    found = sorted(
        d / BASELINES_FILE
        for d in directory.iterdir()
        if not d.is_symlink() and os.path.lexists(d / BASELINES_FILE)
    )
    return found[-1] if found else None


_SCORE_KEYS = ("agent", "episodes", "mean_reward", "ci95", "solved", "seconds_per_episode")


def read_baselines(path: Path) -> dict[str, Any]:
    """A ``baselines.json`` read back (see `gymrun.records.files`), checked to be what
    `BaselinesResult.to_json` writes."""
    document = files.read_json(path.parent, path.name, BASELINES_LIMIT)
    problem = _baselines_problem(document)
    if problem is not None:
        raise RecordError(f"{path}: not gymrun's baselines ({problem})")
    return document  # type: ignore[no-any-return]


def _baselines_problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return f"a {type(document).__name__}, not a mapping"
    for key, kind in (("tasks", list), ("skipped", list), ("episodes", int), ("seed", int)):
        if not isinstance(document.get(key), kind):
            return f"{key} is not a {kind.__name__}"
    if not all(
        isinstance(s, dict) and isinstance(s.get("env_id"), str) for s in document["skipped"]
    ):
        return "skipped is not a list of environments"
    for number, task in enumerate(document["tasks"]):
        if not (isinstance(task, dict) and isinstance(task.get("env_id"), str)):
            return f"tasks.{number} is not a task"
        for name in ("random", "baseline"):
            score = task.get(name)
            if name == "baseline" and score is None:
                continue
            if not (isinstance(score, dict) and all(key in score for key in _SCORE_KEYS)):
                return f"tasks.{number}.{name} is not an agent's score"
            if not (isinstance(score["ci95"], list) and len(score["ci95"]) == 2):
                return f"tasks.{number}.{name}.ci95 is not a pair"
        for key in ("threshold", "optimum", "max_steps"):
            value = task.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                return f"tasks.{number}.{key} is not a number"
    return None


def interval(score: dict[str, Any], threshold: float | None = None) -> str:
    """``mean [low, high]`` of a score in its JSON form (against `threshold`: with the
    digits that show which side of it each end lies on)."""
    low, high = score["ci95"]
    return interval_against(score["mean_reward"], low, high, threshold)


def verdict(task: dict[str, Any], score: dict[str, Any]) -> str | None:
    """A score's mean against its task's threshold, from their JSON form (so a
    ``baselines.json`` written before verdicts gets one): "reached on average", "not
    reached on average", or "within noise" when the 95% interval holds the threshold or
    the threshold is unattainable (the optimum's expected return is below it: a mean above
    it is luck). None without a threshold or a mean.

    >>> task = {"threshold": 0.7, "attainable": None}
    >>> verdict(task, {"mean_reward": 0.78, "ci95": [0.69975, 0.86]})
    'within noise'
    >>> verdict({"threshold": 8, "attainable": False}, {"mean_reward": 8.4, "ci95": [8.1, 8.7]})
    'within noise'
    """
    threshold, mean = task["threshold"], score["mean_reward"]
    if threshold is None or mean is None:
        return None
    low, high = score["ci95"]
    if low is None or high is None:
        low = high = mean
    side = compared(low, high, threshold)
    if side is True and task.get("attainable") is False:
        side = None
    return {True: REACHED, False: NOT_REACHED, None: WITHIN_NOISE}[side]


def markdown_table(document: dict[str, Any]) -> str:
    """The Markdown table of a ``baselines.json`` document, one row per task, as the
    documentation's baselines page shows it."""
    lines = [
        "| environment | threshold | random agent | shipped agent | mean [95% interval] "
        "| reached on average | optimum | s/episode |",
        "| --- | ---: | ---: | --- | ---: | :---: | ---: | ---: |",
    ]
    for task in document["tasks"]:
        shipped = task["baseline"]
        threshold = task["threshold"]
        cells = [f"`{task['env_id']}`", figure(threshold), interval(task["random"])]
        if shipped is None:
            cells += ["—", "—", "—"]
        else:
            name = f"`{shipped['agent']}`" + (" (privileged)" if shipped["privileged"] else "")
            cells += [name, interval(shipped, threshold), verdict(task, shipped) or "—"]
        optimum = figure(task["optimum"])
        if task["attainable"] is False:
            optimum += " (threshold unattainable)"
        seconds = (
            shipped["seconds_per_episode"] if shipped else task["random"]["seconds_per_episode"]
        )
        cells += [optimum, "—" if seconds is None else f"{seconds:.3g}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
