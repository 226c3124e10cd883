"""One configurable fake environment for tests that need an env to behave a certain way."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import register, registry

FAKE_ID = "gymrun-test/Fake-v0"


class FakeEnv(gym.Env[np.ndarray, int]):
    """An episode of `length` steps paying `reward` each; observation = [step index].

    `lengths` cycles episode lengths instead; a `length` of 0 never ends on its own.
    `rewards` cycles each episode's reward per step instead of `reward` (``[1, .nan]``: every
    other episode's reward is NaN).
    `fail_seed` makes `reset` raise for that seed; `fail_at` makes `step` (or `reset`, with
    fail_in="reset") raise at that step of episode `fail_episode` (counting resets from 0).
    """

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        length: int = 5,
        reward: float = 1.0,
        fail_at: int | None = None,
        fail_in: str = "step",
        fail_episode: int = 0,
        actions: int = 2,
        lengths: list[int] | None = None,
        fail_seed: int | None = None,
        rewards: list[float] | None = None,
    ) -> None:
        self.length, self.reward, self.lengths = length, reward, lengths
        self.rewards = rewards
        self.fail_seed = fail_seed
        self.fail_at, self.fail_in, self.fail_episode = fail_at, fail_in, fail_episode
        self.episode = -1
        self.observation_space = gym.spaces.Box(0, np.inf, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(actions)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self.episode += 1
        if seed is not None and seed == self.fail_seed:
            raise RuntimeError(f"reset exploded for seed {seed}")
        if self.fail_in == "reset" and self.episode == self.fail_episode:
            raise RuntimeError("reset exploded")
        self.t = 0
        if self.lengths:
            self.length = self.lengths[self.episode % len(self.lengths)]
        if self.rewards:
            self.reward = self.rewards[self.episode % len(self.rewards)]
        return np.array([0.0], np.float32), {}

    def step(self, action: int) -> Any:
        self.t += 1
        failing = self.fail_in == "step" and self.episode == self.fail_episode
        if failing and self.t == self.fail_at:
            raise ValueError(f"step {self.t} exploded")
        done = self.length > 0 and self.t >= self.length
        return np.array([self.t], np.float32), self.reward, done, False, {}


if FAKE_ID not in registry:
    register(id=FAKE_ID, entry_point=FakeEnv)
