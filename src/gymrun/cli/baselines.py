"""``gymrun baselines``: parse options, call the library, render."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gymrun.cli.console import console, json_stdout, progress, stopped
from gymrun.cli.options import AsJson, given_path, given_seed, given_text, refuse_unused

if TYPE_CHECKING:
    from gymrun.baselines import TaskBaselines


def baselines(
    pattern: Annotated[
        str | None,
        typer.Argument(
            help="Environment IDs to run (a substring or a glob, as for list-envs). Default: "
            "every task with a shipped agent (about a minute at 100 episodes). A pattern "
            "may name any registered env, which then gets the random agent alone: Atari's "
            "hundreds of IDs take hours.",
            show_default=False,
            parser=given_text,
        ),
    ] = None,
    episodes: Annotated[
        int, typer.Option("--episodes", "-n", min=1, help="Episodes per agent and task.")
    ] = 100,
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            parser=given_seed,
            metavar="N",
            help="The seed of every run (a whole number from 0 to 2**64 - 1).",
        ),
    ] = 0,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=1, help="Play each run's episodes in N processes."),
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the table as Markdown (as the docs show it).")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Record here instead of recordings/baselines/TIME/.",
            parser=given_path,
        ),
    ] = None,
    no_record: Annotated[bool, typer.Option("--no-record", help="Write nothing to disk.")] = False,
    as_json: AsJson = False,
) -> None:
    """The random agent and the best shipped non-learning agent on every task.

    For each: mean and 95% interval, the reward threshold and whether the mean reaches it
    (reached on average, not reached on average, within noise), and the exact optimum where
    it is known.

    Examples:

        gymrun baselines 'CartPole*'
        gymrun baselines 'FrozenLake*' -n 20 --no-record
    """
    from rich.progress import MofNCompleteColumn, TimeElapsedColumn

    from gymrun.baselines import markdown_table, run_baselines
    from gymrun.cli.baseline_tables import baselines_notes, baselines_table
    from gymrun.records.directory import record_dir
    from gymrun.scale.executors import executor

    if as_json:
        refuse_unused("--json prints one JSON object", {"--markdown": markdown})
    if no_record:
        refuse_unused("--no-record writes nothing", {"--output": output})
    with json_stdout(as_json) as documents:
        err = console(stderr=True)
        with record_dir("baselines", output=output, record=not no_record) as directory:
            quiet = as_json or markdown
            bar = progress(
                err, MofNCompleteColumn(), "tasks", TimeElapsedColumn(), enabled=not quiet
            )
            with bar:
                task_bar = bar.add_task("baselines", total=None)

                def on_task(task: TaskBaselines | None, env_id: str, done: int, total: int) -> None:
                    bar.update(task_bar, completed=done, total=total, description=env_id)

                result = run_baselines(
                    pattern,
                    episodes=episodes,
                    seed=seed,
                    directory=None if directory is None else directory.path,
                    executor=executor(None, workers),
                    on_task=on_task,
                )
        document = result.to_json()
        if as_json:
            documents.append(document)
        elif markdown:
            typer.echo(markdown_table(document), nl=False)
        else:
            console().print(baselines_table(document))
            for note in baselines_notes(document):
                err.print(f"note: {note}")
            for note in result.notes[:1]:
                err.print(f"note: {note}")
            tasks = "task" if len(result.tasks) == 1 else "tasks"
            err.print(f"{len(result.tasks)} {tasks} in {result.seconds:.0f} s")
            if directory is not None:
                err.print(f"recorded in {directory.path}")
        if result.status == "interrupted":
            stopped(after=": the tasks that finished are kept")
