"""A config made real: the environment and its wrapper stack, the agent, the episodes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import gymnasium as gym

from gymrun.agents import make_agent
from gymrun.catalog import find_spec
from gymrun.config import ExperimentConfig
from gymrun.errors import GymrunError
from gymrun.rollout import EpisodeResult, rollout
from gymrun.summary import Summary, SummaryBuilder
from gymrun.wrappers import apply_wrappers


def resolve_config(config: ExperimentConfig) -> ExperimentConfig:
    """Fill in what the config left open: a drawn seed and the spec's reward boundary.

    >>> from gymrun.config import ExperimentConfig
    >>> resolved = resolve_config(ExperimentConfig(env={"id": "CartPole-v1"}, seed=3))
    >>> resolved.seed, resolved.reward_boundary
    (3, 475.0)
    """
    update: dict[str, Any] = {}
    if config.seed is None:
        update["seed"] = secrets.randbelow(2**31)
    if config.reward_boundary is None:
        update["reward_boundary"] = find_spec(config.env.id).reward_threshold
    return config.model_copy(update=update)


def make_env(config: ExperimentConfig) -> gym.Env[Any, Any]:
    """Make the config's environment wrapped in its wrapper stack."""
    options: dict[str, Any] = dict(config.env.kwargs)
    if config.env.max_episode_steps is not None:
        options["max_episode_steps"] = config.env.max_episode_steps
    try:
        env = gym.make(config.env.id, **options)
    except Exception as exc:
        raise GymrunError(f"env: cannot make {config.env.id}: {type(exc).__name__}: {exc}") from exc
    try:
        return apply_wrappers(env, config.wrapper_stack)
    except GymrunError:
        env.close()
        raise


class Experiment:
    """An experiment ready to run; iterate `episodes()` to run it, episode by episode.

    >>> from gymrun.config import load_config
    >>> with Experiment(load_config("configs/cartpole_balance.yaml", episodes=2, seed=0)) as exp:
    ...     [(e.reward, e.truncated) for e in exp.episodes()]
    [(500.0, True), (500.0, True)]
    """

    def __init__(self, config: ExperimentConfig) -> None:
        self.seed_drawn = config.seed is None
        self.config = resolve_config(config)
        self.env = make_env(self.config)
        try:
            self.agent = make_agent(
                self.config.agent.name,
                self.config.agent_options,
                self.env.action_space,
                self.env.observation_space,
            )
        except BaseException:
            self.env.close()
            raise

    def episodes(self, start: int = 0, count: int | None = None) -> Iterator[EpisodeResult]:
        """Run episodes `start` .. `start + count - 1` (default: all the config asks for)."""
        assert self.config.seed is not None  # resolve_config drew one
        return rollout(
            self.env,
            self.agent,
            seed=self.config.seed,
            episodes=self.config.episodes - start if count is None else count,
            start=start,
            reward_boundary=self.config.reward_boundary,
            max_steps=self.config.max_steps,
            agent_name=self.config.agent.name,
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


@dataclass(frozen=True)
class RunResult:
    """Everything a finished run produced."""

    config: ExperimentConfig  # resolved: seed and reward boundary filled in
    episodes: list[EpisodeResult]
    summary: Summary

    def to_json(self) -> dict[str, Any]:
        """The object ``gymrun run --json`` prints."""
        return {
            "config": self.config.to_json(),
            "episodes": [episode.to_json() for episode in self.episodes],
            "summary": self.summary.to_json(),
        }


def run_experiment(config: ExperimentConfig) -> RunResult:
    """Run every episode of `config` and return the episodes and their summary.

    For runs too long to keep every episode in memory, iterate `Experiment.episodes()`.

    >>> from gymrun.config import load_config
    >>> result = run_experiment(load_config("configs/cartpole_random.yaml", episodes=5, seed=0))
    >>> [e.steps for e in result.episodes], result.summary.mean_steps
    ([24, 28, 99, 21, 21], 38.6)
    """
    with Experiment(config) as experiment:
        builder = SummaryBuilder(experiment.config.reward_boundary)
        episodes = []
        for episode in experiment.episodes():
            builder.add(episode)
            episodes.append(episode)
        return RunResult(experiment.config, episodes, builder.summary())
