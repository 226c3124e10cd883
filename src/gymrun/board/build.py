"""Building the board: a static site of every run, sweep and duel under a recordings
directory.

The site is plain files that work from ``file://`` and offline: an index with one
leaderboard per environment, a page per run, per sweep, per duel and per environment, a comparison
of each environment's groups of runs, and beside every figure the JSON it was drawn from.

Builds are incremental. ``.board.db`` in the output (`gymrun.board.store`) keeps each
run's stamp (the sizes and times of its files), status and row, and the statistics of its
group: a run whose files did not change is not read again, a build that finds nothing new
reads no row, and a page is written only when its content changed. Rows stay on disk and
are streamed into the pages that show thousands of them.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import shlex
import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from markupsafe import Markup

from gymrun.analysis.groups import Comparison, Group, Member, compare
from gymrun.analysis.normalized import normalized_comparison
from gymrun.board import store
from gymrun.board.claim import check_dirs, claimed_board, out_named
from gymrun.board.duels import DuelEntry, read_duel
from gymrun.board.runs import ReadSoFar, RunDetail, RunEntry, episode_of_video, read_entry
from gymrun.board.scan import place, run_stamp, shown, signature, top_id, walk
from gymrun.board.site import (
    Site,
    episode_body,
    json_bytes,
    jsonable,
    script_bytes,
    script_data,
    site_base,
    templates_fingerprint,
    url,
)
from gymrun.board.store import Store, json_list
from gymrun.board.sweeps import SweepEntry, read_sweep
from gymrun.core import scores
from gymrun.core.summary import SOLVE_WINDOW
from gymrun.errors import FaultError
from gymrun.numbers import figure
from gymrun.records.layout import DUEL_FILE, SWEEP_FILE, SWEEP_PLOT, VIDEO_DIR, run_title
from gymrun.version import __version__

FORMAT = store.FORMAT
Taken = TypeVar("Taken")
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
    # files written or replaced, by their paths inside `out` (a first build writes tens of
    # thousands: as text)
    written: list[str] = field(default_factory=list)
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
            "written": [os.path.join(self.out, p) for p in self.written],
            "seconds": self.seconds,
            "notes": self.notes,
        }


@dataclass
class Kept:
    """What a server keeps between its builds."""

    # The pages of many runs (the index, leaderboards, comparisons) show running runs'
    # rows as they were at most `LIVE_PAGES_EVERY` seconds ago: not made again each time a
    # running run has new episodes (its own page is). `behind`: some rows are newer.
    pages_due: float = -math.inf
    behind: bool = False
    # how far each recording run was read, by its id: its next read goes on from there, so
    # a long run's new episodes cost what they are, not what the run is
    reads: dict[str, ReadSoFar] = field(default_factory=dict)


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
    files. With `kept` (a server's), the pages of many runs follow running runs every
    `LIVE_PAGES_EVERY` seconds, and recording runs are read on from where they were read.
    `on_progress(read, to_read)` is told after each run read (a first build of thousands
    reads for a while). `out` is locked while it is built (`claim.claimed_board`): a build
    or server that holds it already refuses this one, which writes nothing.

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
    with claimed_board(root, out):  # no other build or server writes `out` meanwhile
        return build_held(root, out, changed=changed, kept=kept, on_progress=on_progress)


def build_held(
    root: Path,
    out: Path,
    *,
    changed: Collection[Path] | None = None,
    kept: Kept | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """`build_board` in `out`, which the caller holds (`claim.claimed_board`: a server
    holds it across its builds)."""
    try:
        return _build(root, out, changed, kept, on_progress)
    except OSError as exc:  # a full disk, say: what the last build wrote is taken up next
        where = exc.filename or out
        inside = Path(where).resolve().is_relative_to(out.resolve())
        said = f"{out_named(out)}: cannot write the board" if inside else str(where)
        raise FaultError(
            f"{said}: {exc.strerror or exc} (the next build goes on from what was written)"
        ) from exc
    except sqlite3.Error as exc:  # its record: the same, or a lock held on a shared disk
        raise FaultError(
            f"{out_named(out)}: cannot write the board: {store.failure(exc)} "
            "(the next build goes on from what was written)"
        ) from exc


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
    # made at once, with a record of nothing: a first build stopped before its end (Ctrl-C:
    # one of thousands of runs takes a while) leaves a board that the next build takes up,
    # not a folder it refuses as someone else's
    board = Store(out)
    try:
        return _build_in(board, root, out, changed, kept, on_progress, started)
    finally:
        board.close()


def _build_in(
    board: Store,
    root: Path,
    out: Path,
    changed: Collection[Path] | None,
    kept: Kept | None,
    on_progress: Callable[[int, int], None] | None,
    started: float,
) -> BuildReport:
    source = shown(str(root.resolve()))  # (as pages and the record can hold it)
    fingerprint = f"{FORMAT}:{__version__}:{templates_fingerprint()}"
    record = board.record
    fresh = record["source"] != source or record["fingerprint"] != fingerprint
    site = Site(out)
    site.assets()
    notes: list[str] = []
    # one transaction, undone if the build stops: its runs are read again next time
    with board.changes():
        if fresh:  # (the folders' listings hold while the recordings are the same)
            board.clear(listings=record["source"] != source)
        old_sweeps: dict[str, Any] = record["sweeps"]
        old_duels: dict[str, Any] = record["duels"]
        looked_at = _only(root, changed, board)
        if looked_at is None:
            sweep_dirs, duel_dirs = _found(root, board)
        else:  # the runs, sweeps and duels the last build found, as a scan would find them
            # they, and the runs still running (read again at every build), are looked at;
            # the others are as the board holds them
            top = os.fspath(root)
            looked_at |= set(board.with_status(LIVE))
            board.find(((r, f"{top}/{r}", run_stamp(f"{top}/{r}")) for r in looked_at), only=True)
            sweep_dirs = {s: root / s for s in sorted(old_sweeps, key=lambda s: s.split("/"))}
            duel_dirs = {d: root / d for d in sorted(old_duels, key=lambda d: d.split("/"))}
        # the runs to read: new, changed, running, or whose page is gone
        to_read = board.plan_reads(_Pages(os.fspath(out)).__contains__, LIVE)
        gone = board.gone()
        if kept is not None and kept.reads:  # a recording run removed is not read on from
            kept.reads = {key: read for key, read in kept.reads.items() if board.found_here(key)}
        # sweeps and duels, by their ids: directory, runs inside, and stamp
        sweep_stamps = _parents(sweep_dirs, board)
        duel_stamps = _parents(duel_dirs, board)
        quiet = (
            not (gone or fresh)
            and _same_stamps(sweep_stamps, old_sweeps)
            and _same_stamps(duel_stamps, old_duels)
        )
        # the pages of many runs were left behind the rows of running runs, long enough ago
        catch_up = kept is not None and kept.behind and time.monotonic() >= kept.pages_due
        # the environments whose folders the last build made (a board built anew removes them too)
        envs_before: list[str] = list(record["envs"])
        if quiet and not to_read and not catch_up:
            # nothing new: every page is as the last build left it, and no row is read (the
            # folders listed anew are kept, so that the next build need not list them)
            return _report(
                out, board, len(old_sweeps), len(old_duels), len(envs_before), started, notes
            )
        board.remove(gone)
        same_rows = True  # every run read again has the row it had
        running = True  # every run read again was running, and still is
        reads = None if kept is None else kept.reads
        for entry, stamp in _refresh(
            site, board.to_read(), sweep_stamps, duel_stamps, to_read, on_progress, reads
        ):
            same, before = board.put(entry, stamp)
            same_rows = same_rows and same
            running = running and before in LIVE and entry.status in LIVE
        soon = kept is not None and running and time.monotonic() < kept.pages_due
        if quiet and not catch_up and (same_rows or soon):
            # runs read again whose rows did not change (a running run with no new
            # episode), or running runs with new episodes shortly after the last pages of
            # many runs: their own pages are written, the pages of many runs are as they were
            if kept is not None and not same_rows:
                kept.behind = True
            report = _report(
                out, board, len(old_sweeps), len(old_duels), len(envs_before), started, notes
            )
            report.read, report.written = to_read, site.written
            return report
        if kept is not None:
            kept.pages_due, kept.behind = time.monotonic() + LIVE_PAGES_EVERY, False
        site.remove(f"runs/{run_id}" for run_id in gone)
        sweeps, duels, environments = _pages(
            board, root, site, sweep_stamps, duel_stamps, source, envs_before
        )
        board.keep(fingerprint=fingerprint, source=source)
    report = _report(out, board, sweeps, duels, environments, started, notes)
    report.read, report.written = to_read, site.written
    return report


def _found(root: Path, board: Store) -> tuple[dict[str, Path], dict[str, Path]]:
    """Walk the recordings: the runs found go into the board's record (`Store.find`), the
    sweeps' and duels' directories are returned by their ids, each in path order."""
    found: dict[str, list[tuple[str, str]]] = {"sweep": [], "duel": []}

    def runs() -> Iterator[tuple[str, str, str]]:
        for kind, name, path, stamp in walk(root, board.listings()):
            if kind == "run":
                yield name, path, stamp
            else:
                found[kind].append((name, path))

    board.find(runs())
    sweeps, duels = (sorted(found[kind], key=lambda p: p[1].split("/")) for kind in found)
    return {i: Path(path) for i, path in sweeps}, {i: Path(path) for i, path in duels}


def _pages(
    board: Store,
    root: Path,
    site: Site,
    sweep_stamps: dict[str, tuple[Path, list[str], str]],
    duel_stamps: dict[str, tuple[Path, list[str], str]],
    source: str,
    envs_before: list[str],
) -> tuple[int, int, int]:
    """Write the pages of many runs (the index, each environment's, each sweep's and duel's)
    from the rows the board holds, and keep what they were made of: how many sweeps, duels
    and environments they show."""
    record = board.record
    slugs = _slugs(board.member_envs())
    sweeps: dict[str, SweepEntry] = {}
    sweep_records: dict[str, Any] = {}
    for sweep_id, (directory, inside, sweep_stamp) in sweep_stamps.items():
        sweep = _taken(record["sweeps"], sweep_id, sweep_stamp, SweepEntry.from_json)
        if sweep is None:
            sweep = read_sweep(sweep_id, directory, inside)
        runs = board.entries(dict.fromkeys([*inside, *sweep.runs]))
        sweep.env = next((runs[r].env for r in inside if r in runs and runs[r].env), None)
        _sweep_files(site, sweep, directory, runs, slugs)
        sweeps[sweep_id] = sweep
        sweep_records[sweep_id] = {"signature": sweep_stamp, "entry": sweep.to_json()}
    site.remove(f"sweeps/{s}" for s in record["sweeps"] if s not in sweeps)
    duels: dict[str, DuelEntry] = {}
    duel_records: dict[str, Any] = {}
    for duel_id, (directory, inside, duel_stamp) in duel_stamps.items():
        duel = _taken(record["duels"], duel_id, duel_stamp, DuelEntry.from_json)
        if duel is None:
            duel = read_duel(duel_id, directory, inside)
        runs = board.entries(dict.fromkeys([*inside, *duel.runs]))
        duel.env = next((runs[r].env for r in inside if r in runs and runs[r].env), None)
        _duel_files(site, duel, runs, slugs)
        duels[duel_id] = duel
        duel_records[duel_id] = {"signature": duel_stamp, "entry": duel.to_json()}
    site.remove(f"duels/{d}" for d in record["duels"] if d not in duels)

    statistics = board.statistics()
    environments = []
    scored: list[Member] = []  # what the aggregate across tasks needs of each environment
    for env_id, slug in slugs.items():
        # one environment's runs at a time, compared, written and let go before the next's
        for comparison in compare(board.members(env_id), statistics):  # (its one comparison)
            env = _environment(board, env_id, slug, len(comparison.groups), sweeps, duels)
            _env_files(site, env, comparison, board)
            environments.append(env)
            if len(slugs) > 1:  # (runs of one environment have nothing to aggregate across tasks)
                scored += (m for g in comparison.groups for m in g.scored)
            del comparison  # (not held while the next environment's runs are read)
    statistics.prune()
    # each task's completed runs, one a seed, are all it takes of them (in path order)
    across_tasks = normalized_comparison(sorted(scored, key=lambda m: place(m.run)))
    del scored
    site.remove(f"envs/{slug}" for slug in envs_before if slug not in slugs.values())
    damaged = board.damaged()
    leading = [_env_json(env, LEADERS) for env in environments]
    index = {
        "generated_by": f"gymrun {__version__}",
        "recordings": source,
        "ranking": RANKING,
        "solve_rule": SOLVE_RULE,
        "environments": leading,
        "damaged": [r.row_json() for r in damaged],
        "sweeps": [s.to_json() for s in sweeps.values()],
        "duels": [d.to_json() for d in duels.values()],
        "normalized": across_tasks.to_json(),
    }
    site.json("index.json", index)
    # the page's script sorts each environment's best runs: their rows as index.json has
    # them, each with its cells as HTML
    leaders = {
        env["slug"]: {"runs": shown["runs"], "cells": [r.cells for _, r in env["ranked"][:LEADERS]]}
        for env, shown in zip(environments, leading, strict=True)
    }
    site.page(
        "index.html",
        "index.html",
        scripts={"leaders_data": script_data(leaders)},
        environments=environments,
        damaged=damaged,
        sweeps=list(sweeps.values()),
        leaders=LEADERS,
        recordings=shown(str(root)),
        total=board.count(),
        across_tasks=across_tasks,
    )
    board.keep(
        sweeps=sweep_records,
        duels=duel_records,
        envs=list(slugs.values()),
    )
    return len(sweeps), len(duels), len(environments)


def _taken(
    records: dict[str, Any], key: str, stamp: str, entry: Callable[[Any], Taken]
) -> Taken | None:
    """A sweep's or duel's row as the last build kept it, if its stamp is `stamp` (and the
    row one this version can take: anything else is read again)."""
    cached: Any = records.get(key)
    try:
        return entry(cached["entry"]) if cached["signature"] == stamp else None
    except (TypeError, KeyError, AttributeError, ValueError):
        return None


def _report(
    out: Path,
    board: Store,
    sweeps: int,
    duels: int,
    environments: int,
    started: float,
    notes: list[str],
) -> BuildReport:
    statuses = board.statuses()
    return BuildReport(
        out,
        sum(statuses.values()),
        statuses.get("damaged", 0),
        sweeps,
        environments,
        0,
        sum(statuses.get(status, 0) for status in LIVE),
        [],
        time.perf_counter() - started,
        notes,
        duels,
    )


RANKING = (
    "mean episode reward, ranked by the lower end of its 95% bootstrap interval, then by the "
    "mean; on a tie a completed run comes before one that did not complete (interrupted, "
    "failed, killed or still running), and runs too short for an interval come after those "
    "with one"
)


def _refresh(
    site: Site,
    jobs: Iterable[tuple[str, bytes, str]],
    sweeps: Collection[str],
    duels: Collection[str],
    count: int,
    on_progress: Callable[[int, int], None] | None = None,
    reads: dict[str, ReadSoFar] | None = None,
) -> Iterator[tuple[RunEntry, str]]:
    """Read each run of `jobs` (its id, directory and stamp) and write its files, one after
    the other (each row is kept as it comes, never all of them at once), and yield each
    one's row and stamp. In this process: a run costs a few milliseconds,
    less than handing it to and from a worker process would. `sweeps` and `duels`: their
    ids, for the runs inside them. With `reads` (a server's), a recording run is read on
    from where it was last read."""
    for done, (run_id, path, stamp) in enumerate(jobs, 1):
        directory = Path(os.fsdecode(path))
        parent = run_id.rpartition("/")[0]  # the sweep or duel it belongs to, if any
        kind = "sweep" if parent in sweeps else "duel" if parent in duels else None
        where = None if kind is None else (kind, parent)
        so_far = None if reads is None else reads.pop(run_id, None)
        entry, detail, so_far = read_entry(run_id, directory, so_far)
        if reads is not None and so_far is not None:
            reads[run_id] = so_far
        entry.cells = site.cells(entry)
        _run_files(site, entry, detail, directory, where)
        yield entry, stamp
        if on_progress is not None:
            on_progress(done, count)


def _only(root: Path, changed: Collection[Path] | None, board: Store) -> set[str] | None:
    """The runs to look at again when only `changed` directories changed: None when every
    run is to be looked at (nothing is known of the last build, or a change is outside the
    runs it read: a new run, a sweep's file, a run removed)."""
    if changed is None or not board.count() or not board.all_shown():
        return None  # (a name that is not UTF-8 is not its path: found by a walk)
    if top_id(root) in board.record["sweeps"] or top_id(root) in board.record["duels"]:
        return None  # (ids under the recordings' own name, not paths under them: walked)
    found: set[str] = set()
    for path in changed:
        if path.name == VIDEO_DIR:
            path = path.parent
        try:
            run_id = path.relative_to(root).as_posix()
        except ValueError:
            return None
        if not board.holds(run_id) or not path.is_dir():
            return None
        found.add(run_id)
    return found


class _Pages:
    """The runs whose pages the board holds (a run whose page is gone is read again): each
    run's folder under ``runs/``, found by listing their parent folders once each, not by a
    look at every run's page (thousands). Runs come in path order, so that only the last
    few folders' listings are kept."""

    KEPT = 16

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
            if len(self.listed) == self.KEPT:
                del self.listed[next(iter(self.listed))]
            self.listed[parent] = names
        return name in names


def _parents(directories: dict[str, Path], board: Store) -> dict[str, tuple[Path, list[str], str]]:
    """Sweeps or duels by their ids: each one's directory, the runs found in it, and its
    stamp (its files and those runs: one whose stamp is unchanged is not read again)."""
    found = {}
    for parent_id, directory in directories.items():
        inside = board.found_in(parent_id)
        text = "\n".join([signature(directory), *inside])
        found[parent_id] = (directory, inside, hashlib.sha1(text.encode()).hexdigest())
    return found


def _same_stamps(now: dict[str, tuple[Path, list[str], str]], before: dict[str, Any]) -> bool:
    return {k: stamp for k, (_, _, stamp) in now.items()} == {
        k: record.get("signature") if isinstance(record, dict) else None
        for k, record in before.items()
    }


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


def _environment(
    board: Store,
    env: str,
    slug: str,
    groups: int,
    sweeps: dict[str, SweepEntry],
    duels: dict[str, DuelEntry],
) -> dict[str, Any]:
    """An environment's leaderboard as the index and its page show it: its best `ENV_ROWS`
    rows (its page's script has every row, streamed from the board's record)."""
    count, boundaries, metrics = board.env_facts(env)
    return {
        "env": env,
        "slug": slug,
        "ranked": board.ranked(env, ENV_ROWS),
        "groups": groups,
        "sweeps": [s.id for s in sweeps.values() if s.env == env],
        "duels": [d.id for d in duels.values() if d.env == env],
        "run_count": count,
        # runs judged against different boundaries: each row shows its own
        "boundaries": boundaries,
        # what the env reported (is_success, ...): a column each
        "metrics": metrics,
    }


def _env_json(env: dict[str, Any], limit: int) -> dict[str, Any]:
    """An environment as the index's JSON has it: its first `limit` runs (every run is
    in the environment's leaderboard.json)."""
    return _env_header(env) | {
        "runs": [{**r.row_json(), "rank": n} for n, r in env["ranked"][:limit]]
    }


def _env_header(env: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in env.items() if k != "ranked"}


def _leaderboard(env: dict[str, Any], board: Store) -> Callable[[], Iterator[bytes]]:
    """An environment's leaderboard.json, as `Site.write` takes it: every run, ranked,
    made row by row from the board's record each time it is written."""
    header = json_bytes(_env_header(env))[:-1] + b',"runs":'
    ending = b',"ranking":' + json_bytes(RANKING) + b"}"

    def parts() -> Iterator[bytes]:
        yield header
        yield from json_list(board.rows(env["env"]))
        yield ending

    return parts


def _score_links(group: Group, base: str) -> Markup:
    """A group's run scores, each a link to its run's page: made as plain text, for
    thousands of runs (a link is quoted by `url` and a score is a number: nothing in either
    is markup)."""
    return Markup(
        ", ".join(
            f'<a href="{base}{url(_run_page(m.run))}">{figure(m.score)}</a>' for m in group.scored
        )
    )


def _env_files(site: Site, env: dict[str, Any], comparison: Comparison, board: Store) -> None:
    folder = f"envs/{env['slug']}"
    leaderboard = _leaderboard(env, board)
    site.write(f"{folder}/leaderboard.json", lambda: itertools.chain(leaderboard(), [b"\n"]))
    site.page(
        f"{folder}/index.html",
        "env.html",
        env=env,
        ranking=RANKING,
        shown=ENV_ROWS,
        # the page's script sorts and filters every run: the rows of leaderboard.json, each
        # with its cells as HTML
        scripts={
            # (the bytes of leaderboard.json, as just written, but for its last newline)
            "leaderboard": lambda: map(script_bytes, site.read(f"{folder}/leaderboard.json", 1)),
            "cells": lambda: map(script_bytes, json_list(board.cells(env["env"]))),
        },
    )
    # compare.json and the page list every run of every group: written group by group
    tail = comparison.tail_json(scores.Profile.arrays)
    profiled = comparison.profiled
    profile = {
        "env": comparison.env,
        "groups": [g.label for g in profiled],
        "keys": [g.key for g in profiled],
        "curves": tail["profiles"]["curves"],  # (the same, made once)
    }
    profile_json = json_bytes(profile)
    site.write(f"{folder}/profile.json", profile_json + b"\n")
    site.write(f"{folder}/compare.json", lambda: _compare_json(comparison, tail))
    groups = comparison.groups
    picked = min(len(groups), PICKED)
    base = site_base(folder)
    boundaries = comparison.boundaries_differ
    site.page(
        f"{folder}/compare.html",
        "compare.html",
        env=env,
        comparison=comparison,
        profile=profile,
        scripts={
            "group_rows": lambda: (
                str(
                    site.macro("group_row")(g, n < picked, boundaries, _score_links(g, base))
                ).encode()
                for n, g in enumerate(groups)
            ),
            "profile_data": script_bytes(profile_json),
            "compare_data": lambda: _compare_data(comparison, tail["improvement"]),
        },
        scored=sum(1 for g in groups if g.scored),
        picked=picked,
        resamples=scores.GROUP_RESAMPLES,
        jsonable=jsonable,
    )


def _compare_json(comparison: Comparison, tail: dict[str, Any]) -> Iterator[bytes]:
    """compare.json (`Comparison.to_json`, its curves as arrays) in parts, a group each."""
    yield json_bytes(comparison.head_json())[:-1] + b',"groups":'
    yield from json_list(json_bytes(g.to_json()) for g in comparison.groups)
    yield b"," + json_bytes(tail)[1:] + b"\n"


def _compare_data(comparison: Comparison, improvement: dict[str, Any]) -> Iterator[bytes]:
    """What the comparison page's script draws from (every run's score), as `script_data`
    would put it in the page, in parts, a group each."""
    yield b'{"groups":'
    yield from json_list(
        script_data({"key": g.key, "label": g.label, "run_scores": g.run_scores.tolist()})
        for g in comparison.groups
    )
    yield b',"improvement":' + script_data(improvement) + b"}"
