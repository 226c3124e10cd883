"""Stable-Baselines3 model files: the algorithms that save them, and which one saved a file.

A model's ``.zip`` holds a JSON ``data`` entry with the algorithm's attributes; it does not
name the algorithm, but the module of its policy class does, and for the algorithms that
share ``ActorCriticPolicy`` (A2C, PPO, TRPO) the attributes only one of them has. This is
read without importing Stable-Baselines3 or torch.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gymrun.components.trained.model_files import model_file
from gymrun.errors import AgentError, GymrunError, did_you_mean

SB3_INSTALL = (
    "gymrun[sb3]"  # what to install, as `gymrun.components.extras.install_command` takes it
)
CONTRIB_INSTALL = "sb3-contrib"


@dataclass(frozen=True)
class Algorithm:
    """An algorithm that saves models: its config name, class, and the package it is in."""

    key: str
    name: str
    module: str = "stable_baselines3"
    distribution: str = "stable-baselines3"
    install: str = SB3_INSTALL
    recurrent: bool = False


def _contrib(key: str, name: str, recurrent: bool = False) -> Algorithm:
    return Algorithm(key, name, "sb3_contrib", "sb3-contrib", CONTRIB_INSTALL, recurrent)


# Config names as in rl-baselines3-zoo.
ALGORITHMS: dict[str, Algorithm] = {
    algorithm.key: algorithm
    for algorithm in [
        Algorithm("a2c", "A2C"),
        Algorithm("ddpg", "DDPG"),
        Algorithm("dqn", "DQN"),
        Algorithm("ppo", "PPO"),
        Algorithm("sac", "SAC"),
        Algorithm("td3", "TD3"),
        _contrib("ars", "ARS"),
        _contrib("crossq", "CrossQ"),
        _contrib("ppo_mask", "MaskablePPO"),
        _contrib("ppo_lstm", "RecurrentPPO", recurrent=True),
        _contrib("qrdqn", "QRDQN"),
        _contrib("tqc", "TQC"),
        _contrib("trpo", "TRPO"),
    ]
}

# The module of the policy class each algorithm saves (those sharing one are told apart below).
_POLICY_MODULES = {
    "stable_baselines3.dqn.policies": "dqn",
    "stable_baselines3.sac.policies": "sac",
    "stable_baselines3.td3.policies": "td3",
    "sb3_contrib.ars.policies": "ars",
    "sb3_contrib.crossq.policies": "crossq",
    "sb3_contrib.common.maskable.policies": "ppo_mask",
    "sb3_contrib.common.recurrent.policies": "ppo_lstm",
    "sb3_contrib.qrdqn.policies": "qrdqn",
    "sb3_contrib.tqc.policies": "tqc",
}


def algorithm_named(name: str) -> Algorithm:
    """The algorithm a config's ``algo`` names, by its config name or class name, any case.

    >>> algorithm_named("PPO").key, algorithm_named("ppo_lstm").name
    ('ppo', 'RecurrentPPO')
    >>> algorithm_named("ppo2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gymrun.errors.GymrunError: unknown algorithm 'ppo2'; did you mean 'ppo'? (use one of a2c, ...)
    """
    lowered = name.lower()
    for algorithm in ALGORITHMS.values():
        if lowered in (algorithm.key, algorithm.name.lower()):
            return algorithm
    raise GymrunError(
        f"unknown algorithm '{name}'{did_you_mean(lowered, ALGORITHMS)} "
        f"(use one of {', '.join(ALGORITHMS)})"
    )


@dataclass(frozen=True)
class SavedModel:
    """A model file read as far as telling which algorithm saved it (or was told to load it)."""

    file: Path
    algorithm: Algorithm
    saved_with: str | None  # the Stable-Baselines3 version that saved it


def read_saved_model(path: str, algo: str | None = None) -> SavedModel:
    """Read model file `path`: which algorithm saved it (`algo` when given) and with which
    version of Stable-Baselines3; an `AgentError` when it is not a model file."""
    file = model_file(path, "sb3")
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
            if "data" not in names:
                raise AgentError(
                    f"agent sb3: {file} is not a Stable-Baselines3 model: the zip has no 'data' "
                    "entry (model.save writes one)"
                )
            data = json.loads(archive.read("data"))
            version = None
            if "_stable_baselines3_version" in names:
                version = archive.read("_stable_baselines3_version").decode().strip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise AgentError(
            f"agent sb3: {file} is not a Stable-Baselines3 model: not a readable zip ({exc})"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise AgentError(
            f"agent sb3: {file} is not a Stable-Baselines3 model: its 'data' is not JSON"
        ) from exc
    if not isinstance(data, dict):
        raise AgentError(f"agent sb3: {file} is not a Stable-Baselines3 model: odd 'data'")
    algorithm = algorithm_named(algo) if algo is not None else _detected(file, data)
    return SavedModel(file, algorithm, version)


def _detected(file: Path, data: dict[str, Any]) -> Algorithm:
    policy = data.get("policy_class")
    module = policy.get("__module__") if isinstance(policy, dict) else None
    key = _POLICY_MODULES.get(str(module))
    if module == "stable_baselines3.common.policies":
        key = "trpo" if "cg_max_steps" in data else "ppo" if "clip_range" in data else "a2c"
    if key == "td3" and data.get("policy_delay") == 1 and data.get("target_noise_clip") == 0.0:
        key = "ddpg"  # DDPG is TD3 with these settings, saving the same policy
    if key is None:
        raise AgentError(
            f"agent sb3: cannot tell which algorithm saved {file} (its policy class is from "
            f"{module}): set algo: to one of {', '.join(ALGORITHMS)}"
        )
    return ALGORITHMS[key]
