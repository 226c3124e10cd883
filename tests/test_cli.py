"""Every command as a user types it, through Typer's runner (bugs fail the test, not exit 1)."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from typer.testing import CliRunner

from gymrun import __version__
from gymrun.cli import app
from gymrun.numbers import plus_minus

from .conftest import CONFIGS

CARTPOLE_RANDOM = str(CONFIGS / "cartpole_random.yaml")


def gymrun(*args: str) -> "Result":
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


class Result:
    def __init__(self, code: int, stdout: str, stderr: str) -> None:
        self.code, self.stdout, self.stderr = code, stdout, stderr


def test_run_prints_episode_table_and_summary() -> None:
    result = gymrun("run", CARTPOLE_RANDOM, "--episodes", "30")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(
        line.split("│")[1:3] == ["       0 ", " 2684470948 "] for line in lines if "│" in line
    )
    assert "10 more episodes" in result.stdout  # 30 episodes: first 10, elision, last 10
    assert "│      29 │" in result.stdout
    assert "│      15 │" not in result.stdout
    assert "cartpole_random: CartPole-v1, agent random" in result.stdout
    assert "boundary │ 195: reached in 0 of 30 episodes" in result.stdout
    assert "solved   │ no: mean" in result.stdout
    assert "< 195 (all 30 episodes; fewer than 100)" in result.stdout
    [recorded] = result.stderr.splitlines()
    assert re.fullmatch(
        r"recorded in recordings/cartpole_random/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", recorded
    )


def test_run_numbers_match_the_library() -> None:
    data = json.loads(gymrun("run", CARTPOLE_RANDOM, "--json", "-n", "20").stdout)
    summary = data["summary"]
    quiet = gymrun("run", CARTPOLE_RANDOM, "-q", "-n", "20").stdout
    assert f"reward   │ {plus_minus(summary['mean_reward'], summary['std_reward'])}  " in quiet
    assert "Episodes" not in quiet


def test_run_json_is_exactly_one_object() -> None:
    result = gymrun(
        "run",
        CARTPOLE_RANDOM,
        "--json",
        "--episodes",
        "3",
        "--seed",
        "0",
        "--set",
        "wrappers.0.name=ClipReward",
        "--set",
        "wrappers.0.max_reward=0.5",
    )
    assert result.code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"config", "episodes", "summary", "status", "error", "run_dir"}
    assert data["status"] == "completed"
    assert data["config"]["seed"] == 0
    assert data["config"]["wrappers"] == [{"name": "ClipReward", "max_reward": 0.5}]
    assert [e["episode"] for e in data["episodes"]] == [0, 1, 2]
    assert all(e["reward"] == e["steps"] * 0.5 for e in data["episodes"])
    assert data["summary"]["count"] == 3


def test_a_drawn_seed_is_announced_and_saved() -> None:
    result = gymrun("run", CARTPOLE_RANDOM, "-q", "-n", "2", "--set", "seed=null")
    assert result.code == 0
    seed = int(result.stderr.split()[1])
    assert f"seed {seed} was drawn; add --seed {seed} to repeat this run" in result.stderr
    assert f"seed     │ {seed}" in result.stdout
    data = json.loads(
        gymrun("run", CARTPOLE_RANDOM, "--json", "-n", "2", "--set", "seed=null").stdout
    )
    assert isinstance(data["config"]["seed"], int)


def test_bad_config_exits_2_with_one_line_per_problem(write_config: Callable[..., Path]) -> None:
    path = write_config(
        "env: CartPole-v1\nwrappers:\n  - name: epsilon_random\n    epsilon: 7\nepisodes: 0\n"
    )
    result = gymrun("run", str(path))
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: {path}:4 wrappers.0.epsilon: Input should be less than or equal to 1",
        f"error: {path}:5 episodes: Input should be greater than or equal to 1",
    ]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(write_config: Callable[..., Path]) -> None:
    path = write_config("env: CartPol-v1\n")
    result = gymrun("run", str(path), "--debug")
    assert result.code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert f"error: {path}:1 env.id: unknown environment 'CartPol-v1'" in result.stderr


def test_bad_command_line_values_exit_2() -> None:
    assert gymrun("run", CARTPOLE_RANDOM, "--episodes", "0").code == 2
    assert gymrun("run", CARTPOLE_RANDOM, "--seed", "-1").code == 2
    result = gymrun("run", CARTPOLE_RANDOM, "--set", "episodes=lots")
    assert result.code == 2
    assert (
        result.stderr.strip()
        == "error: --set episodes=lots episodes: Input should be a valid integer"
    )
    assert (
        gymrun("run", "no/such/file.yaml").stderr.strip()
        == "error: no/such/file.yaml: file not found"
    )


def test_a_crash_mid_run_exits_1_and_keeps_the_finished_episodes(
    write_config: Callable[..., Path],
) -> None:
    path = write_config(
        "env: {id: gymrun-test/Fake-v0, kwargs: {length: 3, fail_at: 2, fail_episode: 2}}\n"
        "agent: {name: constant, action: 0}\nepisodes: 5\nseed: 0\n"
    )
    result = gymrun("run", str(path))
    assert result.code == 1
    assert result.stderr.splitlines()[-1].startswith(
        "error: episode 2, step 1: ValueError: step 2 exploded (raised in step at "
    )
    assert "episodes │ 2 of 5" in result.stdout
    assert "status   │ failed" in result.stdout
    data = json.loads(gymrun("run", str(path), "--json").stdout)
    assert data["status"] == "failed"
    assert data["error"].startswith("episode 2, step 1: ValueError: step 2 exploded")
    assert [e["episode"] for e in data["episodes"]] == [0, 1]


def test_ctrl_c_exits_130_with_the_summary_of_finished_episodes(
    write_config: Callable[..., Path], user_module: Callable[[str], str]
) -> None:
    module = user_module(
        """
        class Impatient:
            episodes = 0
            def reset(self, seed):
                Impatient.episodes += 1
                if Impatient.episodes == 4:
                    raise KeyboardInterrupt
            def act(self, observation):
                return 0
        """
    )
    path = write_config(f"env: CartPole-v1\nagent: {module}:Impatient\nepisodes: 10\nseed: 1\n")
    result = gymrun("run", str(path))
    assert result.code == 130
    assert "episodes │ 3 of 10" in result.stdout
    assert "status   │ interrupted" in result.stdout
    assert "interrupted after 3 finished episodes" in result.stderr


def test_list_envs_table_and_json() -> None:
    result = gymrun("list-envs")
    assert result.code == 0
    assert "classic control" in result.stdout and "CartPole-v1" in result.stdout
    assert "gymrun/RandomReward-v0" in result.stdout
    data = json.loads(gymrun("list-envs", "CartPole*", "--json").stdout)
    assert [e["id"] for e in data] == ["CartPole-v0", "CartPole-v1"]
    assert data[0] == {
        "id": "CartPole-v0",
        "family": "classic control",
        "max_episode_steps": 200,
        "reward_threshold": 195.0,
        "entry_point": "gymnasium.envs.classic_control.cartpole:CartPoleEnv",
    }
    assert gymrun("list-envs", "zzz").stdout.strip() == "no registered environment matches 'zzz'"


def test_inspect_shows_spec_spaces_and_samples() -> None:
    result = gymrun("inspect", "CartPole-v1")
    assert result.code == 0
    out = result.stdout
    assert "entry point       │ gymnasium.envs.classic_control.cartpole:CartPoleEnv" in out
    assert "Discrete  n=2, start=0" in out
    assert "Box  shape=[4], dtype=float32, low=[-4.8, -inf, -0.4189, -inf]" in out
    assert "reset(seed=0)" in out


def test_inspect_json_and_config(write_config: Callable[..., Path]) -> None:
    data = json.loads(gymrun("inspect", "Blackjack-v1", "--json").stdout)
    assert data["observation_space"]["type"] == "Tuple"
    assert [s["n"] for s in data["observation_space"]["spaces"]] == [32, 11, 2]
    path = write_config("env: CartPole-v1\nwrappers: [{name: frame_stack, stack_size: 3}]\n")
    stacked = json.loads(gymrun("inspect", "CartPole-v1", "--config", str(path), "--json").stdout)
    assert stacked["observation_space"]["shape"] == [3, 4]
    result = gymrun("inspect", "CartPol-v1")
    assert (result.code, result.stderr.strip()) == (
        2,
        "error: unknown environment 'CartPol-v1'; did you mean 'CartPole-v1'? "
        "(see gymrun list-envs)",
    )


def test_validate(write_config: Callable[..., Path]) -> None:
    result = gymrun("validate", str(CONFIGS / "cartpole_epsilon.yaml"))
    assert result.code == 0
    assert result.stdout.strip().endswith(
        "valid — CartPole-v1, wrappers: epsilon_random, agent: constant, 100 episodes"
    )
    # an action outside the space is found by building the agent, without running
    bad = write_config("env: CartPole-v1\nagent: {name: constant, action: 2}\n")
    result = gymrun("validate", str(bad))
    assert (result.code, result.stderr.strip()) == (
        2,
        "error: agent action: 2 is not an action of Discrete(2)",
    )


def test_schema_is_json_schema() -> None:
    schema = json.loads(gymrun("schema").stdout)
    assert schema["title"] == "gymrun experiment"
    assert "wrappers" in schema["properties"]


def test_version_and_help() -> None:
    assert gymrun("--version").stdout.strip() == f"gymrun {__version__}"
    help_text = gymrun("--help").stdout
    for command in ("run", "list-envs", "inspect", "validate", "schema"):
        assert command in help_text


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_argument_is_a_usage_error(command: str) -> None:
    assert gymrun(command).code == 2


def test_num_envs_and_workers_from_the_command_line() -> None:
    vector = json.loads(
        gymrun("run", CARTPOLE_RANDOM, "--num-envs", "8", "-n", "50", "--json").stdout
    )
    assert vector["config"]["vector"] == {"num_envs": 8, "mode": None}
    assert [e["episode"] for e in vector["episodes"]] == list(range(50))
    assert {e["seed"] for e in vector["episodes"]} == {None}
    serial = json.loads(gymrun("run", CARTPOLE_RANDOM, "-n", "60", "--json").stdout)
    parallel = json.loads(gymrun("run", CARTPOLE_RANDOM, "-n", "60", "--json", "-w", "2").stdout)
    assert parallel["episodes"] == serial["episodes"]
    assert parallel["summary"] == serial["summary"]
    result = gymrun("run", CARTPOLE_RANDOM, "--num-envs", "0")
    assert result.code == 2
    table = gymrun("run", CARTPOLE_RANDOM, "--num-envs", "4", "-n", "3").stdout
    assert re.search(r"│\s+0 │\s+— │", table)  # a vector env is seeded once, not per episode


@pytest.mark.filterwarnings("ignore:.*The reward is a NaN value:UserWarning")
def test_non_finite_rewards_are_reported_and_the_json_stays_json(
    write_config: Callable[..., Path],
) -> None:
    path = write_config(
        "env: {id: gymrun-test/Fake-v0, kwargs: {length: 2, reward: .nan}}\n"
        "agent: {name: constant, action: 0}\nepisodes: 3\nseed: 0\n"
    )
    result = gymrun("run", str(path), "-q")
    assert result.code == 0
    assert "non-finite │ 3 of 3 episodes had a NaN or infinite reward" in result.stdout

    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")

    data = json.loads(gymrun("run", str(path), "--json").stdout, parse_constant=refuse)
    assert [e["reward"] for e in data["episodes"]] == ["nan", "nan", "nan"]
    assert (data["summary"]["nonfinite_rewards"], data["summary"]["mean_reward"]) == (3, None)
    lines = Path(data["run_dir"], "episodes.jsonl").read_text().splitlines()
    assert json.loads(lines[0], parse_constant=refuse)["reward"] == "nan"
    assert "non-finite │ 3 of 3" in gymrun("show", data["run_dir"]).stdout


def test_unbounded_episodes_are_warned_about_before_running(
    write_config: Callable[..., Path],
) -> None:
    path = write_config("env: Blackjack-v1\nepisodes: 2\n")
    result = gymrun("run", str(path), "-q", "--no-record")
    assert result.code == 0
    assert result.stderr.splitlines()[0] == (
        "warning: Blackjack-v1 sets no limit on episode length and neither does the config: an "
        "episode that never ends would run forever (set max_steps to cap it)"
    )
    capped = gymrun("run", str(path), "-q", "--no-record", "--set", "max_steps=50")
    assert "warning" not in capped.stderr
    bounded = gymrun("run", CARTPOLE_RANDOM, "-q", "--no-record", "-n", "2")
    assert "warning" not in bounded.stderr


class _WrongShape(gym.Env):  # type: ignore[type-arg]
    """Observes four numbers while declaring two: Gymnasium's checker must catch it."""

    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):  # type: ignore[no-untyped-def]
        super().reset(seed=seed)
        return np.zeros(4, dtype=np.float32), {}

    def step(self, action):  # type: ignore[no-untyped-def]
        return np.zeros(4, dtype=np.float32), 0.0, True, False, {}


def test_check_runs_gymnasiums_checker_and_times_random_play() -> None:
    result = gymrun("check", "CartPole-v1", "--seconds", "0.1")
    assert result.code == 0
    assert "CartPole-v1 passes Gymnasium's environment checker" in result.stdout
    assert "A Box observation space minimum value is -infinity" in result.stdout
    assert re.search(r"random play: [\d,]+ steps/s", result.stdout)
    if "gymrun-test/WrongShape-v0" not in gym.registry:
        gym.register("gymrun-test/WrongShape-v0", entry_point=_WrongShape)
    broken = gymrun("check", "gymrun-test/WrongShape-v0", "--json")
    assert broken.code == 1
    report = json.loads(broken.stdout)
    assert report["passed"] is False
    assert "observation" in report["error"] and report["steps_per_second"] is None
