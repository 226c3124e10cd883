"""Episodes through gymrun's one loop, for an env and agent a test made itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gymnasium as gym

from gymrun import Policy, play
from gymrun.core.episodes import EpisodeResult


def rollout(
    env: gym.Env[Any, Any],
    agent: Any,
    *,
    seed: int,
    episodes: int,
    start: int = 0,
    reward_boundary: float | None = None,
    agent_name: str = "agent",
) -> Iterator[EpisodeResult]:
    """Episodes of one agent on one environment through gymrun's loop, one at a time."""
    policy = Policy([agent], env.action_space, name=agent_name)
    for batch in play(
        env, policy, seed=seed, count=episodes, first=start, reward_boundary=reward_boundary
    ):
        yield from batch
