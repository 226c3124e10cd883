"""An episode's steps as offline RL keeps them: what the agent saw, what it did, what it got.

Steps are kept only for a run that writes a dataset (``record.dataset``): the loop then
collects them beside the episode's result (`gymrun.core.steppers`), and they travel with
its batch (`EpisodeBatch.transitions`) to the dataset writer, from a worker process too.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np


@dataclass(frozen=True)
class Transitions:
    """One episode's steps: ``observations`` holds one more than the steps (the reset's
    first, the last step's final one), stacked along a first axis as the observation space
    batches them (a dict of arrays for a Dict space); ``actions``, ``rewards``,
    ``terminations`` and ``truncations`` one per step. The spaces are the run's (shared by
    every episode, so a pickled chunk carries them once).

    >>> space = gym.spaces.Discrete(3)
    >>> steps = Transitions.of(space, space, [0, 1, 2], [1, 1], [1.0, 0.5], True, False)
    >>> steps.observations.tolist(), steps.terminations.tolist(), len(steps)
    ([0, 1, 2], [False, True], 2)
    """

    observations: Any
    actions: Any
    rewards: np.ndarray
    terminations: np.ndarray
    truncations: np.ndarray
    observation_space: gym.Space[Any]
    action_space: gym.Space[Any]

    def __len__(self) -> int:
        return len(self.rewards)

    @classmethod
    def of(
        cls,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        observations: Sequence[Any],
        actions: Sequence[Any],
        rewards: Sequence[Any],
        terminated: bool,
        truncated: bool,
    ) -> Transitions:
        """The steps collected one by one (`observations` one more than the others), and how
        the last ended."""
        count = len(actions)
        terminations = np.zeros(count, dtype=bool)
        truncations = np.zeros(count, dtype=bool)
        if count:
            terminations[-1], truncations[-1] = terminated, truncated
        return cls(
            _stacked(observation_space, observations),
            _stacked(action_space, actions),
            np.asarray(rewards, dtype=np.float64),
            terminations,
            truncations,
            observation_space,
            action_space,
        )


class Collector:
    """The steps of the episode being played, collected as they come: `start` with the
    reset's observation, `step` for each step, `finish` when the episode ends. Each value is
    copied: an environment or an agent may hand out the same array again, changed."""

    def __init__(self, observation_space: gym.Space[Any], action_space: gym.Space[Any]) -> None:
        self.observation_space, self.action_space = observation_space, action_space
        self.observations: list[Any] = []
        self.actions: list[Any] = []
        self.rewards: list[Any] = []

    def start(self, observation: Any) -> None:
        self.observations, self.actions, self.rewards = [copied(observation)], [], []

    def step(self, action: Any, reward: Any, observation: Any) -> None:
        self.actions.append(copied(action))
        self.rewards.append(reward)
        self.observations.append(copied(observation))

    def finish(self, terminated: bool, truncated: bool) -> Transitions:
        steps = Transitions.of(
            self.observation_space,
            self.action_space,
            self.observations,
            self.actions,
            self.rewards,
            terminated,
            truncated,
        )
        self.observations, self.actions, self.rewards = [], [], []
        return steps


def copied(value: Any) -> Any:
    """`value`, not shared with whoever handed it out."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, int | float | np.generic | str):
        return value
    return copy.deepcopy(value)


def _stacked(space: gym.Space[Any], values: Sequence[Any]) -> Any:
    """`values` of `space` as one batch along a first axis (Gymnasium's vector layout)."""
    out: Any = gym.vector.utils.create_empty_array(space, len(values))
    return gym.vector.utils.concatenate(space, values, out) if len(values) else out
