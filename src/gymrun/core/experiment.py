"""An experiment in this process: the plan's environment and agent, ready to play."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

from gymrun.components.agents import make_agent
from gymrun.components.policy import Policy
from gymrun.config import ExperimentConfig
from gymrun.core.environment import Wrap, make_env, make_vector_env
from gymrun.core.episodes import EpisodeResult
from gymrun.core.loop import play
from gymrun.core.plan import RunPlan
from gymrun.errors import AgentError


class Experiment:
    """An experiment ready to run; iterate `episodes()` to run it, episode by episode.

    With a ``vector`` section the environment is a vector env and episodes come in batches.
    `outer` wraps the single environment last (gymrun records video with it).

    >>> from gymrun.config import load_config
    >>> with Experiment(load_config("configs/cartpole_balance.yaml", episodes=2, seed=0)) as exp:
    ...     [(e.reward, e.truncated) for e in exp.episodes()]
    [(500.0, True), (500.0, True)]
    """

    def __init__(self, config: ExperimentConfig | RunPlan, outer: Wrap | None = None) -> None:
        self.plan = config if isinstance(config, RunPlan) else RunPlan.of(config)
        self.config = self.plan.config
        vector = self.config.vector is not None
        self.env: Any = make_vector_env(self.plan) if vector else make_env(self.plan, outer)
        try:
            self.policy = self._policy()
        except BaseException:
            self.env.close()
            raise

    def _policy(self) -> Policy:
        config, env = self.config, self.env
        name = config.agent.name
        if config.vector is None:
            agent = make_agent(
                name, config.agent_options, env.action_space, env.observation_space, env=env
            )
            return Policy([agent], env.action_space, name=name)

        def build() -> Any:
            return make_agent(
                name,
                config.agent_options,
                env.single_action_space,
                env.single_observation_space,
                num_envs=env.num_envs,
            )

        agent = build()
        if Policy.learning(agent):
            raise AgentError(refuse_learning(name, "a vector run"))
        if self.plan.vector_mode == "vector_entry_point" and Policy.batches(agent):
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
