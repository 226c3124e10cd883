"""The `sb3` agent: a Stable-Baselines3 model, saved with ``model.save(path)``, evaluated."""

from __future__ import annotations

import functools
import os
import pickle
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import gymnasium as gym

from gymrun.components.trained.model_files import (
    file_identity,
    import_extra,
    one_line,
    require_extra,
    shared,
    traced,
)
from gymrun.components.trained.sb3_files import (
    SB3_INSTALL,
    Algorithm,
    SavedModel,
    read_saved_model,
    vecnormalize_file,
)
from gymrun.components.trained.sb3_spaces import fits, side_by_side, stored_fits
from gymrun.errors import AgentError

# Attributes only training uses, replaced while loading: a saved schedule is a pickled
# function that may not load under another Python version (rl-baselines3-zoo does the same).
_TRAINING_ONLY = {"learning_rate": 0.0, "lr_schedule": lambda _: 0.0, "clip_range": lambda _: 0.0}


class Sb3Agent:
    """A Stable-Baselines3 model: ``model.predict(observation, deterministic=...)`` each step.

    The algorithm is read from the file (`algo` forces one: ``ppo``, ``dqn``, ...); the model
    must have been trained on the environment's observation and action spaces. With
    `vecnormalize` (a file saved by ``VecNormalize.save``), observations are normalised with
    its statistics as SB3 does when evaluating (frozen, rewards untouched). In a vector run
    one ``predict`` acts for every sub-environment; copies of the agent share one model.
    With ``deterministic: false`` actions are sampled, torch's generator seeded with each
    episode's agent seed.

    Model and VecNormalize files are pickles: loading one runs the code it holds. Everything
    that can be checked without loading them (their spaces among it) is checked first, and
    ``gymrun validate`` checks that alone (`check_unloaded`).
    """

    file_keywords = ("path", "vecnormalize")
    # what a run that loads this agent's files says, once
    loading_note = (
        "SB3 model and VecNormalize files are pickles, and loading one runs the code it "
        "holds: load only files you trust"
    )

    def __init__(
        self,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        path: str,
        algo: str | None = None,
        deterministic: bool = True,
        vecnormalize: str | None = None,
        device: str = "cpu",
    ) -> None:
        saved = read_saved_model(path, algo)
        _check_saved(saved, observation_space, action_space)
        stats = None if vecnormalize is None else _statistics_file(vecnormalize)
        check_device(device)
        _one_torch_thread_after_fork()
        self.model = shared(
            ("sb3", *file_identity(saved.file), saved.algorithm.key, device),
            lambda: _load(saved, device),
        )
        _check_spaces(saved.file, self.model, observation_space, action_space)
        self.normalizer = None
        if stats is not None:
            with _at_vecnormalize():
                self.normalizer = shared_statistics(stats, observation_space)
        self.deterministic = deterministic
        self._predict = self.model.predict

    @classmethod
    def provenance(
        cls,
        path: str,
        algo: str | None = None,
        deterministic: bool = True,
        vecnormalize: str | None = None,
        device: str = "cpu",
    ) -> dict[str, Any]:
        """The model file and its hash, the algorithm, the versions that saved and play it."""
        saved = read_saved_model(path, algo)
        _one_torch_thread_after_fork()  # this process may fork the workers that play it
        found: dict[str, Any] = {
            "model": traced(saved.file),
            "algo": saved.algorithm.name,
            "saved_with": {"stable-baselines3": saved.saved_with},
            "played_with": {name: _version(name) for name in ("stable-baselines3", "torch")},
        }
        if vecnormalize is not None:
            found["vecnormalize"] = traced(_statistics_file(vecnormalize))
        return found

    @classmethod
    def check_unloaded(
        cls,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        path: str,
        algo: str | None = None,
        deterministic: bool = True,
        vecnormalize: str | None = None,
        device: str = "cpu",
    ) -> list[str]:
        """What building the agent checks before it loads a file, for ``gymrun validate``:
        the model's metadata (algorithm, spaces) and the statistics file's size. Nothing is
        unpickled; returns a note of what is left for a run to check."""
        saved = read_saved_model(path, algo)
        unknown = _check_saved(saved, observation_space, action_space)
        _check_installed(saved.algorithm, saved.file)
        check_device(device)
        if vecnormalize is not None:
            _statistics_file(vecnormalize)
            unknown.append("the VecNormalize statistics")
        parts = ["the model's weights", *unknown]
        listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
        read = "agent sb3: its files were read, not loaded"
        return [f"{read}; {listed} are checked when a run loads them"]

    def reset(self, seed: int) -> None:
        if not self.deterministic:
            self.model.set_random_seed(seed)

    def act(self, observation: Any) -> Any:
        if self.normalizer is not None:
            observation = self.normalizer.normalize_obs(observation)
        action, _ = self._predict(observation, deterministic=self.deterministic)
        return action

    def act_batch(self, observations: Any) -> Any:
        # SB3 tells a batch from one observation by its shape: the same call serves both
        return self.act(observations)


@contextmanager
def _at_vecnormalize() -> Iterator[None]:
    """Tell an error about the statistics file at ``agent.vecnormalize``, the value that
    names it (an agent's error about no key is told at its model's ``path``)."""
    try:
        yield
    except AgentError as exc:
        exc.key = exc.key or ("agent", "vecnormalize")
        raise


def _statistics_file(vecnormalize: str) -> Path:
    with _at_vecnormalize():
        return vecnormalize_file(vecnormalize)


@functools.cache
def _one_torch_thread_after_fork() -> None:
    """Worker processes (forked) run torch on one thread: a process forked after torch ran
    on several threads hangs at its first parallel operation (OpenMP's thread pool does not
    survive a fork), and the workers are the parallelism anyway."""

    def one_thread() -> None:
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(1)

    os.register_at_fork(after_in_child=one_thread)


def sb3_module(name: str) -> Any:
    """A module of Stable-Baselines3, imported only now that an sb3 agent is built (it
    imports torch, which takes a second or more)."""
    return import_extra(name, "stable-baselines3", SB3_INSTALL, "agent sb3")


def check_device(device: str) -> None:
    """Refuse a `device` that Stable-Baselines3 cannot put a model on, as its ``load`` reads
    it (``get_device``: "auto", or what ``torch.device`` takes; CUDA asked for where there is
    none is the CPU): before the model is loaded, and by ``gymrun validate``, which loads none.
    """
    utils = sb3_module("stable_baselines3.common.utils")
    try:
        utils.get_device(device)
    except (RuntimeError, ValueError):  # (torch's message lists two dozen device types)
        raise AgentError(
            f"'{device}' is not a device torch knows: use cpu, cuda, cuda:N, mps or auto",
            key=("agent", "device"),
        ) from None


def _check_saved(
    saved: SavedModel, observation_space: gym.Space[Any], action_space: gym.Space[Any]
) -> list[str]:
    """Refuse a model that does not fit, as far as its metadata tells (before it is loaded:
    loading a model that cannot be played is running its code for nothing); returns what the
    metadata does not tell."""
    file, algorithm = saved.file, saved.algorithm
    if algorithm.recurrent:
        raise AgentError(
            f"agent sb3: {file} holds a {algorithm.name} model, whose policy keeps a state "
            "from step to step; the sb3 agent plays feed-forward policies"
        )
    unknown = []
    trained = saved.observation_space
    found = None if trained is None else stored_fits(trained, observation_space)
    if trained is not None and found is False:
        raise AgentError(
            f"agent sb3: {file} was trained on "
            f"{side_by_side(trained, observation_space, 'observations')}"
        )
    if found is None:
        unknown.append("the observations it was trained on")
    trained = saved.action_space
    found = None if trained is None else trained.matches(action_space)
    if trained is not None and found is False:
        raise AgentError(
            f"agent sb3: {file} was trained on {side_by_side(trained, action_space, 'actions')}"
        )
    if found is None:
        unknown.append("the actions it was trained on")
    return unknown


def _check_installed(algorithm: Algorithm, file: Path) -> None:
    """The libraries loading the model takes are installed (found, not imported)."""
    require_extra("stable_baselines3", "stable-baselines3", SB3_INSTALL, "agent sb3")
    if algorithm.module != "stable_baselines3":
        needed_by = f"agent sb3: {file} (saved by {algorithm.name})"
        require_extra(algorithm.module, algorithm.distribution, algorithm.install, needed_by)


def _load(saved: SavedModel, device: str) -> Any:
    algorithm = saved.algorithm
    module = sb3_module("stable_baselines3")
    if algorithm.module != "stable_baselines3":
        needed_by = f"agent sb3: {saved.file} (saved by {algorithm.name})"
        module = import_extra(
            algorithm.module, algorithm.distribution, algorithm.install, needed_by
        )
    try:
        return getattr(module, algorithm.name).load(
            saved.file, device=device, custom_objects=_TRAINING_ONLY
        )
    except Exception as exc:
        raise AgentError(
            f"agent sb3: {saved.file} cannot be loaded as {algorithm.name}: {one_line(exc)}"
        ) from exc


def _check_spaces(
    file: Path, model: Any, observation_space: gym.Space[Any], action_space: gym.Space[Any]
) -> None:
    if not fits(model.observation_space, observation_space):
        raise AgentError(
            f"agent sb3: {file} was trained on "
            f"{side_by_side(model.observation_space, observation_space, 'observations')}"
        )
    if model.action_space != action_space:
        raise AgentError(
            f"agent sb3: {file} was trained on "
            f"{side_by_side(model.action_space, action_space, 'actions')}"
        )


def shared_statistics(file: Path, observation_space: gym.Space[Any]) -> Any:
    """The VecNormalize statistics in `file`, frozen for evaluating (one object shared by
    every agent that holds them), checked to be for `observation_space`."""
    stats = shared(("vecnormalize", *file_identity(file)), lambda: frozen_statistics(file))
    check_statistics(file, stats, observation_space)
    return stats


def frozen_statistics(file: Path) -> Any:
    vec_env = sb3_module("stable_baselines3.common.vec_env")
    try:
        with file.open("rb") as handle:
            stats = pickle.load(handle)  # as VecNormalize.load does: trust the files you name
    except Exception as exc:
        raise AgentError(f"agent sb3: vecnormalize {file} cannot be read: {one_line(exc)}") from exc
    if not isinstance(stats, vec_env.VecNormalize):
        raise AgentError(
            f"agent sb3: vecnormalize {file} holds a {type(stats).__name__}, not the "
            "VecNormalize that VecNormalize.save writes"
        )
    # evaluating: the statistics stay as trained, and the rewards reported are the env's
    stats.training = False
    stats.norm_reward = False
    return stats


def check_statistics(file: Path, stats: Any, observation_space: gym.Space[Any]) -> None:
    if stats.observation_space != observation_space:
        raise AgentError(
            f"agent sb3: vecnormalize {file} was saved for "
            f"{side_by_side(stats.observation_space, observation_space, 'observations')}"
        )


def _version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
