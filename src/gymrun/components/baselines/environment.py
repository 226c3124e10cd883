"""What the baseline agents read from the environment they are given."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from gymrun.errors import AgentError


def env_id(env: gym.Env[Any, Any]) -> str:
    """The registered ID of `env`, or its class name when it was made without one.

    >>> env_id(gym.make("CartPole-v1"))
    'CartPole-v1'
    """
    spec = env.spec
    return spec.id if spec is not None else type(env.unwrapped).__name__


def step_limit(env: gym.Env[Any, Any]) -> int | None:
    """The fewest steps any `TimeLimit` in `env`'s wrapper stack lets an episode run.

    >>> step_limit(gym.make("FrozenLake-v1")), step_limit(gym.make("CliffWalking-v1"))
    (100, None)
    """
    limits = []
    layer: Any = env
    while isinstance(layer, gym.Wrapper):
        if isinstance(layer, gym.wrappers.TimeLimit):
            limits.append(layer._max_episode_steps)
        layer = layer.env
    return min(limits) if limits else None


def refuse(agent: str, env: gym.Env[Any, Any], needs: str) -> AgentError:
    """The error for agent `agent` on an `env` that lacks what it `needs`."""
    return AgentError(f"agent {agent} needs {needs}; {env_id(env)} has none")
