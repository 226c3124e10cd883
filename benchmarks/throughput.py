"""gymrun against the loops a user would otherwise write, side by side in one process.

    .venv/bin/python benchmarks/throughput.py            # the full table (a few minutes)
    .venv/bin/python benchmarks/throughput.py --quick    # a smoke run (seconds)

Each rate is the best of several interleaved repeats; ratios compare numbers measured in the
same run on the same machine. CartPole-v1, random actions, Gymnasium's own environments.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gymrun import ExperimentConfig, run_experiment

ENV_ID = "CartPole-v1"


# -- the loops a user writes by hand -------------------------------------------------------


def bare_loop_sample(episodes: int, *, seed_each: bool) -> int:
    """The tutorial loop: ``env.action_space.sample()`` every step."""
    env = gym.make(ENV_ID)
    env.action_space.seed(0)
    env.reset(seed=0)
    steps = 0
    for episode in range(episodes):
        env.reset(seed=episode) if seed_each else env.reset()
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            steps += 1
            done = terminated or truncated
    return steps


def precomputed_actions(count: int) -> list[np.int64]:
    space = gym.make(ENV_ID).action_space
    space.seed(0)
    return [space.sample() for _ in range(count)]


def bare_loop_precomputed(episodes: int, *, seed_each: bool, actions: list[np.int64]) -> int:
    """The fastest hand loop: actions drawn before the clock starts."""
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    steps = 0
    for episode in range(episodes):
        env.reset(seed=episode) if seed_each else env.reset()
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(actions[steps])
            steps += 1
            done = terminated or truncated
    return steps


def gymrun_run(episodes: int, *, keep: bool = True, **config: object) -> int:
    """gymrun's library call. With `keep`, every episode becomes an `EpisodeResult` object
    and is kept; without, vector runs keep their per-episode results as arrays (summarised,
    never unpacked), as `gymrun run` does when it records."""
    settings = {"env": ENV_ID, "agent": "random", "episodes": episodes, "seed": 0, **config}
    result = run_experiment(ExperimentConfig.model_validate(settings), keep_episodes=keep)
    assert result.summary.count == episodes
    assert result.summary.mean_steps is not None
    return round(result.summary.mean_steps * episodes)


def _workers(episodes: int, workers: int) -> int:
    settings = {"env": ENV_ID, "agent": "random", "episodes": episodes, "seed": 0}
    config = ExperimentConfig.model_validate(settings)
    result = run_experiment(config, keep_episodes=False, workers=workers)
    return round((result.summary.mean_steps or 0) * episodes)


# -- measuring -----------------------------------------------------------------------------


def rate(fn: Callable[[], int]) -> float:
    started = time.perf_counter()
    steps = fn()
    return steps / (time.perf_counter() - started)


def best_rates(cases: dict[Any, Callable[[], int]], repeats: int) -> dict[Any, float]:
    """Steps per second of each case, best of `repeats` interleaved runs: on a shared machine
    noise only ever slows a run down, and interleaving lets drift hit every case alike."""
    samples: dict[Any, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            samples[name].append(rate(fn))
    return {name: max(values) for name, values in samples.items()}


def peak_rss_of_run(episodes: int, workdir: Path) -> int:
    """Peak resident memory (bytes) of ``gymrun run`` in its own process, recording as usual."""
    script = (
        "import sys; from gymrun.cli import main; "
        f"sys.argv = ['gymrun', 'run', {str(CONFIG)!r}, '-n', '{episodes}', '-q', "
        f"'--set', 'reward_boundary=195', '-o', 'run-{episodes}']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        # VmHWM, not ru_maxrss: the latter counts the forking parent's memory too
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=workdir, capture_output=True, text=True, check=True
    ).stdout
    return int(output.strip().splitlines()[-1]) * 1024


def startup_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return min(times)


CONFIG = Path(__file__).resolve().parent.parent / "configs" / "cartpole_random.yaml"
MINIMAL_TYPER = """
import typer
app = typer.Typer()
@app.command()
def run(config: str) -> None:
    print(config)
@app.command()
def show(path: str) -> None:
    print(path)
app()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny sizes")
    args = parser.parse_args()
    quick = args.quick
    episodes = 200 if quick else 4000
    repeats = 1 if quick else 9
    rows: list[tuple[str, str, str]] = []

    actions = precomputed_actions(episodes * 500)
    single = best_rates(
        {
            "bare sample()": lambda: bare_loop_sample(episodes, seed_each=False),
            "bare precomputed": lambda: bare_loop_precomputed(
                episodes, seed_each=False, actions=actions
            ),
            "bare precomputed, seeded": lambda: bare_loop_precomputed(
                episodes, seed_each=True, actions=actions
            ),
            "gymrun random": lambda: gymrun_run(episodes),
            "gymrun random + epsilon 0.1": lambda: gymrun_run(
                episodes, wrappers=[{"name": "epsilon_random", "epsilon": 0.1}]
            ),
        },
        repeats,
    )
    gymrun_rate = single["gymrun random"]
    rows += [
        ("bare loop, action_space.sample()", f"{single['bare sample()']:,.0f}", ""),
        ("bare loop, precomputed actions", f"{single['bare precomputed']:,.0f}", ""),
        (
            "bare loop, precomputed, reset(seed) each episode",
            f"{single['bare precomputed, seeded']:,.0f}",
            "",
        ),
        ("gymrun, random agent", f"{gymrun_rate:,.0f}", ""),
        ("  vs bare loop with sample()", "", f"{gymrun_rate / single['bare sample()']:.2f}x"),
        ("  vs bare loop, precomputed", "", f"{gymrun_rate / single['bare precomputed']:.2f}x"),
        (
            "  vs bare loop, precomputed, seeded each episode",
            "",
            f"{gymrun_rate / single['bare precomputed, seeded']:.2f}x",
        ),
        (
            "gymrun, random agent + epsilon_random 0.1",
            f"{single['gymrun random + epsilon 0.1']:,.0f}",
            f"costs {1 - single['gymrun random + epsilon 0.1'] / gymrun_rate:.1%}",
        ),
    ]

    for num_envs in (8,) if quick else (64, 512, 4096):
        vector_episodes = num_envs * (4 if quick else 100)
        vector = best_rates(
            {
                keep: lambda n=num_envs, e=vector_episodes, k=keep: gymrun_run(  # type: ignore[misc]
                    e, keep=k, vector={"num_envs": n, "mode": "vector_entry_point"}
                )
                for keep in (False, True)
            },
            max(1, repeats // 2),
        )
        for keep, label in ((False, "as arrays"), (True, "as EpisodeResult objects")):
            rows.append(
                (
                    f"gymrun vector, {num_envs} envs, {vector_episodes:,} episodes {label}",
                    f"{vector[keep]:,.0f}",
                    f"{vector[keep] / single['bare precomputed']:.1f}x bare",
                )
            )
    workers = best_rates(
        {
            w: lambda w=w: (
                gymrun_run(episodes, keep=False, **{}) if w == 1 else _workers(episodes, w)
            )
            for w in (1, 2)
        },
        max(1, repeats // 2),
    )
    rows.append(
        (
            "gymrun --workers 2 vs 1 (single env)",
            f"{workers[2]:,.0f}",
            f"{workers[2] / workers[1]:.2f}x",
        )
    )

    with tempfile.TemporaryDirectory() as tmp:
        small, large = (100, 2_000) if quick else (1_000, 100_000)
        low, high = peak_rss_of_run(small, Path(tmp)), peak_rss_of_run(large, Path(tmp))
        rows.append(
            (
                f"peak memory, {large:,} vs {small:,} episodes (recorded)",
                f"{high / 2**20:.1f} vs {low / 2**20:.1f} MiB",
                f"+{(high - low) / 2**20:.1f} MiB",
            )
        )
        minimal = Path(tmp) / "minimal_typer.py"
        minimal.write_text(MINIMAL_TYPER)
        gymrun_exe = str(Path(sys.executable).with_name("gymrun"))
        help_gymrun = startup_seconds([gymrun_exe, "--help"], 3 if quick else 15)
        help_minimal = startup_seconds([sys.executable, str(minimal), "--help"], 3 if quick else 15)
        rows.append(
            (
                "gymrun --help vs a minimal Typer app's --help",
                f"{help_gymrun * 1000:.0f} vs {help_minimal * 1000:.0f} ms",
                f"{help_gymrun / help_minimal:.2f}x",
            )
        )

    width = max(len(r[0]) for r in rows)
    print(
        f"gymrun throughput benchmark ({'quick' if quick else 'full'}; {os.cpu_count()} cores; "
        f"python {sys.version.split()[0]}, gymnasium {gym.__version__}, numpy {np.__version__})"
    )
    print(f"{'case':<{width}}  {'steps/s or value':>22}  ratio")
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>22}  {ratio}")


if __name__ == "__main__":
    main()
