"""Building the board: a static site of every run, sweep and duel under a recordings
directory.

The site is plain files that work from ``file://`` and offline: an index with one
leaderboard per environment, a page per run, per sweep, per duel and per environment, a comparison
of each environment's groups of runs, and beside every figure the JSON it was drawn from.

Builds are incremental. ``.board.json`` in the output keeps each run's stamp (the sizes
and times of its files) and status, and ``.board-rows.json`` its row and the statistics of
its group: a run whose files did not change is not read again, a build that finds nothing
new reads no row, and a page is written only when its content changed.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import math
import os
import re
import secrets
import shlex
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from gymrun.analysis.groups import Comparison, compare
from gymrun.analysis.normalized import normalized_comparison
from gymrun.board.duels import DuelEntry, read_duel
from gymrun.board.runs import ReadSoFar, RunDetail, RunEntry, episode_of_video, read_entry
from gymrun.board.scan import Found, board_id, run_stamp, scan, signature
from gymrun.board.site import (
    Site,
    episode_body,
    json_bytes,
    jsonable,
    read_board_json,
    script_bytes,
    script_data,
    site_base,
    templates_fingerprint,
)
from gymrun.board.sweeps import SweepEntry, read_sweep
from gymrun.core import scores
from gymrun.core.summary import SOLVE_WINDOW
from gymrun.errors import FaultError, GymrunError, UsageError
from gymrun.numbers import figure
from gymrun.records.layout import DUEL_FILE, SWEEP_FILE, SWEEP_PLOT, VIDEO_DIR, run_title
from gymrun.version import __version__

MANIFEST = ".board.json"
ROWS = ".board-rows.json"  # the rows of the runs in MANIFEST, read only when one changed
MANIFEST_LIMIT = 1_000_000_000  # the rows of ten thousand runs, with room to spare
FORMAT = 4
LEADERS = 10  # rows of each environment's leaderboard on the index
PICKED = 24  # groups ticked on a comparison page to start with (the best by IQM)
ENV_ROWS = 100  # rows of an environment's page without its script (with it, every run)
# Runs still being written are read again at every build: their status can change with
# nothing written (a killed process writes nothing).
LIVE = ("running",)


@dataclass
class BuildReport:
    """What a build did."""

    out: Path
    runs: int
    damaged: int
    sweeps: int
    environments: int
    read: int  # runs read from disk in this build (the others were unchanged)
    running: int = 0  # runs still marked running
    written: list[Path] = field(default_factory=list)  # files written or replaced
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    duels: int = 0

    @property
    def index(self) -> Path:
        return self.out / "index.html"

    def to_json(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "index": str(self.index),
            "runs": self.runs,
            "damaged": self.damaged,
            "sweeps": self.sweeps,
            "duels": self.duels,
            "environments": self.environments,
            "read": self.read,
            "running": self.running,
            "written": [str(p) for p in self.written],
            "seconds": self.seconds,
            "notes": self.notes,
        }


def check_dirs(root: Path, out: Path) -> None:
    """Refuse a recordings directory that is not there, and an output directory that
    would overwrite something that is not a board."""
    if not root.is_dir():
        blocking = file_in_the_way(root)
        said = "no such directory" if blocking is None else "not a directory"
        if blocking not in (None, root):
            said = f"{blocking} is not a directory"
        raise UsageError(f"{root}: {said}")
    source, target = root.resolve(), out.resolve()
    if target == source or source in target.parents or target in source.parents:
        raise UsageError(
            f"--out {out}: the board cannot be inside the recordings it shows, nor hold them"
        )
    blocking = file_in_the_way(out)
    if blocking == out:
        raise UsageError(f"--out {out}: exists and is not a directory")
    if blocking is not None:
        raise UsageError(f"--out {out}: {blocking} is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise UsageError(
            f"--out {out}: the directory is not empty and holds no board ({MANIFEST}); "
            "nothing in it was touched (choose another directory)"
        )


def file_in_the_way(path: Path) -> Path | None:
    """The first of `path` and its parents that is there, when it is not a directory: no
    directory can be made at `path` through it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     site = Path(tmp)
    ...     _ = (site / "notes").write_text("")
    ...     file_in_the_way(site / "notes/board") == site / "notes", file_in_the_way(site / "new/x")
    (True, None)
    """
    there = next((p for p in (path, *path.parents) if p.exists()), None)
    return there if there is not None and not there.is_dir() else None


@dataclass
class Kept:
    """What a server keeps between its builds: the last build's record and rows (not read
    from disk again) and when they were last written there (every `MANIFEST_EVERY` seconds
    at most: they only spare the next start from reading every run again)."""

    manifest: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, Any] | None = None  # as `_load_rows` gives them; None: not read yet
    saved: float = -math.inf
    unsaved: bool = False
    rows_unsaved: bool = False
    # The pages of many runs (the index, leaderboards, comparisons) show running runs'
    # rows as they were at most `LIVE_PAGES_EVERY` seconds ago: not made again each time a
    # running run has new episodes (its own page is). `behind`: some rows are newer.
    pages_due: float = -math.inf
    behind: bool = False
    # how far each recording run was read, by its directory: its next read goes on from
    # there, so a long run's new episodes cost what they are, not what the run is
    reads: dict[str, ReadSoFar] = field(default_factory=dict)

    def save(self, out: Path) -> None:
        """Write the record (and the rows, if they changed) now, if the last build left it
        unwritten."""
        if self.unsaved:
            self.manifest = _write_record(
                out, self.manifest, self.rows if self.rows_unsaved else None
            )
            self.saved, self.unsaved, self.rows_unsaved = time.monotonic(), False, False


MANIFEST_EVERY = 30.0
LIVE_PAGES_EVERY = 10.0


def build_board(
    root: Path,
    out: Path,
    *,
    changed: Collection[Path] | None = None,
    kept: Kept | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Build (or bring up to date) the board of the recordings under `root` in `out`.

    With `changed`, the directories in which something changed since the last build (a
    server watching the recordings knows them): when they are all runs the last build
    read, only they are looked at again; else every run is, by the sizes and times of its
    files. With `kept`, the last build's record is taken from memory (see `Kept`).
    `on_progress(read, to_read)` is told after each run read (a first build of thousands
    reads for a while).

    >>> import tempfile
    >>> from gymrun import load_config, run_experiment
    >>> from gymrun.records.directory import new_run_dir
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     config = load_config("configs/cartpole_balance.yaml", episodes=100, seed=0)
    ...     _ = run_experiment(config, record_dir=new_run_dir("balance", Path(tmp, "rec")))
    ...     first = build_board(Path(tmp, "rec"), Path(tmp, "board"))
    ...     again = build_board(Path(tmp, "rec"), Path(tmp, "board"))
    ...     index = json.loads(Path(tmp, "board", "index.json").read_text())
    >>> first.runs, first.read, again.read, again.written
    (1, 1, 0, [])
    >>> [(row["episodes_before_solve"], row["verdict"], row["score"]["value"])
    ...  for row in index["environments"][0]["runs"]]
    [(0, 'solved', 500.0)]
    """
    try:
        return _build(root, out, changed, kept, on_progress)
    except OSError as exc:  # a full disk, say: what the last build wrote is taken up next
        where = exc.filename or out
        inside = Path(where).resolve().is_relative_to(out.resolve())
        said = f"--out {out}: cannot write the board" if inside else str(where)
        raise FaultError(
            f"{said}: {exc.strerror or exc} (the next build goes on from what was written)"
        ) from exc
    finally:
        gc.unfreeze()  # the record's objects (frozen in `_build`) are the collector's again


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The cycle collector paused (its passes over the objects being made took as long as
    making them)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _build(
    root: Path,
    out: Path,
    changed: Collection[Path] | None,
    kept: Kept | None,
    on_progress: Callable[[int, int], None] | None,
) -> BuildReport:
    started = time.perf_counter()
    check_dirs(root, out)
    out.mkdir(parents=True, exist_ok=True)
    source = str(root.resolve())
    fingerprint = f"{FORMAT}:{__version__}:{templates_fingerprint()}"
    if not (out / MANIFEST).exists():
        # A record of nothing first: a first build stopped before its end (Ctrl-C, a
        # first build of thousands of runs takes a while) leaves a board that the next
        # build takes up, not a folder it refuses as someone else's.
        _write_record(out, _no_record(source), None)
    # The last build's record: a stamp and a status per run, its listings, its sweeps and
    # duels (its runs' rows are read below, only if something changed). Objects in the
    # millions, none in a cycle, that the collector's passes would walk again and again
    # while they are read and while the build makes its own: it is paused as they are
    # read, and they are frozen out of its way until the end.
    with _collector_paused():
        manifest = kept.manifest if kept is not None and kept.manifest else _load_manifest(out)
        gc.freeze()
    fresh = manifest.get("source") != source or manifest.get("fingerprint") != fingerprint
    old_runs: dict[str, Any] = {} if fresh else manifest.get("runs", {})
    old_sweeps: dict[str, Any] = {} if fresh else manifest.get("sweeps", {})
    old_duels: dict[str, Any] = {} if fresh else manifest.get("duels", {})
    site = Site(out)
    site.assets()
    notes: list[str] = []
    looked_at = _only(root, changed, old_runs)
    old_listings = manifest.get("listings", {}) if manifest.get("source") == source else {}
    if looked_at is None:
        found = scan(root, old_listings)
    else:
        found = _known(root, old_runs, old_sweeps, old_duels, old_listings)
    parents = {board_id(root, d): "sweep" for d in found.sweeps}
    parents |= {board_id(root, d): "duel" for d in found.duels}
    run_records: dict[str, Any] = {}
    unchanged: list[str] = []  # runs whose row the last build kept, to be taken as it was
    changes: list[tuple[Path, tuple[str, str] | None]] = []
    pages = _Pages(os.fspath(out))

    def read_again(run_id: str) -> None:
        parent = run_id.rpartition("/")[0]  # the sweep or duel it belongs to, if any
        where = (parents[parent], parent) if parent in parents else None
        changes.append((Path(found.runs[run_id]), where))

    for run_id, run_dir in found.runs.items():
        cached = old_runs.get(run_id)
        if looked_at is not None and run_id not in looked_at and cached is not None:
            stamp = cached["signature"]  # nothing changed in it
        else:
            stamp = found.stamps.get(run_id) or run_stamp(run_dir)
        if (
            cached is not None
            and cached["signature"] == stamp
            and cached["status"] not in LIVE
            and run_id in pages
        ):
            run_records[run_id] = cached
            unchanged.append(run_id)
        else:
            run_records[run_id] = {"signature": stamp, "status": None}
            read_again(run_id)
    gone = [run_id for run_id in old_runs if run_id not in run_records]
    if kept is not None and kept.reads:  # a recording run removed is not read on from
        present = {str(Path(run_dir)) for run_dir in found.runs.values()}
        kept.reads = {key: read for key, read in kept.reads.items() if key in present}
    by_parent: dict[str, list[str]] = {}
    for run_id in run_records:
        by_parent.setdefault(run_id.rpartition("/")[0], []).append(run_id)
    # sweeps and duels, by their ids: directory, runs inside, and stamp
    sweep_stamps = _parents(root, found.sweeps, by_parent)
    duel_stamps = _parents(root, found.duels, by_parent)
    quiet = (
        not (gone or fresh)
        and _same_stamps(sweep_stamps, old_sweeps)
        and _same_stamps(duel_stamps, old_duels)
    )
    # the pages of many runs were left behind the rows of running runs, long enough ago
    catch_up = kept is not None and kept.behind and time.monotonic() >= kept.pages_due
    if quiet and not changes and not catch_up:
        # nothing new: every page is as the last build left it, and no row is read (the
        # folders listed anew are kept, so that the next build need not list them)
        if found.listings != old_listings:
            _keep(out, manifest | {"listings": found.listings}, None, kept)
        elif kept is not None:
            kept.manifest = manifest  # as on disk: not read again at the next build
        statuses = [record["status"] for record in run_records.values()]
        return _report(
            out, statuses, len(old_sweeps), len(old_duels), len(manifest["envs"]), started, notes
        )
    # Something changed: the rows the last build kept, each checked as it is taken (one
    # this version did not write, or that is missing, is read again from its run).
    with _collector_paused():
        old_rows = _old_rows(out, manifest, kept, fresh)
        gc.freeze()
    kept_rows: dict[str, Any] = old_rows["runs"]
    runs: dict[str, RunEntry] = {}
    rows: dict[str, Any] = {}
    for run_id in unchanged:
        row = kept_rows.get(run_id)
        entry = None if row is None else _kept_row(row)
        if entry is not None:
            runs[run_id], rows[run_id] = entry, row  # as it was: not made again
        else:
            read_again(run_id)
    same_rows = True  # every run read again has the row it had
    running = True  # every run read again was running, and still is
    reads = None if kept is None else kept.reads
    for entry_json, files in _refresh(root, site, changes, on_progress, reads):
        entry = RunEntry.from_json(entry_json)
        runs[entry.id], rows[entry.id] = entry, entry_json
        run_records[entry.id] = {
            "signature": run_records[entry.id]["signature"],
            "status": entry.status,
        }
        site.written.extend(map(Path, files))
        old = kept_rows.get(entry.id)
        same_rows = same_rows and old == entry_json
        running = running and old is not None and old.get("status") in LIVE
        running = running and entry.status in LIVE
    runs = {run_id: runs[run_id] for run_id in run_records}  # in path order
    rows = {run_id: rows[run_id] for run_id in run_records}
    read = len(changes)
    soon = kept is not None and running and time.monotonic() < kept.pages_due
    if quiet and not catch_up and (same_rows or soon):
        # runs read again whose rows did not change (a running run with no new episode),
        # or running runs with new episodes shortly after the last pages of many runs:
        # their own pages are written, the pages of many runs are as they were
        if kept is not None and not same_rows:
            kept.behind = True
        record = manifest | {"runs": run_records, "listings": found.listings}
        _keep(out, record, None if same_rows else old_rows | {"runs": rows}, kept)
        statuses = [run.status for run in runs.values()]
        report = _report(
            out, statuses, len(old_sweeps), len(old_duels), len(manifest["envs"]), started, notes
        )
        report.read, report.written = read, list(site.written)
        return report
    if kept is not None:
        kept.pages_due, kept.behind = time.monotonic() + LIVE_PAGES_EVERY, False
    site.remove(f"runs/{run_id}" for run_id in gone)

    members = [member for run in runs.values() if (member := run.member()) is not None]
    statistics: dict[str, Any] = old_rows["statistics"]
    comparisons = {c.env: c for c in compare(members, statistics)}
    # runs of one environment have nothing to aggregate across tasks
    across_tasks = normalized_comparison(members if len(comparisons) > 1 else [])
    slugs = _slugs(sorted(comparisons))
    sweeps: dict[str, SweepEntry] = {}
    sweep_records: dict[str, Any] = {}
    for sweep_id, (directory, inside, sweep_stamp) in sweep_stamps.items():
        cached = old_sweeps.get(sweep_id)
        if cached is not None and cached["signature"] == sweep_stamp:
            sweep = SweepEntry.from_json(cached["entry"])
        else:
            sweep = read_sweep(root, directory, inside)
        sweep.env = next((runs[r].env for r in inside if runs[r].env), None)
        _sweep_files(site, sweep, directory, runs, slugs)
        sweeps[sweep_id] = sweep
        sweep_records[sweep_id] = {"signature": sweep_stamp, "entry": sweep.to_json()}
    site.remove(f"sweeps/{s}" for s in old_sweeps if s not in sweeps)
    duels: dict[str, DuelEntry] = {}
    duel_records: dict[str, Any] = {}
    for duel_id, (directory, inside, duel_stamp) in duel_stamps.items():
        cached = old_duels.get(duel_id)
        if cached is not None and cached["signature"] == duel_stamp:
            duel = DuelEntry.from_json(cached["entry"])
        else:
            duel = read_duel(root, directory, inside)
        duel.env = next((runs[r].env for r in inside if runs[r].env), None)
        _duel_files(site, duel, runs, slugs)
        duels[duel_id] = duel
        duel_records[duel_id] = {"signature": duel_stamp, "entry": duel.to_json()}
    site.remove(f"duels/{d}" for d in old_duels if d not in duels)

    environments = _environments(runs, sweeps, duels, comparisons, slugs)
    for env in environments:
        _env_files(site, env, comparisons[env["env"]], runs)
    site.remove(f"envs/{slug}" for slug in manifest.get("envs", []) if slug not in slugs.values())
    damaged = [r for r in runs.values() if r.status == "damaged"]
    index = {
        "generated_by": f"gymrun {__version__}",
        "recordings": source,
        "ranking": RANKING,
        "solve_rule": SOLVE_RULE,
        "environments": [_env_json(env, LEADERS) for env in environments],
        "damaged": [r.row_json() for r in damaged],
        "sweeps": [s.to_json() for s in sweeps.values()],
        "duels": [d.to_json() for d in duels.values()],
        "normalized": across_tasks.to_json(),
    }
    site.json("index.json", index)
    site.page(
        "index.html",
        "index.html",
        environments=environments,
        damaged=damaged,
        sweeps=list(sweeps.values()),
        leaders=LEADERS,
        recordings=str(root),
        total=len(runs),
        across_tasks=across_tasks,
    )
    record = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "source": source,
        "rows": manifest.get("rows"),
        "runs": run_records,
        "sweeps": sweep_records,
        "duels": duel_records,
        "envs": list(slugs.values()),
        "listings": found.listings,
    }
    _keep(out, record, {"runs": rows, "statistics": statistics}, kept)
    statuses = [run.status for run in runs.values()]
    report = _report(out, statuses, len(sweeps), len(duels), len(environments), started, notes)
    report.read = read
    report.written = [p for p in site.written if p.name not in (MANIFEST, ROWS)]
    return report


def _keep(
    out: Path, record: dict[str, Any], rows: dict[str, Any] | None, kept: Kept | None
) -> None:
    """Write the build's record, and its rows unless they are those the last build left
    (`rows` None), or keep them in memory for the server (see `Kept`)."""
    if kept is None:
        _write_record(out, record, rows)
        return
    kept.manifest, kept.unsaved = record, True
    if rows is not None:
        kept.rows, kept.rows_unsaved = rows, True
    if time.monotonic() - kept.saved >= MANIFEST_EVERY:
        kept.save(out)


def _write_record(out: Path, record: dict[str, Any], rows: dict[str, Any] | None) -> dict[str, Any]:
    """Write the record, and first the rows if given, under a new token that the record
    then names (the record as written is returned): a build stopped between the two leaves
    a record naming rows that are not there, whose runs are read again, never rows taken
    for runs they were not made from."""
    site = Site(out)
    if rows is not None:
        token = secrets.token_hex(8)
        site.json(ROWS, {"format": FORMAT, "token": token} | rows)
        record = record | {"rows": token}
    site.json(MANIFEST, record)
    return record


def _no_record(source: str) -> dict[str, Any]:
    """The record of a board not built yet: it matches no build's fingerprint, so the
    next build is a whole one (its index and pages written, even of no run)."""
    return {
        "format": FORMAT,
        "fingerprint": "",
        "source": source,
        "rows": None,
        "runs": {},
        "sweeps": {},
        "duels": {},
        "envs": [],
        "listings": {},
    }


def _old_rows(
    out: Path, manifest: dict[str, Any], kept: Kept | None, fresh: bool
) -> dict[str, Any]:
    """The rows of the last build's runs and its statistics, from the server's memory or
    from disk (none when the board is built anew, or the rows are not those its record
    names)."""
    if fresh:
        return _no_rows()
    if kept is not None and kept.rows is not None:
        return kept.rows
    rows = _load_rows(out, manifest.get("rows"))
    if kept is not None:
        kept.rows = rows
    return rows


def _report(
    out: Path,
    statuses: list[str],
    sweeps: int,
    duels: int,
    environments: int,
    started: float,
    notes: list[str],
) -> BuildReport:
    return BuildReport(
        out,
        len(statuses),
        statuses.count("damaged"),
        sweeps,
        environments,
        0,
        sum(status in LIVE for status in statuses),
        [],
        time.perf_counter() - started,
        notes,
        duels,
    )


RANKING = (
    "mean episode reward, ranked by the lower end of its 95% bootstrap interval "
    "(runs too short for an interval come after those with one)"
)


def rank_key(entry: RunEntry) -> tuple[int, float, float, str]:
    """Order on a leaderboard: by the lower end of the run's 95% interval of its mean
    reward, then its mean; runs without an interval after those with one; damaged runs and
    runs without a score last, unranked.

    >>> a = RunEntry("a", "a", "completed", score={"value": 40.0, "ci95": [20.0, 60.0]})
    >>> b = RunEntry("b", "b", "completed", score={"value": 35.0, "ci95": [33.0, 37.0]})
    >>> [e.id for e in sorted([a, b], key=rank_key)]
    ['b', 'a']
    """
    value = entry.score["value"]
    low = entry.score["ci95"][0]
    if value is None or entry.status == "damaged":
        return (2, 0.0, 0.0, entry.id)
    if low is None:
        return (1, 0.0, -value, entry.id)
    return (0, -low, -value, entry.id)


def _refresh(
    root: Path,
    site: Site,
    jobs: list[tuple[Path, tuple[str, str] | None]],
    on_progress: Callable[[int, int], None] | None = None,
    reads: dict[str, ReadSoFar] | None = None,
) -> list[tuple[dict[str, Any], list[str]]]:
    """Read each changed run and write its files. In this process: a run costs a few
    milliseconds, less than handing it to and from a worker process would. With `reads`
    (a server's), a recording run is read on from where it was last read."""
    done = []
    for job in jobs:
        done.append(_refresh_one(root, job, site, reads))
        if on_progress is not None:
            on_progress(len(done), len(jobs))
    return done


def _refresh_one(
    root: Path,
    job: tuple[Path, tuple[str, str] | None],
    site: Site,
    reads: dict[str, ReadSoFar] | None,
) -> tuple[dict[str, Any], list[str]]:
    directory, parent = job
    so_far = None if reads is None else reads.pop(str(directory), None)
    entry, detail, so_far = read_entry(root, directory, so_far)
    if reads is not None and so_far is not None:
        reads[str(directory)] = so_far
    entry.cells = site.cells(entry)
    before = len(site.written)
    _run_files(site, entry, detail, directory, parent)
    written = [str(p) for p in site.written[before:]]
    del site.written[before:]
    return entry.to_json(), written


def _only(
    root: Path,
    changed: Collection[Path] | None,
    runs: dict[str, Any],
) -> set[str] | None:
    """The runs to look at again when only `changed` directories changed: None when every
    run is to be looked at (nothing is known of the last build, or a change is outside the
    runs it read: a new run, a sweep's file, a run removed)."""
    if changed is None or not runs or any("\ufffd" in run_id for run_id in runs):
        return None  # (a name that is not UTF-8 is not its path: found by a scan)
    found: set[str] = set()
    for path in changed:
        if path.name == VIDEO_DIR:
            path = path.parent
        try:
            run_id = path.relative_to(root).as_posix()
        except ValueError:
            return None
        if run_id not in runs or not path.is_dir():
            return None
        found.add(run_id)
    return found


def _known(
    root: Path,
    runs: dict[str, Any],
    sweeps: dict[str, Any],
    duels: dict[str, Any],
    listings: dict[str, Any],
) -> Found:
    """The runs, sweeps and duels the last build found, as `scan` would find them again
    (and its listings, each still checked against its folder's time when used)."""
    top = os.fspath(root)
    return Found(
        {run_id: f"{top}/{run_id}" for run_id in sorted(runs, key=lambda r: r.split("/"))},
        sorted(root / s for s in sweeps),
        sorted(root / d for d in duels),
        listings=listings,
    )


class _Pages:
    """The runs whose pages the board holds (a run whose page is gone is read again): each
    run's folder under ``runs/``, found by listing their parent folders once each, not by a
    look at every run's page (thousands)."""

    def __init__(self, out: str) -> None:
        self.out = out
        self.listed: dict[str, set[str]] = {}

    def __contains__(self, run_id: str) -> bool:
        parent, _, name = run_id.rpartition("/")
        names = self.listed.get(parent)
        if names is None:
            try:
                with os.scandir(f"{self.out}/runs/{parent}") as entries:
                    names = {entry.name for entry in entries if entry.is_dir()}
            except OSError:
                names = set()
            self.listed[parent] = names
        return name in names


def _kept_row(row: Any) -> RunEntry | None:
    """A run's row as the last build kept it, unless the run is to be read again: it was
    running, or the row is not one this version wrote."""
    try:
        entry = RunEntry.from_json(row)
    except TypeError:
        return None
    return None if entry.status in LIVE else entry


def _parents(
    root: Path, directories: list[Path], by_parent: dict[str, list[str]]
) -> dict[str, tuple[Path, list[str], str]]:
    """Sweeps or duels by their ids: each one's directory, the runs in it, and its stamp
    (its files and those runs: one whose stamp is unchanged is not read again)."""
    found = {}
    for directory in directories:
        parent_id = board_id(root, directory)
        inside = by_parent.get(parent_id, [])
        text = "\n".join([signature(directory), *inside])
        found[parent_id] = (directory, inside, hashlib.sha1(text.encode()).hexdigest())
    return found


def _same_stamps(now: dict[str, tuple[Path, list[str], str]], before: dict[str, Any]) -> bool:
    return {k: stamp for k, (_, _, stamp) in now.items()} == {
        k: record["signature"] for k, record in before.items()
    }


def _load_manifest(out: Path) -> dict[str, Any]:
    """The last build's record, when it is one this version wrote: its runs' stamps and its
    sweeps' rows are taken again and the folders of those gone are removed, so anything
    else in it (a damaged or planted file) counts as no record at all, and the board is
    built anew."""
    try:
        data = read_board_json(out, MANIFEST, MANIFEST_LIMIT)
    except (OSError, GymrunError):
        return {}
    try:
        if not (
            isinstance(data, dict)
            and data.get("format") == FORMAT
            and all(isinstance(data.get(k), str) for k in ("fingerprint", "source"))
            and isinstance(data.get("envs"), list)
            and all(isinstance(slug, str) for slug in data["envs"])
            and isinstance(data.get("runs"), dict)
        ):
            return {}
        if not isinstance(data.get("listings"), dict):
            data["listings"] = {}  # each listing is checked where it is used
        for record in data["runs"].values():
            if not (type(record["signature"]) is str and type(record["status"]) is str):
                return {}
        for key, read in (("sweeps", SweepEntry.from_json), ("duels", DuelEntry.from_json)):
            records = data.get(key)
            if not isinstance(records, dict):
                return {}
            for record in records.values():
                if not isinstance(record.get("signature"), str):
                    return {}
                read(record["entry"])
    except (TypeError, AttributeError, KeyError):
        return {}
    return data


def _load_rows(out: Path, token: Any) -> dict[str, Any]:
    """The rows the last build's record names (by `token`) and its statistics: empty when
    they are not those, or not rows at all (each row is checked where it is taken)."""
    try:
        data = read_board_json(out, ROWS, MANIFEST_LIMIT)
    except (OSError, GymrunError):
        return _no_rows()
    if not (
        isinstance(data, dict)
        and data.get("format") == FORMAT
        and isinstance(token, str)
        and data.get("token") == token
        and isinstance(data.get("runs"), dict)
        and isinstance(data.get("statistics"), dict)
    ):
        return _no_rows()
    return {"runs": data["runs"], "statistics": data["statistics"]}


def _no_rows() -> dict[str, Any]:
    """Rows of no run, and no statistics (a new dict each time: a build fills its own)."""
    return {"runs": {}, "statistics": {}}


def env_slug(env: str) -> str:
    """The folder of an environment's pages: its ID, or when that is not a plain file
    name, the ID made one and a short hash of it (so no two IDs share a folder).

    >>> env_slug("CartPole-v1"), env_slug("ALE/Pong-v5")
    ('CartPole-v1', 'ALE-Pong-v5-34770f')
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", env).strip("-.")
    if slug == env:
        return slug
    return f"{slug or 'env'}-{hashlib.sha1(env.encode()).hexdigest()[:6]}"


def _slugs(envs: Sequence[str]) -> dict[str, str]:
    return {env: env_slug(env) for env in envs}


def _run_page(run_id: str) -> str:
    return f"runs/{run_id}/index.html"


def reproduce_command(directory: str) -> str:
    """The command that repeats a run exactly, from any working directory: its saved config
    (which runs the copy of the user's modules kept beside it), run again.

    >>> reproduce_command("/data/recordings/my run/2026-01-01T00-00-00Z")
    "gymrun run '/data/recordings/my run/2026-01-01T00-00-00Z/config.yaml'"
    """
    return f"gymrun run {shlex.quote(str(Path(directory).absolute() / 'config.yaml'))}"


def _run_files(
    site: Site,
    entry: RunEntry,
    detail: RunDetail | None,
    directory: Path,
    parent: tuple[str, str] | None,
) -> None:
    """A run's page and its data; `parent`: the sweep or duel it belongs to, its kind and
    id."""
    folder = f"runs/{entry.id}"
    if detail is not None and detail.curve is not None:
        curve = detail.curve
        data = {
            "run": entry.id,
            "title": run_title(entry.config or {}),
            "episode": curve.episode.tolist(),
            "low": curve.low.tolist(),
            "high": curve.high.tolist(),
            # NaN (before a whole window was seen) is null in JSON
            "rolling_mean": [None if v != v else v for v in curve.rolling.tolist()],
            "window": curve.window,
            "bin_size": curve.bin_size,
            "episodes": curve.count,
            "reward_boundary": entry.reward_boundary,
        }
        # and as a script that hands it to the page (`gymrunCurve({...})`): a page opened
        # from disk may load a script beside it, where it may not read a JSON file
        text = json.dumps(data, allow_nan=False)
        site.write(f"{folder}/reward.json", f"{text}\n".encode())
        site.write(f"{folder}/reward.js", f"gymrunCurve({text});\n".encode())
    videos = []
    for name in entry.videos:
        site.place(f"{folder}/videos/{name}", directory, VIDEO_DIR, name)
        videos.append({"file": f"videos/{name}", "episode": episode_of_video(name)})
    command = reproduce_command(entry.directory)
    document = {
        "run": entry.to_json(),
        "summary": None if detail is None else detail.summary,
        "episodes": None if detail is None else detail.episode_rows,
        "block_size": None if detail is None else detail.block_size,
        "meta": None if detail is None else detail.meta,
        "notes": [] if detail is None else detail.notes,
        "reproduce": command,
        "solve_rule": SOLVE_RULE,
    }
    site.json(f"{folder}/run.json", document)
    meta = None if detail is None else detail.meta
    site.page(
        _run_page(entry.id),
        "run.html",
        run=entry,
        detail=detail,
        videos=videos,
        command=command,
        recorded_command=shlex.join(map(str, (meta or {}).get("command") or [])) or None,
        meta_text=None if detail is None else detail.meta_text,
        env_slug=None if entry.env is None else env_slug(entry.env),
        parent=parent,
        window=SOLVE_WINDOW,
        solve_rule=SOLVE_RULE,
        episode_body=None
        if detail is None
        else episode_body(detail.episode_rows, detail.block_size, list(entry.metrics)),
    )


SOLVE_RULE = (
    "the old Gym scoreboard's rule: solved after N episodes when the mean reward of episodes "
    "N to N+99 reaches the reward boundary (the first such window); a run of fewer than 100 "
    "episodes is judged on its mean (reached on average, or not); and when the 95% interval "
    "of the mean judged (the best window's, or the run's) holds the boundary, the verdict is "
    "within noise"
)


def _sweep_files(
    site: Site,
    sweep: SweepEntry,
    directory: Path,
    runs: dict[str, RunEntry],
    slugs: dict[str, str],
) -> None:
    folder = f"sweeps/{sweep.id}"
    rows = []
    for number, point in enumerate(sweep.points):
        ids = [f"{sweep.id}/{run['label']}" for run in point["runs"]]
        members = [runs[i] for i in ids if i in runs]
        completed = [
            m.score["value"]
            for m in members
            if m.status == "completed" and m.score["value"] is not None
        ]
        rows.append(
            {
                "number": number,
                "point": point,
                "runs": members,
                "iqm": scores.iqm([completed]).to_json() if completed else None,
                "mean": {"value": point.get("mean_reward"), "ci95": point.get("ci95")},
            }
        )
    plot = None
    if sweep.plot:
        site.place(f"{folder}/{SWEEP_PLOT}", directory, SWEEP_PLOT)
        plot = SWEEP_PLOT
    site.json(
        f"{folder}/{SWEEP_FILE}",
        sweep.to_json() | {"iqm_across_seeds": [row["iqm"] for row in rows]},
    )
    site.page(
        f"{folder}/index.html",
        "sweep.html",
        sweep=sweep,
        rows=rows,
        plot=plot,
        env_slug=slugs.get(sweep.env or ""),
        members=[runs[r] for r in sweep.runs],
    )


def _duel_files(
    site: Site, duel: DuelEntry, runs: dict[str, RunEntry], slugs: dict[str, str]
) -> None:
    folder = f"duels/{duel.id}"
    site.json(f"{folder}/{DUEL_FILE}", duel.to_json())
    site.page(
        f"{folder}/index.html",
        "duel.html",
        duel=duel,
        env_slug=slugs.get(duel.env or ""),
        members=[runs[r] for r in duel.runs],
    )


def _environments(
    runs: dict[str, RunEntry],
    sweeps: dict[str, SweepEntry],
    duels: dict[str, DuelEntry],
    comparisons: dict[str, Comparison],
    slugs: dict[str, str],
) -> list[dict[str, Any]]:
    by_env: dict[str | None, list[RunEntry]] = {}
    for run in runs.values():
        by_env.setdefault(run.env, []).append(run)
    found = []
    for env in sorted(comparisons):
        keyed = sorted(((rank_key(r), r) for r in by_env.get(env, [])), key=lambda k: k[0])
        ranked = [(n if key[0] < 2 else None, r) for n, (key, r) in enumerate(keyed, 1)]
        members = [r for _, r in ranked]
        found.append(
            {
                "env": env,
                "slug": slugs[env],
                "ranked": ranked,
                "groups": len(comparisons[env].groups),
                "sweeps": [s.id for s in sweeps.values() if s.env == env],
                "duels": [d.id for d in duels.values() if d.env == env],
                "run_count": len(members),
                # runs judged against different boundaries: each row shows its own
                "boundaries": len({r.reward_boundary for r in members}) > 1,
                # what the env reported (is_success, ...): a column each
                "metrics": list(dict.fromkeys(name for r in members for name in r.metrics)),
            }
        )
    return found


def _env_json(env: dict[str, Any], limit: int | None = None) -> dict[str, Any]:
    """An environment as its JSON has it: its runs in order, every one or the first
    `limit` (the index's: every run is in the environment's leaderboard.json)."""
    ranked = env["ranked"] if limit is None else env["ranked"][:limit]
    return {k: v for k, v in env.items() if k != "ranked"} | {
        "runs": [{**r.row_json(), "rank": n} for n, r in ranked]
    }


def _score_links(comparison: Comparison, runs: dict[str, RunEntry], base: str) -> dict[str, Markup]:
    """Each group's run scores, each a link to its run's page: made as plain text, for
    thousands of runs (a link is quoted by `url` and a score is a number: nothing in either
    is markup)."""
    return {
        g.key: Markup(
            ", ".join(
                f'<a href="{base}{runs[m.run].cells["href"]}">{figure(m.score)}</a>'
                for m in g.scored
            )
        )
        for g in comparison.groups
    }


def _env_files(
    site: Site, env: dict[str, Any], comparison: Comparison, runs: dict[str, RunEntry]
) -> None:
    folder = f"envs/{env['slug']}"
    leaderboard = json_bytes(_env_json(env) | {"ranking": RANKING})
    site.write(f"{folder}/leaderboard.json", leaderboard + b"\n")
    site.page(
        f"{folder}/index.html",
        "env.html",
        env=env,
        ranking=RANKING,
        shown=ENV_ROWS,
        # the page's script sorts and filters every run: the rows of leaderboard.json, each
        # with its cells as HTML
        scripts={
            "leaderboard": script_bytes(leaderboard),
            "cells": script_data([run.cells for _, run in env["ranked"]]),
        },
    )
    document = comparison.to_json()
    profiled = comparison.profiled
    profile = {
        "env": comparison.env,
        "groups": [g.label for g in profiled],
        "keys": [g.key for g in profiled],
        "curves": [p.to_json() for p in comparison.profiles],
    }
    profile_json = json_bytes(profile)
    site.write(f"{folder}/profile.json", profile_json + b"\n")
    site.json(f"{folder}/compare.json", document)
    scored = sum(1 for g in comparison.groups if g.scored)
    site.page(
        f"{folder}/compare.html",
        "compare.html",
        env=env,
        comparison=comparison,
        runs=runs,
        profile=profile,
        scripts={
            "profile_data": script_bytes(profile_json),
            "compare_data": script_data(
                {
                    "groups": [
                        {"key": g.key, "label": g.label, "run_scores": g.run_scores.tolist()}
                        for g in comparison.groups
                    ],
                    "improvement": document["improvement"],
                }
            ),
        },
        score_links=_score_links(comparison, runs, site_base(folder)),
        scored=scored,
        picked=min(len(comparison.groups), PICKED),
        resamples=scores.GROUP_RESAMPLES,
        jsonable=jsonable,
    )
