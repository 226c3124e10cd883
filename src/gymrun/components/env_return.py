"""The environment's own return, measured beneath the config's wrappers.

Like Stable-Baselines3's ``Monitor`` or ``RecordEpisodeStatistics`` placed right on the
environment, `EnvReturn` sums the rewards of the environment it wraps, under every wrapper
of the config. Unlike them it does not decide when an episode ends: a wrapper above it
(``TimeLimit``, ``max_steps``) may end one first. `ReportEnvReturn`, outermost, does:
it puts the sum of the rewards beneath in the info of each episode's last step, so that the
return comes back through sync and async vector envs as any info does. Both cost a few
attribute look-ups per step, and are only there when the config has wrappers.

For an environment's own vector implementation, `VectorRewardTap` keeps each step's rewards
beneath the vector wrappers, for the loop to sum as it sums what the agent saw.
"""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

# The key of an episode's last info that holds the environment's own return.
ENV_RETURN = "env_return"


class EnvReturn(gym.Wrapper[Any, Any, Any, Any]):
    """Sums the rewards of the environment it wraps since its last reset.

    >>> env = EnvReturn(gym.make("CartPole-v1"))
    >>> _ = env.reset(seed=0)
    >>> _ = env.step(0), env.step(0)
    >>> env.total
    2.0
    """

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.total = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        self.total = 0.0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        result = self.env.step(action)
        self.total += float(result[1])
        return result


class ReportEnvReturn(gym.Wrapper[Any, Any, Any, Any]):
    """Outermost: adds the rewards `meter` summed over the episode to the info of the
    episode's last step, under `ENV_RETURN`. A wrapper that ends an episode without
    resetting the environment beneath (one life of a game) is measured from its reset.

    >>> meter = EnvReturn(gym.make("CartPole-v1"))
    >>> env = ReportEnvReturn(gym.wrappers.TransformReward(meter, lambda r: r / 100), meter)
    >>> _ = env.reset(seed=0)
    >>> ended = False
    >>> while not ended:
    ...     _, reward, terminated, truncated, info = env.step(0)
    ...     ended = terminated or truncated
    >>> reward, info[ENV_RETURN]
    (0.01, 11.0)
    """

    def __init__(self, env: gym.Env[Any, Any], meter: EnvReturn) -> None:
        super().__init__(env)
        self.meter = meter
        self._start = 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        result = self.env.reset(seed=seed, options=options)
        self._start = self.meter.total
        return result

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info = {**info, ENV_RETURN: self.meter.total - self._start}
        return observation, reward, terminated, truncated, info


class VectorRewardTap(gym.vector.VectorWrapper):
    """Keeps the rewards of the last step of the vector env it wraps, in `rewards`.

    >>> env = VectorRewardTap(gym.make_vec("CartPole-v1", num_envs=2))
    >>> _ = env.reset(seed=0)
    >>> _ = env.step(env.action_space.sample())
    >>> env.rewards.tolist()
    [1.0, 1.0]
    """

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any]) -> None:
        super().__init__(env)
        self.rewards: Any = None

    def step(self, actions: Any) -> Any:
        result = self.env.step(actions)
        self.rewards = result[1]
        return result


def find_reward_tap(env: gym.vector.VectorEnv[Any, Any, Any]) -> VectorRewardTap | None:
    """The `VectorRewardTap` among the wrappers of `env`, if it has one.

    >>> find_reward_tap(gym.make_vec("CartPole-v1", num_envs=2)) is None
    True
    """
    while isinstance(env, gym.vector.VectorWrapper):
        if isinstance(env, VectorRewardTap):
            return env
        env = env.env
    return None
