"""What a board keeps between its builds, in one SQLite file inside its output folder
(``.board.db``): each run's stamp, status and row, and the build's record (the recordings
it shows, its folders' listings, its sweeps and duels, its groups' statistics).

Rows stay on disk: a build reads back only what it shows (an environment's best rows, the
runs of a sweep, one config per group) and streams the rest into pages in leaderboard
order, so its memory does not grow with each run's row. A build's changes are one
transaction, committed when its pages are written: a build stopped midway leaves the last
build's record, and the runs it had read are read again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from gymrun.analysis.groups import Member, group_key
from gymrun.board.runs import RunEntry
from gymrun.board.scan import Listing, place, shown
from gymrun.board.site import json_bytes
from gymrun.errors import RecordError

FILE = ".board.db"
# a leaderboard's order, as `rank_key` gives it: the index `runs_ranked` holds it
RANKED_BY = "tier, low, value, unfinished, id"
FORMAT = 9  # kept as the file's user_version: a record of another format is built anew
OLD_FILES = (".board.json", ".board-rows.json")  # the record of boards before this format

# the record's parts other than runs, each kept as JSON, and what a board of none holds
PARTS: dict[str, Any] = {
    "fingerprint": "",
    "source": "",
    "envs": [],
    "sweeps": {},
    "duels": {},
}

# Each run: its place in path order (`scan.place`), its stamp and status; its place on a
# leaderboard (`rank_key`: tier, low, value, unfinished); what grouping needs (its group's
# key, NULL without a readable config; its seed as JSON; its score and start); its boundary
# and its metrics' names (JSON), for its environment's columns. Small, so that a build reads every
# run's quickly. Beside it, its row: whole, as a leaderboard's JSON has it, and its cells,
# read only to be shown.
SCHEMA = (
    "CREATE TABLE record (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE runs (id TEXT PRIMARY KEY, place BLOB NOT NULL, signature TEXT NOT NULL, "
    "status TEXT NOT NULL, "
    "env TEXT, tier INTEGER NOT NULL, low REAL NOT NULL, value REAL NOT NULL, "
    "unfinished INTEGER NOT NULL, grp TEXT, seed BLOB, score REAL, started_at TEXT, "
    "boundary REAL, metrics BLOB NOT NULL) WITHOUT ROWID",
    f"CREATE INDEX runs_ranked ON runs (env, {RANKED_BY})",
    "CREATE TABLE rows (id TEXT PRIMARY KEY, entry BLOB NOT NULL, row BLOB NOT NULL, "
    "cells BLOB NOT NULL)",
    "CREATE TABLE statistics (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
    # each folder's listing from the last scan (`scan.Listing`, as JSON), by its path
    "CREATE TABLE listings (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
)
TABLES = ("record", "runs", "rows", "statistics", "listings")
# What one build finds, beside the record and gone with the connection: the runs under the
# recordings now (their place in path order, directory, stamp and the folder holding them),
# and those of them to read (`todo`). A build of thousands of runs keeps them here, not in
# memory.
BUILD = (
    "CREATE TEMP TABLE found (id TEXT PRIMARY KEY, place BLOB NOT NULL, dir BLOB NOT NULL, "
    "stamp TEXT NOT NULL, parent TEXT NOT NULL) WITHOUT ROWID",
    "CREATE INDEX temp.found_parent ON found (parent, place)",
    "CREATE TEMP TABLE todo (place BLOB PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID",
)
BATCH = 1000  # runs found, put in the record at once


def rank_key(entry: RunEntry) -> tuple[int, float, float, int, str]:
    """Order on a leaderboard: by the lower end of the run's 95% interval of its mean
    reward, then its mean, then a completed run before one that is not (stopped, failed,
    killed or still running: its score is of fewer episodes than it was to play); runs
    without an interval after those with one; damaged runs and runs without a score last,
    unranked.

    >>> a = RunEntry("a", "a", "failed", score={"value": -200.0, "ci95": [-200.0, -200.0]})
    >>> b = RunEntry("b", "b", "completed", score={"value": -200.0, "ci95": [-200.0, -200.0]})
    >>> c = RunEntry("c", "c", "completed", score={"value": -150.0, "ci95": [-300.0, 0.0]})
    >>> [e.id for e in sorted([a, b, c], key=rank_key)]
    ['b', 'a', 'c']
    """
    value = entry.score["value"]
    low = entry.score["ci95"][0]
    unfinished = int(entry.status != "completed")
    if value is None or entry.status == "damaged":
        return (2, 0.0, 0.0, unfinished, entry.id)
    if low is None:
        return (1, 0.0, -value, unfinished, entry.id)
    return (0, -low, -value, unfinished, entry.id)


def held_by_board(out: Path) -> bool:
    """Whether folder `out` holds a board's record (of this format or an older one)."""
    return any((out / name).is_file() for name in (FILE, *OLD_FILES))


class Store:
    """A board's ``.board.db``, open. A file that is not one this format wrote (damaged,
    planted, or from an older version) counts as no record: it is replaced by an empty one,
    and the board is built anew."""

    # a leaderboard's rows, in its order
    _RANKED = f"FROM runs JOIN rows USING (id) WHERE env = ? ORDER BY {RANKED_BY}"

    def __init__(self, out: Path) -> None:
        self.path = out / FILE
        self.only = False  # this build's findings are only the runs that changed (`find`)
        for name in (FILE, *(f"{FILE}-{kind}" for kind in ("journal", "wal", "shm"))):
            _not_a_link(out / name)  # SQLite follows links: one left there is removed
        try:
            self.db = self._connect()
            self.record = self._read_record()
        except sqlite3.DatabaseError:
            with contextlib.suppress(AttributeError):
                self.db.close()
            self.path.unlink(missing_ok=True)
            self.db = self._connect()
            self.record = self._read_record()
        for old in OLD_FILES:
            (out / old).unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection:
        # autocommit: each build opens its own transaction (`changes`); the rollback
        # journal, not WAL, which needs memory shared between processes (not on NFS)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA synchronous = NORMAL")
        for statement in BUILD:
            db.execute(statement)
        return db

    def _read_record(self) -> dict[str, Any]:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version != FORMAT:
            with self.changes():
                for table in TABLES:
                    self.db.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in SCHEMA:
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {FORMAT}")
            return dict(PARTS)
        record = dict(PARTS)
        for key, value in self.db.execute("SELECT key, value FROM record"):
            if key in PARTS:
                with contextlib.suppress(orjson.JSONDecodeError):
                    found = orjson.loads(value)
                    if type(found) is type(PARTS[key]):
                        record[key] = found
        return record

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def changes(self) -> Iterator[None]:
        """One transaction: committed at the end, undone if anything stops it."""
        self.db.execute("BEGIN")
        try:
            yield
        except BaseException:
            if self.db.in_transaction:  # (SQLite undoes it itself on some errors: a full disk)
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def keep(self, **parts: Any) -> None:
        """Keep parts of the record (`PARTS`)."""
        for key, value in parts.items():
            self.record[key] = value
            self.db.execute("INSERT OR REPLACE INTO record VALUES (?, ?)", (key, json_bytes(value)))

    def clear(self, *, listings: bool) -> None:
        """Forget every run and the record (a board built anew), and with `listings`, the
        folders' listings too (they are of another recordings folder)."""
        for table in TABLES:
            if table != "listings" or listings:
                self.db.execute(f"DELETE FROM {table}")
        self.record = dict(PARTS)

    def listings(self) -> StoredListings:
        """The folders' listings, for a walk of the recordings (`scan.walk`)."""
        return StoredListings(self.db)

    # runs

    def statistics(self) -> KeptStatistics:
        return KeptStatistics(self.db)

    def count(self) -> int:
        """How many runs the board holds."""
        count: int = self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        return count

    def holds(self, run_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None

    def all_shown(self) -> bool:
        """Whether every run's id is its path (no name in it was not UTF-8)."""
        return self.db.execute("SELECT 1 FROM runs WHERE instr(id, '\ufffd')").fetchone() is None

    def find(self, runs: Iterable[tuple[str, str, str]], *, only: bool = False) -> None:
        """Start this build's findings with `runs` (each its id, directory and stamp): all
        the runs there are, or with `only`, the runs the board holds that changed (a server
        knows them), the others being as the board holds them."""
        self.only = only
        self.db.execute("DELETE FROM found")
        self.db.execute("DELETE FROM todo")
        batch = []
        for run_id, directory, stamp in runs:
            # (a directory as bytes: a name in it need not be UTF-8)
            row = (run_id, place(run_id), os.fsencode(directory), stamp, run_id.rpartition("/")[0])
            batch.append(row)
            if len(batch) == BATCH:
                self.db.executemany("INSERT OR REPLACE INTO found VALUES (?, ?, ?, ?, ?)", batch)
                batch.clear()
        self.db.executemany("INSERT OR REPLACE INTO found VALUES (?, ?, ?, ?, ?)", batch)

    def plan_reads(self, keep: Callable[[str], bool], again: Collection[str]) -> int:
        """Mark the runs found to be read: new or changed ones, those whose status is in
        `again` (read at every build), and those for which `keep(id)` is false (their page
        is gone, say); how many."""
        marks = ",".join("?" * len(again))
        found = self.db.execute(
            "SELECT f.id, f.place, r.signature = f.stamp AND r.status NOT IN "
            f"({marks}) FROM found f LEFT JOIN runs r USING (id)",
            tuple(again),
        )
        count = 0
        while batch := found.fetchmany(BATCH):
            todo = [(p, run_id) for run_id, p, same in batch if not (same and keep(run_id))]
            self.db.executemany("INSERT INTO todo VALUES (?, ?)", todo)
            count += len(todo)
        return count

    def to_read(self) -> sqlite3.Cursor:
        """The runs to read (`plan_reads`), in path order: each one's id, directory and stamp."""
        return self.db.execute(
            "SELECT id, dir, stamp FROM todo JOIN found USING (id) ORDER BY todo.place"
        )

    def gone(self) -> list[str]:
        """The runs the board holds that were not found."""
        if self.only:
            return []
        return [
            run_id
            for (run_id,) in self.db.execute(
                "SELECT id FROM runs WHERE id NOT IN (SELECT id FROM found)"
            )
        ]

    def found_in(self, parent: str) -> list[str]:
        """The runs found right inside folder `parent` (a sweep's or duel's), in path order."""
        if self.only:  # the runs the board holds there: ids from "parent/" to "parent0"
            query = (
                "SELECT id FROM runs WHERE id > ? AND id < ? AND instr(substr(id, ?), '/') = 0 "
                "ORDER BY place"
            )
            found = self.db.execute(query, (f"{parent}/", f"{parent}0", len(parent) + 2))
        else:
            query = "SELECT id FROM found WHERE parent = ? ORDER BY place"
            found = self.db.execute(query, (parent,))
        return [run_id for (run_id,) in found]

    def found_here(self, run_id: str) -> bool:
        table = "runs" if self.only else "found"
        query = f"SELECT 1 FROM {table} WHERE id = ?"
        return self.db.execute(query, (run_id,)).fetchone() is not None

    def with_status(self, statuses: Collection[str]) -> list[str]:
        """The runs the board holds whose status is one of `statuses`."""
        marks = ",".join("?" * len(statuses))
        query = f"SELECT id FROM runs WHERE status IN ({marks})"
        return [run_id for (run_id,) in self.db.execute(query, tuple(statuses))]

    def statuses(self) -> dict[str, int]:
        """How many runs the board holds of each status."""
        return dict(self.db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status"))

    def put(self, entry: RunEntry, stamp: str) -> tuple[bool, str | None]:
        """Keep a run's row, read now with stamp `stamp`: whether the board held that same
        row already, and the status it held (None for a run it did not hold)."""
        tier, low, value, unfinished, _ = rank_key(entry)
        member = entry.member()
        key = None
        if member is not None:
            key = member.key or group_key(member.config, member.provenance)
        data = json_bytes(entry.to_json())
        before = self.db.execute(
            "SELECT entry, status FROM runs JOIN rows USING (id) WHERE id = ?", (entry.id,)
        ).fetchone()
        self.db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.id,
                place(entry.id),
                stamp,
                entry.status,
                entry.env,
                tier,
                low,
                value,
                unfinished,
                key,
                None if entry.config is None else json_bytes(entry.config.get("seed")),
                entry.score["value"],
                entry.started_at,
                entry.reward_boundary,
                json_bytes(list(entry.metrics)),
            ),
        )
        self.db.execute(
            "INSERT OR REPLACE INTO rows VALUES (?, ?, ?, ?)",
            (entry.id, data, json_bytes(entry.row_json()), json_bytes(entry.cells)),
        )
        return (False, None) if before is None else (before[0] == data, before[1])

    def remove(self, run_ids: Iterable[str]) -> None:
        """Forget runs, and the listings of their folders and those holding them (a folder
        still there is listed again)."""
        run_ids = list(run_ids)
        for table in ("runs", "rows"):
            self.db.executemany(f"DELETE FROM {table} WHERE id = ?", ((r,) for r in run_ids))
        folders = {".", *run_ids}
        for run_id in run_ids:
            while "/" in run_id:
                run_id = run_id.rpartition("/")[0]
                folders.add(run_id)
        self.db.executemany("DELETE FROM listings WHERE key = ?", ((k,) for k in folders))

    def entry(self, run_id: str) -> RunEntry | None:
        """A run's row, None if the board holds none (or one it cannot take)."""
        found = self.db.execute("SELECT entry FROM rows WHERE id = ?", (run_id,)).fetchone()
        return None if found is None else _entry(found[0])

    def entries(self, run_ids: Iterable[str]) -> dict[str, RunEntry]:
        """The rows of `run_ids` that the board holds."""
        found = {}
        for run_id in run_ids:
            entry = self.entry(run_id)
            if entry is not None:
                found[run_id] = entry
        return found

    def member_envs(self) -> list[str]:
        """The environments of the runs that are members of a group (`members`), in order."""
        query = "SELECT DISTINCT env FROM runs WHERE grp IS NOT NULL"
        return sorted(env for (env,) in self.db.execute(query))

    def members(self, env: str) -> list[Member]:
        """The runs of `env` with a readable config as members of their groups: each
        group's runs together and in path order, the groups in the order of their first
        run, as grouping them in path order would find them (a board compares one
        environment at a time, never every run at once). Runs of one group differ in their
        config only by keys grouping leaves out: each member has its group's first config
        (read once), and its own seed."""
        configs: dict[str, tuple[str, dict[str, Any], Any]] = {}
        statuses: dict[str, str] = {}
        members = []
        for run_id, key, seed, status, score, started_at in self.db.execute(
            "SELECT id, grp, seed, status, score, started_at FROM runs "
            "WHERE env = ? AND grp IS NOT NULL "
            "ORDER BY MIN(place) OVER (PARTITION BY grp), place",
            (env,),
        ):
            if key not in configs:
                entry = self.entry(run_id)
                if entry is None or entry.config is None:
                    continue
                configs[key] = (key, entry.config, entry.provenance)
            # (the group's key and a status as one string each, not one a run)
            key, config, provenance = configs[key]
            status = statuses.setdefault(status, status)
            seed = orjson.loads(seed)
            members.append(Member(run_id, config, status, score, started_at, provenance, key, seed))
        return members

    def env_facts(self, env: str) -> tuple[int, bool, list[str]]:
        """How many runs `env` has, whether they were judged against different reward
        boundaries, and the names of the metrics they recorded (a column each)."""
        count, boundaries = self.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT IFNULL(boundary, 'none')) FROM runs WHERE env = ?",
            (env,),
        ).fetchone()
        names: dict[str, None] = {}
        for (metrics,) in self.db.execute(
            "SELECT metrics FROM runs WHERE env = ? AND metrics != X'5b5d' "  # (not [])
            f"ORDER BY {RANKED_BY}",
            (env,),
        ):
            names.update(dict.fromkeys(orjson.loads(metrics)))
        return count, boundaries > 1, list(names)

    def ranked(self, env: str, limit: int) -> list[tuple[int | None, RunEntry]]:
        """The first `limit` rows of `env`'s leaderboard, each with its rank (None for a
        run ranked last, unranked)."""
        rows = self.db.execute(f"SELECT tier, entry {self._RANKED} LIMIT ?", (env, limit))
        found = []
        for number, (tier, data) in enumerate(rows, 1):
            entry = _entry(data)
            if entry is not None:
                found.append((number if tier < 2 else None, entry))
        return found

    def rows(self, env: str) -> Iterator[bytes]:
        """`env`'s leaderboard, row by row (as JSON, with its rank), best first."""
        for number, (tier, row) in enumerate(
            self.db.execute(f"SELECT tier, row {self._RANKED}", (env,)), 1
        ):
            yield row[:-1] + (b',"rank":%d}' % number if tier < 2 else b',"rank":null}')

    def cells(self, env: str) -> Iterator[bytes]:
        """The cells of `env`'s leaderboard, row by row (as JSON), best first."""
        for (cells,) in self.db.execute(f"SELECT cells {self._RANKED}", (env,)):
            yield cells

    def damaged(self) -> list[RunEntry]:
        """The damaged runs, in path order."""
        found = []
        for (data,) in self.db.execute(
            "SELECT entry FROM runs JOIN rows USING (id) WHERE status = 'damaged'"
        ):
            entry = _entry(data)
            if entry is not None:
                found.append(entry)
        return sorted(found, key=lambda entry: entry.id.split("/"))


class KeptStatistics:
    """The statistics of a board's groups by their inputs (`gymrun.analysis.groups`), in
    its record: each read when a comparison asks for it, never all at once. `prune` then
    forgets those the comparison did not use (the record does not grow with every build)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.used: set[str] = set()
        self.held: set[str] = set()  # used and found there: by their inputs, unchanged

    def get(self, key: str) -> Any:
        self.used.add(key)
        found = self.db.execute("SELECT value FROM statistics WHERE key = ?", (key,)).fetchone()
        if found is None:
            return None
        self.held.add(key)
        return orjson.loads(found[0])

    def __setitem__(self, key: str, value: Any) -> None:
        self.used.add(key)
        if key not in self.held:
            self.db.execute(
                "INSERT OR REPLACE INTO statistics VALUES (?, ?)", (key, json_bytes(value))
            )
            self.held.add(key)

    def prune(self) -> None:
        kept = self.db.execute("SELECT key FROM statistics")
        unused = [key for (key,) in kept if key not in self.used]
        self.db.executemany("DELETE FROM statistics WHERE key = ?", ((key,) for key in unused))


class StoredListings:
    """The folders' listings a build keeps (`scan.Listings`), each read when a walk comes
    to its folder, and written only when it changed."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get(self, key: str) -> Any:
        if key != shown(key):
            return None  # (a path that is not UTF-8: never kept)
        found = self.db.execute("SELECT value FROM listings WHERE key = ?", (key,)).fetchone()
        if found is None:
            return None
        try:
            return orjson.loads(found[0])
        except orjson.JSONDecodeError:
            return None

    def put(self, key: str, listing: Listing, *, new: bool) -> None:
        if new:
            self.db.execute(
                "INSERT OR REPLACE INTO listings VALUES (?, ?)", (key, orjson.dumps(listing))
            )


def failure(exc: sqlite3.Error) -> str:
    """What went wrong with the board's record, in the words of the system's errors.

    >>> failure(sqlite3.OperationalError("database or disk is full"))
    'database or disk is full'
    """
    if getattr(exc, "sqlite_errorname", None) == "SQLITE_FULL":
        return os.strerror(errno.ENOSPC)
    return str(exc)


def _not_a_link(path: Path) -> None:
    """Remove `path` if it is a link (the board writes through none found in it); refuse it
    if it is anything but a regular file."""
    try:
        found = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found.st_mode):
        path.unlink()
    elif not stat.S_ISREG(found.st_mode):
        raise RecordError(f"{path}: not a file of the board's own; nothing is written there")


def _entry(data: bytes) -> RunEntry | None:
    try:
        return RunEntry.from_json(orjson.loads(data))
    except (orjson.JSONDecodeError, TypeError):
        return None


def json_list(items: Iterable[bytes]) -> Iterator[bytes]:
    """A JSON array of `items` (each JSON), as parts."""
    yield b"["
    first = True
    for item in items:
        yield item if first else b"," + item
        first = False
    yield b"]"
