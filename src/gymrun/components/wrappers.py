"""gymrun's own wrappers and the names a config uses for wrappers."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from typing import Any, SupportsFloat

import gymnasium as gym
import gymnasium.wrappers
import numpy as np

from gymrun.components.importing import as_annotated, colon_spelling, is_target, load_target
from gymrun.components.seeding import splitmix64, uniform
from gymrun.errors import (
    GymrunError,
    NotInstalledError,
    UnknownNameError,
    WrapperError,
    did_you_mean,
)

# Mixed into the seed an episode's reset receives, so the wrapper's random stream is
# derived from the episode seed yet independent of the environment's own.
_EPSILON_SALT = 0x65707369


class EpsilonRandom(gym.ActionWrapper[Any, Any, Any], gym.utils.RecordConstructorArgs):
    """With probability `epsilon`, replace the agent's action by a random one.

    The random stream is reseeded from the seed given to `reset`, so seeded episodes repeat.
    Rather than a coin flip every step it draws how many steps pass until the next
    replacement (geometrically distributed, which is the same thing), so a step without a
    replacement costs one subtraction.

    >>> env = EpsilonRandom(gym.make("CartPole-v1"), epsilon=1.0)
    >>> _ = env.reset(seed=0)
    >>> [int(env.action(0)) for _ in range(8)]
    [1, 1, 1, 1, 0, 0, 1, 0]
    """

    def __init__(self, env: gym.Env[Any, Any], epsilon: float) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        gym.utils.RecordConstructorArgs.__init__(self, epsilon=epsilon)
        gym.ActionWrapper.__init__(self, env)
        self.epsilon = epsilon
        # A private copy: seeding it must not disturb anyone else sampling env.action_space.
        self._space = copy.deepcopy(env.action_space)
        self._choices = (
            [np.int64(self._space.start + i) for i in range(int(self._space.n))]
            if isinstance(self._space, gym.spaces.Discrete) and self._space.n <= 4096
            else None
        )
        self._log_keep = math.log1p(-epsilon) if 0.0 < epsilon < 1.0 else 0.0
        self._seed = int(np.random.SeedSequence().generate_state(1)[0])
        self._draws = 0
        self._space_seeded = False
        self._countdown = self._gap()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self._seed, self._draws, self._space_seeded = seed ^ _EPSILON_SALT, 0, False
            self._countdown = self._gap()
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        # ActionWrapper.step inlined: this runs for every step of every episode.
        countdown = self._countdown - 1
        if countdown:
            self._countdown = countdown
            return self.env.step(action)
        self._countdown = self._gap()
        return self.env.step(self._random_action())

    def action(self, action: Any) -> Any:
        countdown = self._countdown - 1
        if countdown:
            self._countdown = countdown
            return action
        self._countdown = self._gap()
        return self._random_action()

    def _uniform(self) -> float:
        self._draws += 1
        return uniform(self._seed, self._draws)

    def _gap(self) -> int:
        """Steps until the next replacement: 1 + Geometric(epsilon); never for epsilon 0."""
        if self.epsilon == 0.0:
            return -1  # counts down past zero forever
        if self.epsilon == 1.0:
            return 1
        return 1 + int(math.log1p(-self._uniform()) / self._log_keep)

    def _random_action(self) -> Any:
        if self._choices is not None:
            return self._choices[int(self._uniform() * len(self._choices))]
        if not self._space_seeded:
            self._space.seed(splitmix64(self._seed, 0) >> 32)
            self._space_seeded = True
        return self._space.sample()


class ScaleReward(gym.RewardWrapper[Any, Any], gym.utils.RecordConstructorArgs):
    """Multiply every reward by `scale` (a named class, so the env spec stays serialisable).

    >>> env = ScaleReward(gym.make("CartPole-v1"), scale=0.01)
    >>> _ = env.reset(seed=0)
    >>> env.step(0)[1]
    0.01
    """

    def __init__(self, env: gym.Env[Any, Any], scale: float) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, scale=scale)
        gym.RewardWrapper.__init__(self, env)
        self.scale = scale

    def reward(self, reward: SupportsFloat) -> float:
        return float(reward) * self.scale


BUILTIN_WRAPPERS: dict[str, type[gym.Wrapper[Any, Any, Any, Any]]] = {
    "epsilon_random": EpsilonRandom,
    "scale_reward": ScaleReward,
    "frame_stack": gymnasium.wrappers.FrameStackObservation,
}


def gymnasium_wrapper_names() -> list[str]:
    """Every wrapper class `gymnasium.wrappers` exports, by class name.

    Some (``JaxToTorch``, ``NumpyToTorch``) import optional packages on first access; they are
    named all the same, and fail when used if the package is missing.
    """
    return [name for name in gymnasium.wrappers.__all__ if name[:1].isupper()]


def resolve_wrapper(name: str) -> type[gym.Wrapper[Any, Any, Any, Any]]:
    """The wrapper class a config's wrapper `name` stands for.

    >>> resolve_wrapper("frame_stack").__name__, resolve_wrapper("ClipReward").__name__
    ('FrameStackObservation', 'ClipReward')
    """
    if name in BUILTIN_WRAPPERS:
        return BUILTIN_WRAPPERS[name]
    if is_target(name):
        cls = load_target(name)
        if not (isinstance(cls, type) and issubclass(cls, gym.Wrapper)):
            raise WrapperError(f"'{name}' is not a gymnasium.Wrapper subclass")
        return cls
    known = gymnasium_wrapper_names()
    if name in known:
        try:
            wrapper = getattr(gymnasium.wrappers, name)
        except ImportError as exc:
            raise NotInstalledError(
                f"wrapper {name} needs a package that is not installed: {exc}"
            ) from exc
        if isinstance(wrapper, type) and issubclass(wrapper, gym.Wrapper):
            return wrapper
    near = did_you_mean(name, [*BUILTIN_WRAPPERS, *known]) or colon_spelling(name)
    raise UnknownNameError(
        f"unknown wrapper '{name}'{near} "
        "(use one of gymrun's, a gymnasium.wrappers class name, or 'package.module:Class')"
    )


# Keywords that name a file or folder a wrapper writes (RecordVideo's video_folder, ...).
PATH_KEYWORD = re.compile(r"(^|_)(path|dir|directory|folder|file|filename|prefix)$")


def path_keywords(kwargs: Mapping[str, Any]) -> list[str]:
    """The keywords of `kwargs` that name files or folders.

    >>> path_keywords({"video_folder": "clips", "episode_trigger": None, "name_prefix": "x"})
    ['video_folder', 'name_prefix']
    """
    return [
        key for key, value in kwargs.items() if isinstance(value, str) and PATH_KEYWORD.search(key)
    ]


def outside_problem(key: str, value: str) -> str | None:
    """Why path `value` of keyword `key` would leave the run directory, or None: files a
    wrapper writes go inside the run's own directory, never elsewhere.

    >>> outside_problem("video_folder", "clips"), outside_problem("video_folder", "/tmp/x")[:41]
    (None, "'/tmp/x' is outside the run's directory (")
    """
    path = PurePath(value)
    if path.is_absolute() or ".." in path.parts or (path.parts and path.parts[0].startswith("~")):
        return (
            f"'{value}' is outside the run's directory (give a path inside it, such as "
            f"'{PurePath(value).name or 'files'}'; {key} is relative to the run's directory)"
        )
    return None


def apply_wrappers(
    env: gym.Env[Any, Any],
    stack: Iterable[tuple[str, Mapping[str, Any]]],
    files_dir: Path | None = None,
    key: tuple[str, ...] = ("wrappers",),
) -> gym.Env[Any, Any]:
    """Wrap `env` in each ``(name, kwargs)`` of `stack` in turn; the first wraps `env` itself.

    Keywords that name files (see `path_keywords`) are paths inside `files_dir`, the run's
    directory; without one (a run that records nothing), such a wrapper is refused. An error
    is about `key` and the wrapper's index (``wrappers.0``).

    >>> env = apply_wrappers(gym.make("CartPole-v1"), [("frame_stack", {"stack_size": 4})])
    >>> env.observation_space.shape
    (4, 4)
    """
    for index, (name, kwargs) in enumerate(stack):
        paths = path_keywords(kwargs)
        if paths and files_dir is None:
            raise WrapperError(
                f"{name} writes files ({', '.join(paths)}), which go in the run's directory: "
                "it cannot run in a run that records nothing",
                key=(*key, index),
            )
        if paths:
            assert files_dir is not None
            kwargs = {**kwargs, **{key: str(files_dir / kwargs[key]) for key in paths}}
        try:
            wrapper = resolve_wrapper(name)
            env = wrapper(env, **as_annotated(wrapper, kwargs))
        except GymrunError:
            raise
        except Exception as exc:
            raise WrapperError(f"{name}: {type(exc).__name__}: {exc}", key=(*key, index)) from exc
    return env
