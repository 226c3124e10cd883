"""Options several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gymrun.errors import UsageError

# the last seed a config takes (config.schema, config.grid): numpy's generators take seeds
# below 2**64; an option that gives one refuses a larger one as the config would
LAST_SEED = 2**64 - 1
SEED_RANGE = "a seed is a whole number from 0 to 2**64 - 1"


def given_path(text: str) -> Path:
    """A path from the command line: an empty one (``''``, an unset shell variable) is
    refused, where it would read as the current folder."""
    if not text:
        raise typer.BadParameter("an empty path")
    return Path(text)


def given_seed(text: str) -> int:
    """A seed from the command line: a whole number from 0 to 2**64 - 1, checked here so
    that ``--help`` says so in words, not as a 20-digit range that widens its column."""
    try:
        value = int(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: {SEED_RANGE}") from None
    if not 0 <= value <= LAST_SEED:
        raise typer.BadParameter(f"{value}: {SEED_RANGE}")
    return value


def given_text(text: str) -> str:
    """A config, an environment ID or a pattern from the command line: an empty one (an unset
    shell variable) is refused, where it would read as the current folder or match every
    environment."""
    if not text:
        raise typer.BadParameter("an empty argument")
    return text


def refuse_unused(reason: str, options: dict[str, Any]) -> None:
    """Refuse those of `options` that are given (not None, not False), which `reason` says
    can have no effect: ``--dry-run runs nothing: drop --output, --force``."""
    given = [name for name, value in options.items() if value is not None and value is not False]
    if given:
        raise UsageError(f"{reason}: drop {', '.join(given)}")


AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
ConfigPath = Annotated[
    Path,
    typer.Argument(help="A YAML experiment config.", show_default=False, parser=given_path),
]
Overrides = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE", help="Override a config key (repeatable)."),
]
DaskAddress = Annotated[
    str | None,
    typer.Option(
        "--address",
        metavar="tcp://HOST:PORT",
        help="Dask scheduler (default: $DASK_SCHEDULER_ADDRESS).",
    ),
]
WaitWorkers = Annotated[
    float | None,
    typer.Option(
        "--wait-workers",
        min=0,
        metavar="SECONDS",
        help="How long --executor dask waits for a worker (default: "
        "$GYMRUN_DASK_WAIT_WORKERS, else 30).",
    ),
]
ExecutorName = Annotated[
    str | None,
    typer.Option(
        "--executor",
        "-e",
        metavar="local|process|dask",
        help="Where episodes are played: local (this process; the default), process (a pool "
        "of --workers processes) or dask (a cluster). The episodes are the same.",
    ),
]
Workers = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=1,
        help="Processes of --executor process (default: one per core); alone, N above 1 "
        "means --executor process.",
    ),
]
