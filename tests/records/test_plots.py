"""A run's plot: without matplotlib the run says so once and goes on."""

from pathlib import Path

from tests.support.paths import CONFIGS
from tests.support.processes import pip_install, without


def test_missing_plot_extra_is_said_once_and_the_run_goes_on(tmp_path: Path) -> None:
    config = str(CONFIGS / "cartpole_random.yaml")
    result = without(["matplotlib"], "run", config, "-n", "3", "-q", "-o", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "recorded in run",
        "note: no reward.png: plots need matplotlib, which is not installed: "
        + pip_install("gymrun[plot]"),
    ]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        ".gymrun.lock",
        "config.yaml",
        "episodes.jsonl",
        "meta.json",
        "summary.json",
    ]
