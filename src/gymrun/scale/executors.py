"""Where a sweep's chunks run: in this process, in a process pool, or on a Dask cluster."""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Generator, Hashable, Iterable
from typing import Any, TypeVar

from gymrun.errors import GymrunError
from gymrun.scale.chunks import Chunk, ChunkResult, play_chunk
from gymrun.scale.pool import play_anywhere

EXECUTORS = ("local", "process", "dask")

Outcome = ChunkResult | BaseException
Key = TypeVar("Key", bound=Hashable)


def execute(
    chunks: Iterable[tuple[Key, Chunk]], executor: str, workers: int, address: str | None
) -> Generator[tuple[Key, Outcome], None, None]:
    """Play every chunk with `executor`; yield ``(key, result or the exception it raised)``
    as each ends, in any order. Closing the generator cancels what has not started."""
    if executor == "local":
        for key, chunk in chunks:
            yield key, _outcome(chunk)
        return
    if executor == "process":
        yield from play_anywhere(chunks, workers)
        return
    if executor != "dask":
        raise GymrunError(f"unknown executor '{executor}' (use one of {', '.join(EXECUTORS)})")
    client = connect_dask(address)
    tasks = client.get_executor(pure=False)
    try:
        futures = {tasks.submit(play_chunk, chunk): key for key, chunk in chunks}
        for future in concurrent.futures.as_completed(futures):
            error = future.exception()
            yield futures[future], error if error is not None else future.result()
    finally:
        tasks.shutdown(wait=False)  # cancels what has not finished (after Ctrl-C)
        client.close()


def _outcome(chunk: Chunk) -> Outcome:
    try:
        return play_chunk(chunk)
    except Exception as exc:  # a broken run must not stop the others
        return exc


def connect_dask(address: str | None) -> Any:
    """A Dask client for the scheduler at `address` (or ``DASK_SCHEDULER_ADDRESS``)."""
    try:
        from distributed import Client  # an optional extra: imported when asked for
    except ImportError as exc:
        raise GymrunError(
            "the dask executor needs distributed, which is not installed: "
            "pip install 'gymrun[dask]'"
        ) from exc
    address = address or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if not address:
        raise GymrunError(
            "the dask executor needs a scheduler: pass --address tcp://HOST:PORT "
            "or set DASK_SCHEDULER_ADDRESS"
        )
    try:
        return Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise GymrunError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
