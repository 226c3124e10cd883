"""The `rlzoo` agent: an rl-zoo3 model folder, played with the preprocessing it was trained
with, as rl-zoo3's ``enjoy.py`` plays it, without rl-zoo3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import gymnasium as gym
import numpy as np

from gymrun.components.agent_env import AgentEnv
from gymrun.components.trained.model_files import traced
from gymrun.components.trained.rlzoo_folder import ZooFolder, read_zoo_folder
from gymrun.components.trained.sb3_agent import Sb3Agent, sb3_module, shared_statistics
from gymrun.components.trained.sb3_spaces import stacked_space
from gymrun.components.vector_backends import VectorBackend
from gymrun.components.wrappers import resolve_wrapper
from gymrun.errors import AgentError, GymrunError

_NOT_DONE = np.zeros(1, dtype=bool)


class RlzooAgent:
    """An rl-zoo3 model folder (``logs/ppo/CartPole-v1_1``): its model, played as rl-zoo3
    trained it. The folder's settings (see `gymrun.components.trained.rlzoo_folder`) decide
    the rest: the environment's keyword arguments and ``env_wrapper`` wrap each environment
    (`env_setup`, which the plan asks before anything is made); observations are normalised
    with the frozen ``vecnormalize.pkl`` statistics, then the last ``frame_stack`` of them
    stacked as ``VecFrameStack`` stacks them (zeros before the episode's first), then given
    to ``model.predict``.

    `algo` is needed only when the folder does not say it (args.yml, or a parent folder
    named for it); `model` picks another file in the folder (``best_model.zip``).
    """

    file_keywords = ("path",)
    loading_note = Sb3Agent.loading_note

    def __init__(
        self,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        path: str,
        algo: str | None = None,
        model: str | None = None,
        deterministic: bool = True,
        device: str = "cpu",
    ) -> None:
        zoo = read_zoo_folder(path, algo, model)
        seen = _seen_space(zoo, observation_space)
        with _as_rlzoo(zoo):
            self.player = Sb3Agent(
                seen, action_space, str(zoo.model), zoo.algo, deterministic, None, device
            )
            self.normalizer = None
            if zoo.vecnormalize is not None:
                self.normalizer = shared_statistics(zoo.vecnormalize, observation_space)
        self.deterministic = deterministic
        self._predict = self.player.model.predict
        self.stack: Any = None
        if zoo.frame_stack:
            vec_env = sb3_module("stable_baselines3.common.vec_env")
            self.stack = vec_env.StackedObservations(1, zoo.frame_stack, observation_space)
        else:  # nothing kept from step to step: one predict can act for a whole batch
            self.act_batch = self._act_batch
        self._first = True

    @classmethod
    def env_setup(
        cls,
        env_id: str,
        env_kwargs: dict[str, Any],
        backend: VectorBackend | None,
        path: str,
        algo: str | None = None,
        model: str | None = None,
        deterministic: bool = True,
        device: str = "cpu",
    ) -> AgentEnv:
        """The environment as the folder says the model was trained on it: its keyword
        arguments and ``env_wrapper``. Refuses a config whose environment is another, whose
        ``env.kwargs`` disagree with the folder's, or whose vector mode cannot play it."""
        zoo = read_zoo_folder(path, algo, model)
        said = zoo.args_file or zoo.folder
        if zoo.env_id != env_id:
            raise AgentError(
                f"agent rlzoo: the model in {zoo.folder} was trained on {zoo.env_id} ({said}), "
                f"but the config's env is {env_id}"
            )
        for key, value in env_kwargs.items():
            if key in zoo.env_kwargs and zoo.env_kwargs[key] != value:
                raise AgentError(
                    f"agent rlzoo: env.kwargs.{key} is {value!r}, but the model was trained "
                    f"with {key}: {zoo.env_kwargs[key]!r} ({zoo.env_kwargs_source}): leave it out"
                )
        if backend is not None and backend.vector_wrappers:
            _refuse_own_vector(zoo)
        for name, kwargs in zoo.wrappers:
            try:
                wrapper = resolve_wrapper(name)
            except GymrunError as exc:
                raise AgentError(
                    f"agent rlzoo: {zoo.config_file}: env_wrapper {name.replace(':', '.')}: {exc}"
                ) from None
            if _ends_episodes_at_lost_lives(wrapper, kwargs):
                raise AgentError(
                    f"agent rlzoo: {zoo.config_file}: env_wrapper {wrapper.__name__} ends an "
                    "episode at each lost life and goes on with the game when reset, so no "
                    "episode can be reset with a seed of its own: gymrun cannot play it as "
                    "trained (play the model with agent sb3 and configs/atari_sb3.yaml's wrappers)"
                )
        return AgentEnv(zoo.env_kwargs, zoo.wrappers, str(zoo.config_file))

    @classmethod
    def provenance(
        cls,
        path: str,
        algo: str | None = None,
        model: str | None = None,
        deterministic: bool = True,
        device: str = "cpu",
    ) -> dict[str, Any]:
        """What `Sb3Agent.provenance` keeps of the model, and the folder's settings files
        (with their hashes), which decide how it is played."""
        zoo = read_zoo_folder(path, algo, model)
        with _as_rlzoo():
            found = Sb3Agent.provenance(str(zoo.model), zoo.algo, deterministic, None, device)
        found["folder"] = str(zoo.folder.absolute())
        found["settings"] = [traced(file) for file in (zoo.config_file, zoo.args_file) if file]
        if zoo.vecnormalize is not None:
            found["vecnormalize"] = traced(zoo.vecnormalize)
        return found

    @classmethod
    def check_unloaded(
        cls,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        path: str,
        algo: str | None = None,
        model: str | None = None,
        deterministic: bool = True,
        device: str = "cpu",
    ) -> list[str]:
        """What `Sb3Agent.check_unloaded` checks, on the observations the model sees (the
        frames stacked), for ``gymrun validate``; nothing is unpickled."""
        zoo = read_zoo_folder(path, algo, model)
        seen = _seen_space(zoo, observation_space)
        stats = None if zoo.vecnormalize is None else str(zoo.vecnormalize)
        with _as_rlzoo(zoo):
            notes = Sb3Agent.check_unloaded(
                seen, action_space, str(zoo.model), zoo.algo, deterministic, stats, device
            )
        return [_said_of_rlzoo(note) for note in notes]

    def reset(self, seed: int) -> None:
        self.player.reset(seed)
        self._first = True

    def act(self, observation: Any) -> Any:
        if self.normalizer is not None:
            observation = self.normalizer.normalize_obs(observation)
        if self.stack is not None:
            batch = _one_row(observation)
            if self._first:
                stacked = self.stack.reset(batch)
                self._first = False
            else:
                stacked, _ = self.stack.update(batch, _NOT_DONE, [{}])
            observation = _row(stacked)
        action, _ = self._predict(observation, deterministic=self.deterministic)
        return action

    def _act_batch(self, observations: Any) -> Any:
        # SB3 tells a batch from one observation by its shape: the same call serves both
        return self.act(observations)


def _seen_space(zoo: ZooFolder, observation_space: gym.Space[Any]) -> gym.Space[Any]:
    """The observations the model sees: the environment's, stacked when frame_stack is set."""
    if not zoo.frame_stack:
        return observation_space
    stacked = stacked_space(observation_space, zoo.frame_stack)
    if stacked is None:
        raise AgentError(
            f"agent rlzoo: {zoo.config_file} sets frame_stack, which stacks Box and Dict "
            f"observations; the environment's are {type(observation_space).__name__}"
        )
    return stacked


def _ends_episodes_at_lost_lives(wrapper: type, kwargs: dict[str, Any]) -> bool:
    """Whether `wrapper` is SB3's EpisodicLifeEnv, or its AtariWrapper putting one in (its
    default): named, not imported, so that checking does not need SB3."""
    module = wrapper.__module__
    if module != "stable_baselines3.common.atari_wrappers":
        return False
    if wrapper.__name__ == "AtariWrapper":
        return kwargs.get("terminal_on_life_loss", True) is not False
    return wrapper.__name__ == "EpisodicLifeEnv"


def _refuse_own_vector(zoo: ZooFolder) -> None:
    """An env's own vector implementation has no per-copy wrappers, and tells no agent
    copy when its sub-environment's episode starts (so frames cannot be stacked)."""
    for setting, present in (("env_wrapper", zoo.wrappers), ("frame_stack", zoo.frame_stack)):
        if present:
            raise AgentError(
                f"agent rlzoo: {zoo.config_file} sets {setting}, which the environment's own "
                "vector implementation (vector mode vector_entry_point, the default when an "
                "env has one) cannot play: set vector.mode to sync or async"
            )


def _one_row(observation: Any) -> Any:
    if isinstance(observation, dict):
        return {key: np.asarray(value)[None] for key, value in observation.items()}
    return np.asarray(observation)[None]


def _row(stacked: Any) -> Any:
    if isinstance(stacked, dict):
        return {key: value[0] for key, value in stacked.items()}
    return stacked[0]


@contextmanager
def _as_rlzoo(zoo: ZooFolder | None = None) -> Iterator[None]:
    """The sb3 agent's errors, said of this agent (it plays the model through one); with
    `zoo`, observations said to be the environment's are said to be stacked, when they are."""
    try:
        yield
    except AgentError as exc:
        message = str(exc)
        if not message.startswith("agent sb3"):
            raise
        if zoo is not None and zoo.frame_stack and "but the environment's are" in message:
            message += f" (its observations stacked {zoo.frame_stack} times: frame_stack in "
            message += f"{zoo.config_file})"
        raise AgentError(_said_of_rlzoo(message)) from exc


def _said_of_rlzoo(message: str) -> str:
    if not message.startswith("agent sb3"):
        return message
    return "agent rlzoo" + message.removeprefix("agent sb3")
