"""Agents: what picks the actions. gymrun's baselines and the adapter for a user's own."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
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

    Discrete actions are drawn in blocks, far cheaper than ``action_space.sample()`` each
    step. All episodes share one PCG64 stream: ``reset(seed)`` jumps to the window of 2**64
    draws that belongs to `seed` (a jump costs about a microsecond; building a seeded
    generator, several), so each episode's actions depend on its seed alone.

    >>> agent = RandomAgent(gym.spaces.Discrete(2))
    >>> agent.reset(0)
    >>> [int(agent.act(None)) for _ in range(6)]
    [1, 0, 0, 1, 1, 1]
    >>> agent.act_batch(None).shape  # for vector runs: one action per sub-environment
    (1,)
    """

    actions_in_space = True  # sampled from the space itself: no need to check each one

    def __init__(self, action_space: gym.Space[Any], num_envs: int = 1) -> None:
        # A private copy, so seeding it cannot disturb the env's or a wrapper's sampling.
        self._space = copy.deepcopy(action_space)
        self.num_envs = num_envs
        self._bits = np.random.PCG64(0)
        self._position = 0  # draws taken from the stream so far
        self._block: Iterator[Any] = iter(())
        self._block_size = BLOCK_START
        if isinstance(action_space, gym.spaces.Discrete):
            self.act = self._act_discrete  # type: ignore[method-assign]
            self._n, self._start = int(action_space.n), int(action_space.start)
            power_of_two = self._n & (self._n - 1) == 0
            self._byte_mask = np.uint8(self._n - 1) if power_of_two and self._n <= 256 else None
        else:
            self._batch_space = gym.vector.utils.batch_space(self._space, num_envs)

    def reset(self, seed: int) -> None:
        target = (seed % 2**64) << 64
        self._bits.advance((target - self._position) % 2**128)
        self._position = target
        self._block = iter(())
        self._block_size = BLOCK_START
        self._batches: Iterator[np.ndarray] = iter(())
        if not isinstance(self._space, gym.spaces.Discrete):
            self._space.seed(seed)
            self._batch_space.seed(seed)

    def act(self, observation: Any) -> Any:
        return self._space.sample()

    def _act_discrete(self, observation: Any) -> Any:
        try:
            return next(self._block)
        except StopIteration:
            # Short episodes draw small blocks; long ones double it, up to BLOCK_MAX.
            self._block = iter(self._draw(self._block_size))
            self._block_size = min(2 * self._block_size, BLOCK_MAX)
            return next(self._block)

    def act_batch(self, observations: Any) -> Any:
        if not isinstance(self._space, gym.spaces.Discrete):
            return self._batch_space.sample()
        try:
            return next(self._batches)
        except (StopIteration, AttributeError):
            # Draw a block of steps at once: one numpy call instead of one per step.
            steps = max(1, BATCH_DRAW // self.num_envs)
            self._batches = iter(self._draw(steps * self.num_envs).reshape(steps, self.num_envs))
            return next(self._batches)

    def _draw(self, count: int) -> np.ndarray:
        # Raw draws, far cheaper than integers(): for n a power of two up to 256, the low
        # bits of single bytes are exactly uniform; otherwise 64-bit remainders, biased by
        # less than n / 2**64.
        if self._byte_mask is not None:
            words = -(-count // 8)
            self._position += words
            raw = self._bits.random_raw(words).view(np.uint8)[:count]
            draws = (raw & self._byte_mask).astype(np.int64)
        else:
            self._position += count
            draws = (self._bits.random_raw(count) % self._n).view(np.int64)
        return draws + self._start if self._start else draws


# Block sizes of random draws within an episode: start small (CartPole episodes of a random
# agent last about 20 steps), double for long episodes.
BLOCK_START = 32
BLOCK_MAX = 2048
BATCH_DRAW = 65536  # actions drawn at once for vector runs (several steps of small batches)


class ConstantAgent:
    """Always the same `action`, checked against the action space once, up front.

    >>> ConstantAgent(gym.spaces.Discrete(2), action=1).act(None)
    1
    """

    actions_in_space = True

    def __init__(self, action_space: gym.Space[Any], action: Any, num_envs: int = 1) -> None:
        self.action = to_action(action_space, action, "action")
        empty: Any = gym.vector.utils.create_empty_array(action_space, num_envs)
        self._batch = gym.vector.utils.concatenate(action_space, [self.action] * num_envs, empty)

    def act(self, observation: Any) -> Any:
        return self.action

    def act_batch(self, observations: Any) -> Any:
        return self._batch


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

    def act_batch(self, observations: np.ndarray) -> np.ndarray:
        pushes: np.ndarray = (observations @ self.GAINS > 0.0).astype(np.int64)
        return pushes


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
SPACE_ARGUMENTS = ("action_space", "observation_space", "num_envs")


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
    num_envs: int = 1,
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
    given = {
        "action_space": action_space,
        "observation_space": observation_space,
        "num_envs": num_envs,
    }
    supplied = {key: value for key, value in given.items() if key in params}
    try:
        agent = target(**supplied, **options)
    except AgentError:
        raise
    except Exception as exc:
        raise AgentError(f"agent {name} could not be built: {type(exc).__name__}: {exc}") from exc
    if not callable(getattr(agent, "act", None)):
        raise AgentError(f"agent {name} has no act(observation) method")
    return agent
