"""``gymrun board``: the scoreboard of every recorded run, as a static site (or served)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gymrun.cli.console import console, json_stdout, progress
from gymrun.cli.options import AsJson, given_path
from gymrun.errors import NotInstalledError, UsageError
from gymrun.numbers import counted

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import TaskID

    from gymrun.board.build import BuildReport


def board(
    recordings: Annotated[
        Path,
        typer.Argument(
            help="The recordings directory to show.",
            metavar="RECORDINGS_DIR",
            show_default=True,
            parser=given_path,
        ),
    ] = Path("recordings"),
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where the site is written.", parser=given_path)
    ] = Path("board"),
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Serve the site on 127.0.0.1, following runs as they record (open pages refresh).",
        ),
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            "-p",
            min=0,
            max=65535,
            help="Port for --serve: 8000 unless given, 0 for any free one.",
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Build a web scoreboard of every recorded run, as plain files that work offline.

    Leaderboards per environment, run pages, sweeps, and comparisons with interval
    estimates.

    Examples:

        gymrun board
        gymrun board recordings --serve --port 8000
    """
    if port is not None and not serve:
        raise UsageError(f"--port {port} is the port --serve serves on: add --serve")
    if serve and as_json:
        # --json is one document, printed when the command ends; a server never ends so.
        raise UsageError(
            "--json prints one build's report, and --serve builds until stopped: drop --json"
        )
    from gymrun.components.extras import install_command

    try:
        from gymrun.board.build import build_board
        from gymrun.board.serve import DEFAULT_PORT, serve_board
    except ModuleNotFoundError as exc:
        hint = install_command("gymrun[board]")
        raise NotInstalledError(
            f"gymrun board needs {exc.name}, which is not installed: {hint}"
        ) from exc
    err = console(stderr=True)
    if not serve:
        with json_stdout(as_json) as documents, Reading(err) as reading:
            report = build_board(recordings, out, on_progress=reading.update)
            reading.close()
            if as_json:
                documents.append(report.to_json())
            else:
                _report(report)
        return
    reading = Reading(err)

    def built(report: BuildReport) -> None:
        reading.close()  # the first build's bar, gone before its line is printed
        _report(report)

    # Ctrl-C, SIGTERM or SIGHUP end it as they end every command: said, with their status
    with reading:
        serve_board(
            recordings,
            out,
            port=DEFAULT_PORT if port is None else port,
            on_ready=lambda address: console().print(
                f"serving {address} (Ctrl-C to stop)", soft_wrap=True
            ),
            on_build=built,
            on_error=lambda exc: err.print(f"error: {exc}", style="red"),
            on_progress=reading.update,
        )


class Reading:
    """A bar of the runs a build reads, on a terminal (nothing elsewhere): a first build
    of thousands of runs reads for a while. Shown once a build has runs to read, gone when
    `close`d."""

    def __init__(self, err: Console) -> None:
        from rich.progress import MofNCompleteColumn, TimeRemainingColumn

        self._bar = progress(err, MofNCompleteColumn(), TimeRemainingColumn(), enabled=True)
        self._task: TaskID | None = None
        self._open = False

    def __enter__(self) -> Reading:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def update(self, read: int, to_read: int) -> None:
        if self._bar.disable:  # not a terminal
            return
        if self._task is None:
            self._bar.start()
            self._open = True
            self._task = self._bar.add_task("reading runs", total=to_read)
        self._bar.update(self._task, completed=read, total=to_read)

    def close(self) -> None:
        if self._open:
            self._bar.stop()
            self._open = False


def _report(report: BuildReport) -> None:
    out = console()
    damaged = f" ({report.damaged} damaged)" if report.damaged else ""
    duels = f"{counted(report.duels, 'duel')}, " if report.duels else ""
    out.print(
        f"board: {counted(report.runs, 'run')}{damaged}, {counted(report.sweeps, 'sweep')}, "
        f"{duels}{counted(report.environments, 'environment')}; read {report.read}, "
        f"wrote {counted(len(report.written), 'file')} in {report.seconds:.2f} s -> {report.index}",
        soft_wrap=True,
    )
    for note in report.notes:
        console(stderr=True).print(f"note: {note}")
