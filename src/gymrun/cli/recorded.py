"""``gymrun show`` and ``gymrun compare``: recorded runs, read back from disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from gymrun.cli.console import console, error_boundary, json_stdout
from gymrun.cli.options import AsJson, Debug
from gymrun.errors import ExitStatus


def show(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (or recordings/NAME for its newest run).")
    ],
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Print a recorded run's tables again, from disk (interrupted runs too)."""
    from gymrun.cli.run_tables import EpisodeRows, summary_table
    from gymrun.core.episodes import EpisodeResult
    from gymrun.records.curve import RewardCurve
    from gymrun.records.plots import draw_missing_plot
    from gymrun.records.reading import read_run

    with error_boundary(debug), json_stdout(as_json) as documents:
        if as_json:
            episodes: list[EpisodeResult] = []
            run = read_run(run_dir, episodes.extend)
            document = {
                "config": run.config,
                "episodes": [episode.to_json() for episode in episodes],
                "summary": run.summary.to_json(),
                "status": run.status,
                "error": run.error,
                "run_dir": str(run.directory),
                "problems": run.problems,
            }
            documents.append(document)
            damaged(run.problems)
            return
        rows = EpisodeRows()
        curve = RewardCurve(expected=max(1, _expected(run_dir)))

        def take(episodes: Sequence[EpisodeResult]) -> None:
            rows.add_all(episodes)
            curve.add_all(episodes)

        run = read_run(run_dir, take)
        note = draw_missing_plot(run, curve.curve())
        out = console()
        out.print(f"run {run.directory}")
        if rows.count:
            out.print(rows.table())
        out.print(summary_table(run.summary, run.config, run.status))
        err = console(stderr=True)
        if run.error:
            err.print(f"the run failed: {run.error}")
        for message in [*run.notes, *([note] if note else [])]:
            err.print(f"note: {message}")
        damaged(run.problems)


def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories to compare.")],
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Compare recorded runs side by side, one row each."""
    from gymrun.cli.run_tables import compare_table
    from gymrun.records.reading import read_run

    with error_boundary(debug), json_stdout(as_json) as documents:
        runs = [read_run(directory) for directory in run_dirs]
        problems = [problem for run in runs for problem in run.problems]
        if as_json:
            rows = [
                {
                    "run_dir": str(r.directory),
                    "config": r.config,
                    "summary": r.summary.to_json(),
                    "status": r.status,
                    "problems": r.problems,
                }
                for r in runs
            ]
            documents.append(rows)
        else:
            console().print(compare_table(runs))
        damaged(problems)


def _expected(run_dir: Path) -> int:
    """How many episodes the run was to have, for the bins of its reward curve."""
    from gymrun.records.reading import find_run, planned_episodes

    try:
        return planned_episodes(find_run(run_dir))
    except Exception:  # read_run says what is wrong with the directory
        return 1


def damaged(problems: list[str]) -> None:
    """Name each damaged file (and line) of a record; a damaged record is bad input."""
    if problems:
        err = console(stderr=True)
        for problem in problems:
            err.print(f"error: {problem}", style="red")
        raise typer.Exit(ExitStatus.BAD_INPUT)
