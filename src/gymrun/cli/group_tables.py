"""Tables of groups of runs compared: IQM and mean with intervals, probability of
improvement, performance profiles (the numbers of the board's comparison pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from gymrun.analysis.groups import GROUP_INTERVAL
from gymrun.cli.fitted import FittedTable
from gymrun.numbers import counted, figure, interval

if TYPE_CHECKING:
    from gymrun.analysis.groups import Comparison
    from gymrun.analysis.normalized import TaskGroup
    from gymrun.core.scores import Estimate

PROFILE_COLUMNS = 5  # thresholds shown of a profile


def estimate(value: Estimate | None) -> str:
    """``13.77 [12.91, 14.62]``, the value alone without an interval, ``—`` without one."""
    if value is None:
        return "—"
    return interval(value.value, value.low, value.high)


def groups_table(comparison: Comparison) -> Table:
    """A row per group, best IQM first; where the groups were judged against different
    reward boundaries, each group's. Its intervals are over runs, which the caption says (a
    sweep's table has intervals over episodes under the same heading)."""
    table = FittedTable(
        title=f"Groups on {comparison.env} (run score: {comparison.score_label})",
        title_justify="left",
        caption=f"95% CI: bootstrap {GROUP_INTERVAL}",
        caption_justify="left",
    )
    table.add_column("group")
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("IQM [95% CI]", justify="right", no_wrap=True)
    boundaries = comparison.boundaries_differ
    if boundaries:
        table.add_column("boundary", justify="right", no_wrap=True)
    table.add_column("mean [95% CI]", justify="right", no_wrap=True, drop=1)
    table.add_column("run scores", drop=2)
    for group in comparison.groups:
        table.add_row(
            group.label,
            f"{len(group.scored)} of {len(group.members)}",
            estimate(group.iqm),
            *([figure(group.reward_boundary)] if boundaries else []),
            estimate(group.mean),
            ", ".join(figure(m.score) for m in group.scored) or group.no_score,
        )
    return table


def improvement_table(comparison: Comparison) -> Table:
    """P(X > Y) for each pair of groups, the better (by IQM) first."""
    table = FittedTable(
        title=f"Probability of improvement on {comparison.env}", title_justify="left"
    )
    table.add_column("X")
    table.add_column("Y")
    table.add_column("P(X > Y) [95% CI]", justify="right", no_wrap=True)
    groups = comparison.compared
    for i, x in enumerate(groups):
        for j in range(i + 1, len(groups)):
            table.add_row(x.label, groups[j].label, estimate(comparison.improvement[i][j]))
    return table


def profile_table(comparison: Comparison) -> Table:
    """A few points of each group's performance profile: the fraction of its runs that
    scored above each threshold."""
    table = FittedTable(
        title=f"Performance profiles on {comparison.env}: share of runs above τ",
        title_justify="left",
    )
    table.add_column("group")
    profiles = comparison.profiles
    tau = profiles[0].tau.tolist() if profiles else []
    picks = (
        sorted({round(k * (len(tau) - 1) / (PROFILE_COLUMNS - 1)) for k in range(PROFILE_COLUMNS)})
        if len(tau)
        else []
    )
    for k, pick in enumerate(picks):
        inner = 0 < k < len(picks) - 1  # the first and last thresholds stay longest
        drop = k % 2 + 1 if inner else None
        table.add_column(f"τ={figure(tau[pick])}", justify="right", no_wrap=True, drop=drop)
    for group, profile in zip(comparison.profiled, profiles, strict=True):
        table.add_row(group.label, *(f"{profile.fraction[p]:.2f}" for p in picks))
    return table


def normalized_table(group: TaskGroup, bootstrap: str) -> Table:
    """A row per task of the group, its run scores normalized (random 0, reference 1), and
    a last row across every task: rliable's IQM, median, mean and optimality gap."""
    table = FittedTable(
        title=f"{group.label} across {counted(len(group.tasks), 'task')}: normalized scores "
        "(random agent 0, reference 1)",
        title_justify="left",
        caption=f"95% intervals: {bootstrap}",
        caption_justify="left",
    )
    table.add_column("task")
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("random → reference", justify="right", drop=3)
    table.add_column("IQM [95% CI]", justify="right", no_wrap=True)
    table.add_column("median [95% CI]", justify="right", no_wrap=True, drop=2)
    table.add_column("mean [95% CI]", justify="right", no_wrap=True, drop=1)
    table.add_column(
        "optimality gap [95% CI]", justify="right", no_wrap=True, drop=2, short="gap [95% CI]"
    )
    for task in group.tasks:
        scale = (
            f"{figure(task.references.random.score)} → {figure(task.references.reference.score)}"
        )
        table.add_row(task.env, str(len(task.runs)), scale, *_four(task.estimates))
    table.add_section()
    table.add_row("all tasks", str(group.runs), "", *_four(group.aggregate), style="bold")
    return table


def _four(estimates: dict[str, Estimate]) -> list[str]:
    return [estimate(estimates.get(name)) for name in ("iqm", "median", "mean", "optimality_gap")]
