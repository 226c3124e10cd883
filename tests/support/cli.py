"""gymrun's commands through Typer's runner, in this process: an exception that escapes the
error boundary fails the test (``catch_exceptions=False``) instead of passing as exit 1."""

from __future__ import annotations

from typing import NamedTuple

from typer.testing import CliRunner

from gymrun.cli import app


class Result(NamedTuple):
    """What a user sees: the exit code and the two streams (``code, out, err = gymrun(...)``)."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def gymrun(*args: str, env: dict[str, str] | None = None) -> Result:
    """``gymrun ARGS`` as typed at a terminal (the test's environment: 200 columns, no colour,
    unless `env` says otherwise)."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)
