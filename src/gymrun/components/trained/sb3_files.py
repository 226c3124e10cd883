"""Stable-Baselines3 model files: the algorithms that save them, and which one saved a file.

A model's ``.zip`` holds a JSON ``data`` entry with the algorithm's attributes; it does not
name the algorithm, but the module of its policy class does, and for the algorithms that
share ``ActorCriticPolicy`` (A2C, PPO, TRPO) the attributes only one of them has. The spaces
it was trained on are there too, readable beside their pickles (`gymrun.components.trained.
sb3_spaces`). All this is read without importing Stable-Baselines3 or torch, and without
unpickling anything: loading a model is unpickling it, which runs whatever code it holds.
"""

from __future__ import annotations

import json
import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gymrun.components.trained.model_files import (
    bounded_file,
    directory_size,
    json_depth,
    model_file,
    read_entry,
    size_text,
    unpacking_problem,
)
from gymrun.components.trained.sb3_spaces import StoredSpace, stored_space
from gymrun.errors import AgentError, UnknownNameError, did_you_mean

SB3_INSTALL = (
    "gymrun[sb3]"  # what to install, as `gymrun.components.extras.install_command` takes it
)
CONTRIB_INSTALL = "sb3-contrib"

# What a model file may hold, checked by what its entries declare before any is read.
MAX_ENTRIES = 1000  # model.save writes six
MAX_DIRECTORY = 1 << 20  # bytes of the zip's list of its entries
MAX_DATA = 64 << 20  # the JSON 'data' gymrun reads
MAX_UNPACKED = 1 << 30  # every entry, which loading a model reads into memory
MAX_DEPTH = 100  # levels of nesting in 'data' (model.save writes a few)
MAX_STATS = 64 << 20  # a VecNormalize file: its statistics are the size of an observation

# What reading a zip raises when its content is not what it says
_UNREADABLE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,  # a compression method zipfile does not know
    RuntimeError,  # an encrypted entry
)


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
# ... and of those that share one: A2C, PPO and TRPO save an ActorCriticPolicy, DDPG TD3's
_SHARED_POLICY_MODULES = {
    "a2c": "stable_baselines3.common.policies",
    "ppo": "stable_baselines3.common.policies",
    "trpo": "stable_baselines3.common.policies",
    "ddpg": "stable_baselines3.td3.policies",
}


def algorithm_named(name: str) -> Algorithm:
    """The algorithm a config's ``algo`` names, by its config name or class name, any case.

    >>> algorithm_named("PPO").key, algorithm_named("ppo_lstm").name
    ('ppo', 'RecurrentPPO')
    >>> algorithm_named("ppo2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gymrun.errors.UnknownNameError: unknown algorithm 'ppo2'; did you mean 'ppo'? ...
    """
    lowered = name.lower()
    for algorithm in ALGORITHMS.values():
        if lowered in (algorithm.key, algorithm.name.lower()):
            return algorithm
    raise UnknownNameError(
        f"unknown algorithm '{name}'{did_you_mean(lowered, ALGORITHMS)} "
        f"(use one of {', '.join(ALGORITHMS)})"
    )


@dataclass(frozen=True)
class SavedModel:
    """A model file read as far as its metadata goes: which algorithm saved it (or was told
    to load it), and the spaces it was trained on, as far as ``data`` says them readably."""

    file: Path
    algorithm: Algorithm
    saved_with: str | None  # the Stable-Baselines3 version that saved it
    observation_space: StoredSpace | None = None
    action_space: StoredSpace | None = None


def read_saved_model(path: str, algo: str | None = None) -> SavedModel:
    """Read model file `path`: which algorithm saved it (`algo` when given), with which
    version of Stable-Baselines3, on which spaces; an `AgentError` when it is not a model
    file, or holds more than a model does. Nothing in it is unpickled."""
    file = model_file(path, "sb3")
    try:
        directory = directory_size(file)
        if directory is not None and directory > MAX_DIRECTORY:
            raise AgentError(
                f"agent sb3: {file} is not a Stable-Baselines3 model gymrun loads: its list of "
                f"entries takes {size_text(directory)}, more than the {size_text(MAX_DIRECTORY)} "
                "gymrun reads"
            )
        with zipfile.ZipFile(file) as archive:
            infos = archive.infolist()
            limits = {"data": MAX_DATA, "_stable_baselines3_version": 1024}
            problem = unpacking_problem(infos, MAX_ENTRIES, MAX_UNPACKED, limits)
            if problem is not None:
                raise AgentError(
                    f"agent sb3: {file} is not a Stable-Baselines3 model gymrun loads: {problem}"
                )
            names = {info.filename for info in infos}
            for name, what in (("data", ""), ("policy.pth", ", the policy's weights")):
                if name not in names:
                    raise AgentError(
                        f"agent sb3: {file} is not a Stable-Baselines3 model: the zip has no "
                        f"'{name}' entry{what} (model.save writes one)"
                    )
            raw = read_entry(archive, "data", MAX_DATA)
            version = None
            if "_stable_baselines3_version" in names:
                version = read_entry(archive, "_stable_baselines3_version", 1024)
    except _UNREADABLE as exc:
        raise AgentError(
            f"agent sb3: {file} is not a Stable-Baselines3 model: not a readable zip ({exc})"
        ) from exc
    except OSError as exc:
        raise AgentError(f"agent sb3: cannot read {file}: {exc.strerror or exc}") from exc
    data = _data(file, raw)
    algorithm = _detected(file, data) if algo is None else _told(file, data, algo)
    return SavedModel(
        file,
        algorithm,
        None if version is None else version.decode(errors="replace").strip(),
        stored_space(data.get("observation_space")),
        stored_space(data.get("action_space")),
    )


def _data(file: Path, raw: bytes) -> dict[str, Any]:
    """The JSON of a model's ``data`` entry, its nesting bounded before it is parsed."""
    try:
        text = raw.decode("utf-8")
        if json_depth(text) > MAX_DEPTH:
            raise RecursionError
        data = json.loads(text)
    except RecursionError:
        raise AgentError(
            f"agent sb3: {file} is not a Stable-Baselines3 model gymrun loads: its 'data' is "
            f"nested more than {MAX_DEPTH} levels deep"
        ) from None
    except ValueError as exc:  # UnicodeDecodeError among them
        raise AgentError(
            f"agent sb3: {file} is not a Stable-Baselines3 model: its 'data' is not JSON"
        ) from exc
    if not isinstance(data, dict):
        raise AgentError(f"agent sb3: {file} is not a Stable-Baselines3 model: odd 'data'")
    return data


def vecnormalize_file(path: str, agent: str = "sb3") -> Path:
    """VecNormalize statistics file `path`, checked as far as that goes without loading it
    (loading is unpickling): a regular file, no bigger than statistics are. `agent` names
    the agent that reads it in messages."""
    return bounded_file(path, agent, MAX_STATS, "VecNormalize statistics", "vecnormalize ")


def _policy_module(data: dict[str, Any]) -> str | None:
    policy = data.get("policy_class")
    module = policy.get("__module__") if isinstance(policy, dict) else None
    return None if module is None else str(module)


def _detected_key(data: dict[str, Any]) -> str | None:
    module = _policy_module(data)
    key = _POLICY_MODULES.get(str(module))
    if module == "stable_baselines3.common.policies":
        key = "trpo" if "cg_max_steps" in data else "ppo" if "clip_range" in data else "a2c"
    if key == "td3" and data.get("policy_delay") == 1 and data.get("target_noise_clip") == 0.0:
        key = "ddpg"  # DDPG is TD3 with these settings, saving the same policy
    return key


def _told(file: Path, data: dict[str, Any], algo: str) -> Algorithm:
    """The algorithm `algo` names, refused when the file's policy class says another saved
    it (as loading it would find, after unpickling it); a policy of the user's own class
    says nothing, and `algo` is taken at its word."""
    algorithm = algorithm_named(algo)
    key = _detected_key(data)
    if key is None:
        return algorithm
    saves = {**{k: m for m, k in _POLICY_MODULES.items()}, **_SHARED_POLICY_MODULES}
    if saves.get(algorithm.key) != _policy_module(data):
        saved_by = ALGORITHMS[key]
        raise AgentError(
            f"agent sb3: {file} was saved by {saved_by.name} (its policy class is from "
            f"{_policy_module(data)}), which {algorithm.name} cannot load: set algo: "
            f"{saved_by.key}, or leave it out",
            key=("agent", "algo"),
        )
    return algorithm


def _detected(file: Path, data: dict[str, Any]) -> Algorithm:
    key = _detected_key(data)
    if key is None:
        module = _policy_module(data)
        raise AgentError(
            f"agent sb3: cannot tell which algorithm saved {file} (its policy class is from "
            f"{module}): set algo: to one of {', '.join(ALGORITHMS)}"
        )
    return ALGORITHMS[key]
