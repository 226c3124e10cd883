"""The default epsilon sweep on a two-worker Dask cluster on this machine, against the
process executor with two workers and against this process alone.

    .venv/bin/python benchmarks/dask_sweep.py                   # configs/cartpole_epsilon_sweep.yaml
    .venv/bin/python benchmarks/dask_sweep.py --episodes 5000   # 90,000 episodes
    .venv/bin/python benchmarks/dask_sweep.py --quick           # a smoke run

Rates are episodes per second of wall clock, best of `--repeats`, with nothing recorded
(the executors' own cost, not the disk's); the cluster is started once, before the timing
(`dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1), and each dask
sweep includes connecting to it. "submit side" is the CPU time of this process during the
dask sweep per episode received: what the cluster costs the machine that sends the work.
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

from gymrun.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "cartpole_epsilon_sweep.yaml"
DASK = str(Path(sys.executable).with_name("dask"))


def start_cluster(directory: Path, workers: int) -> tuple[str, list[subprocess.Popen[bytes]]]:
    file = directory / "scheduler.json"
    common = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": directory}
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
    """Wall seconds and this process's CPU seconds of one sweep."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_sweep(sweep, **options)
    assert result.status == "completed", result.error
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, help="episodes per run (default: the config's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one repeat of each")
    args = parser.parse_args()
    overrides = [f"episodes={args.episodes}"] if args.episodes else []
    sweep = load_sweep(CONFIG, overrides)
    episodes = sum(run.config.episodes for run in sweep.runs)
    repeats = 1 if args.quick else args.repeats
    with tempfile.TemporaryDirectory() as directory:
        address, processes = start_cluster(Path(directory), workers=2)
        try:
            executors = {
                "local": {"executor": "local"},
                "process, 2 workers": {"executor": "process", "workers": 2},
                "dask, 2 workers": {"executor": "dask", "address": address},
            }
            best: dict[str, tuple[float, float]] = {}
            for _ in range(repeats):  # interleaved, so a busy moment spreads over all three
                for name, options in executors.items():
                    wall, cpu = timed(sweep, **options)
                    if name not in best or wall < best[name][0]:
                        best[name] = (wall, cpu)
        finally:
            for process in processes:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    print(f"{CONFIG.name}: {len(sweep.runs)} runs, {episodes:,} episodes, best of {repeats}")
    for name, (wall, _) in best.items():
        print(f"  {name:<20} {episodes / wall:>10,.0f} episodes/s  {wall:7.3f} s")
    dask, process = best["dask, 2 workers"], best["process, 2 workers"]
    print(
        f"  dask vs process: {process[0] / dask[0]:.2f}x, vs local: {best['local'][0] / dask[0]:.2f}x"
    )
    print(f"  dask, submit side: {dask[1] / episodes * 1e6:.1f} us CPU per episode received")


if __name__ == "__main__":
    main()
