"""``gymrun show`` and ``gymrun compare``: recorded runs, read back from disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gymrun.cli.console import console, error_boundary
from gymrun.cli.options import AsJson, Debug

if TYPE_CHECKING:
    from gymrun.board.groups import Comparison
    from gymrun.records.reading import StoredRun


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
    from gymrun.records.reading import read_run

    with error_boundary(debug):
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
            }
            typer.echo(json.dumps(document))
            return
        rows = EpisodeRows()
        run = read_run(run_dir, rows.add_all)
        out = console()
        out.print(f"run {run.directory}")
        if rows.count:
            out.print(rows.table())
        out.print(summary_table(run.summary, run.config, run.status))
        err = console(stderr=True)
        if run.error:
            err.print(f"the run failed: {run.error}")
        for note in run.notes:
            err.print(f"note: {note}")


def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories to compare.")],
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Compare recorded runs side by side, one row each; runs of one config with several
    seeds are also compared as groups (IQM, mean, probability of improvement)."""
    from gymrun.cli.run_tables import compare_table
    from gymrun.records.reading import read_run

    with error_boundary(debug):
        runs = [read_run(directory) for directory in run_dirs]
        comparisons, note = _group_comparisons(runs)
        if as_json:
            rows = [
                {
                    "run_dir": str(r.directory),
                    "config": r.config,
                    "summary": r.summary.to_json(),
                    "status": r.status,
                }
                for r in runs
            ]
            groups = [c.to_json() for c in comparisons]
            typer.echo(json.dumps({"runs": rows, "groups": groups}, default=str))
            return
        console().print(compare_table(runs))
        _print_groups(comparisons)
        if note:
            console(stderr=True).print(f"note: {note}")


def _group_comparisons(runs: list[StoredRun]) -> tuple[list[Comparison], str | None]:
    """The runs grouped by config and compared, as ``gymrun board`` does; without scipy,
    none and a note saying what to install."""
    try:
        from gymrun.board.groups import compare
        from gymrun.board.runs import read_provenance, stored_member
    except ModuleNotFoundError as exc:
        return [], f"comparing groups of runs needs {exc.name}: pip install 'gymrun[board]'"
    members = [stored_member(r, read_provenance(r.directory)) for r in runs]
    return compare(members), None


def _print_groups(comparisons: list[Comparison]) -> None:
    from gymrun.cli.group_tables import groups_table, improvement_table, profile_table

    out = console()
    for comparison in comparisons:
        seeded = any(len(g.scored) > 1 for g in comparison.groups)
        if len(comparison.groups) < 2 and not seeded:
            continue  # one run per config and a single config: the table above says it all
        out.print(groups_table(comparison))
        if len(comparison.compared) > 1:
            out.print(improvement_table(comparison))
            out.print(profile_table(comparison))
