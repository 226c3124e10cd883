"""Chunks of a run's episodes, and playing one wherever it is sent.

A chunk carries the run's `RunPlan` (validated once, in the submitting process) and a range
of episodes. Each episode is seeded from the run seed and its index alone, so the chunks'
episodes are exactly those of a run in one process. A chunk's episodes come back as pieces:
all at once from a worker, batch by batch from this process (`stream_chunk`), so that a run
played here reaches its record as its episodes finish.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from gymrun.components.user_code import UserModule, install, install_lock
from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.experiment import Experiment
from gymrun.core.plan import RunPlan
from gymrun.errors import FaultError, GymrunError, described
from gymrun.records.video import video_recorder

_CACHED = 4  # experiments a process keeps built, for the next chunk of their run


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
    """Finished episodes of a chunk, in order: all of them, or (with `done` False) the
    next of a chunk still playing. The last piece of a chunk says what stopped it early, if
    anything did: `error`, gymrun's own or any other exception (a bug, the user's or ours)."""

    episodes: EpisodeBatch
    error: BaseException | None = None
    done: bool = True


def play_chunk(chunk: Chunk, stop: Callable[[], bool] | None = None) -> ChunkResult:
    """Play `chunk` in this process, all of it, or until `stop()` says so (asked as pieces
    of it end: within a few episodes). The episodes before a failure are kept."""
    done: list[EpisodeBatch] = []  # the pieces' batches: the episodes' steps go with them
    error: BaseException | None = None
    pieces = stream_chunk(chunk)
    for piece in pieces:
        if len(piece.episodes):
            done.append(piece.episodes)
        error = piece.error
        if stop is not None and stop() and not piece.done:
            pieces.close()
            error = FaultError("stopped before its end: the pool playing it was closed")
            break
    if error is not None and not isinstance(error, GymrunError):  # sent back whole: in words
        error = FaultError(f"unexpected {described(error)}")
    boundary = chunk.plan.reward_boundary
    return ChunkResult(EpisodeBatch.of(EpisodeBatch.joined(done) if done else [], boundary), error)


def stream_chunk(chunk: Chunk, keep: bool = True) -> Generator[ChunkResult, None, None]:
    """Play `chunk` in this process, a piece per batch of episodes as they finish: first an
    empty piece once its experiment is built (the run has started), then the episodes, and
    a last piece (``done``) with what stopped it, if anything did. With `keep`, the built
    experiment is kept for the run's next chunk (a worker's); without, it is closed at the
    end (a whole run played here: its wrappers finish their files). Ctrl-C (a
    KeyboardInterrupt) goes through to the caller."""
    plan = chunk.plan
    boundary = plan.reward_boundary
    try:
        experiment = _experiment(chunk) if keep else _built(chunk)
    except Exception as exc:  # it cannot be built: the run never started
        yield ChunkResult(EpisodeBatch.of([], boundary), exc)
        return
    error: BaseException | None = None
    gathered = _Gathered(boundary)
    try:
        yield ChunkResult(EpisodeBatch.of([], boundary), done=False)
        for batch in experiment.batches(chunk.first, chunk.count):
            if gathered.add(batch):
                yield ChunkResult(gathered.take(), done=False)
    except Exception as exc:
        error = exc
    except KeyboardInterrupt:  # the episodes that finished are kept: handed on, then stop
        if len(gathered):
            yield ChunkResult(gathered.take(), done=False)
        raise
    finally:
        if plan.config.record.video or not keep:
            experiment.close()  # videos are numbered from the chunk's first episode
    yield ChunkResult(gathered.take(), error)


# Finished episodes are handed on together, up to this many or after this long: the record,
# the summary and the progress bar each cost something per hand-over, which a single env's
# episode at a time (or a vector env's few at a step) would pay thousands of times a second.
GATHER_EPISODES = 4096
GATHER_SECONDS = 0.1


class _Gathered:
    """Episodes that finished since the last hand-over, as one batch when taken. An episode
    waits at most until the next one ends (the clock is read as episodes end)."""

    def __init__(self, boundary: float | None) -> None:
        self.boundary = boundary
        self._parts: list[EpisodeBatch] = []
        self._loose: list[EpisodeResult] = []  # a single env's, one by one
        self._count = 0
        self._since = perf_counter()

    def __len__(self) -> int:
        return self._count

    def add(self, batch: Sequence[EpisodeResult]) -> bool:
        """Gather `batch`; whether it is time to hand the gathered episodes on."""
        if isinstance(batch, EpisodeBatch):
            self._close_loose()
            self._parts.append(batch)
        else:
            self._loose.extend(batch)
        self._count += len(batch)
        return self._count >= GATHER_EPISODES or perf_counter() - self._since >= GATHER_SECONDS

    def take(self) -> EpisodeBatch:
        self._close_loose()
        batch = EpisodeBatch.of(
            EpisodeBatch.joined(self._parts) if self._parts else [], self.boundary
        )
        self._parts, self._count, self._since = [], 0, perf_counter()
        return batch

    def _close_loose(self) -> None:
        if self._loose:
            self._parts.append(EpisodeBatch.of(self._loose, self.boundary))
            self._loose = []


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
    result = play_chunk(chunk)
    if result.error is None:
        return result
    error = FaultError(f"on Dask worker {_worker_address()}: {described(result.error)}")
    return ChunkResult(result.episodes, error)


def _worker_address() -> str:
    from distributed import get_worker  # runs on a Dask worker, where it is imported

    try:
        return str(get_worker().address)
    except ValueError:
        return "(none)"


_experiments: OrderedDict[str, Experiment] = OrderedDict()


def _built(chunk: Chunk) -> Experiment:
    """The chunk's experiment, built for it (recording its videos, when the config asks)."""
    outer = video_recorder(chunk.plan, chunk.record_dir, chunk.first)
    return Experiment(chunk.plan, outer, chunk.record_dir)


def _experiment(chunk: Chunk) -> Experiment:
    """The chunk's experiment: built, or kept from an earlier chunk of the same run (one that
    records video is built for its chunk, as its videos are numbered from the first)."""
    plan = chunk.plan
    if plan.config.record.video:
        return _built(chunk)
    if plan.key in _experiments:
        _experiments.move_to_end(plan.key)
        return _experiments[plan.key]
    experiment = Experiment(plan, files_dir=chunk.record_dir)
    _experiments[plan.key] = experiment
    if len(_experiments) > _CACHED:
        _experiments.popitem(last=False)[1].close()
    return experiment
