import json
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from gymrun.components.wrappers import EpsilonRandom, ScaleReward, apply_wrappers, resolve_wrapper
from gymrun.errors import GymrunError
from tests.support.cli import gymrun


def replaced_share(epsilon: float, seed: int, steps: int = 4000) -> float:
    """Share of a constant action 0 that EpsilonRandom turned into 1 (a random action is 1
    half the time, so this is about epsilon / 2)."""
    env = EpsilonRandom(gym.make("CartPole-v1"), epsilon=epsilon)
    env.reset(seed=seed)
    return float(np.mean([env.action(0) for _ in range(steps)]))


def test_epsilon_zero_never_replaces_and_one_always_randomises() -> None:
    assert replaced_share(0.0, seed=1) == 0.0
    assert replaced_share(1.0, seed=1) == pytest.approx(0.5, abs=0.03)
    assert replaced_share(0.5, seed=1) == pytest.approx(0.25, abs=0.03)


def test_epsilon_random_is_seeded_by_reset() -> None:
    def actions(seed: int) -> list[int]:
        env = EpsilonRandom(gym.make("CartPole-v1"), epsilon=0.5)
        env.reset(seed=seed)
        return [int(env.action(0)) for _ in range(50)]

    assert actions(3) == actions(3)
    assert actions(3) != actions(4)


def test_epsilon_random_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\], got 1.5"):
        EpsilonRandom(gym.make("CartPole-v1"), epsilon=1.5)


def test_scale_reward_scales_and_keeps_the_spec_serialisable() -> None:
    env = ScaleReward(EpsilonRandom(gym.make("CartPole-v1"), epsilon=0.1), scale=0.5)
    env.reset(seed=0)
    assert env.step(0)[1] == 0.5
    assert env.spec is not None
    stack = json.loads(env.spec.to_json())["additional_wrappers"]
    assert [(w["name"], w["kwargs"]) for w in stack] == [
        ("EpsilonRandom", {"epsilon": 0.1}),
        ("ScaleReward", {"scale": 0.5}),
    ]


def test_frame_stack_is_gymnasiums() -> None:
    env = apply_wrappers(
        gym.make("CartPole-v1"), [("frame_stack", {"stack_size": 3, "padding_type": "zero"})]
    )
    assert isinstance(env, gym.wrappers.FrameStackObservation)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 4)
    assert not obs[:2].any()  # zero padding before the first real frame


@pytest.mark.parametrize(
    ("name", "kwargs", "check"),
    [
        ("TimeLimit", {"max_episode_steps": 3}, lambda env: env.spec.max_episode_steps == 3),
        ("ClipReward", {"min_reward": 0, "max_reward": 0.25}, lambda env: env.step(0)[1] == 0.25),
        ("FlattenObservation", {}, lambda env: env.observation_space.shape == (4,)),
        (
            "gymnasium.wrappers:TimeAwareObservation",
            {},
            lambda env: env.observation_space.shape == (5,),
        ),
    ],
)
def test_gymnasium_wrappers_by_class_name(
    name: str, kwargs: dict[str, float], check: Callable[[gym.Env], bool]
) -> None:
    env = apply_wrappers(gym.make("CartPole-v1"), [(name, kwargs)])
    env.reset(seed=0)
    assert check(env)


def test_unknown_wrappers_suggest_a_near_miss() -> None:
    with pytest.raises(
        GymrunError, match="unknown wrapper 'FrameStack'; did you mean 'frame_stack'"
    ):
        resolve_wrapper("FrameStack")
    with pytest.raises(GymrunError, match=r"'gymnasium\.spaces:Box' is not a gymnasium\.Wrapper"):
        resolve_wrapper("gymnasium.spaces:Box")


def test_a_wrapper_that_fails_to_build_names_its_position() -> None:
    with pytest.raises(GymrunError) as exc:
        apply_wrappers(
            gym.make("CartPole-v1"),
            [("ClipReward", {"max_reward": 1}), ("ResizeObservation", {"shape": [2, 2]})],
        )
    assert str(exc.value) == (
        "wrappers.1: ResizeObservation: ValueError: "
        "ResizeObservation requires a 2D or 3D image, got shape (4,)"
    )


def test_a_list_is_given_as_a_tuple_where_a_wrapper_takes_only_a_tuple(tmp_path: Path) -> None:
    # YAML has no tuples; ReshapeObservation refused the list a config gives ("requires
    # shape to be a tuple"), so it could not be used from a config at all
    (tmp_path / "reshaped.yaml").write_text(
        "env: Pendulum-v1\nagent: random\nepisodes: 2\nseed: 0\n"
        "wrappers:\n  - {name: ReshapeObservation, shape: [3, 1]}\n"
    )
    code, out, err = gymrun("inspect", "--config", str(tmp_path / "reshaped.yaml"))
    assert code == 0, err
    assert "Box  shape=[3, 1], dtype=float32" in out
    code, _, err = gymrun("run", str(tmp_path / "reshaped.yaml"), "-q", "--no-record")
    assert (code, err) == (0, "")


WriteConfig = Callable[..., Path]


def test_files_wrappers_write_stay_in_the_run_directory(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    wrapper = "{name: RecordVideo, video_folder: %s, episode_trigger: null}"
    absolute = write_config(
        f"env: {{id: CartPole-v1, kwargs: {{render_mode: rgb_array}}}}\n"
        f"wrappers: [{wrapper % outside}]\nepisodes: 2\nseed: 0\n"
    )
    code, _, err = gymrun("validate", str(absolute))
    assert code == 2
    assert f"wrappers.0.video_folder: '{outside}' is outside the run's directory" in err
    escaping = write_config(absolute.read_text().replace(str(outside), "../elsewhere"))
    assert gymrun("run", str(escaping), "-o", "run")[0] == 2
    inside = write_config(absolute.read_text().replace(str(outside), "clips"))
    code, _, err = gymrun("validate", str(inside))  # RecordVideo would create its folder
    assert code == 0 and "wrappers.0 (RecordVideo) and what follows it (it writes files)" in err
    assert not Path("clips").exists()
    code, _, err = gymrun("run", str(inside), "-o", "run", "-q")
    assert code == 0, err
    assert sorted(p.suffix for p in Path("run/clips").iterdir()) == [".mp4", ".mp4"]
    code, _, err = gymrun("run", str(inside), "--no-record")
    assert code == 2 and f"{inside}:2 wrappers.0: RecordVideo writes files (video_folder)" in err
    assert not outside.exists()
