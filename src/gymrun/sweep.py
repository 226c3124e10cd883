"""Sweeps: one experiment over a grid of settings and seeds, compared with confidence intervals.

A config's ``sweep:`` section (see `gymrun.config.grid`) gives the grid; each (point, seed)
is an ordinary run, split into chunks of episodes that any executor can run: in this
process, in a process pool, or on a Dask cluster. Every episode keeps its own seed, so the
results are the same whichever executor ran them.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.components.agents import loading_note
from gymrun.config import ExperimentConfig, validate_document
from gymrun.config.grid import read_grid
from gymrun.config.loading import stem_name
from gymrun.config.overrides import overridden
from gymrun.config.yaml_source import read_yaml
from gymrun.core.episodes import EpisodeBatch
from gymrun.core.experiment import trial_build
from gymrun.core.plan import RunPlan
from gymrun.core.signals import InterruptGuard
from gymrun.core.statistics import bootstrap_ci
from gymrun.core.summary import Summary, SummaryBuilder
from gymrun.errors import ConfigError, FaultError, GymrunError, Problem
from gymrun.records import json_text
from gymrun.records.directory import RecordDir, utc_now
from gymrun.records.layout import SWEEP_FILE, SWEEP_PLOT
from gymrun.records.plotter import Plotter
from gymrun.records.reading import read_sweep_json
from gymrun.records.resuming import Recorded, recorded_part, why_not_continued
from gymrun.records.writer import RunRecorder, reserve, write_json
from gymrun.scale.chunks import Chunk, chunk_size, episode_costs, mean_cost, task_size
from gymrun.scale.cluster import DaskCluster, connect_dask
from gymrun.scale.executors import EXECUTORS, Outcome, execute


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

    @property
    def sha256(self) -> str:
        """The content hash of every run's config: what ``--resume`` must find again."""
        configs = [run.config.to_json() for run in self.runs]
        text = json.dumps(configs, sort_keys=True, default=str).encode()
        return f"sha256:{hashlib.sha256(text).hexdigest()}"


def load_sweep(path: str | Path, overrides: Sequence[str] = ()) -> Sweep:
    """Read a config with a ``sweep:`` section and validate every point before anything runs.

    >>> sweep = load_sweep("configs/cartpole_epsilon_sweep.yaml")
    >>> sweep.keys, len(sweep.points), sweep.seeds, len(sweep.runs)
    (['wrappers.0.epsilon'], 6, [0, 1, 2], 18)
    """
    document = read_yaml(path)
    grid = read_grid(overridden(document, overrides))  # --set reaches the sweep section too
    source, name = document.source, stem_name(path)
    problems: list[Problem] = []
    runs = []
    for number, values in enumerate(grid.points):
        for seed in grid.seeds:
            where = ", ".join(f"{k}={v!r}" for k, v in values.items())
            origin = f"{source} point {number} ({where})"
            extra = [(origin, key, value) for key, value in values.items()]
            extra += [(origin, "seed", seed), (origin, "sweep", None)]
            try:
                config = validate_document(
                    document, overrides, extra, default_name=name, base_dir=Path(path).parent
                )
            except ConfigError as exc:
                problems.extend(p for p in exc.problems if p not in problems)
                continue
            runs.append(SweepRun(number, seed, config))
    if problems:
        raise ConfigError(problems)
    _check_buildable(runs, source)
    return Sweep(runs[0].config.name or name, grid.keys, grid.points, grid.seeds, runs)


def _check_buildable(runs: Sequence[SweepRun], source: str) -> None:
    """Build each point's env, wrappers and agent once, as ``gymrun validate`` does (as far
    as that runs no code of the user's), so an action outside the space at point 37 is found
    before anything runs."""
    problems = []
    for run in runs:
        if run.seed != runs[0].seed:
            continue  # seeds do not change what gets built
        try:
            trial_build(run.config)
        except GymrunError as exc:
            problems.append(Problem(f"{source} point {run.point}", "", str(exc)))
    if problems:
        raise ConfigError(problems)


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
    error: str | None = None  # what ended an interrupted sweep, if not Ctrl-C
    provenance: dict[str, Any] = field(default_factory=dict)  # code hashes, workers' versions

    @property
    def best(self) -> int | None:
        """The index of the point with the highest mean reward (the first, on a tie); a point
        with a failed run is never the best."""
        scored = [
            (p.mean_reward, -i)
            for i, p in enumerate(self.points)
            if p.mean_reward is not None and p.status != "failed"
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
            "error": self.error,
            "config_sha256": self.sweep.sha256,
            **self.provenance,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any], sweep_dir: Path | None = None) -> SweepResult:
        """A sweep as `to_json` wrote it (its runs' configs are in their own directories)."""
        grid = document["sweep"]
        sweep = Sweep(grid["name"], grid["keys"], grid["points"], grid["seeds"], [])
        points = [
            PointResult(
                values=point["values"],
                episodes=point["episodes"],
                mean_reward=point["mean_reward"],
                ci_low=point["ci95"][0],
                ci_high=point["ci95"][1],
                mean_steps=point["mean_steps"],
                reached_share=point["reached_share"],
                solved=point["solved"],
                status=point["status"],
                errors=point["errors"],
                runs=point["runs"],
            )
            for point in document["points"]
        ]
        executor, seconds = document["executor"], document["seconds"]
        known = {*cls.__dataclass_fields__, "best", "config_sha256"}
        provenance = {key: value for key, value in document.items() if key not in known}
        return cls(
            sweep,
            points,
            document["status"],
            executor,
            seconds,
            sweep_dir,
            error=document.get("error"),
            provenance=provenance,
        )


def read_sweep(directory: Path) -> SweepResult:
    """The sweep recorded in `directory`, from its ``sweep.json``; a sweep without one (still
    going, or killed before it could write it) or with a damaged one is a `GymrunError`."""
    try:
        return SweepResult.from_json(read_sweep_json(directory), directory)
    except FileNotFoundError:
        raise GymrunError(
            f"{directory}: a sweep without {SWEEP_FILE}: still going, or stopped before it "
            "could write it (gymrun show DIR/RUN shows each run)"
        ) from None
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise GymrunError(f"{directory / SWEEP_FILE}: not a gymrun sweep ({exc})") from None


def run_sweep(
    sweep: Sweep,
    *,
    executor: str = "local",
    workers: int = 2,
    address: str | None = None,
    sweep_dir: Path | RecordDir | None = None,
    on_progress: Callable[[int, int, int], None] | None = None,
    command: Sequence[str] | None = None,
    wait_workers: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    resume: bool = False,
) -> SweepResult:
    """Run every run of `sweep` with `executor` and summarise each point.

    Work is sent as (run, chunk of episodes) tasks; results come back in any order and are
    put in order, recorded (under `sweep_dir`, one run directory per run, each open only
    while its chunks arrive) and summarised here. A run whose task fails is marked failed
    and the sweep goes on; Ctrl-C cancels what has not started and keeps what finished, and
    every run's record and ``sweep.json`` end saying so. `on_progress(runs_done, runs,
    episodes_done)` is called as chunks arrive. The dask executor checks its cluster
    before anything is written (see `gymrun.scale.cluster.connect_dask`, which `wait_workers`
    and `on_wait` are for); losing it ends the sweep as interrupted, saying why. With
    `resume`, `sweep_dir` holds this sweep, interrupted: its completed runs are kept and
    only the others run.
    """
    if executor not in EXECUTORS:
        raise GymrunError(f"unknown executor '{executor}' (use one of {', '.join(EXECUTORS)})")
    if resume:
        if sweep_dir is None:
            raise GymrunError("--resume needs the sweep's directory")
        check_resumable(sweep, sweep_dir if isinstance(sweep_dir, Path) else sweep_dir.path)
    cluster = None
    if executor == "dask":  # fail before anything is written if the cluster is out of reach
        cluster = connect_dask(address, wait_workers=wait_workers, on_wait=on_wait)
    try:
        claimed = sweep_dir
        if isinstance(sweep_dir, Path):
            claimed = RecordDir.claim(sweep_dir, force=resume, option="sweep directory")
        assert claimed is None or isinstance(claimed, RecordDir)
        try:
            return _run_claimed(
                sweep, executor, workers, cluster, claimed, on_progress, command, resume
            )
        finally:
            if isinstance(sweep_dir, Path) and claimed is not None:
                claimed.release()
    finally:
        if cluster is not None:
            cluster.close()


def _run_claimed(
    sweep: Sweep,
    executor: str,
    workers: int,
    cluster: DaskCluster | None,
    claimed: RecordDir | None,
    on_progress: Callable[[int, int, int], None] | None,
    command: Sequence[str] | None,
    resume: bool = False,
) -> SweepResult:
    started = utc_now()
    directory = None
    reserved = None
    if claimed is not None:
        if not resume:
            claimed.clear_previous()  # --force: the sweep has been validated and built by now
        directory = claimed.path
        # room for sweep.json, kept even if the disk fills up meanwhile
        try:
            reserved = reserve(directory / f"{SWEEP_FILE}.reserved", 16384 + 2048 * len(sweep.runs))
        except OSError as exc:
            raise FaultError(f"cannot write the sweep's record: {exc.strerror or exc}") from exc
    plans = [RunPlan.of(run.config) for run in sweep.runs]
    # Chunks let a pool or cluster share out even a single long run; in process, one will
    # do; a vector env that resets itself plays its episodes from the first.
    whole = [executor == "local" or not plan.splittable for plan in plans]
    # An episode's cost, from a few of each point (they may differ), sizes the chunks, and
    # the costliest runs go first, so that no worker is left with a long one at the end.
    firsts = [
        plan for plan, run in zip(plans, sweep.runs, strict=True) if run.seed == sweep.seeds[0]
    ]
    point_costs = [None] * len(firsts) if executor == "local" else episode_costs(firsts)
    cost = mean_cost(point_costs)
    order = sorted(
        range(len(plans)),
        key=lambda r: -(point_costs[sweep.runs[r].point] or cost) * plans[r].episodes,
    )
    sizes = [
        plan.episodes if one else chunk_size(plan.episodes, workers, cost)
        for one, plan in zip(whole, plans, strict=True)
    ]
    bundle = 1
    if cluster is not None:  # tasks sized by what an episode costs, and the cluster's size
        bundle = task_size(sum(plan.episodes for plan in plans), cluster.threads, cost)
        sizes = [plan.episodes if one else bundle for one, plan in zip(whole, plans, strict=True)]
    labels = run_labels(sweep)
    run_dirs = [None if directory is None else directory / label for label in labels]
    # A resumed sweep keeps each run's recorded episodes and plays the rest; a run that
    # cannot go on from its middle (or whose record is damaged) is played again whole.
    parts = [
        _recorded(plan, run_dir) if resume else None
        for plan, run_dir in zip(plans, run_dirs, strict=True)
    ]
    starts = [0 if part is None else part.count for part in parts]
    kept = [
        part is not None and part.complete and part.count == plan.episodes
        for part, plan in zip(parts, plans, strict=True)
    ]
    tasks = (
        ((r, c), Chunk(plans[r], first, min(sizes[r], plans[r].episodes - first), run_dirs[r]))
        for r in order
        if not kept[r]
        for c, first in enumerate(range(starts[r], plans[r].episodes, sizes[r]))
    )
    guard = InterruptGuard()
    # The sweep's plot is drawn beside the runs (the process imports matplotlib meanwhile);
    # each run's own is left for `gymrun show`.
    plotter = None if directory is None else Plotter()
    where = {} if cluster is None else {"workers": cluster.workers}
    states = [
        _RunState(
            run,
            plan,
            -(-(plan.episodes - starts[r]) // sizes[r]),
            run_dirs[r],
            command,
            guard,
            where,
        )
        for r, (run, plan) in enumerate(zip(sweep.runs, plans, strict=True))
    ]
    for state, part, keep in zip(states, parts, kept, strict=True):
        if part is not None:
            state.restore(part, complete=keep)
        elif resume and state.run_dir is not None and state.run_dir.exists():
            shutil.rmtree(state.run_dir)  # unreadable: played again from its first episode
    runs_done = sum(kept)
    code = {name: sha for plan in plans for name, sha in plan.code.items()}
    provenance = ({"code": code} if code else {}) | where
    status, lost = "completed", None
    episodes_done = 0
    with guard:
        outcomes = execute(tasks, executor, workers, cluster, bundle)
        try:
            for (run_number, chunk), outcome in outcomes:
                state = states[run_number]
                episodes_done += state.receive(chunk, outcome)
                if state.finished:
                    runs_done += 1
                if on_progress is not None:
                    on_progress(runs_done, len(states), episodes_done)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP
            status = "interrupted"
        except FaultError as exc:  # the cluster was lost: what finished is kept
            status, lost = "interrupted", str(exc)
        finally:
            outcomes.close()  # cancels the tasks not yet started, now rather than at exit
        # Ending the sweep is not interrupted: every run, then sweep.json, says how it ended.
        guard.hold()
        for state in states:
            state.close("interrupted" if status == "interrupted" else "completed")
        points = [_point_result(sweep, number, states) for number in range(len(sweep.points))]
        seconds = (utc_now() - started).total_seconds()
        result = SweepResult(
            sweep, points, status, executor, seconds, directory, error=lost, provenance=provenance
        )
        # what loading the agents' files means, said once (when some run loaded them)
        played = (plan for plan, keep in zip(plans, kept, strict=True) if not keep)
        notes = dict.fromkeys(note for plan in played if (note := loading_note(plan.agent)))
        result.notes += list(notes)
        if directory is not None and plotter is not None:
            document = result.to_json()
            try:
                write_json(directory / SWEEP_FILE, document, reserved)
            except OSError as exc:
                result.notes.append(f"{SWEEP_FILE} could not be written: {exc.strerror or exc}")
            plotter.sweep(
                directory / SWEEP_PLOT,
                name=sweep.name,
                keys=sweep.keys,
                points=document["points"],
                reward_boundary=plans[0].reward_boundary,
            )
            result.notes += plotter.close()
        guard.release(deliver=False)  # a Ctrl-C now comes after everything was recorded
    return result


def check_resumable(sweep: Sweep, directory: Path) -> None:
    """`directory` holds `sweep`, run with the same configs and the same user code."""
    where = f"--resume {directory}"
    try:
        recorded = read_sweep_json(directory)
    except FileNotFoundError:
        raise GymrunError(f"{where}: no {SWEEP_FILE}: not a sweep's directory") from None
    except GymrunError as exc:
        raise GymrunError(f"{where}: {exc}") from None
    if recorded.get("config_sha256") != sweep.sha256:
        raise GymrunError(
            f"{where}: the sweep recorded there was run with other settings (its configs hash "
            f"to {recorded.get('config_sha256')}, these to {sweep.sha256})"
        )
    code = {name: sha for run in sweep.runs for name, sha in RunPlan.of(run.config).code.items()}
    for name in sorted(set(code) | set(recorded.get("code", {}))):
        theirs = recorded.get("code", {}).get(name)
        if theirs != code.get(name):
            raise GymrunError(
                f"{where}: module {name} is not the version the sweep ran "
                f"({theirs}, now {code.get(name)})"
            )


def _recorded(plan: RunPlan, run_dir: Path | None) -> Recorded | None:
    """What `run_dir` holds of the run `plan`, when the run can go on from there."""
    if run_dir is None or not run_dir.is_dir():
        return None
    try:
        part = recorded_part(plan, run_dir, f"--resume {run_dir}")
    except GymrunError:
        return None
    if part.complete and part.count == plan.episodes:
        return part
    return None if why_not_continued(plan) is not None else part


def run_labels(sweep: Sweep) -> list[str]:
    """A directory name for each run of `sweep`, from its values and seed, made safe for any
    filesystem: ``epsilon=0.25-seed=1`` (the last part of a dotted key, unless two keys share
    it).

    >>> sweep = Sweep("s", ["wrappers.0.epsilon"], [{"wrappers.0.epsilon": 0.25}], [1, 2], [])
    >>> sweep.runs = [SweepRun(0, 1, None), SweepRun(0, 2, None)]  # type: ignore[arg-type]
    >>> run_labels(sweep)
    ['epsilon=0.25-seed=1', 'epsilon=0.25-seed=2']
    """
    ends = [key.rpartition(".")[2] for key in sweep.keys]
    short = {k: e if ends.count(e) == 1 else k for k, e in zip(sweep.keys, ends, strict=True)}
    labels = []
    for run in sweep.runs:
        values = sweep.points[run.point]
        parts = [f"{short[key]}={_text(values[key])}" for key in sweep.keys]
        label = re.sub(r"[^A-Za-z0-9_.,+=-]+", "_", "-".join([*parts, f"seed={run.seed}"]))
        if len(label) > 120:  # names stay well below every filesystem's limit
            label = f"{label[:100]}-{hashlib.sha1(label.encode()).hexdigest()[:8]}"
        labels.append(label)
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return [
        label if seen[label] == 1 else f"{label}-p{run.point:03d}"
        for label, run in zip(labels, sweep.runs, strict=True)
    ]


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{key}_{_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return json_text.dumps(value).strip('"')


class _RunState:
    """One run's chunks as they come back: put in order, recorded, summarised. Its record
    is opened with its first episodes and closed as soon as the run ends."""

    def __init__(
        self,
        run: SweepRun,
        plan: RunPlan,
        chunks: int,
        run_dir: Path | None,
        command: Sequence[str] | None,
        guard: InterruptGuard,
        where: dict[str, Any],
    ):
        self.run, self.plan, self.chunks = run, plan, chunks
        self.provenance = plan.provenance | where
        self.run_dir, self.command, self.guard = run_dir, command, guard
        self.builder = SummaryBuilder(plan.reward_boundary)
        self.rewards: list[np.ndarray] = []
        self.waiting: dict[int, Outcome] = {}
        self.next_chunk = 0
        self.error: str | None = None
        self.write_failed = False
        self.finished = False
        self.closed = False
        self.status = "interrupted"
        self.recorder: RunRecorder | None = None
        self.resumed: Recorded | None = None

    def _record(self) -> RunRecorder | None:
        if self.recorder is None and self.run_dir is not None:
            self.recorder = RunRecorder(
                self.run_dir,
                self.plan.config.to_json(),
                expected=self.plan.episodes,
                command=self.command,
                provenance=self.provenance,
                plot=False,  # drawn by `gymrun show` when wanted: a sweep's runs are many
                resumed=self.resumed,
            )
        return self.recorder

    def receive(self, chunk: int, outcome: Outcome) -> int:
        """Take a chunk's outcome; returns how many episodes became final."""
        self.waiting[chunk] = outcome
        added = 0
        while self.next_chunk in self.waiting and self.error is None:
            outcome = self.waiting.pop(self.next_chunk)
            self.next_chunk += 1
            if isinstance(outcome, BaseException):
                self.error = f"{type(outcome).__name__}: {outcome}"
                break
            try:
                added += self._add(outcome.episodes)
            except OSError as exc:
                self.error = f"cannot write the run record: {exc.strerror or exc}"
                self.write_failed = True
                break
            if outcome.error is not None:
                self.error = str(outcome.error)
        self.finished = self.error is not None or self.next_chunk == self.chunks
        if self.finished:
            self.close("completed")
        return added

    def restore(self, part: Recorded, complete: bool) -> None:
        """Take the episodes of the run's record: all of them (a completed run is kept as
        it is), or the first ones, which the chunks still to come continue."""
        for batch in part.batches:
            self.builder.add_all(batch)
            self.rewards.append(batch.reward)
        if complete:
            self.finished = self.closed = True
            self.status = "completed"
            self.next_chunk = self.chunks
        else:
            self.resumed = part
            self.finished = self.chunks == 0
            if self.finished:
                self.close("completed")

    def _add(self, batch: EpisodeBatch) -> int:
        self.guard.hold()  # the record and the summary take the batch together
        try:
            if (recorder := self._record()) is not None:
                recorder.add_all(batch)
            self.builder.add_all(batch)
            self.rewards.append(batch.reward)
        finally:
            self.guard.release()
        return len(batch)

    @property
    def summary(self) -> Summary:
        return self.builder.summary()

    def close(self, status: str) -> None:
        """End the run's record (once): completed, failed, or `status` if unfinished."""
        if self.closed:
            return
        self.closed = True
        self.status = "failed" if self.error else "completed" if self.finished else status
        try:
            recorder = self._record()
            if recorder is not None:
                summary = self.summary
                if self.write_failed:
                    summary = recorder.summary_on_disk(self.plan.reward_boundary)
                recorder.finish(summary, self.status, self.error)
        except (OSError, GymrunError) as exc:
            self.status = "failed"
            self.error = self.error or f"cannot write the run record: {exc}"


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
    status = "completed"
    if "failed" in statuses:
        status = "failed"
    elif "interrupted" in statuses:
        status = "interrupted"
    return PointResult(
        values=sweep.points[number],
        episodes=count,
        mean_reward=float(rewards.mean()) if len(rewards) else None,
        ci_low=low,
        ci_high=high,
        mean_steps=steps / count if count else None,
        reached_share=None if None in reached or not count else sum(reached) / count,  # type: ignore[arg-type]
        solved=None if None in solved_each or not mine else all(solved_each),
        status=status,
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
