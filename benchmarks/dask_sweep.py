"""The default epsilon sweep on a two-worker Dask cluster on this machine, against the
process executor with two workers and against this process alone.

    .venv/bin/python benchmarks/dask_sweep.py                   # the default, and 54,000 episodes
    .venv/bin/python benchmarks/dask_sweep.py --episodes 5000   # the long one of 90,000
    .venv/bin/python benchmarks/dask_sweep.py --quick           # a smoke run

Rates are episodes per second of wall clock, best of `--repeats`, with nothing recorded
(the executors' own cost, not the disk's); the cluster is started once, before the timing
(`dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1), and each dask
sweep includes connecting to it. "submit side" is the CPU time of this process during the
dask sweeps (the least over the repeats): what the cluster costs the machine that sends the
work, as a fixed part and a part per episode received, and the rate at which the part per
episode would fill one core of the submitting machine.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gymrun.scale.executors import executor
from gymrun.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "cartpole_epsilon_sweep.yaml"
DASK = str(Path(sys.executable).with_name("dask"))


def start_cluster(
    directory: Path, workers: int, profiler: bool = True
) -> tuple[str, list[subprocess.Popen[bytes]]]:
    file = directory / "scheduler.json"
    environment = os.environ | {"DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": str(profiler)}
    common = {
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "cwd": directory,
        "env": environment,
    }
    processes = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(file)],
            start_new_session=True, **common,  # type: ignore[arg-type]
        )
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while not (file.exists() and file.stat().st_size):
        if time.monotonic() > deadline:
            raise SystemExit("the scheduler did not start")
        time.sleep(0.1)
    time.sleep(0.2)
    address = json.loads(file.read_text())["address"]
    for number in range(workers):
        processes.append(
            subprocess.Popen(
                [DASK, "worker", address, "--nthreads", "1", "--no-dashboard",
                 "--host", "127.0.0.1", "--name", f"w{number}"],
                start_new_session=True, **common,  # type: ignore[arg-type]
            )
        )  # fmt: skip
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(workers, timeout=60)
    return address, processes


def timed(sweep, **options) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall seconds and this process's CPU seconds of one sweep, on the executor the
    command line's `options` name."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_sweep(sweep, executor=executor(**options))
    assert result.status == "completed", result.error
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--episodes", type=int, default=3000, help="episodes per run of the long sweep"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat of each")
    parser.add_argument(
        "--no-profiler",
        action="store_true",
        help="workers without Dask's statistical profiler (it samples each thread every 10 ms)",
    )
    args = parser.parse_args()
    sweeps = {
        "default": load_sweep(CONFIG),
        "long": load_sweep(CONFIG, [f"episodes={args.episodes}"]),
    }
    repeats = 1 if args.quick else args.repeats
    # Inside the project, where a user's recordings go: the system's temporary directory may
    # be another file system, much slower or faster at making files than the project's.
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".benchmark-") as directory:
        address, processes = start_cluster(
            Path(directory), workers=2, profiler=not args.no_profiler
        )
        try:
            executors = {
                "local": {"name": "local"},
                "process, 2 workers": {"name": "process", "workers": 2},
                "dask, 2 workers": {"name": "dask", "address": address},
            }
            timed(sweeps["default"], **executors["dask, 2 workers"])  # the workers warmed up
            wall: dict[tuple[str, str], float] = {}
            cpu: dict[tuple[str, str], float] = {}
            for _ in range(repeats):  # interleaved, so a busy moment spreads over all three
                for size, sweep in sweeps.items():
                    for name, options in executors.items():
                        seconds, used = timed(sweep, **options)
                        wall[size, name] = min(wall.get((size, name), seconds), seconds)
                        cpu[size, name] = min(cpu.get((size, name), used), used)
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    counts = {
        size: sum(run.config.episodes for run in sweep.runs) for size, sweep in sweeps.items()
    }
    for size, sweep in sweeps.items():
        print(
            f"{CONFIG.name} ({size}): {len(sweep.runs)} runs, {counts[size]:,} episodes, "
            f"best of {repeats}"
        )
        for name in executors:
            seconds = wall[size, name]
            print(f"  {name:<20} {counts[size] / seconds:>10,.0f} episodes/s  {seconds:7.3f} s")
        dask = wall[size, "dask, 2 workers"]
        versus = wall[size, "process, 2 workers"] / dask, wall[size, "local"] / dask
        print(f"  dask vs process: {versus[0]:.2f}x, vs local: {versus[1]:.2f}x")
    # The submitting process's CPU: a fixed part (connecting, measuring an episode's cost,
    # the statistics) and a part per episode received, from the two sizes.
    small, large = cpu["default", "dask, 2 workers"], cpu["long", "dask, 2 workers"]
    per_episode = (large - small) / (counts["long"] - counts["default"])
    print(
        f"dask, submit side: {small * 1e3:.0f} ms CPU for the default sweep, "
        f"{large / counts['long'] * 1e6:.1f} us per episode over the long one, "
        f"{per_episode * 1e6:.2f} us per further episode"
    )
    per_worker = counts["long"] / wall["long", "dask, 2 workers"] / 2
    print(
        f"  one core of the submitting machine is full at {1 / per_episode:,.0f} episodes/s: "
        f"{1 / per_episode / per_worker:,.0f} workers at the long sweep's "
        f"{per_worker:,.0f} episodes/s each"
    )


if __name__ == "__main__":
    main()
