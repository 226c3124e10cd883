"""The ``gymrun`` command: its commands, each parsing options, calling the library and
printing what it returns.

Every command imports the library (gymnasium, numpy, pydantic, rich) inside itself, so that
``gymrun --help`` starts quickly.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from gymrun.cli.baselines import baselines
from gymrun.cli.board import board
from gymrun.cli.console import readable_streams
from gymrun.cli.duel import duel
from gymrun.cli.environments import check, doctor, inspect, list_envs, schema, validate
from gymrun.cli.planning import plan_seeds
from gymrun.cli.recorded import compare, show
from gymrun.cli.running import run, sweep
from gymrun.cli.usage import Command, Group, TableCommand
from gymrun.version import __version__

app = typer.Typer(
    name="gymrun",
    help="Run reinforcement-learning experiments on Gymnasium environments from YAML configs.",
    no_args_is_help=True,
    cls=Group,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


# the commands whose tables can be wider than a terminal take --wide
TABLES = (run, sweep, duel, baselines, show, compare, doctor, list_envs)
for command in (
    run,
    sweep,
    duel,
    baselines,
    show,
    compare,
    plan_seeds,
    board,
    inspect,
    validate,
    doctor,
    check,
    schema,
):
    app.command(cls=TableCommand if command in TABLES else Command)(command)
app.command("list-envs", cls=TableCommand)(list_envs)


def main() -> None:
    # `python -m gymrun` puts the working directory first on the import path: a module lying
    # there (matplotlib.py, say) would stand in for an installed one. Modules a config names
    # are still found there, after installed packages (gymrun.components.importing).
    sys.path[:] = [entry for entry in sys.path if entry not in ("", os.getcwd())]
    readable_streams()  # before anything is written, --help and usage errors too
    app(prog_name="gymrun")
