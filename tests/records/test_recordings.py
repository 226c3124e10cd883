"""Run directories: what a run leaves on disk, and that nothing finished is ever lost."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from gymrun import load_config, run_experiment
from gymrun.duel import load_duel, run_duel
from gymrun.errors import GymrunError, ResumeRefused
from gymrun.records.directory import claim_output_dir, new_run_dir
from gymrun.records.reading import read_run
from gymrun.sweep import load_sweep, run_sweep
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import start_gymrun, wait_for

WriteConfig = Callable[..., Path]


def episodes_on_disk(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]


def test_a_run_leaves_a_complete_record() -> None:
    code, _, err = gymrun("run", str(CONFIGS / "cartpole_epsilon.yaml"), "-n", "12", "-q")
    assert code == 0
    [run_dir] = Path("recordings/cartpole-epsilon").iterdir()
    assert err.strip() == f"recorded in {run_dir}"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        ".gymrun.lock",  # marks the directory as a run's; locked while it records
        "config.yaml",
        "episodes.jsonl",
        "meta.json",
        "reward.png",
        "summary.json",
    ]
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert (config["episodes"], config["seed"], config["reward_boundary"]) == (12, 42, 195.0)
    assert config["wrappers"] == [{"name": "epsilon_random", "epsilon": 0.5}]
    episodes = episodes_on_disk(run_dir)
    assert [e["episode"] for e in episodes] == list(range(12))
    assert set(episodes[0]) == {
        "episode",
        "seed",
        "reward",
        "shaped_reward",  # the config has a wrapper; an action wrapper leaves it the reward
        "steps",
        "terminated",
        "truncated",
        "reached",
    }
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["error"] is None
    assert summary["count"] == 12
    assert summary["mean_reward"] == pytest.approx(sum(e["reward"] for e in episodes) / 12)
    assert summary["started_at"] <= summary["ended_at"]
    meta = json.loads((run_dir / "meta.json").read_text())
    assert meta["gymnasium"] == "1.4.0"
    assert isinstance(meta["command"], list)  # sys.argv; checked for real in test_subprocess
    assert set(meta) >= {"gymrun", "numpy", "python", "platform", "git"}
    assert (run_dir / "reward.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_saved_config_reproduces_the_run(tmp_path: Path) -> None:
    gymrun(
        "run",
        str(CONFIGS / "cartpole_random.yaml"),
        "-n",
        "15",
        "--set",
        "seed=null",
        "--set",
        "wrappers=[{name: epsilon_random, epsilon: 0.3}]",
        "-o",
        "first",
        "-q",
    )
    code, _, _ = gymrun("run", "first/config.yaml", "-o", "again", "-q")
    assert code == 0
    assert episodes_on_disk(Path("again")) == episodes_on_disk(Path("first"))
    assert isinstance(yaml.safe_load(Path("first/config.yaml").read_text())["seed"], int)


def test_git_commit_is_recorded_inside_a_checkout(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(
        [
            "git",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        check=True,
    )
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "2", "-o", "run", "-q")
    meta = json.loads(Path("run/meta.json").read_text())
    assert meta["git"] == {"commit": head, "dirty": True}  # the new run directory is untracked


def test_output_dir_is_never_overwritten_without_force() -> None:
    gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "3", "-o", "out", "-q")
    before = {p.name: p.read_bytes() for p in Path("out").iterdir()}
    Path("out/notes.txt").write_text("mine")
    code, out, err = gymrun("run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "2", "-o", "out")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "error: --output out: the directory is not empty; nothing in it was touched "
        "(choose another directory, or pass --force to replace the run in it)"
    )
    assert {
        p.name: p.read_bytes() for p in Path("out").iterdir() if p.name != "notes.txt"
    } == before
    code, _, _ = gymrun(
        "run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "2", "-o", "out", "--force", "-q"
    )
    assert code == 0
    assert [e["reward"] for e in episodes_on_disk(Path("out"))] == [500.0, 500.0]
    assert Path("out/notes.txt").read_text() == "mine"  # --force replaces the run, nothing else


def test_a_folder_of_other_files_is_never_offered_force() -> None:
    # --force replaces a run; a folder of the user's own files has none, so the first
    # refusal says to choose another directory, not to pass --force (refused in turn)
    Path("mine").mkdir()
    Path("mine/notes.txt").write_text("mine")
    code, _, err = gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-o", "mine")
    assert code == 2
    assert err.strip() == (
        "error: --output mine: the directory is not empty and holds no gymrun run or sweep; "
        "nothing in it was touched (choose another directory)"
    )
    code, _, err = gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-o", "mine", "--force")
    assert code == 2
    assert err.startswith("error: --output mine: not a gymrun run or sweep directory, so --force")
    assert [p.name for p in Path("mine").iterdir()] == ["notes.txt"]


def test_output_that_is_a_file_is_refused() -> None:
    Path("taken").write_text("x")
    with pytest.raises(GymrunError, match="exists and is not a directory"):
        claim_output_dir(Path("taken"))


def test_runs_in_the_same_second_never_collide() -> None:
    dirs = [new_run_dir("same") for _ in range(5)]
    assert len(set(dirs)) == 5
    assert dirs[1].name == dirs[0].name + "-2"
    code, _, _ = gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "1", "-q")
    code2, _, _ = gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "1", "-q")
    assert (code, code2) == (0, 0)
    assert len(list(Path("recordings/cartpole_random").iterdir())) == 2


def test_no_record_writes_nothing() -> None:
    code, _, err = gymrun(
        "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "2", "--no-record", "-q"
    )
    assert (code, err) == (0, "")
    assert list(Path(".").iterdir()) == []


def test_a_config_error_leaves_no_directory(write_config: WriteConfig) -> None:
    path = write_config("env: CartPole-v1\nagent: {name: constant, action: 5}\n")
    code, _, _ = gymrun("run", str(path))
    assert code == 2
    assert not Path("recordings").exists()  # nor recordings/config0/


def test_an_env_that_raises_mid_run_leaves_a_failed_record(write_config: WriteConfig) -> None:
    path = write_config(
        "env: {id: gymrun-test/Fake-v0, kwargs: {length: 3, fail_at: 2, fail_episode: 4}}\n"
        "agent: {name: constant, action: 0}\nepisodes: 10\nseed: 0\n"
    )
    code, _, _ = gymrun("run", str(path), "-o", "run", "-q")
    assert code == 1
    assert [e["episode"] for e in episodes_on_disk(Path("run"))] == [0, 1, 2, 3]
    summary = json.loads(Path("run/summary.json").read_text())
    assert summary["status"] == "failed"
    assert summary["error"].startswith("episode 4, step 1: ValueError: step 2 exploded")
    assert summary["count"] == 4


def test_show_prints_the_run_again(write_config: WriteConfig) -> None:
    _, first, _ = gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "25", "-o", "run")
    code, shown, _ = gymrun("show", "run")
    assert code == 0
    assert shown.startswith("run run\nEpisodes")  # the episodes the run itself left out
    assert shown.endswith(first)  # then the summary exactly as the run printed it
    assert json.loads(gymrun("show", "run", "--json")[1])["summary"]["count"] == 25
    # a parent folder shows its newest run
    gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "3", "-q")
    assert "episodes │ 3" in gymrun("show", "recordings/cartpole_random")[1]


def test_show_an_interrupted_or_killed_run() -> None:
    gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-o", "run", "-q")
    # what a killed process leaves: a summary still "running" and a half-written last line
    summary = json.loads(Path("run/summary.json").read_text())
    Path("run/summary.json").write_text(json.dumps({**summary, "status": "running"}))
    with Path("run/episodes.jsonl").open("a") as f:
        f.write('{"episode": 5, "seed"')
    code, out, err = gymrun("show", "run")
    assert code == 0
    assert "episodes │ 5 of 5" not in out and "episodes │ 5" in out
    assert "status   │ killed" in out  # its lock is free: the process that held it is gone
    assert "note: its process is gone: it was killed before it could end" in err
    assert read_run(Path("run")).summary.count == 5
    # the JSON says what the table says
    assert json.loads(gymrun("show", "run", "--json")[1])["status"] == "killed"
    assert json.loads(gymrun("compare", "run", "--json")[1])["runs"][0]["status"] == "killed"


RANDOM = str(CONFIGS / "cartpole_random.yaml")
TAKE_A_RECORDING = [
    ["show"],
    ["compare"],
    ["plan-seeds", "-d", "1"],
    ["board"],
    ["board", ".", "--out"],
    ["run", "--resume"],
    ["run", RANDOM, "--resume"],
    ["sweep", str(CONFIGS / "cartpole_epsilon_sweep.yaml"), "--resume"],
    ["duel", "--resume"],
    ["run", RANDOM, "-o"],
    ["sweep", str(CONFIGS / "cartpole_epsilon_sweep.yaml"), "-o"],
    ["duel", RANDOM, RANDOM, "-o"],
]


@pytest.mark.parametrize("command", TAKE_A_RECORDING, ids=" ".join)
def test_a_link_that_leads_nowhere_is_named_as_such(command: list[str]) -> None:
    # Every command that takes a recorded directory says what the link is, in one line.
    Path("L").symlink_to("L")
    Path("D").symlink_to("gone")
    named = {"--out": "--out ", "--resume": "--resume ", "-o": "--output "}.get(command[-1], "")
    for link, said in (
        ("L", "a symbolic link that points to itself"),
        ("D", "a symbolic link to gone, which is missing"),
    ):
        result = gymrun(*command, link)
        assert (result.code, result.stderr) == (2, f"error: {named}{link}: {said}\n")


def test_show_refuses_what_is_not_a_run() -> None:
    Path("empty").mkdir()
    code, _, err = gymrun("show", "empty")
    assert (code, err.strip()) == (
        2,
        "error: empty: not a gymrun run, sweep or duel directory "
        "(no config.yaml, sweep.json or duel.json)",
    )
    assert gymrun("show", "missing")[2].strip() == "error: missing: no such directory"
    Path("afile").write_text("x")
    for command in ("show", "compare"):
        code, _, err = gymrun(command, "afile")
        assert (code, err.strip()) == (2, "error: afile: not a directory")


def test_compare_puts_runs_side_by_side() -> None:
    gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "20", "-o", "a", "-q")
    gymrun("run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "20", "-o", "b", "-q")
    code, out, _ = gymrun("compare", "a", "b")
    assert code == 0
    rows = [line for line in out.splitlines() if line.startswith("│ ")]
    assert rows[0].startswith("│ a ") and "│ CartPole-v1 │ random " in rows[0]
    assert "★" not in rows[0]
    assert "not reached on average" in rows[0]  # 20 episodes: never "solved", under 100
    assert rows[1].startswith("│ b ") and "500 ± 0 ★" in rows[1]
    assert "│ reached on average │" in " ".join(rows[1].split())
    data = json.loads(gymrun("compare", "a", "b", "--json")[1])
    assert [r["summary"]["mean_reward"] for r in data["runs"]][1] == 500.0


def test_library_runs_record_too(tmp_path: Path) -> None:
    run_dir = new_run_dir("lib", root=tmp_path)
    result = run_experiment(
        load_config(CONFIGS / "cartpole_random.yaml", episodes=4), record_dir=run_dir
    )
    assert result.run_dir == run_dir
    assert len(episodes_on_disk(run_dir)) == 4


def test_finishing_a_record_never_reads_its_episodes_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import gymrun.records.reading

    def refuse(*args: object) -> None:
        raise AssertionError("episodes.jsonl was read back")

    monkeypatch.setattr(gymrun.records.reading, "read_episodes", refuse)
    result = run_experiment(
        load_config(CONFIGS / "cartpole_random.yaml", episodes=50), record_dir=tmp_path
    )
    assert result.summary.count == 50 and result.notes == []
    assert (tmp_path / "reward.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_files_an_agent_reads_are_found_beside_the_config_and_traced_in_meta(
    tmp_path: Path, user_module: Callable[[str], str]
) -> None:
    module = user_module(
        """
        import hashlib
        class Replay:
            file_keywords = ("path",)
            def __init__(self, path):
                self.action = int(open(path).read())
            @classmethod
            def provenance(cls, path):
                return {"file": path, "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest()}
            def act(self, observation):
                return self.action
        """
    )
    project = tmp_path / "project"
    project.mkdir()
    (project / "action.txt").write_text("1")
    (project / "replay.yaml").write_text(
        f"env: CartPole-v1\nagent: {{name: '{module}:Replay', path: action.txt}}\n"
        "episodes: 2\nseed: 0\n"
    )
    code, _, err = gymrun("run", str(project / "replay.yaml"), "-o", "run", "-q")
    assert code == 0, err
    saved = yaml.safe_load(Path("run/config.yaml").read_text())
    assert saved["agent"]["path"] == str(project / "action.txt")  # runs the same from anywhere
    meta = json.loads(Path("run/meta.json").read_text())
    assert meta["agent"] == {
        "file": str(project / "action.txt"),
        "sha256": "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
    }


def test_a_finished_run_whose_episodes_were_lost_is_damaged_not_whole() -> None:
    gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "20", "-o", "run", "-q")
    lines = Path("run/episodes.jsonl").read_text().splitlines(keepends=True)
    emptied = "run/episodes.jsonl: 0"
    cut_off = "run/episodes.jsonl:20: its last line is cut off (10 bytes without their end): 19"
    for kept, cut, where in (([], "", emptied), (lines[:19], lines[19][:10], cut_off)):
        Path("run/episodes.jsonl").write_text("".join(kept) + cut)
        said = f"{where} episodes where the run's summary.json counts 20"
        for command in ("show", "compare"):
            code, _, err = gymrun(command, "run")
            assert code == 2 and f"error: {said}: episodes were lost" in err
        assert json.loads(gymrun("show", "run", "--json")[1])["problems"][0].startswith(said)


def test_episodes_past_what_a_run_played_are_damaged_not_counted() -> None:
    gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "20", "-o", "run", "-q")
    lines = Path("run/episodes.jsonl").read_text().splitlines(keepends=True)
    summary = json.loads(Path("run/summary.json").read_text())
    # another run's episode 20 appended to a finished run of 20, then the same run marked
    # as killed (its summary still says running): neither may be read as this run's
    extra = lines[19].replace('"episode": 19', '"episode": 20')
    killed = json.dumps(summary | {"status": "running"})
    for status_text, said in (
        (json.dumps(summary), "21 episodes where the run's summary.json counts 20"),
        (killed, "21 episodes where its config.yaml asks for 20"),
    ):
        Path("run/summary.json").write_text(status_text)
        Path("run/episodes.jsonl").write_text("".join(lines) + extra)
        for command in ("show", "compare"):
            code, _, err = gymrun(command, "run")
            assert code == 2, err
            assert f"error: run/episodes.jsonl:21: {said}: those past it are not the run's" in err
        problems = json.loads(gymrun("show", "run", "--json")[1])["problems"]
        assert problems == [f"run/episodes.jsonl:21: {said}: those past it are not the run's"]


SLOW_ENV = """
import time

import gymnasium as gym
from gymnasium.envs.registration import register


class Slow(gym.Env):
    observation_space = gym.spaces.Discrete(2)
    action_space = gym.spaces.Discrete(2)

    def __init__(self):
        time.sleep(600)  # built as slowly as a large simulator can be


register(id="Slow-v0", entry_point=Slow)
"""


def test_a_run_killed_as_it_started_is_the_same_to_every_reader(
    tmp_path: Path, write_config: WriteConfig
) -> None:
    cartpole = str(CONFIGS / "cartpole_random.yaml")
    assert gymrun("run", cartpole, "-n", "5", "-q", "--set", "name=slow")[0] == 0
    (tmp_path / "slowenv.py").write_text(SLOW_ENV)
    config = write_config(
        "imports: [slowenv]\nenv: Slow-v0\nagent: random\nepisodes: 3\nmax_steps: 5\n",
        name="slow.yaml",
    )
    [recorded] = Path("recordings/slow").iterdir()
    process = start_gymrun("run", str(config), cwd=tmp_path)
    try:  # its directory is claimed, and its environment is being built
        wait_for(lambda: len(list(Path("recordings/slow").iterdir())) == 2)
        [claimed] = set(Path("recordings/slow").iterdir()) - {recorded}
        wait_for(lambda: (claimed / ".gymrun.lock").exists())
        code, _, err = gymrun("show", str(claimed))
        assert (code, err) == (
            2,
            f"error: {claimed}: a run, sweep or duel starting now: nothing of it is recorded yet\n",
        )
        process.kill()  # SIGKILL: nothing can clean up after it
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert [p.name for p in claimed.iterdir()] == [".gymrun.lock"]
    never = (
        "a run, sweep or duel that never started: nothing of it was recorded, and no process "
        "holds its lock (killed as it started); it can be removed"
    )
    # compare recordings/slow/*: the others, and a note naming it
    code, out, err = gymrun("compare", *sorted(map(str, Path("recordings/slow").iterdir())))
    assert code == 0, err
    assert err == f"note: {claimed}: left out: {never}\n"
    assert [line.split()[1] for line in out.splitlines() if line.startswith("│ rec")] == [
        str(recorded)
    ]
    # show recordings/NAME: the newest run that recorded anything
    code, out, _ = gymrun("show", "recordings/slow")
    assert code == 0 and out.startswith(f"run {recorded}\n")
    # show DIR and --resume DIR: what it is, in one line
    assert gymrun("show", str(claimed))[1:] == ("", f"error: {claimed}: {never}\n")
    code, _, err = gymrun("run", "--resume", str(claimed))
    assert (code, err) == (2, f"error: --resume {claimed}: {never}\n")
    # a sweep's or a duel's directory has the same moment, before its sweep.json or duel.json
    sweep = str(CONFIGS / "cartpole_epsilon_sweep.yaml")
    for command in (("sweep", sweep), ("duel",)):
        code, _, err = gymrun(*command, "--resume", str(claimed))
        assert (code, err) == (2, f"error: --resume {claimed}: {never}\n")
    # the board shows the run that recorded, and counts nothing damaged
    code, out, _ = gymrun("board", "recordings", "--out", "site", "--json")
    assert code == 0
    assert (json.loads(out)["runs"], json.loads(out)["damaged"]) == (1, 0)
    # killed between making its config.yaml and writing it: the same, for every reader
    (claimed / "config.yaml").touch()
    code, out, err = gymrun("compare", *sorted(map(str, Path("recordings/slow").iterdir())))
    assert (code, err) == (0, f"note: {claimed}: left out: {never}\n")
    assert gymrun("show", str(claimed))[1:] == ("", f"error: {claimed}: {never}\n")
    code, _, err = gymrun("run", "--resume", str(claimed))
    assert (code, err) == (2, f"error: --resume {claimed}: {never}\n")
    code, out, _ = gymrun("board", "recordings", "--out", "site", "--json")
    assert (json.loads(out)["runs"], json.loads(out)["damaged"]) == (1, 0)


def test_resuming_a_directory_whose_run_is_starting_says_so_for_runs_sweeps_and_duels(
    tmp_path: Path, write_config: WriteConfig
) -> None:
    """Never 'it can be removed' while a live process holds the lock of a directory that
    records nothing yet: on the command line and from Python alike."""
    (tmp_path / "slowenv.py").write_text(SLOW_ENV)
    config = write_config(
        "imports: [slowenv]\nenv: Slow-v0\nagent: random\nepisodes: 3\nmax_steps: 5\n",
        name="slow.yaml",
    )
    claimed = tmp_path / "starting"
    process = start_gymrun("run", str(config), "-o", str(claimed), cwd=tmp_path)
    starting = (
        f"--resume {claimed}: a run, sweep or duel starting now: nothing of it is recorded yet"
    )
    sweep, a, b = (
        str(CONFIGS / f"{n}.yaml")
        for n in ("cartpole_epsilon_sweep", "cartpole_random", "cartpole_balance")
    )
    try:  # its directory is claimed, and its environment is being built
        wait_for(lambda: (claimed / ".gymrun.lock").exists())
        for command in (("run",), ("sweep", sweep), ("duel",), ("duel", a, b)):
            code, _, err = gymrun(*command, "--resume", str(claimed))
            assert (code, err) == (2, f"error: {starting}\n"), command
        said = starting.partition(": ")[2]
        with pytest.raises(ResumeRefused) as refused:
            run_sweep(load_sweep(sweep), sweep_dir=claimed, resume=True)
        assert str(refused.value) == f"sweep_dir='{claimed}': {said}"
        with pytest.raises(ResumeRefused) as refused:
            run_duel(load_duel(a, b), duel_dir=claimed, resume=True)
        assert str(refused.value) == f"duel_dir='{claimed}': {said}"
        assert process.poll() is None  # still holding it
    finally:
        process.kill()
        process.wait(timeout=30)
    assert [p.name for p in claimed.iterdir()] == [".gymrun.lock"]
