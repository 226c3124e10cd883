"""The first environment anyone writes: ten steps of random reward."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class RandomRewardEnv(gym.Env[np.ndarray, np.int64]):
    """Ten steps long; each step pays a random reward in [0, 1) whatever the action.

    The observation is always three zeros and the actions are {0, 1}. Stepping after the
    episode has ended raises, as the hand-written original did.

    >>> env = RandomRewardEnv()
    >>> obs, _ = env.reset(seed=0)
    >>> obs
    array([0., 0., 0.], dtype=float32)
    >>> rewards = [env.step(0)[1] for _ in range(10)]
    >>> all(0.0 <= r < 1.0 for r in rewards), env.steps_left
    (True, 0)
    """

    metadata = {"render_modes": []}  # noqa: RUF012  (Gymnasium's own convention)
    EPISODE_LENGTH = 10

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.steps_left = 0
        self._observation = np.zeros(3, dtype=np.float32)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.steps_left = self.EPISODE_LENGTH
        return self._observation.copy(), {}

    def step(self, action: np.int64) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.steps_left <= 0:
            raise RuntimeError("the episode is over; call reset() before step()")
        self.steps_left -= 1
        reward = float(self.np_random.random())
        return self._observation.copy(), reward, self.steps_left == 0, False, {}
