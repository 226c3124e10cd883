"""The reward plot of a run: every episode, the rolling mean, the boundary."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gymrun.errors import GymrunError
from gymrun.summary import SOLVE_WINDOW

if TYPE_CHECKING:
    from gymrun.sweep import PointResult, SweepResult

INSTALL_HINT = "pip install 'gymrun[plot]'"
MAX_POINTS = 2000  # beyond this many episodes, each point stands for a bin of episodes


def _pyplot() -> Any:
    """matplotlib's pyplot drawing to files only (no display needed), or a `GymrunError`
    naming the install command."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise GymrunError(f"plots need matplotlib, which is not installed: {INSTALL_HINT}") from exc
    return plt


def plot_rewards(
    rewards: Iterable[float],
    count: int,
    path: Path,
    *,
    title: str,
    reward_boundary: float | None,
    window: int = SOLVE_WINDOW,
) -> Path:
    """Write a PNG of per-episode reward, its rolling `window`-episode mean and the boundary.

    `rewards` (`count` of them, in episode order) are read once, as a stream: a long run is
    drawn as bins of episodes (the band from each bin's lowest to highest reward), so memory
    does not grow with the number of episodes. Raises `GymrunError` naming the install
    command when matplotlib is missing.
    """
    plt = _pyplot()
    x, low, high, rolling = _bins(rewards, count, window)
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        if count <= MAX_POINTS:
            axes.scatter(x, high, s=14 if count <= 200 else 6, alpha=0.45, label="episode reward")
        else:
            per_bin = math.ceil(count / MAX_POINTS)
            axes.fill_between(
                x,
                low,
                high,
                alpha=0.3,
                lw=0,
                label=f"episode reward (range per {per_bin} episodes)",
            )
        if count >= 2:
            span = min(window, count)
            axes.plot(
                x[~np.isnan(rolling)],
                rolling[~np.isnan(rolling)],
                color="C1",
                lw=2,
                label=f"mean of last {span} episodes",
            )
        if reward_boundary is not None:
            axes.axhline(
                reward_boundary,
                color="C2",
                ls="--",
                lw=1.5,
                label=f"reward boundary {reward_boundary:g}",
            )
        axes.set(title=title, xlabel="episode", ylabel="reward")
        axes.grid(alpha=0.3)
        axes.legend(loc="best")
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path


def _bins(
    rewards: Iterable[float], count: int, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per bin of episodes: last episode index, lowest and highest reward, and the rolling
    mean at the bin's end (nan until `window` episodes, or all of a short run, have passed)."""
    size = max(1, math.ceil(count / MAX_POINTS))
    bins = math.ceil(count / size) if count else 0
    x, low, high, rolling = (np.full(bins, np.nan) for _ in range(4))
    recent: deque[float] = deque(maxlen=min(window, count) or 1)
    total = 0.0
    for episode, reward in enumerate(rewards):
        if len(recent) == recent.maxlen:
            total -= recent[0]
        recent.append(reward)
        total += reward
        b = episode // size
        low[b] = reward if np.isnan(low[b]) else min(low[b], reward)
        high[b] = reward if np.isnan(high[b]) else max(high[b], reward)
        x[b] = episode
        if len(recent) == recent.maxlen:
            rolling[b] = total / len(recent)
    return x, low, high, rolling


def plot_sweep(result: SweepResult, path: Path) -> Path:
    """Mean reward and its 95% interval against the first swept key, a line per combination
    of the other keys."""
    plt = _pyplot()
    keys = result.sweep.keys
    lines: dict[tuple[Any, ...], list[PointResult]] = {}
    for point in result.points:
        rest = tuple(point.values[k] for k in keys[1:])
        lines.setdefault(rest, []).append(point)
    xs = [point.values[keys[0]] for point in result.points]
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)
    categories = list(dict.fromkeys(map(str, xs)))
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        for rest, points in lines.items():
            done = [p for p in points if p.mean_reward is not None]
            x = [
                p.values[keys[0]] if numeric else categories.index(str(p.values[keys[0]]))
                for p in done
            ]
            y = np.array([p.mean_reward for p in done], dtype=float)
            low = y - np.array([p.ci_low for p in done], dtype=float)
            high = np.array([p.ci_high for p in done], dtype=float) - y
            label = ", ".join(f"{k}={v}" for k, v in zip(keys[1:], rest, strict=True)) or None
            axes.errorbar(x, y, yerr=[low, high], marker="o", capsize=4, label=label)
        if not numeric:
            axes.set_xticks(range(len(categories)), categories)
        boundary = result.sweep.runs[0].config.reward_boundary
        highs = [p.ci_high for p in result.points if p.ci_high is not None]
        title = f"{result.sweep.name}: mean reward, 95% bootstrap interval"
        # A boundary far above every point would flatten them all into one line.
        if boundary is not None and highs and boundary <= 1.5 * max(highs):
            axes.axhline(
                boundary, color="C2", ls="--", lw=1.5, label=f"reward boundary {boundary:g}"
            )
        elif boundary is not None:
            title += f"\n(reward boundary {boundary:g} is above the chart)"
            boundary = None
        axes.set(title=title, xlabel=keys[0], ylabel="mean reward")
        axes.grid(alpha=0.3)
        if len(lines) > 1 or boundary is not None:
            axes.legend(loc="best")
        figure.tight_layout()
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path
