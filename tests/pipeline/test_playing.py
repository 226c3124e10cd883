"""Playing runs on an executor: --executor and --workers mean the same in run and sweep, a
combination that means nothing is refused, and a sweep played here records each run's
episodes as they finish, so a stop in the middle of a run keeps them."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import finished, lines, start_gymrun, wait_for

RANDOM = str(CONFIGS / "cartpole_random.yaml")
SWEEP = str(CONFIGS / "cartpole_epsilon_sweep.yaml")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["-e", "local", "-w", "4"], "--executor local plays in this process: drop --workers 4"),
        (["-e", "dask", "-w", "2"], "--executor dask plays on the cluster's workers"),
        (["--address", "tcp://127.0.0.1:1"], "--address names a Dask scheduler"),
        (["-e", "ray"], "--executor ray: use one of local, process, dask"),
        (["--wait-workers", "5"], "--wait-workers waits for a Dask worker: add --executor dask"),
        (["-e", "process", "--wait-workers", "0"], "--wait-workers waits for a Dask worker"),
        (["-o", "out"], "--no-record writes nothing: drop --output"),
        (["--force"], "--no-record writes nothing: drop --force"),
    ],
)
@pytest.mark.parametrize("command", [["run", RANDOM], ["sweep", SWEEP], ["duel", RANDOM, RANDOM]])
def test_a_combination_that_means_nothing_is_refused_in_run_sweep_and_duel(
    command: list[str], args: list[str], said: str
) -> None:
    code, out, err = gymrun(*command, *args, "--no-record")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {said}") and err.count("\n") == 1, err
    assert not Path("out").exists() and not Path("recordings").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", RANDOM, "--force"], "--force lets --output DIR replace what is recorded there"),
        (["sweep", SWEEP, "--force"], "--force lets --output DIR replace what is recorded there"),
        (["duel", RANDOM, RANDOM, "--force"], "--force lets --output DIR replace what is"),
        (["sweep", SWEEP, "--resume", "s", "--force"], "--resume DIR records into DIR: drop "
         "--force"),
        (["run", RANDOM, "--json", "-q"], "--json prints one JSON object: drop --quiet"),
        (["run", RANDOM, "--json", "--seeds"], "--json prints one JSON object: drop --seeds"),
        (["run", RANDOM, "-q", "--seeds"], "--quiet prints no episode table: drop --seeds"),
        (["run", RANDOM, "--seeds"], "--seeds adds a column to the episode table, which runs of "
         "up to 20 episodes print: this one has 100"),
        (["sweep", SWEEP, "--dry-run", "-e", "dask", "--wait-workers", "3"], "--dry-run prints "
         "the grid and runs nothing: drop --executor, --wait-workers"),
        (["sweep", SWEEP, "--dry-run", "-o", "out", "--force"], "--dry-run prints the grid and "
         "runs nothing: drop --output, --force"),
        (["sweep", SWEEP, "--dry-run", "--no-record"], "--dry-run prints the grid and runs "
         "nothing: drop --no-record"),
    ],
)  # fmt: skip
def test_an_option_the_others_leave_without_effect_is_refused(args: list[str], said: str) -> None:
    code, out, err = gymrun(*args)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {said}") and err.count("\n") == 1, err
    assert not Path("out").exists() and not Path("recordings").exists()


@pytest.fixture
def pid_agent(user_module: Callable[[str], str]) -> str:
    """An agent that writes down which process played each episode."""
    return user_module(
        """
        import os
        class Where:
            def __init__(self, action_space):
                self.action_space = action_space
            def reset(self, seed):
                with open("pids.txt", "a") as file:
                    file.write(f"{os.getpid()}\\n")
            def act(self, observation):
                return 0
        """
    )


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize(
    ("args", "processes"), [([], 0), (["-w", "2"], 2), (["-e", "process"], None)]
)
def test_executor_and_workers_mean_the_same_in_run_and_sweep(
    write_config: Callable[..., Path],
    pid_agent: str,
    command: str,
    args: list[str],
    processes: int | None,
) -> None:
    grid = "sweep: {seeds: [0]}\n" if command == "sweep" else ""  # a sweep of one point
    path = write_config(f"env: CartPole-v1\nagent: '{pid_agent}:Where'\nepisodes: 400\n{grid}")
    quiet = "-q" if command == "run" else "--json"
    code, _, err = gymrun(command, str(path), *args, "--no-record", quiet)
    assert code == 0, err
    pids = set(Path("pids.txt").read_text().split())
    if processes == 0:  # in this process
        assert pids == {str(os.getpid())}
    else:  # in worker processes: as many as asked, one per core by default (this process
        # plays a few episodes too, only to size the chunks by what an episode costs)
        workers = pids - {str(os.getpid())}
        assert len(workers) == (processes or len(os.sched_getaffinity(0)))


def test_a_sweep_played_here_keeps_what_a_stopped_run_played(tmp_path: Path) -> None:
    # Ctrl-C in the middle of the second run of a local sweep: every episode it finished
    # is on disk, and `--resume` goes on inside it.
    (tmp_path / "long.yaml").write_text(
        "env: CartPole-v1\nepisodes: 5000\nsweep: {seeds: [0, 1, 2]}\n"
    )
    process = start_gymrun("sweep", "long.yaml", "-o", "s", cwd=tmp_path)
    second = tmp_path / "s" / "seed=1" / "episodes.jsonl"
    try:
        wait_for(lambda: len(lines(second)) >= 50, timeout=120)
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
    finally:
        code, _, err = finished(process)
    assert code == 130, err
    kept = len(lines(second))
    summary = json.loads((second.parent / "summary.json").read_text())
    assert (summary["status"], summary["count"]) == ("interrupted", kept)
    assert kept >= 50
    assert json.loads((tmp_path / "s" / "seed=0" / "summary.json").read_text())["count"] == 5000
    assert not (tmp_path / "s" / "seed=2").exists()  # never started


def test_a_sweeps_progress_counts_runs_and_episodes() -> None:
    from gymrun.pipeline.playing import Progress
    from gymrun.sweep import load_sweep, run_sweep

    seen: list[Progress] = []
    result = run_sweep(
        load_sweep(SWEEP, ["episodes=5"]), on_progress=lambda p: seen.append(Progress(**vars(p)))
    )
    assert result.status == "completed"
    assert seen[-1] == Progress(runs=18, runs_done=18, episodes=90)
    episodes = [p.episodes for p in seen]
    assert episodes == sorted(episodes) and len(set(episodes)) > 18  # as episodes finish
