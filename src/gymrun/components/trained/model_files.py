"""Model files: finding one, reading what it holds within bounds, its content hash, loading
it once however many agents use it, and importing the optional library that reads it.

Every check of a model file as input is here: that it is a regular file (found by ``stat``
alone: a FIFO or a device is never opened), that it is no bigger than what it can hold, and
that a zip's entries and a JSON text are read no further than sane limits.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import os
import re
import stat
import struct
import weakref
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from gymrun.components.extras import install_command
from gymrun.errors import AgentError
from gymrun.numbers import figure

Loaded = TypeVar("Loaded")

# While any agent holds a loaded model, another built from the same file gets the same one:
# a vector run gives each sub-environment its own copy of the agent, not its own model.
_LOADED: weakref.WeakValueDictionary[tuple[Any, ...], Any] = weakref.WeakValueDictionary()


def model_file(path: str, agent: str) -> Path:
    """`path` as a regular file that exists, or an `AgentError` naming it. Only ``stat`` is
    asked: a FIFO, a device or a socket is named for what it is, never opened (opening a FIFO
    for reading waits for a writer; a device may never end).

    >>> model_file("no/such/model.zip", "sb3")
    Traceback (most recent call last):
    ...
    gymrun.errors.AgentError: agent sb3: no such file: no/such/model.zip
    >>> model_file("/dev/null", "onnx")
    Traceback (most recent call last):
    ...
    gymrun.errors.AgentError: agent onnx: not a regular file (a character device): /dev/null
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise AgentError(f"agent {agent}: no such file: {path}") from None
    except OSError as exc:
        raise AgentError(f"agent {agent}: cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL byte in the path
        raise AgentError(f"agent {agent}: not a file name: {path!r} ({exc})") from None
    if stat.S_ISDIR(mode):
        raise AgentError(f"agent {agent}: is a directory, not a file: {path}")
    if not stat.S_ISREG(mode):
        raise AgentError(f"agent {agent}: not a regular file ({_kind(mode)}): {path}")
    return Path(path)


def _kind(mode: int) -> str:
    kinds = [
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((kind for test, kind in kinds if test(mode)), "not a file")


def bounded_file(path: str, agent: str, limit: int, holding: str, label: str = "") -> Path:
    """`path` as `model_file` finds it, and no bigger than `limit` bytes: the most a file
    `holding` something (``VecNormalize statistics``) is read or loaded from. `label` starts
    its name in messages (``vecnormalize``).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as handle:
    ...     _ = handle.write(bytes(2048))
    ...     handle.flush()
    ...     try:
    ...         bounded_file(handle.name, "sb3", 1024, "statistics", "stats ")
    ...     except AgentError as exc:
    ...         print(str(exc).split(" is ")[1])
    2 KiB, more than the 1 KiB gymrun loads as statistics
    """
    file = model_file(path, agent)
    size = file.stat().st_size
    if size > limit:
        raise AgentError(
            f"agent {agent}: {label}{path} is {size_text(size)}, more than the "
            f"{size_text(limit)} gymrun loads as {holding}"
        )
    return file


def size_text(size: int) -> str:
    """A number of bytes as a user reads it.

    >>> size_text(3 << 30), size_text(64 << 20), size_text(1536), size_text(12)
    ('3 GiB', '64 MiB', '1.5 KiB', '12 bytes')
    """
    for unit, scale in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{figure(size / scale)} {unit}"
    return f"{size} bytes"


def unpacking_problem(
    infos: list[zipfile.ZipInfo], entries: int, total: int, each: dict[str, int]
) -> str | None:
    """What is wrong with unpacking a zip with these entries, by what they declare before
    any is read: more than `entries` of them, more than `total` bytes in all, or an entry
    named in `each` that unpacks to more than its limit there. None when nothing is.

    >>> info = zipfile.ZipInfo("data")
    >>> info.file_size = 3 << 30
    >>> unpacking_problem([info], 10, 1 << 40, {"data": 64 << 20})
    "its entry 'data' unpacks to 3 GiB, more than the 64 MiB gymrun reads"
    >>> unpacking_problem([info], 10, 1 << 30, {})
    'its entries unpack to 3 GiB, more than the 1 GiB gymrun loads'
    """
    if len(infos) > entries:
        return f"it has {len(infos):,} entries, more than the {entries:,} gymrun reads"
    for info in infos:
        limit = each.get(info.filename)
        if limit is not None and info.file_size > limit:
            return (
                f"its entry '{info.filename}' unpacks to {size_text(info.file_size)}, more "
                f"than the {size_text(limit)} gymrun reads"
            )
    unpacked = sum(info.file_size for info in infos)
    if unpacked > total:
        return (
            f"its entries unpack to {size_text(unpacked)}, more than the {size_text(total)} "
            "gymrun loads"
        )
    return None


def directory_size(file: Path) -> int | None:
    """The size a zip's end record gives its central directory (the list of its entries,
    which zipfile reads whole before anything else: millions of empty entries cost memory as
    a big one does), read from the file's last 64 KiB; None when there is no end record.

    >>> import io, tempfile
    >>> with tempfile.NamedTemporaryFile(suffix=".zip") as handle:
    ...     with zipfile.ZipFile(handle, "w") as archive:
    ...         archive.writestr("data", "{}")
    ...     handle.flush()
    ...     directory_size(Path(handle.name))
    50
    """
    with file.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, end - 22 - 0xFFFF))  # the end record, after a comment of up to 64 KiB
        tail = handle.read()
        at = tail.rfind(b"PK\5\6")
        if at < 0 or len(tail) - at < 22:
            return None
        size: int = struct.unpack_from("<L", tail, at + 12)[0]
        locator = at - 20  # a zip64 archive's locator of its own end record, just before
        if size != 0xFFFFFFFF or locator < 0 or tail[locator : locator + 4] != b"PK\6\7":
            return size
        handle.seek(struct.unpack_from("<Q", tail, locator + 8)[0])
        record = handle.read(56)
    if len(record) < 56 or record[:4] != b"PK\6\6":
        return None
    zip64_size: int = struct.unpack_from("<Q", record, 40)[0]
    return zip64_size


def read_entry(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """Entry `name` of `archive`, read no further than `limit` bytes (what it declares was
    checked first; this holds whatever its compressed stream would unpack to)."""
    with archive.open(name) as entry:
        content = entry.read(limit + 1)
    if len(content) > limit:
        raise zipfile.BadZipFile(f"entry '{name}' unpacks to more than it declares")
    return content


# A JSON string, with its escapes (unrolled: linear however long the string)
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_depth(text: str) -> int:
    """How deep the arrays and objects of JSON `text` nest, counted without parsing it:
    Python's JSON parser recurses, and a deep enough text exhausts its stack.

    >>> json_depth('{"a": [1, {"b": "]]] [[["}], "c": []}'), json_depth("7")
    (3, 0)
    """
    marks = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode()
    depth = deepest = 0
    for start in range(0, len(marks), 1 << 16):
        chunk = np.frombuffer(marks[start : start + (1 << 16)], np.uint8)
        opens = (chunk == ord("[")) | (chunk == ord("{"))
        levels = depth + np.cumsum(np.where(opens, 1, -1))
        deepest, depth = max(deepest, int(levels.max())), int(levels[-1])
    return deepest


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


def require_extra(module: str, package: str, requirement: str, needed_by: str) -> None:
    """An `AgentError` as `import_extra` raises it when top-level `module` is not installed,
    found without importing it (nothing of it runs).

    >>> require_extra("numpy", "numpy", "numpy", "agent onnx")
    >>> try:
    ...     require_extra("no_such_xyz", "onnxruntime", "onnxruntime", "agent onnx")
    ... except AgentError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    agent onnx needs onnxruntime, which is not installed: ...pip install onnxruntime
    """
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise AgentError(
            f"{needed_by} needs {package}, which is not installed: {install_command(requirement)}"
        )


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
