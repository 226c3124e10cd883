"""The best shipped non-learning agent of each task, as a config's agent section."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Baseline:
    """An agent (by name, with its keywords) that `gymrun baselines` runs on a task."""

    agent: str
    options: dict[str, Any] = field(default_factory=dict)

    def entry(self) -> dict[str, Any]:
        """The config's ``agent:`` mapping.

        >>> Baseline("planner", {"horizon": 10}).entry()
        {'name': 'planner', 'horizon': 10}
        """
        return {"name": self.agent, **self.options}


SHIPPED: dict[str, Baseline] = {
    "CartPole-v0": Baseline("heuristic"),
    "CartPole-v1": Baseline("heuristic"),
    "MountainCar-v0": Baseline("heuristic"),
    "MountainCarContinuous-v0": Baseline("heuristic"),
    "Acrobot-v1": Baseline("heuristic"),
    "Pendulum-v1": Baseline("heuristic"),
    "LunarLander-v3": Baseline("heuristic"),
    "LunarLanderContinuous-v3": Baseline("heuristic"),
    "BipedalWalker-v3": Baseline("heuristic"),
    "FrozenLake-v1": Baseline("dynamic_programming"),
    "FrozenLake8x8-v1": Baseline("dynamic_programming"),
    "Taxi-v4": Baseline("dynamic_programming"),
    "CliffWalking-v1": Baseline("dynamic_programming"),
    "CliffWalkingSlippery-v1": Baseline("dynamic_programming"),
    "Blackjack-v1": Baseline("heuristic"),
    "InvertedPendulum-v4": Baseline("lqr"),
    "InvertedPendulum-v5": Baseline("lqr"),
    "InvertedDoublePendulum-v4": Baseline("lqr"),
    "InvertedDoublePendulum-v5": Baseline("lqr"),
    "Reacher-v4": Baseline("heuristic"),
    "Reacher-v5": Baseline("heuristic"),
}
