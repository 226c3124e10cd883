"""Agents: what picks the actions. gymrun's baselines and the adapter for a user's own."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from gymrun.errors import AgentError, did_you_mean
from gymrun.importing import KeywordProblem, is_target, keyword_problem, load_target
from gymrun.spaces import space_label, to_action


@runtime_checkable
class Agent(Protocol):
    """What the rollout loop needs of an agent.

    It may also have ``reset(seed)``, called at each episode start with the episode's agent
    seed, and ``observe(obs, action, reward, next_obs, terminated, truncated)``, called after
    each step so a learning agent can update.
    """

    def act(self, observation: Any) -> Any: ...


class RandomAgent:
    """Samples the action space; reseeded at every episode start.

    >>> agent = RandomAgent(gym.spaces.Discrete(2))
    >>> agent.reset(0)
    >>> [int(agent.act(None)) for _ in range(6)]
    [1, 1, 1, 0, 0, 0]
    """

    actions_in_space = True  # sampled from the space itself: no need to check each one

    def __init__(self, action_space: gym.Space[Any]) -> None:
        # A private copy, so seeding it cannot disturb the env's or a wrapper's sampling.
        self._space = copy.deepcopy(action_space)

    def reset(self, seed: int) -> None:
        self._space.seed(seed)

    def act(self, observation: Any) -> Any:
        return self._space.sample()


class ConstantAgent:
    """Always the same `action`, checked against the action space once, up front.

    >>> ConstantAgent(gym.spaces.Discrete(2), action=1).act(None)
    1
    """

    actions_in_space = True

    def __init__(self, action_space: gym.Space[Any], action: Any) -> None:
        self.action = to_action(action_space, action, "action")

    def act(self, observation: Any) -> Any:
        return self.action


class SequenceAgent:
    """Plays `actions` in order, cycling, from the start of the list at every episode.

    >>> agent = SequenceAgent(gym.spaces.Discrete(2), actions=[0, 0, 1])
    >>> [agent.act(None) for _ in range(5)]
    [0, 0, 1, 0, 0]
    """

    actions_in_space = True

    def __init__(self, action_space: gym.Space[Any], actions: Sequence[Any]) -> None:
        if not actions:
            raise AgentError("sequence agent: 'actions' must not be empty")
        self.actions = [to_action(action_space, a, f"actions.{i}") for i, a in enumerate(actions)]
        self._next = 0

    def reset(self, seed: int) -> None:
        self._next = 0

    def act(self, observation: Any) -> Any:
        action = self.actions[self._next]
        self._next = (self._next + 1) % len(self.actions)
        return action


class CartPoleBalance:
    """A scripted controller for CartPole: push towards where the pole is falling.

    A linear policy on angle, angular velocity, position and velocity; it keeps the pole up
    for the whole 500 steps of CartPole-v1 from every start state we have tried.

    >>> agent = CartPoleBalance(gym.spaces.Box(-5, 5, (4,)))
    >>> agent.act([0.0, 0.0, 0.05, 0.0]), agent.act([0.0, 0.0, -0.05, 0.0])
    (1, 0)
    """

    GAINS = np.array([0.01, 0.1, 1.0, 0.5])

    def __init__(self, observation_space: gym.Space[Any]) -> None:
        if getattr(observation_space, "shape", None) != (4,):
            raise AgentError(
                "cartpole_balance needs CartPole's observation (4 values: x, x_dot, theta, "
                f"theta_dot); this environment observes {space_label(observation_space)}"
            )

    def act(self, observation: Any) -> int:
        return int(float(np.dot(self.GAINS, observation)) > 0.0)


class FunctionAgent:
    """Adapts a plain function ``observation -> action`` to the agent protocol."""

    def __init__(self, policy: Callable[[Any], Any]) -> None:
        self.act = policy


BUILTIN_AGENTS: dict[str, type] = {
    "random": RandomAgent,
    "constant": ConstantAgent,
    "sequence": SequenceAgent,
    "cartpole_balance": CartPoleBalance,
}

# Constructor arguments gymrun fills in itself when a constructor names them.
SPACE_ARGUMENTS = ("action_space", "observation_space")


def resolve_agent(name: str) -> Any:
    """The class (or function, or object) that agent `name` stands for."""
    if name in BUILTIN_AGENTS:
        return BUILTIN_AGENTS[name]
    if is_target(name):
        target = load_target(name)
        if not callable(target) and not hasattr(target, "act"):
            raise AgentError(f"'{name}' is neither callable nor has an act(observation) method")
        return target
    raise AgentError(
        f"unknown agent '{name}'{did_you_mean(name, BUILTIN_AGENTS)} "
        f"(use one of {', '.join(BUILTIN_AGENTS)} or 'package.module:attr')"
    )


def agent_option_problem(name: str, options: Mapping[str, Any]) -> KeywordProblem | None:
    """Why agent `name` cannot take `options`, or None; used to check configs up front."""
    target = resolve_agent(name)
    if isinstance(target, type):
        return keyword_problem(target, dict(options), supplied=SPACE_ARGUMENTS)
    if options:
        first = next(iter(options))
        return KeywordProblem(first, f"{name} is not a class, so it takes no options ({first})")
    return None


def make_agent(
    name: str,
    options: Mapping[str, Any],
    action_space: gym.Space[Any],
    observation_space: gym.Space[Any],
) -> Any:
    """Build agent `name` for an environment with these spaces.

    >>> agent = make_agent("constant", {"action": 0}, gym.spaces.Discrete(2), None)
    >>> agent.act(None)
    0
    """
    target = resolve_agent(name)
    if not isinstance(target, type):
        if hasattr(target, "act"):
            return target
        return FunctionAgent(target)
    problem = keyword_problem(target, dict(options), supplied=SPACE_ARGUMENTS)
    if problem:
        raise AgentError(f"agent {problem}")
    params = inspect.signature(target).parameters
    spaces = {"action_space": action_space, "observation_space": observation_space}
    supplied = {key: value for key, value in spaces.items() if key in params}
    try:
        agent = target(**supplied, **options)
    except AgentError:
        raise
    except Exception as exc:
        raise AgentError(f"agent {name} could not be built: {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(agent, "act", None)):
        raise AgentError(f"agent {name} has no act(observation) method")
    return agent
