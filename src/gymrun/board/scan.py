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
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any, Protocol

from gymrun.records.layout import (
    CONFIG_FILE,
    EPISODES_FILE,
    LOCK_FILE,
    SUMMARY_FILE,
    VIDEO_DIR,
    only_claimed,
    record_kind,
)

# A folder's listing kept from the last scan: [inode, modification time (ns), when it was
# listed (ns), its files and its folders (names joined by NUL), the folders among them that
# are links]. It stands for the folder while the folder's inode and time are those listed:
# making, removing or renaming anything in a folder changes its time.
Listing = list[Any]
# ... but a file system's clock ticks coarsely: a change in the same tick as the listing
# leaves the time as it was. A listing is used again only for a folder last changed this
# long before it was listed.
SETTLED_NS = 2_000_000_000
# a run's files as it is claimed, before it records (a run's listing kept from the last
# scan names its config.yaml alone: a run that recorded is never looked at again for this)
CLAIMED = {CONFIG_FILE, LOCK_FILE}


@dataclass(frozen=True)
class Found:
    """Run, sweep and duel directories, each in path order: the runs by their board ids
    (`board_id`), each with its directory (as text: thousands of runs need no Path) and
    stamp (`run_stamp`), and the listing of every folder walked, for the next scan (see
    `Listing`)."""

    runs: dict[str, str]
    sweeps: list[Path]
    duels: list[Path] = field(default_factory=list)
    stamps: dict[str, str] = field(default_factory=dict)
    listings: dict[str, Listing] = field(default_factory=dict)


def scan(root: Path, listings: Mapping[str, Listing] | None = None) -> Found:
    """Every run, sweep and duel directory under `root` (hidden directories are skipped, and
    symbolic links to directories are not followed). With the `listings` of the last scan,
    a folder unchanged since (by its time) is not listed again: only its files' sizes and
    times are read, so a scan of thousands of runs that did not change reads no directory.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for run in ("a/t1", "s/t2/p000-s0", "s/t2/p001-s0"):
    ...         (Path(tmp) / run).mkdir(parents=True)
    ...         _ = (Path(tmp) / run / "config.yaml").write_text("{}")
    ...     found = scan(Path(tmp))
    ...     again = scan(Path(tmp), found.listings)
    ...     [*found.runs, *(p.relative_to(tmp).as_posix() for p in found.sweeps)]
    ['a/t1', 's/t2/p000-s0', 's/t2/p001-s0', 's/t2']
    >>> (again.runs, again.sweeps, again.stamps) == (found.runs, found.sweeps, found.stamps)
    True
    """
    kept = ListingsMade(listings or {})
    runs: list[tuple[str, str, str]] = []
    sweeps: list[str] = []
    duels: list[str] = []
    for kind, name, path, stamp in walk(root, kept):
        if kind == "run":
            runs.append((name, path, stamp))
        else:
            (sweeps if kind == "sweep" else duels).append(path)
    runs.sort(key=lambda run: place(run[0]))
    return Found(
        {run_id: path for run_id, path, _ in runs},
        [Path(path) for path in _sorted(sweeps)],
        [Path(path) for path in _sorted(duels)],
        {run_id: stamp for run_id, _, stamp in runs},
        kept.made,
    )


class Listings(Protocol):
    """Where a walk finds the listings of the last one (`get`: a folder's, or None) and
    keeps its own (`put`: each folder's as this walk has it; `new` when it is not the one
    `get` gave)."""

    def get(self, key: str) -> Any: ...

    def put(self, key: str, listing: Listing, *, new: bool) -> None: ...


class ListingsMade:
    """`Listings` in memory: those of the last scan, and those of this one (`made`)."""

    def __init__(self, before: Mapping[str, Listing]) -> None:
        self.before = before
        self.made: dict[str, Listing] = {}

    def get(self, key: str) -> Any:
        return self.before.get(key)

    def put(self, key: str, listing: Listing, *, new: bool) -> None:
        self.made[key] = listing


def walk(root: Path, listings: Listings) -> Iterator[tuple[str, str, str, str]]:
    """`scan`'s findings one by one, as they are found (in no order): ("run", its board id,
    its directory, its stamp), ("sweep" or "duel", its board id, its directory, ""). A
    build of thousands of runs keeps them where it keeps its record, not in memory."""
    walker = _Walker(listings)
    top = os.fspath(root)
    pending = [(top, ".")]  # paths as text: a walk of thousands of runs makes no Path it can spare
    while pending:
        path, key = pending.pop()
        listed = walker.list(path, key)
        if listed is None:
            continue
        files, folders, links, found = listed
        # runs named as a sweep names them tell a sweep killed before its sweep.json, but
        # not at the top: the recordings directory holds runs named as their users chose
        kind = record_kind(files, folders if path != top else ())
        if path == top and kind in ("sweep", "duel"):
            key = top_id(root)  # (`board_id`)
        if kind == "run" and set(files) == CLAIMED and only_claimed(Path(path)):
            continue  # claimed, its config.yaml not yet written: nothing recorded yet
        if kind == "run" and path != top:
            videos = VIDEO_DIR in folders
            listing = walker.last
            reduced = [CONFIG_FILE, VIDEO_DIR if videos else "", ""]
            if listing is not None and listing[3:] != reduced:
                # all the next scan needs: that it is a run, with videos or not
                listings.put(key, [*listing[:3], *reduced], new=True)
            yield "run", board_id(key), path, run_stamp(path, found, videos=videos)
            continue  # a run holds no runs (videos/ is its own)
        if kind in ("sweep", "duel"):
            yield kind, board_id(key), path, ""
        inside = "" if key == "." else f"{key}/"
        within = path.rstrip("/")
        pending.extend(
            (f"{within}/{name}", f"{inside}{name}") for name in folders if name not in links
        )


def place(run_id: str) -> bytes:
    """Where a run comes in path order (as their Paths sort: part by part), as bytes that
    sort so: a store of thousands of runs orders them without Python.

    >>> sorted(["a-b/c", "a/b"], key=place) == sorted(["a-b/c", "a/b"], key=lambda r: r.split("/"))
    True
    """
    return run_id.replace("/", "\0").encode("utf-8", "surrogateescape")


def _sorted(paths: list[str]) -> list[str]:
    """`paths` in the order their `Path` objects sort (part by part): sorted as text, which
    is cheaper than comparing thousands of Paths."""
    return sorted(paths, key=lambda path: path.split("/"))


class _Walker:
    """Lists folders, or takes their listings from the last scan where they still hold."""

    def __init__(self, listings: Listings) -> None:
        self.listings = listings
        self.last: Listing | None = None  # the listing of the folder listed last, if kept
        self.now = time.time_ns()

    def list(
        self, path: str, key: str
    ) -> tuple[list[str], list[str], set[str], os.stat_result] | None:
        """The files, the folders (hidden ones left out) and the folders that are links in
        `path`, and its own stat; None when it cannot be listed."""
        self.last = None
        try:
            found = os.stat(path)
        except OSError:
            return None
        kept = self.listings.get(key)
        if kept is not None and _holds(kept, found):
            self.listings.put(key, kept, new=False)
            self.last = kept
            return _names(kept[3]), _names(kept[4]), set(_names(kept[5])), found
        try:
            entries = list(os.scandir(path))
        except OSError:
            return None
        files: list[str] = []
        folders: list[str] = []
        links: set[str] = set()
        for entry in entries:
            if _is_dir(entry):
                if not entry.name.startswith("."):
                    folders.append(entry.name)
                    if entry.is_symlink():
                        links.add(entry.name)
            else:
                files.append(entry.name)
        listing = [
            found.st_ino,
            found.st_mtime_ns,
            self.now,
            "\0".join(files),
            "\0".join(folders),
            "\0".join(links),
        ]
        if _storable(key, listing):
            self.listings.put(key, listing, new=True)
            self.last = listing
        return files, folders, links, found


def _holds(kept: Any, found: os.stat_result) -> bool:
    """Whether a kept listing (from a manifest that could be anything) still stands for a
    folder: its inode and time are the same, and the folder had settled when listed."""
    return (
        type(kept) is list
        and len(kept) == 6
        and kept[0] == found.st_ino
        and kept[1] == found.st_mtime_ns
        and type(kept[2]) is int
        and kept[1] < kept[2] - SETTLED_NS
        and type(kept[3]) is type(kept[5]) is str
        and type(kept[4]) is str
        and (not kept[4] or _plain_names(kept[4]))  # the folders a scan goes into
    )


def _names(joined: str) -> list[str]:
    return joined.split("\0") if joined else []


def _plain_names(joined: str) -> bool:
    """Names as a listing gives them: never a path (a planted manifest names nothing
    outside its folder)."""
    return all(name not in ("", ".", "..") and "/" not in name for name in _names(joined))


def _storable(key: str, listing: Listing) -> bool:
    """Whether a listing can be kept in JSON: every name UTF-8."""
    try:
        for text in (key, *listing[3:]):
            text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def board_id(key: str) -> str:
    """The board's name for a run, sweep or duel: its path under the recordings directory
    (`key`, as `walk` finds it), with ``/``. When the recordings directory is itself a sweep
    or a duel (``gymrun board rec/eps``), it is named by its own name (`top_id`) and its runs
    under it, as a board of the folder holding it names them. A part that is not UTF-8
    (which no page can show) has its bad bytes replaced and a short hash of them added, so
    no two share a name.

    >>> board_id("a/t1")
    'a/t1'
    >>> print(board_id("a/" + os.fsdecode(b"b\\xff")))
    a/b\ufffd-43d2a4
    """
    if shown(key) == key:  # all UTF-8: its path as it is
        return key
    return "/".join(shown(part) for part in key.split("/"))


def top_id(root: Path) -> str:
    """The name of the recordings directory `root` when it is itself a sweep or a duel: its
    own folder's name (its page's folder, and the one its runs' pages are in).

    >>> top_id(Path("rec/eps")), top_id(Path("/"))
    ('eps', 'recordings')
    """
    return shown(Path(os.path.abspath(root)).name) or "recordings"


def shown(text: str) -> str:
    """`text` (a name from the file system) as a page can show it: itself when it is UTF-8,
    else its bad bytes replaced and a short hash of them added."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = os.fsencode(text)
        return f"{raw.decode('utf-8', 'replace')}-{hashlib.sha1(raw).hexdigest()[:6]}"


def run_stamp(path: str, found: os.stat_result | None = None, *, videos: bool = True) -> str:
    """A run's stamp: the inode, size and time of its folder, its episodes, summary and
    videos: a run whose stamp is unchanged need not be read again. Four stats at most (a
    board of thousands of runs makes one for each at every build); `found`: the folder's,
    when taken already; without `videos`, the run is known to have none. What gymrun
    writes in a run after it started (files replaced or made, with the lock held, so that
    it reads as running and is read again anyway) changes its stamp.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "summary.json").write_text("{}")
    ...     before = run_stamp(tmp)
    ...     again = run_stamp(tmp, videos=False)
    ...     _ = (Path(tmp) / "summary.json").write_text('{"count": 1}')
    ...     before == again, before == run_stamp(tmp), len(before)
    (True, False, 40)
    """
    stats = [found or _stat(path), _stat(f"{path}/{EPISODES_FILE}")]
    stats.append(_stat(f"{path}/{SUMMARY_FILE}"))
    stats.append(_stat(f"{path}/{VIDEO_DIR}") if videos else None)
    text = "\n".join("-" if s is None else f"{s.st_ino}:{s.st_size}:{s.st_mtime_ns}" for s in stats)
    return hashlib.sha1(text.encode()).hexdigest()


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def signature(directory: Path) -> str:
    """A digest of the name, size and modification time of every file a sweep or duel
    keeps: one whose signature is unchanged need not be read again.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     before = signature(Path(tmp))
    ...     _ = (Path(tmp) / "sweep.json").write_text("{}")
    ...     before == signature(Path(tmp)), len(before)
    (False, 40)
    """
    path = os.fspath(directory)
    listed = _Walker(ListingsMade({})).list(path, ".")
    return _digest(path, [] if listed is None else listed[0])


def _digest(path: str, files: list[str]) -> str:
    found: list[str] = []
    for name in sorted(files):
        try:
            stat = os.stat(f"{path}/{name}")
        except OSError:  # removed meanwhile
            continue
        if S_ISREG(stat.st_mode):
            found.append(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return hashlib.sha1("\n".join(found).encode(errors="surrogateescape")).hexdigest()
