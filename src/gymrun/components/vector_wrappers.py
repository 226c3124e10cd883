"""Wrappers in vector form, for environments with their own vector implementation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import gymnasium.wrappers.vector
import numpy as np

from gymrun.components.importing import as_annotated, is_target, load_target
from gymrun.components.seeding import reseed
from gymrun.errors import GymrunError, WrapperError

_EPSILON_SALT = 0x65707369


class VectorEpsilonRandom(gym.vector.VectorActionWrapper):
    """`epsilon_random` for a vector env: each sub-environment's action is replaced by a
    random one with probability `epsilon`, independently, every step.

    >>> env = VectorEpsilonRandom(gym.make_vec("CartPole-v1", num_envs=1000), epsilon=0.5)
    >>> _ = env.reset(seed=0)
    >>> 0.2 < float(env.actions(np.zeros(1000, dtype=np.int64)).mean()) < 0.3
    True
    """

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any], epsilon: float) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        super().__init__(env)
        self.epsilon = epsilon
        space = env.single_action_space
        if not isinstance(
            space,
            gym.spaces.Discrete
            | gym.spaces.Box
            | gym.spaces.MultiDiscrete
            | gym.spaces.MultiBinary,
        ):
            raise WrapperError(
                f"epsilon_random in vector mode cannot replace {type(space).__name__} actions"
            )
        self._rng = np.random.Generator(np.random.PCG64())
        self._random_actions = gym.vector.utils.batch_space(space, env.num_envs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            reseed(self._rng, seed ^ _EPSILON_SALT)
            self._random_actions.seed(seed ^ _EPSILON_SALT)
        return super().reset(seed=seed, options=options)

    def actions(self, actions: Any) -> Any:
        replace = self._rng.random(self.num_envs) < self.epsilon
        if not replace.any():
            return actions
        random = self._random_actions.sample()
        mask = replace.reshape((-1,) + (1,) * (np.ndim(random) - 1))
        return np.where(mask, random, actions)


class VectorScaleReward(gym.vector.VectorRewardWrapper):
    """`scale_reward` for a vector env: every reward is multiplied by `scale`."""

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any], scale: float) -> None:
        super().__init__(env)
        self.scale = scale

    def rewards(self, reward: Any) -> Any:
        # in float64, as `scale_reward` scales one env's reward: float32 rewards times 1e200
        # would be infinite
        return np.asarray(reward, dtype=np.float64) * self.scale


VECTOR_WRAPPERS: dict[str, type[gym.vector.VectorWrapper]] = {
    "epsilon_random": VectorEpsilonRandom,
    "scale_reward": VectorScaleReward,
}


def resolve_vector_wrapper(name: str) -> type[gym.vector.VectorWrapper]:
    """The vector form of wrapper `name`, or a `GymrunError` saying there is none.

    >>> resolve_vector_wrapper("ClipReward") is gymnasium.wrappers.vector.ClipReward
    True
    """
    if name in VECTOR_WRAPPERS:
        return VECTOR_WRAPPERS[name]
    if is_target(name):
        cls = load_target(name)
        if isinstance(cls, type) and issubclass(cls, gym.vector.VectorWrapper):
            return cls
        raise WrapperError(
            f"'{name}' is not a gymnasium.vector.VectorWrapper, so it cannot wrap a vector env"
        )
    vector_form = getattr(gymnasium.wrappers.vector, name, None)
    if isinstance(vector_form, type) and issubclass(vector_form, gym.vector.VectorWrapper):
        return vector_form
    raise WrapperError(
        f"wrapper '{name}' has no vector form (gymnasium.wrappers.vector has none), which "
        "an environment's own vector implementation needs"
    )


def apply_vector_wrappers(
    env: gym.vector.VectorEnv[Any, Any, Any], stack: Sequence[tuple[str, dict[str, Any]]]
) -> gym.vector.VectorEnv[Any, Any, Any]:
    """Wrap vector env `env` in the vector form of each ``(name, kwargs)`` of `stack`, in turn.

    >>> env = gym.make_vec("CartPole-v1", 2)
    >>> type(apply_vector_wrappers(env, [("scale_reward", {"scale": 2})])).__name__
    'VectorScaleReward'
    """
    for index, (name, options) in enumerate(stack):
        try:
            wrapper = resolve_vector_wrapper(name)
            env = wrapper(env, **as_annotated(wrapper, options))
        except GymrunError:
            env.close()
            raise
        except Exception as exc:
            env.close()
            raise WrapperError(
                f"{name} (vector form): {type(exc).__name__}: {exc}", key=("wrappers", index)
            ) from exc
    return env
