"""Reading a run directory back: its config, status and a summary recomputed from the
episodes on disk (right also for a run that was killed before it could write its own)."""

from __future__ import annotations

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
from gymrun.records.layout import CONFIG_FILE, EPISODES_FILE, SUMMARY_FILE

CHUNK = 65536  # lines parsed at once


@dataclass
class StoredRun:
    """A run directory read back from disk."""

    directory: Path
    config: dict[str, Any]
    status: str
    error: str | None
    summary: Summary
    notes: list[str] = field(default_factory=list)


def find_run(directory: Path) -> Path:
    """`directory` if it is a run directory; for ``recordings/NAME``, its newest run."""
    if not directory.is_dir():
        raise GymrunError(f"{directory}: no such directory")
    if (directory / CONFIG_FILE).is_file():
        return directory
    runs = sorted(d for d in directory.iterdir() if (d / CONFIG_FILE).is_file())
    if not runs:
        raise GymrunError(f"{directory}: not a gymrun run directory (no {CONFIG_FILE})")
    return runs[-1]


def read_run(
    directory: Path, on_episodes: Callable[[Sequence[EpisodeResult]], None] | None = None
) -> StoredRun:
    """Read a run directory, parsing ``episodes.jsonl`` once: the summary is recomputed from
    it, and `on_episodes` gets its episodes in batches, in order.

    Given ``recordings/NAME`` instead of one of its runs, the newest run in it is read.
    """
    directory = find_run(directory)
    try:
        config = yaml.safe_load((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        stored = json.loads((directory / SUMMARY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        stored = {"status": "unknown", "error": None}
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise GymrunError(f"{directory}: cannot read the run: {exc}") from exc
    boundary = config.get("reward_boundary")
    builder = SummaryBuilder(boundary)
    path = directory / EPISODES_FILE
    if path.is_file():
        for batch in read_episodes(path, boundary):
            builder.add_all(batch)
            if on_episodes is not None:
                on_episodes(batch)
    run = StoredRun(
        directory, config, stored.get("status", "unknown"), stored.get("error"), builder.summary()
    )
    if run.status == "running":
        run.notes.append("the run is still going, or its process was killed")
    return run


def read_episodes(path: Path, reward_boundary: float | None) -> Iterator[EpisodeBatch]:
    """The episodes of an ``episodes.jsonl``, in batches of columns; an unfinished last line
    (the process died mid-write) is skipped."""
    with path.open(encoding="utf-8") as lines:
        while chunk := list(itertools.islice(lines, CHUNK)):
            if not chunk[-1].endswith("\n"):
                chunk.pop()  # the line was never complete
            if chunk:
                yield _columns(_parse(chunk, path), reward_boundary)


def _parse(chunk: list[str], path: Path) -> list[dict[str, Any]]:
    try:
        records: list[dict[str, Any]] = json.loads("[" + ",".join(chunk) + "]")
        return records
    except ValueError:
        pass
    for number, line in enumerate(chunk, 1):  # find the damaged line to name it
        try:
            json.loads(line)
        except ValueError as exc:
            raise GymrunError(f"{path}: line {number}: not an episode record ({exc})") from None
    raise AssertionError("unreachable")


def _columns(records: list[dict[str, Any]], reward_boundary: float | None) -> EpisodeBatch:
    seeds = [r["seed"] for r in records]
    return EpisodeBatch(
        np.array([r["episode"] for r in records], dtype=np.int64),
        np.array([float(r["reward"]) for r in records]),
        np.array([r["steps"] for r in records], dtype=np.int64),
        np.array([r["terminated"] for r in records], dtype=bool),
        np.array([r["truncated"] for r in records], dtype=bool),
        reward_boundary,
        None if None in seeds else np.array(seeds, dtype=np.int64),
    )
