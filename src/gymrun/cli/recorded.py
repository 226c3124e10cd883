"""``gymrun show`` and ``gymrun compare``: recorded runs, read back from disk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gymrun.cli.console import console, error_boundary
from gymrun.cli.options import AsJson, Debug


def show(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (or recordings/NAME for its newest run).")
    ],
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Print a recorded run's tables again, from disk (interrupted runs too)."""
    from gymrun.baselines import find_baselines
    from gymrun.cli.run_tables import EpisodeRows, summary_table
    from gymrun.core.episodes import EpisodeResult
    from gymrun.records.reading import read_run

    with error_boundary(debug):
        baselines = find_baselines(run_dir)
        if baselines is not None:  # a `gymrun baselines` directory: its table again
            _show_baselines(baselines, as_json)
            return
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


def _show_baselines(path: Path, as_json: bool) -> None:
    from gymrun.baselines import read_baselines
    from gymrun.cli.baseline_tables import baselines_notes, baselines_table

    document = read_baselines(path)
    if as_json:
        typer.echo(json.dumps(document))
        return
    console().print(f"baselines {path.parent}")
    console().print(baselines_table(document))
    err = console(stderr=True)
    for note in baselines_notes(document):
        err.print(f"note: {note}")


def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories to compare.")],
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Compare recorded runs side by side, one row each."""
    from gymrun.cli.run_tables import compare_table
    from gymrun.records.reading import read_run

    with error_boundary(debug):
        runs = [read_run(directory) for directory in run_dirs]
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
            typer.echo(json.dumps(rows))
            return
        console().print(compare_table(runs))
