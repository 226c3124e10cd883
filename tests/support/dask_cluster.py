"""A real Dask cluster on the loopback interface: `dask scheduler` and `dask worker`
processes, each in its own process group, all killed when the test ends."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from gymrun.core.orphans import die_with_parent

DASK = str(Path(sys.executable).parent / "dask")
START = 60.0  # seconds a scheduler or worker may take to start


class Cluster:
    """A scheduler and its workers; `address` is the scheduler's."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.processes: list[subprocess.Popen[bytes]] = []
        self.workers: list[subprocess.Popen[bytes]] = []
        self.address = ""
        self.scheduler: subprocess.Popen[bytes] | None = None

    def _start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = (self.directory / f"process{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [DASK, *args],
            cwd=self.directory,  # not the test's directory: workers see no user's files
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            # killed with the test process even when it is killed (no `finally` runs then)
            preexec_fn=die_with_parent,
        )
        self.processes.append(process)
        return process

    def start_scheduler(self) -> None:
        file = self.directory / "scheduler.json"
        self.scheduler = self._start(
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(file),
        )  # fmt: skip
        deadline = time.monotonic() + START
        while not file.exists() or not file.stat().st_size:
            assert time.monotonic() < deadline, "the scheduler did not start"
            assert self.scheduler.poll() is None, "the scheduler died"
            time.sleep(0.1)
        time.sleep(0.1)
        self.address = json.loads(file.read_text())["address"]

    def add_worker(
        self, *, threads: int = 1, env: dict[str, str] | None = None, wait: bool = True
    ) -> subprocess.Popen[bytes]:
        worker = self._start(
            "worker", self.address, "--nthreads", str(threads), "--no-dashboard",
            "--host", "127.0.0.1", "--name", f"w{len(self.workers)}", env=env,
        )  # fmt: skip
        self.workers.append(worker)
        if wait:
            self.wait_for(len(self.workers))
        return worker

    def wait_for(self, workers: int) -> None:
        from distributed import Client

        with Client(self.address, timeout="20s") as client:
            client.wait_for_workers(workers, timeout=START)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL `process` and everything it started (a worker's nanny and its worker)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)

    def close(self) -> None:
        for process in self.processes:
            self.kill(process)


@contextlib.contextmanager
def dask_cluster(directory: Path, workers: int = 2, threads: int = 1) -> Iterator[Cluster]:
    """A running scheduler with `workers` workers of `threads` threads each."""
    directory.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(directory)
    try:
        cluster.start_scheduler()
        for _ in range(workers):
            cluster.add_worker(wait=False)
        if workers:
            cluster.wait_for(workers)
        yield cluster
    finally:
        cluster.close()
