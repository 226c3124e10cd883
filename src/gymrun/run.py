"""A run: its episodes from this process or from worker processes, recorded and summarised.

Episodes flow one way: the loop (or a pool of them) produces them in batches; each batch
goes to the record on disk, to the summary and to the caller, and nothing is read back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gymrun.components.agents import loading_note
from gymrun.config import ExperimentConfig
from gymrun.core.episodes import EpisodeResult
from gymrun.core.experiment import Experiment, refuse_learning
from gymrun.core.plan import RunPlan
from gymrun.core.signals import InterruptGuard
from gymrun.core.summary import Summary, SummaryBuilder
from gymrun.errors import AgentError, FaultError, GymrunError, RolloutError
from gymrun.records.directory import RecordDir
from gymrun.records.plotter import Plotter
from gymrun.records.resuming import Recorded, recorded_part, recorded_seed, why_not_continued
from gymrun.records.video import video_recorder, video_writer_class
from gymrun.records.writer import RunRecorder
from gymrun.scale.chunks import ChunkResult
from gymrun.scale.cluster import DaskCluster, connect_dask
from gymrun.scale.executors import ordered_on_dask
from gymrun.scale.pool import ordered_chunks


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced, also when it did not complete."""

    config: ExperimentConfig  # resolved: seed and reward boundary filled in
    episodes: list[EpisodeResult]  # empty when the run was asked not to keep them
    summary: Summary
    status: str = "completed"  # or "interrupted" (Ctrl-C, SIGTERM, SIGHUP), "failed" (`error`)
    error: GymrunError | None = None
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The object ``gymrun run --json`` prints."""
        return {
            "config": self.config.to_json(),
            "episodes": [episode.to_json() for episode in self.episodes],
            "summary": self.summary.to_json(),
            "status": self.status,
            "error": None if self.error is None else str(self.error),
            "run_dir": None if self.run_dir is None else str(self.run_dir),
        }


def run_experiment(
    config: ExperimentConfig,
    *,
    record_dir: Path | RecordDir | None = None,
    keep_episodes: bool = True,
    on_episodes: Callable[[Sequence[EpisodeResult]], None] | None = None,
    command: Sequence[str] | None = None,
    workers: int = 1,
    plotter: Plotter | None = None,
    executor: str = "local",
    address: str | None = None,
    wait_workers: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    resume: bool = False,
) -> RunResult:
    """Run every episode of `config`; return the episodes, their summary and how it ended.

    With `record_dir` (an empty directory, or one claimed with `gymrun.records.directory`)
    the run is recorded there as it goes; nothing in it is touched until the run's
    environment and agent have been built. If the env or agent raises, on Ctrl-C, or if the
    record cannot be written, the episodes that finished are kept and the result says
    "failed" or "interrupted"; it is not raised. `on_episodes` is called with each batch of
    episodes as it finishes (one episode at a time in a single-env run);
    `keep_episodes=False` keeps memory flat for long runs. `workers` processes share the
    episodes, with results identical to one process. `plotter` draws the run's plot (a
    run starts one of its own otherwise; several runs can share one). `executor="dask"`
    shares the episodes out on the Dask cluster at `address` instead (see
    `gymrun.scale.cluster.connect_dask` for `wait_workers` and `on_wait`), also identical.

    With `resume`, `record_dir` (claimed with `RecordDir.reopen`) holds this run, stopped
    part way: its episodes are kept and the run goes on from the first one missing, with the
    same seeds, so that it ends as the run would have ended uninterrupted. The recorded
    config and code must be these (a config without a seed takes the recorded one).

    >>> from gymrun.config import load_config
    >>> result = run_experiment(load_config("configs/cartpole_random.yaml", episodes=5, seed=0))
    >>> [e.steps for e in result.episodes], result.summary.mean_steps, result.status
    ([26, 11, 39, 20, 10], 21.2, 'completed')
    """
    recorded = None
    if resume:
        if record_dir is None:
            raise GymrunError("resuming a run needs its directory")
        directory = record_dir.path if isinstance(record_dir, RecordDir) else record_dir
        where = f"--resume {directory}"
        if config.seed is None:
            config = config.model_copy(update={"seed": recorded_seed(directory, where)})
        plan = RunPlan.of(config)
        if (why := why_not_continued(plan)) is not None:
            raise GymrunError(f"{where}: {why}; run it again")
        recorded = recorded_part(plan, directory, where)
    else:
        plan = RunPlan.of(config)
    if plan.config.record.video:
        video_writer_class()  # fails before anything runs when moviepy is missing
    if executor == "dask":
        _check_shareable(plan, "a Dask cluster")
        cluster = connect_dask(address, wait_workers=wait_workers, on_wait=on_wait)
        try:
            return _run_planned(
                plan,
                record_dir,
                keep_episodes,
                on_episodes,
                command,
                workers,
                plotter,
                cluster,
                recorded,
            )
        finally:
            cluster.close()
    return _run_planned(
        plan, record_dir, keep_episodes, on_episodes, command, workers, plotter, None, recorded
    )


def _run_planned(
    plan: RunPlan,
    record_dir: Path | RecordDir | None,
    keep_episodes: bool,
    on_episodes: Callable[[Sequence[EpisodeResult]], None] | None,
    command: Sequence[str] | None,
    workers: int,
    plotter: Plotter | None,
    cluster: DaskCluster | None,
    recorded: Recorded | None = None,
) -> RunResult:
    directory = record_dir.path if isinstance(record_dir, RecordDir) else record_dir
    recorder: RunRecorder | None = None

    def record() -> RunRecorder | None:
        nonlocal recorder
        if recorder is None and record_dir is not None:
            try:
                recorder = RunRecorder(
                    record_dir,
                    plan.config.to_json(),
                    expected=plan.episodes,
                    command=command,
                    provenance=plan.provenance
                    | ({} if cluster is None else {"workers": cluster.workers}),
                    plotter=plotter,
                    resumed=recorded,
                )
            except OSError as exc:  # its summary says so, where it could be written
                raise FaultError(f"cannot write the run record: {exc.strerror or exc}") from exc
        return recorder

    builder = SummaryBuilder(plan.reward_boundary)
    episodes: list[EpisodeResult] = []
    first = 0
    if recorded is not None:  # a resumed run: what it played before counts as played now
        for kept in recorded.batches:
            builder.add_all(kept)
            if keep_episodes:
                episodes.extend(kept)
            if on_episodes is not None:
                on_episodes(kept)
        first = recorded.count
        if recorded.complete and first == plan.episodes:
            note = f"{directory}: the run was complete already; nothing was played"
            return RunResult(
                plan.config, episodes, builder.summary(), run_dir=directory, notes=[note]
            )
    resumed_note = (
        [] if recorded is None else [f"resumed from episode {first}; those before it were kept"]
    )
    status, error = "completed", None
    with InterruptGuard() as guard:
        with _episode_source(plan, directory, workers, cluster, first) as (source, built):
            if built:  # built in this process: the record starts now
                record()
            try:
                for batch in source:
                    guard.hold()  # the record and the summary take each batch together
                    if (writer := record()) is not None:
                        writer.add_all(batch)
                    builder.add_all(batch)
                    if keep_episodes:
                        episodes.extend(batch)
                    guard.release()
                    if on_episodes is not None:
                        on_episodes(batch)
                if recorder is not None:
                    recorder.flush()
            except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP
                status = "interrupted"
            except GymrunError as exc:
                status, error = "failed", exc
            except OSError as exc:  # the record itself could not be written (disk full, ...)
                reason = exc.strerror or str(exc)
                status, error = "failed", FaultError(f"cannot write the run record: {reason}")
            except Exception as exc:  # a bug, ours or the user's: still a consistent record
                status, error = "failed", FaultError(f"unexpected {type(exc).__name__}: {exc}")
                error.__cause__ = exc
        # The record's end is written whole: a signal now waits, and then is dropped.
        guard.hold()
        summary = builder.summary()
        if recorder is None and error is not None and not isinstance(error, RolloutError):
            raise error  # the run never started (a worker could not build it): nothing touched
        writer = record()
        notes = []
        if writer is not None:
            if isinstance(error, FaultError) and error.args[0].startswith("cannot write"):
                summary = writer.summary_on_disk(plan.reward_boundary)
            try:
                notes = writer.finish(summary, status, None if error is None else str(error))
            except OSError as exc:
                notes = [f"the run's summary could not be written: {exc.strerror or exc}"]
        guard.release(deliver=False)
    # the run loaded its agent's files (in this process or its workers): say what that means
    said = loading_note(plan.agent)
    loaded = [] if said is None else [said]
    return RunResult(
        plan.config, episodes, summary, status, error, directory, loaded + resumed_note + notes
    )


@contextlib.contextmanager
def _episode_source(
    plan: RunPlan,
    record_dir: Path | None,
    workers: int,
    cluster: DaskCluster | None,
    first: int = 0,
) -> Iterator[tuple[Iterator[Sequence[EpisodeResult]], bool]]:
    """The batches of a run's episodes from episode `first` on, and whether the experiment
    was built here: from an `Experiment` in this process, or from `workers` processes (none
    of which is built here, where it would never be stepped). Videos and files wrappers
    write go in `record_dir`, when there is one."""
    if cluster is not None:
        yield _batches(ordered_on_dask(plan, cluster, record_dir, first)), False
        return
    if workers > 1:
        _check_shareable(plan, "worker processes")
        count = plan.episodes - first
        yield _batches(ordered_chunks(plan, first, count, workers, record_dir)), False
        return
    outer = video_recorder(plan, record_dir, first_episode=first)
    with Experiment(plan, outer, record_dir) as experiment:
        yield experiment.batches(first), True


def _check_shareable(plan: RunPlan, where: str) -> None:
    """A run whose episodes can be shared out: no vector env, no learning agent."""
    config = plan.config
    if config.vector is not None:
        raise GymrunError(
            f"--workers and --executor dask split episodes across {where}, vector runs "
            "them in one batch: use one or the other"
        )
    if plan.learns:
        raise AgentError(refuse_learning(config.agent.name, where))


def _batches(results: Iterator[ChunkResult]) -> Iterator[Sequence[EpisodeResult]]:
    for result in results:
        if len(result.episodes):
            yield result.episodes
        if result.error is not None:
            raise result.error
