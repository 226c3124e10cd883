"""Splitting a run's episodes into chunks, and playing one chunk wherever it is sent.

A chunk carries the run's `RunPlan` (validated once, in the submitting process) and a range
of episodes. Each episode is seeded from the run seed and its index alone, so the chunks'
episodes are exactly those of a run in one process.
"""

from __future__ import annotations

import pickle
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gymrun.components.user_code import UserModule, install, install_lock
from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.experiment import Experiment
from gymrun.core.plan import RunPlan
from gymrun.errors import FaultError, GymrunError
from gymrun.records.video import video_recorder

MAX_CHUNK = 1000
_CACHED = 4  # experiments a worker process keeps built, for the next chunk of their run


CHUNK_SECONDS = 0.5  # at most, for a chunk in a process pool: a stopped run keeps the rest


def chunk_size(count: int, workers: int, seconds_per_episode: float = 0.0) -> int:
    """Episodes per chunk in a pool of `workers` processes: about eight chunks per worker, so
    no worker idles at the end, and at most `MAX_CHUNK` or `CHUNK_SECONDS` of work (given
    what an episode costs), so a long run's results stream back and a stopped run keeps
    nearly all it played.

    >>> chunk_size(100, 2), chunk_size(10**6, 2), chunk_size(10**6, 2, 0.05)
    (7, 1000, 10)
    """
    by_cost = int(CHUNK_SECONDS / seconds_per_episode) if seconds_per_episode > 0 else MAX_CHUNK
    return max(1, min(MAX_CHUNK, by_cost, -(-count // (workers * 8))))


TASK_SECONDS = 1.0  # what a task on a cluster should take: the submitter spends ~4 ms on each
MIN_TASK_SECONDS = 0.025  # and at least, however small the work: a task's round trip is ~5 ms
MAX_TASK = 100_000  # episodes in one task, however cheap
SPREAD = 8  # tasks per worker thread, so that none idles long while another finishes


def task_size(count: int, threads: int, seconds_per_episode: float) -> int:
    """Episodes per task on a cluster of `threads` worker threads, for `count` episodes in
    all (a run's, or a sweep's): `SPREAD` tasks per thread, so even a single run is shared
    out, of between `MIN_TASK_SECONDS` and `TASK_SECONDS` of work each (when an episode's
    cost is known). A sweep's runs shorter than this are played several to a task.

    >>> task_size(100, 2, 0.0002), task_size(10**6, 2, 0.0002), task_size(50, 4, 2.0)
    (100, 5000, 1)
    >>> task_size(54000, 2, 0.0001), task_size(1800, 2, 0.0001), task_size(1800, 2, 0.0)
    (3375, 250, 113)
    """
    share = -(-count // (threads * SPREAD))
    if seconds_per_episode <= 0:  # not known: shared out evenly
        return max(1, min(count, MAX_TASK, share))
    least = int(MIN_TASK_SECONDS / seconds_per_episode)
    most = int(TASK_SECONDS / seconds_per_episode)
    return max(1, min(count, MAX_TASK, most, max(least, share)))


def episode_costs(
    plans: Sequence[RunPlan], episodes: int = 5, budget: float = 0.1
) -> list[float | None]:
    """Seconds an episode of each of `plans` takes in this process: up to `episodes` of each
    (its first ones, seeded as always), for at most about `budget` seconds in all (None for
    the plans that were not reached, or whose episodes could not be played). The
    environment's making is not counted: a worker keeps what it built for the next chunk."""
    costs: list[float | None] = [None] * len(plans)
    began = time.perf_counter()
    for number, plan in enumerate(plans):
        if time.perf_counter() - began > budget:
            break
        played = 0
        try:
            with Experiment(plan) as experiment:
                started = time.perf_counter()
                for batch in experiment.batches(0, min(episodes, plan.episodes)):
                    played += len(batch)
                    if time.perf_counter() - began > budget:
                        break
                seconds = time.perf_counter() - started
        except GymrunError:
            continue  # the run fails where it is played, and says so there
        costs[number] = seconds / played if played else None
    return costs


def episode_cost(plans: Sequence[RunPlan], episodes: int = 5, budget: float = 0.1) -> float:
    """The mean of `episode_costs`."""
    return mean_cost(episode_costs(plans, episodes, budget))


def mean_cost(costs: Sequence[float | None]) -> float:
    """The mean of the costs that were measured (0.0 when none was)."""
    known = [cost for cost in costs if cost is not None]
    return sum(known) / len(known) if known else 0.0


def chunks(
    start: int, count: int, workers: int, seconds_per_episode: float = 0.0
) -> Iterator[tuple[int, int]]:
    """``(start, count)`` pieces of episodes ``start .. start + count - 1``, made as they
    are asked for (a run of 10**11 episodes has 10**8 of them).

    >>> list(chunks(0, 10, 2))
    [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1), (9, 1)]
    >>> list(chunks(5, 100, 2))[:2]
    [(5, 7), (12, 7)]
    """
    size = chunk_size(count, workers, seconds_per_episode)
    for first in range(start, start + count, size):
        yield first, min(size, start + count - first)


@dataclass(frozen=True)
class Chunk:
    """Episodes ``first .. first + count - 1`` of the run `plan`; with `record_dir`, the
    run's directory, its videos and the files its wrappers write go there."""

    plan: RunPlan
    first: int
    count: int
    record_dir: Path | None = None


@dataclass(frozen=True)
class ChunkResult:
    """A chunk's finished episodes, and the error that stopped it early, if one did."""

    episodes: EpisodeBatch
    error: GymrunError | None = None


def play_chunk(chunk: Chunk) -> ChunkResult:
    """Play `chunk` in this process. The episodes before a failure are kept."""
    plan = chunk.plan
    done: list[EpisodeResult] = []
    error = None
    try:
        experiment = _experiment(chunk)
        try:
            done.extend(experiment.episodes(chunk.first, chunk.count))
        finally:
            if plan.config.record.video:
                experiment.close()
    except GymrunError as exc:
        error = exc
    return ChunkResult(EpisodeBatch.of(done, plan.reward_boundary), error)


def play_shipped(modules: Sequence[UserModule], chunks: bytes) -> list[ChunkResult]:
    """Play the pickled list `chunks` on a Dask worker, with the user's `modules` installed
    first (the chunks' plans may name their classes, so they are unpickled after them). An
    error says it happened on this worker; one that stops a chunk is that chunk's."""
    if not modules:
        return [_on_worker(chunk) for chunk in _unpickled(chunks)]
    # Threads of this worker may play another version of the same module: one at a time,
    # each with its own version installed.
    with install_lock:
        try:
            install(modules)
        except GymrunError as exc:  # e.g. a code directory another user could write
            raise FaultError(f"on Dask worker {_worker_address()}: {exc}") from None
        return [_on_worker(chunk) for chunk in _unpickled(chunks)]


def _unpickled(chunks: bytes) -> list[Chunk]:
    try:
        loaded: list[Chunk] = pickle.loads(chunks)
    except Exception as exc:
        raise FaultError(
            f"on Dask worker {_worker_address()}: {type(exc).__name__}: {exc}"
        ) from None
    return loaded


def _on_worker(chunk: Chunk) -> ChunkResult:
    try:
        result = play_chunk(chunk)
    except Exception as exc:  # a bug, ours or the user's: this chunk's error
        error = FaultError(f"on Dask worker {_worker_address()}: {type(exc).__name__}: {exc}")
        return ChunkResult(EpisodeBatch.of([], chunk.plan.reward_boundary), error)
    if result.error is None:
        return result
    error = FaultError(f"on Dask worker {_worker_address()}: {result.error}")
    return ChunkResult(result.episodes, error)


def _worker_address() -> str:
    from distributed import get_worker  # runs on a Dask worker, where it is imported

    try:
        return str(get_worker().address)
    except ValueError:
        return "(none)"


_experiments: OrderedDict[str, Experiment] = OrderedDict()


def _experiment(chunk: Chunk) -> Experiment:
    """The chunk's experiment: built, or kept from an earlier chunk of the same run (one that
    records video is built for its chunk, as its videos are numbered from the first)."""
    plan = chunk.plan
    outer = video_recorder(plan, chunk.record_dir, chunk.first)
    if outer is not None:
        return Experiment(plan, outer, chunk.record_dir)
    if plan.key in _experiments:
        _experiments.move_to_end(plan.key)
        return _experiments[plan.key]
    experiment = Experiment(plan, files_dir=chunk.record_dir)
    _experiments[plan.key] = experiment
    if len(_experiments) > _CACHED:
        _experiments.popitem(last=False)[1].close()
    return experiment


def in_order(numbered: Iterable[tuple[int, ChunkResult]]) -> Iterator[ChunkResult]:
    """Chunk results that arrive in any order, given back in chunk order; the first one
    that failed is the last given."""
    waiting: dict[int, ChunkResult] = {}
    next_chunk = 0
    for number, result in numbered:
        waiting[number] = result
        while next_chunk in waiting:
            result = waiting.pop(next_chunk)
            next_chunk += 1
            yield result
            if result.error is not None:
                return
