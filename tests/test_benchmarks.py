"""A smoke run of the throughput benchmark: it runs, and prints every row it promises."""

import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


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
        "bare loop, action_space.sample()",
        "bare loop, precomputed actions",
        "gymrun, random agent",
        "vs bare loop with sample()",
        "gymrun, random agent + epsilon_random 0.1",
        "gymrun vector, 8 envs",
        "gymrun --workers 2 vs 1",
        "peak memory, 2,000 vs 100 episodes",
        "gymrun --help vs a minimal Typer app's --help",
    ):
        assert row in result.stdout, row
