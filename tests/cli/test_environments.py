"""`gymrun list-envs` and `gymrun inspect` as a user meets them: which envs run here and
their spaces, configs and plugin modules, and what a pattern or ID that fits nothing says."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import run_gymrun

CORRIDOR = """
import gymnasium as gym


class Corridor(gym.Env):
    def __init__(self):
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Discrete(5)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return 0, {}

    def step(self, action):
        return 0, 0.0, True, False, {}


gym.register("{env_id}", entry_point=Corridor, max_episode_steps=20)
"""


def test_list_envs_shows_spaces_and_what_runs_here() -> None:
    code, out, _ = gymrun("list-envs", "CartPole-v*")
    assert code == 0
    row = next(line for line in out.splitlines() if "CartPole-v1 " in line)
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells == [
        "",
        "CartPole-v1",
        "✓",
        "Discrete(2)",
        "Box(shape=(4,), dtype=float32)",
        "500",
        "475",
    ]
    assert "2 environments, all run here" in out


def test_list_envs_says_which_cannot_run_and_how_to_install_them() -> None:
    # Gymnasium keeps the MuJoCo v2 IDs only to say where they went: they never run here
    code, out, _ = gymrun("list-envs", "Hopper")
    assert code == 0
    rows = {
        line.split("│")[2].strip(): line.split("│")[3].strip()
        for line in out.splitlines()
        if "Hopper-v" in line
    }
    assert rows["Hopper-v2"] == "✗" and rows["Hopper-v5"] == "✓"
    assert "✗ MuJoCo (2): ImportError: The mujoco v2 and v3 based environments" in out
    assert "pip install gymnasium-robotics mujoco-py" in out
    document = json.loads(gymrun("list-envs", "Hopper-v", "--json")[1])
    by_id = {env["id"]: env for env in document}
    assert by_id["Hopper-v5"]["runs"] and by_id["Hopper-v5"]["action_space"].startswith("Box(")
    assert not by_id["Hopper-v3"]["runs"] and "gymnasium-robotics" in by_id["Hopper-v3"]["problem"]


def test_a_pattern_that_matches_nothing_exits_1() -> None:
    code, out, err = gymrun("list-envs", "NoSuchEnv")
    assert (code, out) == (1, "")
    assert err.strip() == "no registered environment matches 'NoSuchEnv'"


def test_an_empty_config_env_or_pattern_is_refused_not_read_as_this_folder() -> None:
    # an unset shell variable: run would read '' as the current folder, a pattern match all
    for args, name in [
        (["run", ""], "'CONFIG_OR_ENV'"),
        (["run", "--resume", "recordings/x", ""], "'CONFIG_OR_ENV'"),
        (["inspect", ""], "'ENV_ID'"),
        (["check", ""], "'ENV_ID'"),
        (["list-envs", ""], "'PATTERN'"),
        (["baselines", ""], "'PATTERN'"),
    ]:
        code, out, err = gymrun(*args)
        assert (code, out) == (2, ""), args
        assert err == (
            f"error: Invalid value for {name}: an empty argument (see gymrun {args[0]} --help)\n"
        )
    assert not Path("recordings").exists()


def test_the_whole_list_leaves_atari_spaces_to_a_pattern() -> None:
    code, out, _ = gymrun("list-envs")
    assert code == 0
    pong = next(line for line in out.splitlines() if "│ Pong-v4 " in line)
    assert pong.split("│")[3].strip() == "✓" and pong.split("│")[4].strip() == ""
    mountain = next(line for line in out.splitlines() if "│ MountainCar-v0 " in line)
    assert mountain.split("│")[4].strip() == "Discrete(3)"
    pong = next(
        line for line in gymrun("list-envs", "Pong-v4")[1].splitlines() if "Pong-v4" in line
    )
    assert pong.split("│")[4].strip() == "Discrete(6)"


def test_native_banners_stay_off_the_terminal() -> None:
    # ALE prints a banner and MuJoCo compiler notes from C when an env is made
    result = subprocess.run(
        [sys.executable, "-m", "gymrun", "list-envs", "Humanoid*"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "WARNING" not in result.stdout


def test_inspect_takes_the_env_from_a_config() -> None:
    code, out, _ = gymrun("inspect", "--config", str(CONFIGS / "cartpole_epsilon.yaml"))
    assert code == 0
    assert out.startswith("CartPole-v1")
    assert "epsilon_random" in out  # the config's wrapper stack


def test_inspect_refuses_an_id_the_config_is_not_about() -> None:
    config = str(CONFIGS / "cartpole_epsilon.yaml")
    code, out, err = gymrun("inspect", "MountainCar-v0", "--config", config)
    assert code == 2 and out == ""
    assert err.strip() == (
        f"error: inspect MountainCar-v0: {config} is a config of CartPole-v1; "
        "leave the ID out, or give CartPole-v1"
    )
    code, _, err = gymrun("inspect")
    assert (
        code == 2 and err.strip() == "error: inspect: name an environment ID, or give --config FILE"
    )


def test_plugin_envs_are_visible_through_imports_and_import(
    write_config: Callable[..., Path], user_module: Callable[[str], str]
) -> None:
    module = user_module(CORRIDOR.replace("{env_id}", "CorridorA-v0"))
    config = write_config(f"imports: [{module}]\nenv: CorridorA-v0\n")
    code, out, _ = gymrun("inspect", "--config", str(config))
    assert code == 0 and out.startswith("CorridorA-v0")
    other = user_module(CORRIDOR.replace("{env_id}", "CorridorB-v0"))
    assert gymrun("list-envs", "CorridorB")[0] == 1  # not registered until imported
    code, out, _ = gymrun("list-envs", "CorridorB", "--import", other)
    assert code == 0
    row = next(line for line in out.splitlines() if "CorridorB-v0" in line)
    assert [c.strip() for c in row.split("│")[3:5]] == ["✓", "Discrete(2)"]
    code, out, _ = gymrun("inspect", "CorridorB-v0", "--import", other, "--json")
    assert code == 0 and json.loads(out)["observation_space"]["n"] == 5
    code, _, err = gymrun("list-envs", "--import", "no_such_module_here")
    assert code == 2 and err.startswith("error: cannot import module 'no_such_module_here'")
    third = user_module(CORRIDOR.replace("{env_id}", "CorridorC-v0"))
    code, out, err = gymrun("check", "CorridorC-v0", "--import", third, "--seconds", "0.05")
    assert code == 0 and out.startswith("CorridorC-v0 passes Gymnasium's environment checker"), err


def test_a_mujoco_run_writes_nothing_outside_its_directory(tmp_path: Path) -> None:
    # left to itself MuJoCo appends its warnings to MUJOCO_LOG.TXT in the working directory
    code, _, _ = gymrun("run", "HalfCheetah-v4", "-n", "1", "-o", "run", "-q")
    assert code == 0
    assert gymrun("list-envs", "HalfCheetah-v4")[0] == 0
    assert gymrun("inspect", "HalfCheetah-v4")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_every_command_makes_an_old_version_without_gymnasiums_raw_warnings(
    write_config: Callable[..., Path],
) -> None:
    # a process each: Gymnasium warns once per process
    for args in (["inspect", "CartPole-v0"], ["check", "CartPole-v0", "--seconds", "0.05"]):
        result = run_gymrun(*args)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", args
    result = run_gymrun("check", "Humanoid-v2")
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("error: cannot make Humanoid-v2: ImportError: ")
    assert "(install it: " in result.stderr and "gymnasium-robotics" in result.stderr


def test_a_render_mode_the_env_does_not_have_is_refused_at_its_place(
    write_config: Callable[..., Path],
) -> None:
    config = write_config("env: {id: CartPole-v1, kwargs: {render_mode: foo}}\n")
    said = (
        f"error: {config}:1 env.kwargs.render_mode: CartPole-v1 has no render mode 'foo' "
        "(it has human, rgb_array)\n"
    )
    for args in (["validate"], ["run", "--no-record"], ["run", "--no-record", "--num-envs", "2"]):
        result = run_gymrun(*args, str(config))
        assert (result.returncode, result.stdout, result.stderr) == (2, "", said), args


def test_validate_takes_a_sweep_whose_grid_gives_each_point_its_env(
    write_config: Callable[..., Path],
) -> None:
    # the sweep runs; validate called it invalid ("env: required key is missing")
    config = write_config(
        "name: tasks\nagent: random\nepisodes: 2\nsweep:\n  env: [CartPole-v1, Acrobot-v1]\n"
    )
    code, out, err = gymrun("validate", str(config))
    assert (code, err) == (0, "")
    assert out == (
        f"{config}: valid — CartPole-v1 / Acrobot-v1, wrappers: none, agent: random, "
        "2 episodes, sweep: 2 points, 1 seed each\n"
    )
    assert gymrun("sweep", str(config), "--dry-run").code == 0
    # a point the grid makes wrong is named, as the sweep names it
    config.write_text(config.read_text().replace("Acrobot-v1", "Nope-v0"))
    code, out, err = gymrun("validate", str(config))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {config} point 1 (env='Nope-v0') env.id: unknown environment")


def test_list_envs_json_is_an_array_even_when_nothing_matches() -> None:
    code, out, err = gymrun("list-envs", "NoSuchEnv", "--json")
    assert (code, json.loads(out)) == (1, [])
    assert err.strip() == "no registered environment matches 'NoSuchEnv'"
    help_text = gymrun("list-envs", "--help", env={"COLUMNS": "300"}).stdout
    assert "Print one JSON array, an object per environment" in help_text
