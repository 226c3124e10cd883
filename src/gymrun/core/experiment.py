"""An experiment in this process: the plan's environment and agent, ready to play."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from gymrun.components.agents import build_agent, check_unloaded, loads_files
from gymrun.components.policy import Policy
from gymrun.components.wrappers import path_keywords, resolve_wrapper
from gymrun.config import ExperimentConfig
from gymrun.core.environment import Wrap, make_env, make_vector_env
from gymrun.core.episodes import EpisodeResult
from gymrun.core.loop import play
from gymrun.core.plan import RunPlan, placing
from gymrun.errors import AgentError


class Experiment:
    """An experiment ready to run; iterate `episodes()` to run it, episode by episode.

    With a ``vector`` section the environment is a vector env and episodes come in batches.
    `outer` wraps the single environment last (gymrun records video with it); files that
    wrappers write go in `files_dir`, the run's directory.

    >>> from gymrun.config import load_config
    >>> with Experiment(load_config("configs/cartpole_balance.yaml", episodes=2, seed=0)) as exp:
    ...     [(e.reward, e.truncated) for e in exp.episodes()]
    [(500.0, True), (500.0, True)]
    """

    def __init__(
        self,
        config: ExperimentConfig | RunPlan,
        outer: Wrap | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.plan = config if isinstance(config, RunPlan) else RunPlan.of(config)
        self.config = self.plan.config
        with placing(self.config):
            if self.config.vector is not None:
                self.env: Any = make_vector_env(self.plan, files_dir)
            else:
                self.env = make_env(self.plan, outer, files_dir)
            try:
                self.policy = self._policy()
            except BaseException:
                self.env.close()
                raise

    def _policy(self) -> Policy:
        config, env = self.config, self.env
        name = config.agent.name
        if config.vector is None:
            agent = build_agent(
                self.plan.agent,
                name,
                config.agent_options,
                env.action_space,
                env.observation_space,
                env=env,
            )
            return Policy([agent], env.action_space, name=name)

        def build() -> Any:
            return build_agent(
                self.plan.agent,
                name,
                config.agent_options,
                env.single_action_space,
                env.single_observation_space,
                num_envs=env.num_envs,
            )

        if self.plan.learns:
            raise AgentError(refuse_learning(name, "a vector run"))
        agent = build()
        # A backend that resets its sub-environments itself has no episode to reset an
        # agent's copy for: an agent that acts for a whole batch acts for all of them.
        assert self.plan.backend is not None
        if not self.plan.backend.seeds_each_episode and Policy.batches(agent):
            return Policy([agent], env.action_space, name=name, batched=True)
        # one copy of a per-observation agent for each sub-environment
        agents = [agent] + [build() for _ in range(env.num_envs - 1)]
        return Policy(agents, env.single_action_space, name=name)

    def episodes(self, start: int = 0, count: int | None = None) -> Iterator[EpisodeResult]:
        """Run episodes `start` .. `start + count - 1` (default: all the config asks for)."""
        for batch in self.batches(start, count):
            yield from batch

    def batches(
        self, start: int = 0, count: int | None = None
    ) -> Iterator[Sequence[EpisodeResult]]:
        """Like `episodes`, in the batches the episodes are produced in (one at a time for a
        single env; as many as a vector env finishes together)."""
        return play(
            self.env,
            self.policy,
            seed=self.plan.seed,
            first=start,
            count=self.config.episodes - start if count is None else count,
            reward_boundary=self.config.reward_boundary,
            metrics=self.plan.metrics,
            transitions=self.plan.keeps_transitions,
        )

    def close(self) -> None:
        self.env.close()

    def __enter__(self) -> Experiment:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def refuse_learning(agent: str, where: str) -> str:
    """Why agent `agent`, which learns, cannot run `where`."""
    return (
        f"agent {agent} learns from its steps (it has observe), so it cannot be spread over "
        f"{where}: run it in one process without vector"
    )


# Packages whose code validation may run: gymrun's own and Gymnasium's (ale-py's Atari
# environments among them). Anything else a config names is the user's, run only by a run.
TRUSTED_PACKAGES = ("gymrun", "gymnasium", "ale_py")


def trial_build(config: ExperimentConfig) -> list[str]:
    """Build what ``gymrun validate`` may build without running any code of the user's or
    writing a file: the environment, its wrapper stack and the agent, as far as each is
    gymrun's or Gymnasium's and writes nothing. An agent built from files (a trained model)
    is checked against the environment from their metadata, never loaded: loading a model
    may run code it holds. Returns notes of what was not built or not checked, and why.

    >>> trial_build(ExperimentConfig(env="CartPole-v1", agent={"name": "constant", "action": 1}))
    []
    """
    with placing(config):
        return _trial_build(config)


def _trial_build(config: ExperimentConfig) -> list[str]:
    plan = RunPlan.of(config)
    entry = plan.spec.entry_point
    module = entry.split(":")[0] if isinstance(entry, str) else getattr(entry, "__module__", "")
    if not _trusted(module):
        return [_not_built(f"env {config.env.id} (its code is not gymrun's or Gymnasium's)")]
    left_out = []
    trained_in = plan.agent_wrappers
    for index, (name, kwargs) in enumerate(trained_in):
        why = _why_not_built(name, kwargs)
        if why is not None:
            where = f"agent {config.agent.name}'s env_wrapper {name}"
            left_out.append(f"{where}, the config's wrappers and what follows ({why})")
            trained_in = trained_in[:index]
            break
    stack = [] if left_out else config.wrappers
    for index, (name, kwargs) in enumerate([] if left_out else config.wrapper_stack):
        why = _why_not_built(name, kwargs)
        if why is not None:
            left_out.append(f"wrappers.{index} ({name}) and what follows it ({why})")
            stack = stack[:index]
            break
    agent_trusted = _trusted(getattr(plan.agent, "__module__", ""))
    if left_out or not agent_trusted:
        if not agent_trusted:
            left_out.append(f"agent {config.agent.name} (its code is not gymrun's or Gymnasium's)")
        else:
            left_out.append(f"agent {config.agent.name} (it acts on what those wrappers make)")
        trial = RunPlan.of(config.model_copy(update={"wrappers": stack, "vector": None}))
        if trial.agent_env is not None:
            setup = dataclasses.replace(trial.agent_env, wrappers=tuple(trained_in))
            trial = dataclasses.replace(trial, agent_env=setup)
        make_env(trial).close()
        return [_not_built(part) for part in left_out]
    if loads_files(plan.agent):
        vector = config.vector is not None
        env: Any = make_vector_env(plan) if vector else make_env(plan)
        try:
            return check_unloaded(
                plan.agent,
                config.agent_options,
                env.single_action_space if vector else env.action_space,
                env.single_observation_space if vector else env.observation_space,
            )
        finally:
            env.close()
    Experiment(plan).close()
    return []


def _why_not_built(name: str, kwargs: dict[str, Any]) -> str | None:
    """Why validation does not build wrapper `name` with `kwargs`, or None."""
    if path_keywords(kwargs):
        return "it writes files"
    if not _trusted(resolve_wrapper(name).__module__):
        return "its code is not gymrun's or Gymnasium's"
    return None


def _not_built(part: str) -> str:
    return f"not built, so not checked beyond its keywords: {part}"


def _trusted(module: str) -> bool:
    return module.partition(".")[0] in TRUSTED_PACKAGES
