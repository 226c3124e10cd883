"""The reward plot of a run: every episode, the rolling mean, the boundary."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from gymrun.errors import GymrunError
from gymrun.summary import SOLVE_WINDOW

INSTALL_HINT = "pip install 'gymrun[plot]'"
MAX_POINTS = 2000  # beyond this many episodes, each point stands for a bin of episodes


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
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise GymrunError(f"plots need matplotlib, which is not installed: {INSTALL_HINT}") from exc
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
