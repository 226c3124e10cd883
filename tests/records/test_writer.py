"""Writing a run's record: a full disk fails the run and leaves a consistent record."""

import contextlib
import json
import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import gymrun
from tests.support.fake_env import FAKE_ID
from tests.support.paths import CONFIGS
from tests.support.processes import default_signals, finished, start_gymrun

RANDOM = str(CONFIGS / "cartpole_random.yaml")
SWEEP = str(CONFIGS / "cartpole_epsilon_sweep.yaml")


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
    # Episodes of one step: a few thousand episode lines fill the disk.
    one_step = f"{{id: {FAKE_ID}, kwargs: {{length: 1}}}}"
    code, _, err = gymrun(
        "run", FAKE_ID, "--set", f"env={one_step}", "-n", "100000", "-q", "-o", "run"
    )
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "error: cannot write the run record: No space left on device"
    )
    summary = json.loads(Path("run/summary.json").read_text())
    assert summary["status"] == "failed" and "No space left" in summary["error"]
    whole = [line for line in Path("run/episodes.jsonl").read_text().split("\n")[:-1]]
    assert summary["count"] == len(whole) > 0  # the summary counts what is on disk
    assert not list(Path("run").glob("*.partial"))


def small_files() -> None:
    """For a child process: no file may grow past 1 KB (as ``ulimit -f 1``)."""
    default_signals()
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["run", RANDOM], "error: cannot write the run record: File too large"),
        (["sweep", SWEEP], "error: cannot write the sweep's record: File too large"),
    ],
)
def test_a_record_that_cannot_be_set_up_ends_the_command(
    tmp_path: Path, command: list[str], said: str
) -> None:
    # The run (or sweep) ends, within the time limit: no drawing process is left waiting.
    code, _, err = finished(
        start_gymrun(*command, "-o", "out", cwd=tmp_path, preexec_fn=small_files), timeout=60
    )
    assert (code, err.strip().splitlines()[-1]) == (1, said)
    assert "Traceback" not in err
    if (tmp_path / "out").exists():  # what is there says how the run ended
        summary = json.loads((tmp_path / "out" / "summary.json").read_text())
        assert (summary["status"], summary["error"]) == ("failed", said.removeprefix("error: "))
        assert not list((tmp_path / "out").glob("*.reserved"))


def test_a_full_disk_at_the_start_leaves_no_half_made_record(tiny_disk: Path) -> None:
    os.chdir(tiny_disk)
    with Path("filler").open("wb", buffering=0) as filler:  # the disk, to its last byte
        for size in (4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    filler.write(b"x" * size)
    code, _, err = gymrun("run", RANDOM, "-o", "run")
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "error: cannot write the run record: No space left on device"
    )
    made = sorted(p.name for p in Path("run").iterdir()) if Path("run").exists() else []
    assert made in ([], [".gymrun.lock", "config.yaml", "episodes.jsonl", "summary.json"])


def test_a_config_whose_strings_look_like_numbers_is_read_back_as_it_ran(
    tmp_path: Path,
) -> None:
    # Quoted in the config, "1e3" is a string; written plain, YAML 1.2 would read a number
    # there, and the run's own record would not be a run's config any more.
    os.chdir(tmp_path)
    Path("odd.yaml").write_text('name: "1e3"\nenv: CartPole-v1\nagent: random\nepisodes: 4\n')
    assert gymrun("run", "odd.yaml", "-q", "-o", "rec/odd").code == 0
    assert "name: '1e3'" in Path("rec/odd/config.yaml").read_text()
    shown = gymrun("show", "rec/odd", "--json")
    assert shown.code == 0, shown.stderr
    assert json.loads(shown.stdout)["config"]["name"] == "1e3"
    resumed = gymrun("run", "odd.yaml", "-q", "--resume", "rec/odd")
    assert resumed.code == 0 and "the run was complete already" in resumed.stderr
    built = gymrun("board", "rec", "--out", "site", "--json")
    assert built.code == 0, built.stderr
    assert (json.loads(built.stdout)["runs"], json.loads(built.stdout)["damaged"]) == (1, 0)
