"""Which registered environments can run here, and their spaces in short form (what
``gymrun list-envs`` adds to the registry's own facts).

The only sure test is to make the environment: a family's package may be installed and
still broken, and Gymnasium keeps IDs (MuJoCo v2/v3) whose entry point only raises. Making
one costs little, except an Atari env, which loads its ROM (~85 ms each, 30 s for all):
those are made only when asked for by a pattern or ``--spaces``, and otherwise judged by
whether their module imports.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym

from gymrun.components.catalog import EnvInfo, quiet_native_logs
from gymrun.components.extras import install_hint
from gymrun.components.spaces import space_label

COSTLY_FAMILIES = frozenset({"Atari"})  # made only on request: see the module's docstring
MAKE_ALL_UP_TO = 30  # a listing this short makes every env it lists
SHORT_SPACE = 40  # characters: a longer space is named by its shape and dtype


@dataclass(frozen=True)
class Availability:
    """Whether an environment can be made here, its spaces when it was made, and else
    what stopped it (with how to install what is missing)."""

    runs: bool
    action_space: str | None = None
    observation_space: str | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def availability(infos: Iterable[EnvInfo], spaces: bool = False) -> dict[str, Availability]:
    """Each listed environment's `Availability`, by ID; `spaces` makes every one of them,
    Atari included (as does a listing of at most `MAKE_ALL_UP_TO`).

    >>> from gymrun.components.catalog import list_envs
    >>> cartpole = availability(list_envs("CartPole-v1"))["CartPole-v1"]
    >>> cartpole.runs, cartpole.action_space, cartpole.observation_space
    (True, 'Discrete(2)', 'Box(shape=(4,), dtype=float32)')
    """
    infos = list(infos)
    make_all = spaces or len(infos) <= MAKE_ALL_UP_TO
    with _quiet():
        return {
            info.id: made(info.id)
            if make_all or info.family not in COSTLY_FAMILIES
            else _imported(info)
            for info in infos
        }


def made(env_id: str) -> Availability:
    """Make `env_id` with its defaults to learn whether it runs here and its spaces."""
    try:
        quiet_native_logs(env_id)
        env = gym.make(env_id)
    except Exception as exc:  # whatever the env's own code raises: it cannot run here
        return Availability(False, problem=f"{type(exc).__name__}: {exc}{install_hint(exc)}")
    try:
        return Availability(
            True,
            space_label(env.action_space, SHORT_SPACE),
            space_label(env.observation_space, SHORT_SPACE),
        )
    finally:
        env.close()


def _imported(info: EnvInfo) -> Availability:
    module = info.entry_point.partition(":")[0]
    try:
        importlib.import_module(module)
    except Exception as exc:
        return Availability(False, problem=f"{type(exc).__name__}: {exc}{install_hint(exc)}")
    return Availability(True)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No warnings and no native libraries' banners (ALE's, MuJoCo's compiler notes) on the
    terminal while environments are made to be looked at."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            saved = os.dup(1), os.dup(2)
        except (OSError, ValueError):  # no real descriptors (captured output)
            yield
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in (*saved, devnull):
                os.close(fd)
