"""Commands about environments and this installation, and checking a config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gymrun.cli.console import console, error_boundary, json_stdout
from gymrun.cli.options import AsJson, ConfigPath, Debug

EnvId = Annotated[str, typer.Argument(help="An environment ID, e.g. CartPole-v1.")]


def list_envs(
    pattern: Annotated[
        str | None, typer.Argument(help="Substring or glob (e.g. 'CartPole*') to filter IDs.")
    ] = None,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """List every registered environment, grouped by family."""
    from gymrun.cli.env_tables import envs_table
    from gymrun.components.catalog import list_envs as find_envs

    with error_boundary(debug), json_stdout(as_json) as documents:
        infos = find_envs(pattern)
        if as_json:
            documents.append([info.to_json() for info in infos])
            return
        out = console()
        if not infos:
            out.print(f"no registered environment matches '{pattern}'")
            return
        out.print(envs_table(infos))
        out.print(f"{len(infos)} environments")


def inspect(
    env_id: EnvId,
    config_path: Annotated[
        Path | None,
        typer.Option("--config", help="Show the spaces after this config's wrapper stack."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed for reset and samples.")] = 0,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Describe an environment: spec, action and observation spaces, samples."""
    from gymrun.cli.env_tables import env_description
    from gymrun.config import load_config
    from gymrun.diagnostics.inspection import describe_env

    with error_boundary(debug), json_stdout(as_json) as documents:
        config = load_config(config_path) if config_path is not None else None
        info = describe_env(env_id, config=config, seed=seed)
        if as_json:
            documents.append(info)
            return
        console().print(env_description(info))


def validate(config_path: ConfigPath, debug: Debug = False) -> None:
    """Check a config without running it: schema, names, keywords, and the env, wrappers
    and agent built as far as that runs no code of yours and writes nothing."""
    from gymrun.config import load_config
    from gymrun.core.experiment import trial_build

    with error_boundary(debug):
        config = load_config(config_path)
        left_out = trial_build(config)
        wrappers = ", ".join(name for name, _ in config.wrapper_stack) or "none"
        console().print(
            f"{config_path}: valid — {config.env.id}, wrappers: {wrappers}, "
            f"agent: {config.agent.name}, {config.episodes} episodes"
        )
        for part in left_out:
            console(stderr=True).print(
                f"note: not built, so not checked beyond its keywords: {part}"
            )


def doctor(as_json: AsJson = False, debug: Debug = False) -> None:
    """Which environment families and optional features work here, and how to add the rest."""
    from gymrun.cli.env_tables import doctor_table
    from gymrun.diagnostics.doctor import diagnose

    with error_boundary(debug), json_stdout(as_json) as documents:
        report = diagnose()
        if as_json:
            documents.append(report)
            return
        console().print(doctor_table(report))


def check(
    env_id: EnvId,
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.01, help="How long to play randomly.")
    ] = 1.0,
    as_json: AsJson = False,
    debug: Debug = False,
) -> None:
    """Run Gymnasium's environment checker on ENV_ID and time random play."""
    from gymrun.cli.env_tables import check_table
    from gymrun.diagnostics.checking import check_environment
    from gymrun.errors import ExitStatus

    with error_boundary(debug), json_stdout(as_json) as documents:
        report = check_environment(env_id, seconds=seconds)
        if as_json:
            documents.append(report)
        else:
            console().print(check_table(report))
        if not report["passed"]:
            raise typer.Exit(ExitStatus.FAILURE)


def schema() -> None:
    """Print the config's JSON Schema (for editors that validate YAML)."""
    from gymrun.config import config_schema

    typer.echo(json.dumps(config_schema(), indent=2))
