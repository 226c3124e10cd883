from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from gymrun.config import load_config
from gymrun.diagnostics.inspection import describe_env, describe_space, jsonable
from gymrun.errors import GymrunError


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        (gym.spaces.Discrete(3, start=-1), {"type": "Discrete", "n": 3, "start": -1}),
        (
            gym.spaces.Box(-1, 1, (2,), np.float32),
            {"type": "Box", "shape": [2], "dtype": "float32", "low": -1.0, "high": 1.0},
        ),
        (
            gym.spaces.Box(np.array([0, -np.inf]), np.array([1, np.inf]), dtype=np.float64),
            {
                "type": "Box",
                "shape": [2],
                "dtype": "float64",
                "low": [0.0, "-inf"],
                "high": [1.0, "inf"],
            },
        ),
        (
            gym.spaces.Box(np.arange(100.0), np.arange(100.0) + 1, dtype=np.float64),
            {
                "type": "Box",
                "shape": [100],
                "dtype": "float64",
                "low": {"min": 0.0, "max": 99.0},
                "high": {"min": 1.0, "max": 100.0},
            },
        ),
        (
            gym.spaces.MultiDiscrete([2, 3]),
            {"type": "MultiDiscrete", "nvec": [2, 3], "start": [0, 0], "dtype": "int64"},
        ),
        (gym.spaces.MultiBinary(4), {"type": "MultiBinary", "n": 4, "shape": [4]}),
        (
            gym.spaces.Tuple(
                [gym.spaces.Discrete(2), gym.spaces.Dict({"a": gym.spaces.Discrete(5)})]
            ),
            {
                "type": "Tuple",
                "spaces": [
                    {"type": "Discrete", "n": 2, "start": 0},
                    {"type": "Dict", "spaces": {"a": {"type": "Discrete", "n": 5, "start": 0}}},
                ],
            },
        ),
    ],
)
def test_spaces_described_in_full(space: gym.Space, expected: dict) -> None:
    assert describe_space(space) == expected


def test_describe_env_gives_spec_spaces_and_samples() -> None:
    info = describe_env("CartPole-v1", seed=3)
    assert info["id"] == "CartPole-v1"
    assert (info["max_episode_steps"], info["reward_threshold"]) == (500, 475.0)
    assert info["render_modes"] == ["human", "rgb_array"]
    assert info["action_sample"] in (0, 1)
    env = gym.make("CartPole-v1")
    expected = env.reset(seed=3)[0]
    np.testing.assert_allclose(info["first_observation"], expected, rtol=1e-6)
    assert describe_env("CartPole-v1", seed=3) == info  # samples are seeded too


def test_describe_env_after_a_config_wrapper_stack(write_config: Callable[..., Path]) -> None:
    config = load_config(
        write_config("env: CartPole-v1\nwrappers:\n  - {name: frame_stack, stack_size: 4}\n")
    )
    info = describe_env("CartPole-v1", config=config)
    assert info["observation_space"]["shape"] == [4, 4]
    assert info["wrappers"] == ["frame_stack"]
    assert np.array(info["first_observation"]).shape == (4, 4)


def test_large_observations_are_summarised() -> None:
    image = np.full((64, 64, 3), 7, np.uint8)
    assert jsonable(image) == {
        "shape": [64, 64, 3],
        "dtype": "uint8",
        "min": 7,
        "max": 7,
        "mean": 7.0,
    }


@pytest.mark.filterwarnings("ignore:.*Humanoid-v2 is out of date:DeprecationWarning")
def test_an_env_that_cannot_be_made_is_a_clear_error() -> None:
    with pytest.raises(GymrunError, match="cannot make Humanoid-v2: "):
        describe_env("Humanoid-v2")
