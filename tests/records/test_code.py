"""``code/``: a run keeps a copy of the user's own modules it imported, and its
``config.yaml`` runs that copy from anywhere, refused when the copy was changed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import run_gymrun

AGENT = """\
from .lean import lean


class Lean:
    def __init__(self, action_space):
        self.action_space = action_space

    def act(self, observation):
        return lean(observation)
"""
CONFIG = """\
name: leaning
env: CartPole-v1
agent: {name: "my_agents.agent:Lean"}
wrappers: [{name: TimeLimit, max_episode_steps: 60}, {name: "shaping:Halved"}]
episodes: 6
seed: 5
"""
SHAPING = """\
import gymnasium


class Halved(gymnasium.RewardWrapper):
    def reward(self, reward):
        return reward / 2
"""


def gymrun_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A new process in `cwd`: only what is there (or copied into a run) can be imported."""
    return run_gymrun(*args, cwd=cwd, env={**os.environ, "COLUMNS": "200"})


def rewards(run_dir: Path) -> list[tuple[float, float]]:
    lines = (run_dir / "episodes.jsonl").read_text().splitlines()
    return [(e["reward"], e["shaped_reward"]) for e in map(json.loads, lines)]


@pytest.fixture
def project_run(tmp_path: Path) -> Path:
    """A run of a config naming a package and a module of the user's, made in ``project/``."""
    project = tmp_path / "project"
    (project / "my_agents").mkdir(parents=True)
    (project / "my_agents" / "__init__.py").write_text("")
    (project / "my_agents" / "agent.py").write_text(AGENT)
    (project / "my_agents" / "lean.py").write_text("def lean(o):\n    return int(o[2] > 0)\n")
    (project / "shaping.py").write_text(SHAPING)
    (project / "run.yaml").write_text(CONFIG)
    result = gymrun_in(project, "run", "run.yaml", "-o", "../first", "-q")
    assert result.returncode == 0, result.stderr
    return tmp_path / "first"


def test_a_run_keeps_a_copy_of_the_users_modules(project_run: Path) -> None:
    copied = sorted(p.relative_to(project_run).as_posix() for p in project_run.rglob("*.py"))
    # the user's package and module, as they were; gymnasium (TimeLimit) is not the user's
    assert copied == [
        "code/my_agents/__init__.py",
        "code/my_agents/agent.py",
        "code/my_agents/lean.py",
        "code/shaping.py",
    ]
    project = project_run.parent / "project"
    assert (project_run / "code" / "shaping.py").read_bytes() == (
        project / "shaping.py"
    ).read_bytes()
    meta = json.loads((project_run / "meta.json").read_text())
    assert set(meta["code"]) == {"my_agents", "shaping"}


def test_the_saved_config_reproduces_the_run_from_anywhere(project_run: Path) -> None:
    elsewhere = project_run.parent / "elsewhere"
    elsewhere.mkdir()
    result = gymrun_in(elsewhere, "run", str(project_run / "config.yaml"), "-o", "again", "-q")
    assert result.returncode == 0, result.stderr
    assert rewards(elsewhere / "again") == rewards(project_run)
    assert len(rewards(project_run)) == 6
    # the reproduction is a record like its original: its copy and hashes are the same
    meta = json.loads((elsewhere / "again" / "meta.json").read_text())
    assert meta["code"] == json.loads((project_run / "meta.json").read_text())["code"]
    assert (elsewhere / "again" / "code" / "my_agents" / "lean.py").is_file()
    # so is resuming it there, with no config given
    again = elsewhere / "again"
    lines = (again / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    (again / "episodes.jsonl").write_bytes(b"".join(lines[:2]))
    summary = json.loads((again / "summary.json").read_text())
    (again / "summary.json").write_text(json.dumps(summary | {"status": "interrupted"}))
    result = gymrun_in(elsewhere.parent, "run", "--resume", str(again), "-q")
    assert result.returncode == 0, result.stderr
    assert "resumed from episode 2" in result.stderr
    assert rewards(again) == rewards(project_run)


def test_a_changed_copy_is_refused(project_run: Path) -> None:
    lean = project_run / "code" / "my_agents" / "lean.py"
    lean.write_text("def lean(o):\n    return 0\n")
    elsewhere = project_run.parent / "elsewhere"
    elsewhere.mkdir()
    result = gymrun_in(elsewhere, "run", str(project_run / "config.yaml"), "-o", "again")
    assert result.returncode == 2
    assert result.stderr == (
        f"error: {project_run}/code/my_agents: not the code the run ran (it hashes to "
        f"sha256:{_hash_of(result.stderr, 0)}..., meta.json records "
        f"sha256:{_hash_of(result.stderr, 1)}...); it is not run\n"
    )
    assert list(elsewhere.iterdir()) == []
    (project_run / "code" / "shaping.py").unlink()
    lean.unlink()  # a copy that is missing is refused too
    result = gymrun_in(elsewhere, "run", str(project_run / "config.yaml"))
    assert result.returncode == 2 and "not the code the run ran" in result.stderr


def _hash_of(text: str, number: int) -> str:
    return text.split("sha256:")[number + 1][:12]


def test_a_config_yaml_of_the_users_own_beside_a_code_folder_is_theirs(tmp_path: Path) -> None:
    # not a run's directory: its code/ is the user's project, not a copy to check
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "notes.py").write_text("")
    (tmp_path / "config.yaml").write_text("env: CartPole-v1\nepisodes: 2\n")
    result = gymrun_in(tmp_path, "run", "config.yaml", "--no-record", "-q")
    assert result.returncode == 0, result.stderr
