"""Loading a config: YAML in, ``--set`` overrides applied, one `ConfigError` naming every
problem with its file, line and key out."""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gymrun.components.agents import agent_env, file_keywords, resolve_agent
from gymrun.components.catalog import find_spec
from gymrun.components.importing import modules_beside
from gymrun.components.vector_backends import vector_backend
from gymrun.config.overrides import apply_overrides, dotted, not_utf8, set_path, twice_given
from gymrun.config.places import Places
from gymrun.config.schema import (
    ONE_RUN,
    SECTION_MODELS,
    EnvConfig,
    ExperimentConfig,
    OnePoint,
    RecordConfig,
    VectorConfig,
    expand_shorthands,
    section_form,
    shorthand_lines,
)
from gymrun.config.wording import wording
from gymrun.config.yaml_source import Document, Loc, line_of, read_yaml
from gymrun.errors import ConfigError, GymrunError, Problem, did_you_mean


def load_config(
    path: str | Path,
    overrides: Sequence[str] = (),
    *,
    episodes: int | None = None,
    seed: int | None = None,
    num_envs: int | None = None,
    agent: str | None = None,
    wrappers: Sequence[str] | None = None,
    dataset: str | None = None,
    one: OnePoint = ONE_RUN,
) -> ExperimentConfig:
    """Read, override and validate a YAML config; every problem found is in one `ConfigError`.

    `overrides` are ``KEY=VALUE`` strings (``wrappers.0.epsilon=0.2``); values are YAML.
    `episodes`, `seed`, `num_envs` (``vector.num_envs``) and `dataset`
    (``record.dataset``) are shortcuts for overrides;
    `agent` and `wrappers` (names) replace the config's agent and wrapper stack before the
    overrides apply, so that these can set their keywords. A config with a ``sweep:``
    section is refused as `one` says (a run's words by default): `load_sweep` reads it.

    >>> config = load_config("configs/cartpole_epsilon.yaml", ["wrappers.0.epsilon=0.2"])
    >>> config.env.id, config.wrappers[0].epsilon, config.agent.name
    ('CartPole-v1', 0.2, 'constant')
    """
    shortcuts, components = (
        _shortcuts(episodes, seed, num_envs, dataset),
        _components(agent, wrappers),
    )
    _refuse_twice_given(overrides, shortcuts, components)
    return validate_document(
        read_yaml(path),
        overrides,
        shortcuts,
        default_name=stem_name(path),
        base_dir=Path(path).parent,
        components=components,
        one=one,
    )


def env_config(
    env_id: str,
    overrides: Sequence[str] = (),
    *,
    episodes: int | None = None,
    seed: int | None = None,
    num_envs: int | None = None,
    agent: str | None = None,
    wrappers: Sequence[str] | None = None,
    dataset: str | None = None,
    one: OnePoint = ONE_RUN,
) -> ExperimentConfig:
    """A config of `env_id` alone (the random agent, 100 episodes), as `load_config` would
    read it from a file holding ``env: ENV_ID``.

    >>> config = env_config("CartPole-v1", ["agent.action=0", "wrappers.0.epsilon=0.5"],
    ...                     agent="constant", wrappers=["epsilon_random"])
    >>> config.name, config.agent.name, config.wrappers[0].epsilon, config.episodes
    ('CartPole-v1', 'constant', 0.5, 100)
    """
    shortcuts, components = (
        _shortcuts(episodes, seed, num_envs, dataset),
        _components(agent, wrappers),
    )
    _refuse_twice_given(overrides, shortcuts, components)
    return validate_document(
        Document(env_id, {"env": env_id}),
        overrides,
        shortcuts,
        default_name=re.sub(r"[^A-Za-z0-9_.-]", "-", env_id).strip("-_.")[:100] or "experiment",
        components=components,
        one=one,
    )


# The config key each shortcut sets (``gymrun run``'s -n, --seed, --num-envs, --dataset).
SHORTCUT_KEYS = {
    "episodes": "episodes",
    "seed": "seed",
    "num_envs": "vector.num_envs",
    "dataset": "record.dataset",
}


def _shortcuts(
    episodes: int | None, seed: int | None, num_envs: int | None, dataset: str | None = None
) -> list[tuple[str, str, Any]]:
    named = wording()
    given = {"episodes": episodes, "seed": seed, "num_envs": num_envs, "dataset": dataset}
    return [
        (named.setting(keyword, value), SHORTCUT_KEYS[keyword], value)
        for keyword, value in given.items()
        if value is not None
    ]


def _components(agent: str | None, wrappers: Sequence[str] | None) -> list[tuple[str, str, Any]]:
    named = wording()
    chosen: list[tuple[str, str, Any]] = []
    if agent is not None:
        chosen.append((named.agent(agent), "agent", {"name": agent}))
    if wrappers:
        chosen.append((named.wrappers(wrappers), "wrappers", [{"name": n} for n in wrappers]))
    return chosen


def _refuse_twice_given(
    overrides: Sequence[str],
    shortcuts: Sequence[tuple[str, str, Any]],
    components: Sequence[tuple[str, str, Any]],
) -> None:
    """Refuse an override of a key a shortcut (``--episodes``) or a component (``--agent``:
    its name; ``--wrapper``: each one's name) gives too: neither is to win in silence."""
    if isinstance(overrides, str | bytes | dict):
        return  # refused as such by `validate_document`
    settings: list[tuple[str, Loc]] = [
        (origin, tuple(key.split("."))) for origin, key, _ in shortcuts
    ]
    for origin, key, value in components:
        names = [("name",)] if key == "agent" else [(index, "name") for index in range(len(value))]
        settings += [(origin, (key, *name)) for name in names]
    problems = twice_given(settings, overrides)
    if problems:
        raise ConfigError(problems)


def validate_document(
    document: Document,
    overrides: Sequence[str] = (),
    extra: Sequence[tuple[str, str, Any]] = (),
    default_name: str | None = None,
    base_dir: Path | None = None,
    components: Sequence[tuple[str, str, Any]] = (),
    one: OnePoint = ONE_RUN,
    written: Collection[Loc] = (),
) -> ExperimentConfig:
    """Validate a parsed document after applying `overrides` (``KEY=VALUE``) and `extra` settings
    (`components`, settings that replace the agent or wrappers, apply before the overrides).
    A document that still has a ``sweep:`` section is refused as `one` says, before its keys
    are checked: the grid may give what they leave out (each point its env).

    Files the agent reads (its ``file_keywords``) given as relative paths are read from
    `base_dir`, the config's directory, when the file wrote them (`written`: the keys of
    `extra` that are its text too, a sweep's point from its grid), and from the working
    directory when the caller gave them (`overrides`, `components`, the rest of `extra`) or
    there is no `base_dir`; they are kept as absolute paths, so the resolved config runs the
    same from anywhere."""
    if isinstance(overrides, str | bytes | dict):  # a str would be read letter by letter
        raise TypeError(
            f"overrides must be a sequence of 'KEY=VALUE' strings, not a {type(overrides).__name__}"
            " (['episodes=3'], not 'episodes=3')"
        )
    if document.data is None:
        raise ConfigError([Problem(document.source, "", "the config is empty")])
    if not isinstance(document.data, dict):
        kind = type(document.data).__name__
        message = f"a config must be a mapping of keys (env, agent, ...), not a {kind}"
        raise ConfigError([Problem(document.source, "", message, 1)])
    data = expand_shorthands(copy.deepcopy(document.data))  # overrides must not touch the document
    if default_name and "name" not in data:
        data["name"] = default_name
    origins: dict[Loc, str] = {}
    problems: list[Problem] = []
    for origin, key, value in components:
        if (garbled := not_utf8(origin)) is not None:
            problems.append(garbled)
            continue
        set_path(data, key, value, origin, origins, problems)
    data = apply_overrides(data, overrides, origins, problems)
    for origin, key, value in extra:
        if (garbled := not_utf8(f"{origin} {value}")) is not None:
            problems.append(garbled)
            continue
        set_path(data, key, value, origin, origins, problems)
    if problems:
        raise ConfigError(problems)
    lines = shorthand_lines(document.data, document.lines)
    places = Places(document.source, lines, origins, frozenset(written))
    if data.get("sweep") is not None:
        raise ConfigError([one.problem(places)])
    try:
        with modules_beside(base_dir):
            config = ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, data, places)) from None
    config = _files_resolved(config, places, base_dir)
    config._places = places
    _check_agent_env(config)
    return config


def _check_agent_env(config: ExperimentConfig) -> None:
    """Refuse, now that its files' paths are known, a config whose environment the agent's
    files say it cannot play as trained (an rl-zoo3 folder's other env, say): before
    anything is made."""
    vector = config.vector
    try:
        backend = None if vector is None else vector_backend(vector.mode, find_spec(config.env.id))
        agent = resolve_agent(config.agent.name)
        agent_env(agent, config.agent_options, config.env.id, config.env.kwargs, backend)
    except GymrunError as exc:
        problem = config.problem_of(exc)
        raise ConfigError([problem]) if problem is not None else exc from None


def _files_resolved(
    config: ExperimentConfig, places: Places, base_dir: Path | None
) -> ExperimentConfig:
    options = config.agent_options
    paths = {
        key: str((places.folder_of(("agent", key), base_dir) / value).absolute())
        for key in file_keywords(config.agent.name)
        if isinstance(value := options.get(key), str) and not Path(value).is_absolute()
    }
    if not paths:
        return config
    agent = config.agent.model_copy(update=paths)
    if agent.model_extra is not None:  # a user's agent: its options are extra keys
        agent.model_extra.update(paths)
    return config.model_copy(update={"agent": agent})


def stem_name(path: str | Path) -> str:
    """A run name from a config's file name, made safe for a directory name.

    >>> stem_name("configs/my sweep!.yaml")
    'my-sweep-'
    """
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", Path(path).stem).lstrip("-_.")
    return name[:100] or "experiment"


def _problems(exc: ValidationError, data: dict[str, Any], places: Places) -> list[Problem]:
    problems = []
    for error in exc.errors():
        loc = _clean_loc(error["loc"])
        context = error.get("ctx") or {}
        if context.get("key"):
            loc = (*loc, context["key"])
        if context.get("loc"):
            loc = tuple(context["loc"])
        message = error["msg"]
        if error["type"] == "invalid_key":
            problems.append(_key_not_a_name(loc[:-1], error["input"], data, places))
            continue
        if error["type"] == "value_error":  # the validator's own words, without pydantic's
            message = str(context["error"])
        elif error["type"] in _KINDS:
            message = _not_of_kind(error["type"], error["input"])
        elif error["type"] == "model_type":
            message = (
                f"expected {section_form(context['class_name'])}, not {_given(error['input'])}"
            )
        elif error["type"] == "extra_forbidden":
            message = "unknown key" + _where_it_goes(loc, _known_keys(data, loc[:-1]))
        elif error["type"] == "missing":
            message = "required key is missing"
        if error["type"] == "missing" and places.origin(loc) is not None:
            message += f" ({wording().to_set(dotted(loc))})"  # given beside the file
        elif context.get("missing") and places.origin(loc) is not None:  # -W NAME, say
            message += f" ({wording().to_set(dotted((*loc, context['missing'][0])))})"
        problems.append(places.problem(loc, message))
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


# What a key of each kind takes, by pydantic's error for a value of another kind
_KINDS = {
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
}


def _not_of_kind(error_type: str, value: Any) -> str:
    """A value given where a key takes another kind, said with what it was read as: a whole
    number written as a float (``1e3``, ``5.0``, which YAML reads as floats) is told how to
    write it as an integer.

    >>> _not_of_kind("int_type", 1000.0), _not_of_kind("list_type", "ClipReward")
    ('expected an integer, not 1000.0; write 1000', "expected a list, not 'ClipReward'")
    """
    message = f"expected {_KINDS[error_type]}, not {_given(value)}"
    if error_type == "int_type" and isinstance(value, float) and value.is_integer():
        message += f"; write {int(value)}"
    return message


def _given(value: Any) -> str:
    """A value as a message about its kind names it: ``5``, ``a list``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a mapping"
    if isinstance(value, bool):
        return str(value).lower()  # as YAML spells it
    return repr(value) if isinstance(value, str) else str(value)


def _reads_as(text: str, key: Any) -> bool:
    """Whether YAML's `text` of a key may be what it read as `key` (``~`` as None)."""
    if key is None:
        return text in ("", "~", "null", "Null", "NULL")
    if isinstance(key, bool):
        return text.lower() == str(key).lower()
    try:
        return bool(float(text) == key)
    except ValueError:
        return False


def _key_not_a_name(parent: Loc, key: Any, data: dict[str, Any], places: Places) -> Problem:
    """`key`, which YAML read as a number, a boolean or null (``1:``, ``~:``), in section
    `parent`, placed at its line: the file's text of it is the one under `parent` that no
    string key of the data has."""
    node: Any = data
    for part in parent:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            node = None
    names = {k for k in node if isinstance(k, str)} if isinstance(node, dict) else set()
    texts = [
        at[-1]
        for at in places.lines
        if len(at) == len(parent) + 1 and at[:-1] == parent and at[-1] not in names
    ]
    matched = [text for text in texts if _reads_as(str(text), key)] or texts
    text = str(matched[0]) if len(matched) == 1 else str(key)
    kind = "null" if key is None else "true or false" if isinstance(key, bool) else "a number"
    message = f"the key {text} is read as {kind}; keys are names (quote it: '{text}')"
    origin = places.origin(parent) if parent else None
    if origin is not None:
        return Problem(origin, dotted(parent), message)
    line = places.lines.get((*parent, text), line_of(places.lines, parent))
    return Problem(places.source, dotted(parent), message, line)


def _clean_loc(loc: tuple[str | int, ...]) -> Loc:
    """Drop the union tags pydantic puts in locations (``agent.constant.action``)."""
    loc = tuple(loc)
    if loc[:1] == ("agent",) and len(loc) > 1:
        return (loc[0], *loc[2:])
    if loc[:1] == ("wrappers",) and len(loc) > 2:
        return (*loc[:2], *loc[3:])
    return loc


# Top-level keys of other tools' configs (rl-zoo3's hyperparameters, SB3's evaluation, a
# hand loop's names) and where gymrun takes what they mean: a near miss of one of gymrun's
# own keys would point elsewhere (n_envs to env, seeds to seed).
_ELSEWHERE = {
    "env_kwargs": "an environment's keywords go under env: {id: ID, kwargs: {...}}",
    "kwargs": "an environment's keywords go under env: {id: ID, kwargs: {...}}",
    "env_id": "the environment is env: ID",
    "id": "the environment is env: ID",
    "max_episode_steps": "give max_steps, or env: {id: ID, max_episode_steps: N}",
    "n_envs": "a vector run is vector: {num_envs: N}",
    "num_envs": "a vector run is vector: {num_envs: N}",
    "n_episodes": "the number of episodes is episodes: N",
    "num_episodes": "the number of episodes is episodes: N",
    "n_eval_episodes": "the number of episodes is episodes: N",
    "seeds": "several seeds are a sweep: sweep: {seeds: [...]}",
    "policy": "what acts is agent: (a name, or {name: sb3, path: FILE} for a trained model)",
    "model": "what acts is agent: (a name, or {name: sb3, path: FILE} for a trained model)",
    "algo": "a trained model is agent: {name: sb3, path: FILE, algo: NAME}",
    "video": "videos are record: {video: true}",
    "record_video": "videos are record: {video: true}",
    "render_mode": "videos are record: {video: true}; other render modes go under env: "
    "{id: ID, kwargs: {render_mode: ...}}",
}


def _where_it_goes(loc: Loc, known: list[str]) -> str:
    """A did-you-mean suffix for unknown key `loc`: for a top-level key of another tool,
    where gymrun takes it; else a near miss of a `known` key.

    >>> _where_it_goes(("env_kwargs",), ["env", "episodes"])
    "; an environment's keywords go under env: {id: ID, kwargs: {...}}"
    >>> _where_it_goes(("episods",), ["env", "episodes"])
    "; did you mean 'episodes'?"
    """
    key = str(loc[-1])
    if len(loc) == 1 and key in _ELSEWHERE:
        return f"; {_ELSEWHERE[key]}"
    return did_you_mean(key, known)


def _known_keys(data: dict[str, Any], parent: Loc) -> list[str]:
    """The keys allowed where an unknown key was found, for did-you-mean."""
    if not parent:
        return list(ExperimentConfig.model_fields)
    sections: dict[Loc, type[BaseModel]] = {
        ("env",): EnvConfig,
        ("record",): RecordConfig,
        ("vector",): VectorConfig,
    }
    if parent in sections:
        return list(sections[parent].model_fields)
    node: Any = data
    for part in parent:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return []
    name = node.get("name") if isinstance(node, dict) else None
    model = SECTION_MODELS.get(name) if isinstance(name, str) else None
    return list(model.model_fields) if model else []
