"""The board's charts, drawn with matplotlib (without pyplot, as gymrun's other plots) to
files the pages load: nothing is fetched when a page is viewed."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gymrun.components.extras import install_command, writable_matplotlib_dir
from gymrun.core.scores import Profile
from gymrun.records.plots import PLOT_EXTRA, plain


def _figure(width: float, height: float) -> Any:
    writable_matplotlib_dir()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def plot_profiles(
    path: Path, *, env: str, labels: Sequence[str], profiles: Sequence[Profile]
) -> Path:
    """An SVG of each group's performance profile: the fraction of its runs scoring above
    each threshold, with the 95% band shaded."""
    figure = _figure(8, 4.5)
    axes = figure.subplots()
    for number, (label, profile) in enumerate(zip(labels, profiles, strict=True)):
        colour = f"C{number % 10}"
        axes.step(
            profile.tau, profile.fraction, where="post", color=colour, lw=2, label=plain(label)
        )
        axes.fill_between(
            profile.tau, profile.low, profile.high, step="post", color=colour, alpha=0.15, lw=0
        )
    axes.set(
        title=f"{plain(env)}: performance profiles (95% bootstrap bands)",
        xlabel="run score τ (mean episode reward)",
        ylabel="fraction of runs with score > τ",
        ylim=(-0.02, 1.02),
    )
    axes.grid(alpha=0.3)
    if len(labels) > 0:
        axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, format="svg", metadata={"Date": None})
    return path


def matplotlib_missing() -> str | None:
    """Why the board's charts cannot be drawn here, or None."""
    writable_matplotlib_dir()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"charts need matplotlib, which is not installed: {install_command(PLOT_EXTRA)}"
    return None
