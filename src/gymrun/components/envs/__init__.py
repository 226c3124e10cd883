"""Environments gymrun ships, registered with Gymnasium on import.

>>> import gymnasium as gym
>>> import gymrun.components.envs
>>> gym.spec("gymrun/RandomReward-v0").max_episode_steps is None
True
"""

from gymnasium.envs.registration import register, registry

from gymrun.components.envs.random_reward import RandomRewardEnv

__all__ = ["RandomRewardEnv"]

if "gymrun/RandomReward-v0" not in registry:
    register(
        id="gymrun/RandomReward-v0",
        entry_point="gymrun.components.envs.random_reward:RandomRewardEnv",
    )
