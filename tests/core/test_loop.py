import itertools
import json
import warnings
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import pytest

from gymrun import ExperimentConfig, run_experiment
from gymrun.components.agents import ConstantAgent, RandomAgent, make_agent
from gymrun.components.seeding import EpisodeSeeds
from gymrun.core.episodes import EpisodeResult
from gymrun.errors import RolloutError
from tests.support.cli import Result, gymrun
from tests.support.fake_env import FAKE_ID
from tests.support.loop import rollout


def run(env: gym.Env, agent: object, **kwargs: object) -> list[EpisodeResult]:
    return list(rollout(env, agent, **{"seed": 0, "episodes": 3, **kwargs}))  # type: ignore[arg-type]


def test_episodes_record_reward_steps_and_how_they_ended() -> None:
    env = gym.make(FAKE_ID, length=4, reward=0.5)
    results = run(env, ConstantAgent(env.action_space, 0), reward_boundary=2.0)
    assert [
        (r.episode, r.reward, r.steps, r.terminated, r.truncated, r.reached) for r in results
    ] == [
        (0, 2.0, 4, True, False, True),
        (1, 2.0, 4, True, False, True),
        (2, 2.0, 4, True, False, True),
    ]
    assert all(r.seconds >= 0 for r in results)


def test_time_limit_truncation_is_recorded() -> None:
    env = gym.make(FAKE_ID, length=0, max_episode_steps=7)  # never terminates by itself
    [result] = run(env, ConstantAgent(env.action_space, 0), episodes=1)
    assert (result.steps, result.terminated, result.truncated) == (7, False, True)


def test_max_steps_cuts_an_episode_as_truncated() -> None:
    config = ExperimentConfig.model_validate(
        {
            "env": "CartPole-v1",
            "agent": "cartpole_balance",
            "max_steps": 25,
            "episodes": 1,
            "seed": 0,
            "reward_boundary": 20,
        }
    )
    [result] = run_experiment(config).episodes
    assert (result.steps, result.reward, result.terminated, result.truncated) == (
        25,
        25.0,
        False,
        True,
    )
    assert result.reached is True


def test_no_boundary_means_reached_is_unknown() -> None:
    env = gym.make(FAKE_ID)
    assert {r.reached for r in run(env, ConstantAgent(env.action_space, 0))} == {None}


def test_same_seed_same_episodes_and_prefix_property() -> None:
    def rewards(seed: int, episodes: int, start: int = 0) -> list[tuple[int, float, int]]:
        env = gym.make("CartPole-v1")
        results = rollout(
            env, RandomAgent(env.action_space), seed=seed, episodes=episodes, start=start
        )
        return [(r.seed, r.reward, r.steps) for r in results]

    twenty = rewards(5, 20)
    assert rewards(5, 20) == twenty
    assert rewards(5, 10) == twenty[:10]
    assert rewards(5, 5, start=15) == twenty[15:]  # episodes can be run in any split
    assert rewards(6, 20) != twenty
    assert len({steps for _, _, steps in twenty}) > 3  # the random agent really varies


def test_episode_seeds_differ_between_episodes_and_between_env_and_agent() -> None:
    seeds = [EpisodeSeeds(0)[i] for i in range(1000)]
    assert len({env for env, _ in seeds}) == 1000
    assert all(env != agent for env, agent in seeds)


def test_results_stream_one_episode_at_a_time() -> None:
    env = gym.make(FAKE_ID, length=2)
    stream = rollout(env, ConstantAgent(env.action_space, 0), seed=0, episodes=10**12)
    assert [r.episode for r in itertools.islice(stream, 3)] == [0, 1, 2]


def test_an_env_that_raises_names_the_episode_and_step() -> None:
    env = gym.make(FAKE_ID, length=10, fail_at=4)
    with pytest.raises(RolloutError) as exc:
        run(env, ConstantAgent(env.action_space, 0))
    assert (exc.value.episode, exc.value.step) == (0, 3)
    assert str(exc.value).startswith(
        "episode 0, step 3: ValueError: step 4 exploded (raised in step at "
    )
    assert "fake_env.py" in str(exc.value)


def test_an_env_that_raises_in_reset() -> None:
    env = gym.make(FAKE_ID, fail_in="reset")
    with pytest.raises(RolloutError, match=r"^episode 0, step 0: RuntimeError: reset exploded"):
        run(env, ConstantAgent(env.action_space, 0))


def test_bad_action_names_agent_action_and_space(user_module: Callable[[str], str]) -> None:
    module = user_module("def wild(observation):\n    return 5 if observation[0] >= 2 else 0\n")
    env = gym.make(FAKE_ID, length=10)
    agent = make_agent(f"{module}:wild", {}, env.action_space, env.observation_space)
    with pytest.raises(RolloutError) as exc:
        list(rollout(env, agent, seed=0, episodes=1, agent_name=f"{module}:wild"))
    assert str(exc.value) == (
        f"episode 0, step 2: agent {module}:wild chose action 5, "
        "which is not in the action space Discrete(2): expected an integer from 0 to 1, got 5"
    )


def test_an_agent_that_raises(user_module: Callable[[str], str]) -> None:
    module = user_module("def broken(observation):\n    raise KeyError('no idea')\n")
    env = gym.make(FAKE_ID)
    agent = make_agent(f"{module}:broken", {}, env.action_space, env.observation_space)
    with pytest.raises(
        RolloutError, match=rf"KeyError: 'no idea' \(raised in broken at .*{module}.py:2\)"
    ):
        run(env, agent)


WriteConfig = Callable[..., Path]


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("raise SystemExit(0)", "episode 0, step 0: SystemExit: 0 (raised in act at "),
        ("raise Halt('no more')", "episode 0, step 0: Halt: no more (raised in act at"),
    ],
)
def test_an_agent_that_exits_or_raises_anything_fails_the_run_cleanly(
    write_config: WriteConfig, user_module: Callable[[str], str], agent: str, expected: str
) -> None:
    module = user_module(
        f"class Halt(BaseException):\n    pass\ndef act(observation):\n    {agent}\n"
    )
    path = write_config(f"env: CartPole-v1\nagent: '{module}:act'\nepisodes: 3\n")
    code, out, err = gymrun("run", str(path), "-o", "run")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(f"error: {expected}")
    assert json.loads(Path("run/summary.json").read_text())["status"] == "failed"
    assert "Traceback" not in err and "status   │ failed" in out


@pytest.mark.parametrize("reward", ["np.array([1.0, 2.0])", "1j"])
def test_a_reward_that_is_not_a_number(
    write_config: WriteConfig, user_module: Callable[[str], str], reward: str
) -> None:
    module = user_module(
        f"""
        import gymnasium as gym
        import numpy as np
        class Odd(gym.RewardWrapper):
            def reward(self, reward):
                return {reward}
        """
    )
    path = write_config(f"env: CartPole-v1\nwrappers: ['{module}:Odd']\nepisodes: 2\n")
    code, _, err = gymrun("run", str(path), "-o", "run")
    assert code == 1
    assert "episode 0, step " in err and "TypeError: the reward is not a number: " in err
    assert json.loads(Path("run/summary.json").read_text())["status"] == "failed"


@pytest.mark.parametrize("vector", [[], ["--num-envs", "3"]], ids=["single", "vector"])
def test_rewards_past_the_largest_float_are_reported_without_warnings(
    tmp_path: Path, vector: list[str]
) -> None:
    def without_warnings(*args: str) -> Result:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = gymrun(*args)
        assert result.code == 0, result.stderr
        assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], caught
        assert "Warning" not in result.stderr, result.stderr
        return result

    def run(scale: str, name: str) -> str:
        result = without_warnings(
            *("run", "CartPole-v1", "-W", "scale_reward", "--set", f"wrappers.0.scale={scale}"),
            *("-n", "6", "--seed", "0", "-o", name, *vector),
        )
        assert f"recorded in {name}" in result.stderr
        return result.stdout

    # every step's reward is 1e200: the sums are finite, their squares are not
    out = run("1e200", "large")
    summary = json.loads((tmp_path / "large" / "summary.json").read_text())
    shaped, rewards = summary["shaped_reward"], summary["mean_reward"]
    assert shaped["nonfinite"] == 0
    assert shaped["mean"] == pytest.approx(rewards * 1e200)
    assert 0 < shaped["std"] < shaped["mean"]
    [line] = [line for line in out.splitlines() if "│ shaped " in line]
    assert "e+201 ± " in line and len(line) < 150  # not in a thousand digits
    assert "NaN or infinite" not in out
    # every step's reward is 1e308: the sums overflow, and are reported as such
    out = run("1e308", "infinite")
    summary = json.loads((tmp_path / "infinite" / "summary.json").read_text())
    assert summary["shaped_reward"]["nonfinite"] == 6
    assert summary["shaped_reward"]["mean"] is None
    assert summary["nonfinite_rewards"] == 0  # the env's own return is finite
    assert "NaN or infinite in all 6 episodes: what the agent saw through the wrappers" in out
    without_warnings("show", "infinite")
    without_warnings("compare", "large", "infinite")


def test_a_wrong_shaped_action_is_told_on_one_line(
    write_config: Callable[..., Path], user_module: Callable[[str], str]
) -> None:
    module = user_module(
        "import numpy as np\n"
        "def wide(observation):\n"
        "    return np.arange(6.0).reshape(3, 2) / 7\n"
        "def long(observation):\n"
        "    return np.full(1000, 0.5, dtype=np.float32)\n"
    )
    for agent, got, items in [
        ("wide", "(3, 2) float64", "[[0, 0.1429], [0.2857, 0.4286], [0.5714, 0.7143]]"),
        ("long", "(1000,) float32", "[0.5, 0.5, ..., 0.5, 0.5]"),
    ]:
        path = write_config(f"env: Pendulum-v1\nagent: '{module}:{agent}'\nepisodes: 1\nseed: 0\n")
        code, _, err = gymrun("run", str(path), "--no-record", "-q")
        assert code == 1
        assert err == (
            f"error: episode 0, step 0: agent {module}:{agent} chose action array of shape {got}:"
            f" {items}, which is not in the action space Box(-2.0, 2.0, (1,), float32): expected"
            f" shape (1,) float32, got shape {got}\n"
        )
