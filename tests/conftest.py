"""Fixtures every test gets: its own working directory (and Minari datasets directory), a
wide uncoloured terminal; config files and user modules written on disk; the fake
environment registered; one real Dask cluster shared by the tests that need a healthy one.

Under pytest-xdist (``--dist loadgroup``), the tests that share an expensive fixture (one
scoped wider than a test: the cluster, trained models, a board's recordings) form one group
and run in one worker process, so the fixture is built once."""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support import fake_env, goal_env  # noqa: F401  (registers the test environments)
from tests.support.dask_cluster import Cluster, dask_cluster

_SB3_LOGS = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    # SB3's learn() makes a logging folder in the system's temporary directory unless told
    # where (SB3_LOGDIR): the models tests train log into one folder, removed at the end.
    config.stash[_SB3_LOGS] = Path(tempfile.mkdtemp(prefix="gymrun-tests-sb3-"))
    os.environ["SB3_LOGDIR"] = str(config.stash[_SB3_LOGS])


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash[_SB3_LOGS], ignore_errors=True)


@pytest.fixture(autouse=True)
def _terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Runs record into the working directory: make it the test's own.
    monkeypatch.chdir(tmp_path)
    # Wide, uncoloured output, so tests can compare the text a user reads.
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GYMRUN_DEBUG", raising=False)
    # Minari datasets a test writes stay in its own directory (not ~/.minari)
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari-datasets"))


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text to a config file in tmp_path and return its path."""
    counter = itertools.count()

    def write(text: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"config{next(counter)}.yaml")
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """Write a Python module into the working directory (as a user's project would have it)
    and return its unique module name."""
    counter = itertools.count()
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def write(source: str) -> str:
        name = f"user_mod_{tmp_path.name.replace('-', '_')}_{next(counter)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield write
    for name in created:
        sys.modules.pop(name, None)


@pytest.fixture(scope="session")
def _shared_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    pytest.importorskip("distributed")
    with dask_cluster(tmp_path_factory.mktemp("dask")) as running:
        yield running


@pytest.fixture
def cluster(_shared_cluster: Cluster) -> Cluster:
    """A running `dask scheduler` with two `dask worker` processes on 127.0.0.1, shared by
    every test that needs a healthy cluster; both workers are there when the test starts (a
    worker a test killed has been restarted by its nanny). Tests that kill the scheduler or
    every worker make a cluster of their own."""
    _shared_cluster.wait_for(len(_shared_cluster.workers))
    return _shared_cluster


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        # The wide fixtures of one test module make one group (a board's recordings and its
        # browser, the trained models); one of a conftest, a group of its own (the cluster).
        shared = sorted(
            definition.baseid
            if definition.baseid.endswith(".py")
            else f"{definition.baseid}::{name}"
            for name, definitions in item._fixtureinfo.name2fixturedefs.items()
            for definition in definitions[-1:]
            if definition.scope != "function" and definition.baseid.startswith("tests")
        )
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))
