"""Where a sweep's chunks run: in this process, in a process pool, or on a Dask cluster."""

from __future__ import annotations

import pickle
import time
from collections.abc import Generator, Hashable, Iterable, Iterator
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any, TypeVar

from gymrun.core.episodes import EpisodeBatch
from gymrun.core.plan import RunPlan, user_code
from gymrun.errors import FaultError, GymrunError
from gymrun.scale.chunks import (
    Chunk,
    ChunkResult,
    episode_cost,
    in_order,
    play_chunk,
    play_shipped,
    task_size,
)
from gymrun.scale.cluster import DaskCluster
from gymrun.scale.pool import play_anywhere

EXECUTORS = ("local", "process", "dask")

Outcome = ChunkResult | BaseException
Key = TypeVar("Key", bound=Hashable)
IN_FLIGHT = 4  # chunks per worker thread sent ahead of the results
RETRIES = 3  # times a chunk whose result was lost with its worker is sent again
POLL = 0.5  # seconds between looks at the cluster's health while results are awaited
FETCH_TIMEOUT = 10.0  # seconds to fetch one finished task's result before it counts as lost


def execute(
    chunks: Iterable[tuple[Key, Chunk]],
    executor: str,
    workers: int,
    cluster: DaskCluster | None = None,
) -> Generator[tuple[Key, Outcome], None, None]:
    """Play every chunk with `executor`; yield ``(key, result or the exception it raised)``
    as each ends, in any order. Closing the generator cancels what has not started. The
    dask executor needs `cluster` (see `gymrun.scale.cluster.connect_dask`); losing its
    scheduler or every worker raises a `FaultError`."""
    if executor == "local":
        for key, chunk in chunks:
            yield key, _outcome(chunk)
        return
    if executor == "process":
        yield from play_anywhere(chunks, workers)
        return
    if executor != "dask":
        raise GymrunError(f"unknown executor '{executor}' (use one of {', '.join(EXECUTORS)})")
    if cluster is None:
        raise GymrunError("the dask executor needs a connected cluster")
    yield from _on_dask(chunks, cluster)


def _outcome(chunk: Chunk) -> Outcome:
    try:
        return play_chunk(chunk)
    except Exception as exc:  # a broken run must not stop the others
        return exc


def _on_dask(
    items: Iterable[tuple[Key, Chunk]], cluster: DaskCluster
) -> Generator[tuple[Key, Outcome], None, None]:
    """Chunks as Dask tasks, a few per worker thread ahead of the results; a result lost
    with its worker (killed after it finished, before it was fetched) is asked for again."""
    from distributed import wait

    client = cluster.client
    pending = iter(items)
    running: dict[Any, tuple[Key, Chunk]] = {}
    again: list[tuple[Key, Chunk]] = []
    sent: dict[Key, int] = {}
    modules: dict[str, tuple[Any, ...]] = {}
    health = _Health(cluster)

    def submit(key: Key, chunk: Chunk) -> None:
        plan = chunk.plan
        if plan.key not in modules:  # the user's code goes with every chunk, by its hash
            modules[plan.key] = tuple(user_code(plan.config))
        sent[key] = sent.get(key, 0) + 1
        task = client.submit(play_shipped, modules[plan.key], pickle.dumps(chunk), pure=False)
        running[task] = (key, chunk)

    try:
        while True:
            if not health.check():  # the scheduler is away: wait for it, or give up
                time.sleep(POLL)
                continue
            limit = IN_FLIGHT * health.threads
            while len(running) < limit:
                item = again.pop() if again else next(pending, None)
                if item is None:
                    break
                submit(*item)
            if not running:
                return
            try:
                with client.as_current():
                    wait(list(running), timeout=POLL, return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]
            except (TimeoutError, CancelledError):
                pass  # a cancelled task (the scheduler was lost) is seen below
            done = [task for task in running if task.status != "pending"]
            finished = [task for task in done if task.status == "finished"]
            for task, result in zip(finished, _gathered(client, finished), strict=True):
                key, chunk = running.pop(task)
                if result is None:
                    again.append((key, chunk))
                else:
                    yield key, result
            for task in done:
                if task in running and task.status == "error":
                    key, _ = running.pop(task)
                    yield key, _worker_failure(task.exception())
                elif task in running:  # cancelled or lost with its scheduler or worker
                    key, chunk = running.pop(task)
                    if sent[key] > RETRIES:
                        yield key, FaultError(f"the Dask task of {key} was lost {sent[key]} times")
                    else:
                        again.append((key, chunk))
    finally:
        if running and client.status == "running":
            client.cancel(list(running), force=True)


def _gathered(client: Any, tasks: list[Any]) -> list[ChunkResult | None]:
    """The results of finished `tasks`; None for one that was lost. Each is fetched with a
    time limit: a result whose worker died before it was fetched is computed again by the
    scheduler, and with no worker left `client.gather` would wait for it for ever."""
    results: list[ChunkResult | None] = []
    for task in tasks:
        try:
            results.append(task.result(timeout=FETCH_TIMEOUT))
        except Exception:  # lost with its worker, or not back in time: sent again
            results.append(None)
    return results


def _worker_failure(error: BaseException | None) -> BaseException:
    if isinstance(error, GymrunError):
        return error
    text = str(error).splitlines()[0] if str(error) else ""
    return FaultError(f"on a Dask worker: {type(error).__name__}: {text}")


class _Health:
    """Watches the cluster while its results are awaited: a scheduler that stays out of
    reach, or no worker at all, for longer than one may take to come back, ends the sweep."""

    def __init__(self, cluster: DaskCluster) -> None:
        self.cluster = cluster
        self.patience = max(cluster.wait_workers, 1.0)
        self.unwell_since: float | None = None
        self.threads = cluster.threads

    def check(self) -> bool:
        """Whether the scheduler is there now; raises `FaultError` when the scheduler, or
        every worker, has been gone too long."""
        client = self.cluster.client
        problem = None
        if client.status != "running":
            problem = f"lost the Dask scheduler at {self.cluster.address}"
        else:
            workers = client.scheduler_info()["workers"]
            if not workers:
                problem = f"every Dask worker of {self.cluster.address} is gone"
            else:
                self.threads = max(1, sum(w.get("nthreads", 1) for w in workers.values()))
        if problem is None:
            self.unwell_since = None
            return True
        started = self.unwell_since = self.unwell_since or time.monotonic()
        if time.monotonic() - started > self.patience or client.status == "closed":
            raise FaultError(f"{problem} (none came back within {self.patience:g} s)")
        return bool(client.status == "running")


def ordered_on_dask(
    plan: RunPlan, cluster: DaskCluster, record_dir: Path | None = None, start: int = 0
) -> Iterator[ChunkResult]:
    """The episodes of `plan` from `start` on, from the Dask `cluster`, chunk by chunk in
    episode order (tasks sized by `task_size`); the first chunk that fails is the last."""
    size = task_size(plan.episodes - start, cluster.threads, episode_cost(plan))
    items = (
        (number, Chunk(plan, first, min(size, plan.episodes - first), record_dir))
        for number, first in enumerate(range(start, plan.episodes, size))
    )
    outcomes = _on_dask(items, cluster)

    def results() -> Iterator[tuple[int, ChunkResult]]:
        for number, outcome in outcomes:
            if isinstance(outcome, BaseException):
                error = outcome if isinstance(outcome, GymrunError) else _worker_failure(outcome)
                outcome = ChunkResult(EpisodeBatch.of([], plan.reward_boundary), error)  # type: ignore[arg-type]
            yield number, outcome

    try:
        yield from in_order(results())
    finally:
        outcomes.close()
