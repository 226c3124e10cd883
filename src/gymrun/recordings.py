"""Run directories: the complete, reproducible record each run leaves behind.

A run directory holds ``config.yaml`` (the resolved config: running it again repeats the run),
``episodes.jsonl`` (one line per finished episode, flushed as it finishes), ``summary.json``
(with ``status``: running, completed, interrupted or failed), ``meta.json`` (versions, platform,
command line, git commit), ``reward.png`` when matplotlib is installed, and ``videos/``.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from gymrun.errors import GymrunError
from gymrun.rollout import EpisodeResult
from gymrun.summary import Summary, SummaryBuilder

DEFAULT_ROOT = Path("recordings")
CONFIG_FILE = "config.yaml"
EPISODES_FILE = "episodes.jsonl"
SUMMARY_FILE = "summary.json"
META_FILE = "meta.json"
PLOT_FILE = "reward.png"
VIDEO_DIR = "videos"
RUN_FILES = (CONFIG_FILE, EPISODES_FILE, SUMMARY_FILE, META_FILE, PLOT_FILE)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_run_dir(name: str, root: Path = DEFAULT_ROOT) -> Path:
    """Create and return a fresh ``root/name/<UTC timestamp>`` directory.

    Never reuses a directory: a second run in the same second gets a ``-2`` suffix, and the
    directory is claimed with an atomic ``mkdir``, so concurrent runs cannot collide either.
    """
    parent = root / name
    parent.mkdir(parents=True, exist_ok=True)
    stamp = utc_now().strftime("%Y-%m-%dT%H-%M-%SZ")
    for attempt in itertools.count(1):
        candidate = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


def claim_output_dir(path: Path, *, force: bool = False) -> Path:
    """Make `path` ready for a run: refuse a non-empty one unless `force`.

    With `force`, only the files a run writes are removed; anything else in the directory
    is left alone.
    """
    if path.exists() and not path.is_dir():
        raise GymrunError(f"--output {path}: exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        if not force:
            raise GymrunError(
                f"--output {path}: the directory is not empty; nothing in it was touched "
                "(choose another directory, or pass --force to replace the run in it)"
            )
        for name in RUN_FILES:
            (path / name).unlink(missing_ok=True)
        shutil.rmtree(path / VIDEO_DIR, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_metadata(command: Sequence[str] | None = None) -> dict[str, Any]:
    """Versions, platform, command line and git commit: what reproducing a run needs."""
    import gymnasium
    import numpy

    from gymrun import __version__

    return {
        "gymrun": __version__,
        "gymnasium": gymnasium.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "command": list(sys.argv if command is None else command),
        "cwd": os.getcwd(),
        "git": _git_state(),
    }


def _git_state() -> dict[str, Any] | None:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, timeout=5, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # not a checkout, or no git
    return {"commit": commit, "dirty": bool(status.strip())}


def _write_json(path: Path, data: Any) -> None:
    # Written beside and renamed into place, so a reader never sees half a file.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


class RunRecorder:
    """Writes a run directory while the run goes on; nothing finished is ever lost."""

    def __init__(
        self, directory: Path, config: dict[str, Any], command: Sequence[str] | None = None
    ) -> None:
        self.directory = directory
        self.started = utc_now()
        (directory / CONFIG_FILE).write_text(
            yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        _write_json(directory / META_FILE, run_metadata(command))
        self._write_summary(None, "running")
        self._episodes = (directory / EPISODES_FILE).open("a", encoding="utf-8")

    def add_all(self, episodes: Iterable[EpisodeResult]) -> None:
        """Append finished episodes, one line each, and flush them to disk."""
        self._episodes.write("".join(json.dumps(e.to_json()) + "\n" for e in episodes))
        self._episodes.flush()

    def finish(self, summary: Summary, status: str, error: str | None = None) -> list[str]:
        """Close the record; returns notes for the user (such as a missing plotting extra)."""
        self._episodes.close()
        self._write_summary(summary, status, error)
        notes = []
        try:
            if summary.count:
                plot_run(self.directory)
        except GymrunError as exc:
            notes.append(f"no {PLOT_FILE}: {exc}")
        return notes

    def _write_summary(
        self, summary: Summary | None, status: str, error: str | None = None
    ) -> None:
        data: dict[str, Any] = {"status": status, "error": error}
        data |= summary.to_json() if summary is not None else {}
        data["started_at"] = self.started.isoformat()
        data["ended_at"] = None if status == "running" else utc_now().isoformat()
        _write_json(self.directory / SUMMARY_FILE, data)


@dataclass
class StoredRun:
    """A run directory read back from disk."""

    directory: Path
    config: dict[str, Any]
    status: str
    error: str | None
    summary: Summary
    notes: list[str] = field(default_factory=list)

    def episodes(self) -> Iterator[EpisodeResult]:
        """The finished episodes, read one at a time; an unfinished last line is skipped."""
        with (self.directory / EPISODES_FILE).open(encoding="utf-8") as lines:
            for line in lines:
                if not line.endswith("\n"):
                    break  # the process died mid-write: the line was never complete
                yield EpisodeResult.from_json(json.loads(line))


def read_run(directory: Path) -> StoredRun:
    """Read a run directory; the summary is recomputed from the episodes on disk, so it is
    right also for a run that was killed before it could write its own.

    Given ``recordings/NAME`` instead of one of its runs, the newest run in it is read.
    """
    if not directory.is_dir():
        raise GymrunError(f"{directory}: no such directory")
    if not (directory / CONFIG_FILE).is_file():
        runs = sorted(d for d in directory.iterdir() if (d / CONFIG_FILE).is_file())
        if not runs:
            raise GymrunError(f"{directory}: not a gymrun run directory (no {CONFIG_FILE})")
        directory = runs[-1]
    try:
        config = yaml.safe_load((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        stored = json.loads((directory / SUMMARY_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        stored = {"status": "unknown", "error": None}
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise GymrunError(f"{directory}: cannot read the run: {exc}") from exc
    run = StoredRun(
        directory,
        config,
        stored.get("status", "unknown"),
        stored.get("error"),
        SummaryBuilder(None).summary(),
    )
    builder = SummaryBuilder(config.get("reward_boundary"))
    if (directory / EPISODES_FILE).is_file():
        for episode in run.episodes():
            builder.add(episode)
    run.summary = builder.summary()
    if run.status == "running":
        run.notes.append("the run is still going, or its process was killed")
    return run


def run_title(config: dict[str, Any]) -> str:
    """``name: env, agent NAME`` for a config in its JSON form."""
    name = config.get("name") or "experiment"
    return f"{name}: {config['env']['id']}, agent {config['agent']['name']}"


def plot_run(directory: Path) -> Path:
    """Draw ``reward.png`` for a run directory from its ``episodes.jsonl``."""
    from gymrun.plots import plot_rewards

    run = read_run(directory)
    return plot_rewards(
        (episode.reward for episode in run.episodes()),
        run.summary.count,
        directory / PLOT_FILE,
        title=run_title(run.config),
        reward_boundary=run.config.get("reward_boundary"),
    )
