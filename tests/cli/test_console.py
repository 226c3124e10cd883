"""Terminals that cannot encode every character (ASCII, Latin-1): every command still does
its work and says what it did, in ASCII boxes and stand-ins, with its usual exit status."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import typer

from gymrun.cli.console import exit_for
from gymrun.errors import ExitStatus
from tests.support.processes import run_gymrun

SWEEP = """\
env: CartPole-v1
agent: {name: constant, action: 0}
wrappers: [{name: epsilon_random, epsilon: 0.5}]
episodes: 2
sweep:
  wrappers.0.epsilon: [0.0, 1.0]
  seeds: [0]
"""


def gymrun_in(encoding: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``gymrun ARGS`` on a terminal of `encoding`, its output read back in that encoding."""
    env = {**os.environ, "PYTHONIOENCODING": encoding, "COLUMNS": "200"}
    return run_gymrun(*args, cwd=cwd, env=env, encoding=encoding)


def clean(result: subprocess.CompletedProcess[str], code: int = 0) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    for sign in ("Traceback", "UnicodeEncodeError", "PYTHONIOENCODING", "Warning"):
        assert sign not in output, output
    return output


@pytest.mark.parametrize("encoding", ["ascii", pytest.param("latin-1", marks=pytest.mark.slow)])
def test_every_command_works_on_a_terminal_that_cannot_encode_its_symbols(
    tmp_path: Path, encoding: str
) -> None:
    (tmp_path / "sweep.yaml").write_text(SWEEP)
    for name in ("a", "b"):
        result = gymrun_in(
            encoding, "run", "CartPole-v1", "-n", "3", "--seed", "0", "-o", name, cwd=tmp_path
        )
        output = clean(result)
        assert f"recorded in {name}" in result.stderr
        assert "| reached |" in output  # rich's ASCII boxes
        assert "terminated |    x    |" in output  # ✗, not reached
        assert "25 ~ 11" in output or "25 ± 11" in output  # ± where Latin-1 has it
        assert (tmp_path / name / "summary.json").is_file()
    output = clean(gymrun_in(encoding, "show", "a", cwd=tmp_path))
    assert "| verdict  | not reached on average: mean 25" in output
    assert "< 475 over 3 episodes" in output
    output = clean(gymrun_in(encoding, "compare", "a", "b", cwd=tmp_path))
    assert " 25 ~ 11 * |" in output or " 25 ± 11 * |" in output  # ★: the best
    output = clean(gymrun_in(encoding, "sweep", "sweep.yaml", "-o", "swept", cwd=tmp_path))
    assert "recorded in swept" in output
    assert (tmp_path / "swept").is_dir()
    baselines = ("baselines", "CartPole-v1", "-n", "2", "-o", "base")
    output = clean(gymrun_in(encoding, *baselines, cwd=tmp_path))
    assert "| CartPole-v1 |" in output.replace("  ", "")
    output = clean(gymrun_in(encoding, "list-envs", "CartPole", cwd=tmp_path))
    assert "| CartPole-v1 " in output
    assert "|  v   |" in output  # ✓: it runs here


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_an_error_naming_characters_the_terminal_lacks_is_one_line(
    tmp_path: Path, encoding: str
) -> None:
    result = gymrun_in(encoding, "run", "CartPöle—v1", cwd=tmp_path)
    clean(result, 2)
    assert result.stdout == ""
    shown = "CartP?le-v1" if encoding == "ascii" else "CartPöle-v1"
    assert result.stderr == (
        f"error: {shown}: not a config file, and unknown environment '{shown}'; did you mean"
        " 'CartPole-v1'? (see gymrun list-envs)\n"
    )


def test_a_terminal_that_can_encode_everything_is_shown_everything(tmp_path: Path) -> None:
    result = gymrun_in("utf-8", "run", "CartPole-v1", "-n", "3", "--seed", "0", cwd=tmp_path)
    output = clean(result)
    assert "│ reward   │ 25 ± 11  (min 11, max 39)" in output
    assert "✗" in output


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (
            MemoryError(),
            "error: unexpected MemoryError: out of memory (a limit on it, such as ulimit -v or"
            " a job's, may be too low) (run with --debug for the traceback)",
        ),
        (RuntimeError(), "error: unexpected RuntimeError (run with --debug for the traceback)"),
        (
            RuntimeError("the env broke"),
            "error: unexpected RuntimeError: the env broke (run with --debug for the traceback)",
        ),
    ],
)
def test_a_fault_is_one_line_that_says_what_it_was(
    fault: Exception, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as stopped:
        exit_for(fault, debug=False)
    assert stopped.value.exit_code == ExitStatus.FAILURE
    assert capsys.readouterr().err == f"{said}\n"
