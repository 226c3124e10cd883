"""Exact dynamic programming on an environment's transition table ``P``."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

from gymrun.components.baselines.environment import (
    is_users,
    listed,
    refuse,
    step_limit,
    unsupported,
)
from gymrun.errors import AgentError

CONVERGED = 1e-10  # largest change of a value between sweeps, for the infinite horizon
MAX_SWEEPS = 100_000


class DynamicProgramming:
    """The optimal policy of a tabular environment, by value iteration on its ``P``.

    Reads privileged state: the transition table ``env.unwrapped.P``
    (``P[s][a] = [(probability, next_state, reward, terminated), ...]``, as FrozenLake,
    Taxi and CliffWalking have it), never learning from steps.

    With a step limit (the env's ``TimeLimit``, ``max_steps``, or `horizon`), the policy is
    the exact finite-horizon optimum: what to do depends on the steps left, so no episode
    is wasted on a safe but slow path it cannot finish. Without one, discounted (`gamma`)
    value iteration to convergence; `gamma` 1 needs every optimal path to end.
    `expected_return()` is the exact optimal expected return from the env's initial
    state distribution.

    >>> env = gym.make("FrozenLake-v1")
    >>> agent = DynamicProgramming(env)
    >>> round(agent.expected_return(), 4)
    0.7442
    """

    privileged = True
    actions_in_space = True
    # Gymnasium's envs with a transition table P and their state number as observation
    TASKS = ("FrozenLake", "FrozenLake8x8", "CliffWalking", "CliffWalkingSlippery", "Taxi")

    @classmethod
    def env_problem(cls, spec: EnvSpec) -> str | None:
        """Why the env of `spec` has no transition table to solve, or None (also for an env
        of the user's own, which building the agent checks).

        >>> print(DynamicProgramming.env_problem(gym.spec("CartPole-v1")))  # doctest: +ELLIPSIS
        agent dynamic_programming supports FrozenLake, ...; CartPole-v1 is not one of them
        """
        if spec.name in cls.TASKS or is_users(spec):
            return None
        supports = (
            f"{listed(cls.TASKS)} (envs with a transition table P), and envs of your own with one"
        )
        return unsupported("dynamic_programming", spec, supports)

    def __init__(
        self, env: gym.Env[Any, Any], gamma: float = 1.0, horizon: int | None = None
    ) -> None:
        table = getattr(env.unwrapped, "P", None)
        if not isinstance(table, dict):
            raise refuse("dynamic_programming", env, "a transition table P (env.unwrapped.P)")
        if not isinstance(env.observation_space, gym.spaces.Discrete):
            raise AgentError(
                "agent dynamic_programming needs the env's own state number as observation "
                f"(Discrete); this env observes {env.observation_space}"
            )
        self.gamma = gamma
        self.horizon = horizon or step_limit(env)
        states, actions = len(table), int(env.action_space.n)  # type: ignore[attr-defined]
        self._shape = (states, actions)
        self._expected_reward, self._moves = _tables(table, states, actions)
        start = getattr(env.unwrapped, "initial_state_distrib", None)
        self._start = None if start is None else np.asarray(start, dtype=float)
        if self.horizon is not None:
            self._policy, self._value = self._finite(self.horizon)
        else:
            self._policy, self._value = self._infinite()
        self._step = 0

    def _q(self, value: np.ndarray) -> np.ndarray:
        rows, targets, weights = self._moves
        future = np.bincount(rows, weights=weights * value[targets], minlength=np.prod(self._shape))
        q: np.ndarray = self._expected_reward + self.gamma * future.reshape(self._shape)
        return q

    def _finite(self, horizon: int) -> tuple[np.ndarray, np.ndarray]:
        """Backward induction: ``policy[t, s]`` with `horizon` - t steps left."""
        value = np.zeros(self._shape[0])
        policy = np.zeros((horizon, self._shape[0]), dtype=np.int64)
        for t in range(horizon - 1, -1, -1):
            q = self._q(value)
            policy[t] = q.argmax(axis=1)
            value = q.max(axis=1)
        return policy, value

    def _infinite(self) -> tuple[np.ndarray, np.ndarray]:
        value = np.zeros(self._shape[0])
        for _ in range(MAX_SWEEPS):
            q = self._q(value)
            new = q.max(axis=1)
            if np.max(np.abs(new - value)) < CONVERGED:
                return q.argmax(axis=1)[None, :], new
            value = new
        raise AgentError(
            f"agent dynamic_programming: value iteration with gamma {self.gamma} did not "
            f"converge in {MAX_SWEEPS} sweeps (set gamma below 1, or a horizon)"
        )

    def expected_return(self) -> float | None:
        """The exact optimal expected return (discounted by `gamma`) from the env's initial
        state distribution, or None when the env does not expose one."""
        return None if self._start is None else float(self._start @ self._value)

    def reset(self, seed: int) -> None:
        self._step = 0

    def act(self, observation: Any) -> int:
        row = min(self._step, len(self._policy) - 1)
        self._step += 1
        return int(self._policy[row, int(observation)])


def _tables(
    table: dict[int, dict[int, list[tuple[float, int, float, bool]]]], states: int, actions: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``P`` as arrays: the expected reward of each (state, action), and each transition
    that goes on (not terminated) as (state * actions + action, next state, probability)."""
    reward = np.zeros((states, actions))
    rows, targets, weights = [], [], []
    for state, by_action in table.items():
        for action, outcomes in by_action.items():
            for probability, target, gain, terminated in outcomes:
                reward[state, action] += probability * gain
                if not terminated:
                    rows.append(state * actions + action)
                    targets.append(target)
                    weights.append(probability)
    moves = (np.array(rows, dtype=np.int64), np.array(targets, dtype=np.int64), np.array(weights))
    return reward, moves
