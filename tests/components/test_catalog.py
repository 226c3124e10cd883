import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

from gymrun.components.catalog import find_spec, list_envs
from gymrun.errors import GymrunError, UnknownNameError
from tests.support.cli import gymrun
from tests.support.processes import TIMEOUT, pip_install


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


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("Pong-v5", "'ALE/Pong-v5'?"),  # the namespace left out
        ("Atari/Pong-v5", "'ALE/Pong-v5'?"),  # the wrong namespace
        ("ale/pong-v5", "'ALE/Pong-v5'?"),  # other capitals
        ("Pnog-v5", "'ALE/Pong-v5'?"),  # a slip in the name
        ("ALE/Pong-v4", "'Pong-v4' or 'ALE/Pong-v5'?"),  # that version elsewhere, or this one
        ("LunarLander-v2", "'LunarLander-v3'?"),  # a version that is gone
        ("Acrobot-v9", "'Acrobot-v1'?"),
        ("CartPole-v9", "'CartPole-v1', 'phys2d/CartPole-v1', 'CartPole-v0' or "),  # newest first
        ("pong", "'ALE/Pong-v5' or 'Pong-v4'?"),  # a bare name: the newest in each namespace
        ("Breakout", "'ALE/Breakout-v5' or 'Breakout-v4'?"),
        ("cartpole", "'CartPole-v1' or 'phys2d/CartPole-v1'?"),
        ("halfcheetah", "'HalfCheetah-v5'?"),
        ("HalfCheetah", "'HalfCheetah-v5'?"),
    ],
)
def test_a_near_miss_suggests_the_ids_it_nearly_names(typed: str, suggested: str) -> None:
    with pytest.raises(UnknownNameError) as caught:
        find_spec(typed)
    assert str(caught.value).startswith(f"unknown environment '{typed}'; did you mean {suggested}")


def test_nothing_like_a_registered_id_suggests_nothing() -> None:
    with pytest.raises(UnknownNameError) as caught:
        find_spec("Zzyzx-v3")
    assert str(caught.value) == "unknown environment 'Zzyzx-v3' (see gymrun list-envs)"


@pytest.mark.parametrize(
    "command",
    [
        ["inspect", "Pong-v5"],
        ["check", "Pong-v5"],
        ["run", "Pong-v5", "-n", "1", "--no-record"],
    ],
)
def test_every_command_that_takes_an_id_suggests_the_near_miss(command: list[str]) -> None:
    code, stdout, stderr = gymrun(*command)
    assert code == 2 and stdout == ""
    assert "'Pong-v5'; did you mean 'ALE/Pong-v5'? (see gymrun list-envs)\n" in stderr
    assert len(stderr.splitlines()) == 1


def test_baselines_of_a_pattern_that_matches_nothing_suggest_the_near_miss() -> None:
    code, _, stderr = gymrun("baselines", "Pnog-v5", "--no-record")
    assert code == 2
    assert stderr == (
        "error: no registered environment matches 'Pnog-v5'; did you mean 'ALE/Pong-v5'? "
        "(see gymrun list-envs)\n"
    )


def test_a_config_naming_a_near_miss_is_told_where(tmp_path: Path) -> None:
    config = tmp_path / "pong.yaml"
    config.write_text("agent: random\nenv: pong\n")
    code, _, stderr = gymrun("validate", str(config))
    assert code == 2
    assert stderr == (
        f"error: {config}:2 env.id: unknown environment 'pong'; "
        "did you mean 'ALE/Pong-v5' or 'Pong-v4'? (see gymrun list-envs)\n"
    )


BLOCKING = """import runpy, sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # as if not installed: importing it raises ImportError
sys.argv = ["gymrun", *sys.argv[2:]]
runpy.run_module("gymrun", run_name="__main__")
"""


def gymrun_without(modules: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``gymrun ARGS`` in a process of its own in which `modules` cannot be imported."""
    return subprocess.run(
        [sys.executable, "-c", BLOCKING, modules, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize(
    ("blocked", "args", "family", "extra"),
    [
        ("ale_py", ["inspect", "ALE/Pong-v5"], "Atari environment 'ALE/Pong-v5'", "atari"),
        ("ale_py", ["run", "Pong-v5", "-n", "1"], "Atari environment 'Pong-v5'", "atari"),
        ("ale_py", ["check", "pong"], "Atari environment 'pong'", "atari"),
        ("ale_py", ["inspect", "PongNoFrameskip-v4"], "Atari environment 'Pong", "atari"),
        ("ale_py", ["baselines", "ALE/Pong-v5"], "Atari environment 'ALE/Pong-v5'", "atari"),
        ("mujoco", ["run", "HalfCheetah-v5", "-n", "1"], "MuJoCo environment", "mujoco"),
        ("Box2D", ["inspect", "LunarLander-v3"], "Box2D environment 'LunarLander-v3'", "box2d"),
    ],
)
def test_an_env_whose_package_is_missing_says_how_to_install_it(
    tmp_path: Path, blocked: str, args: list[str], family: str, extra: str
) -> None:
    result = gymrun_without(blocked, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and family in result.stderr
    module = {"atari": "ale_py", "mujoco": "mujoco", "box2d": "Box2D"}[extra]
    assert f"needs the {module} package, which is not installed (install it: " in result.stderr
    assert result.stderr.endswith(f"{pip_install(f'gymrun[{extra}]')})\n")
    assert len(result.stderr.splitlines()) == 1
    assert not [path for path in tmp_path.rglob("*") if not path.is_dir()]  # nothing recorded


def test_a_config_of_a_missing_plugin_says_how_to_install_it(tmp_path: Path) -> None:
    (tmp_path / "pong.yaml").write_text("env: ALE/Pong-v5\nagent: random\n")
    result = gymrun_without("ale_py", "validate", "pong.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: pong.yaml:1 env.id: Atari environment 'ALE/Pong-v5' needs the ale_py package"
    )
    assert result.stderr.endswith(f"{pip_install('gymrun[atari]')})\n")
