"""Worker processes on this machine: a pool that plays chunks of episodes."""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import signal
from collections.abc import Iterator
from pathlib import Path

from gymrun.core.plan import RunPlan
from gymrun.scale.chunks import Chunk, ChunkResult, chunks, play_chunk


def process_pool(workers: int) -> multiprocessing.pool.Pool:
    """A pool of `workers` processes that leave Ctrl-C to this one.

    A `multiprocessing.Pool` rather than a `ProcessPoolExecutor`: ``terminate()`` stops
    running tasks at once, where the latter waits for them at interpreter exit.
    """
    return multiprocessing.get_context().Pool(workers, initializer=_ignore_sigint)


def _ignore_sigint() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and keeps what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def ordered_chunks(
    plan: RunPlan, first: int, count: int, workers: int, record_dir: Path | None = None
) -> Iterator[ChunkResult]:
    """Episodes ``first .. first + count - 1`` of `plan` from `workers` processes, chunk by
    chunk in episode order; the first chunk that fails is the last."""
    jobs = [Chunk(plan, start, size, record_dir) for start, size in chunks(first, count, workers)]
    with process_pool(workers) as pool:
        for result in pool.imap(play_chunk, jobs):
            yield result
            if result.error is not None:
                return
