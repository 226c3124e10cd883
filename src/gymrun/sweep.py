"""Sweeps: one experiment over a grid of settings and seeds, compared with confidence intervals.

A config's ``sweep:`` section (see `gymrun.config.grid`) gives the grid; each (point, seed)
is an ordinary run, split into chunks of episodes that any executor can run: in this
process, in a process pool, or on a Dask cluster. Every episode keeps its own seed, so the
results are the same whichever executor ran them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.components.agents import loading_note
from gymrun.config import ExperimentConfig, validate_document
from gymrun.config.grid import Grid, read_grid
from gymrun.config.loading import stem_name
from gymrun.config.overrides import dotted, indexed, overridden, overridden_keys
from gymrun.config.places import Places
from gymrun.config.wording import wording
from gymrun.config.yaml_source import Document, dump_yaml, parse_yaml, read_yaml
from gymrun.core.experiment import trial_build
from gymrun.core.plan import RunPlan
from gymrun.core.signals import InterruptGuard
from gymrun.core.statistics import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, bootstrap_ci
from gymrun.core.summary import Summary, SummaryBuilder, verdict_of_seeds
from gymrun.errors import (
    ConfigError,
    FaultError,
    GymrunError,
    Problem,
    RecordError,
    ResumeRefused,
    UsageError,
)
from gymrun.pipeline.playing import Progress, play_sessions
from gymrun.pipeline.session import RunSession
from gymrun.records import files, json_text
from gymrun.records.directory import RecordDir, utc_now
from gymrun.records.directory import claimed as claimed_dir
from gymrun.records.layout import CONFIG_FILE, SWEEP_FILE, SWEEP_PLOT, only_claimed
from gymrun.records.liveness import going, unstarted
from gymrun.records.plotter import Plotter
from gymrun.records.reading import (
    as_found,
    is_own_run,
    left_out,
    read_config,
    read_run,
    read_sweep_json,
    unread_runs,
)
from gymrun.records.resuming import (
    Recorded,
    check_run_dirs,
    extended_from_count,
    resumable_parts,
    settings_said,
)
from gymrun.records.sweep_points import best_points, point_env
from gymrun.records.writer import reserve, write_json
from gymrun.scale.executors import Executor, InProcess


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
    given, places = overridden(document, overrides)  # --set reaches the sweep section too
    grid = read_grid(given, places)
    _refuse_overridden_grid(given, grid, overrides)
    source, name = document.source, stem_name(path)
    problems: list[Problem] = []
    point_problems: list[tuple[int, Problem]] = []  # each point's own, by its number
    runs = []
    base: list[Problem] | None = None  # the problems of the config without any point's values
    # the grid's keys whose values the file wrote (not --set): a relative path there is the
    # config folder's, as anywhere else in the file
    written = [
        tuple(indexed(key.split("."))) for key in grid.keys if not places.origin(("sweep", key))
    ]

    def validated(extra: list[tuple[str, str, Any]]) -> ExperimentConfig:
        return validate_document(
            document,
            overrides,
            extra,
            default_name=name,
            base_dir=Path(path).parent,
            written=written,
        )

    shared = [(source, "seed", grid.seeds[0]), (source, "sweep", None)]
    for number, values in enumerate(grid.points):
        where = ", ".join(f"{k}={v!r}" for k, v in values.items())
        origin = f"{source} point {number} ({where})"
        extra = [(origin, key, value) for key, value in values.items()]
        try:
            config = validated(extra + shared)
        except ConfigError as exc:
            if base is None:
                try:
                    validated(shared)
                    base = []
                except ConfigError as without:
                    base = without.problems
            # a problem the config has without the point's values is the config's; any other
            # is the point's, even where it lies outside the keys the point sets (the keys
            # another agent needs, say)
            found = [
                p if p.source != source or p in base else Problem(origin, p.loc, p.message)
                for p in exc.problems
            ]
            problems.extend(p for p in found if p not in problems)
            point_problems += [(number, p) for p in found if p.source.startswith(origin)]
            continue
        if (refused := refused_dataset(config, "a sweep's")) is not None:
            problems.append(refused)
            break
        # Seeds cannot change validation (the grid checked them): each point once.
        runs += [
            SweepRun(number, seed, config.model_copy(update={"seed": seed})) for seed in grid.seeds
        ]
    if problems:
        raise ConfigError(_told_once(problems, point_problems, grid, places))
    _check_buildable(runs, source)
    return Sweep(runs[0].config.name or name, grid.keys, grid.points, grid.seeds, runs)


def _refuse_overridden_grid(document: Document, grid: Grid, overrides: Sequence[str]) -> None:
    """Refuse an override of a key the grid gives its values (or of the seed, when the grid
    gives the seeds): every run would take the grid's, and the override would do nothing."""
    sweep = document.data.get("sweep") if isinstance(document.data, dict) else None
    swept = [(f"sweep.{key}", tuple(indexed(key.split(".")))) for key in grid.keys]
    if isinstance(sweep, dict) and sweep.get("seeds") is not None:
        swept.append(("sweep.seeds", ("seed",)))
    problems = []
    for origin, key in overridden_keys(overrides, document.data):
        for other, setting in swept:
            if key[: len(setting)] == setting:
                message = f"{other} gives every run its {dotted(setting)}; give one of the two"
                problems.append(Problem(origin, "", message))
                break
    if problems:
        raise ConfigError(problems)


def _told_once(
    problems: list[Problem],
    point_problems: list[tuple[int, Problem]],
    grid: Grid,
    places: Places,
) -> list[Problem]:
    """`problems`, where a problem about a key of the grid that every point has (an unknown
    key, say: whatever its value) is told once, at the place that gave the key, not once per
    point."""
    points: dict[tuple[str, str], set[int]] = {}
    for number, problem in point_problems:
        points.setdefault((problem.loc, problem.message), set()).add(number)
    told: list[Problem] = []
    for problem in problems:
        for key in grid.keys:
            if problem.loc != key and not problem.loc.startswith(f"{key}."):
                continue
            if len(points.get((problem.loc, problem.message), ())) < len(grid.points):
                continue
            at = places.problem(("sweep", key), problem.message)
            problem = Problem(at.source, problem.loc, problem.message, at.line)
            break
        if problem not in told:
            told.append(problem)
    return told


def refused_dataset(config: ExperimentConfig, whose: str) -> Problem | None:
    """The problem of a `config` with ``record.dataset`` played as many runs (`whose` runs:
    a sweep's, a duel's), placed at the setting; None when it names no dataset."""
    if config.record.dataset is None:
        return None
    message = (
        f"a dataset is written by one run (gymrun run --dataset ID); {whose} runs would all "
        "write the same one"
    )
    error = UsageError(message, key=("record", "dataset"))
    return config.problem_of(error) or Problem(str(config.source), "record.dataset", message)


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
            point = f"{source} point {run.point}"
            placed = exc.problem  # about a value the point sets, it names the point already
            named = placed is not None and placed.source.startswith(f"{point} ")
            problems.append(placed if named and placed else Problem(point, "", str(exc)))
    if problems:
        raise ConfigError(problems)


# What a point's 95% interval is over (the table says so under it: the intervals of groups
# compared, `gymrun compare`'s, are over runs, one score a run, under the same heading).
POINT_INTERVAL = "over the point's episodes (its seeds' pooled)"


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
    solved: bool | None  # every seed's run solved (the old Gym rule)
    status: str
    errors: list[str]
    runs: list[dict[str, Any]] = field(default_factory=list)  # per seed: seed, summary, run_dir
    verdict: str | None = None  # as `core.summary.verdict_of_seeds` says
    solved_seeds: int | None = None  # how many seeds' runs solved, when any was judged
    # each metric its runs recorded (success...), over every episode of the point with a
    # value: {"mean", "low", "high", "episodes", "missing"}, as a run's summary has them
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "values": self.values,
            "episodes": self.episodes,
            "mean_reward": self.mean_reward,
            "ci95": [self.ci_low, self.ci_high],
            "mean_steps": self.mean_steps,
            "reached_share": self.reached_share,
            "solved": self.solved,
            "verdict": self.verdict,
            "solved_seeds": self.solved_seeds,
            "status": self.status,
            "errors": self.errors,
            "runs": self.runs,
        } | ({"metrics": self.metrics} if self.metrics else {})


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
    problems: list[str] = field(default_factory=list)  # damage in its runs' records, read back
    provenance: dict[str, Any] = field(default_factory=dict)  # code hashes, workers' versions

    @property
    def best(self) -> int | None:
        """The index of the point with the highest mean reward (the first, on a tie); a point
        with a failed run is never the best. None when the sweep's points play several
        environments: their rewards are not comparable (see `bests`)."""
        envs = {point_env(p.values) for p in self.points}
        found = self.bests
        return found[0] if found and len(envs) == 1 else None

    @property
    def bests(self) -> list[int]:
        """The best point (as `best` picks it) of each environment the sweep plays."""
        return best_points([p.to_json() for p in self.points])

    def to_json(self) -> dict[str, Any]:
        return {
            "sweep": self.sweep.to_json(),
            "executor": self.executor,
            "status": self.status,
            "seconds": self.seconds,
            "best": self.best,
            "bests": self.bests,
            "points": [p.to_json() for p in self.points],
            "interval": f"each point's ci95 (and its metrics' low, high): percentile bootstrap "
            f"of the mean {POINT_INTERVAL}, {BOOTSTRAP_RESAMPLES} resamples, seed "
            f"{BOOTSTRAP_SEED}, 95%",
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
                verdict=point.get("verdict"),  # a sweep.json from before verdicts: none
                solved_seeds=point.get("solved_seeds"),
                metrics=point.get("metrics", {}),  # none before metrics, or recorded
            )
            for point in document["points"]
        ]
        executor, seconds = document["executor"], document["seconds"]
        known = {*cls.__dataclass_fields__, "best", "bests", "config_sha256"}
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


def read_sweep(directory: Path, became: tuple[str, str] | None = None) -> SweepResult:
    """The sweep recorded in `directory`, from its ``sweep.json``. One that has not ended
    (still going, or killed before it could: see `liveness.going`, or `became`, what it
    said to a caller that asked already) has what became of it as its status, its points
    summarised from the runs on disk, and a note saying how it goes on; a damaged record
    is a `GymrunError` saying so."""
    document = _sweep_json(directory)
    try:
        result = SweepResult.from_json(document, directory)
        if document["status"] == "running":  # its points are summarised when it ends
            result.status, said = became or going(directory, "sweep")
            result.notes.append(said)
            result.points, result.problems, left = _recorded_points(
                document, directory, result.status
            )
            result.notes += left
        else:  # its points as it summarised them: say which of its runs are not there
            result.notes += unread_sweep_runs(document, directory)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise RecordError(f"{directory / SWEEP_FILE}: not a gymrun sweep ({exc})") from None
    return result


def read_sweep_document(
    directory: Path, became: tuple[str, str] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """``sweep.json`` in `directory` as the sweep wrote it, and the notes `read_sweep` has;
    for one that has not ended, with its status and points as `read_sweep` has them (what
    became of it, what its runs recorded; `became`: what `liveness.going` said of it, to a
    caller that asked already)."""
    document = _sweep_json(directory)
    if document["status"] != "running":
        try:
            return as_found(document, directory, "sweep"), unread_sweep_runs(document, directory)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise RecordError(f"{directory / SWEEP_FILE}: not a gymrun sweep ({exc})") from None
    result = read_sweep(directory, became)
    points = [point.to_json() for point in result.points]
    return as_found(document, directory, "sweep") | {
        "status": result.status,
        "best": result.best,
        "bests": result.bests,
        "points": points,
    }, result.notes


def unread_sweep_runs(document: dict[str, Any], directory: Path) -> list[str]:
    """Notes on the runs of the ended sweep `document` that are not in `directory` to be
    read (see `unread_runs`); a run it never started has nothing to be read. (Its runs'
    entries are read as far as they are what a sweep writes.)"""
    runs = [run for point in document["points"] for run in point["runs"] if isinstance(run, dict)]
    started = [
        run.get("run_dir")
        for run in runs
        if run.get("status") != "interrupted" or (run.get("summary") or {}).get("count")
    ]
    return unread_runs(directory, "sweep", started)


def _sweep_json(directory: Path) -> dict[str, Any]:
    try:
        return read_sweep_json(directory)
    except FileNotFoundError:
        raise RecordError(
            f"{directory}: a sweep without {SWEEP_FILE}: still going, or stopped before it "
            "could write it (gymrun show DIR/RUN shows each run)"
        ) from None


def _recorded_points(
    document: dict[str, Any], directory: Path, status: str
) -> tuple[list[PointResult], list[str], list[str]]:
    """Each point of the sweep `document` describes, from the runs recorded in `directory`
    (one never started counts nothing), what in their records is damaged, and notes on
    what is in a run's place but is not its run (left out). A point not every seed of
    which completed is `status`, what became of the sweep."""
    grid = document["sweep"]
    pairs = [(number, seed) for number in range(len(grid["points"])) for seed in grid["seeds"]]
    played: list[list[_PlayedRun]] = [[] for _ in grid["points"]]
    problems: list[str] = []
    notes: list[str] = []  # what is there in a run's place but is not one (a link, a file)
    for (number, seed), label in zip(
        pairs, _labels(grid["keys"], grid["points"], pairs), strict=True
    ):
        run_dir = directory / label
        if not is_own_run(run_dir):
            if os.path.lexists(run_dir) and not only_claimed(run_dir):
                notes.append(left_out(run_dir, "sweep"))
            continue
        episodes = SummaryBuilder(None)  # the rewards and metrics its point pools
        run = read_run(run_dir, episodes.add_all)
        problems += run.problems
        played[number].append(
            _PlayedRun(
                seed,
                episodes.finite_rewards(),
                episodes.metric_values(),
                run.summary,
                run.became,
                run.error,
                run_dir,
            )
        )
    seeds = len(grid["seeds"])
    points = [
        _point_result(values, runs, seeds, status)
        for values, runs in zip(grid["points"], played, strict=True)
    ]
    return points, problems, notes


def run_sweep(
    sweep: Sweep,
    *,
    executor: Executor | None = None,
    sweep_dir: Path | RecordDir | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    resume: bool = False,
) -> SweepResult:
    """Play every run of `sweep` on `executor` (this process by default) and summarise each
    point.

    Each run is a session of the one pipeline (see `gymrun.pipeline`): its episodes are
    recorded (under `sweep_dir`, one run directory per run) and summarised as they finish,
    whatever the executor; a run that fails is marked failed and the sweep goes on; Ctrl-C
    cancels what has not started and keeps every finished episode, and every run's record
    and ``sweep.json`` end saying so. `on_progress` is told how far the sweep has come as
    pieces arrive. A cluster is checked before anything is written; losing it ends the
    sweep as interrupted, saying why. With `resume`, `sweep_dir` holds this sweep, stopped:
    its completed runs are kept, unfinished ones go on from their first missing episode.
    """
    executor = executor or InProcess()
    if resume:
        if sweep_dir is None:
            raise UsageError("resume=True needs sweep_dir, the sweep's directory")
        if isinstance(sweep_dir, Path):
            check_resumable(sweep, sweep_dir)
        else:  # claimed by the caller: the lock is this process's
            check_resumable(sweep, sweep_dir.path, ours=True)
    # a cluster out of reach fails on entering the executor, before anything is written
    with executor, claimed_dir(sweep_dir, resume=resume, keyword="sweep_dir") as claimed:
        return _run_claimed(sweep, executor, claimed, on_progress, resume)


def _run_claimed(
    sweep: Sweep,
    executor: Executor,
    claimed: RecordDir | None,
    on_progress: Callable[[Progress], None] | None,
    resume: bool,
) -> SweepResult:
    started = utc_now()
    directory = None if claimed is None else claimed.path
    plans = [RunPlan.of(run.config) for run in sweep.runs]  # refused: nothing is touched
    reserved = None
    if claimed is not None:
        if not resume:
            claimed.clear_previous()  # --force: the sweep has been validated and built by now
        # room for sweep.json, kept even if the disk fills up meanwhile; and sweep.json
        # saying the sweep is running, so that one killed outright can still be resumed
        going = SweepResult(sweep, [], "running", executor.name, 0.0, claimed.path)
        going.provenance = _provenance(plans, executor)
        try:
            reserved = reserve(
                claimed.path / f"{SWEEP_FILE}.reserved", 16384 + 2048 * len(sweep.runs)
            )
            write_json(claimed.path / SWEEP_FILE, going.to_json())
        except OSError as exc:
            raise FaultError(f"cannot write the sweep's record: {exc.strerror or exc}") from exc
    labels = run_labels(sweep)
    run_dirs = [None if directory is None else directory / label for label in labels]
    # A resumed sweep keeps each run's recorded episodes and plays the rest; a run that
    # cannot go on from its middle (or whose record is damaged) is set aside and played
    # again whole.
    parts: list[Recorded | None] = [None] * len(plans)
    again: list[str] = []
    if resume:
        parts, again = resumable_parts(plans, run_dirs)
    guard = InterruptGuard()
    # started now: it imports matplotlib while the runs play, for sweep.png at the end
    with guard, Plotter() if directory is not None else contextlib.nullcontext() as plotter:
        sessions = [
            RunSession(
                plan,
                record_dir=run_dir,
                resumed=part,
                guard=guard,
                plot=False,  # a sweep's many runs: the board draws each on its page
                provenance=executor.provenance,
            )
            for plan, run_dir, part in zip(plans, run_dirs, parts, strict=True)
        ]
        status, lost = play_sessions(sessions, executor, on_progress=on_progress)
        # Ending the sweep is not interrupted: every run, then sweep.json, says how it ended.
        guard.hold()
        closed = "interrupted" if status == "interrupted" else "completed"
        played = _closed_runs(sweep, sessions, closed)
        seeds = len(sweep.seeds)
        points = [
            _point_result(values, runs, seeds, "interrupted")
            for values, runs in zip(sweep.points, played, strict=True)
        ]
        seconds = (utc_now() - started).total_seconds()
        result = SweepResult(
            sweep,
            points,
            status,
            executor.name,
            seconds,
            directory,
            error=lost,
            provenance=_provenance(plans, executor),
        )
        result.notes += again
        # what loading the agents' files means, said once (when some run loaded them)
        loaded = (loading_note(s.plan.agent) for s in sessions if s.started)
        result.notes += [note for note in dict.fromkeys(loaded) if note is not None]
        if directory is not None and plotter is not None:
            _finish_record(result, directory, reserved, plans[0].reward_boundary, plotter)
        guard.release(deliver=False)  # a Ctrl-C now comes after everything was recorded
    return result


def _closed_runs(sweep: Sweep, sessions: list[RunSession], status: str) -> list[list[_PlayedRun]]:
    """Each point's runs, their sessions closed as `status` (or as they ended)."""
    played: list[list[_PlayedRun]] = [[] for _ in sweep.points]
    for run, session in zip(sweep.runs, sessions, strict=True):
        ended = session.close(status)
        played[run.point].append(
            _PlayedRun(
                run.seed,
                session.summary.finite_rewards(),
                session.summary.metric_values(),
                ended.summary,
                ended.status,
                None if ended.error is None else str(ended.error),
                ended.run_dir,
            )
        )
    return played


def _provenance(plans: list[RunPlan], executor: Executor) -> dict[str, Any]:
    """What sweep.json says of the code the sweep's runs import and where they played."""
    code = {name: sha for plan in plans for name, sha in plan.code.items()}
    return ({"code": code} if code else {}) | executor.provenance


def _finish_record(
    result: SweepResult,
    directory: Path,
    reserved: Path | None,
    boundary: float | None,
    plotter: Plotter,
) -> None:
    """Write ``sweep.json`` (into the room reserved for it) and draw ``sweep.png``."""
    document = result.to_json()
    try:
        write_json(directory / SWEEP_FILE, document, reserved)
    except OSError as exc:
        result.notes.append(f"{SWEEP_FILE} could not be written: {exc.strerror or exc}")
    plotter.sweep(
        directory / SWEEP_PLOT,
        name=result.sweep.name,
        keys=result.sweep.keys,
        points=document["points"],
        reward_boundary=boundary,
    )
    result.notes += plotter.close()


def check_resumable(sweep: Sweep, directory: Path, *, ours: bool = False) -> None:
    """`directory` holds `sweep`, run with the same configs and the same user code (`ours`:
    this process holds its lock)."""
    where = wording().valued("sweep_dir", str(directory), "--resume")
    problem = files.no_directory(directory)
    if problem is not None:
        raise ResumeRefused(f"{where}: {problem}")
    try:
        recorded = read_sweep_json(directory)
    except FileNotFoundError:
        # starting in another process, or killed before it wrote sweep.json
        said = unstarted(directory, ours=ours) or f"no {SWEEP_FILE}: not a sweep's directory"
        raise ResumeRefused(f"{where}: {said}") from None
    except GymrunError as exc:
        raise ResumeRefused(f"{where}: {exc}") from None
    hashed = recorded.get("config_sha256")
    if hashed != sweep.sha256 and not _extended(sweep, directory, hashed, where):
        raise ResumeRefused(
            f"{where}: the sweep recorded there was run with other settings "
            f"({_settings_differ(sweep, directory, recorded)})"
        )
    code = {name: sha for run in sweep.runs for name, sha in RunPlan.of(run.config).code.items()}
    for name in sorted(set(code) | set(recorded.get("code", {}))):
        theirs = recorded.get("code", {}).get(name)
        if theirs != code.get(name):
            raise ResumeRefused(
                f"{where}: module {name} is not the version the sweep ran "
                f"({theirs}, now {code.get(name)})"
            )
    check_run_dirs((directory / label for label in run_labels(sweep)), where)


def _extended(sweep: Sweep, directory: Path, hashed: Any, where: str) -> bool:
    """Whether `sweep` is the one recorded in `directory` asking for more episodes alone (its
    runs each go on to them, as ``gymrun run --resume -n N`` takes a run on); refused
    (`ResumeRefused`) when it asks for fewer. The count recorded is one a run's config has
    that makes the sweep hash as ``sweep.json`` says (`hashed`)."""
    counts: set[int] = set()
    for label in run_labels(sweep):
        with contextlib.suppress(GymrunError):  # a damaged or missing record: another tells
            episodes = read_config(directory / label)[1].get("episodes")
            counts.update([episodes] if isinstance(episodes, int) else [])
    given = sweep.runs[0].config.episodes if sweep.runs else None
    for count in counts:
        if count != given and _with_episodes(sweep, count).sha256 == hashed:
            runs, asked = "the sweep's runs are each", f"episodes={given}"  # config or --set
            extended_from_count(
                {"episodes": count}, {"episodes": given}, where, runs=runs, asked=asked
            )
            return True
    return False


def _with_episodes(sweep: Sweep, episodes: int) -> Sweep:
    """`sweep` with each run's config asking for `episodes`."""
    runs = [
        SweepRun(r.point, r.seed, r.config.model_copy(update={"episodes": episodes}))
        for r in sweep.runs
    ]
    return Sweep(sweep.name, sweep.keys, sweep.points, sweep.seeds, runs)


def _settings_differ(sweep: Sweep, directory: Path, recorded: dict[str, Any]) -> str:
    """Which settings differ from those of the sweep recorded in `directory`: its grid, as
    ``sweep.json`` has it, else those its runs' configs share, as the first one recorded has
    them (the hashes when neither tells)."""
    grid = json.loads(json_text.dumps(sweep.to_json()))
    said = settings_said(recorded.get("sweep"), grid, prefix="sweep.")
    runs = zip(sweep.runs, run_labels(sweep), strict=True)
    ran = next((run for run, label in runs if (directory / label / CONFIG_FILE).is_file()), None)
    if not said and ran is not None:
        with contextlib.suppress(GymrunError):  # a damaged record: the hashes say it
            recorded_config = read_config(directory / run_labels(sweep)[sweep.runs.index(ran)])
            # the config as the run recorded it: resolved by its plan (its reward boundary)
            given = parse_yaml(dump_yaml(RunPlan.of(ran.config).config.to_json())).data
            said = settings_said(recorded_config[1], given)
    hashes = f"its configs hash to {recorded.get('config_sha256')}, these to {sweep.sha256}"
    return said or hashes


def run_labels(sweep: Sweep) -> list[str]:
    """A directory name for each run of `sweep`, from its values and seed, made safe for any
    filesystem: ``epsilon=0.25-seed=1`` (the last part of a dotted key, unless two keys share
    it).

    >>> sweep = Sweep("s", ["wrappers.0.epsilon"], [{"wrappers.0.epsilon": 0.25}], [1, 2], [])
    >>> sweep.runs = [SweepRun(0, 1, None), SweepRun(0, 2, None)]  # type: ignore[arg-type]
    >>> run_labels(sweep)
    ['epsilon=0.25-seed=1', 'epsilon=0.25-seed=2']
    """
    return _labels(sweep.keys, sweep.points, [(run.point, run.seed) for run in sweep.runs])


def _labels(
    keys: list[str], points: list[dict[str, Any]], runs: list[tuple[int, int]]
) -> list[str]:
    """`run_labels` of the runs given as (point, seed): what ``sweep.json`` holds of them."""
    ends = [key.rpartition(".")[2] for key in keys]
    short = {k: e if ends.count(e) == 1 else k for k, e in zip(keys, ends, strict=True)}
    labels = []
    for point, seed in runs:
        values = points[point]
        parts = [f"{short[key]}={_text(values[key])}" for key in keys]
        label = re.sub(r"[^A-Za-z0-9_.,+=-]+", "_", "-".join([*parts, f"seed={seed}"]))
        if len(label) > 120:  # names stay well below every filesystem's limit
            label = f"{label[:100]}-{hashlib.sha1(label.encode()).hexdigest()[:8]}"
        labels.append(label)
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return [
        label if seen[label] == 1 else f"{label}-p{point:03d}"
        for label, (point, _) in zip(labels, runs, strict=True)
    ]


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{key}_{_text(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return json_text.dumps(value).strip('"')


def _pooled_metrics(
    summaries: Sequence[Summary], values: Sequence[dict[str, np.ndarray]], episodes: int
) -> dict[str, dict[str, Any]]:
    """Each metric a point's runs recorded, over every episode of theirs with a value: its
    mean and 95% bootstrap interval, as the reward's over the point's episodes."""
    pooled = {}
    for name in dict.fromkeys(name for summary in summaries for name in summary.metrics):
        found = [run[name] for run in values if name in run]
        joined = np.concatenate(found) if found else np.zeros(0)
        low, high = bootstrap_ci(joined) if len(joined) else (None, None)
        pooled[name] = {
            "mean": float(joined.mean()) if len(joined) else None,
            "low": low,
            "high": high,
            "episodes": len(joined),
            "missing": episodes - len(joined),
        }
    return pooled


@dataclass
class _PlayedRun:
    """A run of a sweep's point as the point's row counts it: its finite rewards and metric
    values, its summary, and how it ended."""

    seed: int
    rewards: np.ndarray
    metrics: dict[str, np.ndarray]
    summary: Summary
    status: str
    error: str | None
    run_dir: Path | None


def _point_result(
    values: dict[str, Any], played: list[_PlayedRun], seeds: int, unended: str
) -> PointResult:
    """The row of the point at `values`, from its runs `played` (of its `seeds`); `unended`
    is its status when a run of it did not complete, but for a failed one."""
    # NaN or infinite rewards are left out, counted apart per run
    rewards = np.concatenate([run.rewards for run in played]) if played else np.zeros(0)
    summaries = [run.summary for run in played]
    count = sum(x.count for x in summaries)
    steps = sum((x.mean_steps or 0.0) * x.count for x in summaries)
    reached = [x.reached for x in summaries]
    solved_each = [x.solved for x in summaries]
    low, high = bootstrap_ci(rewards) if len(rewards) else (None, None)
    metrics = _pooled_metrics(summaries, [run.metrics for run in played], count)
    statuses = {run.status for run in played}
    status = unended
    if "failed" in statuses:
        status = "failed"
    elif statuses <= {"completed"} and len(played) == seeds:
        status = "completed"
    return PointResult(
        values=values,
        episodes=count,
        mean_reward=float(rewards.mean()) if len(rewards) else None,
        ci_low=low,
        ci_high=high,
        mean_steps=steps / count if count else None,
        reached_share=None if None in reached or not count else sum(reached) / count,  # type: ignore[arg-type]
        solved=None if None in solved_each or not played else all(solved_each),
        verdict=verdict_of_seeds(summaries, (low, high)),
        solved_seeds=None if None in solved_each or not played else sum(map(bool, solved_each)),
        metrics=metrics,
        status=status,
        errors=[f"seed {run.seed}: {run.error}" for run in played if run.error],
        runs=[
            {
                "seed": run.seed,
                "summary": run.summary.to_json(),
                "status": run.status,
                "run_dir": None if run.run_dir is None else str(run.run_dir),
            }
            for run in played
        ],
    )
