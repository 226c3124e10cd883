import subprocess
import sys

import pytest

import gymrun


@pytest.mark.parametrize("name", gymrun.__all__)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(gymrun, name)
    assert value is not None
    assert getattr(value, "__doc__", None), f"gymrun.{name} has no docstring"


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="module 'gymrun' has no attribute 'nope'"):
        gymrun.nope  # noqa: B018


def test_importing_the_cli_does_not_import_gymnasium() -> None:
    # `gymrun --help` must stay quick: the heavy libraries load only when a command needs them.
    code = (
        "import sys, gymrun.cli; "
        "print(sorted(m for m in ('gymnasium', 'numpy', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_every_module_imports_on_its_own() -> None:
    # Each module, imported first in a process that has imported no other gymrun module,
    # brings what it needs itself (no module leans on another having been imported before).
    code = """
import importlib, pkgutil, sys
import gymrun
names = [m.name for m in pkgutil.walk_packages(gymrun.__path__, "gymrun.")]
for name in names:
    if name == "gymrun.__main__":
        continue
    for loaded in [m for m in sys.modules if m.startswith("gymrun.")]:
        del sys.modules[loaded]
    importlib.import_module(name)
print(len(names))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 40


def test_errors_say_their_kind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A library caller catches the kind of error it can handle, without reading messages."""
    from gymrun.components.catalog import find_spec
    from gymrun.records.directory import RecordDir
    from gymrun.scale.executors import executor

    with pytest.raises(gymrun.UnknownNameError, match="CartPole-v1"):
        find_spec("CartPole-v9")
    with pytest.raises(gymrun.RecordError, match="not a gymrun run"):
        RecordDir.reopen(tmp_path)
    with pytest.raises(gymrun.UsageError, match="drop workers=2"):
        executor("dask", 2)
    with (
        pytest.raises(gymrun.ClusterError, match="tcp://HOST:PORT"),
        executor("dask", address="http//nowhere"),
    ):
        pass
    assert issubclass(gymrun.ResumeRefused, gymrun.RecordError)
    for name in gymrun.__all__:
        kind = getattr(gymrun, name)
        if isinstance(kind, type) and issubclass(kind, Exception) and name != "GymrunError":
            assert issubclass(kind, gymrun.GymrunError) and kind.__doc__, name
