"""The non-learning agents on the tasks they are for, through gymrun's own runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from gymrun import ExperimentConfig, load_config, run_experiment
from gymrun.components.baselines import DynamicProgramming, Heuristic
from gymrun.components.baselines.blackjack import BasicStrategy, expected_return
from gymrun.errors import ConfigError
from tests.support.cli import gymrun
from tests.support.processes import pip_install, run_gymrun


def mean_reward(env: str, agent: Any, episodes: int, seed: int = 0, **extra: Any) -> float:
    config = ExperimentConfig.model_validate(
        {"env": env, "agent": agent, "episodes": episodes, "seed": seed, **extra}
    )
    result = run_experiment(config)
    assert result.status == "completed", result.error
    assert result.summary.mean_reward is not None
    return result.summary.mean_reward


@pytest.mark.parametrize(
    ("env", "episodes", "at_least"),
    [
        ("CartPole-v0", 20, 200.0),
        ("CartPole-v1", 20, 500.0),
        ("MountainCar-v0", 100, -110.0),
        ("MountainCarContinuous-v0", 30, 90.0),
        ("Acrobot-v1", 50, -100.0),
        ("LunarLander-v3", 30, 200.0),
        ("LunarLanderContinuous-v3", 30, 200.0),
        ("Reacher-v5", 100, -3.75),
    ],
)
def test_heuristic_reaches_the_threshold(env: str, episodes: int, at_least: float) -> None:
    assert mean_reward(env, "heuristic", episodes) >= at_least


def test_heuristic_walks_bipedal_walker_to_the_end() -> None:
    assert mean_reward("BipedalWalker-v3", "heuristic", 5) >= 300.0


def test_heuristic_swings_the_pendulum_up_and_holds_it() -> None:
    # a random agent scores about -1200 on Pendulum-v1; holding it upright scores near 0
    assert mean_reward("Pendulum-v1", "heuristic", 10) > -250.0


def test_basic_strategy_is_the_textbook_table() -> None:
    # Sutton and Barto, figure 5.2: the optimal policy of exactly this game
    agent = BasicStrategy()
    hard_stick = {
        (points, dealer)
        for points in range(12, 22)
        for dealer in range(1, 11)
        if agent.act((points, dealer, 0)) == 0
    }
    expected = {(12, d) for d in (4, 5, 6)} | {(p, d) for p in range(13, 17) for d in range(2, 7)}
    expected |= {(p, d) for p in range(17, 22) for d in range(1, 11)}
    assert hard_stick == expected
    soft_stick = {
        (points, dealer)
        for points in range(12, 22)
        for dealer in range(1, 11)
        if agent.act((points, dealer, 1)) == 0
    }
    assert soft_stick == {(18, d) for d in range(2, 9)} | {
        (p, d) for p in range(19, 22) for d in range(1, 11)
    }
    # its exact expectation, and 20,000 hands played by gymrun agreeing with it within four
    # standard errors (a hand's payoff has a spread of about 0.95)
    assert round(expected_return(), 4) == -0.0431  # Blackjack-v1's rules: sab
    assert round(expected_return(sab=False), 4) == -0.0466
    played = mean_reward("Blackjack-v1", "heuristic", 20_000)
    assert abs(played - expected_return()) < 4 * 0.95 / np.sqrt(20_000)


def test_dynamic_programming_knows_the_optimum_and_plays_it() -> None:
    taxi = DynamicProgramming(gym.make("Taxi-v4"))
    assert round(taxi.expected_return() or 0.0, 2) == 7.93  # below the threshold of 8
    assert 7.0 < mean_reward("Taxi-v4", "dynamic_programming", 300) < 8.5
    lake = DynamicProgramming(gym.make("FrozenLake8x8-v1"))
    assert lake.expected_return() == pytest.approx(0.9132, abs=1e-4)
    assert mean_reward("FrozenLake8x8-v1", "dynamic_programming", 200) >= 0.85
    assert mean_reward("CliffWalking-v1", "dynamic_programming", 3) == -13.0


def test_dynamic_programming_respects_the_step_limit() -> None:
    # with 100 steps FrozenLake's safe path is worth 0.744; with 20 it rarely arrives,
    # and the policy planned for 20 steps does better over 20 than the one for 100
    short = DynamicProgramming(gym.make("FrozenLake-v1", max_episode_steps=20))
    long = DynamicProgramming(gym.make("FrozenLake-v1"))
    assert (short.expected_return() or 0) < (long.expected_return() or 0)
    fixed = DynamicProgramming(gym.make("FrozenLake-v1"), horizon=20)
    assert fixed.expected_return() == short.expected_return()
    discounted = DynamicProgramming(gym.make("CliffWalking-v1"), gamma=0.9)
    assert discounted.expected_return() == pytest.approx(-(1 - 0.9**13) / (1 - 0.9))


@pytest.mark.parametrize(
    ("env", "at_least"), [("InvertedPendulum-v5", 1000.0), ("InvertedDoublePendulum-v5", 9300.0)]
)
def test_lqr_balances_mujoco_pendulums(env: str, at_least: float) -> None:
    assert mean_reward(env, "lqr", 3) >= at_least


def test_lqr_balances_cartpole_from_its_equations() -> None:
    assert mean_reward("CartPole-v1", "lqr", 10) == 500.0


def test_planner_plans_on_a_copy_of_the_simulator() -> None:
    # Pendulum's first 100 steps: the planner, knowing nothing of pendulums, swings it up
    # about as well as the scripted swing-up does; random torques leave it hanging
    agent = {"name": "planner", "horizon": 15, "population": 16, "iterations": 2}
    planned = mean_reward("Pendulum-v1", agent, 2, max_steps=100)
    scripted = mean_reward("Pendulum-v1", "heuristic", 2, max_steps=100)
    hanging = mean_reward("Pendulum-v1", "random", 2, max_steps=100)
    assert planned > 1.1 * scripted  # rewards are negative: within 10% of the script
    assert hanging < 3 * scripted


def test_privileged_agents_say_so() -> None:
    from gymrun.components.agents import BUILTIN_AGENTS

    privileged = {name for name, cls in BUILTIN_AGENTS.items() if getattr(cls, "privileged", False)}
    assert privileged == {"dynamic_programming", "lqr", "planner"}
    assert not getattr(Heuristic, "privileged", False)


LQR_TASKS = "CartPole, Pendulum, InvertedPendulum and InvertedDoublePendulum (any version)"
DP_TASKS = "FrozenLake, FrozenLake8x8, CliffWalking, CliffWalkingSlippery and Taxi"


@pytest.mark.parametrize(
    ("env", "agent", "extra", "message"),
    [
        (
            "CartPole-v1",
            "dynamic_programming",
            [],
            f"agent dynamic_programming supports {DP_TASKS} (envs with a transition table P), "
            "and envs of your own with one; CartPole-v1 is not one of them",
        ),
        (
            "HalfCheetah-v5",  # MuJoCo, but no pose LQR can hold: its Riccati equation diverges
            "lqr",
            [],
            f"agent lqr supports {LQR_TASKS}, and MuJoCo envs of your own; HalfCheetah-v5 is "
            "not one of them",
        ),
        (
            "MountainCar-v0",
            "lqr",
            [],
            f"agent lqr supports {LQR_TASKS}, and MuJoCo envs of your own; MountainCar-v0 is "
            "not one of them",
        ),
        (
            "LunarLander-v3",
            "planner",
            [],
            "agent planner supports classic control and MuJoCo envs (it plans on a copy of "
            "their simulator's state), and envs of your own with such state; LunarLander-v3 is "
            "not one of them",
        ),
        (
            "Taxi-v4",
            "heuristic",
            [],
            "agent heuristic supports CartPole-v0, CartPole-v1, MountainCar-v0, "
            "MountainCarContinuous-v0, Acrobot-v1, Pendulum-v1, LunarLander-v3, "
            "LunarLanderContinuous-v3, BipedalWalker-v3, Blackjack-v1, Reacher-v4 and "
            "Reacher-v5; Taxi-v4 is not one of them",
        ),
        (
            "InvertedPendulum-v5",
            "lqr",
            ["--num-envs", "2"],
            "agent lqr reads its environment's own state, so it needs a single "
            "environment: it cannot run in a vector run (remove vector / --num-envs)",
        ),
    ],
)
def test_agents_refused_up_front_on_envs_they_do_not_support(
    tmp_path: Path, env: str, agent: str, extra: list[str], message: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"env: {env}\nagent: {agent}\nepisodes: 1\nseed: 0\n")
    records = tmp_path / "records"
    code, stdout, stderr = gymrun("run", str(path), "-o", str(records / "run"), *extra)
    assert (code, stdout) == (2, "")
    assert stderr == f"error: {path}:2 agent.name: {message}\n"
    assert not records.exists()  # no run directory left behind
    if not extra:
        code, _, stderr = gymrun("validate", str(path))
        assert code == 2
        assert stderr == f"error: {path}:2 agent.name: {message}\n"


@pytest.mark.parametrize("agent", ["heuristic", "lqr", "planner", "dynamic_programming"])
def test_an_agent_on_atari_fails_before_the_env_or_a_progress_bar_starts(
    tmp_path: Path, agent: str
) -> None:
    result = run_gymrun("run", "ALE/Pong-v5", "-a", agent, "-n", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()  # no ALE banner, no progress bar
    assert line.startswith(f"error: --agent {agent} agent.name: agent {agent} supports ")
    assert line.endswith("; ALE/Pong-v5 is not one of them")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("agent", "message"),
    [
        (
            "{name: dynamic_programming, gama: 0.9}",
            "agent.gama: unknown key; did you mean 'gamma'?",
        ),
        (
            "{name: dynamic_programming, gamma: 1.5}",
            "agent.gamma: Input should be less than or equal to 1",
        ),
        (
            "{name: planner, population: 1}",
            "agent.population: Input should be greater than or equal to 2",
        ),
        ("{name: lqr, control_cost: 0}", "agent.control_cost: Input should be greater than 0"),
        ("{name: heuristic, gain: 2}", "agent.gain: unknown key"),
    ],
)
def test_agent_keywords_are_checked_before_anything_runs(
    write_config: Callable[..., Path], agent: str, message: str
) -> None:
    path = write_config(f"env: Taxi-v4\nagent: {agent}\n")
    code, _, stderr = gymrun("validate", str(path))
    assert code == 2
    assert f"{path}:2 {message}" in stderr


def test_a_planner_with_more_elites_than_plans_is_refused(
    write_config: Callable[..., Path],
) -> None:
    path = write_config("env: Pendulum-v1\nagent: {name: planner, population: 4, elites: 8}\n")
    code, _, stderr = gymrun("validate", str(path))
    assert code == 2
    assert f"{path}:2 agent.elites: elites (8) exceeds population (4)" in stderr


def test_dynamic_programming_actions_follow_the_steps_left() -> None:
    env = gym.make("FrozenLake-v1")
    agent = DynamicProgramming(env)
    agent.reset(0)
    first = [agent.act(0) for _ in range(100)]
    assert set(np.unique(first)) <= {0, 1, 2, 3}


def test_box2d_installs_from_a_wheel_and_doctor_says_so() -> None:
    from importlib.metadata import requires

    from gymrun.components.extras import install_hint

    # gymrun[box2d] is gymnasium[box2d], which takes the box2d wheel on Python < 3.14
    wheel = [r for r in requires("gymnasium") or [] if r.startswith("box2d==")]
    assert wheel and 'python_version < "3.14"' in wheel[0]
    missing = ModuleNotFoundError("No module named 'Box2D'", name="Box2D")
    assert install_hint(missing) == f" (install it: {pip_install('gymrun[box2d]')})"
    import Box2D  # noqa: F401  (the test install has it)


def test_an_agent_that_needs_one_env_is_refused_in_a_vector_run_naming_the_argument(
    tmp_path: Path,
) -> None:
    """As load_config's `num_envs`: ``--num-envs`` is the command line's (said above)."""
    path = tmp_path / "config.yaml"
    path.write_text("env: InvertedPendulum-v5\nagent: lqr\nepisodes: 1\nseed: 0\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path, num_envs=2)
    assert str(raised.value) == (
        f"{path}:2 agent.name: agent lqr reads its environment's own state, so it needs a "
        "single environment: it cannot run in a vector run (remove vector / num_envs)"
    )
