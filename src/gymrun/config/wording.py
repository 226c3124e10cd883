"""How messages about a config name what it was given besides its file: the options of the
command line (``--set KEY=VALUE``, ``--episodes``), or the arguments of a library call
(``overrides[0] 'KEY=VALUE'``, ``episodes=0``). A library call's arguments unless the
command line says otherwise (`options_named`): it alone knows it is the command line.

Light on purpose (nothing but the standard library): every command enters it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any


class Arguments:
    """What a library call (`load_config`, `load_sweep`, ...) was passed, as it was passed.

    >>> Arguments().override(1, "episodes=x"), Arguments().setting("num_envs", 0)
    ("overrides[1] 'episodes=x'", 'num_envs=0')
    >>> Arguments().valued("first_seed", 3), Arguments().valued("score", "best")
    ('first_seed=3', "score='best'")
    >>> Arguments().expectation("mean > 1"), Arguments().expectation("mean > 1", 2)
    ("text='mean > 1'", "expectations[2] 'mean > 1'")
    """

    def override(self, number: int, text: str) -> str:
        return f"overrides[{number}] '{text}'"

    def malformed(self, number: int, text: str) -> tuple[str, str]:
        """The place and key of an override that is not ``KEY=VALUE``."""
        return self.override(number, text), ""

    def setting(self, keyword: str, value: Any) -> str:
        """A setting given by its keyword (`episodes`, `seed`, `num_envs`, `dataset`)."""
        return f"{keyword}={_quoted(value)}"

    def valued(self, keyword: str, value: Any, option: str = "") -> str:
        """A setting with the value it was given, as a message refusing that value starts
        (`max_seeds`, `alpha`: a library function's own, not a config's); `option` is its
        option on the command line when that is not ``--KEYWORD``."""
        return f"{keyword}={_quoted(value)}"

    def expectation(self, text: str, number: int | None = None) -> str:
        """An expectation as written: `Expectation.parse`'s `text`, or the one at `number`
        of `check_expectations`'s `expectations`."""
        if number is None:
            return f"text={_quoted(text)}"
        return f"expectations[{number}] {_quoted(text)}"

    def agent(self, name: str) -> str:
        return f"agent={_quoted(name)}"

    def wrappers(self, names: Sequence[str]) -> str:
        return f"wrappers=[{', '.join(_quoted(name) for name in names)}]"

    def to_set(self, key: str) -> str:
        """How to give the missing value of `key`."""
        return f"add '{key}=VALUE' to overrides"

    def either(self, call: str, command: str) -> str:
        """What a library call and the command line say differently, each in its words
        (`call`, ``command``): a function of the library, an option of a command."""
        return call


class Options(Arguments):
    """What the command line was given, as it was typed.

    >>> Options().override(1, "episodes=x"), Options().setting("num_envs", 0)
    ('--set episodes=x', '--num-envs')
    >>> Options().valued("first_seed", 3), Options().valued("score", "best")
    ('--seed 3', '--score best')
    >>> Options().valued("power", 1.0), Options().valued("name", "dask", "--executor")
    ('--power 1', '--executor dask')
    >>> Options().expectation("mean > 1", 2)
    "--expect 'mean > 1'"
    """

    def override(self, number: int, text: str) -> str:
        return f"--set {text}"

    def malformed(self, number: int, text: str) -> tuple[str, str]:
        return "--set", text

    def setting(self, keyword: str, value: Any) -> str:
        return _option(keyword)

    def valued(self, keyword: str, value: Any, option: str = "") -> str:
        return f"{option or _option(keyword)} {_typed(value)}"

    def expectation(self, text: str, number: int | None = None) -> str:
        return f"--expect {text!r}"

    def agent(self, name: str) -> str:
        return f"--agent {name}"

    def wrappers(self, names: Sequence[str]) -> str:
        return " ".join(f"--wrapper {name}" for name in names)

    def to_set(self, key: str) -> str:
        return f"add --set {key}=VALUE"

    def either(self, call: str, command: str) -> str:
        return command


# the keywords whose option is not --KEYWORD
_OPTION_OF = {
    "first_seed": "--seed",  # a duel's first seed: gymrun duel --seed
    "replace_dataset": "--force",  # run_experiment's: gymrun run --force
}


def _option(keyword: str) -> str:
    return _OPTION_OF.get(keyword, f"--{keyword.replace('_', '-')}")


def _typed(value: Any) -> str:
    """A value as typed on the command line: a float without a trailing ``.0`` (``--power
    0``, which the option parsed as 0.0), unless that would round it."""
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def _quoted(value: Any) -> str:
    # quoted by hand, not repr: a byte that is not UTF-8 stays one to be named as such
    return f"'{value}'" if isinstance(value, str) else str(value)


_OPTIONS: contextvars.ContextVar[bool] = contextvars.ContextVar("gymrun.options", default=False)


def wording() -> Arguments:
    """How what a config is given is named here: `Options` on the command line."""
    return Options() if _OPTIONS.get() else Arguments()


@contextmanager
def options_named() -> Iterator[None]:
    """Name what configs are given as the command line's options while it lasts."""
    token = _OPTIONS.set(True)
    try:
        yield
    finally:
        _OPTIONS.reset(token)
