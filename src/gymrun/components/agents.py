"""Agents a config can name: gymrun's own, and a user's ``package.module:attr``, built."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

from gymrun.components.agent_env import AgentEnv
from gymrun.components.baselines import LQR, DynamicProgramming, Heuristic, Planner
from gymrun.components.importing import (
    KeywordProblem,
    colon_spelling,
    is_target,
    keyword_problem,
    load_target,
    value_problem,
)
from gymrun.components.policy import FunctionAgent
from gymrun.components.random_actions import ActionDraws
from gymrun.components.spaces import space_label, to_action
from gymrun.components.trained.onnx_agent import OnnxAgent
from gymrun.components.trained.rlzoo_agent import RlzooAgent
from gymrun.components.trained.sb3_agent import Sb3Agent
from gymrun.components.vector_backends import VectorBackend
from gymrun.errors import AgentError, did_you_mean


class RandomAgent:
    """Samples the action space; reseeded at every episode start.

    Actions are drawn in blocks (see `ActionDraws`), far cheaper than
    ``action_space.sample()`` each step, and each episode's actions depend on its seed alone.

    >>> agent = RandomAgent(gym.spaces.Discrete(2))
    >>> agent.reset(0)
    >>> [int(agent.act(None)) for _ in range(6)]
    [1, 0, 0, 1, 1, 1]
    >>> agent.act_batch(None).shape  # for vector runs: one action per sub-environment
    (1,)
    """

    actions_in_space = True  # drawn from the space itself: no need to check each one
    reads_observations = False

    def __init__(self, action_space: gym.Space[Any], num_envs: int = 1) -> None:
        self._draws = ActionDraws(action_space, num_envs)
        self.act = self._draws.sample
        self.act_batch = self._draws.sample_batch

    def reset(self, seed: int) -> None:
        self._draws.reset(seed)


class ConstantAgent:
    """Always the same `action`, checked against the action space once, up front.

    >>> ConstantAgent(gym.spaces.Discrete(2), action=1).act(None)
    1
    """

    actions_in_space = True
    reads_observations = False

    def __init__(self, action_space: gym.Space[Any], action: Any, num_envs: int = 1) -> None:
        self.action = to_action(action_space, action, ("agent", "action"))
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
        self.actions = [
            to_action(action_space, a, ("agent", "actions", i)) for i, a in enumerate(actions)
        ]
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


class PredictingAgent:
    """An object with ``predict(observation, deterministic=)`` (a Stable-Baselines3 model held
    in memory) as an agent, acting as SB3's ``evaluate_policy`` does; with `deterministic`
    false, its generator is seeded with each episode's agent seed."""

    def __init__(self, model: Any, deterministic: bool = True) -> None:
        self.model = model
        self.deterministic = deterministic

    def reset(self, seed: int) -> None:
        if not self.deterministic and callable(getattr(self.model, "set_random_seed", None)):
            self.model.set_random_seed(seed)

    def act(self, observation: Any) -> Any:
        action, _ = self.model.predict(observation, deterministic=self.deterministic)
        return action

    def act_batch(self, observations: Any) -> Any:
        # SB3 tells a batch from one observation by its shape: the same call serves both
        return self.act(observations)


def in_memory_agent(agent: Any, deterministic: bool = True) -> Any:
    """`agent`, an object held in memory, as a run takes it: an agent (an object or class
    with ``act``), a model with ``predict`` (see `PredictingAgent`), or a function.

    >>> in_memory_agent(len) is len, type(in_memory_agent(type("M", (), {"predict": len})()))
    (True, <class 'gymrun.components.agents.PredictingAgent'>)
    """
    if callable(getattr(agent, "act", None)):
        return agent
    if callable(getattr(agent, "predict", None)):
        return PredictingAgent(agent, deterministic)
    if callable(agent) and not isinstance(agent, type):
        return agent
    raise AgentError(
        f"{type(agent).__name__} is not an agent: give an object with act(observation), a "
        "model with predict(observation, deterministic=), or a function observation -> action"
    )


BUILTIN_AGENTS: dict[str, type] = {
    "random": RandomAgent,
    "constant": ConstantAgent,
    "sequence": SequenceAgent,
    "cartpole_balance": CartPoleBalance,
    "sb3": Sb3Agent,
    "onnx": OnnxAgent,
    "rlzoo": RlzooAgent,
    "heuristic": Heuristic,
    "dynamic_programming": DynamicProgramming,
    "lqr": LQR,
    "planner": Planner,
}

# Constructor arguments gymrun fills in itself when a constructor names them. `env` is the
# single (wrapped) environment, for agents that read privileged state (a transition table,
# a simulator's state); there is none in a vector run.
SPACE_ARGUMENTS = ("action_space", "observation_space", "num_envs", "env")


def resolve_agent(name: str) -> Any:
    """The class (or function, or object) that agent `name` stands for, checked to be an
    agent before anything of it is called: a class that defines ``act``, a Python
    function ``observation -> action``, or an object with an ``act`` method.

    >>> resolve_agent("random").__name__
    'RandomAgent'
    """
    if name in BUILTIN_AGENTS:
        return BUILTIN_AGENTS[name]
    if not is_target(name):
        raise AgentError(
            f"unknown agent '{name}'{did_you_mean(name, BUILTIN_AGENTS) or colon_spelling(name)} "
            f"(use one of {', '.join(BUILTIN_AGENTS)} or 'package.module:attr')"
        )
    target = load_target(name)
    if inspect.isclass(target):
        if not callable(getattr(target, "act", None)):
            raise AgentError(
                f"'{name}' is a class without an act(observation) method, so not an agent"
            )
    elif not inspect.isfunction(target) and not callable(getattr(target, "act", None)):
        raise AgentError(
            f"'{name}' is neither an agent class, nor a Python function observation -> "
            "action, nor an object with an act(observation) method"
        )
    return target


def file_keywords(name: str) -> tuple[str, ...]:
    """The keywords of agent `name` that are paths of files it reads: a class lists them in
    ``file_keywords``; a relative path there is read from the config's folder, or from the
    working directory when the command line gave it (`gymrun.config.places.Places.folder_of`).

    >>> file_keywords("random")
    ()
    """
    return tuple(getattr(resolve_agent(name), "file_keywords", ()))


def agent_provenance(agent: Any, options: Mapping[str, Any]) -> dict[str, Any] | None:
    """What identifies `agent` (resolved, see `resolve_agent`) with `options` beyond its
    config (a model file's content hash, say), from its class's ``provenance(**options)``;
    ``meta.json`` keeps it.

    >>> agent_provenance(resolve_agent("constant"), {"action": 0}) is None
    True
    """
    provenance = getattr(agent, "provenance", None)
    return None if provenance is None else dict(provenance(**options))


def loads_files(agent: Any) -> bool:
    """Whether `agent` (resolved) is built by loading files (a trained model), which
    ``gymrun validate`` does not do: it asks the class's ``check_unloaded`` instead.

    >>> loads_files(resolve_agent("sb3")), loads_files(resolve_agent("random"))
    (True, False)
    """
    return callable(getattr(agent, "check_unloaded", None))


def check_unloaded(
    agent: Any,
    options: Mapping[str, Any],
    action_space: gym.Space[Any],
    observation_space: gym.Space[Any],
) -> list[str]:
    """Check `agent` (resolved) with `options` against these spaces as far as that goes
    without loading its files (reading their metadata); the notes of what only loading
    checks."""
    notes: list[str] = agent.check_unloaded(observation_space, action_space, **options)
    return notes


def agent_env(
    agent: Any,
    options: Mapping[str, Any],
    env_id: str,
    env_kwargs: Mapping[str, Any],
    backend: VectorBackend | None,
) -> AgentEnv | None:
    """What `agent` (resolved) with `options` says the environment it plays is made with:
    its class's ``env_setup(env_id, env_kwargs, backend, **options)`` (an rl-zoo3 folder's
    keyword arguments and wrappers), which refuses an environment the agent cannot play
    as trained; None for an agent that takes the environment as the config makes it.

    >>> agent_env(resolve_agent("random"), {}, "CartPole-v1", {}, None) is None
    True
    """
    setup = getattr(agent, "env_setup", None)
    if not isinstance(agent, type) or not callable(setup):
        return None
    found: AgentEnv = setup(env_id, dict(env_kwargs), backend, **options)
    return found


def loading_note(agent: Any) -> str | None:
    """What a run tells the user once when it loads `agent`'s files (that they are pickles,
    say), or None.

    >>> loading_note(resolve_agent("random")) is None
    True
    """
    note = getattr(agent, "loading_note", None)
    return note if isinstance(note, str) else None


def env_problem(
    name: str, spec: EnvSpec, *, vector: bool = False, unvectored: str = "remove vector"
) -> str | None:
    """Why agent `name` cannot play the env of `spec` (in a vector run with `vector`), told
    before anything is made, or None. An agent class that supports only some envs says
    which in its ``env_problem(spec)``; one that reads its environment's own state (takes
    ``env``) needs a single environment (`unvectored` says how the run gets one).

    >>> print(env_problem("heuristic", gym.spec("Taxi-v4")))  # doctest: +ELLIPSIS
    agent heuristic supports CartPole-v0, ...; Taxi-v4 is not one of them
    >>> env_problem("random", gym.spec("Taxi-v4")) is None
    True
    """
    agent = resolve_agent(name)
    check = getattr(agent, "env_problem", None)
    problem = check(spec) if isinstance(agent, type) and callable(check) else None
    if problem is None and vector and _needs_env(agent):
        problem = (
            f"agent {name} reads its environment's own state, so it needs a single "
            f"environment: it cannot run in a vector run ({unvectored})"
        )
    return problem


def _needs_env(agent: Any) -> bool:
    """Whether `agent` (resolved) is a class whose constructor must be given the env."""
    if not isinstance(agent, type):
        return False
    params = inspect.signature(agent).parameters
    return "env" in params and params["env"].default is inspect.Parameter.empty


def agent_option_problem(name: str, options: Mapping[str, Any]) -> KeywordProblem | None:
    """Why agent `name` cannot take `options`, or None; used to check configs up front."""
    target = resolve_agent(name)
    if isinstance(target, type):
        given = dict(options)
        return keyword_problem(target, given, supplied=SPACE_ARGUMENTS) or value_problem(
            target, given
        )
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
    env: gym.Env[Any, Any] | None = None,
) -> Any:
    """Build agent `name` for an environment with these spaces (see `build_agent`).

    >>> agent = make_agent("constant", {"action": 0}, gym.spaces.Discrete(2), None)
    >>> agent.act(None)
    0
    """
    return build_agent(
        resolve_agent(name), name, options, action_space, observation_space, num_envs, env
    )


def build_agent(
    agent: Any,
    name: str,
    options: Mapping[str, Any],
    action_space: gym.Space[Any],
    observation_space: gym.Space[Any],
    num_envs: int = 1,
    env: gym.Env[Any, Any] | None = None,
) -> Any:
    """Build `agent` (resolved from its config's `name`) for an environment with these
    spaces (a function becomes a `FunctionAgent`); `gymrun.components.policy.Policy` checks
    it is one. `env` is the single environment (None in a vector run), for a constructor
    that names it.

    >>> built = build_agent(ConstantAgent, "constant", {"action": 1}, gym.spaces.Discrete(2), None)
    >>> built.act(None)
    1
    """
    target = agent
    if not isinstance(target, type):
        if hasattr(target, "act"):
            return target
        return FunctionAgent(target)
    problem = keyword_problem(target, dict(options), supplied=SPACE_ARGUMENTS)
    if problem:
        raise AgentError(problem.message, key=("agent", problem.key) if problem.key else None)
    params = inspect.signature(target).parameters
    if _needs_env(target) and env is None:
        raise AgentError(
            f"agent {name} reads its environment's own state, so it needs a single "
            "environment: pass it as env"
        )
    given = {
        "action_space": action_space,
        "observation_space": observation_space,
        "num_envs": num_envs,
        "env": env,
    }
    supplied = {key: value for key, value in given.items() if key in params}
    try:
        agent = target(**supplied, **options)
    except AgentError:
        raise
    except Exception as exc:
        raise AgentError(f"agent {name} could not be built: {type(exc).__name__}: {exc}") from exc
    return agent
