"""The reward plot of a run: every episode, the rolling mean, the boundary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gymrun.errors import GymrunError
from gymrun.summary import SOLVE_WINDOW

INSTALL_HINT = "pip install 'gymrun[plot]'"


def plot_rewards(
    rewards: Sequence[float] | np.ndarray,
    path: Path,
    *,
    title: str,
    reward_boundary: float | None,
    window: int = SOLVE_WINDOW,
) -> Path:
    """Write a PNG of per-episode reward, its rolling `window`-episode mean and the boundary.

    Raises `GymrunError` naming the install command when matplotlib is missing.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise GymrunError(f"plots need matplotlib, which is not installed: {INSTALL_HINT}") from exc
    values = np.asarray(rewards, dtype=float)
    episodes = np.arange(len(values))
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        size = 6 if len(values) > 200 else 14
        axes.scatter(episodes, values, s=size, alpha=0.45, label="episode reward")
        if len(values) >= 2:
            span = min(window, len(values))
            rolling = np.convolve(values, np.ones(span) / span, mode="valid")
            axes.plot(
                episodes[span - 1 :],
                rolling,
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
