"""``gymrun run CONFIG --resume DIR``: a stopped run goes on from its first missing episode
and ends as the uninterrupted run would have, byte for byte; anything else is refused."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gymrun.records.reading import read_run
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import TIMEOUT, run_gymrun, start_gymrun

# The balancing controller under random actions: episodes of every length, a few ms each.
CONFIG = (
    "env: CartPole-v1\nagent: cartpole_balance\n"
    "wrappers: [{name: epsilon_random, epsilon: 0.3}]\nepisodes: 400\n"
)


def gymrun_process(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A real process: what it records as its command is what was typed."""
    return run_gymrun(*args, cwd=cwd, env={**os.environ, "COLUMNS": "200"})


def stopped_run(cwd: Path, how: signal.Signals, *args: str, after: int = 40) -> tuple[Path, str]:
    """A run recorded in ``cwd/cut``, stopped by `how` once `after` episodes are on disk."""
    process = start_gymrun(*args, "-q", "-o", "cut", cwd=cwd)
    episodes = cwd / "cut" / "episodes.jsonl"
    try:
        deadline = time.monotonic() + 60
        while not (episodes.exists() and episodes.read_bytes().count(b"\n") >= after):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        if how == signal.SIGKILL:  # the whole group, as the OOM killer or a lost machine would
            os.killpg(process.pid, how)
        else:
            process.send_signal(how)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # no worker outlives the test
    assert process.returncode == (-how if how == signal.SIGKILL else 128 + how), stderr
    return cwd / "cut", stderr


def recorded(run_dir: Path) -> tuple[bytes, dict[str, object]]:
    """A run's episode lines and its summary but for when it started and ended."""
    summary = json.loads((run_dir / "summary.json").read_text())
    del summary["started_at"], summary["ended_at"]
    return (run_dir / "episodes.jsonl").read_bytes(), summary


@pytest.mark.slow  # a real process stopped, resumed and played whole: the signal's end to end
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_resumes_to_the_uninterrupted_record(
    tmp_path: Path, how: signal.Signals
) -> None:
    (tmp_path / "run.yaml").write_text(CONFIG)
    cut, stderr = stopped_run(tmp_path, how, "run", "run.yaml", "--seed", "3")
    assert "to finish it: gymrun run run.yaml --seed 3 -q --resume cut\n" in stderr
    kept = (cut / "episodes.jsonl").read_bytes()
    count = kept.count(b"\n")
    assert 40 <= count < 400
    assert json.loads((cut / "summary.json").read_text())["status"] == "interrupted"

    result = gymrun_process(tmp_path, "run", "run.yaml", "--seed", "3", "--resume", "cut", "-q")
    assert result.returncode == 0, result.stderr
    assert f"resumed from episode {count}" in result.stderr
    assert "episodes │ 400 " in result.stdout
    assert (cut / "episodes.jsonl").read_bytes().startswith(kept)

    whole = gymrun("run", "run.yaml", "--seed", "3", "-o", "whole", "-q")
    assert whole.code == 0, whole.stderr
    assert recorded(cut) == recorded(tmp_path / "whole")
    assert (cut / "reward.png").read_bytes() == (tmp_path / "whole" / "reward.png").read_bytes()
    meta = json.loads((cut / "meta.json").read_text())
    assert meta["command"][-4:] == ["--seed", "3", "-q", "-o", "cut"][-4:]
    [resumption] = meta["resumed"]
    assert resumption["from_episode"] == count
    assert resumption["command"][-3:] == ["--resume", "cut", "-q"]


@pytest.mark.slow
def test_a_killed_run_on_workers_resumes_with_its_drawn_seed(tmp_path: Path) -> None:
    # SIGKILL: no summary written ("running"), perhaps half a line; the seed was drawn
    (tmp_path / "run.yaml").write_text(CONFIG.replace("400", "1200"))
    cut, _ = stopped_run(tmp_path, signal.SIGKILL, "run", "run.yaml", "-w", "2", after=30)
    assert json.loads((cut / "summary.json").read_text())["status"] == "running"
    shown = gymrun_process(tmp_path, "show", "cut")  # what became of it, as the board says
    assert re.search(r"│ status +│ killed +│", shown.stdout), shown.stdout
    assert "it was killed before it could end (gymrun run --resume cut goes on" in shown.stderr
    seed = yaml.safe_load((cut / "config.yaml").read_text())["seed"]

    result = gymrun("run", "run.yaml", "-w", "2", "--resume", "cut", "-q")
    assert result.code == 0, result.stderr
    assert "was drawn" not in result.stderr
    whole = gymrun("run", "run.yaml", "--seed", str(seed), "-o", "whole", "-q")
    assert whole.code == 0, whole.stderr
    assert recorded(cut) == recorded(tmp_path / "whole")


def finished_run(tmp_path: Path, *args: str) -> Path:
    (tmp_path / "run.yaml").write_text(CONFIG)
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "-o", "whole", *args)
    assert result.code == 0, result.stderr
    return tmp_path / "whole"


def cut_copy(whole: Path, lines: int, partial: bool = False) -> Path:
    """A copy of the run in `whole` as if stopped after `lines` episodes (with `partial`,
    in the middle of writing the next)."""
    cut = whole.with_name("cut")
    shutil.copytree(whole, cut)
    text = (whole / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    kept = b"".join(text[:lines]) + (text[lines][:25] if partial else b"")
    (cut / "episodes.jsonl").write_bytes(kept)
    summary = json.loads((cut / "summary.json").read_text())
    (cut / "summary.json").write_text(json.dumps(summary | {"status": "interrupted"}))
    (cut / "reward.png").unlink()
    return cut


@pytest.mark.parametrize(("lines", "partial"), [(0, False), (17, True), (59, False)])
def test_a_half_written_line_is_played_again(tmp_path: Path, lines: int, partial: bool) -> None:
    whole = finished_run(tmp_path)
    cut = cut_copy(whole, lines, partial)
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "--resume", "cut")
    assert result.code == 0, result.stderr
    assert f"resumed from episode {lines};" in result.stderr
    assert recorded(cut) == recorded(whole)


@pytest.mark.parametrize("mode", ["sync", pytest.param("async", marks=pytest.mark.slow)])
def test_a_vector_run_resumes_to_the_same_record(tmp_path: Path, mode: str) -> None:
    vector = ["--num-envs", "2", "--set", f"vector.mode={mode}"]
    whole = finished_run(tmp_path, *vector)
    cut = cut_copy(whole, 23)
    args = ["run", "run.yaml", "--seed", "3", "-n", "60", *vector, "--resume", "cut"]
    result = gymrun(*args)
    assert result.code == 0, result.stderr
    assert recorded(cut) == recorded(whole)


def test_a_complete_run_is_left_as_it_is(tmp_path: Path) -> None:
    whole = finished_run(tmp_path)
    before = {p.name: p.read_bytes() for p in whole.iterdir() if p.is_file()}
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "--resume", "whole")
    assert result.code == 0, result.stderr
    assert "the run was complete already; nothing was played" in result.stderr
    assert "episodes │ 60 " in result.stdout
    assert {p.name: p.read_bytes() for p in whole.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["-n", "59"],
            "--resume cut: the run is one of 60 episodes, and --episodes 59 asks for fewer; a "
            "run goes on to more episodes, never fewer (give 60 or more)",
        ),
        (  # more episodes, and other settings too: not this run's going on
            ["-n", "61", "--seed", "4"],
            "other settings (episodes: 60 recorded, 61 given; seed: 3 recorded, 4 given)",
        ),
        (["-n", "60", "--seed", "4"], "was run with other settings (seed: 3 recorded, 4 given)"),
        (
            ["-n", "60", "--set", "wrappers.0.epsilon=0.2"],
            "(wrappers.0.epsilon: 0.3 recorded, 0.2 given)",
        ),
        (["-n", "60", "-o", "x"], "--resume DIR records into DIR: drop --output"),
        (["-n", "60", "--no-record"], "--resume DIR records into DIR"),
    ],
)
def test_a_run_resumed_with_other_settings_is_refused(
    tmp_path: Path, args: list[str], said: str
) -> None:
    whole = finished_run(tmp_path)
    cut = cut_copy(whole, 20)
    before = {p.name: p.read_bytes() for p in cut.iterdir() if p.is_file()}
    seed = [] if "--seed" in args else ["--seed", "3"]
    result = gymrun("run", "run.yaml", *seed, *args, "--resume", "cut")
    assert result.code == 2, result.stderr
    assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert {p.name: p.read_bytes() for p in cut.iterdir() if p.is_file()} == before
    assert not (tmp_path / "x").exists()


def test_changed_user_code_is_refused(tmp_path: Path) -> None:
    # A new process: one that imported the module before keeps running what it imported.
    agent = "class Left:\n    def act(self, obs):\n        return {}\n"
    (tmp_path / "my_agents.py").write_text(agent.format(0))
    (tmp_path / "run.yaml").write_text("env: CartPole-v1\nagent: my_agents:Left\nseed: 1\n")
    assert gymrun_process(tmp_path, "run", "run.yaml", "-o", "whole").returncode == 0
    cut = cut_copy(tmp_path / "whole", 10)
    before = {p.name: p.read_bytes() for p in cut.iterdir() if p.is_file()}
    (tmp_path / "my_agents.py").write_text(agent.format(1))
    result = gymrun_process(tmp_path, "run", "run.yaml", "--resume", "cut")
    assert result.returncode == 2
    assert "--resume cut: module my_agents is not the version the run ran (sha256:" in (
        result.stderr
    )
    assert {p.name: p.read_bytes() for p in cut.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("nowhere", "--resume nowhere: no such directory"),
        (".", "--resume .: not a gymrun run's directory (it holds runs: name one, such as"),
        ("sweep", "a sweep's directory; resume it with gymrun sweep CONFIG --resume DIR"),
    ],
)
def test_what_is_not_a_run_is_named(tmp_path: Path, target: str, said: str) -> None:
    (tmp_path / "run.yaml").write_text(CONFIG)
    if target == ".":  # a directory of runs
        assert gymrun("run", "run.yaml", "-n", "1", "-o", "whole", "-q").code == 0
    if target == "sweep":
        sweep = "env: CartPole-v1\nepisodes: 1\nsweep: {seeds: [0]}\n"
        (tmp_path / "s.yaml").write_text(sweep)
        assert gymrun("sweep", "s.yaml", "-o", "sweep").code == 0
    result = gymrun("run", "run.yaml", "--resume", target)
    assert result.code == 2 and said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_record_is_not_continued(tmp_path: Path) -> None:
    cut = cut_copy(finished_run(tmp_path), 30)
    lines = (cut / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    lines[11] = b"{not json}\n"
    (cut / "episodes.jsonl").write_bytes(b"".join(lines))
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "--resume", "cut")
    assert result.code == 2
    assert "episodes.jsonl:12: not an episode record" in result.stderr
    assert "it cannot be continued" in result.stderr


def test_an_empty_line_is_named_as_such(tmp_path: Path) -> None:
    # gymrun never writes one (a line cut off by a kill is its start, played again): an edit
    cut = cut_copy(finished_run(tmp_path), 30)
    with (cut / "episodes.jsonl").open("ab") as episodes:
        episodes.write(b"\n")
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "--resume", "cut")
    assert (result.code, result.stderr) == (
        2,
        "error: --resume cut: cut/episodes.jsonl:31: not an episode record (an empty "
        "line); it cannot be continued\n",
    )


def test_a_complete_run_without_its_meta_is_said_to_be_complete(tmp_path: Path) -> None:
    whole = finished_run(tmp_path)
    (whole / "meta.json").unlink()
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "--resume", "whole")
    assert (result.code, result.stderr) == (
        2,
        "error: --resume whole: whole: no meta.json (it was removed since the run wrote "
        "it); the run was complete already; nothing was played\n",
    )
    (tmp_path / "cut").mkdir()
    for name in (".gymrun.lock", "config.yaml", "episodes.jsonl"):  # killed before meta.json
        shutil.copy(whole / name, tmp_path / "cut" / name)
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "--resume", "cut")
    assert result.code == 2
    assert "no meta.json (the run stopped as it started)" in result.stderr


def test_a_run_resumed_with_more_episodes_goes_on_to_them(tmp_path: Path) -> None:
    # completed or stopped, a run of episodes seeded one by one goes on to more of them, and
    # ends as a run of that many would have: episode by episode, in its config and summary
    (tmp_path / "run.yaml").write_text(CONFIG)
    for name, episodes in (("more", "30"), ("stopped", "30"), ("whole", "70")):
        played = gymrun_process(
            tmp_path, "run", "run.yaml", "--seed", "3", "-n", episodes, "-o", name, "-q"
        )
        assert played.returncode == 0, played.stderr
    cut = tmp_path / "stopped"
    lines = (cut / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    (cut / "episodes.jsonl").write_bytes(b"".join(lines[:12]))
    summary = json.loads((cut / "summary.json").read_text())
    (cut / "summary.json").write_text(json.dumps(summary | {"status": "interrupted"}))
    whole = tmp_path / "whole"

    for run in ("more", "stopped"):
        result = gymrun_process(tmp_path, "run", "--resume", run, "-n", "70", "-q")
        assert result.returncode == 0, result.stderr
        rewards = [
            [json.loads(line)["reward"] for line in (d / "episodes.jsonl").read_text().splitlines()]
            for d in (tmp_path / run, whole)
        ]
        assert len(rewards[0]) == 70 and rewards[0] == rewards[1]
        assert (tmp_path / run / "config.yaml").read_text() == (whole / "config.yaml").read_text()
        assert "episodes: 70\n" in (whole / "config.yaml").read_text()
        assert recorded(tmp_path / run) == recorded(whole)
        assert (tmp_path / run / "reward.png").read_bytes() == (whole / "reward.png").read_bytes()
        [resumption] = json.loads((tmp_path / run / "meta.json").read_text())["resumed"]
        assert resumption["extended_from"] == 30
        # the config now on disk is the run's own: it is shown, and resumed, as any other
        shown = gymrun("show", run)
        assert shown.code == 0 and "episodes │ 70 " in shown.stdout, shown.output
        again = gymrun("run", "--resume", run, "-q")
        assert "the run was complete already; nothing was played" in again.stderr

    fewer = gymrun_process(tmp_path, "run", "--resume", "more", "-n", "50")
    assert (fewer.returncode, fewer.stdout) == (2, "")
    assert fewer.stderr == (
        "error: --resume more: the run is one of 70 episodes, and --episodes 50 asks for "
        "fewer; a run goes on to more episodes, never fewer (give 70 or more)\n"
    )


# `gymrun ARGS` killed outright (SIGKILL: nothing of gymrun's runs after it) at one moment
# of a lengthened run's rewriting of its record: as config.yaml is renamed into place
# ("before": it is not yet), or as meta.json is written once config.yaml asks for more
# episodes ("after": config.yaml is, meta.json does not say so yet)
KILLED_AT = """\
import os, signal, sys
from pathlib import Path
import gymrun.records.writer as writer

when, args = sys.argv[1], sys.argv[2:]
write_json, replace = writer.write_json, os.replace

def killed():
    os.kill(os.getpid(), signal.SIGKILL)

def writing(path, *rest):
    if when == "after" and path.name == "meta.json":
        if "episodes: 6\\n" in (path.parent / "config.yaml").read_text():
            killed()
    return write_json(path, *rest)

def replacing(source, target):
    if when == "before" and Path(target).name == "config.yaml":
        killed()
    return replace(source, target)

writer.write_json, os.replace = writing, replacing
sys.argv = ["gymrun", *args]
from gymrun.cli import main
main()
"""


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_run_killed_while_it_is_lengthened_is_still_its_own(tmp_path: Path, when: str) -> None:
    # config.yaml and meta.json (the hash of the config the run ran) are written in turn:
    # killed between them, the run is neither called edited nor refused, and goes on
    (tmp_path / "run.yaml").write_text(CONFIG)
    for name, episodes in (("cut", "4"), ("whole", "6")):
        played = gymrun_process(
            tmp_path, "run", "run.yaml", "--seed", "3", "-n", episodes, "-o", name, "-q"
        )
        assert played.returncode == 0, played.stderr
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT, when, "run", "--resume", "cut", "-n", "6", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    said = "episodes: 6\n" if when == "after" else "episodes: 4\n"
    assert said in (tmp_path / "cut" / "config.yaml").read_text()

    shown = gymrun_process(tmp_path, "show", "cut")
    assert shown.returncode == 0, shown.stderr
    assert "not the config the run ran" not in shown.stdout + shown.stderr
    result = gymrun_process(tmp_path, "run", "--resume", "cut", "-n", "6", "-q")
    assert result.returncode == 0, result.stderr
    assert recorded(tmp_path / "cut") == recorded(tmp_path / "whole")
    meta = json.loads((tmp_path / "cut" / "meta.json").read_text())
    assert "config_sha256_pending" not in meta
    again = gymrun_process(tmp_path, "show", "cut")
    assert again.returncode == 0 and "not the config the run ran" not in again.stderr


def test_a_learning_agents_run_is_not_extended(tmp_path: Path) -> None:
    (tmp_path / "learner.py").write_text(
        "class Learner:\n    def act(self, observation):\n        return 0\n"
        "    def observe(self, *transition):\n        pass\n"
    )
    (tmp_path / "learn.yaml").write_text("env: CartPole-v1\nagent: learner:Learner\nseed: 1\n")
    assert gymrun_process(tmp_path, "run", "learn.yaml", "-n", "3", "-o", "l", "-q").returncode == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "l").iterdir() if p.is_file()}
    result = gymrun_process(tmp_path, "run", "--resume", "l", "-n", "5")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --resume l: agent learner:Learner learns from its steps, and what it learned "
        "was lost with its process, so it cannot go on to 5 episodes; run it again\n"
    )
    assert {p.name: p.read_bytes() for p in (tmp_path / "l").iterdir() if p.is_file()} == before


def test_a_run_that_cannot_go_on_from_its_middle_says_why(tmp_path: Path) -> None:
    args = ["CartPole-v1", "-n", "40", "--num-envs", "4", "--seed", "1"]
    args += ["--set", "vector.mode=vector_entry_point"]
    assert gymrun("run", *args, "-o", "whole").code == 0
    cut_copy(tmp_path / "whole", 10)
    result = gymrun("run", *args, "--resume", "cut")
    assert result.code == 2
    assert "own vector implementation is seeded once per run" in result.stderr


def test_a_resumed_sweep_continues_its_unfinished_runs(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(CONFIG.replace("400", "90") + "sweep: {seeds: [0, 1, 2]}\n")
    sweep = ["sweep", "s.yaml", "-e", "process", "-w", "2"]
    assert gymrun(*sweep, "-o", "whole").code == 0
    cut = tmp_path / "cut"
    shutil.copytree(tmp_path / "whole", cut)
    document = json.loads((cut / "sweep.json").read_text())
    (cut / "sweep.json").write_text(json.dumps(document | {"status": "interrupted"}))
    (cut / "sweep.png").unlink()
    lines = (cut / "seed=1" / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    (cut / "seed=1" / "episodes.jsonl").write_bytes(b"".join(lines[:33]) + lines[33][:9])
    summary = json.loads((cut / "seed=1" / "summary.json").read_text())
    (cut / "seed=1" / "summary.json").write_text(json.dumps(summary | {"status": "interrupted"}))
    shutil.rmtree(cut / "seed=2")

    result = gymrun(*sweep, "--resume", "cut")
    assert result.code == 0, result.stderr
    for run in ("seed=0", "seed=1", "seed=2"):
        assert recorded(cut / run) == recorded(tmp_path / "whole" / run)
    assert (cut / "sweep.png").read_bytes() == (tmp_path / "whole" / "sweep.png").read_bytes()
    assert "resumed" not in json.loads((cut / "seed=0" / "meta.json").read_text())
    [resumption] = json.loads((cut / "seed=1" / "meta.json").read_text())["resumed"]
    assert resumption["from_episode"] == 33


SWEEP_OF_TWO_POINTS = """\
env: CartPole-v1
wrappers: [{name: epsilon_random, epsilon: 0.5}]
agent: {name: constant, action: 0}
episodes: 3
sweep:
  wrappers.0.epsilon: [0.1, 0.5]
  seeds: [0, 1]
"""


def sweep_points(directory: Path) -> list[dict[str, object]]:
    """``sweep.json``'s points, their runs' folders aside."""
    points = json.loads((directory / "sweep.json").read_text())["points"]
    for point in points:
        for run in point["runs"]:
            del run["run_dir"]
    return points  # type: ignore[no-any-return]


def test_a_sweep_resumed_with_more_episodes_takes_each_run_on_to_them(tmp_path: Path) -> None:
    # as `gymrun run --resume -n N` does for one run: each run goes on where it ended, and
    # the sweep ends as a sweep of that many episodes would have, run by run
    (tmp_path / "s.yaml").write_text(SWEEP_OF_TWO_POINTS)
    assert gymrun_process(tmp_path, "sweep", "s.yaml", "-o", "cut").returncode == 0
    more = ["--set", "episodes=5"]
    assert gymrun_process(tmp_path, "sweep", "s.yaml", *more, "-o", "whole").returncode == 0

    result = gymrun_process(tmp_path, "sweep", "s.yaml", "--resume", "cut", *more)

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "note: 4 runs of 3 episodes went on to 5, the episodes recorded kept"
    )
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    assert not (cut / ".set-aside").exists()
    runs = sorted(d.name for d in whole.iterdir() if d.is_dir())
    assert len(runs) == 4 and sorted(d.name for d in cut.iterdir() if d.is_dir()) == runs
    for run in runs:
        assert recorded(cut / run) == recorded(whole / run)
        assert "episodes: 5\n" in (cut / run / "config.yaml").read_text()
        [resumption] = json.loads((cut / run / "meta.json").read_text())["resumed"]
        assert (resumption["from_episode"], resumption["extended_from"]) == (3, 3)
    assert sweep_points(cut) == sweep_points(whole)
    again = gymrun_process(tmp_path, "sweep", "s.yaml", "--resume", "cut", *more)
    assert again.returncode == 0 and "went on" not in again.stderr, again.stderr

    # fewer than recorded: refused in one line naming both counts, nothing touched
    before = {f: f.read_bytes() for f in cut.rglob("*") if f.is_file()}
    fewer = gymrun_process(tmp_path, "sweep", "s.yaml", "--resume", "cut", "--set", "episodes=4")
    assert (fewer.returncode, fewer.stdout) == (2, "")
    assert fewer.stderr == (
        "error: --resume cut: the sweep's runs are each of 5 episodes, and episodes=4 asks for "
        "fewer; a run goes on to more episodes, never fewer (give 5 or more)\n"
    )
    assert {f: f.read_bytes() for f in cut.rglob("*") if f.is_file()} == before


def test_a_sweep_of_a_learning_agent_resumed_with_more_episodes_plays_again(
    tmp_path: Path,
) -> None:
    (tmp_path / "learner.py").write_text(
        "class Learner:\n    def act(self, observation):\n        return 0\n"
        "    def observe(self, *transition):\n        pass\n"
    )
    (tmp_path / "s.yaml").write_text(
        "env: CartPole-v1\nagent: learner:Learner\nepisodes: 3\nsweep: {seeds: [0, 1]}\n"
    )
    assert gymrun_process(tmp_path, "sweep", "s.yaml", "-o", "cut").returncode == 0
    more = ["--set", "episodes=5"]
    assert gymrun_process(tmp_path, "sweep", "s.yaml", *more, "-o", "whole").returncode == 0

    result = gymrun_process(tmp_path, "sweep", "s.yaml", "--resume", "cut", *more)

    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 2, result.stderr
    for seed, note in zip((0, 1), notes, strict=True):
        assert re.fullmatch(
            rf"note: cut/seed={seed}: ran 3 episodes, and agent learner:Learner learns from its "
            r"steps, and what it learned was lost with its process, so it cannot go on to 5 "
            rf"episodes; it was kept in cut/\.set-aside/seed={seed}-[0-9TZ-]+, and the run "
            r"played again from its start",
            note,
        ), note
        assert recorded(tmp_path / "cut" / f"seed={seed}") == recorded(
            tmp_path / "whole" / f"seed={seed}"
        )
    assert sweep_points(tmp_path / "cut") == sweep_points(tmp_path / "whole")


def test_a_resumed_sweep_keeps_the_damaged_runs_it_plays_again(tmp_path: Path) -> None:
    # As `gymrun run --resume` names the damage it refuses, a sweep names each run it could
    # not go on from, and what it did with it: set aside in the sweep's own directory, never
    # deleted, and played again, to the uninterrupted record.
    (tmp_path / "s.yaml").write_text(CONFIG.replace("400", "20") + "sweep: {seeds: [0, 1, 2]}\n")
    assert gymrun("sweep", "s.yaml", "-o", "whole").code == 0
    cut = tmp_path / "cut"
    shutil.copytree(tmp_path / "whole", cut)
    episodes = cut / "seed=1" / "episodes.jsonl"
    lines = episodes.read_bytes().splitlines(keepends=True)
    lines[13] = lines[13][:20] + b"\n"  # cut off in the middle, not the last line
    episodes.write_bytes(b"".join(lines))
    (cut / "seed=2" / "summary.json").write_text("{")
    config = cut / "seed=0" / "config.yaml"
    config.write_text(config.read_text().replace("episodes: 20", "episodes: 21"))
    damaged = {run: (cut / run).iterdir() for run in ("seed=0", "seed=1", "seed=2")}
    damaged = {run: {f.name: f.read_bytes() for f in files} for run, files in damaged.items()}

    result = gymrun_process(tmp_path, "sweep", "s.yaml", "--resume", "cut")

    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 3, result.stderr
    again = (
        r"it cannot be continued; it was kept in (cut/\.set-aside/{}-[0-9TZ-]+), and the run "
        r"played again from its start"
    )
    said = [
        "note: cut/seed=0: the run recorded there was run with other settings (episodes: 21 "
        "recorded, 20 given); ",
        "note: cut/seed=1: cut/seed=1/episodes.jsonl:14: not an episode ",
        "note: cut/seed=2: cut/seed=2/summary.json: not a summary (not JSON: Expecting "
        "property name enclosed in double quotes: line 1 column 2 (char 1)); ",
    ]
    for run, start, note in zip(damaged, said, notes, strict=True):
        assert note.startswith(start), note
        kept = re.search(again.format(re.escape(run)) + "$", note)
        assert kept is not None, note
        # every byte the damaged run held is still there, where the note says
        assert {f.name: f.read_bytes() for f in (tmp_path / kept[1]).iterdir()} == damaged[run]
    for run in damaged:
        assert recorded(cut / run) == recorded(tmp_path / "whole" / run)
    # the sweep's numbers are the uninterrupted sweep's (its runs' folders aside)
    points = [
        json.loads((d / "sweep.json").read_text())["points"] for d in (cut, tmp_path / "whole")
    ]
    for point in (*points[0], *points[1]):
        for run in point["runs"]:
            del run["run_dir"]
    assert points[0] == points[1]
    assert (cut / "sweep.png").read_bytes() == (tmp_path / "whole" / "sweep.png").read_bytes()
    # what was set aside is none of the sweep's runs to those who read it
    shown = gymrun("show", "cut")
    assert shown.code == 0 and "set-aside" not in shown.output, shown.output
    compared = gymrun("compare", "cut")
    assert compared.code == 0 and "set-aside" not in compared.output, compared.output
    # a sweep that replaces this one (--force) takes what was set aside with the rest
    assert gymrun("sweep", "s.yaml", "-o", "cut", "--force").code == 0
    assert not (cut / ".set-aside").exists()


def test_a_resumed_duel_keeps_the_damaged_runs_it_plays_again(tmp_path: Path) -> None:
    configs = [str(CONFIGS / "cartpole_random.yaml"), str(CONFIGS / "cartpole_epsilon.yaml")]
    duel = ["duel", *configs, "--set", "episodes=3", "--max-seeds", "2", "--round", "2"]
    assert gymrun(*duel, "-o", "d").code == 0
    whole = recorded(tmp_path / "d" / "b-seed=1")
    (tmp_path / "d" / "b-seed=1" / "summary.json").write_text("not json")

    result = gymrun_process(tmp_path, "duel", "--resume", "d")

    assert result.returncode == 0, result.stderr
    kept = re.search(
        r"note: d/b-seed=1: d/b-seed=1/summary.json: not a summary \(not JSON: Expecting value: "
        r"line 1 column 1 \(char 0\)\); it cannot be continued; it was kept in "
        r"(d/\.set-aside/b-seed=1-[0-9TZ-]+), and the run played again from its start\n",
        result.stderr,
    )
    assert kept is not None, result.stderr
    assert (tmp_path / kept[1] / "summary.json").read_text() == "not json"
    assert (tmp_path / kept[1] / "episodes.jsonl").read_bytes() == whole[0]
    assert recorded(tmp_path / "d" / "b-seed=1") == whole
    shown = gymrun("show", "d")
    assert shown.code == 0 and "set-aside" not in shown.output, shown.output


@pytest.mark.slow  # a real sweep killed outright, as the OOM killer or a lost machine would
def test_a_sweep_killed_outright_resumes_to_the_uninterrupted_record(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(CONFIG.replace("400", "300") + "sweep: {seeds: [0, 1]}\n")
    killed_outright(tmp_path, "cut/seed=1/episodes.jsonl", "sweep", "s.yaml", "-o", "cut")
    shown = gymrun_process(tmp_path, "show", "cut")
    assert shown.returncode == 0, shown.stderr
    assert "the sweep was killed before it could end (gymrun sweep CONFIG --resume" in (
        shown.stderr
    )
    result = gymrun_process(tmp_path, "sweep", "s.yaml", "--resume", "cut")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "cut" / "sweep.json").read_text())["status"] == "completed"
    whole = gymrun("sweep", "s.yaml", "-o", "whole")
    assert whole.code == 0, whole.stderr
    for run in ("seed=0", "seed=1"):
        assert recorded(tmp_path / "cut" / run) == recorded(tmp_path / "whole" / run)
    [resumption] = json.loads((tmp_path / "cut" / "seed=1" / "meta.json").read_text())["resumed"]
    assert resumption["from_episode"] >= 20


def killed_outright(cwd: Path, recording: str, *args: str) -> None:
    """``gymrun ARGS`` SIGKILLed, its whole group, once `recording` (a path in `cwd`) holds
    20 episodes."""
    process = start_gymrun(*args, cwd=cwd)
    episodes = cwd / recording
    try:
        deadline = time.monotonic() + 60
        while not (episodes.exists() and episodes.read_bytes().count(b"\n") >= 20):
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


@pytest.mark.slow  # a real sweep killed outright
def test_show_and_compare_tell_what_a_killed_sweep_finished(tmp_path: Path) -> None:
    grid = "sweep: {wrappers.0.epsilon: [0.3, 0.5], seeds: [0, 1]}\n"
    (tmp_path / "s.yaml").write_text(CONFIG.replace("400", "300") + grid)
    second = "cut/epsilon=0.3-seed=1/episodes.jsonl"
    killed_outright(tmp_path, second, "sweep", "s.yaml", "-o", "cut")
    said = (
        "note: its process is gone: the sweep was killed before it could end "
        "(gymrun sweep CONFIG --resume cut goes on from there)\n"
    )
    shown = gymrun_process(tmp_path, "show", "cut")
    assert (shown.returncode, shown.stderr) == (0, said)
    played = 300 + read_run(tmp_path / "cut" / "epsilon=0.3-seed=1").summary.count
    rows = [line.split("│") for line in shown.stdout.splitlines() if line.startswith("│")]
    assert [(row[1].strip(), row[2].strip()) for row in rows] == [
        ("0.3", f"{played} (killed)"),  # the runs it finished, and the one it was playing
        ("0.5", "0 (killed)"),  # never started
    ]
    document = json.loads(gymrun_process(tmp_path, "show", "cut", "--json").stdout)
    assert document["status"] == "killed"
    assert [(p["episodes"], p["status"]) for p in document["points"]] == [
        (played, "killed"),
        (0, "killed"),
    ]
    compared = gymrun_process(tmp_path, "compare", "cut")
    assert (compared.returncode, compared.stderr) == (0, said.replace("note: ", "note: cut: "))


@pytest.mark.slow  # a real duel killed outright
def test_show_and_compare_tell_a_killed_duel(tmp_path: Path) -> None:
    configs = [str(CONFIGS / "cartpole_random.yaml"), str(CONFIGS / "cartpole_balance.yaml")]
    duel = ["duel", *configs, "--set", "episodes=200", "-o", "d"]
    killed_outright(tmp_path, "d/b-seed=0/episodes.jsonl", *duel)
    said = (
        "note: its process is gone: the duel was killed before it could end "
        "(gymrun duel --resume d goes on from there)\n"
    )
    shown = gymrun_process(tmp_path, "show", "d")
    # and the runs of the round it was killed in: one completed, the one killed in it
    cut = (
        "note: round 1 was cut short with 2 of its 8 runs recorded (1 completed, 1 killed); "
        "--resume goes on from them\n"
    )
    assert (shown.returncode, shown.stderr) == (0, said + cut)
    assert "decision: undecided: killed after 0 seeds of each" in shown.stdout
    document = json.loads(gymrun_process(tmp_path, "show", "d", "--json").stdout)
    assert document["status"] == "killed"
    compared = gymrun_process(tmp_path, "compare", "d")
    assert (compared.returncode, compared.stderr) == (0, said.replace("note: ", "note: d: "))


def _lines(run_dir: Path) -> list[bytes]:
    return (run_dir / "episodes.jsonl").read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (
            lambda lines, other: [*lines[:5], lines[6], lines[5], *lines[7:]],
            "episodes.jsonl:6: episode 6 where episode 5 was due; not this run's episode",
        ),
        (
            lambda lines, other: [*lines[:8], lines[7], *lines[8:]],
            "episodes.jsonl:9: episode 7 where episode 8 was due; not this run's episode",
        ),
        (
            lambda lines, other: [*other[:12], *lines[12:]],
            "episodes.jsonl:1: episode 0 with seed",
        ),
    ],
    ids=["swapped", "duplicated", "another-seed's"],
)
def test_a_resume_keeps_only_this_runs_episodes(
    tmp_path: Path,
    damage: Callable[[list[bytes], list[bytes]], list[bytes]],
    said: str,
) -> None:
    whole = finished_run(tmp_path)
    other = gymrun("run", "run.yaml", "--seed", "4", "-n", "60", "-o", "other", "-q")
    assert other.code == 0
    cut = cut_copy(whole, 30)
    kept = _lines(cut)
    (cut / "episodes.jsonl").write_bytes(b"".join(damage(kept, _lines(tmp_path / "other"))))
    before = {p.name: p.read_bytes() for p in cut.iterdir() if p.is_file()}
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "--resume", "cut")
    assert result.code == 2
    assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "it cannot be continued" in result.stderr
    assert {p.name: p.read_bytes() for p in cut.iterdir() if p.is_file()} == before


def test_a_linked_episodes_file_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    cut = cut_copy(finished_run(tmp_path), 20)
    elsewhere = tmp_path / "elsewhere.jsonl"
    (cut / "episodes.jsonl").rename(elsewhere)
    (cut / "episodes.jsonl").symlink_to(elsewhere)
    before = {p.name: p.read_bytes() for p in cut.iterdir() if p.is_file()}
    kept = elsewhere.read_bytes()
    result = gymrun("run", "run.yaml", "--seed", "3", "-n", "60", "--resume", "cut")
    assert result.code == 2
    assert result.stderr == (
        "error: --resume cut: cut/episodes.jsonl: a symbolic link; the files of a recording "
        "are never links, so it is not followed; it cannot be continued\n"
    )
    assert {p.name: p.read_bytes() for p in cut.iterdir() if p.is_file()} == before
    assert elsewhere.read_bytes() == kept
    assert not (cut / "summary.json.reserved").exists()
    assert "resumed" not in json.loads((cut / "meta.json").read_text())


def test_a_run_resumes_with_its_recorded_config(tmp_path: Path) -> None:
    whole = finished_run(tmp_path)
    cut = cut_copy(whole, 25)
    result = gymrun("run", "--resume", "cut", "-q")
    assert result.code == 0, result.stderr
    assert "resumed from episode 25" in result.stderr
    assert recorded(cut) == recorded(whole)
    result = gymrun("run", "--resume", "whole", "-q")
    assert (result.code, result.stderr.splitlines()[-1]) == (
        0,
        "note: whole: the run was complete already; nothing was played",
    )
    result = gymrun("run", "-q")
    assert (result.code, result.stderr) == (
        2,
        "error: Missing argument 'CONFIG_OR_ENV' (see gymrun run --help)\n",
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (  # more episodes, and other settings too: not this sweep's going on
            ["--set", "episodes=3", "--set", "env=Acrobot-v1"],
            '(env.id: "CartPole-v1" recorded, "Acrobot-v1" given; episodes: 2 recorded, 3 '
            "given; reward_boundary: 475.0 recorded, -100.0 given)",
        ),
        (["--set", "sweep.seeds=[0, 1]"], "(sweep.seeds: [0] recorded, [0, 1] given)"),
    ],
)  # fmt: skip
def test_a_sweep_resumed_with_other_settings_says_which(
    tmp_path: Path, args: list[str], said: str
) -> None:
    (tmp_path / "s.yaml").write_text("env: CartPole-v1\nepisodes: 2\nsweep: {seeds: [0]}\n")
    assert gymrun("sweep", "s.yaml", "-o", "sweep").code == 0
    result = gymrun("sweep", "s.yaml", *args, "--resume", "sweep")
    assert result.code == 2 and result.stderr == (
        f"error: --resume sweep: the sweep recorded there was run with other settings {said}\n"
    )


def test_a_sweep_resumed_without_its_config_says_what_it_needs(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("env: CartPole-v1\nepisodes: 2\nsweep: {seeds: [0]}\n")
    assert gymrun("sweep", "s.yaml", "-o", "sweep").code == 0
    result = gymrun("sweep", "--resume", "sweep")
    assert result.code == 2 and result.stderr.count("\n") == 1
    assert "gymrun sweep --resume DIR needs the sweep's config too (gymrun sweep CONFIG" in (
        result.stderr
    )


def test_a_complete_run_that_could_not_go_on_is_left_as_it_is(tmp_path: Path) -> None:
    # seeded once per run, it cannot be shared out to workers nor go on from its middle;
    # complete, there is nothing to play, wherever it would be played
    args = ["CartPole-v1", "-n", "6", "--num-envs", "2", "--seed", "1"]
    args += ["--set", "vector.mode=vector_entry_point"]
    assert gymrun("run", *args, "-o", "whole", "-q").code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "whole").iterdir() if p.is_file()}
    for executor in ([], ["-w", "2"], ["-e", "process"]):
        result = gymrun("run", *args, *executor, "--resume", "whole", "-q")
        assert result.code == 0, (executor, result.stderr)
        assert "the run was complete already; nothing was played" in result.stderr
    after = {p.name: p.read_bytes() for p in (tmp_path / "whole").iterdir() if p.is_file()}
    assert after == before


GOAL = (
    "imports: [tests.support.goal_env]\n"
    "env: {id: gymrun-test/Goal-v0, kwargs: {report: late}}\nepisodes: 60\n"
)


@pytest.mark.parametrize(
    "metrics", ["", "metrics: [is_success, {name: moves, key: one, reduce: sum}]\n"]
)
def test_a_run_with_metrics_resumes_to_the_same_record(tmp_path: Path, metrics: str) -> None:
    # is_success is reported from an episode's fifth step: left out of the shorter episodes'
    # lines by default, null in them when the config names it
    (tmp_path / "goal.yaml").write_text(GOAL + metrics)
    whole = gymrun("run", "goal.yaml", "--seed", "3", "-o", "whole", "-q")
    assert whole.code == 0, whole.stderr
    cut = cut_copy(tmp_path / "whole", 23, partial=True)
    result = gymrun("run", "goal.yaml", "--seed", "3", "--resume", "cut", "-q")
    assert result.code == 0, result.stderr
    assert recorded(cut) == recorded(tmp_path / "whole")
    lines = [json.loads(line) for line in (cut / "episodes.jsonl").read_text().splitlines()]
    success = [line.get("is_success", "absent") for line in lines]
    assert {True, False} < set(success) and ("absent" in success) is not bool(metrics)
    summary = json.loads((cut / "summary.json").read_text())
    assert summary["metrics"]["is_success"]["missing"] == success.count(None) + success.count(
        "absent"
    )


def _tree(directory: Path) -> dict[str, bytes | str]:
    """Every file under `directory` and every link in it, as they are (links not followed)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(directory.rglob("*")):
        if path.is_symlink():
            found[str(path)] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[str(path)] = path.read_bytes()
    return found


@pytest.mark.parametrize("where", ["elsewhere", "itself", "a file"])
def test_a_sweep_whose_run_is_not_its_own_directory_is_refused_untouched(
    tmp_path: Path, where: str
) -> None:
    (tmp_path / "s.yaml").write_text(CONFIG.replace("400", "5") + "sweep: {seeds: [0, 1]}\n")
    assert gymrun("sweep", "s.yaml", "-o", "whole").code == 0
    shutil.copytree(tmp_path / "whole", tmp_path / "cut")
    document = json.loads((tmp_path / "cut" / "sweep.json").read_text())
    (tmp_path / "cut" / "sweep.json").write_text(json.dumps(document | {"status": "interrupted"}))
    run = tmp_path / "cut" / "seed=1"
    shutil.rmtree(run)
    target = {"elsewhere": str(tmp_path / "whole" / "seed=0"), "itself": "seed=1"}.get(where)
    if target is None:
        run.write_text("notes\n")
    else:
        run.symlink_to(target)
    before = _tree(tmp_path)

    result = gymrun("sweep", "s.yaml", "--resume", "cut")

    what = "not a directory" if target is None else f"a symbolic link to {target}"
    assert (result.code, result.stderr) == (
        2,
        f"error: --resume cut: seed=1 is {what}, where its run records in a directory of its "
        "own; it was left as it is and nothing was played (put the run itself there, or "
        "remove seed=1 to play that run again)\n",
    )
    assert _tree(tmp_path) == before  # the link, what it points to, and the sweep's record


def test_a_duel_whose_run_links_to_itself_is_refused_untouched(tmp_path: Path) -> None:
    configs = [str(CONFIGS / "cartpole_random.yaml"), str(CONFIGS / "cartpole_epsilon.yaml")]
    duel = ["duel", *configs, "--set", "episodes=3", "--max-seeds", "2", "--round", "2"]
    assert gymrun(*duel, "-o", "d").code == 0
    shutil.rmtree(tmp_path / "d" / "a-seed=1")
    (tmp_path / "d" / "a-seed=1").symlink_to("a-seed=1")
    before = _tree(tmp_path / "d")

    result = gymrun("duel", "--resume", "d")

    assert (result.code, result.stderr) == (
        2,
        "error: --resume d: a-seed=1 is a symbolic link to a-seed=1, where its run records in "
        "a directory of its own; it was left as it is and nothing was played (put the run "
        "itself there, or remove a-seed=1 to play that run again)\n",
    )
    assert _tree(tmp_path / "d") == before


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("gone/deeper", "no such directory"),
        ("empty", "no sweep.json: not a sweep's directory"),
        ("mine", "no sweep.json: not a sweep's directory"),
    ],
)
def test_a_sweep_resumed_where_no_sweep_is_says_so_and_touches_nothing(
    tmp_path: Path, target: str, said: str
) -> None:
    (tmp_path / "s.yaml").write_text(CONFIG.replace("400", "2") + "sweep: {seeds: [0]}\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine\n")
    before = _tree(tmp_path)

    result = gymrun("sweep", "s.yaml", "--resume", target)

    # not "never started ... it can be removed", nor an offer of --force it never typed
    assert (result.code, result.stderr) == (2, f"error: --resume {target}: {said}\n")
    assert _tree(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "mine", "s.yaml"]
