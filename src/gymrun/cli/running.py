"""``gymrun run`` and ``gymrun sweep``: parse options, call the library, render (the
executor and resume helpers ``gymrun duel`` shares)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
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
    given_text,
    refuse_unused,
)
from gymrun.cli.usage import debugging
from gymrun.errors import ExitStatus, FaultError, GymrunError, UnknownNameError, UsageError

if TYPE_CHECKING:
    from gymrun.config import ExperimentConfig
    from gymrun.core.episodes import EpisodeResult
    from gymrun.records.directory import RecordDir
    from gymrun.scale.executors import Executor

Output = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Record here instead of recordings/NAME/TIME/.", parser=given_path
    ),
]
NoRecord = Annotated[bool, typer.Option("--no-record", help="Write nothing to disk.")]


SHORT_RUN = 20  # episodes: a run this short prints every episode's row

Expect = Annotated[
    list[str] | None,
    typer.Option(
        "--expect",
        metavar="'METRIC >= N'",
        help="Fail (exit 3) unless the 95% interval of METRIC lies at or above N (its lower "
        "end; with <=, its upper end at or below N). METRIC: mean, iqm, median (of the "
        "reward), steps.mean, ..., success (the success rate) or any metric the run "
        "records (NAME, its mean, or NAME.STATISTIC). Repeatable.",
    ),
]
JUnit = Annotated[
    Path | None,
    typer.Option(
        "--junit",
        metavar="FILE",
        help="Write the --expect verdicts as JUnit XML.",
        parser=given_path,
    ),
]


def run(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="CONFIG_OR_ENV",
            help="A YAML experiment config, or an environment ID (CartPole-v1): the random "
            "agent for 100 episodes. With --resume DIR it may be left out: the config "
            "recorded in DIR is used.",
            show_default=False,
            parser=given_text,
        ),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(
            "--agent",
            "-a",
            metavar="NAME",
            help="Use this agent (random, constant, ..., or package.module:Class); "
            "--set agent.KEY=VALUE for its keywords.",
        ),
    ] = None,
    wrappers: Annotated[
        list[str] | None,
        typer.Option(
            "--wrapper",
            "-W",
            metavar="NAME",
            help="Wrap the env in these, innermost first (repeatable; replaces the "
            "config's); --set wrappers.0.KEY=VALUE for their keywords.",
        ),
    ] = None,
    episodes: Annotated[
        int | None, typer.Option("--episodes", "-n", min=1, help="Override episodes.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Override the seed.")] = None,
    overrides: Overrides = None,
    num_envs: Annotated[
        int | None,
        typer.Option(
            "--num-envs", min=1, help="Run as a vector env of N copies (vector.num_envs)."
        ),
    ] = None,
    workers: Workers = None,
    executor: ExecutorName = None,
    address: DaskAddress = None,
    wait_workers: WaitWorkers = None,
    output: Output = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Let --output replace the run already in it, and --dataset the dataset "
            "of that ID.",
        ),
    ] = False,
    dataset: Annotated[
        str | None,
        typer.Option(
            "--dataset",
            metavar="ID",
            help="Also write every step as the Minari dataset [NAMESPACE/]NAME[-vN] "
            "(record.dataset; -v0 when no version is given), in Minari's datasets "
            "directory (MINARI_DATASETS_PATH). Needs gymrun[minari].",
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            metavar="DIR",
            help="Finish the stopped run recorded in DIR, from its first missing episode "
            "(with the config recorded there, unless CONFIG_OR_ENV is given: then it must "
            "be that config); with -n N, more than it was started for, go on to N.",
            parser=given_path,
        ),
    ] = None,
    no_record: Annotated[
        bool,
        typer.Option(
            "--no-record",
            help="Write no run directory (config, episodes, summary, plot, video); a "
            "--dataset is still written.",
        ),
    ] = False,
    as_json: AsJson = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only the summary: no progress, no episodes.")
    ] = False,
    seeds: Annotated[
        bool, typer.Option("--seeds", help="Show each episode's seed in the episode table.")
    ] = False,
    expect: Expect = None,
    junit: JUnit = None,
) -> None:
    """Run an experiment: episodes of an agent in a wrapped environment, recorded to disk.

    Runs of up to 20 episodes list every episode; longer ones print the summary
    (``gymrun show DIR`` lists the first and last episodes of any run).

    As a CI gate, ``--expect 'mean >= 195'`` prints the interval against the bound and
    exits 3 when an expectation is not met (2: a malformed one, 1: the run failed);
    ``--expect 'success >= 0.9'`` gates on the success rate of an env that reports
    ``is_success``.

    Examples:

        gymrun run CartPole-v1
        gymrun run Acrobot-v1
        gymrun run CartPole-v1 -a constant --set agent.action=0
        gymrun run CartPole-v1 -W TimeLimit --set wrappers.0.max_episode_steps=50
        gymrun run configs/cartpole_random.yaml
        gymrun run configs/cartpole_epsilon.yaml -n 500 --seed 1
        gymrun run configs/cartpole_random.yaml --num-envs 64 -n 10000 --no-record
        gymrun run --resume recordings/cartpole_random/TIME
        gymrun run configs/cartpole_epsilon.yaml --no-record --expect 'mean >= 10'
        gymrun run configs/corridor.yaml --expect 'success >= 0.3'
        gymrun run configs/cartpole_balance.yaml -n 20 --dataset cartpole/balance --force
    """
    from gymrun.core.expectations import Expectation, check_names
    from gymrun.core.metrics import metrics_of
    from gymrun.core.plan import unbounded_episodes_warning
    from gymrun.records.directory import RecordDir, record_dir
    from gymrun.records.resuming import recorded_config_path

    with json_stdout(as_json) as documents:
        expectations = [Expectation.parse(text) for text in expect or []]
        if junit is not None and not expectations:
            raise UsageError("--junit FILE writes the verdicts of --expect: give one")
        err = console(stderr=True)
        if as_json:
            refuse_unused("--json prints one JSON object", {"--quiet": quiet, "--seeds": seeds})
        if quiet:
            refuse_unused("--quiet prints no episode table", {"--seeds": seeds})
        refuse_unused_recording(output, force, no_record, resume, dataset=dataset)
        playing = chosen_executor(executor, workers, address, wait_workers, debugging(ctx))
        if target is None:
            if resume is None:
                raise UsageError("Missing argument 'CONFIG_OR_ENV' (see gymrun run --help)")
            target = str(recorded_config_path(resume, f"--resume {resume}"))
        config = _config_of(
            target,
            overrides or [],
            episodes=episodes,
            seed=seed,
            num_envs=num_envs,
            agent=agent,
            wrappers=wrappers,
            dataset=dataset,
        )
        if seeds and config.episodes > SHORT_RUN:
            raise UsageError(
                f"--seeds adds a column to the episode table, which runs of up to {SHORT_RUN} "
                f"episodes print: this one has {config.episodes}"
            )
        # a metric the config cannot record is refused before anything runs
        check_names(expectations, [metric.name for metric in metrics_of(config)])
        warning = unbounded_episodes_warning(config)
        if warning:
            err.print(f"warning: {warning}", style="yellow")
        name = config.name or "experiment"
        claimed = (
            RecordDir.reopen(resume)
            if resume is not None
            else record_dir(name, output=output, force=force, record=not no_record)
        )
        with claimed as directory:
            _run_and_report(
                config,
                directory,
                playing,
                documents,
                as_json=as_json,
                quiet=quiet,
                seeds=seeds,
                resume=resume is not None,
                expectations=expectations,
                junit=junit,
                replace_dataset=force,
            )


def _config_of(target: str, overrides: list[str], **settings: Any) -> ExperimentConfig:
    """The config file `target` names, or else a config of the environment it names (a
    directory is never a config: ``Pendulum-v1/`` in the working directory is no reason not
    to run Pendulum-v1)."""
    from gymrun.components.catalog import find_spec
    from gymrun.config import env_config, load_config
    from gymrun.records.code import use_recorded_code

    path = Path(target)
    if (path.exists() and not path.is_dir()) or path.suffix.lower() in (".yaml", ".yml", ".json"):
        use_recorded_code(path)  # a run's config.yaml runs the modules copied beside it
        return load_config(path, overrides, **settings)
    try:
        find_spec(target)
    except GymrunError as exc:
        raise UsageError(f"{target}: not a config file, and {exc}") from None
    return env_config(target, overrides, **settings)


def refuse_unused_recording(
    output: Path | None,
    force: bool,
    no_record: bool,
    resume: Path | None,
    *,
    dataset: str | None = None,
) -> None:
    """Refuse the recording options of ``run``, ``sweep`` and ``duel`` that the others given
    leave without effect (one wording for the three)."""
    if resume is not None:
        refuse_unused(
            "--resume DIR records into DIR",
            {"--output": output, "--force": force, "--no-record": no_record},
        )
    if no_record:
        refuse_unused("--no-record writes nothing", {"--output": output, "--force": force})
    if force and output is None and dataset is None:
        raise UsageError(
            "--force lets --output DIR replace what is recorded there: give --output DIR, "
            "or drop --force"
        )


def chosen_executor(
    name: str | None,
    workers: int | None,
    address: str | None,
    wait_workers: float | None,
    debug: bool,
) -> Executor:
    """The executor of ``--executor``, ``--workers`` and the Dask options (one meaning in
    ``run``, ``sweep`` and ``duel``; a combination that means nothing is refused)."""
    from gymrun.scale.executors import executor

    err = console(stderr=True)
    playing = executor(
        name,
        workers,
        address=address,
        wait_workers=wait_workers,
        on_wait=lambda what: err.print(f"{what}..."),
    )
    if playing.name == "dask" and not debug:
        _quiet_dask()
    return playing


def _run_and_report(
    config: ExperimentConfig,
    record_dir: RecordDir | None,
    executor: Executor,
    documents: list[Any],
    *,
    as_json: bool,
    quiet: bool,
    seeds: bool,
    resume: bool = False,
    expectations: Sequence[Any] = (),
    junit: Path | None = None,
    replace_dataset: bool = False,
) -> None:
    from gymrun.cli.run_progress import RunProgress
    from gymrun.cli.run_tables import EpisodeRows, summary_table
    from gymrun.pipeline.sinks import Callback, EpisodeList, Sink
    from gymrun.run import run_experiment

    rows = EpisodeRows(keep=SHORT_RUN // 2)
    err = console(stderr=True)
    with RunProgress(err, config, enabled=not (as_json or quiet)) as bar:

        def on_episodes(episodes: Sequence[EpisodeResult]) -> None:
            rows.add_all(episodes)
            bar.add_all(episodes)

        kept = as_json or bool(expectations)
        sinks: list[Sink] = [Callback(on_episodes)] + ([EpisodeList()] if kept else [])
        result = run_experiment(
            config,
            record_dir=record_dir,
            executor=executor,
            sinks=sinks,
            resume=resume,
            replace_dataset=replace_dataset,
        )
    if config.seed is None and not as_json and not resume:
        seed = result.config.seed
        err.print(f"seed {seed} was drawn; add --seed {seed} to repeat this run")
    verdicts = None
    unknown: GymrunError | None = None  # a metric the env did not report after all
    unwritable: UsageError | None = None  # the --junit report, which could not be written
    if expectations:
        verdicts, unknown, unwritable = _gate(expectations, result, junit)
    if as_json:
        documents.append(result.to_json())
        if verdicts is not None:
            documents[-1]["expectations"] = verdicts.to_json()
    else:
        out = console()
        if not quiet and 0 < rows.count <= SHORT_RUN:
            out.print(rows.table(seeds=seeds))
        out.print(summary_table(result.summary, result.config.to_json(), result.status))
        for verdict in verdicts.verdicts if verdicts is not None else []:
            style = "green" if verdict.met else "red"
            out.print(f"expect {verdict.expectation}: {verdict.message}", style=style, markup=False)
        if record_dir is not None:
            err.print(f"recorded in {record_dir.path}")
    for note in result.notes:
        err.print(f"note: {note}")
    if result.status == "interrupted" and record_dir is not None and not as_json:
        err.print(f"to finish it: {resume_command(record_dir.path)}")
    if unwritable is not None:
        if not (result.error or result.unwritten or unknown or result.status == "interrupted"):
            raise unwritable
        # said as well: how the run ended (a fault, a signal) sets the exit status
        err.print(f"error: {unwritable}", style="red", markup=False)
    if result.error is not None:
        raise result.error
    if result.unwritten:  # asked for, and not there: a fault, though the run is whole
        where = "" if record_dir is None else f" (the run is recorded in {record_dir.path})"
        raise FaultError(f"{result.unwritten[0]}{where}")
    if unknown is not None:
        raise unknown
    if result.status == "interrupted":
        stopped(after=f" after {result.summary.count} finished episodes")
    if verdicts is not None and not verdicts.met:
        raise typer.Exit(ExitStatus.EXPECTATION_FAILED)


def _gate(
    expectations: Sequence[Any], result: Any, junit: Path | None
) -> tuple[Any, UnknownNameError | None, UsageError | None]:
    """The expectations checked on the run's episodes (None when it did not complete), a
    metric the env did not report after all, and their JUnit report written: of a run that
    did not complete, or of such a metric, each expectation as an error, not checked; and
    why the report could not be written (said beside how the run ended, which it does not
    change)."""
    from gymrun.core.expectations import check_expectations, unchecked_junit

    suite = result.config.name or "experiment"
    verdicts, report, unknown = None, None, None
    if result.status == "completed":
        try:
            verdicts = check_expectations(expectations, result.episodes)
            report = verdicts.junit(suite)
        except UnknownNameError as exc:
            unknown = exc
    if report is None:
        if unknown is not None:
            reason = str(unknown)
        elif result.status == "interrupted":
            reason = f"the run was interrupted after {result.summary.count} finished episodes"
        else:
            reason = f"the run failed: {result.error}"
        report = unchecked_junit(expectations, suite, reason)
    unwritable = None
    if junit is not None:
        try:
            junit.write_text(report, encoding="utf-8")
        except OSError as exc:
            unwritable = UsageError(f"--junit {junit}: cannot write it ({exc.strerror or exc})")
    return verdicts, unknown, unwritable


def resume_command(directory: Path) -> str:
    """The command line that ran, recording into `directory` with ``--resume``."""
    import shlex
    import sys

    args, given = [], iter(sys.argv[1:])
    for arg in given:
        if arg in ("-o", "--output", "--resume"):
            next(given, None)
        elif not arg.startswith(("--output=", "--resume=")) and arg != "--force":
            args.append(arg)
    return shlex.join(["gymrun", *args, "--resume", str(directory)])


def _quiet_dask() -> None:
    # The Dask client logs a lost connection with its traceback; gymrun says it in one line.
    # Importing distributed sets its loggers' levels, so they are set after it.
    import logging

    with contextlib.suppress(ImportError):
        import distributed  # noqa: F401
    names = [n for n in logging.root.manager.loggerDict if n.startswith(("distributed", "tornado"))]
    for name in ["distributed", "tornado", "asyncio", *names]:
        logging.getLogger(name).setLevel(logging.CRITICAL)


_NO_SWEEP_CONFIG = (
    "gymrun sweep --resume DIR needs the sweep's config too (gymrun sweep CONFIG --resume "
    "DIR): its sweep.json records the grid's values, not the settings its points share"
)


def sweep(
    ctx: typer.Context,
    config_path: Annotated[
        Path | None,
        typer.Argument(
            metavar="CONFIG",
            help="A YAML experiment config with a sweep section (also with --resume: "
            "sweep.json records the grid, not the settings its points share).",
            show_default=False,
            parser=given_path,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the grid; run nothing.")
    ] = False,
    executor: ExecutorName = None,
    workers: Workers = None,
    address: DaskAddress = None,
    wait_workers: WaitWorkers = None,
    overrides: Overrides = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Record here instead of recordings/.", parser=given_path
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Let --output replace a sweep.")] = False,
    resume: Annotated[
        Path | None,
        typer.Option(
            "--resume",
            metavar="DIR",
            help="Finish the stopped sweep of CONFIG recorded in DIR: what its runs played "
            "is kept.",
            parser=given_path,
        ),
    ] = None,
    no_record: NoRecord = False,
    as_json: AsJson = False,
) -> None:
    """Run a config's sweep: a grid of settings and seeds, compared with 95% intervals.

    Examples:

        gymrun sweep configs/cartpole_epsilon_sweep.yaml --dry-run
        gymrun sweep configs/cartpole_epsilon_sweep.yaml -e process -w 2
        gymrun sweep configs/cartpole_epsilon_sweep.yaml --set 'sweep.seeds=[0, 1]'
    """
    from rich.progress import MofNCompleteColumn, TimeElapsedColumn

    from gymrun.cli.run_tables import sweep_grid_table, sweep_table
    from gymrun.pipeline.playing import Progress
    from gymrun.records.directory import record_dir
    from gymrun.sweep import check_resumable, load_sweep, run_sweep

    with json_stdout(as_json) as documents:
        if config_path is None:
            raise UsageError(
                _NO_SWEEP_CONFIG
                if resume is not None
                else "Missing argument 'CONFIG' (see gymrun sweep --help)"
            )
        if dry_run:
            refuse_unused(
                "--dry-run prints the grid and runs nothing",
                {
                    "--executor": executor,
                    "--workers": workers,
                    "--address": address,
                    "--wait-workers": wait_workers,
                    "--output": output,
                    "--force": force,
                    "--resume": resume,
                    "--no-record": no_record,
                },
            )
        refuse_unused_recording(output, force, no_record, resume)
        playing = chosen_executor(executor, workers, address, wait_workers, debugging(ctx))
        grid = load_sweep(config_path, overrides or [])
        if dry_run:
            if as_json:
                documents.append(grid.to_json())
            else:
                console().print(sweep_grid_table(grid))
            return
        err = console(stderr=True)
        if resume is not None:  # before claiming it: a folder without a sweep is told as it is
            check_resumable(grid, resume)
        output = resume or output
        with record_dir(
            grid.name,
            output=output,
            force=force or resume is not None,
            record=not no_record,
            keyword="output" if resume is None else "resume",
        ) as sweep_dir:
            bar = progress(
                err,
                MofNCompleteColumn(),
                "runs",
                TimeElapsedColumn(),
                "{task.fields[rate]}",
                enabled=not as_json,
            )
            with bar:
                task = bar.add_task(grid.name, total=len(grid.runs), rate="")
                started = time.perf_counter()

                def on_progress(progress: Progress) -> None:
                    rate = progress.episodes / max(time.perf_counter() - started, 1e-9)
                    bar.update(
                        task,
                        completed=progress.runs_done,
                        rate=f"{progress.episodes:,} episodes, {rate:,.0f}/s",
                    )

                result = run_sweep(
                    grid,
                    executor=playing,
                    sweep_dir=sweep_dir,
                    on_progress=on_progress,
                    resume=resume is not None,
                )
        if as_json:
            documents.append(result.to_json())
        else:
            console().print(sweep_table(result))
            for point in result.points:
                for error in point.errors:
                    err.print(f"point {point.values}: failed: {error}", style="red")
            if sweep_dir is not None:
                err.print(f"recorded in {sweep_dir.path}")
        for note in result.notes:
            err.print(f"note: {note}")
        if result.status == "interrupted" and sweep_dir is not None and not as_json:
            err.print(f"to finish it: {resume_command(sweep_dir.path)}")
        if result.error is not None:
            raise FaultError(f"{result.error}; unfinished runs are marked interrupted")
        if result.status == "interrupted":
            stopped(after=": unfinished runs were cancelled")
        if any(point.status == "failed" for point in result.points):
            raise typer.Exit(ExitStatus.FAILURE)
