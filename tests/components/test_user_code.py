"""The user's modules installed in another process (a Dask worker): only into a directory
that this user alone owns and may write, and only the shipped files importable from it."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gymrun.components.user_code import HASH_ATTRIBUTE, UserModule, install
from gymrun.errors import FaultError

MakeName = Callable[[], str]


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's temporary directory (what $TMPDIR names): like /tmp, anyone may
    create in it, and only an entry's owner may remove or rename it."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    directory.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


@pytest.fixture
def names(tmp_path: Path) -> Iterator[MakeName]:
    """Unique module names, each removed from sys.modules after the test."""
    made: list[str] = []

    def make() -> str:
        made.append(f"shipped_{len(made)}_{tmp_path.name.replace('-', '_')}")
        return made[-1]

    yield make
    for loaded in [n for n in sys.modules if n.partition(".")[0] in made]:
        del sys.modules[loaded]


def base_of(temp: Path) -> Path:
    return temp / f"gymrun-code-{os.getuid()}"


def directory_of(temp: Path, module: UserModule) -> Path:
    """Where a module is installed: its name is its hash, which anyone who has the
    module's source can compute."""
    return base_of(temp) / module.sha256.removeprefix("sha256:")[:32]


def single(name: str, source: str) -> UserModule:
    return UserModule(name, ((f"{name}.py", source.encode()),))


def planting(directory: Path, marker: Path, *paths: str) -> None:
    """Files at `paths` under `directory` that leave `marker` behind if they are imported."""
    for path in paths:
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_text(f"open({str(marker)!r}, 'a').write({path!r} + '\\n')\n")


def open_to_all(*directories: Path) -> None:
    for directory in directories:
        directory.mkdir(exist_ok=True)
        directory.chmod(0o777)


def test_a_code_directory_others_may_write_is_refused_and_nothing_planted_runs(
    temp: Path, names: MakeName, tmp_path: Path
) -> None:
    name = names()
    source = "import numpy\nVALUE = 1\n"
    module = single(name, source)
    base, planted = base_of(temp), directory_of(temp, module)
    open_to_all(base, planted)  # made by another user before the worker's first install
    (planted / f"{name}.py").write_text(source)  # the module itself, as shipped...
    marker = tmp_path / "planted-code-ran"
    # ... beside a package of the same name (found first), and modules it imports
    planting(planted, marker, f"{name}/__init__.py", "numpy.py", "numpy/__init__.py")
    planting(base, marker, "numpy.py", f"{name}.py", "sitecustomize.py")
    (base / "planted.pth").write_text(f"import os; open({str(marker)!r}, 'a')\n")

    with pytest.raises(FaultError) as refused:
        install([module])
    message = str(refused.value)
    assert "\n" not in message
    assert f"{base} may be written by other users (mode 0777)" in message
    assert not marker.exists()
    assert name not in sys.modules


def test_a_code_directory_that_is_a_symbolic_link_is_refused(
    temp: Path, names: MakeName, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    base_of(temp).symlink_to(elsewhere)
    name = names()
    with pytest.raises(FaultError, match="is a symbolic link, not a directory"):
        install([single(name, "VALUE = 1\n")])
    assert list(elsewhere.iterdir()) == []
    assert name not in sys.modules


@pytest.mark.skipif(os.getuid() != 0, reason="giving a directory to another user needs root")
@pytest.mark.parametrize("whose", ["base", "module"])
def test_a_code_directory_of_another_user_is_refused(
    temp: Path, names: MakeName, tmp_path: Path, whose: str
) -> None:
    name = names()
    module = single(name, "VALUE = 1\n")
    base, directory = base_of(temp), directory_of(temp, module)
    base.mkdir(mode=0o700)
    if whose == "module":
        directory.mkdir(mode=0o700)
        (directory / f"{name}.py").write_text("VALUE = 1\n")
    os.chown(base if whose == "base" else directory, 65534, 65534)
    refusal = f"is owned by uid 65534, not by this user \\(uid {os.getuid()}\\)"
    with pytest.raises(FaultError, match=refusal):
        install([module])
    assert name not in sys.modules


def test_a_module_directory_others_may_write_is_refused(
    temp: Path, names: MakeName, tmp_path: Path
) -> None:
    name = names()
    module = single(name, "VALUE = 1\n")
    base_of(temp).mkdir(mode=0o700)
    directory = directory_of(temp, module)
    open_to_all(directory)
    (directory / f"{name}.py").write_text("VALUE = 1\n")
    marker = tmp_path / "planted-code-ran"
    planting(directory, marker, f"{name}/__init__.py")
    with pytest.raises(FaultError, match=f"{directory} may be written by other users"):
        install([module])
    assert not marker.exists()


def test_only_the_shipped_module_is_imported_from_its_directory(
    temp: Path, names: MakeName, tmp_path: Path
) -> None:
    name = names()
    module = single(name, "VALUE = 1\n")
    base_of(temp).mkdir(mode=0o700)
    directory = directory_of(temp, module)
    directory.mkdir(mode=0o700)
    (directory / f"{name}.py").write_text("VALUE = 1\n")
    marker = tmp_path / "planted-code-ran"
    planting(directory, marker, f"{name}/__init__.py")  # a package is found before a file
    install([module])
    assert sys.modules[name].VALUE == 1
    assert not marker.exists()


def test_a_directory_holding_more_than_the_shipped_package_is_not_used(
    temp: Path, names: MakeName, tmp_path: Path
) -> None:
    name = names()
    module = UserModule(name, ((f"{name}/__init__.py", b"VALUE = 1\n"),))
    base_of(temp).mkdir(mode=0o700)
    directory = directory_of(temp, module)
    (directory / name).mkdir(parents=True, mode=0o700)
    (directory / name / "__init__.py").write_text("VALUE = 1\n")
    marker = tmp_path / "planted-code-ran"
    planting(directory, marker, f"{name}/extra.py")
    install([module])
    assert sys.modules[name].VALUE == 1
    with pytest.raises(ImportError):
        __import__(f"{name}.extra")
    assert not marker.exists()


def test_paths_outside_the_module_are_refused(temp: Path, names: MakeName) -> None:
    name = names()
    for path in ("../escaped.py", f"{name}/../../escaped.py", f"{temp}/escaped.py", "other.py"):
        with pytest.raises(FaultError, match="is not a file of the module"):
            install([UserModule(name, ((path, b"VALUE = 1\n"),))])
    assert list(temp.rglob("escaped.py")) == []
    assert name not in sys.modules


def test_the_code_is_written_for_this_user_alone_and_used_again(
    temp: Path, names: MakeName
) -> None:
    name = names()
    module = single(name, "VALUE = 1\n")
    install([module])
    base, directory = base_of(temp), directory_of(temp, module)
    for path in (base, directory):
        status = path.lstat()
        assert stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid()
        assert stat.S_IMODE(status.st_mode) == 0o700
    assert sorted(p.name for p in directory.iterdir() if p.name != "__pycache__") == [f"{name}.py"]
    assert stat.S_IMODE((directory / f"{name}.py").stat().st_mode) & 0o022 == 0
    first = sys.modules[name]
    assert Path(first.__file__ or "") == directory / f"{name}.py"
    assert getattr(first, HASH_ATTRIBUTE) == module.sha256
    install([module])  # the same version: kept
    assert sys.modules[name] is first
    del sys.modules[name]
    install([module])  # imported again, from the same directory
    assert sys.modules[name] is not first
    assert Path(sys.modules[name].__file__ or "") == directory / f"{name}.py"
    assert sorted(p.name for p in base.iterdir()) == [directory.name]


def test_a_package_imports_its_submodules_and_a_new_version_replaces_the_old(
    temp: Path, names: MakeName
) -> None:
    name = names()

    def version(value: int) -> UserModule:
        return UserModule(
            name,
            (
                (f"{name}/__init__.py", b"from .sub import VALUE\n"),
                (f"{name}/sub.py", f"VALUE = {value}\n".encode()),
                (f"{name}/inner/__init__.py", b""),
                (f"{name}/inner/deep.py", f"DEEP = {value * 10}\n".encode()),
            ),
        )

    for value in (1, 2):
        install([version(value)])
        package = sys.modules[name]
        assert getattr(package, HASH_ATTRIBUTE) == version(value).sha256
        deep = __import__(f"{name}.inner.deep", fromlist=["DEEP"])
        found = (package.VALUE, sys.modules[f"{name}.sub"].VALUE, deep.DEEP)
        assert found == (value, value, value * 10)
        assert Path(deep.__file__).is_relative_to(directory_of(temp, version(value)))
