"""Smoke runs of the benchmarks: each runs, and prints every row it promises (slow set)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT


@pytest.mark.slow
def test_benchmark_quick_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "throughput.py"), "--quick"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for row in (
        "CartPole-v1: bare loop, action_space.sample()",
        "CartPole-v1: bare loop, precomputed, reset(seed) each episode",
        "CartPole-v1: gymrun, random agent",
        "vs bare loop, precomputed, seeded each episode",
        "CartPole-v1: gymrun, random agent + epsilon_random 0.1",
        "a sync vector env of one",
        "HalfCheetah-v5: gymrun, random agent",
        "vector, 8 envs: bare CartPoleVectorEnv, precomputed actions",
        "vector, 8 envs: gymrun, random agent",
        "gymrun --workers 2 vs 1",
        "gymrun run --num-envs 8 -n 400: recorded vs --no-record",
        "gymrun show, 20,000 episodes (one parse)",
        "peak memory, 2,000 vs 100 episodes",
        "gymrun --help vs a minimal Typer app's --help",
    ):
        assert row in result.stdout, row


@pytest.mark.slow
def test_board_benchmark_quick_run(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "board_build.py"),
            "--runs",
            "40",
            "--long",
            "5000",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()
    assert all(column in rows[1] for column in ("CPU s", "kernel", "peak MiB"))
    assert rows[2].startswith("cold: 40 runs, 1 environment")
    assert rows[2].split()[-2:] == ["40", rows[2].split()[-1]]  # every run read
    assert rows[3].split()[-2:] == ["0", "0"]  # nothing changed: nothing read, nothing written
    assert rows[4].split()[-2] == "1"  # one new run read, and only its files and its env's
    # a server told of the new run reads it alone, and writes what a build writes
    assert rows[5].startswith("after one new run, under --serve")
    assert rows[5].split()[-2:] == rows[4].split()[-2:]
    assert rows[6].startswith("one run of 5,000 episodes, cold") and rows[6].split()[-2] == "1"
    changed = rows[7].removeprefix("files the new run changed: ").split(", ")
    run_files = [f for f in changed if f.startswith("runs/")]
    assert len({f.rsplit("/", 1)[0] for f in run_files}) == 1
    assert all(f.startswith(("runs/", "index.", "envs/CartPole-v1/")) for f in changed)


@pytest.mark.slow
def test_dask_sweep_benchmark_quick_run(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "dask_sweep.py"), "--quick"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for row in ("local", "process, 2 workers", "dask, 2 workers", "dask vs process", "submit side"):
        assert row in result.stdout, row
