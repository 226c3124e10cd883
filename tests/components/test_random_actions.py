"""Random actions drawn in blocks: in the space, seeded per episode, for every kind of space."""

import gymnasium as gym
import numpy as np
import pytest

from gymrun import ExperimentConfig, run_experiment
from gymrun.components.random_actions import ActionDraws

SPACES = {
    "Discrete": gym.spaces.Discrete(5, start=-2),
    "Discrete(2)": gym.spaces.Discrete(2),
    "Box bounded": gym.spaces.Box(-2.0, 3.0, (3,), np.float32),
    "Box half and unbounded": gym.spaces.Box(
        np.array([0.0, -np.inf, -np.inf]), np.array([np.inf, 1.0, np.inf]), dtype=np.float64
    ),
    "Box integers": gym.spaces.Box(0, 9, (2, 2), np.int64),
    "MultiDiscrete": gym.spaces.MultiDiscrete([3, 7], start=[1, -1]),
    "MultiBinary": gym.spaces.MultiBinary(6),
    "Tuple": gym.spaces.Tuple([gym.spaces.Discrete(3), gym.spaces.Box(-1, 1, (2,))]),
    "Dict": gym.spaces.Dict(
        {"move": gym.spaces.Discrete(4), "force": gym.spaces.Box(0, 1, (1,), np.float32)}
    ),
    "Text (sampled)": gym.spaces.Text(5),
}


def draws(space: gym.Space, seed: int, count: int) -> list:
    stream = ActionDraws(space)
    stream.reset(seed)
    return [stream.sample() for _ in range(count)]


def same(a: list, b: list) -> bool:
    return repr(a) == repr(b)


@pytest.mark.parametrize("name", SPACES)
def test_actions_are_in_the_space_and_depend_on_the_seed_alone(name: str) -> None:
    space = SPACES[name]
    first = draws(space, 7, 300)  # more than one block
    assert all(space.contains(action) for action in first)
    assert same(draws(space, 7, 300), first)
    assert not same(draws(space, 8, 300), first)
    # a stream that has been drawn from, then reset, starts the seed's stream afresh
    stream = ActionDraws(space)
    stream.reset(3)
    [stream.sample() for _ in range(100)]
    stream.reset(7)
    assert same([stream.sample() for _ in range(300)], first)


@pytest.mark.parametrize("name", [n for n in SPACES if "Text" not in n])
def test_batches_are_in_the_batched_space(name: str) -> None:
    space = SPACES[name]
    batched = gym.vector.utils.batch_space(space, 5)
    stream = ActionDraws(space, num_envs=5)
    stream.reset(0)
    batches = [stream.sample_batch() for _ in range(50)]
    assert all(batched.contains(batch) for batch in batches)


def test_box_draws_are_spread_like_box_sample() -> None:
    space = SPACES["Box half and unbounded"]
    sample = np.array(draws(space, 0, 20000))
    assert sample[:, 0].min() >= 0 and abs(sample[:, 0].mean() - 1.0) < 0.05  # exponential
    assert sample[:, 1].max() <= 1 and abs(sample[:, 1].mean()) < 0.05  # 1 - exponential
    assert abs(sample[:, 2].mean()) < 0.05 and abs(sample[:, 2].std() - 1) < 0.05  # normal
    bounded = np.array(draws(SPACES["Box bounded"], 0, 20000))
    assert bounded.min() >= -2 and bounded.max() <= 3 and abs(bounded.mean() - 0.5) < 0.05


def test_continuous_random_runs_repeat_episode_by_episode() -> None:
    def run(episodes: int, start_seed: int = 0) -> list[tuple]:
        config = ExperimentConfig.model_validate(
            {
                "env": "MountainCarContinuous-v0",
                "agent": "random",
                "episodes": episodes,
                "seed": start_seed,
                "max_steps": 50,
            }
        )
        return [(e.seed, e.reward) for e in run_experiment(config).episodes]

    ten = run(10)
    assert run(5) == ten[:5]
    assert len({reward for _, reward in ten}) == 10  # every episode plays its own actions
    assert run(10, start_seed=1) != ten
