"""Telling which directories of a recordings directory changed, at a cost that grows with
the changes and not with the recordings: Linux's inotify (through ctypes: the standard
library has no binding), one watch on each directory; elsewhere, or when the watches run
out, nothing can be told cheaply and `changes` says so (None: look at everything).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import struct
import sys
from pathlib import Path

# inotify(7)
_MODIFY, _ATTRIB, _CLOSE_WRITE = 0x2, 0x4, 0x8
_MOVED_FROM, _MOVED_TO, _CREATE, _DELETE = 0x40, 0x80, 0x100, 0x200
_DELETE_SELF, _MOVE_SELF, _OVERFLOW, _IGNORED = 0x400, 0x800, 0x4000, 0x8000
_ONLYDIR, _DONT_FOLLOW, _ISDIR = 0x01000000, 0x02000000, 0x40000000
_MASK = (
    _MODIFY
    | _ATTRIB
    | _CLOSE_WRITE
    | _MOVED_FROM
    | _MOVED_TO
    | _CREATE
    | _DELETE
    | _DELETE_SELF
    | _MOVE_SELF
    | _ONLYDIR
    | _DONT_FOLLOW
)
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then the name, NUL-padded


class Watcher:
    """The directories under `root` in which files changed since the last `changes`.

    >>> import tempfile, time
    >>> with tempfile.TemporaryDirectory() as tmp, Watcher(Path(tmp)) as watcher:
    ...     (Path(tmp) / "run").mkdir()
    ...     _ = (Path(tmp) / "run" / "episodes.jsonl").write_text("{}\\n")
    ...     found = watcher.changes()
    >>> found is None or sorted(p.name for p in found) == sorted([Path(tmp).name, "run"])
    True
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: dict[int, Path] = {}
        self._fd = -1
        self._lost = False  # events were lost, or a watch could not be added
        self._root: int | None = None  # the watch on `root` itself, while it is there
        self._libc = _libc()
        if self._libc is None:
            return
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            self._libc = None
            return
        self._add_tree(root)

    def __enter__(self) -> Watcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def watching(self) -> bool:
        return self._fd >= 0

    def _add_tree(self, top: Path) -> None:
        for folder, subfolders, _ in os.walk(top):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            self._add(Path(folder))

    def _add(self, folder: Path) -> None:
        assert self._libc is not None
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(folder), _MASK)
        if wd >= 0:
            self._paths[wd] = folder
            if folder == self.root:
                self._root = wd
        elif ctypes.get_errno() not in (errno.ENOENT, errno.ENOTDIR):  # out of watches
            self._lost = True

    def changes(self) -> set[Path] | None:
        """The directories in which something changed since the last call (a new
        directory counts as changed, and is watched from now on); None when that cannot be
        told (no inotify here, or events were lost): then everything is to be looked at."""
        if not self.watching:
            return None
        changed: set[Path] = set()
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                break
            for wd, mask, name in _events(data):
                folder = self._paths.get(wd)
                if mask & _OVERFLOW:
                    self._lost = True
                if folder is None:
                    continue
                if mask & _IGNORED:  # the folder went away
                    del self._paths[wd]
                    self._root = None if wd == self._root else self._root
                changed.add(folder)
                if mask & _ISDIR and mask & (_CREATE | _MOVED_TO) and not name.startswith("."):
                    self._add_tree(folder / name)
                    changed.add(folder / name)
        if self._root is None and self.root.is_dir():  # removed, and made again since
            self._add_tree(self.root)
            self._lost = True
        if self._lost:
            self._lost = False
            return None
        return changed

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _events(data: bytes) -> list[tuple[int, int, str]]:
    found, at = [], 0
    while at + _EVENT.size <= len(data):
        wd, mask, _, size = _EVENT.unpack_from(data, at)
        at += _EVENT.size
        name = os.fsdecode(data[at : at + size].rstrip(b"\0"))
        at += size
        found.append((wd, mask, name))
    return found


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    except (OSError, AttributeError):
        return None
    return libc
