"""Writing a run's record: a full disk fails the run and leaves a consistent record."""

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import gymrun
from tests.support.fake_env import FAKE_ID


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
