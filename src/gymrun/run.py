"""A run: one plan played through the pipeline (a sweep of one point), recorded and
summarised → `RunResult`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gymrun.components.agents import in_memory_agent
from gymrun.config import ExperimentConfig
from gymrun.config.schema import AgentConfig
from gymrun.config.wording import wording
from gymrun.core.experiment import refuse_learning
from gymrun.core.plan import RunPlan
from gymrun.core.signals import InterruptGuard
from gymrun.errors import AgentError, ResumeRefused, UsageError
from gymrun.pipeline.playing import play_sessions
from gymrun.pipeline.session import RunResult, RunSession
from gymrun.pipeline.sinks import Dataset, EpisodeList, Sink
from gymrun.records.dataset import claim_dataset
from gymrun.records.directory import RecordDir
from gymrun.records.resuming import Recorded, recorded_part, recorded_seed, why_not_continued
from gymrun.records.video import video_writer_class
from gymrun.scale.executors import Executor, InProcess

__all__ = ["RunResult", "evaluate", "run_experiment"]


def run_experiment(
    config: ExperimentConfig,
    *,
    record_dir: Path | RecordDir | None = None,
    executor: Executor | None = None,
    sinks: Sequence[Sink] | None = None,
    resume: bool = False,
    replace_dataset: bool = False,
) -> RunResult:
    """Run every episode of `config` on `executor` (this process by default; see
    `gymrun.scale.executors` for a pool of processes or a Dask cluster: the episodes are
    the same) and return their summary and how the run ended.

    With `record_dir` (an empty directory, or one claimed with `gymrun.records.directory`)
    the run is recorded there as it goes; nothing in it is touched until the run's
    environment and agent have been built. If the env or agent raises, on Ctrl-C, or if the
    record cannot be written, the episodes that finished are kept and the result says
    "failed" or "interrupted"; it is not raised. A run that cannot even start (its
    environment or agent cannot be built) raises.

    `sinks` (see `gymrun.pipeline.sinks`) get the episodes as they finish; by default an
    `EpisodeList` keeps them all for ``result.episodes`` (a long run is better given sinks
    that keep what they need).

    With `resume`, `record_dir` (claimed with `RecordDir.reopen`) holds this run, stopped
    part way: its episodes are kept and the run goes on from the first one missing, with the
    same seeds, so that it ends as the run would have ended uninterrupted. The recorded
    config and code must be these (a config without a seed takes the recorded one), but for
    more episodes: a run, stopped or completed, whose episodes are seeded one by one and
    whose agent does not learn goes on to them, as a run of that many would have played
    them, and its ``config.yaml`` says so.

    A config with ``record.dataset`` writes every step of the run as that Minari dataset
    (see `gymrun.records.dataset`); an existing dataset of that ID is refused before
    anything runs, unless `replace_dataset`. A resumed run continues its own dataset.

    >>> from gymrun.config import load_config
    >>> result = run_experiment(load_config("configs/cartpole_random.yaml", episodes=5, seed=0))
    >>> [e.steps for e in result.episodes], result.summary.mean_steps, result.status
    ([26, 11, 39, 20, 10], 21.2, 'completed')
    """
    refuse_grid(config)
    recorded = None
    complete = False  # a complete run is left as it is, whatever keeps it from playing here
    if resume:
        if record_dir is None:
            raise UsageError("resuming a run needs its directory")
        directory = record_dir.path if isinstance(record_dir, RecordDir) else record_dir
        where = wording().valued("record_dir", str(directory), "--resume")
        if config.seed is None:
            config = config.model_copy(update={"seed": recorded_seed(directory, where)})
        plan = RunPlan.of(config)
        recorded = recorded_part(plan, directory, where, extend=True)
        complete = recorded.complete and recorded.count == plan.episodes
        if (why := why_not_continued(plan)) is not None and not complete:
            if recorded.extended_from is not None:
                why += f", so it cannot go on to {plan.episodes} episodes"
            raise ResumeRefused(f"{where}: {why}; run it again")
    else:
        plan = RunPlan.of(config)
    return _run_plan(
        plan, record_dir, executor or InProcess(), sinks, recorded, complete, replace_dataset
    )


def refuse_grid(config: ExperimentConfig) -> None:
    """Refuse a config with a sweep section: one run would play none of its grid, and whoever
    ran it would take one run for the sweep. (`load_config` refuses such a file; this is for
    a config made or changed in Python.)

    >>> from gymrun.config import load_config
    >>> config = load_config("configs/cartpole_random.yaml")
    >>> refuse_grid(config.model_copy(update={"sweep": {"seeds": [0, 1]}}))
    Traceback (most recent call last):
    gymrun.errors.UsageError: configs/cartpole_random.yaml sweep: a run plays one point, not a \
grid: use run_sweep(load_sweep('configs/cartpole_random.yaml')) for it, or 'sweep=null' in overrides
    """
    error = config.refused_sweep()
    if error is not None:
        raise error


def _run_plan(
    plan: RunPlan,
    record_dir: Path | RecordDir | None,
    executor: Executor,
    sinks: Sequence[Sink] | None,
    recorded: Recorded | None = None,
    complete: bool = False,
    replace_dataset: bool = False,
) -> RunResult:
    """Play `plan` as one session of the pipeline (`recorded`: what a resumed run holds;
    `complete`: it holds every episode, and is left as it is)."""
    if plan.config.record.video and not complete:
        video_writer_class()  # fails before anything runs when moviepy is missing
    if executor.policy is not None and not plan.splittable and not complete:
        raise _not_shared(plan, executor)
    sinks = [EpisodeList()] if sinks is None else list(sinks)
    if plan.keeps_transitions and not complete:
        kept, started_for = (
            (0, None) if recorded is None else (recorded.count, recorded.extended_from)
        )
        target = claim_dataset(plan, replace=replace_dataset, kept=kept, started_for=started_for)
        sinks.append(Dataset(plan, target))
    with InterruptGuard() as guard, executor:
        session = RunSession(
            plan,
            record_dir=record_dir,
            sinks=sinks,
            resumed=recorded,
            guard=guard,
            provenance=executor.provenance,
        )
        if session.complete_already:
            result = session.close()
            note = f"{session.directory}: the run was complete already; nothing was played"
            result.notes.append(note)
            return result
        status, lost = play_sessions([session], executor)
        result = session.close(status)
    session.raise_if_never_started()
    if lost is not None:
        result.notes.append(lost)
    return result


def _not_shared(plan: RunPlan, executor: Executor) -> Exception:
    """Why the run of `plan` cannot be shared out by `executor`."""
    where = "a Dask cluster" if executor.name == "dask" else "worker processes"
    if plan.learns:
        return AgentError(refuse_learning(plan.config.agent.name, where))
    return UsageError(
        f"{plan.config.env.id}'s own vector implementation is seeded once per run, so its "
        f"episodes cannot be shared out to {where}: run it in this process, or use "
        "vector.mode sync or async"
    )


def evaluate(
    agent: Any,
    env: str | Path | ExperimentConfig,
    *,
    episodes: int | None = None,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    record_dir: Path | RecordDir | None = None,
    sinks: Sequence[Sink] | None = None,
    deterministic: bool = True,
) -> RunResult:
    """Evaluate an agent you hold in memory, as ``gymrun run`` evaluates one named in a
    config: the same episodes, seeds, record and summary.

    `agent` is a Stable-Baselines3 model (or any object with ``predict(observation,
    deterministic=)``: `deterministic` as SB3's ``evaluate_policy`` takes it), an object
    with ``act(observation)`` (and, if it has them, ``act_batch``, ``reset``, ``observe``),
    or a function ``observation -> action``. `env` is an environment ID (100 episodes by
    default, as ``gymrun run ENV_ID``), a config file or an `ExperimentConfig`, whose agent
    `agent` stands in for; `overrides` are ``--set``'s ``KEY=VALUE``. The run plays in this
    process; its ``config.yaml`` names the agent's class, and ``meta.json`` says it was an
    object in memory (such a record cannot be run again from its config alone).

    >>> result = evaluate(lambda observation: int(observation[2] > 0), "CartPole-v1",
    ...                   episodes=3, seed=0)
    >>> [episode.reward for episode in result.episodes], result.status
    ([49.0, 35.0, 40.0], 'completed')
    """
    from gymrun.config import env_config, load_config

    if isinstance(env, ExperimentConfig):
        given = {"episodes": episodes, "seed": seed}
        config = env.model_copy(update={k: v for k, v in given.items() if v is not None})
    elif isinstance(env, Path) or Path(env).suffix.lower() in (".yaml", ".yml", ".json"):
        config = load_config(env, overrides, episodes=episodes, seed=seed)
    else:
        config = env_config(env, overrides, episodes=episodes, seed=seed)
    refuse_grid(config)
    acting = in_memory_agent(agent, deterministic)
    described = agent if callable(agent) and hasattr(agent, "__qualname__") else type(agent)
    name = f"{described.__module__}.{described.__qualname__} (in memory)"
    config = config.model_copy(update={"agent": AgentConfig.model_construct(name=name)})
    plan = RunPlan.of(config, agent=acting)
    plan.provenance["agent"] = {"in_memory": name.removesuffix(" (in memory)")}
    return _run_plan(plan, record_dir, InProcess(), sinks)
