"""Running a single-env experiment's episodes in several processes."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gymrun.config import ExperimentConfig
from gymrun.errors import RolloutError
from gymrun.rollout import EpisodeBatch, EpisodeResult

MAX_CHUNK = 1000


def chunks(start: int, count: int, workers: int) -> list[tuple[int, int]]:
    """``(start, count)`` pieces: about eight per worker, so no worker idles at the end.

    >>> chunks(0, 10, 2)
    [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1), (8, 1), (9, 1)]
    >>> chunks(5, 100, 2)[:2]
    [(5, 7), (12, 7)]
    """
    size = max(1, min(MAX_CHUNK, -(-count // (workers * 8))))
    return [
        (first, min(size, start + count - first)) for first in range(start, start + count, size)
    ]


def run_in_workers(
    config: ExperimentConfig, video_dir: Path | None, start: int, count: int, workers: int
) -> Iterator[EpisodeBatch]:
    """Episodes ``start .. start + count - 1`` from `workers` processes, in episode order.

    Each episode is seeded from the run seed and its index alone, so the episodes equal
    those of a run in one process. If one fails, the episodes before it still arrive and
    then its error is raised; Ctrl-C stops every worker.
    """
    jobs = [
        (config.to_json(), video_dir, first, size) for first, size in chunks(start, count, workers)
    ]
    with multiprocessing.get_context().Pool(workers, initializer=_ignore_sigint) as pool:
        for batch, error in pool.imap(_run_chunk, jobs):
            if len(batch):
                yield batch
            if error is not None:
                raise error


def _ignore_sigint() -> None:
    # Ctrl-C is the parent's to handle: it stops the pool and keeps what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_chunk(
    job: tuple[dict[str, Any], Path | None, int, int],
) -> tuple[EpisodeBatch, RolloutError | None]:
    from gymrun.experiment import Experiment

    settings, video_dir, first, size = job
    config = ExperimentConfig.model_validate(settings)
    done: list[EpisodeResult] = []
    error = None
    with Experiment(config, video_dir) as experiment:
        try:
            done.extend(experiment.episodes(first, size))
        except RolloutError as exc:
            error = exc
    return EpisodeBatch.of(done, config.reward_boundary), error
