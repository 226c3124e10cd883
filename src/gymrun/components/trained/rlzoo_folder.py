"""rl-zoo3 model folders: where the model and its settings are, and what the settings say.

rl-zoo3 (rl-baselines3-zoo) saves a trained model as a folder (``logs/ppo/CartPole-v1_1``)
holding the model (``CartPole-v1.zip``) and a subfolder named for the environment with the
settings it was trained with: ``config.yml`` (the hyperparameters: ``env_wrapper``,
``frame_stack``, ``normalize``, ...), ``args.yml`` (the command line: ``algo``, ``env``,
``env_kwargs``) and, when ``normalize`` is set, ``vecnormalize.pkl``. This module reads all
that without rl-zoo3, without importing Stable-Baselines3 and without unpickling anything.

rl-zoo3 writes its YAML with ``yaml.dump`` of an ``OrderedDict``, so each file starts with a
``!!python/object/apply:collections.OrderedDict`` tag. That one tag is read as a mapping (and
``!!python/tuple`` as a list) by a safe loader; any other Python tag is refused, never built.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gymrun.components.trained.model_files import bounded_file, model_file
from gymrun.components.trained.sb3_files import ALGORITHMS, algorithm_named, vecnormalize_file
from gymrun.errors import AgentError, GymrunError

MAX_SETTINGS = 1 << 20  # bytes of a config.yml or args.yml (rl-zoo3 writes a few KiB)
_ORDERED_DICT = "tag:yaml.org,2002:python/object/apply:collections.OrderedDict"
_TUPLE = "tag:yaml.org,2002:python/tuple"


class _ZooLoader(yaml.SafeLoader):
    """PyYAML's safe loader, and the two tags rl-zoo3's files carry read as plain data."""


def _ordered_dict(loader: _ZooLoader, node: yaml.Node) -> dict[Any, Any]:
    # yaml.dump(OrderedDict) writes the pairs as the one argument: [[key, value], ...]
    if not isinstance(node, yaml.SequenceNode):
        raise yaml.constructor.ConstructorError(
            None, None, "an OrderedDict not written as rl-zoo3 writes one", node.start_mark
        )
    arguments = loader.construct_sequence(node, deep=True)
    pairs = arguments[0] if len(arguments) == 1 and isinstance(arguments[0], list) else None
    if pairs is None or not all(isinstance(p, list) and len(p) == 2 for p in pairs):
        raise yaml.constructor.ConstructorError(
            None, None, "an OrderedDict not written as a list of pairs", node.start_mark
        )
    return {key: value for key, value in pairs}


def _tuple(loader: _ZooLoader, node: yaml.Node) -> list[Any]:
    assert isinstance(node, yaml.SequenceNode)
    return loader.construct_sequence(node, deep=True)


_ZooLoader.add_constructor(_ORDERED_DICT, _ordered_dict)
_ZooLoader.add_constructor(_TUPLE, _tuple)


def zoo_yaml(file: Path) -> dict[str, Any]:
    """The mapping rl-zoo3's YAML `file` holds, read safely: no tag builds a Python object.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".yml") as handle:
    ...     _ = handle.write("!!python/object/apply:collections.OrderedDict\\n"
    ...                      "- - - frame_stack\\n    - 4\\n  - - normalize\\n    - true\\n")
    ...     handle.flush()
    ...     zoo_yaml(Path(handle.name))
    {'frame_stack': 4, 'normalize': True}
    """
    bounded_file(str(file), "rlzoo", MAX_SETTINGS, "settings")
    try:
        with file.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_ZooLoader)  # a safe loader
    except yaml.constructor.ConstructorError as exc:
        line = "" if exc.problem_mark is None else f" line {exc.problem_mark.line + 1}"
        raise AgentError(
            f"agent rlzoo: {file}{line}: {_tag_problem(exc)}; gymrun reads rl-zoo3's "
            "OrderedDict tag as a mapping and builds no other Python object"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = "" if mark is None else f" line {mark.line + 1}"
        problem = getattr(exc, "problem", None) or "not YAML"
        raise AgentError(f"agent rlzoo: {file}{line}: not YAML ({problem})") from None
    except RecursionError:
        raise AgentError(f"agent rlzoo: {file}: nested too deep to read") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentError(f"agent rlzoo: cannot read {file}: {exc}") from None
    if not isinstance(data, dict):
        raise AgentError(
            f"agent rlzoo: {file} holds a {type(data).__name__}, not the mapping of settings "
            "rl-zoo3 writes"
        )
    return data


def _tag_problem(exc: yaml.constructor.ConstructorError) -> str:
    problem = exc.problem or "a value gymrun cannot read"
    tag = re.search(r"constructor for the tag '([^']*)'", problem)
    if tag is not None:
        return f"the tag !!{tag.group(1).removeprefix('tag:yaml.org,2002:')} is not read"
    return problem


@dataclass(frozen=True)
class ZooFolder:
    """An rl-zoo3 model folder, read: the model file and what it was trained with."""

    folder: Path
    model: Path
    algo: str | None  # the algorithm's config name, when the folder or the config says it
    env_id: str  # the environment it was trained on, as gymnasium.make takes it
    env_name: str  # the settings' subfolder, the environment's name in file names
    config_file: Path
    args_file: Path | None
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    # (class, kwargs) of each env_wrapper, innermost first, the class as 'module:Class'
    wrappers: tuple[tuple[str, dict[str, Any]], ...] = ()
    vecnormalize: Path | None = None
    frame_stack: int = 0

    @property
    def env_kwargs_source(self) -> Path:
        """The file the environment's keyword arguments come from (args.yml overrides
        config.yml, as rl-zoo3's enjoy.py reads them)."""
        return self.args_file if self.args_file is not None else self.config_file


def read_zoo_folder(path: str, algo: str | None = None, model: str | None = None) -> ZooFolder:
    """rl-zoo3 model folder `path`, read (see the module's docstring): the model is `model`
    inside it (default ``ENV.zip``, as rl-zoo3 saves it); the algorithm is `algo`, or what
    the folder says. An `AgentError` names each setting gymrun cannot play as trained."""
    folder = _folder(path)
    settings = _settings_folder(folder)
    config_file = settings / "config.yml"
    args_path = settings / "args.yml"
    config = zoo_yaml(config_file)
    args_file = args_path if os.path.lexists(args_path) else None
    args = {} if args_file is None else zoo_yaml(args_file)
    env_id = _text(args.get("env", settings.name), "env", args_file or config_file)
    vec_wrapper = config.get("vec_env_wrapper")
    if vec_wrapper is not None:
        raise AgentError(
            f"agent rlzoo: {config_file} sets vec_env_wrapper ({vec_wrapper}), which wraps the "
            "whole vector env; gymrun plays each environment alone and does not reproduce it"
        )
    model_path = folder / (model if model is not None else f"{settings.name}.zip")
    model_file(str(model_path), "rlzoo")
    return ZooFolder(
        folder=folder,
        model=model_path,
        algo=_algo(algo, folder, args, args_file),
        env_id=env_id,
        env_name=settings.name,
        config_file=config_file,
        args_file=args_file,
        env_kwargs=_env_kwargs(config, args, config_file, args_file),
        wrappers=_wrappers(config.get("env_wrapper"), config_file),
        vecnormalize=_vecnormalize(config.get("normalize", False), settings, config_file),
        frame_stack=_frame_stack(config.get("frame_stack", 0), config_file),
    )


def _folder(path: str) -> Path:
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise AgentError(f"agent rlzoo: no such folder: {path}") from None
    except (OSError, ValueError) as exc:
        raise AgentError(f"agent rlzoo: cannot read {path}: {exc}") from None
    if not stat.S_ISDIR(mode):
        raise AgentError(
            f"agent rlzoo: {path} is not a folder: give the model's rl-zoo3 folder (such as "
            "logs/ppo/CartPole-v1_1), or play a .zip alone with agent sb3"
        )
    return Path(path)


def _settings_folder(folder: Path) -> Path:
    """The subfolder holding config.yml: the only one (rl-zoo3 writes one per model)."""
    try:
        found = sorted(child for child in folder.iterdir() if (child / "config.yml").is_file())
    except OSError as exc:
        raise AgentError(f"agent rlzoo: cannot read {folder}: {exc.strerror or exc}") from None
    if not found:
        raise AgentError(
            f"agent rlzoo: {folder} is not an rl-zoo3 model folder: it has no ENV/config.yml "
            "(rl-zoo3 saves ENV.zip and ENV/config.yml side by side)"
        )
    if len(found) > 1:
        names = ", ".join(f"{child.name}/config.yml" for child in found)
        raise AgentError(
            f"agent rlzoo: {folder} holds the settings of more than one model ({names}); "
            "give the folder of one"
        )
    return found[0]


def _text(value: Any, key: str, file: Path) -> str:
    if not isinstance(value, str) or not value:
        raise AgentError(f"agent rlzoo: {file}: {key} is {value!r}, not a name")
    return value


def _algo(
    given: str | None, folder: Path, args: dict[str, Any], args_file: Path | None
) -> str | None:
    """The algorithm: args.yml's ``algo``, else the folder's parent's name when it names one
    (rl-zoo3's ``logs/ALGO/ENV_N``); `given` must agree with what the folder says."""
    said, where = None, ""
    if args_file is not None and args.get("algo") is not None:
        try:
            said = algorithm_named(_text(args["algo"], "algo", args_file)).key
        except GymrunError as exc:
            raise AgentError(f"agent rlzoo: {args_file}: {exc}") from None
        where = f"{args_file} says {args['algo']}"
    elif folder.absolute().parent.name.lower() in ALGORITHMS:
        said = folder.absolute().parent.name.lower()
        where = f"its folder is in {folder.absolute().parent}"
    if given is not None:
        key = algorithm_named(given).key
        if said is not None and key != said:
            raise AgentError(
                f"agent rlzoo: algo is {given}, but the model in {folder} was trained with "
                f"{said} ({where}): leave algo out"
            )
        return key
    return said


def _env_kwargs(
    config: dict[str, Any], args: dict[str, Any], config_file: Path, args_file: Path | None
) -> dict[str, Any]:
    """config.yml's ``env_kwargs``, replaced by args.yml's when it gives them (enjoy.py)."""
    kwargs = _mapping(config.get("env_kwargs"), "env_kwargs", config_file)
    if args_file is not None and args.get("env_kwargs") is not None:
        kwargs = _mapping(args["env_kwargs"], "env_kwargs", args_file)
    return kwargs


def _mapping(value: Any, key: str, file: Path) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise AgentError(
            f"agent rlzoo: {file}: {key} is {value!r}, not a mapping of keyword arguments"
        )
    return dict(value)


def _wrappers(value: Any, file: Path) -> tuple[tuple[str, dict[str, Any]], ...]:
    """``env_wrapper`` as rl-zoo3's get_wrapper_class reads it: a class's dotted path, or a
    list of them, each alone or as ``{path: kwargs}``."""
    if value is None:
        return ()
    entries = value if isinstance(value, list) else [value]
    wrappers = []
    for entry in entries:
        kwargs: Any = {}
        if isinstance(entry, dict) and len(entry) == 1:
            entry, kwargs = next(iter(entry.items()))
        if not isinstance(entry, str) or "." not in entry.strip("."):
            raise AgentError(
                f"agent rlzoo: {file}: env_wrapper {entry!r} is not a wrapper class's dotted "
                "path (package.module.Class)"
            )
        module, _, name = entry.rpartition(".")
        wrappers.append((f"{module}:{name}", _mapping(kwargs, f"env_wrapper {entry}", file)))
    return tuple(wrappers)


def _vecnormalize(normalize: Any, settings: Path, config_file: Path) -> Path | None:
    """The VecNormalize statistics, when ``normalize`` is set (any true value: rl-zoo3
    loads the statistics file whatever its options say; the file holds them)."""
    if not normalize:
        return None
    stats = settings / "vecnormalize.pkl"
    if not os.path.lexists(stats):
        raise AgentError(
            f"agent rlzoo: {config_file} sets normalize, but {stats}, the VecNormalize "
            "statistics the model was trained with, is missing"
        )
    return vecnormalize_file(str(stats), "rlzoo")


def _frame_stack(value: Any, file: Path) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4096:
        raise AgentError(f"agent rlzoo: {file}: frame_stack is {value!r}, not a number of frames")
    return value
