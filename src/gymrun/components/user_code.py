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
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from gymrun.errors import FaultError, ImportTargetError

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
    under their hash (once per machine, in a directory of this user's alone) and imported
    from exactly those files, replacing a module of the same name (and its submodules)
    imported before from other source. Hold `install_lock` until what uses them has been
    built. A directory that another user made or may write is refused (`FaultError`)."""
    with install_lock:
        for module in modules:
            current = sys.modules.get(module.name)
            if current is not None and getattr(current, HASH_ATTRIBUTE, None) == module.sha256:
                continue
            directory = _written(module)
            for loaded in [n for n in sys.modules if n.partition(".")[0] == module.name]:
                del sys.modules[loaded]
            _import_from(module, directory)
            _imported[module.name] = module  # the user's code, as a run here records it


def _written(module: UserModule) -> Path:
    """A directory holding exactly the module's files, named by its hash, in a directory
    of this user's own (``$TMPDIR/gymrun-code-UID``) that no one else may write: anything
    another user could put beside the module would run in its place."""
    for path, _ in module.files:
        check_path(module.name, path)
    base = Path(tempfile.gettempdir()) / f"gymrun-code-{os.getuid()}"
    _check_may_hold(base.parent)
    try:
        base.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise FaultError(
            f"cannot make the directory for shipped code {base}: {exc.strerror}"
        ) from None
    _check_private(base)
    target = base / module.sha256.removeprefix("sha256:")[:32]
    if os.path.lexists(target):
        _check_private(target)
        if _holds(target, module):
            return target
    fresh: Path | None = None
    try:
        fresh = Path(tempfile.mkdtemp(dir=base))  # 0700, a new name: no one else's
        for path, content in module.files:
            _write_new(fresh, path, content)
    except OSError as exc:
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
        raise FaultError(
            f"cannot write the shipped module '{module.name}' in {base}: {exc.strerror}"
        ) from None
    try:
        fresh.rename(target)  # atomic: a process beside this one may be writing it too
    except OSError:
        if os.path.lexists(target):
            _check_private(target)
            if _holds(target, module):
                shutil.rmtree(fresh, ignore_errors=True)
                return target
        return fresh  # a damaged copy stands there: use this one, under its own name
    return target


def check_path(name: str, path: str) -> None:
    """A shipped file is the module's own ``NAME.py``, or a file under ``NAME/``."""
    parts = path.split("/")
    inside = parts == [f"{name}.py"] or (len(parts) > 1 and parts[0] == name)
    if not inside or any(part in ("", ".", "..") for part in parts) or "\\" in path:
        raise FaultError(f"'{path}' is not a file of the module '{name}': not installed")


def _check_may_hold(directory: Path) -> None:
    """The temporary directory: others may not rename or remove what this user made in
    it (it is this user's or the system's, and open to others only if sticky, as /tmp)."""
    try:
        status = directory.stat()
    except OSError as exc:
        raise FaultError(f"the temporary directory {directory}: {exc.strerror}") from None
    if status.st_uid not in (0, os.getuid()):
        raise FaultError(
            f"the temporary directory {directory} is owned by uid {status.st_uid}: "
            "no code is installed where another user could replace it (set TMPDIR to "
            "a directory of your own)"
        )
    if status.st_mode & 0o022 and not status.st_mode & stat.S_ISVTX:
        raise FaultError(
            f"the temporary directory {directory} may be written by other users "
            f"(mode {stat.S_IMODE(status.st_mode):04o}, not sticky): no code is installed "
            "where another user could replace it (set TMPDIR to a directory of your own)"
        )


def _check_private(directory: Path) -> None:
    """`directory` is a directory itself (not a link to one), this user's, and no one
    else may write it."""
    try:
        status = directory.lstat()
    except OSError as exc:
        raise FaultError(f"the shipped code's directory {directory}: {exc.strerror}") from None
    uid = os.getuid()
    if stat.S_ISLNK(status.st_mode):
        problem = "is a symbolic link, not a directory"
    elif not stat.S_ISDIR(status.st_mode):
        problem = "is not a directory"
    elif status.st_uid != uid:
        problem = f"is owned by uid {status.st_uid}, not by this user (uid {uid})"
    elif status.st_mode & 0o022:
        problem = f"may be written by other users (mode {stat.S_IMODE(status.st_mode):04o})"
    else:
        return
    raise FaultError(
        f"the shipped code's directory {directory} {problem}: no code is imported from "
        "it (remove it; it is made again, for this user alone)"
    )


def _write_new(directory: Path, path: str, content: bytes) -> None:
    """Write a new file at `path` under `directory` (one this process just made), never
    through a link and never over a file that is there."""
    target = directory / path
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(target, flags, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)


def _holds(directory: Path, module: UserModule) -> bool:
    """`directory` holds the module's files and nothing else (but the bytecode Python
    caches beside them), each a file of its own, not a link."""
    expected = dict(module.files)
    found: set[str] = set()
    for folder, subfolders, files in os.walk(directory):  # what it cannot read, it misses
        here = Path(folder)
        for entry in subfolders:
            if entry != "__pycache__" and (here / entry).is_symlink():
                return False
        subfolders[:] = [entry for entry in subfolders if entry != "__pycache__"]
        for entry in files:
            path = (here / entry).relative_to(directory).as_posix()
            if path not in expected or _read(here / entry) != expected[path]:
                return False
            found.add(path)
    return found == set(expected)


def _read(path: Path) -> bytes | None:
    """The bytes of the regular file `path`, not read through a link; None otherwise."""
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(path, flags)  # not blocked by a FIFO: it is no file
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        return file.read()


def _import_from(module: UserModule, directory: Path) -> ModuleType:
    """Import the module from exactly its shipped file (or its package's ``__init__.py``,
    its submodules from the package's directory): `directory` itself is never searched, so
    nothing else in it is importable, let alone found first."""
    name = module.name
    package = directory / name
    spec: importlib.machinery.ModuleSpec | None
    if any(path.startswith(f"{name}/") for path, _ in module.files):
        spec = importlib.util.spec_from_file_location(
            name, package / "__init__.py", submodule_search_locations=[str(package)]
        )
        if f"{name}/__init__.py" not in dict(module.files):
            spec = None  # a namespace package: not imported from shipped files
    else:
        spec = importlib.util.spec_from_file_location(name, directory / f"{name}.py")
    if spec is None or spec.loader is None:
        raise ImportTargetError(f"the shipped module '{name}' cannot be imported")
    imported = importlib.util.module_from_spec(spec)
    setattr(imported, HASH_ATTRIBUTE, module.sha256)
    sys.modules[name] = imported
    try:
        spec.loader.exec_module(imported)
    except BaseException:
        del sys.modules[name]
        raise
    return imported
