"""A config made ready to run: what it left open filled in, what it names looked up once."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

from gymnasium.envs.registration import EnvSpec

from gymrun.components.agents import agent_provenance
from gymrun.components.catalog import find_spec
from gymrun.config import ExperimentConfig


@dataclass(frozen=True)
class RunPlan:
    """A validated config with its seed drawn and its reward boundary filled in, and the
    environment's registered spec and vector mode, found once.

    It pickles without validating again, so worker processes build from it directly.

    >>> plan = RunPlan.of(ExperimentConfig(env={"id": "CartPole-v1"}, seed=3))
    >>> plan.seed, plan.reward_boundary, plan.spec.max_episode_steps, plan.vector_mode
    (3, 475.0, 500, None)
    """

    config: ExperimentConfig
    spec: EnvSpec
    vector_mode: str | None
    # what identifies the run's code and data beyond its config, for meta.json
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)
    # tells plans apart in worker processes, which keep built experiments by it
    key: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    @classmethod
    def of(cls, config: ExperimentConfig) -> RunPlan:
        spec = find_spec(config.env.id)
        update: dict[str, Any] = {}
        if config.seed is None:
            update["seed"] = secrets.randbelow(2**31)
        if config.reward_boundary is None:
            update["reward_boundary"] = spec.reward_threshold
        provenance = {}
        agent = agent_provenance(config.agent.name, config.agent_options)
        if agent is not None:
            provenance["agent"] = agent
        return cls(config.model_copy(update=update), spec, config.vector_mode, provenance)

    @property
    def seed(self) -> int:
        assert self.config.seed is not None  # `of` drew one
        return self.config.seed

    @property
    def reward_boundary(self) -> float | None:
        return self.config.reward_boundary

    @property
    def episodes(self) -> int:
        return self.config.episodes


def unbounded_episodes_warning(config: ExperimentConfig) -> str | None:
    """A warning when nothing limits an episode's length: neither the env spec, nor
    ``env.max_episode_steps``, nor ``max_steps``.

    >>> print(unbounded_episodes_warning(ExperimentConfig(env={"id": "Blackjack-v1"}))[:47])
    Blackjack-v1 sets no limit on episode length an
    >>> unbounded_episodes_warning(ExperimentConfig(env={"id": "Blackjack-v1"}, max_steps=100))
    """
    limits = (
        find_spec(config.env.id).max_episode_steps,
        config.env.max_episode_steps,
        config.max_steps,
    )
    if any(limit is not None for limit in limits):
        return None
    return (
        f"{config.env.id} sets no limit on episode length and neither does the config: an "
        "episode that never ends would run forever (set max_steps to cap it)"
    )
