"""``gymrun show`` and ``gymrun compare``: recorded runs, read back from disk."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gymrun.cli.console import console, json_stdout
from gymrun.cli.options import AsJson, given_path
from gymrun.errors import ExitStatus, UsageError

if TYPE_CHECKING:
    from gymrun.analysis.groups import Comparison
    from gymrun.analysis.normalized import NormalizedComparison
    from gymrun.records.reading import StoredRun


def show(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run, sweep or duel directory (or recordings/NAME for its newest one), "
            "or a Minari dataset: its directory, or minari:ID.",
            parser=given_path,
        ),
    ],
    as_json: AsJson = False,
) -> None:
    """Print a recorded run's, sweep's or duel's tables again, from disk (interrupted ones too).

    Examples:

        gymrun show recordings/cartpole_random
        gymrun show recordings/cartpole-epsilon-sweep --json
        gymrun show minari:cartpole/balance-v0
    """
    from gymrun.baselines import find_baselines
    from gymrun.cli.run_tables import EpisodeRows, summary_table
    from gymrun.core.episodes import EpisodeResult
    from gymrun.records.dataset import dataset_dir
    from gymrun.records.layout import kind_of
    from gymrun.records.reading import find_run, read_run

    with json_stdout(as_json) as documents:
        baselines = find_baselines(run_dir)
        if baselines is not None:  # a `gymrun baselines` directory: its table again
            _show_baselines(baselines, documents if as_json else None)
            return
        run_dir = find_run(run_dir)
        dataset = dataset_dir(run_dir) is not None  # a Minari dataset: read as a run
        kind = "run" if dataset else kind_of(run_dir)
        if kind == "sweep":  # its table again
            _show_sweep(run_dir, documents if as_json else None)
            return
        if kind == "duel":  # its rounds and decision again
            _show_duel(run_dir, documents if as_json else None)
            return
        if as_json:
            episodes: list[EpisodeResult] = []
            run = read_run(run_dir, episodes.extend)
            document = {
                "config": run.config,
                "episodes": [episode.to_json() for episode in episodes],
                "summary": run.summary.to_json(),
                "status": run.became,  # as the table says it: killed, not "running"
                "error": run.error,
                "run_dir": str(run.directory),
                "problems": run.problems,
            }
            documents.append(document)
            damaged(run.problems)
            return
        rows = EpisodeRows()
        run = read_run(run_dir, rows.add_all)
        out = console()
        out.print(f"{'dataset' if dataset else 'run'} {run.directory}")
        if rows.count:
            out.print(rows.table())
        out.print(summary_table(run.summary, run.config, run.became))
        err = console(stderr=True)
        if run.error:
            err.print(f"the run failed: {run.error}")
        for message in run.notes:
            err.print(f"note: {message}")
        damaged(run.problems)


def _show_sweep(path: Path, documents: list[object] | None) -> None:
    from gymrun.cli.run_tables import sweep_table
    from gymrun.sweep import read_sweep, read_sweep_document

    if documents is not None:  # the file as the sweep wrote it, with what became of it
        document, notes = read_sweep_document(path)
        documents.append(document)
        for note in notes:
            console(stderr=True).print(f"note: {note}")
        return
    result = read_sweep(path)
    console().print(f"sweep {path}")
    console().print(sweep_table(result))
    err = console(stderr=True)
    for point in result.points:
        for error in point.errors:
            err.print(f"point {point.values}: failed: {error}", style="red")
    for note in result.notes:  # one that has not ended: killed, or still going
        err.print(f"note: {note}")
    if result.status in ("interrupted", "failed"):
        err.print(f"the sweep was {result.status}")
    damaged(result.problems)


def _show_duel(path: Path, documents: list[object] | None) -> None:
    from gymrun.cli.duel import print_duel
    from gymrun.duel import read_duel_document

    document, notes = read_duel_document(path)
    if documents is not None:  # the file as the duel wrote it, with what became of it
        documents.append(document)
        for note in notes:
            console(stderr=True).print(f"note: {note}")
        return
    console().print(f"duel {path}")
    print_duel(document)
    err = console(stderr=True)
    if document["error"]:
        err.print(f"the duel {document['status']}: {document['error']}", style="red")
    for note in notes:
        err.print(f"note: {note}")


def _show_baselines(path: Path, documents: list[object] | None) -> None:
    from gymrun.baselines import read_baselines
    from gymrun.cli.baseline_tables import baselines_notes, baselines_table

    document = read_baselines(path)
    if documents is not None:
        documents.append(document)
        return
    console().print(f"baselines {path.parent}")
    console().print(baselines_table(document))
    err = console(stderr=True)
    for note in baselines_notes(document):
        err.print(f"note: {note}")


def compare(
    run_dirs: Annotated[
        list[Path],
        typer.Argument(
            help="Run directories to compare; a sweep's directory stands for its runs, and "
            "a Minari dataset (its directory, or minari:ID) for a run of its episodes.",
            parser=given_path,
        ),
    ],
    bootstrap: Annotated[
        int | None,
        typer.Option(
            "--bootstrap",
            min=1,
            metavar="N",
            help="Resamples of the stratified percentile bootstrap behind the intervals of "
            "the normalized scores across tasks (default 10000; rliable draws 50000).",
        ),
    ] = None,
    score: Annotated[
        str,
        typer.Option(
            "--score",
            metavar="NAME",
            help="What a run scores in the groups' statistics: reward (its mean episode "
            "reward), success (its success rate: the mean of is_success) or any metric the "
            "runs recorded (its mean).",
        ),
    ] = "reward",
    as_json: AsJson = False,
) -> None:
    """Compare recorded runs side by side, and runs of one config as groups.

    Runs of one config with several seeds are also compared as groups: IQM and mean with
    95% intervals, probability of improvement, performance profiles. A sweep's runs are
    grouped by their point of the grid. Each run scores its mean episode reward, or with
    ``--score success`` its success rate (any metric the runs recorded: its mean).

    Runs of one agent and wrapper stack on several tasks are also put on one scale, the
    random agent 0 and the task's reference score 1 (gymrun baselines), and aggregated
    as rliable does: IQM, median, mean and optimality gap, per task and across tasks.

    Examples:

        gymrun compare recordings/cartpole_random recordings/cartpole-epsilon
        gymrun compare recordings/cartpole-epsilon-sweep
        gymrun compare recordings/CartPole-v1/* recordings/Acrobot-v1/* --bootstrap 50000
        gymrun compare recordings/corridor --score success
        gymrun compare recordings/cartpole_random minari:cartpole/balance-v0
    """
    from gymrun.cli.run_tables import compare_table
    from gymrun.records.reading import compared_runs, read_run

    with json_stdout(as_json) as documents:
        directories, left_out = compared_runs(run_dirs)
        runs = [read_run(run) for run in directories]
        problems = [problem for run in runs for problem in run.problems]
        comparisons, normalized, scoring = _group_comparisons(runs, bootstrap, score)
        if bootstrap is not None and normalized is not None and not normalized.aggregated:
            # the groups' own intervals have their fixed resamples: only these use N
            raise UsageError(
                f"--bootstrap {bootstrap} sets the resamples of the normalized scores across "
                "tasks, and these runs give none (no group has completed runs on two tasks "
                "or more, with reference scores for one): drop --bootstrap"
            )
        if as_json:
            rows = [
                {
                    "run_dir": str(r.directory),
                    "config": r.config,
                    "summary": r.summary.to_json(),
                    "status": r.became,
                    "problems": r.problems,
                }
                for r in runs
            ]
            groups = [c.to_json() for c in comparisons]
            across = None if normalized is None else normalized.to_json()
            documents.append({"runs": rows, "groups": groups, "normalized": across})
        else:
            console().print(compare_table(runs))
            _print_groups(comparisons)
            if normalized is not None:
                _print_normalized(normalized)
        notes = left_out + scoring
        notes += [] if normalized is None else normalized.notes
        for line in notes:
            console(stderr=True).print(f"note: {line}")
        damaged(problems)


def damaged(problems: list[str]) -> None:
    """Name each damaged file (and line) of a record; a damaged record is bad input."""
    if problems:
        err = console(stderr=True)
        for problem in problems:
            err.print(f"error: {problem}", style="red")
        raise typer.Exit(ExitStatus.BAD_INPUT)


def _group_comparisons(
    runs: list[StoredRun], resamples: int | None, score: str
) -> tuple[list[Comparison], NormalizedComparison | None, list[str]]:
    """The runs grouped by config and compared on `score`, and by agent across tasks, as
    ``gymrun board`` does; without scipy, none and a note saying what to install. Scores
    across tasks are normalized rewards, whatever `score` is (a task's reference scores
    are rewards). The notes name the runs scored on some of their rewards."""
    try:
        from gymrun.analysis.groups import (
            REWARD,
            compare,
            partly_scored,
            score_name,
            stored_member,
        )
        from gymrun.analysis.normalized import normalized_comparison
        from gymrun.core import scores
    except ModuleNotFoundError as exc:
        from gymrun.components.extras import install_command

        hint = install_command("gymrun[board]")
        return [], None, [f"comparing groups of runs needs {exc.name}: {hint}"]
    score = score_name(score, runs)
    members = [stored_member(r) for r in runs]
    scored = members if score == REWARD else [stored_member(r, score) for r in runs]
    normalized = normalized_comparison(
        members, resamples=scores.AGGREGATE_RESAMPLES if resamples is None else resamples
    )
    rewards = [(str(r.directory), r.summary.count, r.summary.nonfinite_rewards) for r in runs]
    partly = partly_scored(rewards) if score == REWARD or normalized.groups else None
    return compare(scored, score=score), normalized, [partly] if partly else []


def _print_normalized(normalized: NormalizedComparison) -> None:
    from gymrun.cli.group_tables import normalized_table

    out = console()
    for group in normalized.aggregated_groups:
        out.print(normalized_table(group, normalized.bootstrap))


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
