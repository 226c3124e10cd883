"""Ctrl-C, SIGTERM and SIGHUP stop a run cleanly and keep every finished episode; a signal the
user ignores stays ignored."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import CONFIGS
from tests.support.processes import TIMEOUT, lines, signalled, start_gymrun


@pytest.mark.parametrize(
    ("how", "code", "said"),
    [
        (signal.SIGINT, 130, "interrupted after "),
        (signal.SIGTERM, 143, "interrupted by SIGTERM after "),
        (signal.SIGHUP, 129, "interrupted by SIGHUP after "),
    ],
)
def test_a_stopping_signal_keeps_every_finished_episode(
    tmp_path: Path, how: signal.Signals, code: int, said: str
) -> None:
    # cartpole_balance plays 500-step episodes: long enough to be interrupted mid-run
    args = ["run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "100000", "-q", "-o", "run"]
    process = start_gymrun(*args, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    episodes = tmp_path / "run" / "episodes.jsonl"
    returncode, stdout, stderr = signalled(
        process, lambda: len(lines(episodes)) >= 3, how, every=0.1, timeout=60
    )
    assert returncode == code, stderr
    assert "Traceback" not in stderr
    finished = int(stderr.split(said)[1].split()[0])
    assert f"episodes │ {finished} of 100000" in stdout
    assert "status   │ interrupted" in stdout
    written = lines(episodes)
    assert [json.loads(line)["episode"] for line in written] == list(range(finished))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["status"], summary["count"]) == ("interrupted", finished)
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["command"][1:] == args


def test_a_signal_the_user_ignores_stays_ignored(tmp_path: Path) -> None:
    # nohup ignores SIGHUP: gymrun leaves that choice alone and runs to the end
    config = str(CONFIGS / "cartpole_balance.yaml")
    process = subprocess.Popen(
        [sys.executable, "-m", "gymrun", "run", config, "-n", "30", "-q", "-o", "run"],
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    episodes = tmp_path / "run" / "episodes.jsonl"
    returncode, _, stderr = signalled(
        process, lambda: len(lines(episodes)) >= 3, signal.SIGHUP, every=0.1, timeout=120
    )
    assert returncode == 0, stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["count"] == 30


# An agent whose every step is spent in a `__del__`: a stop raised there is swallowed by
# Python ("Exception ignored in"), as in logging's fork hooks, weakref callbacks and the like.
SWALLOWING_AGENT = """\
import time


class _Slow:
    def __del__(self):
        time.sleep(0.01)


class Agent:
    def act(self, observation):
        _Slow()
        return 0
"""


def test_a_stop_swallowed_where_it_landed_still_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / "swallowing.py").write_text(SWALLOWING_AGENT)
    config = tmp_path / "swallowing.yaml"
    config.write_text("env: CartPole-v1\nagent: 'swallowing:Agent'\nseed: 0\n")
    args = ["run", str(config), "-n", "400", "-q", "-o", "run"]  # about 40 s to the end
    process = start_gymrun(*args, cwd=tmp_path)
    episodes = tmp_path / "run" / "episodes.jsonl"
    returncode, _, stderr = signalled(
        process, lambda: len(lines(episodes)) >= 1, signal.SIGTERM, every=0.05, timeout=30
    )
    assert returncode == 143, stderr
    assert "Exception ignored" not in stderr
    assert "Traceback" not in stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert 0 < summary["count"] < 400
    assert len(lines(episodes)) == summary["count"]
    kept = summary["count"]
    resumed = start_gymrun("run", str(config), "-n", "400", "-q", "--resume", "run", cwd=tmp_path)
    returncode, _, _ = signalled(
        resumed, lambda: len(lines(episodes)) > kept, signal.SIGTERM, every=0.05, timeout=30
    )
    assert returncode == 143
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert kept < summary["count"] == len(lines(episodes))


def _handles(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler for `signum` (Linux's /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("how", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("after", [0.1, 0.2, 0.3, 0.45])
def test_a_stop_while_the_command_starts_is_quiet(
    tmp_path: Path, how: signal.Signals, code: int, after: float
) -> None:
    # `after` seconds once gymrun handles SIGTERM (Python itself does not: the command's
    # first handlers are in place): typer and the commands are being imported, the command
    # line read, the config loaded
    args = ["run", str(CONFIGS / "cartpole_random.yaml"), "-n", "100000", "-q", "-o", "run"]
    process = start_gymrun(*args, cwd=tmp_path)

    def started() -> bool:
        return _handles(process.pid, signal.SIGTERM)

    returncode, _, stderr = signalled(
        process, started, how, within=30, every=0.001, then=after, timeout=60
    )
    assert returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines()[-1].startswith("interrupted")
    # stopped before its record was made: nothing is left; after, a record to resume
    run = tmp_path / "run"
    assert not run.exists() or (run / "summary.json").exists()


# A SIGTERM the process sends itself as it first imports `module`: a stop at a known point
# of the command's start, where a timed signal lands only now and then.
_STOP_AT_IMPORT = """
import os, signal, sys
module = sys.argv.pop(1)
def stop(event, args):
    if event == "import" and args[0] == module:
        os.kill(os.getpid(), signal.SIGTERM)
sys.addaudithook(stop)
from gymrun.cli import main
main()
"""


@pytest.mark.parametrize(
    "module",
    [
        "gymrun.cli.command",  # the commands imported
        "gymrun.cli.usage",
        "gymrun.config.wording",  # the error boundary being set up (Typer would exit 130)
        "gymrun.config.schema",  # the config read
        "gymrun.records.directory",  # the record being made
        "gymrun.core.experiment",  # the run starting
    ],
)
def test_a_sigterm_at_any_point_of_the_start_exits_143_and_says_so(
    tmp_path: Path, module: str
) -> None:
    args = ["run", str(CONFIGS / "cartpole_random.yaml"), "-n", "3", "-q", "-o", "run"]
    done = subprocess.run(
        [sys.executable, "-c", _STOP_AT_IMPORT, module, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 143, done.stderr
    assert done.stderr.splitlines()[-1] == "interrupted by SIGTERM"
    run = tmp_path / "run"
    assert not run.exists() or (run / "summary.json").exists()


def test_a_run_stopped_before_its_record_exists_leaves_no_directory(tmp_path: Path) -> None:
    process = start_gymrun(
        "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5000", "-q", cwd=tmp_path
    )
    runs = tmp_path / "recordings" / "cartpole_random"

    def claimed() -> bool:  # only .gymrun.lock is in the directory yet
        return runs.is_dir() and any(runs.iterdir())

    returncode, _, stderr = signalled(process, claimed, signal.SIGTERM, every=0.001, timeout=60)
    assert returncode == 143, stderr
    assert not (tmp_path / "recordings").exists()
