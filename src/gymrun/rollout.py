"""The rollout loop: the one place in gymrun that steps an environment."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from time import perf_counter
from typing import Any

import gymnasium as gym
import numpy as np

from gymrun.errors import RolloutError
from gymrun.spaces import space_label


@dataclass(frozen=True, slots=True)
class EpisodeResult:
    """What one finished episode came to."""

    index: int
    seed: int
    reward: float
    steps: int
    terminated: bool
    truncated: bool
    reached: bool | None  # reward >= the boundary; None when there is no boundary
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The episode as ``--json`` and the recordings show it (timings left out)."""
        return {
            "episode": self.index,
            "seed": self.seed,
            "reward": self.reward,
            "steps": self.steps,
            "terminated": self.terminated,
            "truncated": self.truncated,
            "reached": self.reached,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EpisodeResult:
        """An episode read back from ``to_json`` form (its timing was not kept)."""
        return cls(
            index=data["episode"],
            seed=data["seed"],
            reward=data["reward"],
            steps=data["steps"],
            terminated=data["terminated"],
            truncated=data["truncated"],
            reached=data["reached"],
            seconds=0.0,
        )


def episode_seeds(run_seed: int, index: int) -> tuple[int, int]:
    """The (environment, agent) seeds of episode `index`, derived from the run seed alone.

    Each episode's seeds depend only on the run seed and its index, so a run of 10 episodes
    repeats the first 10 of a run of 20, and episodes can be split across processes.

    >>> episode_seeds(42, 0) == episode_seeds(42, 0), episode_seeds(42, 0) != episode_seeds(42, 1)
    (True, True)
    """
    env_seed, agent_seed = np.random.SeedSequence(run_seed, spawn_key=(index,)).generate_state(2)
    return int(env_seed), int(agent_seed)


def rollout(
    env: gym.Env[Any, Any],
    agent: Any,
    *,
    seed: int,
    episodes: int,
    start: int = 0,
    reward_boundary: float | None = None,
    max_steps: int | None = None,
    agent_name: str = "agent",
) -> Iterator[EpisodeResult]:
    """Run episodes ``start .. start + episodes - 1`` and yield each as soon as it ends.

    >>> from gymrun.agents import ConstantAgent
    >>> env = gym.make("CartPole-v1")
    >>> [r.steps for r in rollout(env, ConstantAgent(env.action_space, 0), seed=0, episodes=3)]
    [9, 10, 9]
    """
    act = agent.act
    reset_agent = getattr(agent, "reset", None)
    observe = getattr(agent, "observe", None)
    # Built-in agents whose actions are in the space by construction skip the per-step check.
    check = None if getattr(agent, "actions_in_space", False) else env.action_space.contains
    step_limit = max_steps if max_steps is not None else -1
    for index in range(start, start + episodes):
        env_seed, agent_seed = episode_seeds(seed, index)
        steps = 0
        try:
            started = perf_counter()
            observation, _ = env.reset(seed=env_seed)
            if reset_agent is not None:
                reset_agent(agent_seed)
            total = 0.0
            terminated = truncated = False
            while not (terminated or truncated):
                action = act(observation)
                if check is not None and not check(action):
                    raise _ActionOutsideSpace(
                        f"agent {agent_name} chose action {action!r}, "
                        f"which is not in the action space {space_label(env.action_space)}"
                    )
                next_observation, reward, terminated, truncated, _ = env.step(action)
                total += reward  # type: ignore[operator]
                steps += 1
                if observe is not None:
                    observe(observation, action, reward, next_observation, terminated, truncated)
                observation = next_observation
                if steps == step_limit and not terminated:
                    truncated = True
        except _ActionOutsideSpace as exc:
            raise RolloutError(
                f"episode {index}, step {steps}: {exc}", episode=index, step=steps
            ) from None
        except Exception as exc:
            raise RolloutError(
                f"episode {index}, step {steps}: {type(exc).__name__}: {exc} ({_origin(exc)})",
                episode=index,
                step=steps,
            ) from exc
        total = float(total)
        yield EpisodeResult(
            index=index,
            seed=env_seed,
            reward=total,
            steps=steps,
            terminated=bool(terminated),
            truncated=bool(truncated),
            reached=None if reward_boundary is None else total >= reward_boundary,
            seconds=perf_counter() - started,
        )


class _ActionOutsideSpace(Exception):
    pass


def _origin(exc: BaseException) -> str:
    """Where `exc` was raised, so the message tells the env's fault from the agent's."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "raised outside Python"
    frame = frames[-1]
    return f"raised in {frame.name} at {frame.filename}:{frame.lineno}"
