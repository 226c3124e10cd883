"""Finding the runs, sweeps and duels under a recordings directory, and telling when one
changed.

A run directory is one that holds a ``config.yaml``; a duel directory holds ``duel.json``;
a sweep directory holds ``sweep.json`` (or the room reserved for it), or run directories
named as a sweep names its runs (``epsilon=0.25-seed=1``, or ``p000-s0`` in older records):
a sweep that was killed before it could write ``sweep.json`` still shows (what a directory
records is decided by `gymrun.records.layout.record_kind`). Nothing is read here but
directory listings and file sizes and times, so a build can tell which runs changed
without reading any.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from gymrun.records.layout import VIDEO_DIR, record_kind


@dataclass(frozen=True)
class Found:
    """Run, sweep and duel directories, each in path order, and the signature of each run
    found (made from the listing the walk read anyway)."""

    runs: list[Path]
    sweeps: list[Path]
    duels: list[Path] = field(default_factory=list)
    signatures: dict[Path, str] = field(default_factory=dict)


def scan(root: Path) -> Found:
    """Every run, sweep and duel directory under `root` (hidden directories are skipped, and
    symbolic links to directories are not followed).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for run in ("a/t1", "s/t2/p000-s0", "s/t2/p001-s0"):
    ...         (Path(tmp) / run).mkdir(parents=True)
    ...         _ = (Path(tmp) / run / "config.yaml").write_text("{}")
    ...     found = scan(Path(tmp))
    ...     [p.relative_to(tmp).as_posix() for p in found.runs + found.sweeps]
    ['a/t1', 's/t2/p000-s0', 's/t2/p001-s0', 's/t2']
    """
    runs: list[Path] = []
    sweeps: list[Path] = []
    duels: list[Path] = []
    signatures: dict[Path, str] = {}
    top = os.fspath(root)
    pending = [top]  # paths as text: a walk of thousands of runs makes no Path it can spare
    while pending:
        path = pending.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        files: list[str] = []
        folders: list[os.DirEntry[str]] = []
        for entry in entries:
            if _is_dir(entry):
                if not entry.name.startswith("."):
                    folders.append(entry)
            else:
                files.append(entry.name)
        kind = record_kind(files, [folder.name for folder in folders])
        if kind == "run" and path != top:
            run = Path(path)
            runs.append(run)
            signatures[run] = _digest(run, entries)
            continue  # a run holds no runs (videos/ is its own)
        if kind == "sweep":
            sweeps.append(Path(path))
        elif kind == "duel":
            duels.append(Path(path))
        pending.extend(f.path for f in folders if not f.is_symlink())  # links not followed
    return Found(sorted(runs), sorted(sweeps), sorted(duels), signatures)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def board_id(root: Path, directory: Path) -> str:
    """The board's name for a run, sweep or duel: its path under the recordings directory, with
    ``/``. A part of it that is not UTF-8 (which no page can show) has its bad bytes
    replaced and a short hash of them added, so no two share a name.

    >>> board_id(Path("rec"), Path("rec/a/t1"))
    'a/t1'
    >>> print(board_id(Path("rec"), Path("rec/a") / os.fsdecode(b"b\\xff")))
    a/b\ufffd-43d2a4
    """
    top, path = str(root), str(directory)
    if os.sep == "/" and path.startswith(top + "/") and "/." not in path:
        inside = path[len(top) + 1 :]
        if shown(inside) == inside:  # all UTF-8: its path as it is
            return inside
    return "/".join(shown(part) for part in directory.relative_to(root).parts)


def shown(text: str) -> str:
    """`text` (a name from the file system) as a page can show it: itself when it is UTF-8,
    else its bad bytes replaced and a short hash of them added."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = os.fsencode(text)
        return f"{raw.decode('utf-8', 'replace')}-{hashlib.sha1(raw).hexdigest()[:6]}"


def signature(directory: Path) -> str:
    """A digest of the name, size and modification time of every file a run, sweep or
    duel keeps (videos included): a run whose signature is unchanged need not be read again.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     before = signature(Path(tmp))
    ...     _ = (Path(tmp) / "summary.json").write_text("{}")
    ...     before == signature(Path(tmp)), len(before)
    (False, 40)
    """
    try:
        entries = list(os.scandir(directory))
    except OSError:
        entries = []
    return _digest(directory, entries)


def _digest(directory: Path, entries: list[os.DirEntry[str]]) -> str:
    found: list[str] = []
    for folder, listed in ((directory, entries), (directory / VIDEO_DIR, None)):
        if listed is None:
            if not any(e.name == VIDEO_DIR and _is_dir(e) for e in entries):
                continue
            try:
                listed = list(os.scandir(folder))
            except OSError:
                continue
        for entry in sorted(listed, key=lambda e: e.name):
            try:
                if entry.is_file():
                    stat = entry.stat()
                    found.append(f"{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}")
            except OSError:  # removed meanwhile
                continue
    return hashlib.sha1("\n".join(found).encode(errors="surrogateescape")).hexdigest()
