"""Model-predictive control by sampling, over a copy of the environment's simulator."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

from gymrun.components.baselines.environment import env_id, is_users, unsupported
from gymrun.components.catalog import family_of
from gymrun.errors import AgentError


class Simulator:
    """A private copy of an environment that can be put in the real one's state: MuJoCo
    environments through ``qpos``/``qvel``, classic control through their ``state``."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        self.real: Any = env.unwrapped
        spec = self.real.spec
        mujoco = callable(getattr(self.real, "set_state", None)) and hasattr(self.real, "data")
        self.copy: Any = (
            None if spec is None else gym.make(spec, disable_env_checker=True).unwrapped
        )
        if self.copy is not None:
            self.copy.reset(seed=0)  # classic control sets its state here
        if self.copy is None or not (mujoco or hasattr(self.copy, "state")):
            raise AgentError(
                f"agent planner needs a simulator whose state it can copy (MuJoCo's "
                f"qpos/qvel, or classic control's state); {env_id(env)} has none"
            )
        self.mujoco = mujoco

    def sync(self) -> None:
        """Put the copy in the real environment's current state."""
        if self.mujoco:
            self.copy.set_state(self.real.data.qpos, self.real.data.qvel)
        else:
            self.copy.state = np.array(self.real.state, dtype=np.float64)
            if hasattr(self.copy, "steps_beyond_terminated"):
                self.copy.steps_beyond_terminated = None

    def returns(self, plans: np.ndarray) -> np.ndarray:
        """The return of each action sequence in `plans`, played from the real state."""
        totals = np.zeros(len(plans))
        for index, plan in enumerate(plans):
            self.sync()
            for action in plan:
                _, reward, terminated, _, _ = self.copy.step(action)
                totals[index] += float(reward)
                if terminated:
                    break
        return totals

    def close(self) -> None:
        self.copy.close()


class Planner:
    """Cross-entropy planning over the simulator's own state, re-planned every step.

    Reads privileged state: a copy of the environment (``env.unwrapped``) is put in the
    real one's state (MuJoCo's ``qpos``/``qvel``, classic control's ``state``) and
    `population` action sequences of `horizon` steps are played on it; the best `elites`
    reshape the sampling distribution (Gaussian for Box actions, its first spread `noise`
    times the action range; categorical for Discrete),
    `iterations` times. The first action of the best plan is played, and the plan is
    shifted to warm-start the next step. Seeded by each episode's agent seed.

    >>> env = gym.make("Pendulum-v1")
    >>> agent = Planner(env, env.action_space, horizon=5, population=8, iterations=1)
    >>> agent.reset(0)
    >>> _ = env.reset(seed=0)
    >>> env.action_space.contains(agent.act(None))
    True
    """

    privileged = True
    actions_in_space = True

    @staticmethod
    def env_problem(spec: EnvSpec) -> str | None:
        """Why the env of `spec` has no simulator state to plan over, or None (also for an
        env of the user's own, which building the agent checks).

        >>> print(Planner.env_problem(gym.spec("FrozenLake-v1")))  # doctest: +ELLIPSIS
        agent planner supports classic control and MuJoCo envs ...; FrozenLake-v1 is not ...
        """
        if family_of(spec) in ("classic control", "MuJoCo") or is_users(spec):
            return None
        supports = (
            "classic control and MuJoCo envs (it plans on a copy of their simulator's "
            "state), and envs of your own with such state"
        )
        return unsupported("planner", spec, supports)

    def __init__(
        self,
        env: gym.Env[Any, Any],
        action_space: gym.Space[Any],
        horizon: int = 20,
        population: int = 64,
        iterations: int = 3,
        elites: int = 8,
        noise: float = 0.1,
    ) -> None:
        if not isinstance(action_space, gym.spaces.Box | gym.spaces.Discrete):
            raise AgentError(f"agent planner plans Box or Discrete actions, not {action_space}")
        if elites > population:
            message = f"elites ({elites}) exceeds population ({population})"
            raise AgentError(message, key=("agent", "elites"))
        self.simulator = Simulator(env)
        self.space = action_space
        self.horizon, self.population = horizon, population
        self.iterations, self.elites, self.noise = iterations, elites, noise
        self.reset(0)

    def reset(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        if isinstance(self.space, gym.spaces.Box):
            shape = (self.horizon, *self.space.shape)
            self.mean = np.broadcast_to((self.space.low + self.space.high) / 2, shape).copy()
        else:
            self.probabilities = np.full((self.horizon, int(self.space.n)), 1 / int(self.space.n))

    def act(self, observation: Any) -> Any:
        if isinstance(self.space, gym.spaces.Box):
            return self._act_box()
        return self._act_discrete()

    def _act_box(self) -> np.ndarray:
        space: Any = self.space
        low, high = space.low, space.high
        mean, std = self.mean, np.broadcast_to((high - low) * self.noise, self.mean.shape)
        best, best_return = mean, -np.inf
        for _ in range(self.iterations):
            noise = self.rng.standard_normal((self.population - 1, *mean.shape))
            plans = np.concatenate([mean[None], np.clip(mean + std * noise, low, high)])
            returns = self.simulator.returns(plans)
            order = np.argsort(-returns)[: self.elites]
            if returns[order[0]] > best_return:
                best, best_return = plans[order[0]], returns[order[0]]
            mean, std = plans[order].mean(axis=0), plans[order].std(axis=0) + 1e-3
        self.mean = np.concatenate([best[1:], best[-1:]])
        action: np.ndarray = best[0].astype(space.dtype)
        return action

    def _act_discrete(self) -> int:
        probabilities = self.probabilities
        best, best_return = None, -np.inf
        actions = probabilities.shape[1]
        for _ in range(self.iterations):
            cumulative = probabilities.cumsum(axis=1)
            draws = self.rng.random((self.population, self.horizon, 1))
            plans = (draws > cumulative[None]).sum(axis=2).clip(0, actions - 1)
            returns = self.simulator.returns(plans)
            order = np.argsort(-returns)[: self.elites]
            if returns[order[0]] > best_return:
                best, best_return = plans[order[0]], returns[order[0]]
            counts = np.stack([(plans[order] == a).mean(axis=0) for a in range(actions)], axis=1)
            probabilities = 0.5 * probabilities + 0.5 * counts
        assert best is not None
        self.probabilities = np.concatenate([probabilities[1:], probabilities[-1:]])
        return int(best[0])
