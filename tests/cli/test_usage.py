"""What `--help` shows: values named by words, not Python types; an example for every
command; shell completion; and a misused command line told in one line."""

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gymrun.cli import app
from tests.support.cli import Result
from tests.support.cli import gymrun as gymrun_anywhere
from tests.support.paths import CONFIGS, ROOT
from tests.support.processes import TIMEOUT, default_signals

COMMANDS = [
    "run",
    "sweep",
    "duel",
    "baselines",
    "show",
    "compare",
    "plan-seeds",
    "board",
    "inspect",
    "validate",
    "doctor",
    "check",
    "schema",
    "list-envs",
]


def gymrun(*args: str) -> Result:
    """At 100 columns, the width help is read at."""
    return gymrun_anywhere(*args, env={"COLUMNS": "100"})


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_clean_help_with_an_example(command: str) -> None:
    code, out, _ = gymrun(command, "--help")
    assert code == 0
    # no Typer types (<bool>, <Path>, <list[Path]>), placeholders ({config_path}) or
    # click's words for types (TEXT, INTEGER): each value is named for what it takes
    assert not re.search(r"<[A-Za-z]", out) and "{" not in out
    assert not re.search(r"\b(TEXT|INTEGER|FLOAT|BOOLEAN)\b", out)
    assert re.search(r"Examples?:", out)
    examples = out.split("Example")[1].split("╭")[0]
    assert re.search(rf"^\s+gymrun {command}\b", examples, re.MULTILINE)
    # one blank line after "Examples:", none between examples, one before the panels
    shown = [line.strip() for line in examples.splitlines()]
    assert shown[0].endswith(":") and shown[1] == "" and shown[2].startswith("gymrun ")
    assert "" not in shown[2:-1] and shown[-1] == ""
    usage = next(line for line in out.splitlines() if "Usage:" in line)
    assert usage.strip().startswith(f"Usage: gymrun {command} [OPTIONS]")
    # a value's range is short, or said in its help in words: a seed's 20 digits beside it
    # would widen the column of every option in its panel
    ranges = re.findall(r"\[[^\]\s]*\bx\b[^\]\s]*\]", out)
    assert all(len(shown) <= 20 for shown in ranges), ranges


def test_options_name_their_values() -> None:
    out = gymrun("run", "--help")[1]
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│ --")}
    assert re.search(r"--episodes\s+-n\s+N \[x>=1\]", rows["--episodes"])
    assert re.search(r"--output\s+-o\s+PATH ", rows["--output"])
    assert re.search(r"--no-record\s+Write no run", rows["--no-record"])  # a flag: no value
    assert "Usage: gymrun run [OPTIONS] [CONFIG_OR_ENV]" in out  # --resume DIR: optional
    assert "Usage: gymrun compare [OPTIONS] RUN_DIRS..." in gymrun("compare", "--help")[1]


def test_shell_completion_is_offered_and_completes() -> None:
    out = gymrun("--help")[1]
    assert "--install-completion" in out and "--show-completion" in out
    result = CliRunner().invoke(
        app,
        [],
        env={"_GYMRUN_COMPLETE": "complete_bash", "COMP_WORDS": "gymrun list", "COMP_CWORD": "1"},
        prog_name="gymrun",
    )
    assert result.stdout.split() == ["list-envs"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "x.yaml", "--bogus"], "error: No such option: --bogus (see gymrun run --help)"),
        (["run"], "error: Missing argument 'CONFIG_OR_ENV' (see gymrun run --help)"),
        (["nope"], "error: No such command 'nope' (see gymrun --help)"),
    ],
)
def test_a_misused_command_line_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, out, err = gymrun(*args)
    assert (code, out) == (2, "")
    assert err.splitlines() == [message]


@pytest.mark.parametrize("command", ["run", "show", "inspect", "validate", "board"])
def test_one_error_boundary_for_every_command(command: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Bad input is one red line and exit 2 in every command; ``--debug`` (or GYMRUN_DEBUG)
    adds the traceback, wherever on the line it stands."""
    missing = str(tmp_path / "nowhere")
    args = {"run": [missing + ".yaml"], "show": [missing], "inspect": ["NoSuchEnv-v0"]}
    args |= {"validate": [missing + ".yaml"], "board": [missing, "--out", str(tmp_path / "b")]}
    code, out, err = gymrun_anywhere(command, *args[command])
    assert code == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    for debug in ([command, "--debug", *args[command]], [command, *args[command], "--debug"]):
        code, _, err = gymrun_anywhere(*debug)
        assert code == 2 and "Traceback (most recent call last)" in err
        assert err.strip().splitlines()[-1].startswith("error: ")
    code, _, err = gymrun_anywhere(command, *args[command], env={"GYMRUN_DEBUG": "1"})
    assert code == 2 and "Traceback (most recent call last)" in err


def help_examples(command: str) -> list[str]:
    out = gymrun(command, "--help")[1]
    examples = out.split("Example")[1].split("╭")[0]
    return [line.strip() for line in examples.splitlines() if line.strip().startswith("gymrun ")]


@pytest.mark.slow
def test_every_help_example_runs_as_written(tmp_path: Path) -> None:
    """Each example of every command's help, typed in a shell in a directory holding the
    shipped configs and examples, in the order the commands are listed: each exits 0 (a
    run's example makes the recordings a later example shows). ``TIME`` stands for the
    newest record in the directory it is in, and the board is served on a free port rather
    than 8000."""
    (tmp_path / "configs").symlink_to(CONFIGS)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    gymrun_bin = Path(sys.executable).with_name("gymrun")
    environment = os.environ | {"PATH": f"{gymrun_bin.parent}:{os.environ['PATH']}"}
    ran = 0
    for command in COMMANDS:
        for example in help_examples(command):
            if "TIME" in example:
                named = example.split("/TIME")[0].split()[-1]  # recordings/NAME
                newest = max((tmp_path / named).iterdir())
                example = example.replace("TIME", newest.name)
            if "--serve" in example:
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", 0))
                    port = probe.getsockname()[1]
                child = subprocess.Popen(
                    ["bash", "-c", "exec " + example.replace("8000", str(port))],
                    cwd=tmp_path, env=environment, text=True, start_new_session=True,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    preexec_fn=default_signals,  # Ctrl-C as a terminal sends it
                )  # fmt: skip
                try:
                    assert child.stdout is not None
                    lines = [child.stdout.readline() for _ in range(2)]  # the build, then
                    assert f"serving http://127.0.0.1:{port}" in lines[-1], lines
                    child.send_signal(signal.SIGINT)  # a server ends as any command does
                    assert child.wait(timeout=30) == 130, example
                finally:
                    if child.poll() is None:
                        child.kill()
                    child.communicate()
            else:
                done = subprocess.run(
                    ["bash", "-c", example], cwd=tmp_path, env=environment,
                    capture_output=True, text=True, timeout=TIMEOUT,
                )  # fmt: skip
                assert done.returncode == 0, f"{example}\n{done.stderr}"
            ran += 1
    assert ran >= 25
    assert (tmp_path / "gymrun.schema.json").stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["sweep", "SWEEP", "-n", "3"], "No such option: -n (here episodes is a config key: "
         "--set episodes=VALUE; see gymrun sweep --help)"),
        (["duel", "RANDOM", "RANDOM", "--num-envs", "2"], "No such option: --num-envs (here "
         "vector.num_envs is a config key: --set vector.num_envs=VALUE; see gymrun duel --help)"),
        (["show", "x", "-n", "3"], "No such option: -n (see gymrun show --help)"),
    ],
)  # fmt: skip
def test_a_shortcut_of_run_elsewhere_says_the_config_key_it_stands_for(
    args: list[str], said: str
) -> None:
    configs = {"SWEEP": "cartpole_epsilon_sweep.yaml", "RANDOM": "cartpole_random.yaml"}
    args = [str(CONFIGS / configs[a]) if a in configs else a for a in args]
    code, out, err = gymrun(*args)
    assert (code, out, err) == (2, "", f"error: {said}\n")
