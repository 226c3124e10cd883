"""Duels: two configs on the same seeds, round by round, until the sequential test decides;
recorded as a sweep records its runs, shown and compared from disk, the same on every
executor, and resumed to the decision an uninterrupted duel reaches."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gymrun.duel import DuelProgress, load_duel, run_duel, run_label
from gymrun.errors import UsageError
from gymrun.records.reading import read_duel_json
from gymrun.scale.executors import Processes
from tests.support.cli import gymrun
from tests.support.fake_env import FAKE_ID
from tests.support.paths import CONFIGS
from tests.support.processes import duel_killed_mid_round, finished, run_gymrun, start_gymrun

WriteConfig = Callable[..., Path]
RANDOM = str(CONFIGS / "cartpole_random.yaml")
BALANCE = str(CONFIGS / "cartpole_balance.yaml")
EPSILON = str(CONFIGS / "cartpole_epsilon.yaml")


def fake(write_config: WriteConfig, name: str, **kwargs: object) -> Path:
    """A config of the fake env: episodes of 3 steps paying `reward` each, and `kwargs`."""
    settings = {"length": 3, **kwargs}
    return write_config(
        f"name: {name}\nenv: {{id: {FAKE_ID}, kwargs: {json.dumps(settings)}}}\n"
        "agent: random\nepisodes: 4\n"
    )


def scores(document: dict, side: str) -> list[float]:  # type: ignore[type-arg]
    return [run["score"] for run in document["runs"] if run["side"] == side]


def test_identical_configs_are_never_called_different() -> None:
    code, out, err = gymrun(
        "duel", RANDOM, RANDOM, "--max-seeds", "6", "--round", "3", "--set", "episodes=3",
        "--json", "-o", "same",
    )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    assert (document["decision"], document["seeds"], document["alpha"]) == ("none", 6, 0.05)
    assert [row["difference"] for row in document["rounds"]] == [0.0, 0.0]
    # the same seeds give the same episodes: every seed scores alike on both sides
    assert scores(document, "A") == scores(document, "B")
    assert len(set(scores(document, "A"))) > 1  # and the seeds differ from one another
    assert document["verdict"] == "no difference detectable within 6 seeds of each"


def test_a_random_agent_loses_to_a_balancing_one_in_fewer_seeds_than_the_most() -> None:
    code, out, err = gymrun("duel", RANDOM, BALANCE, "--set", "episodes=5", "-o", "d")
    assert code == 0, err
    assert "decision: B (cartpole_balance) scores higher: decided after 8 seeds of each" in out
    assert (
        "guarantee: two configs that score alike are called different at most 5% of the time "
        "(alpha 0.05, two-sided, over every round)"
    ) in out
    assert "round 1: 4 seeds of each" in err and "recorded in d" in err
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in out.splitlines()
        if line.startswith("│")
    ]
    assert [[*row[:2], row[-1]] for row in rows] == [
        ["1", "4", "go on"],
        ["2", "8", "B"],
    ]
    document = read_duel_json(Path("d"))
    assert (document["decision"], document["seeds"], document["status"]) == ("B", 8, "completed")
    assert document["duel"]["a"]["agent"]["name"] == "random"
    assert document["duel"]["b"]["agent"]["name"] == "cartpole_balance"
    assert document["test"]["spending"] == "linear" and document["rounds"][0]["boundary"] is None
    assert scores(document, "B") == [500.0] * 8
    made = sorted(p.name for p in Path("d").iterdir() if p.is_dir())
    assert made == sorted(f"{side}-seed={seed}" for side in "ab" for seed in range(8))
    for seed in range(8):
        config = yaml.safe_load(Path(f"d/a-seed={seed}/config.yaml").read_text())
        assert (config["seed"], config["episodes"]) == (seed, 5)


def test_show_and_compare_read_a_duel_back() -> None:
    code, out, err = gymrun("duel", RANDOM, BALANCE, "--set", "episodes=3", "-o", "d")
    assert code == 0, err
    code, shown, _ = gymrun("show", "d")
    assert code == 0
    assert shown.startswith("duel d\n") and shown.endswith(out)  # the same tables again
    code, again, _ = gymrun("show", "d", "--json")
    assert json.loads(again) == read_duel_json(Path("d"))
    code, compared, _ = gymrun("compare", "d", "--json")
    groups = json.loads(compared)["groups"][0]["groups"]
    runs = {group["label"]: len(group["scored_runs"]) for group in groups}
    assert runs == {"cartpole_balance": 8, "cartpole_random": 8}
    code, runs_first, _ = gymrun("compare", "d")
    assert code == 0 and runs_first.index("a-seed=0") < runs_first.index("b-seed=0")


def test_show_names_the_runs_of_a_duel_it_could_not_read(tmp_path: Path) -> None:
    code, out, err = gymrun("duel", RANDOM, BALANCE, "--set", "episodes=3", "-o", "d")
    assert code == 0, err
    shutil.rmtree("d/a-seed=0")
    shutil.rmtree("d/b-seed=1")
    Path("d/b-seed=1").symlink_to(tmp_path / "d" / "b-seed=0")
    Path("d/a-seed=2/config.yaml").unlink()

    said = (  # in duel.json's order
        "note: d/a-seed=0: not read: duel.json lists it, but it is gone; shown as duel.json "
        "recorded it\n"
        f"note: d/b-seed=1: not read: a symbolic link to {tmp_path}/d/b-seed=0, not followed: "
        "the duel's runs are directories in it; shown as duel.json recorded it\n"
        "note: d/a-seed=2: not read: not a run (no config.yaml in it); shown as duel.json "
        "recorded it\n"
    )
    shown = gymrun("show", "d")
    assert (shown.code, shown.stdout, shown.stderr) == (0, "duel d\n" + out, said)
    as_json = gymrun("show", "d", "--json")
    assert (as_json.code, as_json.stderr) == (0, said)


def test_show_tells_a_duel_still_going_from_one_whose_process_is_gone() -> None:
    import fcntl

    from gymrun.board.build import build_board

    code, _, err = gymrun("duel", RANDOM, BALANCE, "--set", "episodes=3", "-o", "rec/d")
    assert code == 0, err
    document = read_duel_json(Path("rec/d"))  # as a duel's first round leaves it
    going = document | {"status": "running", "decision": None, "rounds": []}
    Path("rec/d/duel.json").write_text(json.dumps(going))
    with Path("rec/d/.gymrun.lock").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as the duel's process holds it while it plays
        code, out, err = gymrun("show", "rec/d")
        assert "decision: undecided: still going after" in out
        assert err == "note: the duel is still going\n"
    code, out, err = gymrun("show", "rec/d")  # nobody holds it: the process is gone
    assert "decision: undecided: killed after" in out
    assert err == (
        "note: its process is gone: the duel was killed before it could end "
        "(gymrun duel --resume rec/d goes on from there)\n"
    )
    build_board(Path("rec"), Path("site"))
    [duel] = json.loads(Path("site/index.json").read_text())["duels"]
    assert duel["status"] == "killed" and "undecided: killed" in duel["verdict"]


def test_show_of_a_duel_killed_mid_round_counts_the_runs_of_that_round_on_disk() -> None:
    duel_killed_mid_round("d")
    code, compared, err = gymrun("compare", "d", "--json")
    assert code == 0, err
    on_disk = {
        Path(run["run_dir"]).name: run["status"]
        for run in json.loads(compared)["runs"]
        if int(run["run_dir"].split("=")[1]) >= 2  # round 2's
    }
    assert on_disk["a-seed=2"] == "completed" and len(on_disk) in (1, 2, 3)
    statuses = list(on_disk.values())
    counted = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
    code, out, err = gymrun("show", "d")
    assert code == 0 and "decision: undecided: killed after 2 seeds of each" in out
    assert err == (
        "note: its process is gone: the duel was killed before it could end "
        "(gymrun duel --resume d goes on from there)\n"
        f"note: round 2 was cut short with {len(on_disk)} of its 4 runs recorded ({counted}); "
        "--resume goes on from them\n"
    )
    document = json.loads(gymrun("show", "d", "--json").stdout)
    assert document["status"] == "killed" and document["seeds"] == 2
    runs = document["runs"]
    listed = {run_label(r["side"], r["seed"]): r["status"] for r in runs if r["seed"] >= 2}
    assert listed == on_disk
    assert gymrun("duel", "--resume", "d").code == 0  # goes on from them to the end
    assert len(read_duel_json(Path("d"))["runs"]) == 8


def test_every_executor_gives_the_same_duel() -> None:
    duel = load_duel(EPSILON, RANDOM, ["episodes=6"], max_seeds=8)
    local = run_duel(duel)
    pool = run_duel(duel, executor=Processes(2))
    assert local.decision == pool.decision == "B"
    assert [run.to_json() for run in local.runs] == [run.to_json() for run in pool.runs]
    assert local.looks == pool.looks


def test_a_duel_stopped_mid_round_resumes_to_the_uninterrupted_decision(tmp_path: Path) -> None:
    duel = load_duel(EPSILON, RANDOM, ["episodes=6"], max_seeds=12)
    whole = run_duel(duel, duel_dir=tmp_path / "whole")

    def stop_in_round_2(progress: DuelProgress) -> None:
        if progress.round == 2 and progress.runs.runs_done >= 3:
            raise KeyboardInterrupt  # as Ctrl-C lands while the round plays

    cut = run_duel(duel, duel_dir=tmp_path / "cut", on_progress=stop_in_round_2)
    assert (cut.status, cut.decision, cut.seeds) == ("interrupted", None, 4)
    recorded = read_duel_json(tmp_path / "cut")
    assert (recorded["status"], len(recorded["rounds"])) == ("interrupted", 1)
    code, _, err = gymrun("show", str(tmp_path / "cut"))  # the runs never started: not counted
    assert (code, err) == (
        0,
        "note: round 2 was cut short with 3 of its 8 runs recorded (3 completed); --resume "
        "goes on from them\n",
    )
    first = tmp_path / "cut" / "a-seed=0" / "episodes.jsonl"
    before = first.stat().st_mtime_ns
    resumed = run_duel(duel, duel_dir=tmp_path / "cut", resume=True)
    assert resumed.status == whole.status == "completed"
    assert (resumed.decision, resumed.looks) == (whole.decision, whole.looks)
    assert [run.score for run in resumed.runs] == [run.score for run in whole.runs]
    assert first.stat().st_mtime_ns == before  # a finished run is kept, not played again
    assert read_duel_json(tmp_path / "cut")["decision"] == whole.decision


def test_resume_finishes_only_the_duel_recorded_there(write_config: WriteConfig) -> None:
    a, b = fake(write_config, "one", reward=1.0), fake(write_config, "two", reward=2.0)
    code, _, err = gymrun("duel", str(a), str(b), "--max-seeds", "8", "-o", "d")
    assert code == 0, err
    code, out, _ = gymrun("duel", "--resume", "d", "--json")
    assert code == 0 and json.loads(out)["decision"] == "B"
    code, _, err = gymrun("duel", str(a), str(b), "--max-seeds", "10", "--resume", "d")
    assert code == 2 and err == (
        "error: --resume d: the duel recorded there was run with other configs or settings "
        "(max_seeds: 8 recorded, 10 given)\n"
    )
    # more episodes with other settings too: not this duel's going on
    code, _, err = gymrun(
        "duel", str(a), str(b), "--max-seeds", "10", "--set", "episodes=5", "--resume", "d"
    )
    assert code == 2 and err == (
        "error: --resume d: the duel recorded there was run with other configs or settings "
        "(a.episodes: 4 recorded, 5 given; b.episodes: 4 recorded, 5 given; max_seeds: 8 "
        "recorded, 10 given)\n"
    )
    # alone, --resume takes the recorded duel: what else is given must be what it was
    code, _, err = gymrun("duel", "--resume", "d", "--alpha", "0.1")
    assert code == 2 and err == (
        "error: --resume d: the duel recorded there was run with other configs or settings "
        "(alpha: 0.05 recorded, 0.1 given)\n"
    )
    code, _, err = gymrun("duel", "--resume", "d", "--set", "seed=3")
    assert code == 2 and err == (
        "error: --set seed=3: a duel gives each run its own seed (--seed sets the first); drop it\n"
    )
    code, _, err = gymrun("run", "--resume", "d")
    assert code == 2 and "a duel's directory; resume it with gymrun duel --resume DIR" in err


def duel_record(directory: Path) -> dict[str, object]:
    """A duel's ``duel.json`` but for where and how long it played."""
    document = json.loads((directory / "duel.json").read_text())
    for key in ("seconds", "duel_dir", "executor"):
        del document[key]
    for run in document["runs"]:
        del run["run_dir"]
    return document  # type: ignore[no-any-return]


def run_record(run_dir: Path) -> tuple[bytes, dict[str, object]]:
    """A run's episode lines and its summary but for when it started and ended."""
    summary = json.loads((run_dir / "summary.json").read_text())
    del summary["started_at"], summary["ended_at"]
    return (run_dir / "episodes.jsonl").read_bytes(), summary


def run_names(directory: Path) -> list[str]:
    return sorted(d.name for d in directory.iterdir() if d.is_dir() and d.name[0] != ".")


def test_a_duel_resumed_with_more_episodes_is_the_duel_of_that_many(tmp_path: Path) -> None:
    # with 1 episode a run, the duel decides after 12 seeds of each; with 2, after 8: taken
    # on to 2, each run goes on where it ended, the rounds are looked at again, and the runs
    # of the rounds it no longer needs are set aside, so it is the duel of 2, run by run
    duel = ["duel", EPSILON, RANDOM, "--max-seeds", "16"]
    played = run_gymrun(*duel, "--set", "episodes=1", "-o", "cut", cwd=tmp_path)
    assert played.returncode == 0, played.stderr
    assert json.loads((tmp_path / "cut" / "duel.json").read_text())["seeds"] == 12
    played = run_gymrun(*duel, "--set", "episodes=2", "-o", "whole", cwd=tmp_path)
    assert played.returncode == 0, played.stderr
    cut, whole = tmp_path / "cut", tmp_path / "whole"

    result = run_gymrun("duel", "--resume", "cut", "--set", "episodes=2", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    assert notes[0] == "note: 16 runs of 1 episode went on to 2, the episodes recorded kept"
    assert re.fullmatch(
        r"note: 8 runs recorded for rounds the duel no longer needs \(it was decided after 8 "
        r"seeds of each\) were kept in cut/\.set-aside: a-seed=8, b-seed=8, .*, b-seed=11",
        notes[1],
    ), notes
    assert "decision: B (cartpole_random) scores higher: decided after 8 seeds" in result.stdout
    assert duel_record(cut) == duel_record(whole)
    assert run_names(cut) == run_names(whole) and len(run_names(cut)) == 16
    for run in run_names(whole):
        assert run_record(cut / run) == run_record(whole / run)
        assert "episodes: 2\n" in (cut / run / "config.yaml").read_text()
    assert len(list((cut / ".set-aside").iterdir())) == 8

    # A and B given again, with their episodes: the same rule, each run goes on to 3
    more = run_gymrun(*duel, "--set", "episodes=3", "--resume", "cut", "--json", cwd=tmp_path)
    assert more.returncode == 0, more.stderr
    fresh = run_duel(load_duel(EPSILON, RANDOM, ["episodes=3"], max_seeds=16))
    assert json.loads(more.stdout)["rounds"] == [look.to_json() for look in fresh.looks]
    assert [run["score"] for run in json.loads(more.stdout)["runs"]] == [
        run.score for run in fresh.runs
    ]

    # fewer than recorded: one line naming both counts, nothing touched
    before = {f: f.read_bytes() for f in cut.rglob("*") if f.is_file()}
    fewer = run_gymrun("duel", "--resume", "cut", "--set", "episodes=2", cwd=tmp_path)
    assert (fewer.returncode, fewer.stdout) == (2, "")
    assert fewer.stderr == (
        "error: --resume cut: the duel's runs are each of 3 episodes, and episodes=2 asks for "
        "fewer; a run goes on to more episodes, never fewer (give 3 or more)\n"
    )
    assert {f: f.read_bytes() for f in cut.rglob("*") if f.is_file()} == before


def test_a_learning_sides_runs_are_played_again_when_a_duel_is_lengthened(
    tmp_path: Path,
) -> None:
    (tmp_path / "learner.py").write_text(
        "class Learner:\n    def act(self, observation):\n        return 0\n"
        "    def observe(self, *transition):\n        pass\n"
    )
    (tmp_path / "learn.yaml").write_text("env: CartPole-v1\nagent: learner:Learner\n")
    duel = ["duel", "learn.yaml", RANDOM, "--max-seeds", "2", "--round", "2"]
    assert run_gymrun(*duel, "--set", "episodes=2", "-o", "cut", cwd=tmp_path).returncode == 0
    played = run_gymrun(*duel, "--set", "episodes=3", "-o", "whole", cwd=tmp_path)
    assert played.returncode == 0, played.stderr

    result = run_gymrun("duel", "--resume", "cut", "--set", "episodes=3", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if line.startswith("note: ")]
    for seed in (0, 1):
        assert any(
            re.fullmatch(
                rf"note: cut/a-seed={seed}: ran 2 episodes, and agent learner:Learner learns "
                r"from its steps, and what it learned was lost with its process, so it cannot "
                rf"go on to 3 episodes; it was kept in cut/\.set-aside/a-seed={seed}-[0-9TZ-]+, "
                r"and the run played again from its start",
                note,
            )
            for note in notes
        ), notes
    assert "note: 2 runs of 2 episodes went on to 3, the episodes recorded kept" in notes
    cut, whole = tmp_path / "cut", tmp_path / "whole"
    assert duel_record(cut) == duel_record(whole)
    for run in run_names(whole):
        assert run_record(cut / run) == run_record(whole / run)


def test_a_clear_difference_on_the_fake_env_is_decided_at_8_of_20(
    write_config: WriteConfig,
) -> None:
    a, b = fake(write_config, "one", reward=1.0), fake(write_config, "two", reward=2.0)
    result = run_duel(load_duel(a, b))
    assert (result.decision, result.seeds) == ("B", 8)
    assert [look.difference for look in result.looks] == [-3.0, -3.0]


def test_force_replaces_a_duel_and_nothing_else(write_config: WriteConfig) -> None:
    a = fake(write_config, "one")
    args = ("duel", str(a), str(a), "--max-seeds", "2", "-o", "d")
    assert gymrun(*args).code == 0
    code, _, err = gymrun(*args)
    assert code == 2 and "the directory is not empty" in err
    assert gymrun(*args, "--force").code == 0
    assert read_duel_json(Path("d"))["decision"] == "none"
    assert "no difference can be decided at alpha 0.05" in gymrun(*args, "--force")[2]


@pytest.mark.filterwarnings("ignore:.*The reward is a NaN value:UserWarning")
def test_runs_scored_without_their_nan_episodes_are_named(write_config: WriteConfig) -> None:
    # A pays 1 a step but every other episode of its diverges (NaN): scored on the others,
    # it ties with B, and the duel says which runs' scores leave episodes out.
    a = write_config(
        f"name: diverging\nenv: {{id: {FAKE_ID}, kwargs: {{length: 3, rewards: [1.0, .nan]}}}}\n"
        "agent: random\nepisodes: 4\n"
    )
    b = fake(write_config, "steady", reward=1.0)
    code, _, err = gymrun("duel", str(a), str(b), "--max-seeds", "2", "-o", "d")
    assert code == 0, err
    said = (
        "note: 2 runs scored without their episodes of NaN or infinite reward: "
        "a-seed=0 (2 of 4 episodes), a-seed=1 (2 of 4 episodes)"
    )
    assert said in err.splitlines()
    runs = read_duel_json(Path("d"))["runs"]
    assert [(r["side"], r["episodes"], r["nonfinite_rewards"]) for r in runs] == [
        ("A", 4, 2), ("B", 4, 0), ("A", 4, 2), ("B", 4, 0)
    ]  # fmt: skip
    assert said in gymrun("show", "d").stderr.splitlines()


def test_a_failing_run_ends_the_duel_as_failed(write_config: WriteConfig) -> None:
    a, b = fake(write_config, "one"), fake(write_config, "bad", fail_at=2)
    code, out, err = gymrun("duel", str(a), str(b), "-o", "d")
    assert code == 1
    assert "the duel failed: b-seed=0: " in err and "step 2 exploded" in err
    document = read_duel_json(Path("d"))
    assert (document["status"], document["decision"], document["rounds"]) == ("failed", None, [])
    assert "decision: undecided: failed after 0 seeds of each" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: Missing argument 'A' (see gymrun duel --help)"),
        ([RANDOM], "error: Missing argument 'B' (see gymrun duel --help)"),
        ([RANDOM, RANDOM, "--alpha", "1.5"], "error: --alpha 1.5: the test's level is a "
         "probability between 0 and 1"),
        ([RANDOM, RANDOM, "--score", "best"], "error: --score best: use one of mean, iqm, median"),
        ([RANDOM, RANDOM, "--spending", "fast"], "error: --spending fast: use one of linear, "
         "obrien-fleming, pocock"),
        ([RANDOM, "nowhere.yaml"], "error: nowhere.yaml: file not found"),
        ([RANDOM, RANDOM, "--seed", "18446744073709551614", "--max-seeds", "4"], "error: --seed "
         "18446744073709551614 --max-seeds 4: the duel's seeds would pass 2**64 - 1, the last "
         "seed a run takes"),
        ([RANDOM, RANDOM, "--seed", "18446744073709551616"], "error: Invalid value for '--seed': "
         "18446744073709551616: a seed is a whole number from 0 to 2**64 - 1 (see gymrun duel "
         "--help)"),
        (["--resume", "d", "-o", "e", "--force"], "error: --resume DIR records into DIR: drop "
         "--output, --force"),
        (["--resume", "nowhere"], "error: --resume nowhere: no such directory"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, out, err = gymrun("duel", *args)
    assert (code, out, err.strip()) == (2, "", message)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"max_seeds": 0}, "max_seeds=0: a duel plays at least 1 seed"),
        ({"round": 0}, "round=0: a round plays at least 1 seed of each"),
        ({"score": "best"}, "score='best': use one of mean, iqm, median"),
        ({"first_seed": -1}, "first_seed=-1: seeds are 0 or more"),
        ({"first_seed": 2**64 - 2, "max_seeds": 4}, "first_seed=18446744073709551614 "
         "max_seeds=4: the duel's seeds would pass 2**64 - 1, the last seed a run takes"),
        ({"alpha": 1.5}, "alpha=1.5: the test's level is a probability between 0 and 1"),
        ({"spending": "fast"}, "spending='fast': use one of linear, obrien-fleming, pocock"),
    ],
)  # fmt: skip
def test_a_library_call_names_the_arguments_it_was_passed(
    settings: dict[str, object], message: str
) -> None:
    # the command line's options (--max-seeds, --seed) are no part of a library call
    with pytest.raises(UsageError) as exc:
        load_duel(RANDOM, RANDOM, **settings)
    assert str(exc.value) == message


def test_resuming_without_a_directory_names_the_arguments() -> None:
    duel = load_duel(RANDOM, RANDOM, ["episodes=2"], max_seeds=1)
    with pytest.raises(UsageError, match=r"^resume=True needs duel_dir, the duel's directory$"):
        run_duel(duel, resume=True)
    assert not Path("recordings").exists()


@pytest.mark.slow  # a real process stopped by Ctrl-C mid-round, then resumed
def test_ctrl_c_mid_round_then_resume_gives_the_uninterrupted_decision(tmp_path: Path) -> None:
    args = [EPSILON, RANDOM, "--set", "episodes=3000", "--max-seeds", "8", "--json"]
    process = start_gymrun("duel", *args, "-o", "cut", cwd=tmp_path)
    second = tmp_path / "cut" / "a-seed=5" / "episodes.jsonl"  # a run of round 2
    deadline = time.monotonic() + 120
    while not (second.exists() and second.stat().st_size):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    code, _, err = finished(process)
    assert code == 130, err
    assert "interrupted after 4 seeds of each; finished runs are kept" in err
    assert read_duel_json(tmp_path / "cut")["status"] == "interrupted"
    kept = (tmp_path / "cut" / "a-seed=0" / "episodes.jsonl").stat().st_mtime_ns
    code, out, err = finished(start_gymrun("duel", "--resume", "cut", "--json", cwd=tmp_path))
    assert code == 0, err
    resumed = json.loads(out)
    code, out, err = finished(start_gymrun("duel", *args, "-o", "whole", cwd=tmp_path))
    assert code == 0, err
    whole = json.loads(out)
    assert resumed["decision"] == whole["decision"] and resumed["rounds"] == whole["rounds"]
    assert [r["score"] for r in resumed["runs"]] == [r["score"] for r in whole["runs"]]
    assert (tmp_path / "cut" / "a-seed=0" / "episodes.jsonl").stat().st_mtime_ns == kept
    assert os.path.isdir(tmp_path / "cut" / "b-seed=7")
