"""A recording's files are read safely by every reader (show, compare, the board, resume):
a FIFO is refused without waiting on it, a link is not followed, a huge unfinished last line
costs no memory, and a field of the wrong kind is named as damage."""

from __future__ import annotations

import io
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from gymrun.errors import RecordError
from gymrun.records import files
from tests.support.cli import Result, gymrun
from tests.support.paths import CONFIGS

RANDOM = str(CONFIGS / "cartpole_random.yaml")
RUN_FILES = ["config.yaml", "summary.json", "meta.json", "episodes.jsonl"]


@pytest.fixture
def run() -> Path:
    assert gymrun("run", RANDOM, "-n", "30", "-q", "-o", "run").code == 0
    return Path("run")


def within(seconds: float, command: Callable[[], Result], fifo: Path) -> Result:
    """`command`, which must end within `seconds`; if it waits on `fifo` instead, a writer
    opens the FIFO to set it free and the test fails."""
    done: list[Result] = []
    thread = threading.Thread(target=lambda: done.append(command()), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        with open(fifo, "wb"):  # the blocked reader gets its end of file
            pass
        thread.join(10)
        pytest.fail(f"waited on the FIFO {fifo} for {seconds} s")
    return done[0]


@pytest.mark.parametrize("name", RUN_FILES)
def test_a_fifo_in_a_recording_is_refused_without_waiting(run: Path, name: str) -> None:
    shutil.copytree(run, "whole")
    (run / name).unlink()
    os.mkfifo(run / name)
    said = f"run/{name}: not a regular file (a FIFO)"
    for command in (["show", "run"], ["compare", "run", "whole"], ["show", "run", "--json"]):
        result = within(20, lambda c=command: gymrun(*c), run / name)
        assert result.code == 2, (command, result)
        assert said in result.stderr and "Traceback" not in result.stderr
    resumed = within(20, lambda: gymrun("run", RANDOM, "-n", "30", "--resume", "run"), run / name)
    assert resumed.code == 2 and said in resumed.stderr, resumed
    built = within(20, lambda: gymrun("board", ".", "--out", "../site", "--json"), run / name)
    assert built.code == 0, built.stderr
    rows = json.loads(built.stdout)
    assert (rows["runs"], rows["damaged"]) == (2, 1)


@pytest.mark.parametrize("name", RUN_FILES)
def test_a_link_in_a_recording_is_not_followed(run: Path, tmp_path: Path, name: str) -> None:
    secret = tmp_path / "secret"
    secret.write_text("the key\n")
    (run / name).unlink()
    (run / name).symlink_to(secret)
    result = gymrun("show", "run", "--json")
    assert result.code == 2
    assert (
        f"run/{name}: a symbolic link; the files of a recording are never links, so it is "
        "not followed" in result.stderr
    )
    assert "the key" not in result.stdout + result.stderr


def within_memory(limit: int, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """``gymrun ARGS`` in a process whose address space may not pass `limit` bytes (as under
    ``ulimit -v``), with 200 columns and `settings` in its environment."""
    return subprocess.run(
        [sys.executable, "-m", "gymrun", *args],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
        env={**os.environ, "COLUMNS": "200", **settings},
    )


def test_a_huge_unfinished_last_line_costs_no_memory(run: Path) -> None:
    # A crash can leave a line of NUL bytes of any length: a gigabyte here, read by a
    # process that may not hold half of it.
    whole = (run / "episodes.jsonl").read_bytes()
    with (run / "episodes.jsonl").open("ab") as episodes:
        episodes.truncate(len(whole) + 2**30)

    for command in (["show", "run"], ["compare", "run"]):
        shown = within_memory(1_500_000_000, *command)
        assert shown.returncode == 0, shown.stderr
        assert re.search(r"│\s+30 │", shown.stdout), shown.stdout
    resumed = gymrun("run", RANDOM, "-n", "30", "--resume", "run", "-q")
    assert resumed.code == 0, resumed.stderr
    assert "the run was complete already" in resumed.stderr
    assert (run / "episodes.jsonl").stat().st_size == len(whole) + 2**30  # left as it is
    # going on to more episodes: the unfinished line is not an episode, and is dropped
    resumed = gymrun("run", RANDOM, "-n", "40", "--resume", "run", "-q")
    assert resumed.code == 0, resumed.stderr
    lines = (run / "episodes.jsonl").read_bytes().splitlines()
    assert [json.loads(line)["episode"] for line in lines] == list(range(40))
    assert lines[:30] == whole.splitlines()


def test_reading_takes_room_for_what_a_file_holds_not_for_its_limit(run: Path) -> None:
    # The board's record may hold up to a gigabyte and a sweep.json half of one; a process
    # under a virtual-memory limit (ulimit -v, a cluster's h_vmem) reads them all the same
    # when they are small.
    sweep = str(CONFIGS / "cartpole_epsilon_sweep.yaml")
    assert gymrun("sweep", sweep, "--set", "episodes=3", "-o", "recordings/sweep").code == 0

    # one BLAS thread and few malloc arenas: the same address space on any machine
    settings = {"OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
    said = []
    for command in (
        ["board"],  # a first build
        ["board"],  # one that reads the first one's record
        ["show", "recordings/sweep"],
        ["compare", "recordings/sweep"],
        ["show", "run"],
    ):
        done = within_memory(700_000_000, *command, **settings)
        assert done.returncode == 0, (command, done.stderr)
        said.append(done.stdout + done.stderr)
    assert "read 18," in said[0] and "read 0," in said[1]
    assert "wrappers.0.epsilon" in said[2] and "epsilon" in said[3]


def test_a_file_read_whole_is_refused_past_its_limit_even_as_it_grows(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_bytes(b"x" * 10)
    assert files.read_bytes(tmp_path, "summary.json", 10) == b"x" * 10
    with pytest.raises(RecordError, match=r"summary.json: larger than 9 bytes"):
        files.read_bytes(tmp_path, "summary.json", 9)

    class Growing(io.BufferedReader):
        """A file that another process appends to once it has been measured."""

        grown = False

        def read(self, size: int | None = -1) -> bytes:
            if not self.grown:
                self.grown = True
                with path.open("ab") as more:
                    more.write(b"y" * 25)
            return super().read(size)

    for limit in (35, 34):
        path.write_bytes(b"x" * 10)
        with Growing(io.FileIO(path)) as grown:
            if limit == 35:  # read on past the size it had, to its end
                assert files.read_whole(grown, limit, path) == b"x" * 10 + b"y" * 25
            else:
                with pytest.raises(RecordError, match="larger than 34 bytes"):
                    files.read_whole(grown, limit, path)


def test_a_line_longer_than_any_episode_is_damage(run: Path) -> None:
    lines = (run / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    lines[10] = b'{"episode": 10, "pad": "' + b"x" * 2_000_000 + b'"}\n'
    (run / "episodes.jsonl").write_bytes(b"".join(lines))
    result = gymrun("show", "run")
    assert result.code == 2
    assert (
        "error: run/episodes.jsonl:11: a line longer than 1,000,000 bytes; not an episode "
        "record" in result.stderr
    )
    assert "episodes │ 10 of 30" in result.stdout  # the ten before it are shown


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("reward_boundary", "195", "run/summary.json: not a summary (reward_boundary is a string"),
        ("status", "done", "run/summary.json: not a summary (status 'done' is not one of"),
        ("count", 2.5, "run/summary.json: not a summary (count is a float"),
        ("mean_reward", [1], "run/summary.json: not a summary (mean_reward is a list"),
    ],
)
def test_a_summary_field_of_the_wrong_kind_is_named(
    run: Path, field: str, value: object, said: str
) -> None:
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps(summary | {field: value}))
    for command in (["show", "run"], ["compare", "run"]):
        result = gymrun(*command)
        assert result.code == 2 and said in result.stderr, result


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"reward_boundary": "high"}, "reward_boundary is a string"),
        ({"seed": None}, "seed is a NoneType"),
        ({"episodes": 0}, "episodes is below 1"),
        ({"wrappers": [7]}, "wrappers.0 is not a mapping with a name"),
        ({"env": "CartPole-v1"}, "env is not a mapping with an id"),
    ],
)
def test_a_config_field_of_the_wrong_kind_is_named(
    run: Path, change: dict[str, object], said: str
) -> None:
    import yaml

    config = yaml.safe_load((run / "config.yaml").read_text())
    (run / "config.yaml").write_text(yaml.safe_dump(config | change))
    result = gymrun("show", "run")
    assert result.code == 2
    assert result.stderr.startswith(f"error: run/config.yaml: not a gymrun run's config ({said}")
