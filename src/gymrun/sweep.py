"""Sweeps: one experiment over a grid of settings and seeds, compared with confidence intervals.

A config's ``sweep:`` section maps dotted keys (the paths ``--set`` takes) to lists of values;
the grid is their product, and ``seeds: [...]`` (or ``replicates: N``) repeats every point.
Each (point, seed) is an ordinary run, split into chunks of episodes that any executor can
run: in this process, in a process pool, or on a Dask cluster. Every episode keeps its own
seed, so the results are the same whichever executor ran them.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import math
import multiprocessing
import signal
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.config import ExperimentConfig, validate_document
from gymrun.errors import ConfigError, GymrunError, Problem
from gymrun.recordings import RunRecorder, utc_now
from gymrun.rollout import EpisodeBatch
from gymrun.signals import InterruptGuard
from gymrun.summary import Summary, SummaryBuilder
from gymrun.workers import chunks
from gymrun.yaml_source import read_yaml

EXECUTORS = ("local", "process", "dask")
SWEEP_FILE = "sweep.json"
SWEEP_PLOT = "sweep.png"
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: a point of the grid with one seed."""

    point: int
    seed: int
    config: ExperimentConfig

    @property
    def label(self) -> str:
        return f"p{self.point:03d}-s{self.seed}"


@dataclass
class Sweep:
    """A validated grid: its keys, the values at each point, and every run to make."""

    name: str
    keys: list[str]
    points: list[dict[str, Any]]
    seeds: list[int]
    runs: list[SweepRun]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "keys": self.keys, "points": self.points, "seeds": self.seeds}


def load_sweep(path: str | Path, overrides: Sequence[str] = ()) -> Sweep:
    """Read a config with a ``sweep:`` section and validate every point before anything runs.

    >>> sweep = load_sweep("configs/cartpole_epsilon_sweep.yaml")
    >>> sweep.keys, len(sweep.points), sweep.seeds, len(sweep.runs)
    (['wrappers.0.epsilon'], 6, [0, 1, 2], 18)
    """
    document = read_yaml(path)
    data = document.data
    source = document.source
    if not isinstance(data, dict) or not isinstance(data.get("sweep"), dict) or not data["sweep"]:
        message = "a sweep config needs a 'sweep:' mapping of keys to lists of values"
        raise ConfigError([Problem(source, "sweep", message, document.line_of(("sweep",)))])
    grid = dict(data["sweep"])
    problems: list[Problem] = []
    seeds = _seeds(grid, data.get("seed"), source, document.line_of(("sweep",)), problems)
    keys = list(grid)
    for key in keys:
        values = grid[key]
        if not isinstance(values, list) or not values:
            line = document.line_of(("sweep", key))
            problems.append(Problem(source, f"sweep.{key}", "must be a non-empty list", line))
    if problems:
        raise ConfigError(problems)
    points = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    name = Path(path).stem
    runs = []
    for number, values in enumerate(points):
        for seed in seeds:
            where = ", ".join(f"{k}={v!r}" for k, v in values.items())
            origin = f"{source} point {number} ({where})"
            extra = [(origin, key, value) for key, value in values.items()]
            extra += [(origin, "seed", seed), (origin, "sweep", None)]
            try:
                config = validate_document(document, overrides, extra, default_name=name)
            except ConfigError as exc:
                problems.extend(p for p in exc.problems if p not in problems)
                continue
            runs.append(SweepRun(number, seed, config))
    if problems:
        raise ConfigError(problems)
    _check_buildable(runs, source)
    return Sweep(runs[0].config.name or name, keys, points, seeds, runs)


def _check_buildable(runs: Sequence[SweepRun], source: str) -> None:
    """Build each point's env, wrappers and agent once, as ``gymrun validate`` does, so an
    action outside the space at point 37 is found before anything runs."""
    from gymrun.experiment import Experiment

    problems = []
    for run in runs:
        if run.seed != runs[0].seed:
            continue  # seeds do not change what gets built
        try:
            Experiment(run.config).close()
        except GymrunError as exc:
            problems.append(Problem(f"{source} point {run.point}", "", str(exc)))
    if problems:
        raise ConfigError(problems)


def _seeds(
    grid: dict[str, Any], base: Any, source: str, line: int | None, problems: list[Problem]
) -> list[int]:
    seeds = grid.pop("seeds", None)
    replicates = grid.pop("replicates", None)
    if seeds is not None and replicates is not None:
        problems.append(Problem(source, "sweep", "give either seeds or replicates, not both", line))
        return [0]
    if seeds is not None:
        valid = (
            isinstance(seeds, list)
            and seeds
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)
        )
        if not valid:
            problems.append(Problem(source, "sweep.seeds", "must be a list of integers >= 0", line))
            return [0]
        return list(seeds)
    first = base if isinstance(base, int) and not isinstance(base, bool) else 0
    if replicates is None:
        return [first]
    if not isinstance(replicates, int) or isinstance(replicates, bool) or replicates < 1:
        problems.append(Problem(source, "sweep.replicates", "must be an integer >= 1", line))
        return [0]
    return [first + r for r in range(replicates)]


@dataclass
class PointResult:
    """One row of a sweep's table: a point of the grid over all its seeds."""

    values: dict[str, Any]
    episodes: int
    mean_reward: float | None
    ci_low: float | None
    ci_high: float | None
    mean_steps: float | None
    reached_share: float | None
    solved: bool | None
    status: str
    errors: list[str]
    runs: list[dict[str, Any]] = field(default_factory=list)  # per seed: seed, summary, run_dir

    def to_json(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "episodes": self.episodes,
            "mean_reward": self.mean_reward,
            "ci95": [self.ci_low, self.ci_high],
            "mean_steps": self.mean_steps,
            "reached_share": self.reached_share,
            "solved": self.solved,
            "status": self.status,
            "errors": self.errors,
            "runs": self.runs,
        }


@dataclass
class SweepResult:
    sweep: Sweep
    points: list[PointResult]
    status: str  # completed | interrupted
    executor: str
    seconds: float
    sweep_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> int | None:
        """The index of the point with the highest mean reward (the first, on a tie)."""
        scored = [
            (p.mean_reward, -i) for i, p in enumerate(self.points) if p.mean_reward is not None
        ]
        return -max(scored)[1] if scored else None

    def to_json(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep.to_json(),
            "executor": self.executor,
            "status": self.status,
            "seconds": self.seconds,
            "best": self.best,
            "points": [p.to_json() for p in self.points],
            "sweep_dir": None if self.sweep_dir is None else str(self.sweep_dir),
        }


def bootstrap_ci(rewards: np.ndarray, *, seed: int = BOOTSTRAP_SEED) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean, resampling episodes; seeded.

    >>> bootstrap_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    (1.5, 3.5)
    """
    if len(rewards) < 2:
        value = float(rewards[0]) if len(rewards) else math.nan
        return value, value
    rng = np.random.default_rng(seed)
    means = np.empty(BOOTSTRAP_RESAMPLES)
    batch = max(1, 2_000_000 // len(rewards))  # bounded memory for long runs
    for start in range(0, BOOTSTRAP_RESAMPLES, batch):
        stop = min(start + batch, BOOTSTRAP_RESAMPLES)
        picks = rng.integers(0, len(rewards), size=(stop - start, len(rewards)))
        means[start:stop] = rewards[picks].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


Job = tuple[int, int]  # (run number, chunk number)


def run_sweep(
    sweep: Sweep,
    *,
    executor: str = "local",
    workers: int = 2,
    address: str | None = None,
    sweep_dir: Path | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    command: Sequence[str] | None = None,
) -> SweepResult:
    """Run every run of `sweep` with `executor` and summarise each point.

    Work is sent as (run, chunk of episodes) tasks; results come back in any order and are
    put in order, recorded (under `sweep_dir`, one run directory per run) and summarised here.
    A run whose task fails is marked failed and the sweep goes on; Ctrl-C cancels what has
    not started and keeps what finished. `on_progress(runs_done, runs, episodes_done)`.
    """
    from gymrun.workers import _run_chunk

    if executor not in EXECUTORS:
        raise GymrunError(f"unknown executor '{executor}' (use one of {', '.join(EXECUTORS)})")
    if executor == "dask":  # fail before anything is written if the cluster is out of reach
        connect_dask(address).close()
    started = utc_now()
    runs = sweep.runs
    # Chunks let a pool or cluster share out even a single long run; in process, one will do.
    pieces = [
        [(0, run.config.episodes)]
        if executor == "local"
        else chunks(0, run.config.episodes, workers)
        for run in runs
    ]
    jobs = {
        (r, c): (run.config.to_json(), None, first, size)
        for r, run in enumerate(runs)
        for c, (first, size) in enumerate(pieces[r])
    }
    guard = InterruptGuard()
    states = [_RunState(run, sweep_dir, command, guard) for run in runs]
    status = "completed"
    episodes_done = 0
    runs_done = 0
    outcomes = _execute(jobs, _run_chunk, executor, workers, address)
    try:
        with guard:
            for (r, c), outcome in outcomes:
                state = states[r]
                episodes_done += state.receive(c, outcome, len(pieces[r]))
                if state.finished:
                    runs_done += 1
                if on_progress is not None:
                    on_progress(runs_done, len(runs), episodes_done)
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        outcomes.close()  # cancels the tasks not yet started, now rather than at exit
    notes: list[str] = []
    for state in states:
        notes += state.close("interrupted" if status == "interrupted" else "completed")
    points = [_point_result(sweep, number, states) for number in range(len(sweep.points))]
    seconds = (utc_now() - started).total_seconds()
    result = SweepResult(sweep, points, status, executor, seconds, sweep_dir, notes)
    if sweep_dir is not None:
        _write_json(sweep_dir / SWEEP_FILE, result.to_json())
        try:
            from gymrun.plots import plot_sweep

            plot_sweep(result, sweep_dir / SWEEP_PLOT)
        except GymrunError as exc:
            result.notes.append(f"no {SWEEP_PLOT}: {exc}")
    return result


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _execute(
    jobs: dict[Job, Any],
    function: Callable[[Any], Any],
    executor: str,
    workers: int,
    address: str | None,
) -> Generator[tuple[Job, Any], None, None]:
    """Run `function` on every job; yield ``(job id, result or exception)`` as each ends."""
    if executor == "local":
        for key, job in jobs.items():
            try:
                yield key, function(job)
            except Exception as exc:  # a broken run must not stop the others
                yield key, exc
        return
    if executor == "process":
        # multiprocessing.Pool rather than ProcessPoolExecutor: terminate() stops running
        # tasks at once, where the latter waits for them at interpreter exit.
        with multiprocessing.get_context().Pool(workers, initializer=_ignore_sigint) as pool:
            yield from pool.imap_unordered(_Keyed(function), jobs.items())
        return
    if executor != "dask":
        raise GymrunError(f"unknown executor '{executor}' (use one of {', '.join(EXECUTORS)})")
    client = connect_dask(address)
    tasks = client.get_executor(pure=False)
    try:
        futures = {tasks.submit(function, job): key for key, job in jobs.items()}
        for future in concurrent.futures.as_completed(futures):
            error = future.exception()
            yield futures[future], error if error is not None else future.result()
    finally:
        tasks.shutdown(wait=False)  # cancels what has not finished (after Ctrl-C)
        client.close()


class _Keyed:
    """``(key, job) -> (key, function(job) or the exception it raised)``, picklable."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def __call__(self, item: tuple[Job, Any]) -> tuple[Job, Any]:
        key, job = item
        try:
            return key, self.function(job)
        except Exception as exc:  # a broken run must not stop the others
            return key, exc


def connect_dask(address: str | None) -> Any:
    """A Dask client for the scheduler at `address` (or ``DASK_SCHEDULER_ADDRESS``)."""
    import os

    try:
        from distributed import Client
    except ImportError as exc:
        raise GymrunError(
            "the dask executor needs distributed, which is not installed: "
            "pip install 'gymrun[dask]'"
        ) from exc
    address = address or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if not address:
        raise GymrunError(
            "the dask executor needs a scheduler: pass --address tcp://HOST:PORT "
            "or set DASK_SCHEDULER_ADDRESS"
        )
    try:
        return Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise GymrunError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _RunState:
    """One run's chunks as they come back: put in order, recorded, summarised."""

    def __init__(
        self,
        run: SweepRun,
        sweep_dir: Path | None,
        command: Sequence[str] | None,
        guard: InterruptGuard,
    ):
        self.run = run
        self.guard = guard
        self.builder = SummaryBuilder(run.config.reward_boundary)
        self.rewards: list[np.ndarray] = []
        self.waiting: dict[int, Any] = {}
        self.next_chunk = 0
        self.error: str | None = None
        self.finished = False
        self.run_dir = None if sweep_dir is None else sweep_dir / run.label
        self.recorder = None
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True)
            self.recorder = RunRecorder(self.run_dir, run.config.to_json(), command)

    def receive(self, chunk: int, outcome: Any, chunks: int) -> int:
        """Take a chunk's outcome; returns how many episodes became final."""
        self.waiting[chunk] = outcome
        added = 0
        while self.next_chunk in self.waiting and self.error is None:
            outcome = self.waiting.pop(self.next_chunk)
            self.next_chunk += 1
            if isinstance(outcome, BaseException):
                self.error = f"{type(outcome).__name__}: {outcome}"
                break
            batch, error = outcome
            added += self._add(batch)
            if error is not None:
                self.error = str(error)
        self.finished = self.error is not None or self.next_chunk == chunks
        return added

    def _add(self, batch: EpisodeBatch) -> int:
        self.guard.hold()  # the record and the summary take the batch together
        if self.recorder is not None:
            self.recorder.add_all(batch)
        self.builder.add_all(batch)
        self.rewards.append(batch.reward)
        self.guard.release()
        return len(batch)

    @property
    def summary(self) -> Summary:
        return self.builder.summary()

    def close(self, status: str) -> list[str]:
        self.status = "failed" if self.error else status if not self.finished else "completed"
        if self.recorder is None:
            return []
        return self.recorder.finish(self.summary, self.status, self.error)


def _point_result(sweep: Sweep, number: int, states: list[_RunState]) -> PointResult:
    mine = [s for s in states if s.run.point == number]
    parts = [r for s in mine for r in s.rewards]
    rewards = np.concatenate(parts) if parts else np.zeros(0)
    rewards = rewards[np.isfinite(rewards)]  # NaN or infinite: counted apart, per run
    summaries = [s.summary for s in mine]
    count = sum(x.count for x in summaries)
    steps = sum((x.mean_steps or 0.0) * x.count for x in summaries)
    reached = [x.reached for x in summaries]
    solved_each = [x.solved for x in summaries]
    low, high = bootstrap_ci(rewards) if len(rewards) else (None, None)
    statuses = {s.status for s in mine}
    return PointResult(
        values=sweep.points[number],
        episodes=count,
        mean_reward=float(rewards.mean()) if len(rewards) else None,
        ci_low=low,
        ci_high=high,
        mean_steps=steps / count if count else None,
        reached_share=None if None in reached or not count else sum(reached) / count,  # type: ignore[arg-type]
        solved=None if None in solved_each or not mine else all(solved_each),
        status="failed"
        if "failed" in statuses
        else "interrupted"
        if "interrupted" in statuses
        else "completed",
        errors=[f"seed {s.run.seed}: {s.error}" for s in mine if s.error],
        runs=[
            {
                "seed": s.run.seed,
                "summary": s.summary.to_json(),
                "status": s.status,
                "run_dir": None if s.run_dir is None else str(s.run_dir),
            }
            for s in mine
        ],
    )
