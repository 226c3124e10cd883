"""``gymrun plan-seeds``: how many runs (seeds) a comparison needs, from pilot runs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gymrun.cli.console import console, json_stdout
from gymrun.cli.options import AsJson, given_path
from gymrun.errors import NotInstalledError

if TYPE_CHECKING:
    from rich.table import Table

    from gymrun.analysis.planning import SeedPlan


def plan_seeds(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="Pilot runs: run directories; a sweep's directory stands for its runs.",
            metavar="RUN_OR_SWEEP_DIR",
            parser=given_path,
        ),
    ],
    difference: Annotated[
        str,
        typer.Option(
            "--difference",
            "-d",
            metavar="D|P%",
            help="The difference of mean run score to detect: in score units (10), or a "
            "percentage of the pilot mean (10%).",
            show_default=False,
        ),
    ],
    power: Annotated[
        float,
        typer.Option(help="The chance of detecting a true difference of that size."),
    ] = 0.8,
    alpha: Annotated[
        float,
        typer.Option(help="The test's level: the chance of a false detection."),
    ] = 0.05,
    as_json: AsJson = False,
) -> None:
    """How many runs (seeds) per group detect a difference, planned from a few pilot runs.

    Each run scores its mean episode reward; runs are grouped by config as `gymrun compare`
    groups them. One group: two algorithms that spread as it does are planned for; two
    groups: each with its own spread. The test is Welch's t-test, two-sided, its power
    computed with the noncentral t distribution. The plan is given again for the upper end
    of the pilot standard deviation's 90% interval: how far a small pilot can be off.

    Examples:

        gymrun plan-seeds recordings/*-sweep/*/epsilon=0.5-* --difference 10%
        gymrun plan-seeds recordings/*-sweep/*/epsilon=0.5-* recordings/*-sweep/*/epsilon=1.0-* -d 2
    """
    try:
        from gymrun.analysis.groups import partly_scored, stored_member
        from gymrun.analysis.planning import pilots
        from gymrun.analysis.planning import plan_seeds as plan
    except ModuleNotFoundError as exc:
        from gymrun.components.extras import install_command

        hint = install_command("gymrun[board]")
        raise NotInstalledError(
            f"gymrun plan-seeds needs {exc.name}, which is not installed: {hint}"
        ) from exc
    from gymrun.cli.recorded import damaged
    from gymrun.records.reading import compared_runs, read_run

    with json_stdout(as_json) as documents:
        directories, left_out = compared_runs(run_dirs)  # the runs compare would compare
        runs = [read_run(run) for run in directories]
        for note in left_out:
            console(stderr=True).print(f"note: {note}")
        damaged([problem for run in runs for problem in run.problems])
        rewards = [(str(r.directory), r.summary.count, r.summary.nonfinite_rewards) for r in runs]
        partly = partly_scored(rewards)  # said before the plan, which may refuse them
        if partly:
            console(stderr=True).print(f"note: {partly}", markup=False)
        result = plan(
            *pilots([stored_member(run) for run in runs]),
            difference=difference,
            power=power,
            alpha=alpha,
        )
        if as_json:
            documents.append(result.to_json())
        else:
            out = console()
            out.print(pilot_table(result))
            out.print(plan_table(result))
        err = console(stderr=True)
        for warning in result.warnings:
            err.print(f"warning: {warning}", style="yellow")


def pilot_table(plan: SeedPlan) -> Table:
    """A row per pilot group: its runs, mean ± sd, and how high its sd may really be."""
    from gymrun.analysis.planning import SD_CONFIDENCE
    from gymrun.cli.fitted import FittedTable
    from gymrun.numbers import figure, plus_minus

    table = FittedTable(title="Pilot (run score: mean episode reward)", title_justify="left")
    table.add_column("group")
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("mean ± sd", justify="right", no_wrap=True)
    table.add_column(f"sd, {SD_CONFIDENCE:.0%} upper bound", justify="right", no_wrap=True)
    for pilot in plan.pilots:
        table.add_row(
            pilot.label,
            str(len(pilot.scores)),
            plus_minus(pilot.mean, pilot.sd),
            figure(pilot.sd_high),
        )
    return table


def plan_table(plan: SeedPlan) -> Table:
    """The runs per group, the test they are planned for, and the same with a high sd."""
    from rich.table import Table

    from gymrun.analysis.planning import SD_CONFIDENCE
    from gymrun.numbers import figure

    title = f"{plan.test}, alpha {figure(plan.alpha)}, power {figure(plan.power)}"
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    wanted = figure(plan.difference)
    if plan.relative is not None:
        wanted += f" ({plan.relative * 100:.4g}% of the pilot mean, {figure(plan.pilot_mean)})"
    table.add_row("difference", wanted)
    table.add_row(
        "runs per group",
        f"{plan.runs_per_group} (power {plan.achieved_power:.3f} with the pilot's sd)",
    )
    table.add_row(
        "if sd is high",
        f"{plan.runs_per_group_if_sd_high} (with each sd at the upper end of its "
        f"{SD_CONFIDENCE:.0%} interval)",
    )
    if len(plan.pilots) == 1:
        table.add_row("assumed", "both groups spread as the pilot does")
    return table
