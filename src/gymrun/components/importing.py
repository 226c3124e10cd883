"""Resolving ``"package.module:attr"`` strings to Python objects."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from gymrun.errors import GymrunError, did_you_mean

TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class ImportTargetError(GymrunError):
    """A ``module:attr`` string that does not name an importable object."""


def is_target(name: str) -> bool:
    """Whether `name` has the ``package.module:attr`` form.

    >>> is_target("my_agents:Greedy"), is_target("random")
    (True, False)
    """
    return bool(TARGET.match(name))


def import_module(name: str) -> Any:
    """Import module `name` (the working directory importable, as for ``module:attr``), so
    that its ``gymnasium.register`` calls take effect; a `ImportTargetError` if it fails."""
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ImportTargetError(f"cannot import module '{name}': {exc}") from exc
    except Exception as exc:
        raise ImportTargetError(
            f"importing module '{name}' raised {type(exc).__name__}: {exc}"
        ) from exc


def load_target(target: str) -> Any:
    """Import ``package.module:attr`` and return the attribute.

    The working directory is importable, as a user running ``gymrun`` in their project expects.

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
    """Why a call's keywords do not fit its signature; `key` is the offending one, if any."""

    key: str | None
    message: str

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
        return KeywordProblem(None, f"{name} needs {', '.join(repr(m) for m in missing)}")
    return None
