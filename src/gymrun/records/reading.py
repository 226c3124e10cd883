"""Reading a recording back: the one reader of a run directory, of a sweep's ``sweep.json``
and of a duel's ``duel.json``, used by ``show``, ``compare``, the board, ``--resume``,
sweeps and duels. A Minari dataset (its directory, or ``minari:ID``) reads as a run of its
episodes (see `gymrun.records.dataset`).

Every file is read through `gymrun.records.files` (regular files only, bounded reads) and
every field is checked to be what gymrun writes, so a damaged or planted file becomes a
problem named by file (and line), never an exception deep in a caller. The summary is
recomputed from the episodes on disk (right also for a run that was killed before it could
write its own).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.components.seeding import EpisodeSeeds
from gymrun.config.schema import EPISODE_FIELDS
from gymrun.config.yaml_source import parse_yaml
from gymrun.core.episodes import EpisodeBatch, EpisodeResult, MetricColumn
from gymrun.core.summary import Summary, SummaryBuilder
from gymrun.errors import ConfigError, GymrunError, RecordError
from gymrun.numbers import counted
from gymrun.records import files
from gymrun.records.dataset import PREFIX as DATASET_PREFIX
from gymrun.records.dataset import dataset_dir, dataset_episodes, dataset_path, read_dataset
from gymrun.records.layout import (
    CONFIG_FILE,
    DUEL_FILE,
    EPISODES_FILE,
    META_FILE,
    SUMMARY_FILE,
    SWEEP_FILE,
    SWEEP_RUN,
    VIDEO_DIR,
    kind_of,
)
from gymrun.records.liveness import became, going, unstarted
from gymrun.records.metadata import PENDING_CONFIG, config_sha256

STATUSES = ("running", "completed", "interrupted", "failed")
SWEEP_LIMIT = 512_000_000  # sweep.json of the largest sweep (100,000 runs) with room to spare
DUEL_LIMIT = 64_000_000  # duel.json: two configs and a line per run, with room to spare


@dataclass
class StoredRun:
    """A run directory read back from disk. `problems` names what in it is damaged (the
    file, the line); what could be read is all there is."""

    directory: Path
    config: dict[str, Any]
    status: str  # as summary.json says: running | completed | interrupted | failed | unknown
    error: str | None
    summary: Summary  # of the episodes on disk
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    config_text: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    has_summary: bool = False  # summary.json was there and readable
    meta: dict[str, Any] | None = None
    meta_problem: str | None = None  # why there is no meta (it is not damage)
    meta_text: str | None = None  # meta.json as it is written
    summary_kept: bool = False  # `summary` is the one the run wrote when it ended
    intervals_forgone: bool = False  # too many episodes to summarise with intervals here
    go_on: GoOn | None = None  # where a later read may go on from (see `read_run`)
    # what became of it: `status`, but for one still marked running, running, killed (its
    # process is gone) or unfinished (that cannot be told: see `liveness.became`)
    became: str = "unknown"


def find_run(directory: Path) -> Path:
    """`directory` if it is a run, sweep or duel directory (or a Minari dataset's: see
    `dataset_dir`); for ``recordings/NAME``, its newest run, sweep or duel."""
    if dataset_dir(directory) is not None:
        return directory
    problem = files.no_directory(directory)
    if problem is not None:
        if not os.path.lexists(directory) and dataset_dir(dataset_path(str(directory))):
            problem += f" (the Minari dataset of that ID is {DATASET_PREFIX}{directory})"
        raise RecordError(f"{directory}: {problem}")
    if is_recorded(directory):
        return directory
    never = unstarted(directory)
    if never is not None:
        raise RecordError(f"{directory}: {never}")
    runs = [d for d in _subdirectories(directory) if is_recorded(d)]
    if not runs:
        raise RecordError(
            f"{directory}: not a gymrun run, sweep or duel directory (no {CONFIG_FILE}, "
            f"{SWEEP_FILE} or {DUEL_FILE})"
        )
    return max(runs, key=_time_order)


def recorded_runs(directory: Path) -> tuple[list[Path], list[str]]:
    """The run `directory` names (see `find_run`), or every run of the sweep or duel it
    names: a sweep's in the order of its grid, a duel's A's then B's, by seed (by their
    directories' names when ``sweep.json`` or ``duel.json`` cannot be read); and notes on
    what was left out: a run there that is not one (a symbolic link, which is not
    followed, a file, a directory without its config), a run the record lists that is
    gone, a damaged ``sweep.json`` or ``duel.json``."""
    found = find_run(directory)
    kind = "run" if dataset_dir(found) is not None else kind_of(found)
    if kind == "run":
        return [found], []
    kind = kind or "sweep"  # it was one a moment ago, in find_run
    notes: list[str] = []
    try:
        names = _duel_run_names(found) if kind == "duel" else _sweep_run_names(found)
    except FileNotFoundError:
        names = []  # a sweep killed before it wrote sweep.json: its runs are all there is
    except (GymrunError, OSError) as exc:
        names = []
        notes.append(f"{exc}; its runs are taken from the directories in it, by name")
    runs = []
    for entry in sorted(os.scandir(found), key=lambda entry: entry.name):
        path = Path(entry.path)
        if is_own_run(path):
            runs.append(path)
        elif SWEEP_RUN.fullmatch(entry.name) or entry.name in names:
            notes.append(left_out(path, kind))
    notes += [left_out(found / name, kind) for name in names if not os.path.lexists(found / name)]
    if not runs:
        more = f" (and {len(notes) - 1} more left out)" if len(notes) > 1 else ""
        said = f"no run left: {notes[0]}{more}" if notes else "no runs recorded yet"
        raise RecordError(f"{found}: a {kind} with {said}")
    order = {name: i for i, name in enumerate(names)}
    ordered = sorted(runs, key=lambda run: (order.get(run.name, len(order)), run.name))
    return ordered, notes


def is_own_run(path: Path) -> bool:
    """Whether `path` is a run's own directory, what a sweep or a duel counts as one of its
    runs: a run there, not a symbolic link to one (its episodes are another record's)."""
    return not path.is_symlink() and kind_of(path) == "run"


def left_out(path: Path, kind: str) -> str:
    """Why `path`, named as a run of a sweep or duel (`kind`), is left out of it: a note."""
    return f"{path}: left out: {not_its_run(path, kind)}"


def not_its_run(path: Path, kind: str) -> str:
    """Why `path`, where the sweep's or duel's (`kind`) record has a run, is not that run
    to read: gone, a symbolic link (not followed), a file, a directory without its config."""
    if path.is_symlink():
        return (
            f"a symbolic link to {os.readlink(path)}, not followed: the {kind}'s runs are "
            "directories in it"
        )
    if not os.path.lexists(path):
        return f"{kind}.json lists it, but it is gone"
    if not path.is_dir():
        return "not a directory"
    return unstarted(path) or f"not a run (no {CONFIG_FILE} in it)"


def unread_runs(directory: Path, kind: str, run_dirs: Iterable[object]) -> list[str]:
    """Notes on the runs of the sweep or duel (`kind`) in `directory` that its record lists
    (`run_dirs`, as its JSON has them) but that are not there to be read (see
    `not_its_run`): what `show` prints of them is its JSON's, which each note says."""
    names = [Path(run_dir).name for run_dir in run_dirs if isinstance(run_dir, str)]
    paths = [directory / name for name in names if name not in ("", "..")]
    return [
        f"{path}: not read: {not_its_run(path, kind)}; shown as {kind}.json recorded it"
        for path in paths
        if not is_own_run(path)
    ]


def as_found(document: dict[str, Any], directory: Path, kind: str) -> dict[str, Any]:
    """The JSON `document` of the sweep or duel (`kind`) in `directory`, with its directory
    and its runs' where they are now: it records them as named from where it ran, which a
    script reading ``gymrun show --json`` from elsewhere, or after the folder moved, would
    not find.

    >>> document = {"duel_dir": "d", "runs": [{"run_dir": "d/a-seed=0"}, {"run_dir": None}]}
    >>> as_found(document, Path("../kept/d"), "duel")
    {'duel_dir': '../kept/d', 'runs': [{'run_dir': '../kept/d/a-seed=0'}, {'run_dir': None}]}
    """

    def located(runs: object) -> object:
        if not isinstance(runs, list):
            return runs
        return [
            run | {"run_dir": str(directory / Path(run["run_dir"]).name)}
            if isinstance(run, dict) and isinstance(run.get("run_dir"), str)
            else run
            for run in runs
        ]

    found = document | {f"{kind}_dir": str(directory)}
    if kind == "duel":
        return found | {"runs": located(document.get("runs"))}
    points = document.get("points")
    if isinstance(points, list):
        found["points"] = [
            point | {"runs": located(point.get("runs"))} if isinstance(point, dict) else point
            for point in points
        ]
    return found


def compared_runs(directories: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The runs `directories` name (see `recorded_runs`), each once (by the directory it
    resolves to), and notes on those left out: a run named twice, and a directory where a
    run never started (a glob such as ``recordings/NAME/*`` takes it in) or is starting
    now; and on a sweep or duel that has not ended (killed, or still going). A
    `RecordError` when nothing is left to compare."""
    runs: dict[Path, Path] = {}
    notes: list[str] = []
    for directory in directories:
        never = unstarted(directory)
        if never is not None:
            notes.append(f"{directory}: left out: {never}")
            continue
        found = find_run(directory)
        unended = _unended(found)
        if unended is not None:  # its runs are compared as far as they went
            notes.append(f"{found}: {unended}")
        found_runs, left_out = recorded_runs(found)
        notes += left_out
        for run in found_runs:
            key = run.resolve() if dataset_dir(run) is None else run
            if key in runs:
                same = "" if run == runs[key] else f" (as {runs[key]})"
                notes.append(f"{run}: named twice{same}; compared once")
            else:
                runs[key] = run
    if not runs:
        said = notes[0] if len(notes) == 1 else f"nothing to compare: {len(notes)} left out"
        raise RecordError(said)
    return list(runs.values()), notes


def _unended(directory: Path) -> str | None:
    """What became of the sweep or duel in `directory` whose record says it is running, in
    words (see `liveness.going`); None for a run, and for a sweep or duel that ended."""
    kind = kind_of(directory)
    if kind not in ("sweep", "duel"):
        return None
    read = read_sweep_json if kind == "sweep" else read_duel_json
    with contextlib.suppress(GymrunError, OSError):
        if read(directory)["status"] == "running":
            return going(directory, kind)[1]
    return None


def _subdirectories(directory: Path) -> list[Path]:
    """The directories in `directory`, not through links."""
    return [d for d in directory.iterdir() if d.is_dir() and not d.is_symlink()]


def _sweep_run_names(directory: Path) -> list[str]:
    """The sweep's runs in grid order, as sweep.json lists them."""
    points = read_sweep_json(directory)["points"]
    runs = [run for point in points for run in point["runs"]]
    return [Path(run["run_dir"]).name for run in runs if run["run_dir"]]


def _duel_run_names(directory: Path) -> list[str]:
    """The duel's runs, A's then B's, each by seed, as duel.json lists them."""
    runs = read_duel_json(directory)["runs"]
    ordered = sorted(runs, key=lambda run: (run["side"], run["seed"]))
    return [Path(run["run_dir"]).name for run in ordered if run["run_dir"]]


def is_recorded(directory: Path) -> bool:
    """Whether `directory` holds a run, a sweep or a duel (see
    `gymrun.records.layout.kind_of`)."""
    return kind_of(directory) is not None


def _time_order(run: Path) -> tuple[str, int]:
    """``2026-01-01T10-00-00Z-11`` after ``…Z-9``: the suffix counts runs in one second."""
    stamp, _, suffix = run.name.rpartition("Z-")
    if stamp and suffix.isdigit():
        return stamp + "Z", int(suffix)
    return run.name, 1


@dataclass
class GoOn:
    """Where a read of a run stopped, for a later read to go on from while the run records
    (a live board reads a recording run again at each of its new batches): the position in
    ``episodes.jsonl``, the config it was read with, and the summary of the episodes up to
    there, which the next read goes on adding to."""

    position: files.Position
    config_text: str
    builder: SummaryBuilder
    intervals_forgone: bool


def read_run(
    directory: Path,
    on_episodes: Callable[[Sequence[EpisodeResult]], None] | None = None,
    *,
    kept_summary: bool = False,
    interval_limit: int | None = None,
    on_start: Callable[[dict[str, Any], int], None] | None = None,
    go_on: GoOn | None = None,
) -> StoredRun:
    """Read a run directory, each file once: ``episodes.jsonl`` is parsed once, the summary
    recomputed from it, and `on_episodes` gets its episodes in batches, in order. A config
    that is not a run's is a `RecordError`; anything else damaged is a problem of the run,
    and what could be read before it is there.

    With `kept_summary`, the summary the run wrote when it ended is taken instead, when it
    is whole and counts the episodes on disk (its intervals were drawn then: no bootstrap
    here). With `interval_limit`, a summary made here keeps no more than that many rewards:
    past them, it has no intervals (`intervals_forgone`), and memory stays bounded.
    `on_start` gets the config once it is read and the episode the read starts from (0, or
    where `go_on` stopped), before any episode; again with 0 when the episodes file is no
    longer what `go_on` read (it was replaced), and is read from its start after all.
    `go_on`, from the `go_on` of an earlier read of the same run (its summary is added to,
    not copied), reads only the episodes recorded since; the run's `go_on` is where this
    read stopped, when it read every episode whole.

    Given ``recordings/NAME`` instead of one of its runs, the newest run in it is read
    (one holding a ``config.yaml`` is taken as the run it is, without looking further);
    given a Minari dataset, its episodes' returns and lengths (see `read_dataset_run`).
    """
    if not files.is_regular(directory, CONFIG_FILE):
        directory = find_run(directory)
        data = dataset_dir(directory)
        if data is not None:
            return read_dataset_run(data, on_episodes, named=directory)
    config_text, config = read_config(directory)
    if go_on is not None and go_on.config_text != config_text:
        go_on = None  # another run in its place
    boundary = config.get("reward_boundary")
    run = StoredRun(directory, config, "unknown", None, _NO_SUMMARY, config_text=config_text)
    stored = _summary_fields(directory, run.problems)
    if stored is not None:
        run.has_summary = True
        run.status = stored.get("status", "unknown")
        run.error, run.started_at, run.ended_at = (
            stored.get(key) for key in ("error", "started_at", "ended_at")
        )
    run.meta, run.meta_problem, run.meta_text = _meta(directory, run.problems)
    edited = config_edited(directory, config_text, run.meta)
    if edited is not None:
        run.problems.append(edited)
    kept = stored_summary(stored) if kept_summary and stored is not None else None
    try:
        lines, builder = _episodes(
            directory, run, kept, go_on, interval_limit, on_episodes, on_start
        )
    except files.Moved:
        lines, builder = _episodes(
            directory, run, kept, None, interval_limit, on_episodes, on_start
        )
    cut = (
        f"{directory / EPISODES_FILE}:{lines.count + 1}: its last line is cut off "
        f"({lines.unfinished:,} bytes without their end)"
    )
    in_summary = None if stored is None else stored.get("count")
    miscounted = _miscounted(
        directory, run, lines.count, in_summary, cut if lines.unfinished else None
    )
    if miscounted is not None:
        run.problems.append(miscounted)
    if kept is not None and kept.count == lines.count and not run.problems:
        run.summary, run.summary_kept = kept, True
    else:  # not the episodes the kept summary counts: summarised from them, as they are
        run.summary = builder.summary() if builder is not None else _summarised(directory, boundary)
        run.intervals_forgone = run.intervals_forgone or builder is None
    position = lines.position()
    if builder is not None and position is not None and not run.problems:
        run.go_on = GoOn(position, config_text, builder, run.intervals_forgone)
    run.became = became(run.status, run.has_summary, run.meta, directory)
    if lines.unfinished and not run.problems and run.became != "running":
        run.notes.append(f"{cut}: left out, not an episode")  # its process died mid-write
    if run.became == "running":
        run.notes.append("the run is still going")
    elif run.became == "killed":
        run.notes.append(
            "its process is gone: it was killed before it could end "
            f"(gymrun run --resume {directory} goes on from its last episode)"
        )
    elif run.status == "running":
        run.notes.append("the run is still going, or its process was killed")
    return run


def _episodes(
    directory: Path,
    run: StoredRun,
    kept: Summary | None,
    go_on: GoOn | None,
    interval_limit: int | None,
    on_episodes: Callable[[Sequence[EpisodeResult]], None] | None,
    on_start: Callable[[dict[str, Any], int], None] | None,
) -> tuple[EpisodeLines, SummaryBuilder | None]:
    """Read the run's episodes (from where `go_on` stopped, if given) into a summary (none
    when the `kept` one is to be taken), and to `on_episodes`; returns the lines read and
    the summary. `files.Moved` (before any episode) when `go_on`'s file was replaced."""
    boundary = run.config.get("reward_boundary")
    builder = None if kept is not None else SummaryBuilder(boundary)
    run.intervals_forgone = False
    if go_on is not None and builder is not None:
        builder, run.intervals_forgone = go_on.builder, go_on.intervals_forgone
    lines = EpisodeLines(directory, boundary, start=None if go_on is None else go_on.position)
    if on_start is not None:
        on_start(run.config, lines.count)
    try:
        for batch in lines:
            if builder is not None:
                builder.add_all(batch)
                if interval_limit is not None and lines.count > interval_limit:
                    builder.forgo_intervals()
                    run.intervals_forgone = True
            if on_episodes is not None:
                on_episodes(batch)
    except FileNotFoundError:
        pass  # stopped before its first episode
    except RecordError as exc:
        run.problems.append(str(exc))
    return lines, builder


def _miscounted(
    directory: Path, run: StoredRun, count: int, in_summary: object, cut: str | None
) -> str | None:
    """What is wrong with the `count` of episodes read from a run's ``episodes.jsonl``, or
    None. A run that ended counted its episodes on disk (`in_summary`): fewer there now were
    lost, more are not its own; and no run plays more than its config asks for. (A line
    found damaged is told as it is, and what follows it was not read.)"""
    path = directory / EPISODES_FILE
    ended = run.status != "running" and not run.problems
    if ended and type(in_summary) is int and count < in_summary:
        where = f"{cut}: " if cut else f"{path}: "
        said = f"where the run's {SUMMARY_FILE} counts {in_summary}: episodes were lost"
        return f"{where}{counted(count, 'episode')} {said}"
    bounds = [(in_summary, f"the run's {SUMMARY_FILE} counts")] if ended else []
    bounds.append((run.config.get("episodes"), f"its {CONFIG_FILE} asks for"))
    for most, said in bounds:
        if type(most) is int and count > most:
            return (
                f"{path}:{most + 1}: {counted(count, 'episode')} where {said} {most}: "
                "those past it are not the run's"
            )
    return None


_NO_SUMMARY = SummaryBuilder(None).summary()  # until the episodes are read


def read_dataset_run(
    data_dir: Path,
    on_episodes: Callable[[Sequence[EpisodeResult]], None] | None = None,
    named: Path | None = None,
) -> StoredRun:
    """A Minari dataset as a run: its episodes' returns (their rewards summed), lengths and
    seeds, the config of the gymrun run that wrote it (else one made from its metadata:
    its ID, its environment, its algorithm as the agent), and how it ended: completed. It
    is called as `named` (``minari:ID``, as given), else by its directory."""
    dataset = read_dataset(data_dir)
    config = dataset.config
    boundary = config.get("reward_boundary")
    given = named is not None and str(named).startswith(DATASET_PREFIX)
    run = StoredRun(
        named if given and named is not None else dataset.directory,
        config,
        "completed",
        None,
        SummaryBuilder(boundary).summary(),
        has_summary=True,
        meta_problem="a Minari dataset",
        became="completed",
    )
    written = dataset.metadata.get("gymrun")
    provenance = written.get("provenance") if isinstance(written, dict) else None
    if isinstance(provenance, dict) and provenance.get("agent"):  # the model it played
        run.meta = {"agent": provenance["agent"]}
    builder = SummaryBuilder(boundary)
    try:
        for batch in dataset_episodes(data_dir, boundary):
            builder.add_all(batch)
            if on_episodes is not None:
                on_episodes(batch)
    except RecordError as exc:
        run.problems.append(str(exc))
    run.summary = builder.summary()
    if not dataset.gymrun:
        run.notes.append(f"a Minari dataset not written by gymrun: {dataset.config['name']}")
    return run


# -- config.yaml --------------------------------------------------------------------------

# The keys of a run's config a reader relies on, and what each must be.
_NUMBER = (int, float)
_CONFIG_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str, type(None)),
    "episodes": (int,),
    "seed": (int,),
    "reward_boundary": (*_NUMBER, type(None)),
    "max_steps": (int, type(None)),
    "wrappers": (list,),
    "imports": (list,),
    "metrics": (list, type(None)),
}


def read_config(directory: Path) -> tuple[str, dict[str, Any]]:
    """A run's ``config.yaml``: its text, and the config, checked to be a run's (resolved:
    its seed is always there)."""
    path = directory / CONFIG_FILE
    try:
        text = files.read_text(directory, CONFIG_FILE, files.CONFIG_LIMIT)
    except FileNotFoundError:
        raise RecordError(f"{path}: missing; not a run's directory") from None
    try:
        config = parse_yaml(text, str(path)).data
    except ConfigError as exc:
        raise RecordError(f"{path}: cannot read the run's config: {exc.problems[0]}") from None
    problem = _config_problem(config)
    if problem is not None:
        raise RecordError(f"{path}: not a gymrun run's config ({problem})")
    return text, config


def _config_problem(config: Any, seeded: bool = True) -> str | None:
    """What makes `config` not a run's config as gymrun writes it (with its seed, unless
    not `seeded`: a duel's sides, whose runs each get one), or None."""
    if not isinstance(config, dict):
        return f"a {type(config).__name__}, not a mapping"
    odd = _odd_key(config)
    if odd is not None:  # gymrun writes names only: a key 0 or true is not its
        return f"the key {odd} is not a name"
    for key in ("env", "agent", "episodes", "seed")[: None if seeded else 3]:
        if key not in config:
            return f"no {key}"
    env, agent = config["env"], config["agent"]
    if not (isinstance(env, dict) and isinstance(env.get("id"), str)):
        return "env is not a mapping with an id"
    if not (isinstance(agent, dict) and isinstance(agent.get("name"), str)):
        return "agent is not a mapping with a name"
    for key, kinds in _CONFIG_FIELDS.items():
        if key in config and not _is(config[key], kinds):
            return f"{key} is {_kind(config[key])}"
    if config["episodes"] < 1:
        return "episodes is below 1"
    for number, wrapper in enumerate(config.get("wrappers") or []):
        if not (isinstance(wrapper, dict) and isinstance(wrapper.get("name"), str)):
            return f"wrappers.{number} is not a mapping with a name"
    return None


def _odd_key(value: Any, where: str = "") -> str | None:
    """Where the first key of a mapping in `value` that is not a string is, or None.

    >>> _odd_key({"a": [{"b": 1}, {0: 2}]}), _odd_key({"a": {"b": None}})
    ('a.1.0', None)
    """
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, inner in items:
        if isinstance(value, dict) and not isinstance(key, str):
            return f"{where}{key}"
        found = _odd_key(inner, f"{where}{key}.")
        if found is not None:
            return found
    return None


def _is(value: Any, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # a bool is an int to Python, never to a config
        return bool in kinds
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, kinds)


def _kind(value: Any) -> str:
    kind = {str: "a string", list: "a list", dict: "a mapping", bool: "a boolean"}
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value}, not a finite number"
    return kind.get(type(value), f"a {type(value).__name__}") + ", not what gymrun writes"


# -- summary.json and meta.json -----------------------------------------------------------

_SUMMARY_FIELDS: dict[str, tuple[type, ...]] = {
    "status": (str,),
    "error": (str, type(None)),
    "started_at": (str, type(None)),
    "ended_at": (str, type(None)),
    "count": (int,),
    "nonfinite_rewards": (int,),
    "reward_boundary": (*_NUMBER, type(None)),
    "reached": (int, type(None)),
    "terminated": (int,),
    "truncated": (int,),
    "window": (int,),
    "solved": (bool, type(None)),
}
# Statistics: a number, null, or NaN and infinities as gymrun writes them (strings).
_STATISTICS = ("mean_reward", "std_reward", "min_reward", "max_reward", "mean_steps")
_NONFINITE = ("nan", "inf", "-inf")


def _summary_fields(directory: Path, problems: list[str]) -> dict[str, Any] | None:
    """summary.json's fields, checked; None (and a problem, unless it is missing) when it
    cannot be read."""
    path = directory / SUMMARY_FILE
    try:
        text = files.read_text(directory, SUMMARY_FILE, files.JSON_LIMIT)
    except FileNotFoundError:
        return None
    except RecordError as exc:  # not a regular file, too large: said as it is
        problems.append(str(exc))
        return None
    try:
        stored = json.loads(text)
    except (ValueError, RecursionError) as exc:
        problems.append(f"{path}: not a summary (not JSON: {_reason(exc)})")
        return None
    problem = _summary_problem(stored)
    if problem is not None:
        problems.append(f"{path}: not a summary ({problem})")
        return None
    return stored  # type: ignore[no-any-return]


def _summarised(directory: Path, boundary: float | None) -> Summary:
    """The summary, without intervals, of the episodes that can be read."""
    builder = SummaryBuilder(boundary)
    builder.forgo_intervals()
    with contextlib.suppress(FileNotFoundError, RecordError):
        for batch in EpisodeLines(directory, boundary):
            builder.add_all(batch)
    return builder.summary()


def stored_summary(fields: dict[str, Any]) -> Summary | None:
    """The summary in ``summary.json`` (its fields, checked by `_summary_fields`), when the
    run wrote it as it ended and it is whole: None for a run still marked running, one with
    episodes but no interval (written before summaries had them), or one that is not what
    gymrun writes."""
    if fields.get("status") == "running":
        return None
    try:
        summary = Summary.from_json(fields)
    except (TypeError, KeyError, ValueError):
        return None
    if summary.count > summary.nonfinite_rewards and summary.mean_ci95 is None:
        return None
    return summary


def _summary_problem(stored: Any) -> str | None:
    if not isinstance(stored, dict):
        return f"a {type(stored).__name__}, not a mapping"
    for key, kinds in _SUMMARY_FIELDS.items():
        if key in stored and not _is(stored[key], kinds):
            return f"{key} is {_kind(stored[key])}"
    if stored.get("status") not in STATUSES:
        return _status_problem(stored.get("status"))
    for key in _STATISTICS:
        value = stored.get(key)
        if not (value is None or _is(value, _NUMBER) or value in _NONFINITE):
            return f"{key} is {_kind(value)}"
    return _metrics_problem(stored.get("metrics", {}))


def _status_problem(status: Any) -> str:
    """What is wrong with a record's status: gymrun writes only `STATUSES`."""
    return f"status {status!r} is not one of {', '.join(STATUSES)}"


def _metrics_problem(metrics: Any) -> str | None:
    """What is wrong with a summary's ``metrics``: a mapping of each metric's name to its
    mean, interval and counts."""
    if not isinstance(metrics, dict):
        return f"metrics is {_kind(metrics)}"
    for name, numbers in metrics.items():
        if not isinstance(numbers, dict):
            return f"metrics.{name} is {_kind(numbers)}"
        for key in ("mean", "low", "high"):
            if not _is(numbers.get(key), (*_NUMBER, type(None))):
                return f"metrics.{name}.{key} is {_kind(numbers.get(key))}"
        for key in ("episodes", "missing"):
            if key in numbers and not _is(numbers[key], (int,)):
                return f"metrics.{name}.{key} is {_kind(numbers[key])}"
    return None


_META_FIELDS: dict[str, tuple[type, ...]] = {
    "command": (list,),
    "cwd": (str,),
    "pid": (int,),
    "host": (str,),
    "git": (dict, type(None)),
    "agent": (dict, type(None)),
    "code": (dict,),
    "resumed": (list,),
    "config_sha256": (str,),
    PENDING_CONFIG: (str,),
}


def _meta(
    directory: Path, problems: list[str]
) -> tuple[dict[str, Any] | None, str | None, str | None]:
    """``meta.json``, checked, and why there is none when it is missing (not damage: a run
    stopped as it started has none); a damaged one is a problem of the run. And its text."""
    path = directory / META_FILE
    try:
        text, meta = files.read_json_text(directory, META_FILE)
    except FileNotFoundError:
        # a run writes it before its first summary.json: with one, it was removed since
        started = os.path.lexists(directory / SUMMARY_FILE)
        why = (
            "it was removed since the run wrote it" if started else "the run stopped as it started"
        )
        return None, f"no {META_FILE} ({why})", None
    except RecordError as exc:
        problems.append(str(exc))
        return None, str(exc), None
    problem = _meta_problem(meta)
    if problem is not None:
        problems.append(f"{path}: not gymrun's metadata ({problem})")
        return None, problems[-1], None
    return meta, None, text


def _meta_problem(meta: Any) -> str | None:
    if not isinstance(meta, dict):
        return f"a {type(meta).__name__}, not a mapping"
    for key, kinds in _META_FIELDS.items():
        if key in meta and not _is(meta[key], kinds):
            return f"{key} is {_kind(meta[key])}"
    if not all(isinstance(part, str) for part in meta.get("command", [])):
        return "command is not a list of strings"
    code = meta.get("code", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in code.items()):
        return "code is not a mapping of module names to hashes"
    git = meta.get("git")
    if isinstance(git, dict) and not _is(git.get("commit"), (str, type(None))):
        return "git.commit is not a string"
    return None


def config_edited(directory: Path, text: str, meta: dict[str, Any] | None) -> str | None:
    """What is wrong with a run's ``config.yaml`` (its `text`) that is not the one the run
    wrote (`meta`, its ``meta.json``, keeps the hash of that one, and while a resumed run's
    config is replaced by one asking for more episodes, the new one's too), or None. Its
    episodes were played with the other: read with this one, they would be told as another
    run's."""
    recorded = None if meta is None else meta.get("config_sha256")
    if meta is None or recorded is None:
        return None
    if config_sha256(text) in (recorded, meta.get(PENDING_CONFIG)):
        return None
    return (
        f"{directory / CONFIG_FILE}: not the config the run ran (it was edited since: "
        f"{META_FILE} keeps the hash of that one, {recorded[:12]}..., and this one hashes "
        f"to {config_sha256(text)[:12]}...)"
    )


def read_meta(directory: Path) -> dict[str, Any]:
    """A run's ``meta.json``, checked: a `RecordError` when it is missing or damaged."""
    problems: list[str] = []
    meta, why, _ = _meta(directory, problems)
    if meta is None:
        raise RecordError(problems[0] if problems else f"{directory}: {why}")
    return meta


def config_settled(meta: dict[str, Any], text: str) -> dict[str, Any]:
    """A run's `meta` as its writer would have left it had its last replacement of
    ``config.yaml`` not been cut short: the hash of `text`, the config found (which
    `config_edited` accepts), and nothing pending.

    >>> settled = config_settled({"config_sha256": "old", PENDING_CONFIG: "new"}, "seed: 1\\n")
    >>> settled == {"config_sha256": config_sha256("seed: 1\\n")}
    True
    """
    if PENDING_CONFIG not in meta:
        return meta
    settled = {key: value for key, value in meta.items() if key != PENDING_CONFIG}
    return settled | {"config_sha256": config_sha256(text)}


def read_summary_fields(directory: Path) -> dict[str, Any]:
    """A run's ``summary.json``, checked: a `RecordError` when it is missing or damaged."""
    problems: list[str] = []
    stored = _summary_fields(directory, problems)
    if stored is None:
        raise RecordError(problems[0] if problems else f"{directory / SUMMARY_FILE}: missing")
    return stored


def videos(directory: Path) -> list[str]:
    """The videos a run recorded (``episode-000000.mp4``, ...), those that are regular files
    in a ``videos/`` that is not a link."""
    folder = directory / VIDEO_DIR
    if folder.is_symlink() or not folder.is_dir():
        return []
    return sorted(
        entry.name
        for entry in os.scandir(folder)
        if entry.name.endswith(".mp4") and files.is_regular(directory, VIDEO_DIR, entry.name)
    )


# -- episodes.jsonl -----------------------------------------------------------------------


class EpisodeLines:
    """The episodes of a run's ``episodes.jsonl``, in batches of columns, each checked to be
    an episode gymrun writes: its fields of the right kinds, numbered from 0 in order (and,
    with `seeds`, each with the environment seed the run derives for its index). A line the
    process never finished (it died mid-write) is not an episode: `whole` is the bytes of
    the lines read, `count` the episodes. The episodes before a damaged line are given,
    then a `RecordError` names it. From `start` (a `position` of an earlier read), only the
    episodes written since are read, numbered on from there (see `files.Lines`)."""

    def __init__(
        self,
        directory: Path,
        reward_boundary: float | None,
        seeds: EpisodeSeeds | None = None,
        start: files.Position | None = None,
    ) -> None:
        self.path = directory / EPISODES_FILE
        self.reward_boundary = reward_boundary
        self.seeds = seeds
        self._lines = files.Lines(directory, EPISODES_FILE, start=start)
        self.count = 0 if start is None else start.count  # a line an episode

    @property
    def whole(self) -> int:
        return self._lines.whole

    @property
    def unfinished(self) -> int:
        """The bytes of a last line never finished (its process died mid-write), once every
        episode was read: not an episode, and left out."""
        return self._lines.unfinished

    def position(self) -> files.Position | None:
        """Where the episodes read so far end, for a later read to go on from (see
        `files.Lines`)."""
        return self._lines.position()

    def __iter__(self) -> Iterator[EpisodeBatch]:
        for chunk in self._lines:
            batch, problem = _parse(chunk, self.path, self.count + 1, self.reward_boundary)
            batch, order_problem = self._in_order(batch)
            problem = order_problem or problem
            if len(batch):
                self.count += len(batch)
                yield batch
            if problem is not None:
                raise RecordError(problem)

    def _in_order(self, batch: EpisodeBatch) -> tuple[EpisodeBatch, str | None]:
        """`batch` up to its first episode that is not the one due at its place."""
        due = np.arange(self.count, self.count + len(batch))
        wrong = batch.episode != due
        what = "episode {found} where episode {due} was due"
        if self.seeds is not None and not wrong.any():
            expected = self.seeds.environment_seeds(self.count, len(batch))
            wrong = batch.seed != expected if batch.seed is not None else np.ones_like(wrong)
            what = "episode {due} with seed {seed}, not the run's seed {expected} for it"
        if not wrong.any():
            return batch, None
        first = int(np.argmax(wrong))
        seed = None if batch.seed is None else int(batch.seed[first])
        details = {"found": int(batch.episode[first]), "due": int(due[first]), "seed": seed}
        if self.seeds is not None:
            details["expected"] = int(self.seeds.environment_seeds(int(due[first]), 1)[0])
        message = what.format(**details)
        line = self.count + first + 1
        return batch.slice(0, first), f"{self.path}:{line}: {message}; not this run's episode"


def read_episodes(directory: Path, reward_boundary: float | None) -> Iterator[EpisodeBatch]:
    """The episodes of a run directory's ``episodes.jsonl`` (see `EpisodeLines`)."""
    yield from EpisodeLines(directory, reward_boundary)


def _parse(
    chunk: list[bytes], path: Path, first_line: int, reward_boundary: float | None
) -> tuple[EpisodeBatch, str | None]:
    """The lines of `chunk` as columns: all at once, or (when that fails) line by line up
    to the first that is not an episode."""
    try:
        return _columns(json.loads(b"[" + b",".join(chunk) + b"]"), reward_boundary), None
    except (ValueError, TypeError, KeyError, RecursionError, OverflowError):
        pass
    records: list[Any] = []
    for number, line in enumerate(chunk, first_line):
        try:
            record = json.loads(line)
            _columns([record], reward_boundary)
        except (ValueError, TypeError, KeyError, RecursionError, OverflowError) as exc:
            # gymrun never writes one (a line cut off is its start): an edit left it
            why = "an empty line" if not line.strip() else _reason(exc)
            problem = f"{path}:{number}: not an episode record ({why})"
            return _columns(records, reward_boundary), problem
        records.append(record)
    raise AssertionError("unreachable")  # the whole chunk parsed after all


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not text: invalid UTF-8 at byte {exc.start}"
    if isinstance(exc, RecursionError):
        return "nested too deep"
    return str(exc).split("\n")[0][:200]


def _columns(records: list[Any], reward_boundary: float | None) -> EpisodeBatch:
    if not all(isinstance(r, dict) for r in records):
        raise TypeError("a line is not a JSON object")
    seeds = [r["seed"] for r in records]
    shaped = [r.get("shaped_reward") for r in records]
    batch = EpisodeBatch(
        _integers([r["episode"] for r in records], "episode"),
        _rewards([r["reward"] for r in records], "reward"),
        _integers([r["steps"] for r in records], "steps"),
        _booleans([r["terminated"] for r in records], "terminated"),
        _booleans([r["truncated"] for r in records], "truncated"),
        reward_boundary,
        None if None in seeds else _integers(seeds, "seed"),
        shaped_reward=None if not records or None in shaped else _rewards(shaped, "shaped_reward"),
        metrics=_metrics(records),
    )
    return batch


# The fields of an episode's line; any other is a metric (see `gymrun.core.metrics`).
_LINE_FIELDS = frozenset(EPISODE_FIELDS)
_ABSENT = object()


def _metrics(records: list[dict[str, Any]]) -> dict[str, MetricColumn]:
    """The metrics of the lines: each key beside an episode's own fields, whose values are
    booleans, finite numbers or null (a line without the key has no value of it: the
    metric is recorded only where the env reported it)."""
    base = len(_LINE_FIELDS) - 1  # without shaped_reward
    names = dict.fromkeys(
        key for r in records if len(r) > base for key in r if key not in _LINE_FIELDS
    )
    columns = {}
    for name in names:
        found = [r.get(name, _ABSENT) for r in records]
        values = np.full(len(found), math.nan)
        boolean = True
        for row, value in enumerate(found):
            if value is None or value is _ABSENT:
                continue
            if type(value) is bool:
                values[row] = value
            elif type(value) in (int, float) and math.isfinite(value):
                values[row] = value
                boolean = False
            else:
                raise TypeError(f"metric {name} {value!r} is not a number, true, false or null")
        columns[name] = MetricColumn(values, boolean, any(v is _ABSENT for v in found))
    return columns


def _integers(values: list[Any], name: str) -> np.ndarray:
    if not all(type(v) is int for v in values):
        bad = next(v for v in values if type(v) is not int)
        raise TypeError(f"{name} {bad!r} is not a whole number")
    column = np.array(values, dtype=np.int64)  # OverflowError beyond what gymrun writes
    if len(column) and column.min() < 0:
        raise ValueError(f"{name} {int(column.min())} is below 0")
    return column


def _booleans(values: list[Any], name: str) -> np.ndarray:
    if not all(type(v) is bool for v in values):
        bad = next(v for v in values if type(v) is not bool)
        raise TypeError(f"{name} {bad!r} is not true or false")
    return np.array(values, dtype=bool)


def _rewards(values: list[Any], name: str) -> np.ndarray:
    """Numbers, with NaN and infinities as gymrun writes them (``"nan"``, ``"inf"``)."""
    if not all(type(v) in (int, float) or v in _NONFINITE for v in values):
        bad = next(v for v in values if not (type(v) in (int, float) or v in _NONFINITE))
        raise TypeError(f"{name} {bad!r} is not a number")
    return np.array([float(v) for v in values], dtype=np.float64)


# -- sweep.json ---------------------------------------------------------------------------


def read_sweep_json(directory: Path) -> dict[str, Any]:
    """A sweep's ``sweep.json``, checked to hold what its readers use: the sweep's name,
    keys and seeds, and each point's values, numbers and runs."""
    path = directory / SWEEP_FILE
    document = files.read_json(directory, SWEEP_FILE, SWEEP_LIMIT)
    problem = _sweep_problem(document)
    if problem is not None:
        raise RecordError(f"{path}: not a gymrun sweep ({problem})")
    return document  # type: ignore[no-any-return]


def _sweep_problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return f"a {type(document).__name__}, not a mapping"
    sweep = document.get("sweep")
    if not isinstance(sweep, dict):
        return "no sweep"
    if not isinstance(sweep.get("name"), str):
        return "sweep.name is not a string"
    if not (isinstance(sweep.get("keys"), list) and all(isinstance(k, str) for k in sweep["keys"])):
        return "sweep.keys is not a list of strings"
    if not isinstance(sweep.get("seeds"), list):
        return "sweep.seeds is not a list"
    if document.get("status") not in STATUSES:
        return _status_problem(document.get("status"))
    code = document.get("code", {})
    if not (isinstance(code, dict) and all(isinstance(v, str) for v in code.values())):
        return "code is not a mapping of module names to hashes"
    if not isinstance(document.get("config_sha256", ""), str):
        return "config_sha256 is not a string"
    points = document.get("points")
    if not isinstance(points, list):
        return "points is not a list"
    for number, point in enumerate(points):
        problem = _point_problem(point)
        if problem is not None:
            return f"points.{number}{problem}"
    return None


_POINT_FIELDS: dict[str, tuple[type, ...]] = {
    "values": (dict,),
    "episodes": (int,),
    "status": (str,),
    "errors": (list,),
    "runs": (list,),
    "solved": (bool, type(None)),
}


def _point_problem(point: Any) -> str | None:
    if not isinstance(point, dict):
        return " is not a mapping"
    for key, kinds in _POINT_FIELDS.items():
        if key not in point:
            return f" has no {key}"
        if not _is(point[key], kinds):
            return f".{key} is {_kind(point[key])}"
    if point["status"] not in STATUSES:
        return f".{_status_problem(point['status'])}"
    if not _is(point.get("verdict"), (str, type(None))):  # both added later: may be missing
        return f".verdict is {_kind(point['verdict'])}"
    if not _is(point.get("solved_seeds"), (int, type(None))):
        return f".solved_seeds is {_kind(point['solved_seeds'])}"
    for key in ("mean_reward", "mean_steps", "reached_share"):
        value = point.get(key)
        if not (value is None or _is(value, _NUMBER) or value in _NONFINITE):
            return f".{key} is {_kind(value)}"
    ci95 = point.get("ci95")
    if not (isinstance(ci95, list) and len(ci95) == 2):
        return ".ci95 is not a pair"
    metrics = _metrics_problem(point.get("metrics", {}))  # added later: may be missing
    if metrics is not None:
        return f".{metrics}"
    for number, run in enumerate(point["runs"]):
        if not (isinstance(run, dict) and isinstance(run.get("run_dir"), str | type(None))):
            return f".runs.{number} is not a run"
    return None


# -- duel.json ----------------------------------------------------------------------------


def read_duel_json(directory: Path) -> dict[str, Any]:
    """A duel's ``duel.json``, checked to hold what its readers use: the duel's name, its
    two configs and settings, its status and decision, each round and each run."""
    path = directory / DUEL_FILE
    document = files.read_json(directory, DUEL_FILE, DUEL_LIMIT)
    problem = _duel_problem(document)
    if problem is not None:
        raise RecordError(f"{path}: not a gymrun duel ({problem})")
    return document  # type: ignore[no-any-return]


_DUEL_FIELDS: dict[str, tuple[type, ...]] = {
    "decision": (str, type(None)),
    "seeds": (int,),
    "alpha": _NUMBER,
    "status": (str,),
    "duel": (dict,),
    "test": (dict,),
    "rounds": (list,),
    "runs": (list,),
    "config_sha256": (str,),
    "error": (str, type(None)),
}
_SETTINGS_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "a": (dict,),
    "b": (dict,),
    "max_seeds": (int,),
    "round": (int,),
    "score": (str,),
    "spending": (str,),
    "first_seed": (int,),
}
_ROUND_FIELDS: dict[str, tuple[type, ...]] = {
    "seeds": (int,),
    "mean_a": _NUMBER,
    "mean_b": _NUMBER,
    "boundary": (*_NUMBER, type(None)),
    "spent": _NUMBER,
    "decision": (str, type(None)),
}
_DUEL_RUN_FIELDS: dict[str, tuple[type, ...]] = {
    "side": (str,),
    "seed": (int,),
    "score": (*_NUMBER, type(None)),
    "status": (str,),
    "run_dir": (str, type(None)),
    "error": (str, type(None)),
}


def _duel_problem(document: Any) -> str | None:
    if not isinstance(document, dict):
        return f"a {type(document).__name__}, not a mapping"
    problem = _fields_problem(document, _DUEL_FIELDS, "")
    problem = problem or _fields_problem(document["duel"], _SETTINGS_FIELDS, "duel.")
    if problem is not None:
        return problem
    if document["status"] not in STATUSES:
        return _status_problem(document["status"])
    if document["decision"] not in ("A", "B", "none", None):
        return f"decision {document['decision']!r} is not A, B or none"
    for side in ("a", "b"):
        problem = _config_problem(document["duel"][side], seeded=False)
        if problem is not None:
            return f"duel.{side} is not a run's config ({problem})"
    for name, rows, fields in (
        ("rounds", document["rounds"], _ROUND_FIELDS),
        ("runs", document["runs"], _DUEL_RUN_FIELDS),
    ):
        for number, row in enumerate(rows):
            if not isinstance(row, dict):
                return f"{name}.{number} is not a mapping"
            problem = _fields_problem(row, fields, f"{name}.{number}.")
            if problem is not None:
                return problem
    for number, run in enumerate(document["runs"]):
        if run["side"] not in ("A", "B"):
            return f"runs.{number}.side {run['side']!r} is not A or B"
        if run["status"] not in STATUSES:
            return f"runs.{number}.{_status_problem(run['status'])}"
    code = document.get("code", {})
    if not (isinstance(code, dict) and all(isinstance(v, str) for v in code.values())):
        return "code is not a mapping of module names to hashes"
    return None


def _fields_problem(
    data: dict[str, Any], fields: dict[str, tuple[type, ...]], prefix: str
) -> str | None:
    """The first of `fields` that `data` lacks, or holds a value of another kind."""
    for key, kinds in fields.items():
        if key not in data:
            return f"no {prefix}{key}"
        if not _is(data[key], kinds):
            return f"{prefix}{key} is {_kind(data[key])}"
    return None
