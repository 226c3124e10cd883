"""Reading a run directory back: its config, status and a summary recomputed from the
episodes on disk (right also for a run that was killed before it could write its own)."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.summary import Summary, SummaryBuilder
from gymrun.errors import GymrunError
from gymrun.records.layout import CONFIG_FILE, EPISODES_FILE, SUMMARY_FILE, SWEEP_FILE

CHUNK = 65536  # lines parsed at once


@dataclass
class StoredRun:
    """A run directory read back from disk. `problems` names what in it is damaged (the
    file, the line); what could be read is all there is."""

    directory: Path
    config: dict[str, Any]
    status: str
    error: str | None
    summary: Summary
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def find_run(directory: Path) -> Path:
    """`directory` if it is a run or a sweep directory; for ``recordings/NAME``, its newest
    run or sweep."""
    if not directory.is_dir():
        raise GymrunError(f"{directory}: no such directory")
    if is_recorded(directory):
        return directory
    runs = [d for d in directory.iterdir() if is_recorded(d)]
    if not runs:
        raise GymrunError(
            f"{directory}: not a gymrun run or sweep directory (no {CONFIG_FILE} or {SWEEP_FILE})"
        )
    return max(runs, key=_time_order)


def recorded_runs(directory: Path) -> list[Path]:
    """The run `directory` names (see `find_run`), or every run of the sweep it names, in
    the order of their directories' names."""
    found = find_run(directory)
    if (found / CONFIG_FILE).is_file():
        return [found]
    runs = [d for d in found.iterdir() if (d / CONFIG_FILE).is_file()]
    if not runs:
        raise GymrunError(f"{found}: a sweep with no runs recorded yet")
    order = {name: i for i, name in enumerate(_sweep_run_names(found / SWEEP_FILE))}
    return sorted(runs, key=lambda run: (order.get(run.name, len(order)), run.name))


def _sweep_run_names(path: Path) -> list[str]:
    """The sweep's runs in grid order (point by point, seed by seed), as sweep.json lists
    them; none when it is missing or damaged (the runs are then taken in name order)."""
    try:
        points = json.loads(path.read_text(encoding="utf-8"))["points"]
        return [Path(run["run_dir"]).name for point in points for run in point["runs"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def is_recorded(directory: Path) -> bool:
    """Whether `directory` holds a run (its config) or a sweep (sweep.json, or runs of one
    that was stopped before it could write it)."""
    if (directory / CONFIG_FILE).is_file() or (directory / SWEEP_FILE).is_file():
        return True
    return (directory / f"{SWEEP_FILE}.reserved").is_file()


def _time_order(run: Path) -> tuple[str, int]:
    """``2026-01-01T10-00-00Z-11`` after ``…Z-9``: the suffix counts runs in one second."""
    stamp, _, suffix = run.name.rpartition("Z-")
    if stamp and suffix.isdigit():
        return stamp + "Z", int(suffix)
    return run.name, 1


def read_run(
    directory: Path, on_episodes: Callable[[Sequence[EpisodeResult]], None] | None = None
) -> StoredRun:
    """Read a run directory, parsing ``episodes.jsonl`` once: the summary is recomputed from
    it, and `on_episodes` gets its episodes in batches, in order. A damaged config is a
    `GymrunError`; a damaged summary or episode line is a problem of the run, and the
    episodes before it are read.

    Given ``recordings/NAME`` instead of one of its runs, the newest run in it is read.
    """
    directory = find_run(directory)
    config = _config(directory / CONFIG_FILE)
    problems: list[str] = []
    stored = _stored_summary(directory / SUMMARY_FILE, problems)
    boundary = config.get("reward_boundary")
    boundary = (
        boundary if isinstance(boundary, int | float) and not isinstance(boundary, bool) else None
    )
    builder = SummaryBuilder(boundary)
    path = directory / EPISODES_FILE
    if path.exists() and not path.is_file():
        problems.append(f"{path}: not a file")
    elif path.is_file():
        try:
            for batch in read_episodes(path, boundary):
                builder.add_all(batch)
                if on_episodes is not None:
                    on_episodes(batch)
        except DamagedRecord as exc:
            problems.append(str(exc))
    status = stored.get("status")
    run = StoredRun(
        directory,
        config,
        status if isinstance(status, str) else "unknown",
        stored.get("error") if isinstance(stored.get("error"), str) else None,
        builder.summary(),
        problems=problems,
    )
    if run.status == "running":
        run.notes.append("the run is still going, or its process was killed")
    return run


def planned_episodes(directory: Path) -> int:
    """The episodes a run's config asked for (1 when its config says nothing readable)."""
    with contextlib.suppress(GymrunError):
        episodes = _config(directory / CONFIG_FILE).get("episodes")
        if isinstance(episodes, int) and episodes > 0:
            return episodes
    return 1


def _config(path: Path) -> dict[str, Any]:
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise GymrunError(f"{path}: cannot read the run's config: {_reason(exc)}") from None
    env = config.get("env") if isinstance(config, dict) else None
    agent = config.get("agent") if isinstance(config, dict) else None
    if not (
        isinstance(config, dict)
        and isinstance(env, dict)
        and isinstance(env.get("id"), str)
        and isinstance(agent, dict)
        and isinstance(agent.get("name"), str)
        and isinstance(config.get("episodes"), int)
        and "seed" in config  # a run's config is resolved: its seed is always there
    ):
        raise GymrunError(
            f"{path}: not a gymrun run's config (a mapping with env, agent, episodes and seed)"
        )
    return config


def _stored_summary(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"status": "unknown"}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.append(f"{path}: not a summary ({_reason(exc)})")
        return {"status": "unknown"}
    if not isinstance(stored, dict):
        problems.append(f"{path}: not a summary (a {type(stored).__name__}, not a mapping)")
        return {"status": "unknown"}
    return stored


class DamagedRecord(GymrunError):
    """A line of ``episodes.jsonl`` that is not an episode: the file and line are named."""


def read_episodes(path: Path, reward_boundary: float | None) -> Iterator[EpisodeBatch]:
    """The episodes of an ``episodes.jsonl``, in batches of columns; an unfinished last line
    (the process died mid-write) is skipped. The episodes before a damaged line are given,
    then `DamagedRecord` names it."""
    with path.open("rb") as lines:
        first_line = 1
        while chunk := list(itertools.islice(lines, CHUNK)):
            if not chunk[-1].endswith(b"\n"):
                chunk.pop()  # the line was never complete
            if chunk:
                batch, problem = _parse(chunk, path, first_line, reward_boundary)
                if len(batch):
                    yield batch
                if problem is not None:
                    raise DamagedRecord(problem)
            first_line += len(chunk)


def _parse(
    chunk: list[bytes], path: Path, first_line: int, reward_boundary: float | None
) -> tuple[EpisodeBatch, str | None]:
    """The lines of `chunk` as columns: all at once, or (when that fails) line by line up
    to the first that is not an episode."""
    try:
        return _columns(json.loads(b"[" + b",".join(chunk) + b"]"), reward_boundary), None
    except (ValueError, TypeError, KeyError):
        pass
    records: list[Any] = []
    for number, line in enumerate(chunk, first_line):
        try:
            record = json.loads(line)
            _columns([record], reward_boundary)
        except (ValueError, TypeError, KeyError) as exc:
            problem = f"{path}:{number}: not an episode record ({_reason(exc)})"
            return _columns(records, reward_boundary), problem
        records.append(record)
    raise AssertionError("unreachable")  # the whole chunk parsed after all


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not text: invalid UTF-8 at byte {exc.start}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc).split("\n")[0][:200]


def _columns(records: list[Any], reward_boundary: float | None) -> EpisodeBatch:
    if not all(isinstance(r, dict) for r in records):
        raise TypeError("a line is not a JSON object")
    seeds = [r["seed"] for r in records]
    shaped = [r.get("shaped_reward") for r in records]
    shaped_reward = None if not records or None in shaped else np.array(list(map(float, shaped)))
    return EpisodeBatch(
        np.array([r["episode"] for r in records], dtype=np.int64),
        np.array([float(r["reward"]) for r in records]),
        np.array([r["steps"] for r in records], dtype=np.int64),
        np.array([r["terminated"] for r in records], dtype=bool),
        np.array([r["truncated"] for r in records], dtype=bool),
        reward_boundary,
        None if None in seeds else np.array(seeds, dtype=np.int64),
        shaped_reward=shaped_reward,
    )
