"""What ``gymrun board`` costs over 10,000 recorded runs, cold and incrementally, and over
one long run.

    .venv/bin/python benchmarks/board_build.py                     # 10,000 runs
    .venv/bin/python benchmarks/board_build.py --runs 40 --long 10000   # a smoke run
    .venv/bin/python benchmarks/board_build.py --recordings /tmp/rec    # keep the runs made

The runs are real: configs of constant action 0 under epsilon_random (epsilon from 0 to
just below 1) with 20 seeds each, 100 CartPole-v1 episodes per run, played by gymrun and
written by its own `RunRecorder`. Only ``reward.png`` is one real plot copied into each run:
drawing 10,000 plots is not what is being timed. With ``--recordings DIR`` the runs are made
there once and used again by the next benchmark (the run added for the incremental build is
removed at the end).

The long run is one run of ``--long`` episodes (1,000,000 by default) written by the same
`RunRecorder`, with CartPole-like whole-number rewards drawn at random (playing them would
take minutes), on a board of its own.

Each build runs in a process of its own, and its peak memory is its own memory's high-water
mark (not ``ru_maxrss``, which would count this benchmark's own); its CPU time is
the build's, after Python started and imported the board (said once, below the table), and
of it, the time spent in the kernel (mostly making files: on a virtual machine's disk it
varies from one hour to the next far more than the rest).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from gymrun import load_config, run_experiment
from gymrun.board.build import Kept, build_board
from gymrun.core.episodes import EpisodeBatch
from gymrun.core.summary import SummaryBuilder
from gymrun.records.directory import new_run_dir
from gymrun.records.writer import RunRecorder

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "cartpole_epsilon.yaml"
LONG_CONFIG = ROOT / "configs" / "cartpole_random.yaml"
SEEDS = 20
ONE_MORE = "one-more"  # where the run added for the incremental build is recorded


class CopiedPlot:
    """Stands in for the drawing process: each run's reward.png is a copy of one."""

    def __init__(self, template: Path) -> None:
        self.template = template

    def rewards(self, curve: Any, path: Path, **options: Any) -> None:
        shutil.copyfile(self.template, path)

    def close(self) -> list[str]:
        return []


def record_run(root: Path, name: str, epsilon: float, seed: int, plotter: Any) -> Path:
    config = load_config(CONFIG, [f"wrappers.0.epsilon={epsilon}"], seed=seed, episodes=100)
    result = run_experiment(config)
    directory = new_run_dir(name, root)
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


def record_long_run(root: Path, episodes: int, plotter: Any) -> Path:
    """A run of `episodes` episodes with random whole-number rewards (8 to 200)."""
    config = load_config(LONG_CONFIG, episodes=episodes, seed=0)
    directory = new_run_dir("long", root)
    recorder = RunRecorder(
        directory, config.to_json(), expected=episodes, command=["gymrun"], plotter=plotter
    )
    builder = SummaryBuilder(config.reward_boundary)
    rng = np.random.default_rng(0)
    for start in range(0, episodes, 65_536):
        count = min(65_536, episodes - start)
        reward = rng.integers(8, 200, count).astype(float)
        batch = EpisodeBatch(
            np.arange(start, start + count),
            reward,
            reward.astype(np.int64),
            np.ones(count, dtype=bool),
            np.zeros(count, dtype=bool),
            config.reward_boundary,
            None,
        )
        recorder.add_all(batch)
        builder.add_all(batch)
    recorder.finish(builder.summary(), "completed")
    return directory


def make_runs(root: Path, runs: int, plotter: Any) -> None:
    configs = max(1, runs // SEEDS)
    for number in range(runs):
        epsilon = round((number % configs) / configs, 4)
        record_run(root, f"epsilon-{epsilon:.4f}", epsilon, number // configs, plotter)


def measured_build(root: Path, out: Path, served: Path | None = None) -> dict[str, Any]:
    """One build in a process of its own: its report, wall and CPU seconds (its worker
    processes' included) and peak memory. The disk's pending writes are flushed first: the
    files written before (the runs made, the last build) are not the build's to wait for.
    With `served` (a run of `root`), the build of a server told that this run is new."""
    os.sync()
    more = [] if served is None else ["--served", str(served)]
    found = subprocess.run(
        [sys.executable, __file__, "--build", str(root), str(out), *more],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(found.stdout)  # type: ignore[no-any-return]


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process and its children so far: in all, and in the kernel."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    kernel = own.ru_stime + children.ru_stime
    return own.ru_utime + children.ru_utime + kernel, kernel


def peak_kib() -> int:
    """This process's peak resident memory, in KiB: the high-water mark of its own memory
    (VmHWM). Not ``ru_maxrss``, which keeps, across the exec that started this process, the
    size of the process that started it (this benchmark, holding a million episodes)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # (KiB on Linux)


def build_here(root: Path, out: Path, served: Path | None) -> None:
    changed, kept = None, None
    if served is not None:  # a server's board without the run, then told it is new
        aside = out.parent / ".served-run"
        kept = Kept()
        shutil.move(served, aside)
        build_board(root, out, kept=kept)
        shutil.move(aside, served)
        changed = [served.parent, served]
    starting, starting_kernel = cpu_seconds()  # Python started, the board's modules imported
    started = time.perf_counter()
    report = build_board(root, out, changed=changed, kept=kept)
    wall = time.perf_counter() - started
    cpu, kernel = cpu_seconds()
    peak = peak_kib()
    written = sorted(report.written)
    print(
        json.dumps(
            {
                "runs": report.runs,
                "environments": report.environments,
                "read": report.read,
                "written": written,
                "wall": wall,
                "cpu": cpu - starting,
                "kernel": kernel - starting_kernel,
                "starting": starting,
                "peak_mib": peak / 1024,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--long", type=int, default=1_000_000, help="episodes of the long run")
    parser.add_argument("--recordings", type=Path, help="make the runs here once, and keep them")
    parser.add_argument("--build", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--served", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.build:
        build_here(*options.build, options.served)
        return
    # Inside the project, where a user's recordings go: the system's temporary directory may
    # be another file system, much slower or faster at making files than the project's.
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".benchmark-") as tmp:
        root = options.recordings or Path(tmp, "recordings")
        out, long_root = Path(tmp, "board"), Path(tmp, "long")
        shutil.rmtree(root / ONE_MORE, ignore_errors=True)
        template = run_experiment(
            load_config(CONFIG, seed=0, episodes=100), record_dir=Path(tmp, "template")
        )
        assert template.run_dir is not None
        plotter = CopiedPlot(template.run_dir / "reward.png")
        started = time.perf_counter()
        made = sorted(root.glob("epsilon-*/*/config.yaml")) if root.is_dir() else []
        if len(made) != options.runs:
            shutil.rmtree(root, ignore_errors=True)
            make_runs(root, options.runs, plotter)
        making = time.perf_counter() - started
        record_long_run(long_root, options.long, plotter)
        try:
            cold = measured_build(root, out)
            warm = measured_build(root, out)
            new_run = record_run(root, ONE_MORE, 0.5, 999, plotter)
            one_more = measured_build(root, out)
            served = measured_build(root, out, served=new_run)
            long = measured_build(long_root, Path(tmp, "long-board"))
        finally:
            shutil.rmtree(root / ONE_MORE, ignore_errors=True)
        versions = f"python {sys.version.split()[0]}"
        how = "kept from before" if len(made) == options.runs else f"made in {making:.1f} s"
        print(f"gymrun board benchmark ({versions}; {options.runs} runs {how})")
        print(
            f"{'build':<44}{'seconds':>9}{'CPU s':>8}{'kernel':>8}{'peak MiB':>10}{'runs read':>11}"
            f"{'files written':>15}"
        )
        for label, report in (
            (f"cold: {cold['runs']} runs, {cold['environments']} environment", cold),
            ("again, nothing changed", warm),
            ("after one new run", one_more),
            ("after one new run, under --serve", served),
            (f"one run of {options.long:,} episodes, cold", long),
        ):
            print(
                f"{label:<44}{report['wall']:>9.2f}{report['cpu']:>8.2f}{report['kernel']:>8.2f}"
                f"{report['peak_mib']:>10.0f}{report['read']:>11}{len(report['written']):>15}"
            )
        print("files the new run changed: " + ", ".join(one_more["written"]))
        print(
            f"each build's process first spent {cold['starting']:.2f} CPU s "
            "starting Python and importing the board"
        )


if __name__ == "__main__":
    main()
