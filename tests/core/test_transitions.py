"""An episode's steps, kept only for a dataset: what the loop gives is what was played,
whichever stepper played it, even from an env that hands out the same array again."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from gymrun.components.agents import RandomAgent
from gymrun.components.policy import Policy
from gymrun.core.episodes import EpisodeBatch
from gymrun.core.loop import play
from gymrun.core.transitions import Collector


class ReusedArray(gym.Env[np.ndarray, int]):
    """Counts its steps in one observation array it hands out every time, changed."""

    observation_space = gym.spaces.Box(0, 100, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self) -> None:
        self.state = np.zeros(1, np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        self.state[0] = 0
        return self.state, {}

    def step(self, action: int) -> Any:
        self.state[0] += 1
        return self.state, float(action), bool(self.state[0] >= 3), False, {}


def test_collected_steps_are_copies_of_what_was_handed_out() -> None:
    env = ReusedArray()
    collector = Collector(env.observation_space, env.action_space)
    observation, _ = env.reset()
    collector.start(observation)
    for action in (1, 0, 1):
        observation, reward, *_ = env.step(action)
        collector.step(action, reward, observation)
    steps = collector.finish(True, False)
    assert steps.observations.ravel().tolist() == [0, 1, 2, 3]
    assert (steps.actions.tolist(), steps.rewards.tolist()) == ([1, 0, 1], [1.0, 0.0, 1.0])
    assert (steps.terminations.tolist(), steps.truncations.tolist()) == (
        [False, False, True],
        [False, False, False],
    )


def policy_for(env: Any) -> Policy:
    space = getattr(env, "single_action_space", env.action_space)
    agents = [RandomAgent(space) for _ in range(getattr(env, "num_envs", 1))]
    return Policy(agents, space)


def batches(env: Any, **options: Any) -> list[EpisodeBatch]:
    return list(play(env, policy_for(env), seed=5, count=7, transitions=True, **options))


def test_single_and_resetting_vector_envs_give_the_same_steps() -> None:
    single = batches(gym.make("CartPole-v1"))
    vector = batches(
        gym.make_vec(
            "CartPole-v1",
            3,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.DISABLED},
        )
    )
    assert all(isinstance(batch, EpisodeBatch) for batch in single + vector)
    one = [steps for batch in single for steps in batch.transitions or []]
    many = [steps for batch in vector for steps in batch.transitions or []]
    assert [len(steps) for steps in one] == [e.steps for b in single for e in b]
    assert len(one) == len(many) == 7
    for a, b in zip(one, many, strict=True):
        assert np.array_equal(a.observations, b.observations)
        assert np.array_equal(a.actions, b.actions)


def test_an_env_that_resets_itself_keeps_no_steps() -> None:
    env = gym.make_vec("CartPole-v1", 2, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match="does not give its episodes' steps"):
        batches(env)
