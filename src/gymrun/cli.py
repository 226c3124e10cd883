"""The ``gymrun`` command: parses options, calls the library, prints what it returns.

Heavy imports (gymnasium, numpy, pydantic) happen inside the commands, so ``--help`` is quick.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from gymrun import __version__
from gymrun.errors import GymrunError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console

    from gymrun.config import ExperimentConfig
    from gymrun.rollout import EpisodeResult

EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="gymrun",
    help="Run reinforcement-learning experiments on Gymnasium environments from YAML configs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Debug = Annotated[
    bool,
    typer.Option("--debug", envvar="GYMRUN_DEBUG", help="Show Python tracebacks on errors."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
ConfigPath = Annotated[Path, typer.Argument(help="A YAML experiment config.", show_default=False)]


def _console(stderr: bool = False) -> Console:
    from rich.console import Console

    # Messages on stderr are never wrapped: one problem, one line, whatever the width.
    # markup=False: names, paths and messages are shown as they are, brackets and all.
    return Console(stderr=stderr, highlight=False, markup=False, soft_wrap=stderr)


@contextmanager
def _errors(debug: bool) -> Iterator[None]:
    """The one error boundary: gymrun's errors become red lines and an exit code."""
    try:
        yield
    except GymrunError as exc:
        _fail(exc, exc.exit_code, debug)
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        _console(stderr=True).print("interrupted", style="yellow")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        message = f"unexpected {type(exc).__name__}: {exc}"
        if not debug:
            message += " (run with --debug for the traceback)"
        _fail(exc, 1, debug, message)


def _fail(exc: BaseException, code: int, debug: bool, message: str | None = None) -> NoReturn:
    from rich.text import Text

    err = _console(stderr=True)
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    for line in (message or str(exc)).splitlines():
        err.print(Text.assemble(("error:", "red"), f" {line}"))
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gymrun {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Run reinforcement-learning experiments on Gymnasium environments from YAML configs."""


@app.command()
def run(
    config_path: ConfigPath,
    episodes: Annotated[
        int | None, typer.Option("--episodes", "-n", min=1, help="Override episodes.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Override the seed.")] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override a config key (repeatable)."),
    ] = None,
    num_envs: Annotated[
        int | None,
        typer.Option(
            "--num-envs", min=1, help="Run as a vector env of N copies (vector.num_envs)."
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Split episodes across N processes.")
    ] = 1,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Record here instead of recordings/NAME/TIME/."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Let --output replace the run already in it.")
    ] = False,
    no_record: Annotated[bool, typer.Option("--no-record", help="Write nothing to disk.")] = False,
    as_json: AsJson = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only the summary: no progress, no episodes.")
    ] = False,
    debug: Debug = False,
) -> None:
    """Run an experiment: episodes of an agent in a wrapped environment, recorded to disk."""
    from gymrun.config import load_config
    from gymrun.experiment import unbounded_episodes_warning
    from gymrun.recordings import claim_output_dir, new_run_dir

    with _errors(debug):
        config = load_config(
            config_path, overrides or [], episodes=episodes, seed=seed, num_envs=num_envs
        )
        if config.sweep and not as_json:
            _console(stderr=True).print(
                "note: this config has a sweep; `gymrun run` runs its base settings "
                "(use `gymrun sweep` for the grid)"
            )
        warning = unbounded_episodes_warning(config)
        if warning:
            _console(stderr=True).print(f"warning: {warning}", style="yellow")
        if no_record:
            record_dir = None
        elif output is not None:
            record_dir = claim_output_dir(output, force=force)
        else:
            record_dir = new_run_dir(config.name or "experiment")
        try:
            _run_and_report(config, record_dir, workers, as_json=as_json, quiet=quiet, debug=debug)
        except GymrunError:  # the run could not start: leave no empty directory behind
            if record_dir is not None:
                _remove_if_empty(record_dir)
            raise


def _remove_if_empty(directory: Path) -> None:
    with contextlib.suppress(OSError):
        directory.rmdir()


def _run_and_report(
    config: ExperimentConfig,
    record_dir: Path | None,
    workers: int,
    *,
    as_json: bool,
    quiet: bool,
    debug: bool,
) -> None:
    from gymrun.experiment import run_experiment
    from gymrun.render import EpisodeRows, summary_table

    rows = EpisodeRows()
    err = _console(stderr=True)
    progress = _progress(err, config.episodes, enabled=not (as_json or quiet))
    with progress:
        task = progress.add_task(config.name or "run", total=config.episodes)

        def on_episodes(episodes: Sequence[EpisodeResult]) -> None:
            rows.add_all(episodes)
            progress.advance(task, len(episodes))

        result = run_experiment(
            config,
            record_dir=record_dir,
            keep_episodes=as_json,
            on_episodes=on_episodes,
            workers=workers,
        )
    if config.seed is None and not as_json:
        seed = result.config.seed
        err.print(f"seed {seed} was drawn; add --seed {seed} to repeat this run")
    if as_json:
        typer.echo(json.dumps(result.to_json()))
    else:
        out = _console()
        if not quiet and rows.count:
            out.print(rows.table())
        out.print(summary_table(result.summary, result.config.to_json(), result.status))
        if record_dir is not None:
            err.print(f"recorded in {record_dir}")
    for note in result.notes:
        err.print(f"note: {note}")
    if result.error is not None:
        _fail(result.error, result.error.exit_code, debug)
    if result.status == "interrupted":
        err.print(f"interrupted after {result.summary.count} finished episodes", style="yellow")
        raise typer.Exit(EXIT_INTERRUPTED)


def _progress(console: Console, total: int, *, enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not (enabled and console.is_terminal),
    )


@app.command()
def sweep(
    config_path: ConfigPath,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the grid; run nothing.")
    ] = False,
    executor: Annotated[
        str, typer.Option("--executor", "-e", help="local | process | dask")
    ] = "local",
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, help="Processes for --executor process.")
    ] = 2,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Dask scheduler (default: $DASK_SCHEDULER_ADDRESS)."),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="KEY=VALUE", help="Override a config key (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Record here instead of recordings/.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Let --output replace a sweep.")] = False,
    no_record: Annotated[bool, typer.Option("--no-record", help="Write nothing.")] = False,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Run a config's sweep: a grid of settings and seeds, compared with 95% intervals."""
    from gymrun.recordings import claim_output_dir, new_run_dir
    from gymrun.render import sweep_grid_table, sweep_table
    from gymrun.sweep import EXECUTORS, load_sweep, run_sweep

    with _errors(debug):
        if executor not in EXECUTORS:
            raise GymrunError(f"--executor {executor}: use one of {', '.join(EXECUTORS)}")
        grid = load_sweep(config_path, overrides or [])
        if dry_run:
            if as_json:
                typer.echo(json.dumps(grid.to_json()))
            else:
                _console().print(sweep_grid_table(grid))
            return
        if no_record:
            sweep_dir = None
        elif output is not None:
            sweep_dir = claim_output_dir(output, force=force)
        else:
            sweep_dir = new_run_dir(grid.name)
        err = _console(stderr=True)
        progress = _sweep_progress(err, len(grid.runs), enabled=not as_json)
        with progress:
            task = progress.add_task(grid.name, total=len(grid.runs), rate="")
            started = time.perf_counter()

            def on_progress(done: int, total: int, episodes: int) -> None:
                rate = episodes / max(time.perf_counter() - started, 1e-9)
                progress.update(task, completed=done, rate=f"{rate:,.0f} episodes/s")

            try:
                result = run_sweep(
                    grid,
                    executor=executor,
                    workers=workers,
                    address=address,
                    sweep_dir=sweep_dir,
                    on_progress=on_progress,
                )
            except GymrunError:  # the sweep could not start: leave no empty directory
                if sweep_dir is not None:
                    _remove_if_empty(sweep_dir)
                raise
        if as_json:
            typer.echo(json.dumps(result.to_json()))
        else:
            _console().print(sweep_table(result))
            for point in result.points:
                for error in point.errors:
                    err.print(f"point {point.values}: failed: {error}", style="red")
            if sweep_dir is not None:
                err.print(f"recorded in {sweep_dir}")
        for note in result.notes[:1]:
            err.print(f"note: {note}")
        if result.status == "interrupted":
            err.print("interrupted: unfinished runs were cancelled", style="yellow")
            raise typer.Exit(EXIT_INTERRUPTED)
        if any(point.status == "failed" for point in result.points):
            raise typer.Exit(1)


def _sweep_progress(console: Console, total: int, *, enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        "runs",
        TimeElapsedColumn(),
        "{task.fields[rate]}",
        console=console,
        transient=True,
        disable=not (enabled and console.is_terminal),
    )


@app.command()
def show(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (or recordings/NAME for its newest run).")
    ],
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Print a recorded run's tables again, from disk (interrupted runs too)."""
    from gymrun.recordings import read_run
    from gymrun.render import EpisodeRows, summary_table

    with _errors(debug):
        run = read_run(run_dir)
        if as_json:
            document = {
                "config": run.config,
                "episodes": [episode.to_json() for episode in run.episodes()],
                "summary": run.summary.to_json(),
                "status": run.status,
                "error": run.error,
                "run_dir": str(run.directory),
            }
            typer.echo(json.dumps(document))
            return
        rows = EpisodeRows()
        for episode in run.episodes():
            rows.add_all((episode,))
        out = _console()
        out.print(f"run {run.directory}")
        if rows.count:
            out.print(rows.table())
        out.print(summary_table(run.summary, run.config, run.status))
        err = _console(stderr=True)
        if run.error:
            err.print(f"the run failed: {run.error}")
        for note in run.notes:
            err.print(f"note: {note}")


@app.command()
def compare(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories to compare.")],
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Compare recorded runs side by side, one row each."""
    from gymrun.recordings import read_run
    from gymrun.render import compare_table

    with _errors(debug):
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
        _console().print(compare_table(runs))


@app.command("list-envs")
def list_envs(
    pattern: Annotated[
        str | None, typer.Argument(help="Substring or glob (e.g. 'CartPole*') to filter IDs.")
    ] = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """List every registered environment, grouped by family."""
    from gymrun.catalog import list_envs as find_envs

    with _errors(debug):
        infos = find_envs(pattern)
        if as_json:
            typer.echo(json.dumps([info.to_json() for info in infos]))
            return
        from gymrun.render import envs_table

        out = _console()
        if not infos:
            out.print(f"no registered environment matches '{pattern}'")
            return
        out.print(envs_table(infos))
        out.print(f"{len(infos)} environments")


@app.command()
def inspect(
    env_id: Annotated[str, typer.Argument(help="An environment ID, e.g. CartPole-v1.")],
    config_path: Annotated[
        Path | None,
        typer.Option("--config", help="Show the spaces after this config's wrapper stack."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed for reset and samples.")] = 0,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Describe an environment: spec, action and observation spaces, samples."""
    from gymrun.config import load_config
    from gymrun.inspection import describe_env

    with _errors(debug):
        config = load_config(config_path) if config_path is not None else None
        info = describe_env(env_id, config=config, seed=seed)
        if as_json:
            typer.echo(json.dumps(info))
            return
        from gymrun.render import env_description

        _console().print(env_description(info))


@app.command()
def validate(config_path: ConfigPath, debug: Debug = False) -> None:
    """Check a config without running it (schema, names, env, wrappers and agent)."""
    from gymrun.config import load_config
    from gymrun.experiment import Experiment

    with _errors(debug):
        config = load_config(config_path)
        Experiment(config).close()
        wrappers = ", ".join(name for name, _ in config.wrapper_stack) or "none"
        _console().print(
            f"{config_path}: valid — {config.env.id}, wrappers: {wrappers}, "
            f"agent: {config.agent.name}, {config.episodes} episodes"
        )


@app.command()
def doctor(as_json: AsJson = False, debug: Debug = False) -> None:
    """Which environment families and optional features work here, and how to add the rest."""
    from gymrun.doctor import diagnose

    with _errors(debug):
        report = diagnose()
        if as_json:
            typer.echo(json.dumps(report))
            return
        from gymrun.render import doctor_table

        _console().print(doctor_table(report))


@app.command()
def check(
    env_id: Annotated[str, typer.Argument(help="An environment ID, e.g. CartPole-v1.")],
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.01, help="How long to play randomly.")
    ] = 1.0,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Run Gymnasium's environment checker on ENV_ID and time random play."""
    from gymrun.checking import check_environment

    with _errors(debug):
        report = check_environment(env_id, seconds=seconds)
        if as_json:
            typer.echo(json.dumps(report))
        else:
            from gymrun.render import check_table

            _console().print(check_table(report))
        if not report["passed"]:
            raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the config's JSON Schema (for editors that validate YAML)."""
    from gymrun.config import config_schema

    typer.echo(json.dumps(config_schema(), indent=2))


def main() -> None:
    app(prog_name="gymrun")
