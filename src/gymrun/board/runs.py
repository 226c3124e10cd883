"""One run directory as the board shows it: its row on a leaderboard (`RunEntry`, small,
kept between builds) and what its own page shows (`RunDetail`).

Runs are read with `gymrun.records.reading`, so a run that is half-written or was killed
reads as far as it got; a file that cannot be read makes the run *damaged*, with the
reason, and never stops the build.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.analysis.groups import Member, group_key
from gymrun.board.scan import board_id, shown
from gymrun.core import scores
from gymrun.core.episodes import EpisodeBatch, MetricColumn, episode_metrics, joined_metrics
from gymrun.errors import GymrunError
from gymrun.records.curve import Curve, RewardCurve
from gymrun.records.layout import LOCK_FILE
from gymrun.records.reading import read_run, videos

EPISODE_ROWS = 200  # a run with more episodes is shown in blocks
BLOCKS = 50


@dataclass
class RunEntry:
    """A run's row on the board: everything the index, an environment's leaderboard and a
    comparison need, in JSON form."""

    id: str  # its path under the recordings directory, with "/"
    directory: str
    status: str  # completed | interrupted | failed | running | killed | unfinished | damaged
    problem: str | None = None  # why it failed, or why it could not be read
    name: str | None = None
    env: str | None = None
    agent: str | None = None
    wrappers: list[str] = field(default_factory=list)
    seed: int | None = None
    episodes_wanted: int | None = None
    episodes: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    score: dict[str, Any] = field(default_factory=lambda: {"value": None, "ci95": [None, None]})
    solved: bool | None = None  # the old Gym rule (never for a run under 100 episodes)
    episodes_before_solve: int | None = None  # first episode of the first window that solved
    verdict: str | None = None  # as the summary's: solved, reached on average, within noise...
    judged: dict[str, Any] | None = None  # the mean the verdict compared, and its interval
    reward_boundary: float | None = None
    group: str | None = None
    config: dict[str, Any] | None = None
    provenance: Any = None
    videos: list[str] = field(default_factory=list)
    # each metric the run recorded: its mean and 95% interval, the episodes with a value
    # and those without ({"value", "ci95", "episodes", "missing"})
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))  # shallow: a row is written, never changed, once read

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunEntry:
        return cls(**data)

    @property
    def estimate(self) -> scores.Estimate:
        return scores.Estimate(self.score["value"], *self.score["ci95"])

    def member(self) -> Member | None:
        """The run as a member of its group (None for a run whose config is unreadable)."""
        if self.config is None:
            return None
        return Member(
            self.id, self.config, self.status, self.score["value"], self.started_at, self.provenance
        )


@dataclass
class RunDetail:
    """What a run's page shows beyond its row."""

    summary: dict[str, Any] | None
    episode_rows: list[dict[str, Any]]  # every episode, or blocks of them for long runs
    block_size: int
    curve: Curve | None
    config_text: str
    meta: dict[str, Any] | None
    meta_problem: str | None
    notes: list[str]


@dataclass
class _Columns:
    episode: list[np.ndarray] = field(default_factory=list)
    seed: list[np.ndarray | None] = field(default_factory=list)
    reward: list[np.ndarray] = field(default_factory=list)
    steps: list[np.ndarray] = field(default_factory=list)
    terminated: list[np.ndarray] = field(default_factory=list)
    truncated: list[np.ndarray] = field(default_factory=list)
    metrics: list[tuple[int, dict[str, MetricColumn]]] = field(default_factory=list)

    def add(self, batch: Any) -> None:
        self.metrics.append((len(batch), batch.metrics))
        self.episode.append(batch.episode)
        self.seed.append(batch.seed)
        self.reward.append(batch.reward)
        self.steps.append(batch.steps)
        self.terminated.append(batch.terminated)
        self.truncated.append(batch.truncated)

    def column(self, name: str, dtype: Any) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def read_entry(root: Path, directory: Path) -> tuple[RunEntry, RunDetail | None]:
    """Read the run in `directory` (under the recordings directory `root`)."""
    entry = RunEntry(board_id(root, directory), shown(str(directory)), "damaged")
    try:
        entry, detail = _read(entry, directory)
    except (GymrunError, OSError) as exc:  # the reader names the file and what is wrong
        entry.status = "damaged"
        entry.problem = shown(str(exc) if isinstance(exc, GymrunError) else f"{directory}: {exc}")
        return entry, None
    if entry.directory != str(directory):
        entry.status = "damaged"
        entry.problem = f"{entry.directory}: the directory's name is not UTF-8 (rename it)"
    return entry, detail


def _read(entry: RunEntry, directory: Path) -> tuple[RunEntry, RunDetail]:
    columns = _Columns()
    stored = read_run(directory, columns.add)
    config, meta = stored.config, stored.meta
    entry.config = config
    entry.name = config.get("name") or "experiment"
    entry.env = config["env"]["id"]
    entry.agent = with_options(config["agent"])
    entry.wrappers = [with_options(w) for w in config.get("wrappers") or []]
    entry.seed = config.get("seed")
    entry.episodes_wanted = config.get("episodes")
    entry.reward_boundary = config.get("reward_boundary")
    entry.provenance = None if meta is None else meta.get("agent")
    entry.group = group_key(config, entry.provenance)
    entry.status = _status(stored.status, stored.has_summary, meta, directory)
    entry.problem = stored.error
    # what could not be read makes the run damaged, and what could be read is shown
    if stored.problems:
        entry.status, entry.problem = "damaged", "; ".join(stored.problems)
    entry.started_at, entry.ended_at = stored.started_at, stored.ended_at
    summary = stored.summary
    entry.episodes = summary.count
    entry.solved = summary.solved
    entry.episodes_before_solve = summary.episodes_before_solve
    entry.verdict = summary.verdict
    judged, ci95 = summary.judged
    entry.judged = {"value": judged, "ci95": list(ci95) if ci95 else [None, None]}
    reward = columns.column("reward", np.float64)
    entry.score = scores.mean_reward(reward).to_json()
    entry.videos = videos(directory)
    entry.metrics = {
        name: {
            "value": metric.mean,
            "ci95": [metric.low, metric.high],
            "episodes": metric.episodes,
            "missing": metric.missing,
        }
        for name, metric in summary.metrics.items()
    }
    curve = None
    if len(reward):
        gathered = RewardCurve(max(int(entry.episodes_wanted or 0), len(reward)))
        for batch in _batches(columns, entry.reward_boundary):
            gathered.add_all(batch)
        curve = gathered.curve()
    rows, block = _episode_rows(columns, entry.reward_boundary)
    notes = list(stored.notes)
    if summary.nonfinite_rewards:
        notes.append(
            f"{summary.nonfinite_rewards} episodes had a NaN or infinite reward; "
            "the numbers leave them out"
        )
    detail = RunDetail(
        summary.to_json(), rows, block, curve, stored.config_text, meta, stored.meta_problem, notes
    )
    return entry, detail


def with_options(component: dict[str, Any]) -> str:
    """An agent or wrapper as a config names it, with its keywords.

    >>> with_options({"name": "epsilon_random", "epsilon": 0.5}), with_options({"name": "random"})
    ('epsilon_random (epsilon=0.5)', 'random')
    """
    options = ", ".join(f"{k}={v}" for k, v in component.items() if k != "name")
    return f"{component['name']} ({options})" if options else str(component["name"])


def _batches(columns: _Columns, boundary: float | None) -> list[EpisodeBatch]:
    return [
        EpisodeBatch(e, r, s, te, tr, boundary, seed)
        for e, r, s, te, tr, seed in zip(
            columns.episode,
            columns.reward,
            columns.steps,
            columns.terminated,
            columns.truncated,
            columns.seed,
            strict=True,
        )
    ]


def _status(stored: str, has_summary: bool, meta: dict[str, Any] | None, directory: Path) -> str:
    """What became of the run: a run still marked running is *killed* when its process is
    gone (on this machine), and *unfinished* when that cannot be told."""
    if not has_summary:
        return "unfinished"
    if stored != "running":
        return stored
    alive = recording(directory)
    if alive is None:
        alive = process_alive(meta or {})
    return "unfinished" if alive is None else "running" if alive else "killed"


def recording(directory: Path) -> bool | None:
    """Whether a process still holds the run directory's lock (None without a lock file,
    or where locks cannot be tested). The lock is only tried, never waited for."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        return None
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        descriptor = os.open(directory / LOCK_FILE, flags)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return False
    finally:
        os.close(descriptor)


def process_alive(meta: dict[str, Any]) -> bool | None:
    """Whether the process that wrote ``meta.json`` still runs: None when it ran on another
    machine, or ``meta.json`` does not say."""
    pid, host = meta.get("pid"), meta.get("host")
    if not isinstance(pid, int) or host != platform.node():
        return None
    proc = Path("/proc")
    if (proc / "self").exists():  # Linux: the pid must still run the run's command
        try:
            running = (proc / str(pid) / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:
            return False
        # argv[0] differs between `gymrun` and `python -m gymrun`; the arguments do not
        arguments = [str(part).encode() for part in (meta.get("command") or [])[1:]]
        return not arguments or running[-len(arguments) :] == arguments
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _episode_rows(columns: _Columns, boundary: float | None) -> tuple[list[dict[str, Any]], int]:
    episode = columns.column("episode", np.int64)
    reward = columns.column("reward", np.float64)
    steps = columns.column("steps", np.int64)
    terminated = columns.column("terminated", bool)
    truncated = columns.column("truncated", bool)
    metrics = joined_metrics(columns.metrics)
    count = len(episode)
    if count <= EPISODE_ROWS:
        seeded = all(part is not None for part in columns.seed)
        seeds: np.ndarray | None = None
        if seeded and columns.seed:
            seeds = np.concatenate([part for part in columns.seed if part is not None])
        values = episode_metrics(metrics, count)
        return [
            {
                "episode": int(episode[i]),
                "seed": None if seeds is None else int(seeds[i]),
                "reward": _number(reward[i]),
                "steps": int(steps[i]),
                "ended": "terminated" if terminated[i] else "truncated" if truncated[i] else "—",
                "reached": None if boundary is None else bool(reward[i] >= boundary),
                "metrics": dict(values[i]),
            }
            for i in range(count)
        ], 1
    size = math.ceil(count / BLOCKS)
    rows = []
    for start in range(0, count, size):
        part = reward[start : start + size]
        finite = part[np.isfinite(part)]
        rows.append(
            {
                "first": int(episode[start]),
                "last": int(episode[min(start + size, count) - 1]),
                "mean_reward": float(finite.mean()) if len(finite) else None,
                "min_reward": float(finite.min()) if len(finite) else None,
                "max_reward": float(finite.max()) if len(finite) else None,
                "mean_steps": float(steps[start : start + size].mean()),
                "reached": None if boundary is None else int((part >= boundary).sum()),
                "metrics": {
                    name: _mean(column.values[start : start + size])
                    for name, column in metrics.items()
                },
            }
        )
    return rows, size


def _mean(values: np.ndarray) -> float | None:
    """The mean of the values there are (NaN: none), None without any."""
    given = values[~np.isnan(values)]
    return float(given.mean()) if len(given) else None


def _number(value: float) -> float | str:
    return float(value) if math.isfinite(value) else str(value)


def episode_of_video(name: str) -> int | None:
    """The episode a video file shows (``episode-000010.mp4`` is episode 10).

    >>> episode_of_video("episode-000010.mp4"), episode_of_video("other.mp4")
    (10, None)
    """
    stem = Path(name).stem
    number = stem.removeprefix("episode-")
    return int(number) if number != stem and number.isdigit() else None
