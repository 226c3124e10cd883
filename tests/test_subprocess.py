"""gymrun as a real process: the entry point, real exit codes, a real Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .conftest import CONFIGS, ROOT


def run_gymrun(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gymrun", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


def test_module_help() -> None:
    result = run_gymrun("--help")
    assert result.returncode == 0
    assert "Usage: gymrun" in result.stdout


def test_run_in_a_subprocess_matches_the_json() -> None:
    result = run_gymrun("run", "configs/cartpole_random.yaml", "--json", "-n", "5")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [e["steps"] for e in data["episodes"]] == [9, 15, 30, 12, 38]


def test_bad_input_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("env: CartPole-v1\nepisodes: many\n")
    result = run_gymrun("run", str(config))
    assert result.returncode == 2
    assert result.stderr == f"error: {config}:2 episodes: Input should be a valid integer\n"


def test_sigint_exits_130_and_prints_the_summary(tmp_path: Path) -> None:
    # cartpole_balance runs 500-step episodes: long enough to be interrupted mid-run
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gymrun",
            "run",
            str(CONFIGS / "cartpole_balance.yaml"),
            "-n",
            "100000",
            "-q",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "status   │ interrupted" in stdout
    assert "Traceback" not in stderr
    finished = int(stderr.split("interrupted after ")[1].split()[0])
    assert finished > 0
    assert f"episodes │ {finished} of 100000" in stdout
