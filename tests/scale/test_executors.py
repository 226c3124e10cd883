"""`executor`, called from Python: a combination that means nothing is refused naming the
arguments it was given (the command line names its options: tests/pipeline/test_playing.py)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from gymrun.errors import ClusterError, UsageError
from gymrun.scale.executors import executor


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"name": "local", "workers": 4},
            "name='local' plays in this process: drop workers=4, or use name='process'",
        ),
        (
            {"name": "dask", "workers": 2},
            "name='dask' plays on the cluster's workers: drop workers=2 (start as many "
            "`dask worker` processes as you want)",
        ),
        (
            {"name": None, "address": "tcp://127.0.0.1:1"},
            "address='tcp://127.0.0.1:1' names a Dask scheduler: add name='dask'",
        ),
        ({"name": "ray"}, "name='ray': use one of local, process, dask"),
        (
            {"name": "process", "wait_workers": 5.0},
            "wait_workers=5.0 waits for a Dask worker: add name='dask'",
        ),
    ],
)
def test_a_combination_that_means_nothing_is_refused_naming_the_arguments(
    arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        executor(**arguments)
    assert str(raised.value) == message


def test_a_negative_wait_is_refused_naming_the_argument() -> None:
    with pytest.raises(ClusterError) as raised:
        executor("dask", wait_workers=-1.5)
    assert str(raised.value) == "wait_workers=-1.5: must be a number of seconds, 0 or more"


def test_a_missing_or_silent_scheduler_is_told_naming_the_argument(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As executor's `address`: ``--address`` is the command line's (tests/scale/test_dask.py,
    tests/test_sweep.py)."""
    pytest.importorskip("distributed")
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with pytest.raises(ClusterError) as raised, executor("dask"):
        pass
    assert str(raised.value) == (
        "the dask executor needs a scheduler: pass address='tcp://HOST:PORT' or set "
        "DASK_SCHEDULER_ADDRESS"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(ClusterError) as raised, executor("dask", address=f"127.0.0.1:{port}"):
        pass
    assert str(raised.value) == (
        f"no Dask scheduler at tcp://127.0.0.1:{port}: Connection refused; start one with "
        "`dask scheduler` or check address"
    )
