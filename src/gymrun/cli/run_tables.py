"""Tables of runs and sweeps: episodes, the summary, runs compared, a sweep's grid."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.table import Table
from rich.text import Text

from gymrun.cli.console import encodable
from gymrun.cli.fitted import FittedTable
from gymrun.core.episodes import EpisodeBatch
from gymrun.core.metrics import shown_name
from gymrun.core.statistics import compared
from gymrun.core.summary import (
    NOT_REACHED,
    NOT_SOLVED,
    REACHED,
    SOLVE_WINDOW,
    SOLVED,
    SOME_SOLVED,
    WITHIN_NOISE,
)
from gymrun.numbers import (
    counted,
    decimals_for,
    figure,
    interval,
    interval_against,
    plus_minus,
    share,
)
from gymrun.records.layout import run_title
from gymrun.records.sweep_points import starred_points
from gymrun.sweep import POINT_INTERVAL, PointResult

if TYPE_CHECKING:
    from gymrun.core.episodes import EpisodeResult
    from gymrun.core.summary import MetricSummary, ShapedReward, Summary
    from gymrun.records.reading import StoredRun
    from gymrun.sweep import Sweep, SweepResult


class EpisodeRows:
    """Keeps the first and last `keep` episodes of a run, however long it is, and whether
    any episode's shaped reward (what the agent saw through the wrappers) differs from its
    reward (the environment's own return). The episodes' metrics are columns of their
    own."""

    def __init__(self, keep: int = 10) -> None:
        self.keep = keep
        self.head: list[EpisodeResult] = []
        self.tail: deque[EpisodeResult] = deque(maxlen=keep)
        self.count = 0
        self.shaped_differs = False

    def add_all(self, episodes: Sequence[EpisodeResult]) -> None:
        """Take consecutive episodes; of a large batch only the rows kept are unpacked."""
        if not self.shaped_differs:
            self.shaped_differs = _shaped_differs(episodes)
        size = len(episodes)
        room = self.keep - len(self.head)
        if room > 0:
            self.head.extend(episodes[:room])
        if size > room:
            self.tail.extend(episodes[max(room, size - self.keep) :])
        self.count += size

    def table(self, seeds: bool = True) -> Table:
        """The rows kept, with each episode's seed if `seeds`."""
        table = FittedTable(title="Episodes", title_justify="left")
        table.add_column("episode", justify="right", no_wrap=True)
        if seeds:
            table.add_column("seed", justify="right", style="dim", no_wrap=True, drop=3)
        table.add_column("reward", justify="right", no_wrap=True)
        shaped = self.shaped_differs
        if shaped:
            table.add_column("shaped", justify="right", no_wrap=True, drop=4)
        table.add_column("steps", justify="right", no_wrap=True)
        table.add_column("ended", no_wrap=True, drop=2)
        table.add_column("reached", justify="center", no_wrap=True, drop=1)
        kept = [*self.head, *self.tail]
        metrics = list(dict.fromkeys(name for episode in kept for name in episode.metrics))
        for name in metrics:  # what the env reported: kept longer than the rest
            table.add_column(shown_name(name), justify="center", no_wrap=True, drop=0)
        hidden = self.count - len(self.head) - len(self.tail)
        for episode in self.head:
            _episode_row(table, episode, seeds, shaped, metrics)
        if hidden:
            gap = ["…", *([""] * seeds), "", *([""] * shaped), "", f"{hidden:,} more episodes", ""]
            table.add_row(*gap, *([""] * len(metrics)), style="dim")
        for episode in self.tail:
            _episode_row(table, episode, seeds, shaped, metrics)
        return table


def _shaped_differs(episodes: Sequence[EpisodeResult]) -> bool:
    """Whether the shaped reward of any of `episodes` is not its reward."""
    if isinstance(episodes, EpisodeBatch):
        shaped = episodes.shaped_reward
        return shaped is not None and bool(np.any(shaped != episodes.reward))
    return any(e.shaped_reward is not None and e.shaped_reward != e.reward for e in episodes)


def _episode_row(
    table: Table, episode: EpisodeResult, seeds: bool, shaped: bool, metrics: Sequence[str]
) -> None:
    ended = "terminated" if episode.terminated else "truncated" if episode.truncated else "—"
    seed = ["—" if episode.seed is None else str(episode.seed)] if seeds else []
    shaped_reward = [figure(episode.shaped_reward)] if shaped else []
    table.add_row(
        str(episode.episode),
        *seed,
        figure(episode.reward),
        *shaped_reward,
        str(episode.steps),
        ended,
        _mark(episode.reached),
        *(_value(episode.metrics.get(name)) for name in metrics),
    )


def _mark(value: bool | None) -> Text:
    return {True: Text("✓", "green"), False: Text("✗", "red"), None: Text("—")}[value]


def _value(value: bool | float | None) -> Text | str:
    """A metric's value in an episode's row: ✓ or ✗ for a boolean, else the number."""
    return _mark(value) if value is None or isinstance(value, bool) else figure(value)


def summary_table(summary: Summary, config: dict[str, Any], status: str = "completed") -> Table:
    """The run's verdict: mean ± std, range, steps, boundary reached, solved. The reward is
    the environment's own return; what the agent saw through the config's wrappers is shown
    too when it differs.

    `config` is the resolved config in its JSON form, as a run directory keeps it.
    """
    title = run_title(config)
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")  # a long word (a path) folds, never cut
    count = summary.count
    wanted = config["episodes"]
    table.add_row("episodes", f"{count} of {wanted}" if count != wanted else str(count))
    table.add_row("seed", str(config["seed"]))
    if count:
        table.add_row("reward", _reward_spread(summary))
        shaped = summary.shaped_reward
        if shaped is not None and shaped.differing:
            table.add_row("shaped", _shaped_spread(shaped))
        table.add_row("steps", f"{figure(summary.mean_steps)} on average")
        table.add_row("ended", f"{summary.terminated} terminated, {summary.truncated} truncated")
        for name, metric in summary.metrics.items():
            table.add_row(shown_name(name), metric_spread(metric))
    if summary.nonfinite_rewards:
        table.add_row(
            Text("non-finite", "red"),
            Text(
                f"{summary.nonfinite_rewards} of {counted(count, 'episode')} had a NaN or "
                "infinite reward; the reward numbers above leave them out",
                "red",
            ),
        )
    if summary.reward_boundary is None:
        table.add_row("boundary", "none (set reward_boundary; the env spec has no threshold)")
    else:
        table.add_row(
            "boundary",
            f"{figure(summary.reward_boundary)}: reached in {summary.reached} "
            f"of {counted(count, 'episode')}",
        )
        table.add_row("verdict", _verdict(summary))
    if status != "completed":
        table.add_row("status", Text(status, "yellow"))
    return table


def compare_table(runs: Sequence[StoredRun]) -> Table:
    """One row per run: what ran and how it scored, the runs of each environment together.
    The best mean reward of each environment with several runs is starred (rewards of
    different environments are not comparable); where the runs were judged against
    different reward boundaries, each run's is shown; each metric the runs recorded is a
    column (its mean and 95% interval)."""
    table = FittedTable(title="Runs compared", title_justify="left")
    table.add_column("run")
    table.add_column("env")
    table.add_column("agent")
    table.add_column("wrappers", drop=3)
    table.add_column("episodes", justify="right", no_wrap=True, drop=2)
    table.add_column("mean ± std", justify="right", no_wrap=True)
    boundaries = {run.summary.reward_boundary for run in runs}
    if len(boundaries) > 1:
        table.add_column("boundary", justify="right", no_wrap=True)
    metrics = list(dict.fromkeys(name for run in runs for name in run.summary.metrics))
    for name in metrics:  # what the env reported: the mean and its 95% interval
        table.add_column(shown_name(name), justify="right", no_wrap=True, drop=1)
    table.add_column("reached", justify="right", no_wrap=True, drop=5)
    table.add_column("verdict", justify="center", drop=4)
    by_env: dict[str, list[StoredRun]] = {}
    for run in runs:
        by_env.setdefault(run.config["env"]["id"], []).append(run)
    for env, env_runs in by_env.items():
        if table.row_count:
            table.add_section()
        # the best mean, as a sweep's best point: on a tie a completed run before one that
        # is not, and never a run that failed
        ranks = {
            id(r): (r.summary.mean_reward, r.became == "completed")
            for r in env_runs
            if r.summary.mean_reward is not None and r.became != "failed"
        }
        best = max(ranks.values()) if len(env_runs) > 1 and ranks else None
        for run in env_runs:
            s, config = run.summary, run.config
            wrappers = [w["name"] for w in config.get("wrappers", [])]
            star = " ★" if best is not None and ranks.get(id(run)) == best else ""
            status = "" if run.became == "completed" else f" ({run.became})"
            boundary = [figure(s.reward_boundary)] if len(boundaries) > 1 else []
            table.add_row(
                str(run.directory),
                env,
                config["agent"]["name"],
                ", ".join(wrappers) or "—",
                f"{s.count}{status}",
                f"{plus_minus(s.mean_reward, s.std_reward)}{star}",
                *boundary,
                *(_metric_cell(s.metrics.get(name)) for name in metrics),
                "—" if s.reached is None else f"{s.reached}/{s.count}",
                s.verdict or "—",
            )
    return table


def metric_spread(metric: MetricSummary) -> str:
    """``0.82 [0.74, 0.89] over 100 episodes``: a metric's mean (of a boolean, its rate) and
    95% interval, and how many episodes had no value of it.

    >>> from gymrun.core.summary import MetricSummary
    >>> metric_spread(MetricSummary(0.82, 0.72, 0.92, 98, 2))
    '0.82 [0.72, 0.92] over 98 episodes; 2 episodes without it left out'
    """
    if metric.mean is None:
        return f"no episode had a value ({metric.missing} without it)"
    shown = interval(metric.mean, metric.low, metric.high)
    text = f"{shown} over {counted(metric.episodes, 'episode')}"
    if metric.missing:
        text += f"; {counted(metric.missing, 'episode')} without it left out"
    return text


def _metric_cell(metric: MetricSummary | None) -> str:
    return "—" if metric is None else interval(metric.mean, metric.low, metric.high)


def _reward_spread(summary: Summary) -> str:
    """``mean ± std  (min, max)``, rounded by the standard deviation (an episode's reward
    that is a whole number, as most are, plainly)."""
    decimals = decimals_for(summary.std_reward, summary.mean_reward)

    def extreme(value: float | None) -> str:
        whole = value is not None and float(value).is_integer()
        return figure(value, None if whole else decimals)

    spread = plus_minus(summary.mean_reward, summary.std_reward)
    return f"{spread}  (min {extreme(summary.min_reward)}, max {extreme(summary.max_reward)})"


def _shaped_spread(shaped: ShapedReward) -> str:
    """What the agent saw through the wrappers, as `_reward_spread` shows the reward."""
    seen = "what the agent saw through the wrappers"
    if shaped.mean is None:
        return f"NaN or infinite in all {shaped.nonfinite} episodes: {seen}"
    decimals = decimals_for(shaped.std, shaped.mean)
    low, high = (figure(v, decimals) for v in (shaped.min, shaped.max))
    spread = plus_minus(shaped.mean, shaped.std)
    text = f"{spread}  (min {low}, max {high}): {seen}"
    if shaped.nonfinite:
        text += f" ({shaped.nonfinite} NaN or infinite left out)"
    return text


_VERDICT_STYLE = {
    SOLVED: "green",
    REACHED: "green",
    NOT_SOLVED: "red",
    NOT_REACHED: "red",
    WITHIN_NOISE: "yellow",
}


def _verdict(summary: Summary) -> Text:
    """``solved after 12 episodes: best mean over 100 consecutive episodes 196.4 [195.1,
    197.7] ≥ 195``; a run of fewer than 100 episodes is judged on its mean ("reached on
    average"), and an interval that holds the boundary is "within noise"."""
    verdict, bound = summary.verdict, summary.reward_boundary
    if verdict is None or bound is None:
        return Text("—")
    style = _VERDICT_STYLE.get(verdict, "")
    mean, ci95 = summary.judged
    low, high = ci95 if ci95 is not None else (None, None)
    shown = interval_against(mean, low, high, bound)
    side = compared(low, high, bound)
    relation = {True: encodable("≥", ">="), False: "<", None: "holds"}[side]
    if summary.window >= SOLVE_WINDOW:
        detail = (
            f"best mean over {SOLVE_WINDOW} consecutive episodes {shown} {relation} {figure(bound)}"
        )
    else:
        detail = (
            f"mean {shown} {relation} {figure(bound)} over {counted(summary.count, 'episode')} "
            f"(under {SOLVE_WINDOW})"
        )
    if summary.episodes_before_solve is not None:
        if verdict == SOLVED:
            verdict = f"{SOLVED} after {counted(summary.episodes_before_solve, 'episode')}"
        else:
            solved = counted(summary.episodes_before_solve, "episode")
            detail += f" (the old Gym rule: solved after {solved})"
    return Text.assemble(Text(verdict, style), ": ", detail)


def sweep_grid_table(sweep: Sweep) -> Table:
    """``gymrun sweep --dry-run``: every point of the grid, with its seeds."""
    table = FittedTable(
        title=f"{sweep.name}: {counted(len(sweep.points), 'point')} x "
        f"{counted(len(sweep.seeds), 'seed')} = {counted(len(sweep.runs), 'run')}",
        title_justify="left",
    )
    table.add_column("point", justify="right", no_wrap=True)
    for key in sweep.keys:
        table.add_column(key, justify="right", no_wrap=True, short=_short_key(key, sweep.keys))
    table.add_column("seeds", no_wrap=True, drop=1)
    table.add_column("episodes", justify="right", no_wrap=True)
    seeds = ", ".join(map(str, sweep.seeds))
    episodes = {run.point: run.config.episodes for run in sweep.runs}
    for number, values in enumerate(sweep.points):
        table.add_row(
            str(number),
            *(str(values[k]) for k in sweep.keys),
            seeds,
            str(episodes[number] * len(sweep.seeds)),
        )
    return table


def sweep_table(result: SweepResult) -> Table:
    """A row per point, best mean first, with the 95% interval of the mean (over the
    point's episodes, which the caption says: a comparison's are over runs); the best point
    of each environment the sweep plays is starred, and where its points were judged
    against different reward boundaries, each point's is shown."""
    keys = result.sweep.keys
    table = FittedTable(
        title=f"{result.sweep.name}: {counted(len(result.points), 'point')}, "
        f"{counted(len(result.sweep.seeds), 'seed')} each, {result.executor} executor",
        title_justify="left",
        caption=f"95% CI: bootstrap {POINT_INTERVAL}",
        caption_justify="left",
    )
    for key in keys:
        table.add_column(key, justify="right", no_wrap=True, short=_short_key(key, keys))
    table.add_column("episodes", justify="right", no_wrap=True)
    table.add_column("mean reward [95% CI]", justify="right", no_wrap=True)
    boundaries = [_point_boundary(point.runs) for point in result.points]
    # a point with no run recorded (a sweep killed before it) was judged against nothing
    judged = {b for b, point in zip(boundaries, result.points, strict=True) if point.runs}
    shown = len(judged) > 1 and "reward_boundary" not in keys
    if shown:
        table.add_column("boundary", justify="right", no_wrap=True)
    metrics = list(dict.fromkeys(name for point in result.points for name in point.metrics))
    for name in metrics:
        table.add_column(f"{shown_name(name)} [95% CI]", justify="right", no_wrap=True, drop=2)
    table.add_column("mean steps", justify="right", no_wrap=True, drop=3)
    table.add_column("reached", justify="right", no_wrap=True, drop=2)
    table.add_column("verdict", no_wrap=True, drop=1)
    starred = starred_points([point.to_json() for point in result.points])

    def by_mean(i: int) -> tuple[float, bool]:
        # a point without a mean sorts last; on a tie a completed point comes first
        point = result.points[i]
        value = point.mean_reward
        return -math.inf if value is None else value, point.status == "completed"

    order = sorted(range(len(result.points)), key=by_mean, reverse=True)
    for i in order:
        point = result.points[i]
        mean = interval(point.mean_reward, point.ci_low, point.ci_high)
        if i in starred:
            mean += " ★"
        episodes = str(point.episodes) + (
            "" if point.status == "completed" else f" ({point.status})"
        )
        table.add_row(
            *(str(point.values[k]) for k in keys),
            episodes,
            mean,
            *([figure(boundaries[i])] if shown else []),
            *(_point_metric(point.metrics.get(name)) for name in metrics),
            figure(point.mean_steps),
            share(point.reached_share),
            _point_verdict(point),
        )
    return table


def _point_metric(metric: dict[str, Any] | None) -> str:
    """A metric over a sweep point's episodes: its mean and 95% interval."""
    if metric is None:
        return "—"
    return interval(metric["mean"], metric["low"], metric["high"])


def _point_verdict(point: PointResult) -> Text:
    """A sweep point's verdict over its seeds: ``solved``, ``2 of 3 seeds solved``, ``reached
    on average`` (runs under 100 episodes), ``within noise``..."""
    verdict = point.verdict
    if verdict is None:  # a sweep recorded before verdicts: every seed solved, or not
        return {True: Text("✓", "green"), False: Text("✗", "red"), None: Text("—")}[point.solved]
    if verdict == SOME_SOLVED:
        return Text(f"{point.solved_seeds} of {len(point.runs)} seeds solved", "yellow")
    return Text(verdict, _VERDICT_STYLE.get(verdict, ""))


def _point_boundary(runs: Sequence[dict[str, Any]]) -> float | None:
    """The reward boundary a point's runs were judged against."""
    for run in runs:
        summary = run.get("summary") or {}
        if summary.get("reward_boundary") is not None:
            return float(summary["reward_boundary"])
    return None


def _short_key(key: str, keys: Sequence[str]) -> str:
    """A sweep key's last part, when no other key ends the same: ``epsilon`` for
    ``wrappers.0.epsilon``.

    >>> _short_key("wrappers.0.epsilon", ["wrappers.0.epsilon", "seed"])
    'epsilon'
    >>> _short_key("agent.scale", ["agent.scale", "wrappers.0.scale"])
    'agent.scale'
    """
    last = key.rpartition(".")[2]
    clash = sum(1 for other in keys if other.rpartition(".")[2] == last) > 1
    return key if clash else last
