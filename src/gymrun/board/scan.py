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
from dataclasses import dataclass
from pathlib import Path

from gymrun.records.layout import VIDEO_DIR, record_kind


@dataclass(frozen=True)
class Found:
    """Run, sweep and duel directories, each in path order."""

    runs: list[Path]
    sweeps: list[Path]
    duels: list[Path]


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
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        path = Path(folder)
        kind = record_kind(files, subfolders)
        if kind == "run" and path != root:
            runs.append(path)
            subfolders[:] = []  # a run holds no runs (videos/ is its own)
        elif kind == "sweep":
            sweeps.append(path)
        elif kind == "duel":
            duels.append(path)
    return Found(sorted(runs), sorted(sweeps), sorted(duels))


def board_id(root: Path, directory: Path) -> str:
    """The board's name for a run, sweep or duel: its path under the recordings directory, with
    ``/``. A part of it that is not UTF-8 (which no page can show) has its bad bytes
    replaced and a short hash of them added, so no two share a name.

    >>> board_id(Path("rec"), Path("rec/a/t1"))
    'a/t1'
    >>> print(board_id(Path("rec"), Path("rec/a") / os.fsdecode(b"b\\xff")))
    a/b\ufffd-43d2a4
    """
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


def signature(directory: Path) -> list[list[object]]:
    """Name, size and modification time of every file a run, sweep or duel keeps (videos
    included): a run whose signature is unchanged need not be read again."""
    found: list[list[object]] = []
    for folder in (directory, directory / VIDEO_DIR):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_file():
                    stat = entry.stat()
                    found.append([entry.name, stat.st_size, stat.st_mtime_ns])
            except OSError:  # removed meanwhile
                continue
    return found
