import gymnasium as gym
import pytest

from gymrun.components.catalog import find_spec, list_envs
from gymrun.errors import GymrunError


def test_every_registered_env_is_listed_once_with_its_family() -> None:
    infos = list_envs()
    assert sorted(i.id for i in infos) == sorted(gym.registry)
    families = {i.id: i.family for i in infos}
    assert families["CartPole-v1"] == "classic control"
    assert families["Taxi-v4"] == "toy text"
    assert families["LunarLander-v3"] == "Box2D"
    assert families["Hopper-v5"] == "MuJoCo"
    assert families["Hopper-v2"] == "MuJoCo"  # registered with a callable entry point
    assert families["gymrun/RandomReward-v0"] == "gymrun"
    order = [i.family for i in infos]
    assert order.index("classic control") < order.index("toy text") < order.index("Box2D")


def test_listing_carries_spec_numbers() -> None:
    [info] = [i for i in list_envs() if i.id == "CartPole-v1"]
    assert info.to_json() == {
        "id": "CartPole-v1",
        "family": "classic control",
        "max_episode_steps": 500,
        "reward_threshold": 475.0,
        "entry_point": "gymnasium.envs.classic_control.cartpole:CartPoleEnv",
    }


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("Lunar", ["LunarLander-v3", "LunarLanderContinuous-v3"]),
        ("frozenlake", ["FrozenLake-v1", "FrozenLake8x8-v1"]),
        ("CartPole-v?", ["CartPole-v0", "CartPole-v1"]),
        ("gymrun/*", ["gymrun/RandomReward-v0"]),
        ("nothing-like-this", []),
    ],
)
def test_patterns_filter_by_substring_or_glob(pattern: str, expected: list[str]) -> None:
    assert [i.id for i in list_envs(pattern)] == expected


def test_unknown_ids_suggest_the_near_miss() -> None:
    with pytest.raises(
        GymrunError, match="unknown environment 'LunarLander-v2'; did you mean 'LunarLander-v3'"
    ):
        find_spec("LunarLander-v2")
    with pytest.raises(GymrunError, match="cannot find environment 'nonexistent_pkg:Env-v0'"):
        find_spec("nonexistent_pkg:Env-v0")
