"""The command line: Typer commands that parse options, call the library and render.

Only this package imports typer and rich.
"""

from gymrun.cli.app import app, main

__all__ = ["app", "main"]
