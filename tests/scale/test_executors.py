"""`executor`, called from Python: a combination that means nothing is refused naming the
arguments it was given (the command line names its options: tests/pipeline/test_playing.py)."""

from __future__ import annotations

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
