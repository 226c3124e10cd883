"""The best points of a sweep, from their JSON form (``sweep.json``): marked in the
terminal's table and on the board's sweep page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def point_env(values: dict[str, Any]) -> str | None:
    """The environment a point of a grid sets (``env`` or ``env.id`` swept), else None.

    >>> point_env({"env.id": "Acrobot-v1", "episodes": 5}), point_env({"episodes": 5})
    ('Acrobot-v1', None)
    """
    env = values.get("env.id", values.get("env"))
    if isinstance(env, dict):
        env = env.get("id")
    return None if env is None else str(env)


def best_points(points: Sequence[dict[str, Any]]) -> list[int]:
    """The indices of the best point of each environment among `points` (in their JSON
    form): the highest mean reward, on a tie a completed point before one that is not (then
    the first), never a point with a failed run.

    >>> def p(env, mean, status="completed"):
    ...     return {"values": {"env.id": env}, "mean_reward": mean, "status": status}
    >>> best_points([p("CartPole-v1", 22.0), p("Acrobot-v1", -500.0), p("CartPole-v1", 9.0)])
    [0, 1]
    >>> best_points([p("MountainCar-v0", -200.0, "interrupted"), p("MountainCar-v0", -200.0)])
    [1]
    """
    best: dict[str | None, tuple[float, bool, int]] = {}
    for i, point in enumerate(points):
        mean = point["mean_reward"]
        if mean is None or point["status"] == "failed":
            continue
        env = point_env(point["values"])
        rank = (mean, point["status"] == "completed")
        if env not in best or rank > best[env][:2]:
            best[env] = (*rank, i)
    return sorted(i for *_, i in best.values())


def starred_points(points: Sequence[dict[str, Any]]) -> list[int]:
    """The points (JSON form) worth a star in a table: the best of each environment that has
    several points (a star across environments, or alone, would mean nothing)."""
    envs = [point_env(point["values"]) for point in points]
    return [i for i in best_points(points) if envs.count(envs[i]) > 1]
