"""Scripted controllers of specific tasks, chosen by environment ID; each reads only what
the agent observes."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from types import SimpleNamespace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

from gymrun.components.baselines.blackjack import BasicStrategy, expected_return
from gymrun.components.baselines.environment import env_id, listed, unsupported
from gymrun.components.baselines.lqr import PendulumSwingUp
from gymrun.errors import AgentError

Controller = Callable[[Any], Any]


def cartpole(observation: Any) -> int:
    """Push towards where the pole falls: θ + 0.5 θ' + 0.01 x + 0.1 x' > 0 pushes right
    (the cartpole_balance agent's rule)."""
    x, speed, angle, spin = observation
    return int(angle + 0.5 * spin + 0.01 * x + 0.1 * speed > 0.0)


def mountain_car(observation: Any) -> int:
    """Push right when the velocity is above the line 0.01 (x + 0.475), else left: pumping
    along the velocity, switched a little early so that the last swing is not wasted
    (about -106 against -126 for the velocity's sign alone, from uniform starts; the line
    from ``scripts/tune_controllers.py``)."""
    position, velocity = observation
    return 2 if velocity > 0.01 * (position + 0.475) else 0


def mountain_car_continuous(observation: Any) -> np.ndarray:
    """Full force along the velocity, left when at rest (the start)."""
    return np.array([1.0 if observation[1] > 0 else -1.0], dtype=np.float32)


def acrobot(observation: Any) -> int:
    """Torque along the second joint's angular velocity: pumps energy into the swing."""
    return 2 if observation[5] > 0 else 0


REACHER_P = np.array([0.30, 0.225])  # per joint: shoulder, elbow
REACHER_D = np.array([0.054, 0.045])


def reacher(observation: Any) -> np.ndarray:
    """Reacher: the two-link arm's inverse kinematics give the joint angles that put the
    fingertip on the target (of the two solutions, the nearer); a soft PD drives there,
    gently, because every unit of torque squared costs reward (gains from
    ``scripts/tune_controllers.py``)."""
    link1, link2 = 0.1, 0.11
    angles = np.arctan2(observation[2:4], observation[0:2])
    x, y = float(observation[4]), float(observation[5])
    cosine = np.clip((x * x + y * y - link1**2 - link2**2) / (2 * link1 * link2), -1.0, 1.0)
    best = np.zeros(2)
    for sine in (np.sqrt(1 - cosine**2), -np.sqrt(1 - cosine**2)):
        target = np.array(
            [
                np.arctan2(y, x) - np.arctan2(link2 * sine, link1 + link2 * cosine),
                np.arctan2(sine, cosine),
            ]
        )
        error = np.angle(np.exp(1j * (target - angles)))
        if sine >= 0 or np.abs(error).sum() < np.abs(best).sum():
            best = error
    torque = REACHER_P * best - REACHER_D * np.asarray(observation[6:8])
    action: np.ndarray = np.clip(torque, -1.0, 1.0).astype(np.float32)
    return action


class LunarLanding:
    """Gymnasium's own LunarLander ``heuristic`` (hover towards the pad, level the lander,
    cut the engines on contact), for the discrete and the continuous form."""

    def __init__(self, continuous: bool) -> None:
        from gymnasium.envs.box2d.lunar_lander import heuristic

        self._heuristic: Callable[[Any, Any], Any] = heuristic
        self._env = SimpleNamespace(unwrapped=SimpleNamespace(continuous=continuous))

    def __call__(self, observation: Any) -> Any:
        action = self._heuristic(self._env, observation)
        return (
            np.asarray(action, dtype=np.float32) if self._env.unwrapped.continuous else int(action)
        )


class LinearWalker:
    """BipedalWalker-v3: ``clip(W ((observation - mean) / std), -1, 1)``, with the weights
    that ``scripts/search_bipedal.py`` found by augmented random search (shipped as
    ``data/bipedal_walker.json``)."""

    def __init__(self) -> None:
        data = resources.files("gymrun.components.baselines") / "data" / "bipedal_walker.json"
        document = json.loads(data.read_text(encoding="utf-8"))
        self.weights = np.array(document["weights"])
        self.mean, self.std = np.array(document["mean"]), np.array(document["std"])

    def __call__(self, observation: Any) -> np.ndarray:
        action = self.weights @ ((np.asarray(observation) - self.mean) / self.std)
        clipped: np.ndarray = np.clip(action, -1.0, 1.0).astype(np.float32)
        return clipped


def _controllers(continuous: bool) -> dict[str, Callable[[], Controller]]:
    return {
        "CartPole-v0": lambda: cartpole,
        "CartPole-v1": lambda: cartpole,
        "MountainCar-v0": lambda: mountain_car,
        "MountainCarContinuous-v0": lambda: mountain_car_continuous,
        "Acrobot-v1": lambda: acrobot,
        "Pendulum-v1": lambda: PendulumSwingUp().act,
        "LunarLander-v3": lambda: LunarLanding(continuous),
        "LunarLanderContinuous-v3": lambda: LunarLanding(True),
        "BipedalWalker-v3": LinearWalker,
        "Blackjack-v1": lambda: BasicStrategy().act,
        "Reacher-v4": lambda: reacher,
        "Reacher-v5": lambda: reacher,
    }


TASKS = tuple(_controllers(False))  # the IDs the heuristic agent knows


class Heuristic:
    """The scripted controller of the env's task, chosen by its ID (see `TASKS`):
    CartPole, MountainCar and its continuous form, Acrobot, Pendulum swing-up, LunarLander
    (Gymnasium's ``heuristic``), BipedalWalker (a linear policy found by search, shipped
    as data), Blackjack's basic strategy and Reacher. Each reads the observation only.

    >>> env = gym.make("MountainCar-v0")
    >>> Heuristic(env).act(np.array([-0.5, 0.01]))  # moving right: push right
    2
    """

    actions_in_space = True

    @staticmethod
    def env_problem(spec: EnvSpec) -> str | None:
        """Why the env of `spec` has no controller here, or None.

        >>> Heuristic.env_problem(gym.spec("CartPole-v1")) is None
        True
        """
        return None if spec.id in TASKS else unsupported("heuristic", spec, listed(TASKS))

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        name = env_id(env)
        make = _controllers(isinstance(env.action_space, gym.spaces.Box)).get(name)
        if make is None:
            raise AgentError(
                f"agent heuristic has no controller for {name} (it has: {', '.join(TASKS)})"
            )
        self.act = make()
        self._rules = None
        if name == "Blackjack-v1":
            game = env.unwrapped
            self._rules = {"sab": bool(game.sab), "natural": bool(game.natural)}  # type: ignore[attr-defined]

    def expected_return(self) -> float | None:
        """The exact expected return where the controller is the optimum (Blackjack's basic
        strategy, for the rules the env plays), else None."""
        return None if self._rules is None else expected_return(**self._rules)
