"""Model files: finding one, its content hash, loading it once however many agents use it,
and importing the optional library that reads it."""

from __future__ import annotations

import functools
import hashlib
import importlib
import weakref
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from gymrun.components.extras import install_command
from gymrun.errors import AgentError

Loaded = TypeVar("Loaded")

# While any agent holds a loaded model, another built from the same file gets the same one:
# a vector run gives each sub-environment its own copy of the agent, not its own model.
_LOADED: weakref.WeakValueDictionary[tuple[Any, ...], Any] = weakref.WeakValueDictionary()


def model_file(path: str, agent: str) -> Path:
    """`path` as a file that exists, or an `AgentError` naming it.

    >>> model_file("no/such/model.zip", "sb3")
    Traceback (most recent call last):
    ...
    gymrun.errors.AgentError: agent sb3: no such file: no/such/model.zip
    """
    file = Path(path)
    if not file.is_file():
        what = "is a directory, not a file" if file.is_dir() else "no such file"
        raise AgentError(f"agent {agent}: {what}: {path}")
    return file


def file_identity(file: Path) -> tuple[str, int, int]:
    """What tells one version of `file` from another without reading it: its absolute path,
    modification time and size."""
    stat = file.stat()
    return str(file.absolute()), stat.st_mtime_ns, stat.st_size


def sha256(file: Path) -> str:
    """The hex SHA-256 of `file`'s content, read once per version of the file.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as handle:
    ...     sha256(Path(handle.name))[:16]
    'e3b0c44298fc1c14'
    """
    return _sha256(*file_identity(file))


@functools.lru_cache(maxsize=64)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def traced(file: Path) -> dict[str, str]:
    """What ``meta.json`` keeps of a file an agent read: its path and content hash."""
    return {"path": str(file.absolute()), "sha256": sha256(file)}


def shared(key: tuple[Any, ...], load: Callable[[], Loaded]) -> Loaded:
    """``load()``, or what an earlier call with the same `key` loaded, while something still
    holds it (the value must allow weak references: most Python objects do).

    >>> class Model:
    ...     pass
    >>> first = shared(("doctest", 1), Model)
    >>> shared(("doctest", 1), Model) is first, shared(("doctest", 2), Model) is first
    (True, False)
    """
    try:
        value: Loaded = _LOADED[key]
    except KeyError:
        value = load()
        _LOADED[key] = value
    return value


def one_line(exc: BaseException) -> str:
    """`exc` as ``Type: message`` on one line, as an error line quotes it.

    >>> one_line(ValueError("expected 4,\\n got 6"))
    'ValueError: expected 4, got 6'
    """
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def import_extra(module: str, package: str, requirement: str, needed_by: str) -> ModuleType:
    """Import `module` of optional `package` for `needed_by`, or an `AgentError` saying how
    to install `requirement` (a package, or a gymrun extra such as ``gymrun[onnx]``).

    >>> try:
    ...     import_extra("no_such_xyz", "onnxruntime", "onnxruntime", "agent onnx")
    ... except AgentError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    agent onnx needs onnxruntime, which is not installed: ...pip install onnxruntime
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] == module.split(".")[0]:
            raise AgentError(
                f"{needed_by} needs {package}, which is not installed: "
                f"{install_command(requirement)}"
            ) from exc
        raise AgentError(f"{needed_by}: {package} cannot be imported: {exc}") from exc
    except ImportError as exc:
        raise AgentError(f"{needed_by}: {package} cannot be imported: {exc}") from exc
