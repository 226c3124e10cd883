"""How long ``gymrun board`` takes over 1,000 recorded runs, cold and incrementally.

    .venv/bin/python benchmarks/board_build.py              # 1,000 runs
    .venv/bin/python benchmarks/board_build.py --runs 50    # a smoke run

The runs are real: 50 configs (constant action 0 under epsilon_random, epsilon from 0 to
0.98) with 20 seeds each, 100 CartPole-v1 episodes per run, played by gymrun and written by
its own `RunRecorder`. Only ``reward.png`` is one real plot copied into each run: drawing
1,000 plots is not what is being timed. Each build is timed by the wall clock.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gymrun import load_config, run_experiment
from gymrun.board.build import build_board
from gymrun.records.directory import new_run_dir
from gymrun.records.writer import RunRecorder

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "cartpole_epsilon.yaml"
SEEDS = 20


class CopiedPlot:
    """Stands in for the drawing process: each run's reward.png is a copy of one."""

    def __init__(self, template: Path) -> None:
        self.template = template

    def rewards(self, curve: Any, path: Path, **options: Any) -> None:
        shutil.copyfile(self.template, path)

    def close(self) -> list[str]:
        return []


def record_run(root: Path, epsilon: float, seed: int, plotter: Any) -> Path:
    config = load_config(CONFIG, [f"wrappers.0.epsilon={epsilon}"], seed=seed, episodes=100)
    result = run_experiment(config)
    directory = new_run_dir(f"epsilon-{epsilon:.2f}", root)
    recorder = RunRecorder(
        directory,
        result.config.to_json(),
        expected=100,
        command=["gymrun", "run"],
        plotter=plotter,
    )
    recorder.add_all(result.episodes)
    recorder.finish(result.summary, result.status)
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        root, out = Path(tmp, "recordings"), Path(tmp, "board")
        first = run_experiment(
            load_config(CONFIG, seed=0, episodes=100), record_dir=new_run_dir("template", root)
        )
        assert first.run_dir is not None
        plotter = CopiedPlot(first.run_dir / "reward.png")
        started = time.perf_counter()
        configs = max(1, runs // SEEDS)
        for number in range(runs - 1):
            epsilon = round((number % configs) / configs, 2)
            record_run(root, epsilon, number // configs, plotter)
        made = time.perf_counter() - started

        cold = build_board(root, out)
        warm = build_board(root, out)
        record_run(root, 0.5, 999, plotter)
        one_more = build_board(root, out)
        versions = f"python {sys.version.split()[0]}"
        print(f"gymrun board benchmark ({versions}; {runs} runs made in {made:.1f} s)")
        print(f"{'build':<48}{'seconds':>9}{'runs read':>11}{'files written':>15}")
        for label, report in (
            (f"cold: {cold.runs} runs, {cold.environments} environment", cold),
            ("again, nothing changed", warm),
            ("after one new run", one_more),
        ):
            print(f"{label:<48}{report.seconds:>9.2f}{report.read:>11}{len(report.written):>15}")
        changed = sorted(str(p.relative_to(out)) for p in one_more.written)
        print("files the new run changed: " + ", ".join(changed))


if __name__ == "__main__":
    main()
