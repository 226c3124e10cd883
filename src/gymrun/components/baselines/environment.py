"""What the baseline agents read from the environment they are given."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from gymrun.components.catalog import entry_point_name
from gymrun.errors import AgentError

# Where the environments come from whose every ID an agent can be judged by, up front
KNOWN_SOURCES = ("gymnasium.", "ale_py", "gymrun.")


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


def is_users(spec: EnvSpec) -> bool:
    """Whether `spec` is an environment of the user's own (not Gymnasium's, ale-py's or
    gymrun's): an agent can only tell whether it fits by building itself on it.

    >>> is_users(gym.spec("CartPole-v1"))
    False
    """
    return not entry_point_name(spec).startswith(KNOWN_SOURCES)


def unsupported(agent: str, spec: EnvSpec, supports: str) -> str:
    """What a config is told when agent `agent` does not fit the env of `spec`."""
    return f"agent {agent} supports {supports}; {spec.id} is not one of them"


def listed(names: list[str] | tuple[str, ...]) -> str:
    """``"a, b and c"``.

    >>> listed(["CartPole", "Pendulum", "Acrobot"])
    'CartPole, Pendulum and Acrobot'
    """
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
