"""``gymrun duel``: two configs compared seed by seed, in rounds, until a sequential test
decides; and how a duel is shown (here and by ``gymrun show``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gymrun.cli.console import console, json_stdout, progress, stopped
from gymrun.cli.options import (
    AsJson,
    DaskAddress,
    ExecutorName,
    Overrides,
    WaitWorkers,
    Workers,
    given_path,
    given_seed,
)
from gymrun.cli.running import (
    NoRecord,
    chosen_executor,
    refuse_unused_recording,
    resume_command,
)
from gymrun.cli.usage import debugging
from gymrun.errors import ExitStatus, FaultError, UsageError

if TYPE_CHECKING:
    from rich.table import Table

    from gymrun.duel import Duel, DuelProgress


def duel(
    ctx: typer.Context,
    config_a: Annotated[
        Path | None,
        typer.Argument(
            metavar="A", help="The first config (YAML).", show_default=False, parser=given_path
        ),
    ] = None,
    config_b: Annotated[
        Path | None,
        typer.Argument(
            metavar="B", help="The second config (YAML).", show_default=False, parser=given_path
        ),
    ] = None,
    max_seeds: Annotated[
        int | None,
        typer.Option(
            "--max-seeds",
            min=1,
            help="The most seeds of each config; undecided there, no difference is "
            "detectable within them (default 20).",
        ),
    ] = None,
    round_size: Annotated[
        int | None,
        typer.Option("--round", min=1, help="Seeds of each config per round (default 4)."),
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(
            "--alpha",
            help="The chance of calling two configs that score alike different, over every "
            "round (default 0.05).",
        ),
    ] = None,
    score: Annotated[
        str | None,
        typer.Option(
            "--score",
            metavar="mean|iqm|median",
            help="Each run's score, of its episode rewards (default mean).",
        ),
    ] = None,
    spending: Annotated[
        str | None,
        typer.Option(
            "--spending",
            metavar="linear|obrien-fleming|pocock",
            help="How alpha is spent over the rounds (default linear, AdaStop's).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            parser=given_seed,
            metavar="N",
            help="The first seed both configs play; then the next (default 0; a whole "
            "number from 0 to 2**64 - 1).",
        ),
    ] = None,
    overrides: Overrides = None,
    executor: ExecutorName = None,
    workers: Workers = None,
    address: DaskAddress = None,
    wait_workers: WaitWorkers = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Record here instead of recordings/.", parser=given_path
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Let --output replace a duel.")] = False,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            metavar="DIR",
            help="Finish the stopped duel recorded in DIR (A and B may be left out): its "
            "finished runs are kept; with --set episodes=N, more than it ran, each run goes "
            "on to N.",
            parser=given_path,
        ),
    ] = None,
    no_record: NoRecord = False,
    as_json: AsJson = False,
) -> None:
    """Compare two configs on shared seeds, in rounds, until a sequential test decides.

    Each round plays --round more seeds of each config (each seed a whole run, scored by
    its mean reward); then a two-sided sequential test on the paired scores says A scores
    higher, B does, or go on. At --max-seeds it ends: no difference detectable within
    them. Over all rounds, two configs that score alike are called different at most
    --alpha of the time.

    Examples:

        gymrun duel configs/cartpole_random.yaml configs/cartpole_balance.yaml --set episodes=5
        gymrun duel configs/cartpole_epsilon.yaml configs/cartpole_random.yaml -w 2 --set episodes=9
        gymrun duel --resume recordings/cartpole_random-vs-cartpole_balance/TIME
        gymrun duel --resume recordings/cartpole_random-vs-cartpole_balance/TIME --set episodes=50
    """
    from gymrun.analysis.verdicts import seeds_of_each
    from gymrun.duel import load_duel, recorded_duel, run_duel
    from gymrun.records.directory import record_dir

    with json_stdout(as_json) as documents:
        if config_a is None and resume is None:
            raise UsageError("Missing argument 'A' (see gymrun duel --help)")
        if config_a is not None and config_b is None:
            raise UsageError("Missing argument 'B' (see gymrun duel --help)")
        refuse_unused_recording(output, force, no_record, resume)
        playing = chosen_executor(executor, workers, address, wait_workers, debugging(ctx))
        given = {
            "max_seeds": max_seeds,
            "round": round_size,
            "alpha": alpha,
            "score": score,
            "spending": spending,
            "first_seed": seed,
        }
        settings = {key: value for key, value in given.items() if value is not None}
        if config_a is None:  # the duel recorded there; --set episodes=N takes it on to N
            assert resume is not None
            contest = recorded_duel(resume, overrides or [], **settings)
        else:
            assert config_b is not None
            contest = load_duel(config_a, config_b, overrides or [], **settings)
        err = console(stderr=True)
        with (
            record_dir(
                contest.name,
                output=resume or output,
                force=force or resume is not None,
                record=not no_record,
                keyword="output" if resume is None else "resume",
            ) as duel_dir,
            _Progress(contest, enabled=not as_json) as shown,
        ):
            result = run_duel(
                contest,
                executor=playing,
                duel_dir=duel_dir,
                on_progress=shown.update,
                resume=resume is not None,
            )
        document = result.to_json()
        if as_json:
            documents.append(document)
        else:
            print_duel(document)
            if duel_dir is not None:
                err.print(f"recorded in {duel_dir.path}")
        for note in result.notes:
            err.print(f"note: {note}")
        if result.status == "interrupted" and duel_dir is not None and not as_json:
            err.print(f"to finish it: {resume_command(duel_dir.path)}")
        if result.status == "interrupted" and result.error is not None:
            raise FaultError(f"{result.error}; the duel's unfinished runs are marked interrupted")
        if result.status == "interrupted":
            stopped(after=f" after {seeds_of_each(result.seeds)}; finished runs are kept")
        if result.status == "failed":
            err.print(f"the duel failed: {result.error}", style="red")
            raise typer.Exit(ExitStatus.FAILURE)


class _Progress:
    """The runs of the round playing, as a bar on a terminal, and each round's look as it
    is decided, one line on stderr."""

    def __init__(self, contest: Duel, enabled: bool) -> None:
        from rich.progress import MofNCompleteColumn, TimeElapsedColumn

        self.err = console(stderr=True)
        self.enabled = enabled
        self.bar = progress(
            self.err, MofNCompleteColumn(), "runs", TimeElapsedColumn(), enabled=enabled
        )
        self.task = self.bar.add_task(contest.name, total=2 * contest.round)
        self.shown = 0

    def __enter__(self) -> _Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.bar.__exit__(*exc_info)

    def update(self, now: DuelProgress) -> None:
        from gymrun.analysis.verdicts import seeds_of_each
        from gymrun.numbers import figure

        if not self.enabled:
            return
        description = f"round {now.round} of at most {now.rounds} ({seeds_of_each(now.seeds)})"
        self.bar.update(
            self.task,
            description=description,
            completed=now.runs.runs_done,
            total=now.runs.runs,
        )
        for number, look in enumerate(now.looks[self.shown :], self.shown + 1):
            boundary = "—" if look.boundary is None else f"±{figure(look.boundary)}"
            said = look.decision or "go on"
            self.bar.console.print(
                f"round {number}: {seeds_of_each(look.seeds)}, A - B {figure(look.difference)},"
                f" boundary {boundary}: {said}"
            )
        self.shown = len(now.looks)


def print_duel(document: dict[str, Any]) -> None:
    """A duel (its JSON form, as ``duel.json`` holds it) on stdout: its rounds, what it
    decided and the guarantee that comes with it, and the test."""
    from gymrun.analysis.verdicts import guarantee, verdict

    out = console()
    out.print(rounds_table(document))
    out.print(f"decision: {verdict(document)}", style="bold")
    if document["decision"] in ("A", "B"):
        out.print(f"guarantee: {guarantee(document['alpha'])}")
    elif document["decision"] == "none":
        out.print(
            "guarantee: none that the two are equal: a difference too small for these seeds "
            "to show may remain (--max-seeds allows more)"
        )
    test = document["test"]
    out.print(f"test: {test['name']}, {test['spending']} alpha spending; {test['score']}")


def rounds_table(document: dict[str, Any]) -> Table:
    """A row per round: the seeds of each side, each side's mean score, the mean difference
    and the boundary it must go beyond, and what the test said."""
    from gymrun.analysis.verdicts import seeds_of_each, side_name
    from gymrun.cli.fitted import FittedTable
    from gymrun.numbers import figure

    settings = document["duel"]
    first, last = settings["first_seed"], settings["first_seed"] + settings["max_seeds"] - 1
    table = FittedTable(
        title=f"A {side_name(document, 'A')} vs B {side_name(document, 'B')}: at most "
        f"{seeds_of_each(settings['max_seeds'])} ({first} to {last}), {settings['round']} a round",
        title_justify="left",
    )
    table.add_column("round", justify="right", no_wrap=True)
    table.add_column("seeds of each", justify="right", no_wrap=True)
    table.add_column("A mean score", justify="right", no_wrap=True)
    table.add_column("B mean score", justify="right", no_wrap=True)
    table.add_column("A - B", justify="right", no_wrap=True)
    table.add_column("boundary", justify="right", no_wrap=True)
    table.add_column("alpha spent", justify="right", no_wrap=True, drop=1)
    table.add_column("decision", no_wrap=True)
    for number, row in enumerate(document["rounds"], 1):
        boundary = row["boundary"]
        table.add_row(
            str(number),
            str(row["seeds"]),
            figure(row["mean_a"]),
            figure(row["mean_b"]),
            figure(row["difference"]),
            "—" if boundary is None else f"±{figure(boundary)}",
            figure(row["spent"]),
            row["decision"] or "go on",
        )
    if any(row["boundary"] is None for row in document["rounds"]):
        table.caption = (
            "boundary —: nothing these seeds' differences could add up to would decide "
            "(too few seeds yet, or none differ)"
        )
        table.caption_justify = "left"
    return table
