"""Opening the files of a recording, the one way gymrun reads them.

A recording is data that anyone with write access to it could have changed, so a file of it
is read only if it is a regular file inside its directory: no symbolic link is followed (a
run's files are never links, so a ``reward.png`` that points at ``~/.ssh/id_rsa`` is not
read), a FIFO or a device is refused without waiting on it, and no read is unbounded: a
JSON or YAML file is read up to the most such a file holds, and a line of
``episodes.jsonl`` up to the longest an episode's line can be. Anything else is a
`RecordError` naming the file and what it is.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from gymrun.errors import RecordError

JSON_LIMIT = 4_000_000  # summary.json, meta.json: a few KB in practice
CONFIG_LIMIT = 1_000_000  # as for any config (gymrun.config.yaml_source)
LINE_LIMIT = 1_000_000  # one episode's line: a few hundred bytes in practice
BLOCK = 1 << 20  # bytes of episodes.jsonl read at once
TAIL = 64  # bytes before where a read stopped, found again there before going on

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symbolic link",
}


def open_record(directory: Path, *parts: str) -> BinaryIO:
    """The file ``directory/part/...`` opened for reading, when it is a regular file
    reached without following a symbolic link below `directory`.

    Raises `FileNotFoundError` when it is missing and `RecordError` when it is anything but
    a regular file (a link, a FIFO, a device, a directory) or cannot be read.
    """
    path = directory.joinpath(*parts)
    folder = -1
    try:
        folder = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        for part in parts[:-1]:
            inner = os.open(
                part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder
            )
            os.close(folder)
            folder = inner
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        descriptor = os.open(parts[-1], flags, dir_fd=folder)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise RecordError(f"{path}: {_why_not(exc, directory, parts)}") from None
    finally:
        if folder >= 0:
            os.close(folder)
    kind = stat.S_IFMT(os.fstat(descriptor).st_mode)
    if kind != stat.S_IFREG:
        os.close(descriptor)
        raise RecordError(f"{path}: not a regular file ({_KINDS.get(kind, 'not a file')})")
    return os.fdopen(descriptor, "rb")


def _why_not(exc: OSError, directory: Path, parts: tuple[str, ...]) -> str:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        link = led_nowhere(directory)
        if link is not None:  # the record's own directory
            return f"{directory} is {link}"
        for end in range(1, len(parts) + 1):
            if directory.joinpath(*parts[:end]).is_symlink():
                return (
                    "a symbolic link; the files of a recording are never links, so it is not "
                    "followed"
                )
        return "not a directory on the way to it"
    return f"cannot be read: {exc.strerror or exc}"


def no_directory(path: Path) -> str | None:
    """Why `path` is not a directory to read a record from (``no such directory``, ``not a
    directory``, or what a symbolic link there leads to: see `led_nowhere`), or None when
    it is one."""
    if path.is_dir():
        return None
    if not os.path.lexists(path):
        return "no such directory"
    return led_nowhere(path) or "not a directory"


def led_nowhere(path: Path) -> str | None:
    """What the symbolic link `path` is, when it leads to no directory: one that points to
    itself (or round a loop of links), to a missing path, or to something else; None for
    anything else.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "L").symlink_to("L")
    ...     (Path(tmp) / "D").symlink_to("gone")
    ...     led_nowhere(Path(tmp) / "L"), led_nowhere(Path(tmp) / "D")
    ('a symbolic link that points to itself', 'a symbolic link to gone, which is missing')
    """
    if not path.is_symlink() or path.is_dir():
        return None
    target = os.readlink(path)
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            return f"a symbolic link to {target}, which is missing"
        if os.path.normpath(path.parent / target) == os.path.normpath(path):
            return "a symbolic link that points to itself"
        return f"a symbolic link to {target}, round a loop of symbolic links"
    return f"a symbolic link to {target}, which is not a directory"


def is_regular(directory: Path, *parts: str) -> bool:
    """Whether ``directory/part/...`` is a regular file `open_record` would open."""
    path = directory.joinpath(*parts)
    try:
        return not any(
            directory.joinpath(*parts[:end]).is_symlink() for end in range(1, len(parts) + 1)
        ) and stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def read_bytes(directory: Path, name: str, limit: int) -> bytes:
    """The whole of a file of a recording, when it is no larger than `limit` bytes."""
    with open_record(directory, name) as file:
        return read_whole(file, limit, directory / name)


def read_whole(file: BinaryIO, limit: int, path: Path) -> bytes:
    """What is left of `file` (opened by `open_record`, read from `path`), when that is no
    larger than `limit` bytes.

    Room is taken for what the file holds, not for `limit`: ``read(n)`` sets aside `n`
    bytes first, and a limit far above a file's size (a board's record may reach a
    gigabyte) is refused by a virtual-memory limit (``ulimit -v``, a cluster's h_vmem)
    even for a file of a few bytes."""
    size = os.fstat(file.fileno()).st_size - file.tell()
    parts: list[bytes] = []
    total = 0
    if size <= limit:
        parts.append(file.read(size + 1))  # one byte more tells whether it grew meanwhile
        total = len(parts[0])
        while size < total <= limit:  # it did: read on, doubling, up to the limit
            chunk = file.read(min(total, limit + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
    if size > limit or total > limit:
        raise RecordError(f"{path}: larger than {limit:,} bytes, the most such a file holds")
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_text(directory: Path, name: str, limit: int) -> str:
    data = read_bytes(directory, name, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(
            f"{directory / name}: not text (invalid UTF-8 at byte {exc.start})"
        ) from None


def read_json(directory: Path, name: str, limit: int = JSON_LIMIT) -> Any:
    """A JSON file of a recording, parsed (NaN and infinities as gymrun writes them)."""
    return read_json_text(directory, name, limit)[1]


def read_json_text(directory: Path, name: str, limit: int = JSON_LIMIT) -> tuple[str, Any]:
    """A JSON file of a recording: its text, and what it holds (see `read_json`)."""
    text = read_text(directory, name, limit)
    try:
        return text, json.loads(text)
    except ValueError as exc:
        raise RecordError(f"{directory / name}: not JSON ({str(exc)[:200]})") from None
    except RecursionError:
        raise RecordError(f"{directory / name}: not JSON gymrun writes (nested too deep)") from None


@dataclass(frozen=True)
class Position:
    """Where a read of a growing file stopped (see `Lines.position`): the bytes of whole
    lines read and how many lines, and the last bytes of them, which must still be there
    for a read to go on from here (a file written anew from its start, with the same
    bytes up to there, may be read on: it holds the same lines)."""

    whole: int
    count: int
    tail: bytes


class Moved(Exception):
    """The file is not as it was up to a `Position` (it was replaced, or cut short and
    written again): it is to be read from its start."""


class Lines:
    """The whole lines of a file of a recording, read in blocks with bounded memory.

    Iterating gives lists of lines (each with its newline) in order. What follows the last
    newline, a line the writing process never finished (a crash may leave it as NUL bytes,
    of any length), is not given: `whole` is where it starts, the bytes of the file that
    are whole lines, and `unfinished` its length, once every line was given. A line longer
    than `limit` that does end is a `RecordError`.

    From `start` (a `Position` of an earlier read of the same file), only the lines written
    since are read; if the file is no longer what was read up to there, `Moved` is raised
    before any line is given.
    """

    def __init__(
        self, directory: Path, name: str, limit: int = LINE_LIMIT, start: Position | None = None
    ) -> None:
        self.path = directory / name
        self.directory, self.name, self.limit = directory, name, limit
        self.start = start
        self.whole = 0 if start is None else start.whole
        self.count = 0 if start is None else start.count  # lines given so far
        self._opened = False
        self._tail = b"" if start is None else start.tail
        self.unfinished = 0  # bytes after the last newline, which no line of them ends

    def position(self) -> Position | None:
        """Where the lines given so far end (None before the file was opened)."""
        return Position(self.whole, self.count, self._tail) if self._opened else None

    def __iter__(self) -> Iterator[list[bytes]]:
        with open_record(self.directory, self.name) as file:
            self._opened = True
            if self.start is not None:
                self._go_on(file)
            rest = b""  # the start of a line that goes on in the next block
            skipping = False  # inside a line too long to keep: waiting for its end
            while block := file.read(BLOCK):
                last = block.rfind(b"\n")
                if last < 0:
                    if not skipping:
                        rest += block
                        skipping = len(rest) > self.limit
                        rest = b"" if skipping else rest
                    continue
                if skipping:  # the long line ends here: it was a line, and not an episode's
                    raise self._too_long()
                text, rest = rest + block[: last + 1], block[last + 1 :]
                lines = [line + b"\n" for line in text[:-1].split(b"\n")]
                long = next((i for i, line in enumerate(lines) if len(line) > self.limit), None)
                if long is not None:
                    self._given(lines[:long])
                    if long:
                        yield lines[:long]
                    raise self._too_long()
                self._given(lines)
                self._tail = text[-TAIL:] if len(text) >= TAIL else (self._tail + text)[-TAIL:]
                yield lines
                skipping = len(rest) > self.limit
                rest = b"" if skipping else rest
            self.unfinished = file.tell() - self.whole

    def _go_on(self, file: BinaryIO) -> None:
        start = self.start
        assert start is not None
        file.seek(start.whole - len(start.tail))
        if file.read(len(start.tail)) != start.tail:  # shorter now, or other bytes there
            raise Moved

    def _given(self, lines: list[bytes]) -> None:
        self.count += len(lines)
        self.whole += sum(map(len, lines))

    def _too_long(self) -> RecordError:
        return RecordError(
            f"{self.path}:{self.count + 1}: a line longer than {self.limit:,} bytes; "
            "not an episode record"
        )
