"""Where a run records: ``--force`` never replaces what is not a run, never writes through a
link, two runs never share a directory, and a place that cannot hold a run is one clean line."""

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from gymrun import load_config, run_experiment
from gymrun.duel import load_duel, recorded_duel, run_duel
from gymrun.errors import RecordError, ResumeRefused
from gymrun.records.directory import RecordDir
from gymrun.sweep import load_sweep, run_sweep
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import finished, lines, start_gymrun, wait_for

WriteConfig = Callable[..., Path]


BALANCE = str(CONFIGS / "cartpole_balance.yaml")


RANDOM = str(CONFIGS / "cartpole_random.yaml")


def test_force_never_replaces_what_is_not_a_run(tmp_path: Path) -> None:
    mine = tmp_path / "project"
    (mine / "videos").mkdir(parents=True)
    (mine / "config.yaml").write_text("env: CartPole-v1\n")
    (mine / "videos" / "holiday.mp4").write_text("precious")
    os.chdir(mine)
    code, _, err = gymrun("run", "config.yaml", "-o", ".", "--force")
    assert code == 2
    assert "not a gymrun run or sweep directory, so --force does not replace" in err
    assert sorted(p.name for p in mine.rglob("*")) == ["config.yaml", "holiday.mp4", "videos"]


def test_force_touches_nothing_until_the_new_run_is_built(write_config: WriteConfig) -> None:
    assert gymrun("run", RANDOM, "-n", "3", "-o", "prev", "-q")[0] == 0
    before = {p.name: p.read_bytes() for p in Path("prev").iterdir()}
    broken = write_config("env: CartPole-v1\nagent: {name: constant, action: 7}\n")
    code, _, err = gymrun("run", str(broken), "-o", "prev", "--force")
    said = f"error: {broken}:2 agent.action: 7 is not an action of Discrete(2)"
    assert (code, err.strip()) == (2, said)
    assert {p.name: p.read_bytes() for p in Path("prev").iterdir()} == before


def test_force_never_writes_through_a_link(write_config: WriteConfig, tmp_path: Path) -> None:
    path = write_config("env: CartPole-v1\nepisodes: 2\nseed: 0\nrecord: {video: true}\n")
    assert gymrun("run", str(path), "-o", "out", "-q")[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    shutil.rmtree("out/videos")
    Path("out/videos").symlink_to(elsewhere)
    assert gymrun("run", str(path), "-o", "out", "--force", "-q")[0] == 0
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]
    assert not Path("out/videos").is_symlink() and len(list(Path("out/videos").iterdir())) == 2


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_force_never_replaces_a_record_through_a_link_to_it(
    write_config: WriteConfig, command: str
) -> None:
    # -o LINK --force would remove what LINK leads to: a sweep, say, behind a name that
    # does not say so
    sweep = write_config("env: CartPole-v1\nepisodes: 2\nsweep:\n  seeds: [0, 1]\n")
    assert gymrun("sweep", str(sweep), "-o", "kept")[0] == 0
    before = sorted(p.name for p in Path("kept").iterdir())
    Path("link").symlink_to("kept")
    config = write_config(
        "env: CartPole-v1\nepisodes: 2\nseed: 0\n"
        + ("sweep:\n  seeds: [3]\n" if command == "sweep" else "")
    )
    code, out, err = gymrun(command, str(config), "-o", "link", "--force")
    assert (code, out) == (2, "")
    assert err == (
        f"error: --output link: a symbolic link to {Path('kept').resolve()}; --force replaces "
        "a record only in a directory named as itself, not through a link; nothing in it was "
        "touched\n"
    )
    assert sorted(p.name for p in Path("kept").iterdir()) == before


def test_two_runs_can_never_share_a_directory(tmp_path: Path) -> None:
    first = start_gymrun("run", BALANCE, "-n", "100000", "-q", "-o", "run", cwd=tmp_path)
    try:
        wait_for(lambda: len(lines(tmp_path / "run" / "episodes.jsonl")) >= 2)
        for extra in ([], ["--force"]):
            code, _, err = finished(
                start_gymrun("run", BALANCE, "-n", "5", "-q", "-o", "run", *extra, cwd=tmp_path)
            )
            assert code == 2
            assert "another gymrun run is recording there now" in err or "not empty" in err
    finally:
        first.send_signal(signal.SIGINT)
        code, _, _ = finished(first)
    assert code == 130
    episodes = [json.loads(line)["episode"] for line in lines(tmp_path / "run/episodes.jsonl")]
    assert episodes == list(range(len(episodes)))  # one run's episodes, once each


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        (
            lambda: Path("link").symlink_to("nowhere"),
            ["-o", "link"],
            "a symbolic link to nowhere, which is missing",
        ),
        (lambda: Path("file").write_text("x"), ["-o", "file"], "exists and is not a directory"),
        (
            lambda: (Path("recordings").mkdir(), Path("recordings/cartpole_random").write_text("")),
            [],
            "error: recordings/cartpole_random: not a directory, so the recordings directory "
            "recordings/cartpole_random cannot be made\n",
        ),
        # the path that is wrong is named, not the one that could not be made in it
        (
            lambda: Path("recordings").write_text(""),
            [],
            "error: recordings: not a directory, so the recordings directory "
            "recordings/cartpole_random cannot be made\n",
        ),
        (
            lambda: Path("file").write_text("x"),
            ["-o", "file/run"],
            "error: file: not a directory, so --output file/run cannot be made\n",
        ),
    ],
)
def test_a_place_that_cannot_hold_a_run_is_a_clean_error(
    setup: Callable[[], object], args: list[str], expected: str
) -> None:
    setup()
    code, out, err = gymrun("run", RANDOM, "-n", "1", *args)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and expected in err and len(err.splitlines()) == 1


def test_a_name_too_long_for_a_directory(write_config: WriteConfig) -> None:
    path = write_config(f"name: {'a' * 300}\nenv: CartPole-v1\n")
    code, _, err = gymrun("run", str(path))
    assert code == 2 and "name: String should have at most 100 characters" in err


def test_a_read_only_place_is_a_clean_error(tmp_path: Path) -> None:
    mount = tmp_path / "read-only"
    mount.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mount)]
    ).returncode:
        pytest.fail("cannot mount a tmpfs (the tests run as root)")
    try:
        os.chdir(mount)
        code, out, err = gymrun("run", RANDOM, "-n", "1")
        assert (code, out) == (2, "")
        assert err.strip() == (
            "error: the recordings directory recordings/cartpole_random: cannot make it: "
            "Read-only file system"
        )
        code, _, err = gymrun("run", RANDOM, "-n", "1", "-o", "run")
        assert (code, err.strip()) == (
            2,
            "error: --output run: cannot make it: Read-only file system",
        )
    finally:
        os.chdir(tmp_path)
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _tree(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


MISSING_MODEL = ["run", "CartPole-v1", "-a", "sb3", "--set", "agent.path=missing.zip"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (MISSING_MODEL, "no such file"),
        (["run", "CartPole-v1", "-a", "dynamic_programming"], "CartPole-v1 is not one of them"),
        ([*MISSING_MODEL, "-o", "out/deeper/run"], "no such file"),
        (["baselines", "NoSuchEnv-v0"], "no registered environment matches"),
        (["baselines", "NoSuchEnv-v0", "-o", "out/table"], "no registered environment matches"),
    ],
    ids=["missing model", "privileged agent", "missing model -o", "baselines", "baselines -o"],
)
def test_a_refused_run_leaves_nothing_behind(tmp_path: Path, args: list[str], said: str) -> None:
    # a recordings tree with a run already in it stays exactly as it was
    assert gymrun("run", RANDOM, "-n", "2", "-q").code == 0
    before = _tree(tmp_path)
    code, _, err = gymrun(*args)
    assert code == 2 and said in err and err.count("\n") == 1, err
    assert _tree(tmp_path) == before
    # in an empty place, neither recordings/NAME/ nor recordings/ itself is left
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    os.chdir(fresh)
    assert gymrun(*args).code == 2
    assert _tree(fresh) == []


def test_library_calls_name_the_directory_argument_they_were_given(tmp_path: Path) -> None:
    """From Python, a refused directory is named as the argument it was passed, and the
    way on is an argument too (the command line names ``--output``, ``--force`` and
    ``--resume``: the tests above)."""
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    kept = "nothing in it was touched"
    with pytest.raises(RecordError) as refused:
        RecordDir.claim(taken)
    assert str(refused.value) == (
        f"path='{taken}': the directory is not empty and holds no gymrun run or sweep; {kept} "
        "(choose another directory)"
    )
    with pytest.raises(RecordError) as refused:
        RecordDir.claim(taken, force=True)
    assert str(refused.value) == (
        f"path='{taken}': not a gymrun run or sweep directory, so force=True does not "
        f"replace what is in it; {kept}"
    )
    with pytest.raises(RecordError) as refused:
        RecordDir.reopen(taken)
    assert str(refused.value) == f"path='{taken}': not a gymrun run's directory"
    sweep = load_sweep(str(CONFIGS / "cartpole_epsilon_sweep.yaml"))
    with pytest.raises(RecordError) as refused:
        run_sweep(sweep, sweep_dir=taken)
    assert str(refused.value) == (
        f"sweep_dir='{taken}': the directory is not empty and holds no gymrun run or sweep; "
        f"{kept} (choose another directory)"
    )
    duel = load_duel(RANDOM, BALANCE)
    refusals = [
        (lambda: run_sweep(sweep, sweep_dir=taken, resume=True), "sweep_dir", "sweep"),
        (lambda: run_duel(duel, duel_dir=taken, resume=True), "duel_dir", "duel"),
        (lambda: recorded_duel(taken), "directory", "duel"),
    ]
    for call, keyword, kind in refusals:
        with pytest.raises(ResumeRefused) as resumed:
            call()
        said = f"no {kind}.json: not a {kind}'s directory"
        assert str(resumed.value) == f"{keyword}='{taken}': {said}"
    assert gymrun("run", RANDOM, "-n", "2", "-o", str(tmp_path / "run"), "-q")[0] == 0
    with pytest.raises(RecordError) as refused:  # a run's: force replaces it
        RecordDir.claim(tmp_path / "run")
    assert str(refused.value) == (
        f"path='{tmp_path / 'run'}': the directory is not empty; {kept} (choose another "
        "directory, or pass force=True to replace the run in it)"
    )
    with pytest.raises(RecordError) as refused:  # a run's: resume goes on with it
        run_sweep(sweep, sweep_dir=tmp_path / "run")
    assert str(refused.value).endswith("or pass resume=True to go on with what is recorded there)")
    config = load_config(BALANCE, episodes=2)
    with pytest.raises(ResumeRefused) as resumed:
        run_experiment(config, record_dir=tmp_path / "run", resume=True)
    assert str(resumed.value).startswith(f"record_dir='{tmp_path / 'run'}': ")
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
