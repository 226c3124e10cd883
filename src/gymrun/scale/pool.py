"""Worker processes on this machine: a pool that plays chunks of episodes.

A worker process that dies (killed, out of memory) takes the chunks it held with it; the
pool notices, starts new processes and plays those chunks again (each episode keeps its own
seed, so the results are the same). A chunk that kills its worker twice fails its run.
Chunks are made and sent a few at a time, so a run of any length costs no memory up front.

Closing asks the workers to stop (each at the end of the episode it plays) and waits for
the pool to end; only a worker still busy after `STOP_SECONDS` is killed. Killing workers
under a pool's feet is what its own machinery handles worst: before Python 3.12.8 it could
deadlock, or print a traceback, as the interpreter exits.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, TypeVar

from gymrun.core.episodes import EpisodeBatch
from gymrun.core.orphans import die_with_parent
from gymrun.core.signals import deferred
from gymrun.errors import FaultError
from gymrun.scale.chunks import Chunk, ChunkResult, play_chunk

Key = TypeVar("Key", bound=Hashable)
IN_FLIGHT = 4  # chunks per worker process sent ahead of the results
RETRIES = 1  # times a chunk is played again after its worker process died
WAKE_SECONDS = 0.2  # the longest a stopping signal waits to be handled
STOP_SECONDS = 3.0  # how long closing waits for workers to stop before killing them


class ProcessPool:
    """`workers` processes that leave Ctrl-C to this one; closing stops them at once."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        context = multiprocessing.get_context()
        self._stopping = context.Event()  # set: each worker stops after its episode
        self._executor = self._start()

    def _start(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context(),
            initializer=_start_worker,
            initargs=(self._stopping,),
        )

    def play(self, items: Iterable[tuple[Key, Chunk]]) -> Iterator[tuple[Key, ChunkResult]]:
        """Play every chunk; yield ``(key, result)`` as each ends, in any order."""
        pending = iter(items)
        running: dict[concurrent.futures.Future[ChunkResult], tuple[Key, Chunk]] = {}
        lost: deque[tuple[Key, Chunk]] = deque()
        retries: dict[Key, int] = {}
        while True:
            while len(running) < IN_FLIGHT * self.workers:
                item = lost.popleft() if lost else next(pending, None)
                if item is None:
                    break
                with deferred():  # the first submit forks the workers
                    running[self._executor.submit(_play, item[1])] = item
            if not running:
                return
            done: set[concurrent.futures.Future[ChunkResult]] = set()
            while not done:
                # Woken now and then: a signal the kernel gave another thread of this
                # process (the pool's own) is handled only when this one runs again, so a
                # wait without end would leave Ctrl-C waiting for the next chunk to end.
                done, _ = concurrent.futures.wait(
                    running, timeout=WAKE_SECONDS, return_when=concurrent.futures.FIRST_COMPLETED
                )
            for future in done:
                key, chunk = running.pop(future)
                try:
                    yield key, future.result()
                except BrokenProcessPool:
                    # A worker died: every chunk it took down is played again, in order.
                    retries[key] = retries.get(key, 0) + 1
                    if retries[key] > RETRIES:
                        yield (
                            key,
                            ChunkResult(
                                EpisodeBatch.of([], chunk.plan.reward_boundary),
                                FaultError(
                                    f"episodes {chunk.first} to {chunk.first + chunk.count - 1}: "
                                    "the worker process playing them died twice (killed, or out "
                                    "of memory)"
                                ),
                            ),
                        )
                        continue
                    lost.append((key, chunk))
            if lost:
                for future, item in list(running.items()):
                    future.cancel()
                    lost.append(item)
                running.clear()
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._start()

    def close(self) -> None:
        """Stop every worker process now, finished or not: each ends the episode it plays
        (up to `STOP_SECONDS`; one still busy then is killed) and the pool is shut down."""
        self._stopping.set()
        # its processes, known before the shutdown forgets them
        processes = list((getattr(self._executor, "_processes", None) or {}).values())
        ended = threading.Thread(
            target=self._executor.shutdown, kwargs={"cancel_futures": True}, daemon=True
        )
        ended.start()
        ended.join(STOP_SECONDS)
        if ended.is_alive():  # an episode too long to wait for
            for process in processes:
                if process.is_alive():
                    process.kill()
            ended.join(5)

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_stopping: Any = None  # in a worker: the pool's event asking it to stop


def _start_worker(stopping: Any) -> None:
    global _stopping
    _stopping = stopping
    # Ctrl-C and a closing terminal reach the whole process group; they are the parent's to
    # handle: it stops the pool and keeps what finished. (SIGTERM stops a worker: that is
    # how the pool itself ends one.) A worker never outlives its parent.
    for signum in (signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    # A worker forked while the parent guards its run would inherit the guard's handler
    # (held while it starts: see `deferred`).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()


def _play(chunk: Chunk) -> ChunkResult:
    """A chunk played in a worker, stopped early when the pool closes."""
    stop: Callable[[], bool] | None = None if _stopping is None else _stopping.is_set
    return play_chunk(chunk, stop)
