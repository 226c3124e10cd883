"""Commands about environments and this installation, and checking a config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gymrun.cli.console import console, json_stdout
from gymrun.cli.options import AsJson, ConfigPath, given_path, given_seed, given_text

EnvId = Annotated[
    str, typer.Argument(help="An environment ID, e.g. CartPole-v1.", parser=given_text)
]


Imports = Annotated[
    list[str] | None,
    typer.Option(
        "--import",
        metavar="MODULE",
        help="Import this module first: it may register environments (repeatable).",
    ),
]


def list_envs(
    pattern: Annotated[
        str | None,
        typer.Argument(
            help="Substring or glob (e.g. 'CartPole*') to filter IDs.", parser=given_text
        ),
    ] = None,
    imports: Imports = None,
    spaces: Annotated[
        bool,
        typer.Option(
            "--spaces", help="Make every listed env for its spaces, Atari's too (~85 ms each)."
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON array, an object per environment, instead of the table "
            "([] when none matches).",
        ),
    ] = False,
) -> None:
    """List every registered environment: whether it runs here, its spaces.

    Environments are grouped by family; a listing of up to 30 (or with --spaces) makes
    every env to show its spaces, a longer one all but Atari's.

    Examples:

        gymrun list-envs
        gymrun list-envs 'CartPole*'
        gymrun list-envs --import examples.my_envs 'Corridor*'
    """
    from gymrun.cli.env_tables import envs_table, missing_families
    from gymrun.components.catalog import list_envs as find_envs
    from gymrun.diagnostics.availability import availability

    with json_stdout(as_json) as documents:
        _import_all(imports)
        infos = find_envs(pattern)
        if not infos:  # like grep: nothing found is not bad input, but not success
            console(stderr=True).print(f"no registered environment matches '{pattern}'")
            documents.append([])  # under --json, still a document: the empty list
            raise typer.Exit(1)
        here = availability(infos, spaces=spaces)
        if as_json:
            documents.append([info.to_json() | here[info.id].to_json() for info in infos])
            return
        out = console()
        out.print(envs_table(infos, here))
        runs = sum(can.runs for can in here.values())
        envs = "1 environment" if len(infos) == 1 else f"{len(infos)} environments"
        out.print(
            f"{envs}, {runs} of them run here" if runs < len(infos) else f"{envs}, all run here"
        )
        for line in missing_families(infos, here):
            out.print(line, soft_wrap=True)


def _import_all(modules: list[str] | None) -> None:
    from gymrun.components.importing import import_module

    for module in modules or []:
        import_module(module)


def inspect(
    env_id: Annotated[
        str | None,
        typer.Argument(
            help="An environment ID, e.g. CartPole-v1 (default: the config's).",
            parser=given_text,
        ),
    ] = None,
    config_path: Annotated[
        Path | None,
        typer.Option(
            "--config", help="Show the spaces after this config's wrapper stack.", parser=given_path
        ),
    ] = None,
    imports: Imports = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed",
            parser=given_seed,
            metavar="N",
            help="Seed for reset and samples (a whole number from 0 to 2**64 - 1).",
        ),
    ] = 0,
    as_json: AsJson = False,
) -> None:
    """Describe an environment: spec, action and observation spaces, samples.

    Examples:

        gymrun inspect CartPole-v1
        gymrun inspect --config configs/cartpole_epsilon.yaml
        gymrun inspect examples.my_envs:Corridor-v0
    """
    from gymrun.cli.env_tables import env_description
    from gymrun.config import load_config
    from gymrun.config.schema import OnePoint
    from gymrun.diagnostics.inspection import describe_env
    from gymrun.errors import UsageError

    # a grid's points may each wrap, or be, another env: which one's spaces is not said
    one = OnePoint(
        "inspect shows one config's env and spaces, not a grid's",
        ("gymrun validate {source} checks each of its points",) * 2,
        drop=False,
    )
    with json_stdout(as_json) as documents:
        _import_all(imports)
        config = load_config(config_path, one=one) if config_path is not None else None
        if env_id is None:
            if config is None:
                raise UsageError("inspect: name an environment ID, or give --config FILE")
            env_id = config.env.id
        elif config is not None and config.env.id != env_id:
            raise UsageError(
                f"inspect {env_id}: {config_path} is a config of {config.env.id}; "
                f"leave the ID out, or give {config.env.id}"
            )
        info = describe_env(env_id, config=config, seed=seed)
        if as_json:
            documents.append(info)
            return
        console().print(env_description(info))


def validate(config_path: ConfigPath) -> None:
    """Check a config without running it.

    Schema, names and keywords, and the env, wrappers and agent built as far as that runs
    no code of yours and writes nothing. A trained model is checked from what its files say
    of it, never loaded (loading one runs the code its pickles hold). A config with a sweep
    section has every point of its grid checked, as ``gymrun sweep --dry-run`` does.

    Example:

        gymrun validate configs/cartpole_epsilon.yaml
    """
    from gymrun.config import load_config
    from gymrun.config.yaml_source import read_yaml
    from gymrun.core.experiment import trial_build
    from gymrun.numbers import counted
    from gymrun.sweep import load_sweep

    data = read_yaml(config_path).data
    grid = ""
    if isinstance(data, dict) and data.get("sweep") is not None:
        # its points are checked as the sweep checks them before it runs; its own keys need
        # not make a whole config (the grid may give each point its env)
        sweep = load_sweep(config_path)
        configs = [run.config for run in sweep.runs]
        points, seeds = counted(len(sweep.points), "point"), counted(len(sweep.seeds), "seed")
        grid = f", sweep: {points}, {seeds} each"
    else:
        configs = [load_config(config_path)]
    config = configs[0]
    notes = trial_build(config)

    def each(values: list[str]) -> str:
        return " / ".join(dict.fromkeys(values))  # what the points set, each once

    envs = each([c.env.id for c in configs])
    wrappers = each([", ".join(name for name, _ in c.wrapper_stack) or "none" for c in configs])
    agents = each([c.agent.name for c in configs])
    episodes = each([counted(c.episodes, "episode") for c in configs])
    console().print(
        f"{config_path}: valid — {envs}, wrappers: {wrappers}, agent: {agents}, {episodes}{grid}"
    )
    for note in notes:
        console(stderr=True).print(f"note: {note}")


def doctor(as_json: AsJson = False) -> None:
    """Which environment families and optional features work here, and how to add the rest.

    Example:

        gymrun doctor
    """
    from gymrun.cli.env_tables import doctor_table
    from gymrun.diagnostics.doctor import diagnose

    with json_stdout(as_json) as documents:
        report = diagnose()
        if as_json:
            documents.append(report)
            return
        console().print(doctor_table(report))


def check(
    env_id: EnvId,
    imports: Imports = None,
    seconds: Annotated[
        float, typer.Option("--seconds", min=0.01, help="How long to play randomly.")
    ] = 1.0,
    as_json: AsJson = False,
) -> None:
    """Run Gymnasium's environment checker on ENV_ID and time random play.

    Examples:

        gymrun check CartPole-v1
        gymrun check --import examples.my_envs Corridor-v0
    """
    from gymrun.cli.env_tables import check_table
    from gymrun.diagnostics.checking import check_environment
    from gymrun.errors import ExitStatus

    with json_stdout(as_json) as documents:
        _import_all(imports)
        report = check_environment(env_id, seconds=seconds)
        if as_json:
            documents.append(report)
        else:
            console().print(check_table(report))
        if not report["passed"]:
            raise typer.Exit(ExitStatus.FAILURE)


def schema() -> None:
    """Print the config's JSON Schema (for editors that validate YAML).

    Example:

        gymrun schema > gymrun.schema.json
    """
    from gymrun.config import config_schema

    typer.echo(json.dumps(config_schema(), indent=2))
