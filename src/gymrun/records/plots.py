"""Drawing a run's reward curve (``reward.png``) and a sweep's intervals (``sweep.png``).

matplotlib is imported only to draw, and without pyplot (a figure drawn straight to a file
needs no window manager, and skips pyplot's start-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.components.extras import install_command, writable_matplotlib_dir
from gymrun.errors import NotInstalledError
from gymrun.records.curve import Curve

PLOT_EXTRA = "gymrun[plot]"


def _figure() -> Any:
    """A matplotlib figure that draws to files, or a `GymrunError` naming the install."""
    writable_matplotlib_dir()
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise NotInstalledError(
            f"plots need matplotlib, which is not installed: {install_command(PLOT_EXTRA)}"
        ) from exc
    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def plain(text: str) -> str:
    """`text` as matplotlib draws it verbatim: a ``$`` would start mathtext, which a name
    from a config (``$\\foo{$``) could make fail to draw.

    >>> print(plain("cost $5 and $x$"))
    cost \\$5 and \\$x\\$
    """
    return text.replace("$", r"\$")


def plot_rewards(curve: Curve, path: Path, *, title: str, reward_boundary: float | None) -> Path:
    """Write a PNG of per-episode reward, its rolling mean and the boundary.

    A long run is drawn as bins of episodes (the band from each bin's lowest to highest
    reward), as `RewardCurve` gathered it.
    """
    figure = _figure()
    axes = figure.subplots()
    x = curve.episode
    if curve.bin_size == 1:
        size = 14 if curve.count <= 200 else 6
        axes.scatter(x, curve.high, s=size, alpha=0.45, label="episode reward")
    else:
        axes.fill_between(
            x,
            curve.low,
            curve.high,
            alpha=0.3,
            lw=0,
            label=f"episode reward (range per {curve.bin_size} episodes)",
        )
    drawn = ~np.isnan(curve.rolling)
    if curve.count >= 2 and drawn.any():
        axes.plot(
            x[drawn],
            curve.rolling[drawn],
            color="C1",
            lw=2,
            label=f"mean of last {curve.window} episodes",
        )
    if reward_boundary is not None:
        axes.axhline(
            reward_boundary,
            color="C2",
            ls="--",
            lw=1.5,
            label=f"reward boundary {reward_boundary:g}",
        )
    axes.set(title=plain(title), xlabel="episode", ylabel="reward")
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    figure.tight_layout()
    figure.savefig(path)
    return path


def plot_sweep(
    path: Path,
    *,
    name: str,
    keys: Sequence[str],
    points: Sequence[dict[str, Any]],
    reward_boundary: float | None,
) -> Path:
    """Mean reward and its 95% interval against the first swept key, a line per combination
    of the other keys. `points` are the sweep's points in their JSON form."""
    figure = _figure()
    axes = figure.subplots()
    if not keys:  # only seeds were swept: one point, drawn as such
        keys, points = ["point"], [{**p, "values": {"point": "all"}} for p in points]
    lines: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for point in points:
        rest = tuple(point["values"][k] for k in keys[1:])
        lines.setdefault(rest, []).append(point)
    xs = [point["values"][keys[0]] for point in points]
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)
    categories = list(dict.fromkeys(map(str, xs)))
    for rest, members in lines.items():
        done = [p for p in members if p["mean_reward"] is not None]
        x = [
            p["values"][keys[0]] if numeric else categories.index(str(p["values"][keys[0]]))
            for p in done
        ]
        y = np.array([p["mean_reward"] for p in done], dtype=float)
        low = y - np.array([p["ci95"][0] for p in done], dtype=float)
        high = np.array([p["ci95"][1] for p in done], dtype=float) - y
        text = ", ".join(f"{k}={v}" for k, v in zip(keys[1:], rest, strict=True))
        label = plain(text) if text else None
        axes.errorbar(x, y, yerr=[low, high], marker="o", capsize=4, label=label)
    if not numeric:
        axes.set_xticks(range(len(categories)), [plain(c) for c in categories])
    highs = [p["ci95"][1] for p in points if p["ci95"][1] is not None]
    title = f"{plain(name)}: mean reward, 95% bootstrap interval"
    boundary = reward_boundary
    # A boundary far above every point would flatten them all into one line.
    if boundary is not None and highs and boundary <= 1.5 * max(highs):
        axes.axhline(boundary, color="C2", ls="--", lw=1.5, label=f"reward boundary {boundary:g}")
    elif boundary is not None:
        title += f"\n(reward boundary {boundary:g} is above the chart)"
        boundary = None
    axes.set(title=title, xlabel=plain(keys[0]), ylabel="mean reward")
    axes.grid(alpha=0.3)
    if len(lines) > 1 or boundary is not None:
        axes.legend(loc="best")
    figure.tight_layout()
    figure.savefig(path)
    return path
