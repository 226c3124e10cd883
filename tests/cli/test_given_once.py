"""Nothing a user gives is dropped in silence: a section the command would not play, and a
setting given twice on one command line, are refused before anything runs (exit 2)."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gymrun import load_config, run_experiment
from gymrun.errors import ConfigError, UsageError
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

SWEEP = str(CONFIGS / "cartpole_epsilon_sweep.yaml")
RANDOM = str(CONFIGS / "cartpole_random.yaml")
BALANCE = str(CONFIGS / "cartpole_balance.yaml")


def test_run_of_a_sweep_config_is_refused_at_its_sweep_section() -> None:
    code, out, err = gymrun("run", SWEEP, "-n", "2", "-o", "one")
    assert (code, out) == (2, "")
    assert err == (
        f"error: {SWEEP}:13 sweep: a run plays one point, not a grid: use gymrun sweep "
        f"{SWEEP} for it, or --set sweep=null\n"
    )
    assert not Path("one").exists()
    # the way out it names: one run of the config's other settings
    code, _, err = gymrun("run", SWEEP, "-n", "2", "--set", "sweep=null", "--no-record")
    assert code == 0, err
    # a sweep given on the command line is told at the option
    code, _, err = gymrun("run", "CartPole-v1", "--set", "sweep.seeds=[1]", "--no-record")
    assert code == 2
    assert err.startswith("error: --set sweep.seeds=[1] sweep: a run plays one point")
    with pytest.raises(ConfigError, match=r"cartpole_epsilon_sweep.yaml:13 sweep: .*run_sweep"):
        load_config(SWEEP, episodes=1)
    # a config given a grid in Python is refused by the run itself
    config = load_config(RANDOM, episodes=1).model_copy(update={"sweep": {"seeds": [1, 2]}})
    with pytest.raises(UsageError, match=r"cartpole_random.yaml sweep: .*run_sweep"):
        run_experiment(config)


@pytest.fixture
def grid_of_envs(tmp_path: Path) -> str:
    """A sweep config whose grid gives each point its env: it has no env of its own."""
    path = tmp_path / "envs.yaml"
    path.write_text("episodes: 2\nsweep:\n  env: [CartPole-v1, Acrobot-v1]\n  seeds: [0]\n")
    return str(path)


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (
            ["run", "{}", "-o", "one"],
            "a run plays one point, not a grid: use gymrun sweep {} for it, or --set sweep=null",
        ),
        (
            ["inspect", "--config", "{}"],
            "inspect shows one config's env and spaces, not a "
            "grid's: gymrun validate {} checks each of its points",
        ),
        (
            ["duel", "{}", RANDOM, "-o", "one"],
            "a duel plays each config as it is, one run a "
            "seed, not a grid: give it a config of each point to compare, or --set sweep=null",
        ),
        (["duel", RANDOM, "{}", "-o", "one"], "a duel plays each config as it is"),
    ],
)
def test_a_sweep_config_whose_grid_gives_the_env_is_told_as_a_sweep(
    grid_of_envs: str, command: list[str], said: str
) -> None:
    code, out, err = gymrun(*(part.format(grid_of_envs) for part in command))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {grid_of_envs}:2 sweep: {said.format(grid_of_envs)}"), err
    assert err.count("\n") == 1 and "required key" not in err
    assert not Path("one").exists()
    # what it is, it is: the sweep and validate take it
    code, out, err = gymrun("validate", grid_of_envs)
    assert code == 0 and "CartPole-v1 / Acrobot-v1" in out, err


def test_a_sweep_of_a_config_without_a_grid_says_it_is_one_run(tmp_path: Path) -> None:
    code, out, err = gymrun("sweep", RANDOM, "--dry-run")
    assert (code, out) == (2, "")
    assert err == (
        f"error: {RANDOM}: not a sweep config: it has no 'sweep:' section (keys to lists of "
        f"values); gymrun run {RANDOM} plays it as one run\n"
    )


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["--set", "sweep.seeds=[1, 2]"], "--set sweep.seeds=[1, 2] sweep: a duel plays each"),
        (
            ["--set", "record.dataset=cartpole/one"],
            "--set record.dataset=cartpole/one record.dataset: a dataset is written by one run "
            "(gymrun run --dataset ID); a duel's runs would all write the same one",
        ),
        (
            ["--set", "seed=3", "--seed", "5"],
            "--set seed=3: a duel gives each run its own seed (--seed sets the first); drop it",
        ),
    ],
)
def test_duel_refuses_what_its_runs_would_not_play(given: list[str], said: str) -> None:
    code, out, err = gymrun("duel", RANDOM, BALANCE, "--set", "episodes=2", *given, "-o", "d")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {said}") and err.count("\n") == 1, err
    assert not Path("d").exists()


def test_duel_of_a_sweep_config_names_its_file_and_line() -> None:
    code, _, err = gymrun("duel", SWEEP, RANDOM, "--no-record")
    assert code == 2
    assert err.startswith(f"error: {SWEEP}:13 sweep: a duel plays each config as it is")


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["-n", "2", "--set", "episodes=3"], "--set episodes=3: --episodes sets episodes too"),
        (["--set", "seed=1", "--seed", "2"], "--set seed=1: --seed sets seed too"),
        (
            ["--num-envs", "2", "--set", "vector={num_envs: 4}"],
            "--set vector={num_envs: 4}: --num-envs sets vector.num_envs too",
        ),
        (
            ["--dataset", "cartpole/a", "--set", "record.dataset=cartpole/b"],
            "--set record.dataset=cartpole/b: --dataset sets record.dataset too",
        ),
        (
            ["--agent", "constant", "--set", "agent=random"],
            "--set agent=random: --agent constant sets agent.name too",
        ),
        (
            ["-W", "epsilon_random", "--set", "wrappers.0.name=scale_reward"],
            "--set wrappers.0.name=scale_reward: --wrapper epsilon_random sets wrappers.0.name too",
        ),
    ],
)
def test_run_refuses_one_setting_given_twice(given: list[str], said: str) -> None:
    code, out, err = gymrun("run", "CartPole-v1", *given, "--no-record")
    assert (code, out) == (2, "")
    assert err == f"error: {said}; give one of the two\n"


def test_run_takes_an_option_and_the_keywords_set_beside_it() -> None:
    given = ["-a", "constant", "--set", "agent.action=0", "-W", "epsilon_random"]
    given += ["--set", "wrappers.0.epsilon=0", "-n", "2", "--seed", "0", "--set", "max_steps=5"]
    code, _, err = gymrun("run", "CartPole-v1", *given, "--no-record")
    assert code == 0, err


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            ["--set", "wrappers.0.epsilon=0.3"],
            "--set wrappers.0.epsilon=0.3: sweep.wrappers.0.epsilon gives every run its "
            "wrappers.0.epsilon",
        ),
        (["--set", "seed=4"], "--set seed=4: sweep.seeds gives every run its seed"),
    ],
)
def test_sweep_refuses_a_setting_its_grid_gives(given: list[str], said: str) -> None:
    code, out, err = gymrun("sweep", SWEEP, *given, "--dry-run")
    assert (code, out) == (2, "")
    assert err == f"error: {said}; give one of the two\n"
    # replicates count up from the config's seed: a seed given is used
    code, out, err = gymrun(
        "sweep", SWEEP, "--set", "sweep.seeds=null", "--set", "sweep.replicates=2",
        "--set", "seed=4", "--dry-run", "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["seeds"] == [4, 5]


@pytest.mark.parametrize("dry_run", [["--dry-run"], ["--no-record", "--set", "episodes=1"]])
def test_a_wrong_grid_key_is_told_once_at_the_option(dry_run: list[str]) -> None:
    wrong = "sweep.wrappers.0.epsilonn=[0.1, 0.2]"
    code, out, err = gymrun("sweep", SWEEP, "--set", wrong, *dry_run)
    assert (code, out) == (2, "")
    assert err == (
        f"error: --set {wrong} wrappers.0.epsilonn: unknown key; did you mean 'epsilon'?\n"
    )


def test_a_wrong_grid_key_in_the_file_is_told_once_at_its_line(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config(
        "env: CartPole-v1\nagent: {name: constant, action: 0}\n"
        "sweep:\n  agent.actoin: [0, 1]\n  episodes: [1, 2]\n"
    )
    code, _, err = gymrun("sweep", str(path), "--dry-run")
    assert code == 2
    assert err == f"error: {path}:4 agent.actoin: unknown key; did you mean 'action'?\n"


@pytest.mark.parametrize(
    ("wrapper", "said"),
    [
        (
            "{name: TransformReward, func: 1}",
            "wrappers.0.func: func of TransformReward takes a function, which a config cannot give",
        ),
        (
            "{name: TransformReward, func: 'math:fabs'}",
            "wrappers.0.func: func of TransformReward takes a function",
        ),
        (
            "{name: TimeLimit, max_episode_steps: ten}",
            "wrappers.0.max_episode_steps: max_episode_steps of TimeLimit takes an integer, "
            "not 'ten'",
        ),
    ],
)
def test_a_wrapper_value_its_class_cannot_take_is_placed_before_anything_runs(
    write_config: Callable[[str], Path], wrapper: str, said: str
) -> None:
    path = write_config(f"env: CartPole-v1\nepisodes: 2\nwrappers:\n  - {wrapper}\n")
    for command in ("validate", "run"):
        code, out, err = (
            gymrun(command, str(path), "-o", "r")
            if command == "run"
            else gymrun(command, str(path))
        )
        assert (code, out) == (2, ""), (command, err)
        assert err.startswith(f"error: {path}:4 {said}") and err.count("\n") == 1, err
    assert not Path("r").exists()


def test_an_env_keyword_of_the_wrong_kind_is_told_at_the_option() -> None:
    code, _, err = gymrun("run", "CartPole-v1", "--set", "env.kwargs.render_mode=1")
    assert code == 2
    assert err == (
        "error: --set env.kwargs.render_mode=1 env.kwargs.render_mode: render_mode of "
        "CartPole-v1 takes a string or null, not 1\n"
    )
