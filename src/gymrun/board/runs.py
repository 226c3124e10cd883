"""One run directory as the board shows it: its row on a leaderboard (`RunEntry`, small,
kept between builds) and what its own page shows (`RunDetail`).

Runs are read with `gymrun.records.reading`, so a run that is half-written or was killed
reads as far as it got; a file that cannot be read makes the run *damaged*, with the
reason, and never stops the build.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.analysis.groups import Member, group_key
from gymrun.board.scan import shown
from gymrun.core import scores
from gymrun.core.episodes import EpisodeBatch, EpisodeResult, episode_metrics
from gymrun.core.summary import SOLVE_WINDOW, Summary
from gymrun.errors import GymrunError
from gymrun.numbers import counted
from gymrun.records.curve import MAX_POINTS, Curve, RewardCurve
from gymrun.records.reading import GoOn, read_run, videos

EPISODE_ROWS = 200  # a run with more episodes is shown in blocks
BLOCKS = 50  # at most, and more than half as many


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
    cells: dict[str, str] = field(default_factory=dict)  # its leaderboard cells, as HTML
    # each metric the run recorded: its mean and 95% interval, the episodes with a value
    # and those without ({"value", "ci95", "episodes", "missing"})
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))  # shallow: a row is written, never changed, once read

    def row_json(self) -> dict[str, Any]:
        """The row as a leaderboard's JSON has it: without its config (its run.json has
        it) and its cells."""
        row = dict(vars(self))  # (a copy and two deletions: thousands of rows a build)
        del row["config"], row["cells"]
        return row

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunEntry:
        """The row `to_json` gave (TypeError for anything else). Filled in place rather
        than through ``__init__``: a build takes thousands of rows from its last record."""
        if type(data) is not dict or data.keys() != _ENTRY_FIELDS:
            raise TypeError("not a run's row")
        entry = cls.__new__(cls)
        entry.__dict__.update(data)
        return entry

    @property
    def estimate(self) -> scores.Estimate:
        return scores.Estimate(self.score["value"], *self.score["ci95"])

    def member(self) -> Member | None:
        """The run as a member of its group (None for a run whose config is unreadable)."""
        if self.config is None:
            return None
        return Member(
            self.id,
            self.config,
            self.status,
            self.score["value"],
            self.started_at,
            self.provenance,
            self.group,
        )


_ENTRY_FIELDS = frozenset(f.name for f in fields(RunEntry))


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
    meta_text: str | None = None  # meta.json as the run wrote it


# A run without a summary of its own (still recording, or stopped before it ended) is
# summarised here from its episodes; past this many, without intervals (see `read_run`).
INTERVAL_LIMIT = 20_000


class Gathered:
    """What a run's page shows of its episodes, gathered as they are read in batches, in
    bounded memory however many there are: the reward curve, and the episodes one a row
    (up to `EPISODE_ROWS`) or in at most `BLOCKS` blocks (whose size doubles as needed)."""

    def __init__(self, reward_boundary: float | None, wanted: int | None) -> None:
        self.reward_boundary = reward_boundary
        window = min(SOLVE_WINDOW, max(1, wanted or SOLVE_WINDOW))
        self.curve = RewardCurve(MAX_POINTS, window, merge=True)
        self.count = 0
        self.first: list[EpisodeBatch] = []  # the first EPISODE_ROWS + 1 episodes
        self.block_size = math.ceil(EPISODE_ROWS / BLOCKS)
        # per block: first and last episode, finite rewards' sum, count, min and max,
        # steps' sum, episodes, episodes that reached the boundary
        self.blocks = np.zeros((0, 9))
        # per metric, per block: the sum of its values and how many episodes have one
        self.metric_blocks: dict[str, np.ndarray] = {}

    def add(self, episodes: Sequence[EpisodeResult]) -> None:
        batch = EpisodeBatch.of(episodes, self.reward_boundary)
        if not len(batch):
            return
        self.curve.add_all(batch)
        if self.count <= EPISODE_ROWS:
            self.first.append(batch.slice(0, EPISODE_ROWS + 1 - self.count))
        self.count += len(batch)
        if self.count <= EPISODE_ROWS:
            return  # shown one a row: no blocks needed (yet)
        if not len(self.blocks):  # past the rows: the earlier batches in blocks too
            for earlier in self.first[:-1]:  # whole (the last is the start of this one)
                self._block(earlier)
        self._block(batch)

    def _block(self, batch: EpisodeBatch) -> None:
        while int(batch.episode[-1]) // self.block_size >= BLOCKS:
            self._merge()
        index = batch.episode // self.block_size
        starts = np.flatnonzero(np.diff(index, prepend=-1))
        finite = np.isfinite(batch.reward)
        reward = np.where(finite, batch.reward, 0.0)
        reached = batch.reached if batch.reached is not None else np.zeros(len(batch), bool)
        rows = np.column_stack(
            [
                batch.episode[starts],
                np.append(batch.episode[starts[1:] - 1], batch.episode[-1]),
                np.add.reduceat(reward, starts),
                np.add.reduceat(finite.astype(float), starts),
                np.minimum.reduceat(np.where(finite, batch.reward, np.inf), starts),
                np.maximum.reduceat(np.where(finite, batch.reward, -np.inf), starts),
                np.add.reduceat(batch.steps.astype(float), starts),
                np.add.reduceat(np.ones(len(batch)), starts),
                np.add.reduceat(reached.astype(float), starts),
            ]
        )
        metrics = {}
        for name in {*self.metric_blocks, *batch.metrics}:
            column = batch.metrics.get(name)
            given = np.zeros(len(batch), bool) if column is None else ~np.isnan(column.values)
            values = np.where(given, 0.0 if column is None else column.values, 0.0)
            metrics[name] = np.column_stack(
                [np.add.reduceat(values, starts), np.add.reduceat(given.astype(float), starts)]
            )
            self.metric_blocks.setdefault(name, np.zeros((len(self.blocks), 2)))
        held = index[starts]
        if len(self.blocks) and held[0] == len(self.blocks) - 1:  # the last block goes on
            self.blocks[-1] = _combined(self.blocks[-1:], rows[:1])[0]
            rows = rows[1:]
            for name, sums in metrics.items():
                self.metric_blocks[name][-1] += sums[0]
                metrics[name] = sums[1:]
        self.blocks = np.concatenate([self.blocks, rows])
        for name, sums in metrics.items():
            self.metric_blocks[name] = np.concatenate([self.metric_blocks[name], sums])

    def _merge(self) -> None:
        """Double the block size: each pair of blocks becomes one."""
        self.block_size *= 2
        pairs = self.blocks[: len(self.blocks) // 2 * 2]
        merged = _combined(pairs[0::2], pairs[1::2])
        if len(self.blocks) % 2:
            merged = np.concatenate([merged, self.blocks[-1:]])
        self.blocks = merged
        for name, sums in self.metric_blocks.items():
            paired = sums[: len(sums) // 2 * 2]
            halved = paired[0::2] + paired[1::2]
            self.metric_blocks[name] = np.concatenate([halved, sums[len(paired) :]])

    def rows(self) -> tuple[list[dict[str, Any]], int]:
        """The episodes one a row (for up to `EPISODE_ROWS`), else in blocks: the rows,
        and the episodes in each (1 for rows of one episode)."""
        if self.count <= EPISODE_ROWS:
            return self._episode_rows(), 1
        boundary = self.reward_boundary
        return [
            {
                "first": int(first),
                "last": int(last),
                "mean_reward": total / finite if finite else None,
                "min_reward": float(low) if finite else None,
                "max_reward": float(high) if finite else None,
                "mean_steps": steps / count,
                "reached": None if boundary is None else int(reached),
                "metrics": {
                    name: float(sums[n, 0] / sums[n, 1]) if sums[n, 1] else None
                    for name, sums in self.metric_blocks.items()
                },
            }
            for n, (first, last, total, finite, low, high, steps, count, reached) in enumerate(
                self.blocks
            )
        ], self.block_size

    def _episode_rows(self) -> list[dict[str, Any]]:
        if not self.first:
            return []
        batch = EpisodeBatch.joined(self.first)
        boundary = self.reward_boundary
        seeds = None if batch.seed is None else batch.seed.tolist()
        metrics = episode_metrics(batch.metrics, len(batch))
        return [
            {
                "episode": episode,
                "seed": None if seeds is None else seeds[i],
                "reward": _number(reward),
                "steps": steps,
                "ended": "terminated" if ended else "truncated" if cut else "—",
                "reached": None if boundary is None else bool(reward >= boundary),
                "metrics": dict(metrics[i]),
            }
            for i, (episode, reward, steps, ended, cut) in enumerate(
                zip(
                    batch.episode.tolist(),
                    batch.reward.tolist(),
                    batch.steps.tolist(),
                    batch.terminated.tolist(),
                    batch.truncated.tolist(),
                    strict=True,
                )
            )
        ]


def _combined(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Blocks `a` followed by blocks `b`, each pair as one block."""
    return np.column_stack(
        [
            a[:, 0],
            b[:, 1],
            a[:, 2] + b[:, 2],
            a[:, 3] + b[:, 3],
            np.minimum(a[:, 4], b[:, 4]),
            np.maximum(a[:, 5], b[:, 5]),
            a[:, 6] + b[:, 6],
            a[:, 7] + b[:, 7],
            a[:, 8] + b[:, 8],
        ]
    )


@dataclass
class ReadSoFar:
    """How far a recording run was read (see `read_run`'s `go_on`), and what its page showed
    of the episodes up to there: a live board's next read of the run goes on from it."""

    go_on: GoOn
    gathered: Gathered


def read_entry(
    run_id: str, directory: Path, so_far: ReadSoFar | None = None
) -> tuple[RunEntry, RunDetail | None, ReadSoFar | None]:
    """Read the run in `directory` (its board id `run_id`, `scan.board_id`); from `so_far`
    (which the read takes over) only what it recorded since. Returns the row, the page's
    data, and how far a run still recording was read."""
    entry = RunEntry(run_id, shown(str(directory)), "damaged")
    try:
        entry, detail, so_far = _read(entry, directory, so_far)
    except (GymrunError, OSError) as exc:  # the reader names the file and what is wrong
        entry.status = "damaged"
        entry.problem = shown(str(exc) if isinstance(exc, GymrunError) else f"{directory}: {exc}")
        return entry, None, None
    if entry.directory != str(directory):
        entry.status = "damaged"
        entry.problem = f"{entry.directory}: the directory's name is not UTF-8 (rename it)"
    return entry, detail, so_far if entry.status == "running" else None


def _read(
    entry: RunEntry, directory: Path, so_far: ReadSoFar | None
) -> tuple[RunEntry, RunDetail, ReadSoFar | None]:
    gathered = Gathered(None, None)

    def started(config: dict[str, Any], first: int) -> None:
        nonlocal gathered
        if first and so_far is not None:
            gathered = so_far.gathered  # the episodes before `first`, gathered already
        else:
            gathered = Gathered(config.get("reward_boundary"), config.get("episodes"))

    stored = read_run(
        directory,
        lambda episodes: gathered.add(episodes),
        kept_summary=True,
        interval_limit=INTERVAL_LIMIT,
        on_start=started,
        go_on=None if so_far is None else so_far.go_on,
    )
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
    entry.status = stored.became
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
    entry.score = score(summary)
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
    rows, block = gathered.rows()
    notes = list(stored.notes)
    if summary.nonfinite_rewards:
        notes.append(
            f"{counted(summary.nonfinite_rewards, 'episode')} had a NaN or infinite reward; "
            "the numbers leave them out"
        )
    if stored.intervals_forgone:
        notes.append(
            f"{summary.count:,} episodes and no summary of the run's own yet: its 95% "
            f"intervals and verdict come with the summary it writes when it ends (the board "
            f"draws them from the episodes only for runs of up to {INTERVAL_LIMIT:,})"
        )
    curve = gathered.curve.curve() if gathered.count else None
    detail = RunDetail(
        summary.to_json(),
        rows,
        block,
        curve,
        stored.config_text,
        meta,
        stored.meta_problem,
        notes,
        stored.meta_text,
    )
    return entry, detail, None if stored.go_on is None else ReadSoFar(stored.go_on, gathered)


def score(summary: Summary) -> dict[str, Any]:
    """A run's score: its mean episode reward and the 95% bootstrap interval of the mean
    over its episodes (none for fewer than two finite rewards: nothing to resample).

    >>> s = Summary(2, 0, 9.5, 0.5, 9.0, 10.0, 9.5, None, None, 2, 0, 2, 9.5, None,
    ...             mean_ci95=(9.0, 10.0))
    >>> score(s)
    {'value': 9.5, 'ci95': [9.0, 10.0]}
    """
    ci95 = summary.mean_ci95
    if ci95 is None or summary.count - summary.nonfinite_rewards < 2:
        return {"value": summary.mean_reward, "ci95": [None, None]}
    return {"value": summary.mean_reward, "ci95": [ci95[0], ci95[1]]}


def with_options(component: dict[str, Any]) -> str:
    """An agent or wrapper as a config names it, with its keywords.

    >>> with_options({"name": "epsilon_random", "epsilon": 0.5}), with_options({"name": "random"})
    ('epsilon_random (epsilon=0.5)', 'random')
    """
    options = ", ".join(f"{k}={v}" for k, v in component.items() if k != "name")
    return f"{component['name']} ({options})" if options else str(component["name"])


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
