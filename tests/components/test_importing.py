"""What a config can make gymrun do: run the code it names as agents, wrappers and envs, and
nothing else; modules are found where the user put them, never in place of installed ones."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

WriteConfig = Callable[..., Path]


@pytest.mark.parametrize("command", [["validate"], ["run"], ["sweep", "--dry-run"]])
def test_a_standard_library_class_is_never_called(
    write_config: WriteConfig, tmp_path: Path, command: list[str]
) -> None:
    marker = tmp_path / "shell-ran"
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    for agent in (
        f'{{name: "subprocess:Popen", args: "touch {marker}", shell: true}}',
        f'{{name: "logging:FileHandler", filename: "{victim}", mode: w}}',
    ):
        # (a run refuses a sweep's config before reading its agent: the sweep's own here)
        grid = "sweep: {episodes: [1]}\n" if command[0] == "sweep" else ""
        path = write_config(f"env: CartPole-v1\nagent: {agent}\n{grid}")
        code, _, err = gymrun(*command, str(path))
        assert code == 2
        assert "part of Python's standard library, which provides no agents" in err
    assert not marker.exists()
    assert victim.read_text() == "keep me"


def test_a_class_without_act_is_not_an_agent_and_is_never_built(
    write_config: WriteConfig, user_module: Callable[[str], str], tmp_path: Path
) -> None:
    marker = tmp_path / "built"
    module = user_module(
        f"class Tool:\n    def __init__(self):\n        open({str(marker)!r}, 'w').close()\n"
    )
    path = write_config(f"env: CartPole-v1\nagent: '{module}:Tool'\n")
    code, _, err = gymrun("run", str(path), "--no-record")
    assert (code, err.strip()) == (
        2,
        f"error: {path}:2 agent.name: '{module}:Tool' is a class without an act(observation) "
        "method, so not an agent",
    )
    assert not marker.exists()


def test_imports_of_the_standard_library_are_refused(write_config: WriteConfig) -> None:
    path = write_config("imports: [this]\nenv: CartPole-v1\n")  # `this` prints when imported
    code, out, err = gymrun("validate", str(path))
    assert (code, out) == (2, "")
    assert "imports.0: 'this' is part of Python's standard library" in err
    assert "Beautiful is better than ugly" not in err


def test_validate_builds_no_code_of_yours_and_says_what_it_did_not_check(
    write_config: WriteConfig, user_module: Callable[[str], str], tmp_path: Path
) -> None:
    marker = tmp_path / "built"
    module = user_module(
        f"class Agent:\n    def __init__(self):\n        open({str(marker)!r}, 'w').close()\n"
        "    def act(self, observation):\n        return 0\n"
    )
    path = write_config(f"env: CartPole-v1\nagent: '{module}:Agent'\n")
    code, out, err = gymrun("validate", str(path))
    assert code == 0
    assert out.strip().endswith(
        f"valid — CartPole-v1, wrappers: none, agent: {module}:Agent, 100 episodes"
    )
    assert err.strip() == (
        f"note: not built, so not checked beyond its keywords: agent {module}:Agent "
        "(its code is not gymrun's or Gymnasium's)"
    )
    assert not marker.exists()
    assert gymrun("run", str(path), "-n", "1", "--no-record", "-q")[0] == 0
    assert marker.exists()  # a run builds it: that is what the config asked for


def test_a_module_in_the_working_directory_never_stands_in_for_an_installed_one(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "impostor-ran"
    (tmp_path / "matplotlib.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (tmp_path / "yaml.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    config = str(CONFIGS / "cartpole_random.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "gymrun", "run", config, "-n", "3", "-q", "-o", "run"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "recorded in run"
    assert not marker.exists()
    assert (tmp_path / "run" / "reward.png").read_bytes()[:4] == b"\x89PNG"


def test_modules_beside_the_config_are_found_from_anywhere(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "beside_agents.py").write_text(
        "class Right:\n    def act(self, observation):\n        return 1\n"
    )
    (project / "run.yaml").write_text(
        "env: CartPole-v1\nagent: 'beside_agents:Right'\nepisodes: 2\nseed: 0\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    command = [sys.executable, "-m", "gymrun", "run", str(project / "run.yaml"), "-q"]
    result = subprocess.run(
        [*command, "--no-record"], cwd=elsewhere, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    (project / "beside_agents.py").unlink()
    missing = subprocess.run(command, cwd=elsewhere, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert missing.stderr == (
        f"error: {project / 'run.yaml'}:2 agent.name: cannot import module 'beside_agents': "
        f"no installed package has it, and there is no beside_agents.py or beside_agents/ in "
        f"{project} or {elsewhere}\n"
    )
    assert not os.listdir(elsewhere)
