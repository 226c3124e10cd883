"""How a vector run steps its copies of the environment: the backends ``vector.mode`` names.

Each backend says, once, what the rest of gymrun needs to know of it: whether each episode
is reset with its own seed (so a run's episodes are those of a single-env run, and a run can
be split, shared out and resumed), whether the config's wrappers are applied in their vector
form, and how to make its vector env. A new backend is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec
from gymnasium.vector import AutoresetMode

MakeOne = Callable[[], gym.Env[Any, Any]]


@dataclass(frozen=True)
class VectorBackend:
    """One way of stepping `num_envs` copies as one vector env."""

    name: str
    # Each sub-environment is the single env with its wrapper stack, reset with its
    # episode's own seed (autoreset off): a vector run's episodes are a single-env run's.
    seeds_each_episode: bool
    # The config's wrappers are applied to the vector env in their vector form.
    vector_wrappers: bool
    description: str

    def make(
        self, spec: EnvSpec, num_envs: int, make_one: MakeOne, options: dict[str, Any]
    ) -> gym.vector.VectorEnv[Any, Any, Any]:
        """The vector env: `num_envs` copies made by `make_one` (the single env, wrapped),
        or, for an env's own implementation, made from `spec` with `options`."""
        if self.name == "sync":
            return gym.vector.SyncVectorEnv(
                [make_one] * num_envs, autoreset_mode=AutoresetMode.DISABLED
            )
        if self.name == "async":
            return gym.vector.AsyncVectorEnv(
                [make_one] * num_envs, autoreset_mode=AutoresetMode.DISABLED
            )
        return gym.make_vec(
            spec, num_envs=num_envs, vectorization_mode="vector_entry_point", **options
        )


BACKENDS = {
    backend.name: backend
    for backend in (
        VectorBackend(
            "sync",
            seeds_each_episode=True,
            vector_wrappers=False,
            description="copies stepped one after another in this process",
        ),
        VectorBackend(
            "async",
            seeds_each_episode=True,
            vector_wrappers=False,
            description="copies stepped in a process each",
        ),
        VectorBackend(
            "vector_entry_point",
            seeds_each_episode=False,
            vector_wrappers=True,
            description="the environment's own vector implementation, seeded once per run",
        ),
    )
}


def vector_backend(mode: str | None, spec: EnvSpec) -> VectorBackend:
    """The backend of ``vector.mode`` `mode` for an environment of `spec`: by default the
    environment's own vector implementation when it has one, else ``sync``.

    >>> from gymnasium import spec
    >>> vector_backend(None, spec("CartPole-v1")).name, vector_backend(None, spec("Taxi-v4")).name
    ('vector_entry_point', 'sync')
    """
    if mode is None:
        mode = "vector_entry_point" if spec.vector_entry_point is not None else "sync"
    return BACKENDS[mode]
