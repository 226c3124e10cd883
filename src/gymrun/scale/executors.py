"""Where chunks of runs are played: in this process, in a pool of processes on this
machine, or on a Dask cluster. Each executor takes ``(key, chunk)`` items and gives back
``(key, piece)`` as pieces come, in any order between chunks and in order within one (see
`gymrun.scale.chunks`); closing what `play` returns cancels what has not started.

Each says how its chunks should be sized (`policy`, see `gymrun.scale.sizing`) and how many
play at once (`parallel`); `executor` makes one from the command line's words.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Generator, Hashable, Iterable, Iterator
from concurrent.futures import CancelledError
from types import TracebackType
from typing import Any, TypeVar

from gymrun.config.wording import wording
from gymrun.core.episodes import EpisodeBatch
from gymrun.core.plan import user_code
from gymrun.errors import FaultError, GymrunError, UsageError
from gymrun.scale.chunks import Chunk, ChunkResult, play_shipped, stream_chunk
from gymrun.scale.cluster import DaskCluster, checked_wait, connect_dask
from gymrun.scale.pool import ProcessPool
from gymrun.scale.sizing import ChunkPolicy

EXECUTORS = ("local", "process", "dask")

Key = TypeVar("Key", bound=Hashable)
Pieces = Generator[tuple[Key, ChunkResult], None, None]
Outcome = ChunkResult | BaseException
IN_FLIGHT = 4  # chunks per worker thread sent ahead of the results
RETRIES = 3  # times a chunk whose result was lost with its worker is sent again
POLL = 0.5  # seconds between looks at the cluster's health while results are awaited
FETCH_TIMEOUT = 10.0  # seconds to fetch finished tasks' results before they count as lost
LAST_LOOK = 0.05  # seconds a result already there may take to come, once that time is up


class Executor:
    """Where chunks are played; used as a context manager (it may start processes or
    connect to a cluster, and stops or leaves them at the end)."""

    name = ""
    policy: ChunkPolicy | None = None  # None: each run is played whole, streaming
    bundles = False  # several short runs' chunks to one task

    @property
    def parallel(self) -> int:
        """Chunks played at once."""
        return 1

    @property
    def provenance(self) -> dict[str, Any]:
        """What a run's ``meta.json`` keeps of where it ran."""
        return {}

    def play(self, items: Iterable[tuple[Key, Chunk]], bundle: int = 1) -> Pieces[Key]:
        raise NotImplementedError

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass


class InProcess(Executor):
    """This process: each run played whole, its episodes given as they finish."""

    name = "local"

    def play(self, items: Iterable[tuple[Key, Chunk]], bundle: int = 1) -> Pieces[Key]:
        for key, chunk in items:
            for piece in stream_chunk(chunk, keep=False):
                yield key, piece


class Processes(Executor):
    """`workers` processes on this machine, each playing chunks of half a second at most
    (so a long run streams back, and a stopped one keeps nearly all it played)."""

    name = "process"
    policy = ChunkPolicy(seconds=0.5, least_seconds=0.0, episodes=1000)

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or len(os.sched_getaffinity(0))
        self._pool: ProcessPool | None = None

    @property
    def parallel(self) -> int:
        return self.workers

    def __enter__(self) -> Processes:
        self._pool = ProcessPool(self.workers)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def play(self, items: Iterable[tuple[Key, Chunk]], bundle: int = 1) -> Pieces[Key]:
        assert self._pool is not None, "a Processes executor plays inside its with block"
        yield from self._pool.play(items)


class OnDask(Executor):
    """A Dask cluster at `address` (or ``DASK_SCHEDULER_ADDRESS``), checked when entered
    (see `gymrun.scale.cluster.connect_dask`, which `wait_workers` and `on_wait` are for).
    Tasks are of about a second of work; the chunks of short runs are played several to a
    task. A worker lost with results is replaced by another; losing the scheduler, or every
    worker, for longer than `wait_workers` raises a `FaultError`."""

    name = "dask"
    policy = ChunkPolicy(seconds=1.0, least_seconds=0.025, episodes=100_000)
    bundles = True

    def __init__(
        self,
        address: str | None = None,
        *,
        wait_workers: float | None = None,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.address, self.wait_workers, self.on_wait = address, wait_workers, on_wait
        self.cluster: DaskCluster | None = None

    @property
    def parallel(self) -> int:
        assert self.cluster is not None
        return self.cluster.threads

    @property
    def provenance(self) -> dict[str, Any]:
        return {} if self.cluster is None else {"workers": self.cluster.workers}

    def __enter__(self) -> OnDask:
        self.cluster = connect_dask(
            self.address, wait_workers=self.wait_workers, on_wait=self.on_wait
        )
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def play(self, items: Iterable[tuple[Key, Chunk]], bundle: int = 1) -> Pieces[Key]:
        assert self.cluster is not None, "an OnDask executor plays inside its with block"
        for key, outcome in _on_dask(items, self.cluster, bundle):
            if isinstance(outcome, BaseException):
                error = outcome if isinstance(outcome, GymrunError) else _worker_failure(outcome)
                outcome = ChunkResult(_no_episodes(), error)
            yield key, outcome


def executor(
    name: str | None,
    workers: int | None = None,
    *,
    address: str | None = None,
    wait_workers: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Executor:
    """The executor the command line names: ``local`` (the default; with ``--workers N``
    above 1, processes), ``process`` (``--workers`` processes, one per core by default) or
    ``dask``. A combination that cannot mean anything is refused, naming the arguments
    (the options, on the command line).

    >>> [type(executor(n, w)).__name__ for n, w in ((None, None), (None, 3), ("process", None))]
    ['InProcess', 'Processes', 'Processes']
    >>> executor("local", 4)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gymrun.errors.UsageError: name='local' plays in this process: drop workers=4, ...
    """
    named = wording()  # a library call's arguments, or the command line's options

    def given(kind: str) -> str:
        return named.valued("name", kind, "--executor")

    if name is not None and name not in EXECUTORS:
        raise UsageError(f"{given(name)}: use one of {', '.join(EXECUTORS)}")
    if name == "dask":
        if workers is not None:
            raise UsageError(
                f"{given(name)} plays on the cluster's workers: drop "
                f"{named.valued('workers', workers)} (start as many `dask worker` processes "
                "as you want)"
            )
        if wait_workers is not None:
            checked_wait(wait_workers, named.valued("wait_workers", wait_workers))
        return OnDask(address, wait_workers=wait_workers, on_wait=on_wait)
    if address is not None:
        raise UsageError(
            f"{named.setting('address', address)} names a Dask scheduler: add {given('dask')}"
        )
    if wait_workers is not None:
        raise UsageError(
            f"{named.setting('wait_workers', wait_workers)} waits for a Dask worker: "
            f"add {given('dask')}"
        )
    if name == "local" and workers not in (None, 1):
        raise UsageError(
            f"{given(name)} plays in this process: drop {named.valued('workers', workers)}, "
            f"or use {given('process')}"
        )
    if name == "process" or (workers or 1) > 1:
        return Processes(workers)
    return InProcess()


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
    The fetch has one time limit for all of them: a result whose worker died before it was
    fetched is computed again by the scheduler, and with no worker left a plain
    `client.gather` would wait for it for ever."""
    if not futures:
        return []
    deadline = time.monotonic() + FETCH_TIMEOUT
    try:  # one round trip for all of them
        together: list[list[ChunkResult]] = client.sync(
            client._gather, futures, callback_timeout=FETCH_TIMEOUT
        )
        return list(together)
    except Exception:  # one was lost: find which, in what is left of the time
        pass
    results: list[list[ChunkResult] | None] = []
    for future in futures:
        try:
            left = max(deadline - time.monotonic(), LAST_LOOK)
            results.append(future.result(timeout=left))
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


def _no_episodes() -> EpisodeBatch:
    return EpisodeBatch.of([], None)
