"""gymrun against the loops a user would otherwise write, side by side in one process.

    .venv/bin/python benchmarks/throughput.py            # the full table (a few minutes)
    .venv/bin/python benchmarks/throughput.py --quick    # a smoke run (seconds)

Each rate is the best of several interleaved repeats, in CPU time (``time.process_time``);
ratios compare numbers measured in the same run on the same machine. Worker processes and
whole commands (``gymrun run``, ``gymrun show``, ``--help``) are timed by the wall clock,
best of a few.
"""

from __future__ import annotations

import argparse
import os

# BLAS threads that spin after a call would count as this process's CPU time.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.classic_control.cartpole import CartPoleVectorEnv

import gymrun.core.experiment as experiment_module
from gymrun import ExperimentConfig, run_experiment
from gymrun.components.random_actions import ActionDraws
from gymrun.components.seeding import EpisodeSeeds
from gymrun.core.environment import make_vector_env
from gymrun.scale.executors import Processes

ENV_ID = "CartPole-v1"
ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "cartpole_random.yaml"
GYMRUN = str(Path(sys.executable).with_name("gymrun"))


# -- the loops a user writes by hand -------------------------------------------------------


def bare_loop_sample(env_id: str, episodes: int) -> int:
    """The tutorial loop: ``env.action_space.sample()`` every step."""
    env = gym.make(env_id)
    env.action_space.seed(0)
    env.reset(seed=0)
    steps = 0
    for _ in range(episodes):
        env.reset()
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            steps += 1
            done = terminated or truncated
    return steps


def precomputed_actions(env_id: str, count: int) -> list[Any]:
    space = gym.make(env_id).action_space
    space.seed(0)
    return [space.sample() for _ in range(count)]


def bare_loop_precomputed(env_id: str, episodes: int, actions: list[Any], seed_each: bool) -> int:
    """The fastest hand loop: actions drawn before the clock starts."""
    env = gym.make(env_id)
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


def bare_loop_seeded_draws(env_id: str, episodes: int) -> int:
    """The bare loop with what makes episodes repeat one by one: each reset with its own
    seed, and each episode's random actions drawn from its own seed (gymrun's draws, the
    cheapest there are), so that episode i is the same in any split of the run."""
    env = gym.make(env_id)
    draws, seeds = ActionDraws(env.action_space), EpisodeSeeds(0)
    step, reset, act = env.step, env.reset, draws.sample
    steps = 0
    for episode in range(episodes):
        env_seed, agent_seed = seeds[episode]
        observation, _ = reset(seed=env_seed)
        draws.reset(agent_seed)
        done = False
        while not done:
            observation, _, terminated, truncated, _ = step(act(observation))
            steps += 1
            done = terminated or truncated
    return steps


class StepCounter(gym.vector.VectorWrapper):
    """Counts sub-environment steps; wraps the bare vector env and gymrun's alike."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self.count = 0

    def step(self, actions: Any) -> Any:
        self.count += self.num_envs
        return self.env.step(actions)


def bare_vector(num_envs: int, steps: int, actions: np.ndarray) -> int:
    """Gymnasium's own CartPoleVectorEnv, stepped with precomputed random actions."""
    env = StepCounter(CartPoleVectorEnv(num_envs=num_envs))
    env.reset(seed=0)
    for row in actions[:steps]:
        env.step(row)
    return env.count


def gymrun_vector(num_envs: int, episodes: int) -> int:
    """gymrun's vector run, summarised as ``gymrun run --no-record`` does it; the same
    counter tells how many sub-environment steps it took."""
    config = ExperimentConfig.model_validate(
        {
            "env": ENV_ID,
            "agent": "random",
            "episodes": episodes,
            "seed": 0,
            "vector": {"num_envs": num_envs, "mode": "vector_entry_point"},
        }
    )
    counters: list[StepCounter] = []

    def counted(plan: Any, files_dir: Any = None) -> StepCounter:
        counters.append(StepCounter(make_vector_env(plan, files_dir)))
        return counters[-1]

    experiment_module.make_vector_env = counted
    try:
        result = run_experiment(config, sinks=[])
    finally:
        experiment_module.make_vector_env = make_vector_env
    assert result.summary.count == episodes
    return counters[0].count


def gymrun_run(env_id: str, episodes: int, **config: object) -> int:
    """gymrun's library call, as `gymrun run --no-record` makes it."""
    settings = {"env": env_id, "agent": "random", "episodes": episodes, "seed": 0, **config}
    result = run_experiment(ExperimentConfig.model_validate(settings), sinks=[])
    assert result.summary.count == episodes and result.summary.mean_steps is not None
    return round(result.summary.mean_steps * episodes)


def gymrun_workers(episodes: int, workers: int) -> int:
    config = ExperimentConfig.model_validate(
        {"env": ENV_ID, "agent": "random", "episodes": episodes, "seed": 0}
    )
    result = run_experiment(config, sinks=[], executor=Processes(workers))
    return round((result.summary.mean_steps or 0) * episodes)


# -- measuring -----------------------------------------------------------------------------


def rate(fn: Callable[[], int], clock: Callable[[], float]) -> float:
    started = clock()
    steps = fn()
    return steps / (clock() - started)


def best_rates(
    cases: dict[Any, Callable[[], int]],
    repeats: int,
    clock: Callable[[], float] = time.process_time,
) -> dict[Any, float]:
    """Steps per CPU second of each case, best of `repeats` interleaved runs: on a shared
    machine noise only ever slows a run down, and interleaving lets drift hit every case
    alike."""
    samples: dict[Any, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            samples[name].append(rate(fn, clock))
    return {name: max(values) for name, values in samples.items()}


def wall_seconds(commands: dict[str, list[str]], repeats: int, cwd: Path) -> dict[str, float]:
    """The best wall-clock time of each command, the commands taken in turn in each round
    (so that a slow spell of the machine falls on all of them). A recording command names
    its folder ``{out}``: each round records into a new one, as a user's next run does, so
    no round pays for removing the one before (that is ``--force``'s cost, not a run's)."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeats):
        for name, command in commands.items():
            made = [part.replace("{out}", f"{name}-{round_}") for part in command]
            started = time.perf_counter()
            subprocess.run(made, capture_output=True, check=True, cwd=cwd)
            times[name].append(time.perf_counter() - started)
    return {name: min(taken) for name, taken in times.items()}


def peak_rss_of_run(episodes: int, workdir: Path) -> int:
    """Peak resident memory (bytes) of ``gymrun run`` in its own process, recording as usual."""
    script = (
        "import sys; from gymrun.cli import main; "
        f"sys.argv = ['gymrun', 'run', {str(CONFIG)!r}, '-n', '{episodes}', '-q', "
        f"'--set', 'reward_boundary=195', '-o', 'run-{episodes}', '--force']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        # VmHWM, not ru_maxrss: the latter counts the forking parent's memory too
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], cwd=workdir, capture_output=True, text=True, check=True
    ).stdout
    return int(output.strip().splitlines()[-1]) * 1024


def write_long_run(directory: Path, episodes: int) -> None:
    """A recorded run of `episodes` random CartPole episodes, for ``gymrun show`` (played
    by CartPole's own vector env: a million episodes take seconds)."""
    command = [GYMRUN, "run", str(CONFIG), "--num-envs", "4096", "-n", str(episodes)]
    subprocess.run(
        [*command, "-q", "-o", str(directory)],
        check=True,
        capture_output=True,
    )


def json_loop(path: Path) -> int:
    """What a user writes to read a run: ``json.loads`` per line, rewards summed."""
    import json

    total = 0.0
    with path.open() as lines:
        for line in lines:
            total += float(json.loads(line)["reward"])
    return int(total)


def sweep_config(directory: Path, points: int, seeds: int, episodes: int) -> Path:
    """A sweep of random CartPole: `points` values of a key that changes no episode, each
    with `seeds` seeds, `episodes` episodes per run."""
    values = ", ".join(str(100 + point) for point in range(points))
    path = directory / f"sweep-{points}x{seeds}x{episodes}.yaml"
    path.write_text(
        f"name: sweep\nenv: {ENV_ID}\nagent: random\nepisodes: {episodes}\nseed: 0\n"
        f"sweep:\n  reward_boundary: [{values}]\n  replicates: {seeds}\n"
    )
    return path


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
    quick = parser.parse_args().quick
    repeats = 1 if quick else 7
    rows: list[tuple[str, str, str]] = []

    # single environment: CartPole (cheap steps) and HalfCheetah (Box actions)
    for env_id, episodes in (
        (ENV_ID, 200 if quick else 4000),
        ("HalfCheetah-v5", 1 if quick else 6),
    ):
        limit = gym.spec(env_id).max_episode_steps or 1000
        actions = precomputed_actions(env_id, episodes * limit)
        single = best_rates(
            {
                "sample": lambda e=env_id, n=episodes: bare_loop_sample(e, n),  # type: ignore[misc]
                "precomputed": lambda e=env_id, n=episodes, a=actions: bare_loop_precomputed(  # type: ignore[misc]
                    e, n, a, seed_each=False
                ),
                "seeded": lambda e=env_id, n=episodes, a=actions: bare_loop_precomputed(  # type: ignore[misc]
                    e, n, a, seed_each=True
                ),
                "draws": lambda e=env_id, n=episodes: bare_loop_seeded_draws(e, n),  # type: ignore[misc]
                "gymrun": lambda e=env_id, n=episodes: gymrun_run(e, n),  # type: ignore[misc]
            },
            repeats,
        )
        rows += [
            (f"{env_id}: bare loop, action_space.sample()", f"{single['sample']:,.0f}", ""),
            (f"{env_id}: bare loop, precomputed actions", f"{single['precomputed']:,.0f}", ""),
            (
                f"{env_id}: bare loop, precomputed, reset(seed) each episode",
                f"{single['seeded']:,.0f}",
                "",
            ),
            (
                f"{env_id}: bare loop, reset(seed) and actions drawn from a seed each episode",
                f"{single['draws']:,.0f}",
                "",
            ),
            (f"{env_id}: gymrun, random agent", f"{single['gymrun']:,.0f}", ""),
            ("  vs bare loop with sample()", "", f"{single['gymrun'] / single['sample']:.2f}x"),
            (
                "  vs bare loop, precomputed, seeded each episode",
                "",
                f"{single['gymrun'] / single['seeded']:.2f}x",
            ),
            (
                "  vs bare loop, actions drawn from a seed each episode",
                "",
                f"{single['gymrun'] / single['draws']:.2f}x",
            ),
        ]
        if env_id == ENV_ID:
            extra = best_rates(
                {
                    "epsilon": lambda n=episodes: gymrun_run(  # type: ignore[misc]
                        ENV_ID, n, wrappers=[{"name": "epsilon_random", "epsilon": 0.1}]
                    ),
                    "vector of one": lambda n=episodes: gymrun_run(  # type: ignore[misc]
                        ENV_ID, n, vector={"num_envs": 1, "mode": "sync"}
                    ),
                },
                repeats,
            )
            rows += [
                (
                    f"{env_id}: gymrun, random agent + epsilon_random 0.1",
                    f"{extra['epsilon']:,.0f}",
                    f"costs {1 - extra['epsilon'] / single['gymrun']:.1%}",
                ),
                (
                    f"{env_id}: gymrun, a sync vector env of one (why one env has its own stepper)",
                    f"{extra['vector of one']:,.0f}",
                    f"{extra['vector of one'] / single['gymrun']:.2f}x",
                ),
            ]

    # vector: gymrun's accounting against Gymnasium's CartPoleVectorEnv stepped bare
    for num_envs in (8,) if quick else (64, 512, 4096):
        per_env = 4 if quick else 100
        steps = per_env * 25  # about what gymrun takes for per_env episodes of each sub-env
        actions = np.random.default_rng(0).integers(0, 2, (steps, num_envs))
        vector = best_rates(
            {
                "bare": lambda n=num_envs, t=steps, a=actions: bare_vector(n, t, a),  # type: ignore[misc]
                "gymrun": lambda n=num_envs, e=num_envs * per_env: gymrun_vector(n, e),  # type: ignore[misc]
            },
            repeats,
        )
        rows.append(
            (
                f"vector, {num_envs} envs: bare CartPoleVectorEnv, precomputed actions",
                f"{vector['bare']:,.0f}",
                "",
            )
        )
        rows.append(
            (
                f"vector, {num_envs} envs: gymrun, random agent, {num_envs * per_env:,} episodes",
                f"{vector['gymrun']:,.0f}",
                f"{vector['gymrun'] / vector['bare']:.2f}x bare",
            )
        )

    workers = best_rates(
        {
            1: lambda: gymrun_workers(200 if quick else 4000, 1),
            2: lambda: gymrun_workers(200 if quick else 4000, 2),
        },
        max(1, repeats // 2),
        clock=time.perf_counter,  # the work is in the worker processes
    )
    rows.append(
        (
            "gymrun --workers 2 vs 1 (single env)",
            f"{workers[2]:,.0f}",
            f"{workers[2] / workers[1]:.2f}x",
        )
    )

    # Inside the project, where a user's recordings go: the system's temporary directory may
    # be another file system, much slower or faster at making files than the project's.
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".benchmark-") as tmp:
        work = Path(tmp)
        whole = 5 if not quick else 1
        num_envs, episodes = (8, 400) if quick else (4096, 409_600)
        run = [GYMRUN, "run", str(CONFIG), "--num-envs", str(num_envs), "-n", str(episodes), "-q"]
        timed = wall_seconds(
            {"unrecorded": [*run, "--no-record"], "recorded": [*run, "-o", "{out}"]}, whole, work
        )
        recorded, unrecorded = timed["recorded"], timed["unrecorded"]
        rows.append(
            (
                f"gymrun run --num-envs {num_envs} -n {episodes:,}: recorded vs --no-record",
                f"{recorded:.2f} vs {unrecorded:.2f} s",
                f"{unrecorded / recorded:.2f}x",
            )
        )

        points, seeds, each = (10, 3, 5) if quick else (100, 3, 20)
        total = points * seeds * each
        sweeping = sweep_config(work, points, seeds, each)
        one = work / "one.yaml"
        one.write_text(f"name: one\nenv: {ENV_ID}\nagent: random\nepisodes: {total}\nseed: 0\n")
        timed = wall_seconds(
            {
                "swept": [GYMRUN, "sweep", str(sweeping), "-o", "{out}"],
                "one": [GYMRUN, "run", str(one), "-q", "-o", "{out}"],
            },
            whole,
            work,
        )
        swept, single_run = timed["swept"], timed["one"]
        rows.append(
            (
                f"gymrun sweep, {points} points x {seeds} seeds x {each} episodes, "
                f"vs one gymrun run of {total:,}",
                f"{swept:.2f} vs {single_run:.2f} s",
                f"{single_run / swept:.2f}x",
            )
        )
        many = 200 if quick else 2000
        dry = wall_seconds(
            {
                str(count): [GYMRUN, "sweep", str(sweep_config(work, 1, count, each)), "--dry-run"]
                for count in (1, many)
            },
            whole,
            work,
        )
        rows.append(
            (
                f"gymrun sweep --dry-run, 1 point x {many:,} seeds vs x 1",
                f"{dry[str(many)]:.2f} vs {dry['1']:.2f} s",
                f"{dry[str(many)] / dry['1']:.2f}x",
            )
        )

        long_run = work / "long"
        count = 20_000 if quick else 1_000_000
        write_long_run(long_run, count)
        show = wall_seconds({"show": [GYMRUN, "show", str(long_run)]}, whole, work)["show"]
        started = time.perf_counter()
        json_loop(long_run / "episodes.jsonl")
        loop = time.perf_counter() - started
        rows.append(
            (
                f"gymrun show, {count:,} episodes (one parse) vs a json.loads loop",
                f"{show:.2f} vs {loop:.2f} s",
                f"{loop / show:.2f}x",
            )
        )

        small, large = (100, 2_000) if quick else (1_000, 100_000)
        # the least of three each: a process's peak varies by a few MiB from one to the next
        low = min(peak_rss_of_run(small, work) for _ in range(3 if not quick else 1))
        high = min(peak_rss_of_run(large, work) for _ in range(3 if not quick else 1))
        rows.append(
            (
                f"peak memory, {large:,} vs {small:,} episodes (recorded)",
                f"{high / 2**20:.1f} vs {low / 2**20:.1f} MiB",
                f"{(high - low) / 2**20:+.1f} MiB",
            )
        )
        minimal = work / "minimal_typer.py"
        minimal.write_text(MINIMAL_TYPER)
        helps = wall_seconds(
            {"gymrun": [GYMRUN, "--help"], "typer": [sys.executable, str(minimal), "--help"]},
            3 if quick else 15,
            work,
        )
        help_gymrun, help_minimal = helps["gymrun"], helps["typer"]
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
    print(f"{'case':<{width}}  {'steps/CPU s or value':>22}  ratio")
    for name, value, ratio in rows:
        print(f"{name:<{width}}  {value:>22}  {ratio}")


if __name__ == "__main__":
    main()
