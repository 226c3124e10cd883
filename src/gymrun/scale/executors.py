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
    bundle: int = 1,
) -> Generator[tuple[Key, Outcome], None, None]:
    """Play every chunk with `executor`; yield ``(key, result or the exception it raised)``
    as each ends, in any order. Closing the generator cancels what has not started. The
    dask executor needs `cluster` (see `gymrun.scale.cluster.connect_dask`) and plays
    consecutive chunks of up to `bundle` episodes in one task; losing its scheduler or
    every worker raises a `FaultError`."""
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
    yield from _on_dask(chunks, cluster, bundle)


def _outcome(chunk: Chunk) -> Outcome:
    try:
        return play_chunk(chunk)
    except Exception as exc:  # a broken run must not stop the others
        return exc


def _on_dask(
    items: Iterable[tuple[Key, Chunk]], cluster: DaskCluster, bundle: int = 1
) -> Generator[tuple[Key, Outcome], None, None]:
    """Chunks as Dask tasks, consecutive ones of up to `bundle` episodes in all played by one
    task (a sweep's short runs), a few tasks per worker thread ahead of the results; a
    result lost with its worker (killed after it finished, before it was fetched) is asked
    for again."""
    from distributed import wait

    client = cluster.client
    pending = _bundles(items, bundle)
    running: dict[Any, list[tuple[Key, Chunk]]] = {}
    again: list[list[tuple[Key, Chunk]]] = []
    sent: dict[Key, int] = {}
    modules: dict[str, tuple[Any, ...]] = {}
    health = _Health(cluster)

    def submit(task: list[tuple[Key, Chunk]]) -> None:
        shipped: dict[str, Any] = {}
        for key, chunk in task:
            plan = chunk.plan
            if plan.key not in modules:  # the user's code goes with every chunk, by its hash
                modules[plan.key] = tuple(user_code(plan.config))
            shipped |= {module.name: module for module in modules[plan.key]}
            sent[key] = sent.get(key, 0) + 1
        chunks = pickle.dumps([chunk for _, chunk in task])
        future = client.submit(play_shipped, tuple(shipped.values()), chunks, pure=False)
        running[future] = task

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
                submit(item)
            if not running:
                return
            try:
                with client.as_current():
                    wait(list(running), timeout=POLL, return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]
            except (TimeoutError, CancelledError):
                pass  # a cancelled task (the scheduler was lost) is seen below
            done = [future for future in running if future.status != "pending"]
            finished = [future for future in done if future.status == "finished"]
            for future, results in zip(finished, _gathered(client, finished), strict=True):
                task = running.pop(future)
                if results is None:
                    again.append(task)
                    continue
                for (key, _), result in zip(task, results, strict=True):
                    yield key, result
            for future in done:
                if future in running and future.status == "error":
                    failure = _worker_failure(future.exception())
                    for key, _ in running.pop(future):
                        yield key, failure
                elif future in running:  # cancelled or lost with its scheduler or worker
                    task = running.pop(future)
                    lost = max(sent[key] for key, _ in task)
                    if lost > RETRIES:
                        for key, _ in task:
                            yield key, FaultError(f"the Dask task of {key} was lost {lost} times")
                    else:
                        again.append(task)
    finally:
        if running and client.status == "running":
            client.cancel(list(running), force=True)


def _bundles(
    items: Iterable[tuple[Key, Chunk]], episodes: int
) -> Iterator[list[tuple[Key, Chunk]]]:
    """Consecutive chunks grouped into tasks of at most `episodes` episodes (a longer chunk
    is a task of its own)."""
    task: list[tuple[Key, Chunk]] = []
    size = 0
    for key, chunk in items:
        if task and size + chunk.count > episodes:
            yield task
            task, size = [], 0
        task.append((key, chunk))
        size += chunk.count
    if task:
        yield task


def _gathered(client: Any, futures: list[Any]) -> list[list[ChunkResult] | None]:
    """The results of finished `futures`, fetched together; None for one that was lost.
    The fetch has a time limit: a result whose worker died before it was fetched is
    computed again by the scheduler, and with no worker left a plain `client.gather`
    would wait for it for ever."""
    if not futures:
        return []
    try:  # one round trip for all of them
        together: list[list[ChunkResult]] = client.sync(
            client._gather, futures, callback_timeout=FETCH_TIMEOUT
        )
        return list(together)
    except Exception:  # one was lost: find which, each with its own time limit
        pass
    results: list[list[ChunkResult] | None] = []
    for future in futures:
        try:
            results.append(future.result(timeout=FETCH_TIMEOUT))
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
        self.next_look = time.monotonic() + POLL

    def check(self) -> bool:
        """Whether the scheduler is there now; raises `FaultError` when the scheduler, or
        every worker, has been gone too long."""
        client = self.cluster.client
        problem = None
        if client.status != "running":
            problem = f"lost the Dask scheduler at {self.cluster.address}"
        elif self.unwell_since is not None or time.monotonic() >= self.next_look:
            # the workers are asked for (a round trip) every POLL seconds, not every result
            self.next_look = time.monotonic() + POLL
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
    size = task_size(plan.episodes - start, cluster.threads, episode_cost([plan]))
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
