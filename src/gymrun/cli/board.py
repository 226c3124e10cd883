"""``gymrun board``: the scoreboard of every recorded run, as a static site (or served)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gymrun.cli.console import console, json_stdout
from gymrun.cli.options import AsJson
from gymrun.errors import NotInstalledError

if TYPE_CHECKING:
    from gymrun.board.build import BuildReport


def board(
    recordings: Annotated[
        Path,
        typer.Argument(
            help="The recordings directory to show.", metavar="RECORDINGS_DIR", show_default=True
        ),
    ] = Path("recordings"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Where the site is written.")] = Path(
        "board"
    ),
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Serve the site on 127.0.0.1, following runs as they record (open pages refresh).",
        ),
    ] = False,
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port for --serve (0: any free).")
    ] = 8000,
    as_json: AsJson = False,
) -> None:
    """Build a web scoreboard of every recorded run, as plain files that work offline.

    Leaderboards per environment, run pages, sweeps, and comparisons with interval
    estimates.

    Examples:

        gymrun board
        gymrun board recordings --serve --port 8000
    """
    from gymrun.components.extras import install_command

    try:
        from gymrun.board.build import build_board
        from gymrun.board.serve import serve_board
    except ModuleNotFoundError as exc:
        hint = install_command("gymrun[board]")
        raise NotInstalledError(
            f"gymrun board needs {exc.name}, which is not installed: {hint}"
        ) from exc
    if not serve:
        with json_stdout(as_json) as documents:
            report = build_board(recordings, out)
            if as_json:
                documents.append(report.to_json())
            else:
                _report(report)
        return
    err = console(stderr=True)
    try:
        serve_board(
            recordings,
            out,
            port=port,
            on_ready=lambda address: console().print(
                f"serving {address} (Ctrl-C to stop)", soft_wrap=True
            ),
            on_build=_report,
            on_error=lambda exc: err.print(f"error: {exc}", style="red"),
        )
    except KeyboardInterrupt:
        err.print("stopped")


def _report(report: BuildReport) -> None:
    out = console()
    damaged = f" ({report.damaged} damaged)" if report.damaged else ""
    runs = "run" if report.runs == 1 else "runs"
    sweeps = "sweep" if report.sweeps == 1 else "sweeps"
    duels = "" if not report.duels else f"{report.duels} duel{'' if report.duels == 1 else 's'}, "
    envs = "environment" if report.environments == 1 else "environments"
    out.print(
        f"board: {report.runs} {runs}{damaged}, {report.sweeps} {sweeps}, {duels}"
        f"{report.environments} {envs}; read {report.read}, "
        f"wrote {len(report.written)} files in {report.seconds:.2f} s -> {report.index}",
        soft_wrap=True,
    )
    for note in report.notes:
        console(stderr=True).print(f"note: {note}")
