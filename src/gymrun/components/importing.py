"""Resolving ``"package.module:attr"`` strings to Python objects."""

from __future__ import annotations

import collections.abc
import contextlib
import contextvars
import importlib
import importlib.machinery
import importlib.util
import inspect
import re
import sys
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.components.user_code import snapshot
from gymrun.errors import ImportTargetError, did_you_mean

TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def is_target(name: str) -> bool:
    """Whether `name` has the ``package.module:attr`` form.

    >>> is_target("my_agents:Greedy"), is_target("random")
    (True, False)
    """
    return bool(TARGET.match(name))


_DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")


def colon_spelling(name: str) -> str:
    """A ``"; did you mean 'package.module:attr'?"`` suffix for `name` written with a dot
    where its module ends (``my_agents.Greedy``), as Python's imports and rl-zoo3's
    ``env_wrapper`` write it; ``""`` for any other name.

    >>> colon_spelling("rl_zoo3.wrappers.HistoryWrapper"), colon_spelling("CartPole-v1")
    ("; did you mean 'rl_zoo3.wrappers:HistoryWrapper'?", '')
    """
    if not _DOTTED.match(name):
        return ""
    module, _, attr = name.rpartition(".")
    return f"; did you mean '{module}:{attr}'?"


# Where modules a config names are looked for when no installed package has them: the
# config's directory, then the working directory. They never come before installed packages,
# so a stray matplotlib.py beside a config cannot stand in for matplotlib.
_user_dirs: contextvars.ContextVar[tuple[Path, ...]] = contextvars.ContextVar(
    "user_dirs", default=()
)


@contextlib.contextmanager
def modules_beside(config_dir: Path | None) -> Iterator[None]:
    """While loading a config from `config_dir`: modules it names may be files there (or in
    the working directory) when no installed package has them."""
    dirs = tuple(dict.fromkeys(d.absolute() for d in (config_dir, Path.cwd()) if d is not None))
    token = _user_dirs.set(dirs)
    try:
        yield
    finally:
        _user_dirs.reset(token)


def is_standard_library(module: str) -> bool:
    """Whether `module` belongs to Python's standard library (or is built in).

    >>> [is_standard_library(name) for name in ("subprocess", "os.path", "numpy")]
    [True, True, False]
    """
    top = module.partition(".")[0]
    return top in sys.stdlib_module_names or top in sys.builtin_module_names


def import_module(name: str) -> Any:
    """Import module `name`, installed or a user's file (see `modules_beside`), so that its
    ``gymnasium.register`` calls take effect; an `ImportTargetError` if it fails.

    Python's standard library is refused: no agent, wrapper or environment comes from it, and
    importing some of it does things (``antigravity`` opens a browser).
    """
    if is_standard_library(name):
        raise ImportTargetError(
            f"'{name}' is part of Python's standard library, which provides no agents, wrappers "
            "or environments (name your own module, or an installed package's)"
        )
    top = name.partition(".")[0]
    try:
        if top not in sys.modules and importlib.util.find_spec(top) is None:
            _import_user_file(top, name)
        return importlib.import_module(name)
    except ImportTargetError:
        raise
    except ImportError as exc:
        raise ImportTargetError(f"cannot import module '{name}': {exc}") from exc
    except Exception as exc:
        raise ImportTargetError(
            f"importing module '{name}' raised {type(exc).__name__}: {exc}"
        ) from exc


def _import_user_file(top: str, name: str) -> None:
    """Import module or package `top` from the first user directory that has it."""
    dirs = _user_dirs.get() or (Path.cwd(),)
    for directory in dirs:
        spec = importlib.machinery.PathFinder.find_spec(top, [str(directory)])
        if spec is not None and spec.loader is not None:
            snapshot(top, spec)  # the user's code: its source is kept, to ship and hash
            module = importlib.util.module_from_spec(spec)
            sys.modules[top] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[top]
                raise
            return
    where = " or ".join(str(d) for d in dirs)
    raise ImportTargetError(
        f"cannot import module '{name}': no installed package has it, and there is no {top}.py "
        f"or {top}/ in {where}"
    )


def load_target(target: str) -> Any:
    """Import ``package.module:attr`` (see `import_module`) and return the attribute.

    >>> load_target("gymnasium.wrappers:ClipReward").__name__
    'ClipReward'
    """
    if not is_target(target):
        raise ImportTargetError(f"'{target}' is not of the form 'package.module:attr'")
    module_name, attr_path = target.split(":")
    obj: Any = import_module(module_name)
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            public = [name for name in dir(obj) if not name.startswith("_")]
            raise ImportTargetError(
                f"'{module_name}' has no attribute '{attr_path}'{did_you_mean(part, public)}"
            )
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class KeywordProblem:
    """Why a call's keywords do not fit its signature; `key` is the offending one, if any,
    and `missing` the keywords it needs and was not given."""

    key: str | None
    message: str
    missing: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.message


def keyword_problem(
    cls: Any, kwargs: dict[str, Any], supplied: tuple[str, ...] = ()
) -> KeywordProblem | None:
    """Why ``cls(**supplied, **kwargs)`` cannot be called, judged from its signature, or None.

    `supplied` names the arguments gymrun passes itself (``env`` for a wrapper).

    >>> from gymnasium.wrappers import ClipReward
    >>> problem = keyword_problem(ClipReward, {"min_rewrd": 0}, supplied=("env",))
    >>> problem.key, problem.message[:73]
    ('min_rewrd', "unexpected keyword 'min_rewrd' for ClipReward; did you mean 'min_reward'?")
    """
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return None  # builtins and C types: let the call itself decide
    params = signature.parameters
    name = getattr(cls, "__name__", str(cls))
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    named = [
        p.name
        for p in params.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name not in supplied
    ]
    if not accepts_any:
        for key in kwargs:
            if key not in named:
                accepts = ", ".join(named) if named else "no options"
                return KeywordProblem(
                    key,
                    f"unexpected keyword '{key}' for {name}{did_you_mean(key, named)} "
                    f"(accepts: {accepts})",
                )
    missing = [
        p.name
        for p in params.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name not in supplied
        and p.name not in kwargs
    ]
    if missing:
        message = f"{name} needs {', '.join(repr(m) for m in missing)}"
        return KeywordProblem(None, message, tuple(missing))
    return None


# What a config's values are (YAML's types): a parameter annotated with a class of none of
# these, or a function, can take nothing a config gives.
_YAML_TYPES = (bool, int, float, str, list, dict)


def value_problem(cls: Any, kwargs: dict[str, Any], name: str = "") -> KeywordProblem | None:
    """Why a value of `kwargs` cannot be what ``cls``'s signature annotates its keyword with
    (a number for an ``int``, a function for a ``Callable``), judged where the annotation
    decides it; None when every value may fit. Such a value would fail only once the
    object is used (a reward function called at the first step), not when it is made.

    >>> from gymnasium.wrappers import TransformReward
    >>> str(value_problem(TransformReward, {"func": 1}))[:64]
    'func of TransformReward takes a function, which a config cannot '
    """
    try:
        hints = typing.get_type_hints(cls.__init__ if isinstance(cls, type) else cls)  # type: ignore[misc]
        defaults = {k: p.default for k, p in inspect.signature(cls).parameters.items()}
    except Exception:  # annotations that do not resolve here: the call itself decides
        return None
    name = name or getattr(cls, "__name__", str(cls))
    for key, value in kwargs.items():
        if key not in hints or (value is None and defaults.get(key) is None):
            continue
        if _fits(value, hints[key]) is False:
            if _takes_function(hints[key]):
                said = (
                    "a function, which a config cannot give (its values are numbers, strings, "
                    "lists and mappings): write a class of your own that does it, and name "
                    "it as 'package.module:Class'"
                )
            else:
                said = f"{_named(hints[key])}, not {value!r}"
            return KeywordProblem(key, f"{key} of {name} takes {said}")
    return None


def as_annotated(target: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """`kwargs` with each list given for a keyword that `target` annotates as a tuple (and
    not as a list or any other sequence) made a tuple: a config has lists, never tuples,
    and some constructors insist on one (``ReshapeObservation(shape=...)``,
    ``AtariPreprocessing(screen_size=...)``).

    >>> from gymnasium.wrappers import ReshapeObservation, FilterObservation
    >>> as_annotated(ReshapeObservation, {"shape": [3, 1]})
    {'shape': (3, 1)}
    >>> as_annotated(FilterObservation, {"filter_keys": ["a"]})  # a Sequence: as it is
    {'filter_keys': ['a']}
    """
    given = dict(kwargs)
    if not any(isinstance(value, list) for value in given.values()):
        return given
    try:
        hints = typing.get_type_hints(target.__init__ if isinstance(target, type) else target)  # type: ignore[misc]
    except Exception:  # annotations that do not resolve here: the values go as they are
        return given
    return {
        key: tuple(value) if isinstance(value, list) and _wants_tuple(hints.get(key)) else value
        for key, value in given.items()
    }


def _wants_tuple(hint: Any) -> bool:
    origin = typing.get_origin(hint)
    union = origin is typing.Union or origin is types.UnionType
    kinds = [typing.get_origin(arg) or arg for arg in (typing.get_args(hint) if union else [hint])]
    sequences = (list, collections.abc.Sequence, collections.abc.Iterable, typing.Any)
    return tuple in kinds and not any(kind in sequences for kind in kinds)


def _fits(value: Any, hint: Any) -> bool | None:
    """Whether `value` fits annotation `hint`: True, False, or None when the annotation
    cannot tell (``Any``, numpy's types, a protocol, a generic container)."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        fits = [_fits(value, arg) for arg in typing.get_args(hint)]
        return True if True in fits else None if None in fits else False
    if hint is type(None):
        return value is None
    if _takes_function(hint):
        return callable(value)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (bool, str):
        return isinstance(value, hint)
    if isinstance(hint, type) and issubclass(hint, np.ndarray | np.number):
        # numbers or lists of them become these; text or a mapping never does
        return None if not isinstance(value, str | dict) else False
    if not isinstance(hint, type) or hint.__module__.split(".")[0] in ("numpy", "typing"):
        return None
    if getattr(hint, "_is_protocol", False) or issubclass(hint, _YAML_TYPES):
        return None
    return isinstance(value, hint)


def _takes_function(hint: Any) -> bool:
    return hint is collections.abc.Callable or typing.get_origin(hint) is collections.abc.Callable


def _named(hint: Any) -> str:
    """An annotation as a message names what it takes: ``a number``, ``a Space``."""
    if typing.get_origin(hint) is typing.Union or typing.get_origin(hint) is types.UnionType:
        kinds = list(dict.fromkeys(_named(arg) for arg in typing.get_args(hint)))
        if "a number" in kinds and "an integer" in kinds:  # a number says it
            kinds.remove("an integer")
        return " or ".join(kinds)
    if hint is type(None):
        return "null"
    if isinstance(hint, type) and issubclass(hint, np.ndarray):
        return "an array (a list)"
    if isinstance(hint, type) and issubclass(hint, np.number):
        return "an integer" if issubclass(hint, np.integer) else "a number"
    words = {float: "a number", int: "an integer", bool: "true or false", str: "a string"}
    return words.get(hint, f"a {getattr(hint, '__name__', str(hint))}")
