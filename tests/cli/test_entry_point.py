"""gymrun as a real process: the entry point, real exit codes, and stdout that stays JSON."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.paths import CONFIGS
from tests.support.processes import finished, on_a_terminal, run_gymrun, start_gymrun


def test_module_help() -> None:
    result = run_gymrun("--help")
    assert result.returncode == 0
    assert "Usage: gymrun" in result.stdout


def test_run_in_a_subprocess_matches_the_json(tmp_path: Path) -> None:
    config = str(CONFIGS / "cartpole_random.yaml")
    result = run_gymrun("run", config, "--json", "-n", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [e["steps"] for e in data["episodes"]] == [41, 22, 36, 18, 25]
    [run_dir] = (tmp_path / "recordings" / "cartpole_random").iterdir()
    assert data["run_dir"] == str(run_dir.relative_to(tmp_path))


def test_bad_input_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("env: CartPole-v1\nepisodes: many\n")
    result = run_gymrun("run", str(config))
    assert result.returncode == 2
    assert result.stderr == f"error: {config}:2 episodes: expected an integer, not 'many'\n"


def test_the_progress_bar_on_a_real_terminal_shows_the_runs_name(tmp_path: Path) -> None:
    config = str(CONFIGS / "cartpole_balance.yaml")
    code, text = on_a_terminal("run", config, "-n", "300", "--no-record", cwd=tmp_path)
    assert code == 0, text
    assert "/300" in text  # the bar was drawn: episodes done of 300
    assert "cartpole_balance" in text.split("/300")[0]  # its label, before the count
    assert "[progress.description]" not in text


WriteConfig = Callable[..., Path]


def test_json_stays_the_only_thing_on_stdout_whatever_user_code_prints(
    write_config: WriteConfig, user_module: Callable[[str], str], tmp_path: Path
) -> None:
    module = user_module(
        """
        import os
        print("importing, loudly")
        class Chatty:
            def act(self, observation):
                print("acting")
                os.write(1, b"straight to the descriptor\\n")
                return 0
        """
    )
    path = write_config(
        f"env: CartPole-v1\nagent: '{module}:Chatty'\nepisodes: 2\nreward_boundary: .inf\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "gymrun", "run", str(path), "--json", "--no-record"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert (
        result.returncode == 2
        and "reward_boundary: Input should be a finite number" in result.stderr
    )
    path.write_text(path.read_text().replace("reward_boundary: .inf\n", ""))
    result = subprocess.run(
        [sys.executable, "-m", "gymrun", "run", str(path), "--json", "--no-record"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr

    def refuse(constant: str) -> None:
        raise AssertionError(constant)

    document = json.loads(result.stdout, parse_constant=refuse)
    assert document["summary"]["count"] == 2
    assert "acting" in result.stderr and "straight to the descriptor" in result.stderr
    assert "importing, loudly" in result.stderr


def _to_nobody(*args: str, cwd: Path) -> tuple[int, str]:
    """gymrun with stdout a pipe whose reader has already gone (``| head`` once head has
    read its lines): its exit code and stderr."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        child = start_gymrun(*args, cwd=cwd, stdout=writer)
    finally:
        os.close(writer)
    code, _, err = finished(child)
    return code, err


def test_output_nobody_reads_ends_the_command_quietly(tmp_path: Path) -> None:
    config = str(CONFIGS / "cartpole_random.yaml")
    assert run_gymrun("run", config, "-n", "3", "-o", "run", cwd=tmp_path).returncode == 0
    # rich's tables and help, and what is written otherwise (JSON, the schema)
    for args in (("sweep", "--help"), ("show", "run"), ("show", "run", "--json"), ("schema",)):
        assert _to_nobody(*args, cwd=tmp_path) == (1, ""), args


def test_a_run_whose_output_nobody_reads_is_recorded_whole(tmp_path: Path) -> None:
    config = str(CONFIGS / "cartpole_random.yaml")
    assert _to_nobody("run", config, "-n", "300", "-o", "run", "--json", cwd=tmp_path) == (1, "")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["status"], summary["count"]) == ("completed", 300)
    assert len((tmp_path / "run" / "episodes.jsonl").read_text().splitlines()) == 300
