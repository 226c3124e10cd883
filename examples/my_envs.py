"""An environment of your own, as gymrun finds it: importing this module registers
``Corridor-v0``.

    gymrun inspect examples.my_envs:Corridor-v0
    gymrun run examples.my_envs:Corridor-v0 -n 5
    gymrun list-envs --import examples.my_envs 'Corridor*'
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry


class CorridorEnv(gym.Env[np.ndarray, int]):
    """Walk a corridor of `length` cells to its far end: action 1 steps right, 0 steps left;
    each step costs 1, reaching the end ends the episode. Each step's info says, as
    goal-reaching environments do, whether the walker has succeeded (``is_success``) and
    where it stands (``position``)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, length: int = 10) -> None:
        self.length = length
        self.observation_space = gym.spaces.Box(0.0, float(length), shape=(1,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.position = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.position = 0
        return self._observation(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.position = max(0, self.position + (1 if action == 1 else -1))
        arrived = self.position >= self.length
        info = {"is_success": arrived, "position": self.position}
        return self._observation(), -1.0, arrived, False, info

    def _observation(self) -> np.ndarray:
        return np.array([self.position], dtype=np.float32)


if "Corridor-v0" not in registry:
    register(id="Corridor-v0", entry_point=CorridorEnv, max_episode_steps=100)
