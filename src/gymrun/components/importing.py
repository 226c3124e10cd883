"""Resolving ``"package.module:attr"`` strings to Python objects."""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import importlib.machinery
import importlib.util
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gymrun.components.user_code import snapshot
from gymrun.errors import ImportTargetError, did_you_mean

TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def is_target(name: str) -> bool:
    """Whether `name` has the ``package.module:attr`` form.

    >>> is_target("my_agents:Greedy"), is_target("random")
    (True, False)
    """
    return bool(TARGET.match(name))


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
