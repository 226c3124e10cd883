"""A Dask cluster made ready for a sweep: its address checked, its scheduler answering, its
workers present and running the versions of gymrun, Gymnasium and NumPy this process runs.

Every check is bounded in time, so an address that is wrong, a port where something else
listens, a cluster without workers, or a worker that cannot import gymrun is an error
message within seconds, never a hang.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import importlib.metadata
import math
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gymrun.components.extras import install_command
from gymrun.config.wording import wording
from gymrun.errors import ClusterError, NotInstalledError, described

CONNECT_TIMEOUT = 10.0  # seconds for the scheduler to answer
WAIT_WORKERS = 30.0  # seconds to wait for a first worker; GYMRUN_DASK_WAIT_WORKERS overrides
CHECKED = ("gymrun", "gymnasium", "numpy")  # a worker must run the versions this process runs

ADDRESS = re.compile(
    r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d+))?$"
)


@dataclass
class DaskCluster:
    """A connected `distributed.Client`, and what each worker runs: ``{address: {package:
    version}}``."""

    client: Any
    address: str
    workers: dict[str, dict[str, str]] = field(default_factory=dict)
    wait_workers: float = WAIT_WORKERS  # seconds a cluster may be without workers

    @property
    def threads(self) -> int:
        """Worker threads in the cluster now (at least one)."""
        info = self.client.scheduler_info()["workers"]
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.values()))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a lost scheduler: nothing left to close
            self.client.close(timeout=5)


def scheduler_address(text: str | None) -> str:
    """`text` (or ``DASK_SCHEDULER_ADDRESS``) as a Dask address, or a one-line error.

    >>> scheduler_address("127.0.0.1:8786"), scheduler_address("tls://head:8786")
    ('tcp://127.0.0.1:8786', 'tls://head:8786')
    >>> scheduler_address("head:8786x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    gymrun.errors.ClusterError: Dask scheduler address 'head:8786x': not of the form ...
    """
    source = "Dask scheduler address"
    address = text or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if not text and address:
        source = "DASK_SCHEDULER_ADDRESS"
    if not address:
        given = wording().valued("address", "tcp://HOST:PORT")
        raise ClusterError(
            f"the dask executor needs a scheduler: pass {given} or set DASK_SCHEDULER_ADDRESS"
        )
    match = ADDRESS.match(address.strip())
    if match is None:
        raise ClusterError(f"{source} '{address}': not of the form tcp://HOST:PORT")
    scheme, host, port = match["scheme"] or "tcp", match["host"], match["port"]
    if scheme not in ("tcp", "tls"):
        raise ClusterError(
            f"{source} '{address}': scheme '{scheme}' is not one of tcp, tls (a scheduler "
            "listens on tcp://HOST:8786, not on its dashboard's http://)"
        )
    if port is None or not 0 < int(port) < 65536:
        raise ClusterError(f"{source} '{address}': needs a port from 1 to 65535 (HOST:8786)")
    return f"{scheme}://{host}:{int(port)}"


def wait_workers_default() -> float:
    """Seconds to wait for a first worker: ``GYMRUN_DASK_WAIT_WORKERS``, else 30."""
    text = os.environ.get("GYMRUN_DASK_WAIT_WORKERS")
    if text is None:
        return WAIT_WORKERS
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    return checked_wait(seconds, f"GYMRUN_DASK_WAIT_WORKERS={text!r}")


def checked_wait(seconds: float, source: str) -> float:
    """`seconds` to wait for a worker, as `source` gave them: 0 or more (0: do not wait).

    >>> checked_wait(-1, "--wait-workers -1")
    Traceback (most recent call last):
    gymrun.errors.ClusterError: --wait-workers -1: must be a number of seconds, 0 or more
    """
    if not seconds >= 0:  # NaN too
        raise ClusterError(f"{source}: must be a number of seconds, 0 or more")
    return seconds


def connect_dask(
    address: str | None,
    *,
    timeout: float = CONNECT_TIMEOUT,
    wait_workers: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> DaskCluster:
    """A client of the scheduler at `address` (or ``DASK_SCHEDULER_ADDRESS``) with at least
    one worker, every worker running this process's gymrun, Gymnasium and NumPy. The
    scheduler must answer within `timeout` seconds; workers are waited for `wait_workers`
    (`on_wait` is told what is waited for)."""
    try:
        from distributed import Client  # an optional extra: imported when asked for
    except ImportError as exc:
        raise NotInstalledError(
            "the dask executor needs distributed, which is not installed: "
            + install_command("gymrun[dask]")
        ) from exc
    address = scheduler_address(address)
    wait = wait_workers_default() if wait_workers is None else wait_workers
    _check_scheduler(address, timeout)
    try:
        client = Client(address, timeout=f"{timeout}s", set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    cluster = DaskCluster(client, address, wait_workers=wait)
    try:
        _wait_for_workers(cluster, wait, on_wait)
        cluster.workers = _worker_versions(cluster, timeout)
    except BaseException:
        cluster.close()
        raise
    return cluster


def _check_scheduler(address: str, timeout: float) -> None:
    """A Dask scheduler answers at `address` within `timeout` seconds (a ``Client`` would
    wait forever on a port where, say, a web server listens)."""
    from distributed.comm.core import connect

    _check_listening(address, timeout)
    connected = False

    async def identity() -> Any:
        nonlocal connected
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)  # type: ignore[no-untyped-call]
        connected = True
        try:
            await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    try:
        answer = asyncio.run(identity())
    except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
        reason = str(exc) or "no answer"
        raise ClusterError(
            f"no Dask scheduler answered at {address} within {timeout:g} s ({reason}); "
            f"start one with `dask scheduler` or check {_address_option()}"
        ) from None
    except Exception as exc:
        if not connected:  # Dask refused to connect at all (tls:// with no TLS settings)
            raise ClusterError(f"cannot connect to {address}: {described(exc)}") from None
        # something answered, in another protocol
        raise ClusterError(
            f"{address} is not a Dask scheduler: it answered with {described(exc)}"
        ) from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        kind = answer.get("type") if isinstance(answer, dict) else type(answer).__name__
        raise ClusterError(f"{address} is not a Dask scheduler (it is a {kind})")


def _address_option() -> str:
    return wording().either("address", "--address")  # where a scheduler's address is given


def _check_listening(address: str, timeout: float) -> None:
    """Something listens at `address`: a refused connection is said at once (Dask's own
    connect tries again until its time is up, then says it timed out)."""
    host, _, port = address.partition("://")[2].rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except TimeoutError:
        return  # Dask's connect waits for it too, and says so
    except OSError as exc:
        raise ClusterError(
            f"no Dask scheduler at {address}: {exc.strerror or exc}; start one with "
            f"`dask scheduler` or check {_address_option()}"
        ) from None


def _wait_for_workers(
    cluster: DaskCluster, seconds: float, on_wait: Callable[[str], None] | None
) -> None:
    if cluster.client.scheduler_info()["workers"]:
        return
    if seconds == 0:  # Dask's own wait takes a timeout of 0 as none: it would wait for ever
        raise ClusterError(
            f"no Dask worker has joined {cluster.address} "
            f"({wording().valued('wait_workers', 0)} waits for none); "
            f"start one with `dask worker {cluster.address}`"
        )
    if on_wait is not None:
        on_wait(f"waiting up to {seconds:g} s for a Dask worker to join {cluster.address}")
    try:
        cluster.client.wait_for_workers(1, timeout=seconds)
    except TimeoutError:
        raise ClusterError(
            f"no Dask worker joined {cluster.address} within {seconds:g} s; start one with "
            f"`dask worker {cluster.address}` "
            f"({wording().either('wait_workers', '--wait-workers')} waits longer)"
        ) from None


def _worker_versions(cluster: DaskCluster, timeout: float) -> dict[str, dict[str, str]]:
    """Each worker's versions of `CHECKED`, which must be this process's."""
    mine = _probe()()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        asked = pool.submit(cluster.client.run, _probe(), on_error="return")
        try:
            answers: dict[str, Any] = asked.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise ClusterError(
                f"the Dask workers of {cluster.address} did not say which gymrun they run "
                f"within {timeout:g} s"
            ) from None
        finally:
            pool.shutdown(wait=time.monotonic() - started < timeout, cancel_futures=True)
    found = {}
    for worker, versions in sorted(answers.items()):
        if isinstance(versions, BaseException):
            reason = f"{type(versions).__name__}: {versions}"
            raise ClusterError(f"Dask worker {worker} cannot run gymrun's tasks: {reason}")
        for package in CHECKED:
            theirs = versions.get(package)
            if theirs != mine[package]:
                raise ClusterError(
                    f"Dask worker {worker} runs {package} {theirs}, this process {package} "
                    f"{mine[package]}: install the same version on every worker"
                )
        found[worker] = versions
    return found


def _probe() -> Callable[[], dict[str, str]]:
    # Defined inside a function so that it is sent by value: it must run on a worker that
    # cannot import gymrun, to say so.
    def versions() -> dict[str, str]:
        found = {}
        for package in ("gymrun", "gymnasium", "numpy"):
            try:
                module = importlib.import_module(package)
                found[package] = getattr(module, "__version__", None) or importlib.metadata.version(
                    package
                )
            except Exception as exc:
                found[package] = f"none (import {package} fails: {type(exc).__name__}: {exc})"
        return found

    return versions
