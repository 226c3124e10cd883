"""An unlucky user's day: --force on the wrong directory, two runs at once, a full disk, a
killed worker, an agent that exits, damaged records, huge inputs. Each ends in a clean
one-line error or a consistent record, never in lost data or a traceback."""

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gymrun.cli import app

from .conftest import CONFIGS, FAKE_ID, default_signals, start_gymrun

WriteConfig = Callable[..., Path]
BALANCE = str(CONFIGS / "cartpole_balance.yaml")
RANDOM = str(CONFIGS / "cartpole_random.yaml")


def gymrun(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def process(*args: str, cwd: Path, **options: object) -> subprocess.Popen[str]:
    return start_gymrun(*args, cwd=cwd, **options)


def finished(child: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    try:
        out, err = child.communicate(timeout=timeout)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return child.returncode, out, err


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


# -- data never destroyed -------------------------------------------------------------------


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
    assert (code, err.strip()) == (2, "error: agent action: 7 is not an action of Discrete(2)")
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


def test_two_runs_can_never_share_a_directory(tmp_path: Path) -> None:
    first = process("run", BALANCE, "-n", "100000", "-q", "-o", "run", cwd=tmp_path)
    try:
        wait_for(lambda: len(lines(tmp_path / "run" / "episodes.jsonl")) >= 2)
        for extra in ([], ["--force"]):
            code, _, err = finished(
                process("run", BALANCE, "-n", "5", "-q", "-o", "run", *extra, cwd=tmp_path)
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
        (lambda: Path("link").symlink_to("nowhere"), ["-o", "link"], "a symbolic link to nothing"),
        (lambda: Path("file").write_text("x"), ["-o", "file"], "exists and is not a directory"),
        (
            lambda: (Path("recordings").mkdir(), Path("recordings/cartpole_random").write_text("")),
            [],
            "cannot make it",
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


# -- faults end in a consistent record ------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)]).returncode:
        pytest.fail("cannot mount a tmpfs (the tests run as root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_fails_the_run_and_keeps_a_consistent_record(tiny_disk: Path) -> None:
    os.chdir(tiny_disk)
    code, _, err = gymrun("run", BALANCE, "-n", "100000", "-q", "-o", "run")
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "error: cannot write the run record: No space left on device"
    )
    summary = json.loads(Path("run/summary.json").read_text())
    assert summary["status"] == "failed" and "No space left" in summary["error"]
    whole = [line for line in Path("run/episodes.jsonl").read_text().split("\n")[:-1]]
    assert summary["count"] == len(whole) > 0  # the summary counts what is on disk
    assert not list(Path("run").glob("*.partial"))


def test_a_killed_worker_process_does_not_hang_the_run(tmp_path: Path) -> None:
    serial = json.loads(gymrun("run", RANDOM, "-n", "3000", "--json", "--no-record")[1])
    child = process("run", RANDOM, "-n", "3000", "-w", "2", "--json", "--no-record", cwd=tmp_path)
    try:
        children = Path(f"/proc/{child.pid}/task/{child.pid}/children")
        wait_for(lambda: len(children.read_text().split()) >= 2, timeout=60)
        os.kill(int(children.read_text().split()[0]), signal.SIGKILL)
    finally:
        code, out, err = finished(child, timeout=120)
    assert code == 0, err
    assert json.loads(out)["episodes"] == serial["episodes"]  # lost chunks played again


def test_a_sweep_of_many_runs_under_a_low_open_file_limit(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    path = write_config("env: CartPole-v1\nepisodes: 1\nsweep:\n  replicates: 400\n")

    def few_files() -> None:
        default_signals()
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    code, out, err = finished(
        process("sweep", str(path), "-o", "sweep", "--json", cwd=tmp_path, preexec_fn=few_files)
    )
    assert code == 0, err
    assert json.loads(out)["points"][0]["episodes"] == 400
    assert len(list((tmp_path / "sweep").glob("*/summary.json"))) == 400


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("raise SystemExit(0)", "episode 0, step 0: SystemExit: 0 (raised in act at "),
        ("raise Halt('no more')", "episode 0, step 0: Halt: no more (raised in act at"),
    ],
)
def test_an_agent_that_exits_or_raises_anything_fails_the_run_cleanly(
    write_config: WriteConfig, user_module: Callable[[str], str], agent: str, expected: str
) -> None:
    module = user_module(
        f"class Halt(BaseException):\n    pass\ndef act(observation):\n    {agent}\n"
    )
    path = write_config(f"env: CartPole-v1\nagent: '{module}:act'\nepisodes: 3\n")
    code, out, err = gymrun("run", str(path), "-o", "run")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(f"error: {expected}")
    assert json.loads(Path("run/summary.json").read_text())["status"] == "failed"
    assert "Traceback" not in err and "status   │ failed" in out


@pytest.mark.parametrize("reward", ["np.array([1.0, 2.0])", "1j"])
def test_a_reward_that_is_not_a_number(
    write_config: WriteConfig, user_module: Callable[[str], str], reward: str
) -> None:
    module = user_module(
        f"""
        import gymnasium as gym
        import numpy as np
        class Odd(gym.RewardWrapper):
            def reward(self, reward):
                return {reward}
        """
    )
    path = write_config(f"env: CartPole-v1\nwrappers: ['{module}:Odd']\nepisodes: 2\n")
    code, _, err = gymrun("run", str(path), "-o", "run")
    assert code == 1
    assert "episode 0, step " in err and "TypeError: the reward is not a number: " in err
    assert json.loads(Path("run/summary.json").read_text())["status"] == "failed"


# -- limits before work, and input that is merely odd ----------------------------------------


def test_a_config_read_from_an_endless_device_stops_at_the_limit() -> None:
    code, _, err = gymrun("validate", "/dev/zero")
    assert (code, err.strip()) == (
        2,
        "error: /dev/zero: file is larger than 1,000,000 bytes, the limit for a config",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "env: CartPole-v1\nsweep:\n"
            + "".join(f"  k{i}: [{','.join('1' * 10)}]\n" for i in range(10)),
            "the grid has 10,000,000,000 runs (" + " x ".join(["10"] * 10) + " points x 1 seeds)",
        ),
        (
            "env: CartPole-v1\nsweep: {episodes: [1], replicates: 1000000000}\n",
            "sweep.replicates: 1,000,000,000 replicates; a sweep has at most 100,000 runs",
        ),
        (
            "env: CartPole-v1\nsweep: {seed: [1, 2, 3]}\n",
            "sweep.seed: the seeds of a sweep are given as seeds: [...] (or replicates: N)",
        ),
    ],
)
def test_sweep_grids_are_bounded_and_checked_before_expanding(
    write_config: WriteConfig, text: str, expected: str
) -> None:
    code, _, err = gymrun("sweep", str(write_config(text)), "--dry-run")
    assert code == 2 and expected in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "env: " + "[" * 5000 + "]" * 5000 + "\n",
            "nested 5000 levels deep; a config has at most 64",
        ),
        ("env: CartPole-v1\nseed: " + "7" * 5000 + "\n", "a number has more than 4,300 digits"),
        (
            "env: CartPole-v1\nseed: 18446744073709551616\n",
            "seed: Input should be less than or equal to 18446744073709551615",
        ),
        (
            "env: CartPole-v1\nepisodes: 3\nepisodes: 4\n",
            ":3: invalid YAML: key 'episodes' is given twice (lines 2 and 3)",
        ),
        (
            "env: CartPole-v1\nreward_boundary: .nan\n",
            "reward_boundary: Input should be a finite number",
        ),
    ],
)
def test_odd_input_is_one_line_and_exit_2(
    write_config: WriteConfig, text: str, expected: str
) -> None:
    code, _, err = gymrun("run", str(write_config(text)), "--no-record")
    assert code == 2
    assert expected in err and len(err.strip().splitlines()) == 1


def test_a_very_long_run_in_workers_costs_no_memory_up_front(tmp_path: Path) -> None:
    child = process(
        "run", RANDOM, "-n", "100000000000", "-w", "2", "--no-record", "-q", cwd=tmp_path
    )
    try:
        time.sleep(4)
        status = Path(f"/proc/{child.pid}/status").read_text()
        resident = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        )
        assert resident < 400_000  # kB: the chunks are made as they are sent
    finally:
        child.send_signal(signal.SIGINT)
        code, out, _ = finished(child)
    assert code == 130 and "of 100000000000" in out


# -- damaged records are bad input for show and compare --------------------------------------


@pytest.fixture
def recorded() -> Path:
    assert gymrun("run", RANDOM, "-n", "5", "-o", "run", "-q")[0] == 0
    return Path("run")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (
            lambda r: (r / "episodes.jsonl").write_text(
                (r / "episodes.jsonl").read_text().replace('{"episode": 3', 'garbage{"episode": 3')
            ),
            "run/episodes.jsonl:4: not an episode record",
        ),
        (
            lambda r: (r / "episodes.jsonl").write_bytes(
                (r / "episodes.jsonl").read_bytes()[:50] + b"\xff\xfe\n"
            ),
            "run/episodes.jsonl:1: not an episode record",
        ),
        (
            lambda r: (r / "episodes.jsonl").write_text(
                '{"episode": 0, "seed": 1, "reward": "lots", "steps": 2, "terminated": true, '
                '"truncated": false, "reached": null}\n'
            ),
            "run/episodes.jsonl:1: not an episode record "
            "(could not convert string to float: 'lots')",
        ),
        (
            lambda r: (r / "episodes.jsonl").write_text("[1, 2]\n"),
            "run/episodes.jsonl:1: not an episode record (a line is not a JSON object)",
        ),
        (
            lambda r: ((r / "episodes.jsonl").unlink(), (r / "episodes.jsonl").mkdir()),
            "run/episodes.jsonl: not a file",
        ),
        (
            lambda r: (r / "summary.json").write_text("[1]"),
            "run/summary.json: not a summary (a list, not a mapping)",
        ),
        (
            lambda r: (r / "summary.json").write_bytes(b"\x00\x01"),
            "run/summary.json: not a summary",
        ),
    ],
)
def test_show_and_compare_name_the_damaged_file_and_line(
    recorded: Path, damage: Callable[[Path], object], expected: str
) -> None:
    damage(recorded)
    for command in (["show", "run"], ["compare", "run"], ["show", "run", "--json"]):
        code, out, err = gymrun(*command)
        assert code == 2, command
        assert f"error: {expected}" in err
        assert "Traceback" not in err
    code, out, _ = gymrun("show", "run")
    assert "cartpole_random: CartPole-v1" in out  # what could be read is still shown


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("", "not a gymrun run's config"),
        ("- 1\n", "not a gymrun run's config"),
        ("a: [\n", "cannot read the run's config"),
    ],
)
def test_a_damaged_config_is_named(recorded: Path, config: str, expected: str) -> None:
    (recorded / "config.yaml").write_text(config)
    code, _, err = gymrun("show", "run")
    assert code == 2 and err.startswith(f"error: run/config.yaml: {expected}")


def test_show_finds_the_newest_run_of_a_second(tmp_path: Path) -> None:
    for suffix in ("", "-2", "-9", "-11"):
        stamp = "2026-01-01T00-00-00Z" + suffix
        assert gymrun("run", RANDOM, "-n", "1", "-q", "-o", f"recordings/x/{stamp}")[0] == 0
    out = gymrun("show", "recordings/x")[1]
    assert out.startswith("run recordings/x/2026-01-01T00-00-00Z-11\n")


# -- stdout stays JSON ------------------------------------------------------------------------


def test_json_stays_the_only_thing_on_stdout_whatever_user_code_prints(
    write_config: WriteConfig, user_module: Callable[[str], str], tmp_path: Path
) -> None:
    module = user_module(
        """
        import os
        print("importing, loudly")
        class Chatty:
            def act(self, observation):
                print("acting")
                os.write(1, b"straight to the descriptor\\n")
                return 0
        """
    )
    path = write_config(
        f"env: CartPole-v1\nagent: '{module}:Chatty'\nepisodes: 2\nreward_boundary: .inf\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "gymrun", "run", str(path), "--json", "--no-record"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert (
        result.returncode == 2
        and "reward_boundary: Input should be a finite number" in result.stderr
    )
    path.write_text(path.read_text().replace("reward_boundary: .inf\n", ""))
    result = subprocess.run(
        [sys.executable, "-m", "gymrun", "run", str(path), "--json", "--no-record"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr

    def refuse(constant: str) -> None:
        raise AssertionError(constant)

    document = json.loads(result.stdout, parse_constant=refuse)
    assert document["summary"]["count"] == 2
    assert "acting" in result.stderr and "straight to the descriptor" in result.stderr
    assert "importing, loudly" in result.stderr


# -- sweeps -----------------------------------------------------------------------------------


def test_a_sweep_of_seeds_alone_is_drawn(write_config: WriteConfig) -> None:
    path = write_config("env: CartPole-v1\nepisodes: 2\nsweep: {seeds: [1, 2]}\n")
    code, _, err = gymrun("sweep", str(path), "-o", "s")
    assert code == 0, err
    assert Path("s/sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_force_replaces_a_sweep(write_config: WriteConfig) -> None:
    path = write_config("env: CartPole-v1\nepisodes: 2\nsweep: {episodes: [1, 2]}\n")
    assert gymrun("sweep", str(path), "-o", "s")[0] == 0
    code, _, err = gymrun("sweep", str(path), "-o", "s", "--force", "--set", "sweep.episodes=[3]")
    assert code == 0, err
    assert sorted(p.name for p in Path("s").iterdir() if p.is_dir()) == ["episodes=3-seed=0"]


def test_a_file_name_with_spaces_names_the_sweep(tmp_path: Path) -> None:
    path = tmp_path / "my sweep.yaml"
    path.write_text("env: CartPole-v1\nepisodes: 1\nsweep: {episodes: [1]}\n")
    code, out, err = gymrun("sweep", str(path), "--dry-run")
    assert code == 0, err
    assert "my-sweep:" in out


def test_a_zero_mean_sorts_above_a_negative_one(write_config: WriteConfig) -> None:
    path = write_config(
        f"env: {{id: {FAKE_ID}, kwargs: {{length: 2}}}}\nagent: {{name: constant, action: 0}}\n"
        "episodes: 2\nsweep:\n  env.kwargs.reward: [-1.0, 0.0]\n"
    )
    data = json.loads(gymrun("sweep", str(path), "--json", "--no-record")[1])
    assert [p["mean_reward"] for p in data["points"]] == [-2.0, 0.0]
    assert data["best"] == 1
    table = gymrun("sweep", str(path), "--no-record")[1]
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert "0 [0, 0] ★" in rows[0] and "-2 [-2, -2]" in rows[1]


def test_a_sweep_without_a_boundary_is_judged_on_the_spec_threshold(
    write_config: WriteConfig,
) -> None:
    path = write_config("env: CartPole-v1\nagent: cartpole_balance\nsweep: {episodes: [3]}\n")
    point = json.loads(gymrun("sweep", str(path), "--json", "--no-record")[1])["points"][0]
    assert (point["solved"], point["runs"][0]["summary"]["reward_boundary"]) == (True, 475.0)


def test_a_vector_sweep_on_worker_processes(write_config: WriteConfig) -> None:
    path = write_config(
        "env: CartPole-v1\nagent: random\nvector: {num_envs: 4}\nepisodes: 40\n"
        "sweep: {agent: [random, cartpole_balance]}\n"
    )
    local = json.loads(gymrun("sweep", str(path), "--json", "--no-record")[1])
    pool = json.loads(gymrun("sweep", str(path), "--json", "--no-record", "-e", "process")[1])
    assert [p["status"] for p in pool["points"]] == ["completed", "completed"]
    assert [p["mean_reward"] for p in pool["points"]] == [p["mean_reward"] for p in local["points"]]


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
