"""A small goal-reaching environment whose step infos say whether it succeeded, as robotics
environments do (``is_success``), and carry numbers beside it; with a vector implementation
of its own in both of Gymnasium's autoreset modes.

A walker starts at 0 and steps left (action 0) or right (1); a quarter of its steps slip the
other way. Reaching ``+goal`` succeeds (reward 1), ``-goal`` fails; both terminate, and the
registered time limit truncates. Each step's info holds ``is_success`` (a bool; a float32
with ``kind="float"``, as Gymnasium-Robotics gives it; a numpy bool with ``kind="numpy"``),
``distance`` (to the goal) and ``one`` (1: its sum over an episode is the episode's steps).
`report` says when ``is_success`` is in the info: ``every`` step, only on the ``last`` one,
``late`` (from step `late` on: a shorter episode never reports it) or ``never``. The vector
form also gives each walker's reset info, which holds the same keys, with values no step
of an episode has (``one`` 1, ``distance`` 100, ``is_success`` true): a loop that took them
for a step's would count them.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry
from gymnasium.vector import AutoresetMode

GOAL_ID = "gymrun-test/Goal-v0"
LIMIT = 12  # steps before the time limit truncates an episode
SLIP = 0.25


def _info(position: int, goal: int, step: int, ended: bool, settings: dict[str, Any]) -> dict:
    info: dict[str, Any] = {"distance": float(goal - position), "one": 1}
    report = settings["report"]
    if (
        report == "every"
        or (report == "last" and ended)
        or (report == "late" and step >= settings["late"])
    ):
        info["is_success"] = _success(position >= goal, settings)
    return info


def _success(success: bool, settings: dict[str, Any]) -> Any:
    kinds = {"float": np.float32, "numpy": np.bool_, "bool": bool}
    return kinds[settings["kind"]](success)


def _reset_info(settings: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {"distance": 100.0, "one": 1}
    if settings["report"] != "never":
        info["is_success"] = _success(True, settings)
    return info


class GoalEnv(gym.Env[np.ndarray, int]):
    """One walker (see the module)."""

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        goal: int = 3,
        report: str = "every",
        kind: str = "bool",
        late: int = 5,
        autoreset_mode: str = "next_step",  # the vector form's: one walker never resets itself
    ) -> None:
        self.goal = goal
        self.settings = {"report": report, "kind": kind, "late": late}
        self.observation_space = gym.spaces.Box(-goal, goal, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.position = self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self.position = self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action: int) -> Any:
        move = 1 if action == 1 else -1
        if self.np_random.random() < SLIP:
            move = -move
        self.position += move
        self.t += 1
        terminated = abs(self.position) >= self.goal
        # the time limit is the registered TimeLimit's: this step may be the last one
        ended = terminated or self.t >= LIMIT
        info = _info(self.position, self.goal, self.t, ended, self.settings)
        reward = 1.0 if self.position >= self.goal else 0.0
        return np.array([self.position], np.float32), reward, terminated, False, info


class GoalVectorEnv(gym.vector.VectorEnv):
    """`num_envs` walkers stepped as one, resetting themselves (``autoreset_mode``:
    ``next_step``, Gymnasium's default, or ``same_step``, which puts each ended walker's
    last info in ``final_info``)."""

    def __init__(
        self,
        num_envs: int = 1,
        goal: int = 3,
        report: str = "every",
        kind: str = "bool",
        late: int = 5,
        max_episode_steps: int = LIMIT,
        autoreset_mode: str = "next_step",
    ) -> None:
        self.num_envs, self.goal, self.limit = num_envs, goal, max_episode_steps
        self.settings = {"report": report, "kind": kind, "late": late}
        self.mode = {"next_step": AutoresetMode.NEXT_STEP, "same_step": AutoresetMode.SAME_STEP}[
            autoreset_mode
        ]
        self.metadata = {"autoreset_mode": self.mode}
        self.single_observation_space = gym.spaces.Box(-goal, goal, (1,), np.float32)
        self.single_action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.position = np.zeros(num_envs, dtype=np.int64)
        self.t = np.zeros(num_envs, dtype=np.int64)
        self.resetting = np.zeros(num_envs, dtype=bool)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self.position[:] = 0
        self.t[:] = 0
        self.resetting[:] = False
        return self._observations(), {}

    def _observations(self) -> np.ndarray:
        return self.position.astype(np.float32)[:, None]

    def step(self, actions: Any) -> Any:
        n = self.num_envs
        moves = np.where(np.asarray(actions) == 1, 1, -1)
        slips = self.np_random.random(n) < SLIP
        moves[slips] *= -1
        stepping = ~self.resetting  # next-step: a walker that ended last step only resets
        self.position[self.resetting] = 0
        self.t[self.resetting] = 0
        self.position[stepping] += moves[stepping]
        self.t[stepping] += 1
        terminated = stepping & (np.abs(self.position) >= self.goal)
        truncated = stepping & ~terminated & (self.t >= self.limit)
        ended = terminated | truncated
        rewards = np.where(stepping & (self.position >= self.goal), 1.0, 0.0)
        infos: dict[str, Any] = {}
        final: dict[str, Any] = {}
        for slot in range(n):
            if not stepping[slot]:
                infos = self._add_info(infos, _reset_info(self.settings), slot)
                continue
            info = _info(
                int(self.position[slot]), self.goal, int(self.t[slot]), ended[slot], self.settings
            )
            if self.mode is AutoresetMode.SAME_STEP and ended[slot]:
                final = self._add_info(final, info, slot)
                infos = self._add_info(infos, _reset_info(self.settings), slot)
            else:
                infos = self._add_info(infos, info, slot)
        if self.mode is AutoresetMode.SAME_STEP:
            observations = self._observations()
            if ended.any():
                infos["final_obs"] = np.array(list(observations), dtype=object)
                infos["_final_obs"] = ended.copy()
                infos["final_info"], infos["_final_info"] = final, ended.copy()
            self.position[ended] = 0
            self.t[ended] = 0
            return self._observations(), rewards, terminated, truncated, infos
        self.resetting = ended
        return self._observations(), rewards, terminated, truncated, infos


if GOAL_ID not in registry:
    register(
        id=GOAL_ID,
        entry_point=GoalEnv,
        vector_entry_point=GoalVectorEnv,
        max_episode_steps=LIMIT,
    )
