"""The user's own modules a config names: their source as it was imported, its hash, and
that same source installed in another process (a Dask worker) before anything of it runs.

A module gymrun imported from beside a config or from the working directory (see
`gymrun.components.importing`) is the user's code, not an installed package: its files are
read when it is imported, and the content hash of exactly those bytes identifies it. A
process that is sent the files installs them under that hash, so it runs the version the
submitting process ran, never one it imported earlier.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from gymrun.errors import GymrunError

HASH_ATTRIBUTE = "__gymrun_sha256__"  # set on a module installed from shipped files


@dataclass(frozen=True)
class UserModule:
    """Top-level module `name`, a file or a package, as ``(relative path, bytes)`` files.

    >>> module = UserModule("my_agents", (("my_agents.py", b"X = 1\\n"),))
    >>> module.sha256[:15]
    'sha256:bf78e0e6'
    """

    name: str
    files: tuple[tuple[str, bytes], ...]

    @property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        for path, content in self.files:
            digest.update(f"{path}\0{len(content)}\0".encode())
            digest.update(content)
        return f"sha256:{digest.hexdigest()}"


_imported: dict[str, UserModule] = {}


def snapshot(name: str, spec: importlib.machinery.ModuleSpec) -> None:
    """Keep the source of user module `name` as it is about to be imported from `spec`
    (a ``.py`` file or a package directory; compiled modules are not kept)."""
    origin = Path(spec.origin) if spec.origin else None
    if spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations)))
        files = tuple(
            (f"{name}/{path.relative_to(root).as_posix()}", path.read_bytes())
            for path in sorted(root.rglob("*.py"))
            if "__pycache__" not in path.parts
        )
    elif origin is not None and origin.suffix == ".py":
        files = ((f"{name}.py", origin.read_bytes()),)
    else:
        return
    _imported[name] = UserModule(name, files)


def user_modules(names: Iterable[str]) -> list[UserModule]:
    """The user modules among the top-level modules of `names` (``pkg.mod`` counts as
    ``pkg``), in the order given; installed packages are not among them.

    >>> user_modules(["gymnasium.wrappers", "numpy"])
    []
    """
    tops = dict.fromkeys(name.partition(".")[0] for name in names)
    return [_imported[top] for top in tops if top in _imported]


# One module of a name at a time: tasks of two sweeps (two versions) may share a process.
install_lock = threading.RLock()


def install(modules: Iterable[UserModule]) -> None:
    """Make each of `modules` the one ``import`` finds in this process: files written
    under their hash (once per machine) and imported from there, replacing a module of the
    same name (and its submodules) imported before from other source. Hold `install_lock`
    until what uses them has been built."""
    with install_lock:
        for module in modules:
            current = sys.modules.get(module.name)
            if current is not None and getattr(current, HASH_ATTRIBUTE, None) == module.sha256:
                continue
            directory = _written(module)
            for loaded in [n for n in sys.modules if n.partition(".")[0] == module.name]:
                del sys.modules[loaded]
            _import_from(module, directory)


def _written(module: UserModule) -> Path:
    """A directory holding exactly the module's files, named by its hash."""
    base = Path(tempfile.gettempdir()) / f"gymrun-code-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    target = base / module.sha256.removeprefix("sha256:")[:32]
    if target.is_dir() and _holds(target, module):
        return target
    fresh = Path(tempfile.mkdtemp(dir=base))
    for path, content in module.files:
        (fresh / path).parent.mkdir(parents=True, exist_ok=True)
        (fresh / path).write_bytes(content)
    try:
        fresh.rename(target)  # atomic: a process beside this one may be writing it too
    except OSError:
        if target.is_dir() and _holds(target, module):
            shutil.rmtree(fresh, ignore_errors=True)
            return target
        return fresh  # a damaged copy stands there: use this one, under its own name
    return target


def _holds(directory: Path, module: UserModule) -> bool:
    try:
        return all((directory / path).read_bytes() == content for path, content in module.files)
    except OSError:
        return False


def _import_from(module: UserModule, directory: Path) -> ModuleType:
    spec = importlib.machinery.PathFinder.find_spec(module.name, [str(directory)])
    if spec is None or spec.loader is None:
        raise GymrunError(f"the shipped module '{module.name}' cannot be imported")
    imported = importlib.util.module_from_spec(spec)
    setattr(imported, HASH_ATTRIBUTE, module.sha256)
    sys.modules[module.name] = imported
    try:
        spec.loader.exec_module(imported)
    except BaseException:
        del sys.modules[module.name]
        raise
    return imported
