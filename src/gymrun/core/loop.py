"""The loop: the one way gymrun plays episodes, for a single environment or a vector env.

`play` hands a `Schedule` (numbering, seeds, order, boundary) to the stepper that fits the
environment; `gymrun.core.steppers` says how each steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import gymnasium as gym
from gymnasium.vector import AutoresetMode

from gymrun.components.policy import Policy
from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.metrics import DEFAULT_METRICS, Metric
from gymrun.core.schedule import Schedule
from gymrun.core.steppers import AutoresetVectorStepper, ResettingVectorStepper, SingleStepper


def play(
    env: gym.Env[Any, Any] | gym.vector.VectorEnv[Any, Any, Any],
    policy: Policy,
    *,
    seed: int,
    count: int,
    first: int = 0,
    reward_boundary: float | None = None,
    metrics: Sequence[Metric] = DEFAULT_METRICS,
    transitions: bool = False,
) -> Iterator[Sequence[EpisodeResult]]:
    """Play episodes ``first .. first + count - 1`` of a run seeded `seed`; yield them in
    index order, in batches, each as soon as it and every episode before it has ended.
    Each episode carries the `metrics` its step infos reported (by default ``is_success``,
    where the env reports it; see `gymrun.core.metrics`).

    A single environment yields one episode at a time. A vector env whose autoreset is
    disabled (gymrun's sync and async modes) resets each sub-environment with its
    episode's own seed; one that resets itself (an environment's own vector
    implementation) is seeded once, with `seed`, and its episodes carry no seed.

    With `transitions`, each batch is an `EpisodeBatch` that carries its episodes' steps
    (`gymrun.core.transitions`), for a dataset; an env's own vector implementation cannot
    give them.

    >>> from gymrun.components.agents import ConstantAgent
    >>> env = gym.make("CartPole-v1")
    >>> policy = Policy([ConstantAgent(env.action_space, 0)], env.action_space)
    >>> [e.steps for batch in play(env, policy, seed=0, count=3) for e in batch]
    [9, 10, 8]
    """
    schedule = Schedule(
        run_seed=seed,
        first=first,
        count=count,
        reward_boundary=reward_boundary,
        metrics=metrics,
        transitions=transitions,
    )
    if not isinstance(env, gym.vector.VectorEnv):
        batches = SingleStepper(env, policy).run(schedule)
    elif AutoresetMode(env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)) is (
        AutoresetMode.DISABLED
    ):
        batches = ResettingVectorStepper(env, policy).run(schedule)
    elif transitions:
        raise ValueError("a vector env that resets itself does not give its episodes' steps")
    elif first:  # its episodes are numbered from the run's start, never from the middle
        raise ValueError("a vector env that resets itself always starts at episode 0")
    else:
        batches = AutoresetVectorStepper(env, policy).run(schedule)
    return batches if not transitions else _with_transitions(batches, schedule)


def _with_transitions(
    batches: Iterator[Sequence[EpisodeResult]], schedule: Schedule
) -> Iterator[EpisodeBatch]:
    """Each batch as columns, with its episodes' steps taken from the schedule."""
    kept = schedule.transitions
    assert kept is not None
    for batch in batches:
        columns = EpisodeBatch.of(batch, schedule.boundary)
        columns.transitions = [kept.pop(index) for index in columns.episode.tolist()]
        yield columns
