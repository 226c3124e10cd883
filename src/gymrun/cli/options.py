"""Options several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Debug = Annotated[
    bool,
    typer.Option("--debug", envvar="GYMRUN_DEBUG", help="Show Python tracebacks on errors."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")]
ConfigPath = Annotated[Path, typer.Argument(help="A YAML experiment config.", show_default=False)]
Overrides = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="KEY=VALUE", help="Override a config key (repeatable)."),
]
