"""Describing environments and spaces as plain data (what ``gymrun inspect`` shows)."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

from gymrun.components.catalog import entry_point_name, family_of, find_spec, make
from gymrun.config import ExperimentConfig
from gymrun.core.environment import make_env
from gymrun.core.plan import RunPlan
from gymrun.errors import EnvError, GymrunError

LIST_LIMIT = 32  # bounds with more values than this are summarised
SAMPLE_LIMIT = 1000  # observations and samples with more values than this are summarised


def jsonable(value: Any, limit: int = SAMPLE_LIMIT) -> Any:
    """`value` as JSON data: arrays as lists (summarised past `limit` values), non-finite
    floats as strings.

    >>> jsonable(np.array([1.0, np.inf], dtype=np.float32))
    [1.0, 'inf']
    >>> jsonable(np.zeros((64, 64)))["shape"]
    [64, 64]
    """
    if isinstance(value, np.ndarray):
        if value.size > limit:
            summary: dict[str, Any] = {"shape": list(value.shape), "dtype": str(value.dtype)}
            if value.dtype.kind in "biuf":
                summary |= {
                    "min": jsonable(value.min().item()),
                    "max": jsonable(value.max().item()),
                    "mean": jsonable(float(value.mean())),
                }
            return summary
        if value.dtype.kind == "f" and value.dtype.itemsize < 8:
            # float32's shortest repr (4.8), not its float64 widening (4.800000190734863)
            shortest = np.array([float(str(v)) for v in value.ravel()]).reshape(value.shape)
            return jsonable(shortest.tolist(), limit)
        return jsonable(value.tolist(), limit)
    if isinstance(value, np.floating) and value.dtype.itemsize < 8:
        return jsonable(float(str(value)), limit)
    if isinstance(value, np.generic):
        return jsonable(value.item(), limit)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, limit) for v in value]
    return value


def _bound(values: np.ndarray) -> Any:
    flat = values.ravel()
    if flat.size and bool(np.all(flat == flat[0])):
        return jsonable(flat[0])
    if flat.size <= LIST_LIMIT:
        return jsonable(values)
    return {"min": jsonable(flat.min()), "max": jsonable(flat.max())}


def describe_space(space: gym.Space[Any]) -> dict[str, Any]:
    """A space as nested plain data.

    >>> describe_space(gym.spaces.Discrete(2))
    {'type': 'Discrete', 'n': 2, 'start': 0}
    >>> describe_space(gym.spaces.Box(0, 255, (84, 84, 3), np.uint8))
    {'type': 'Box', 'shape': [84, 84, 3], 'dtype': 'uint8', 'low': 0, 'high': 255}
    """
    kind = type(space).__name__
    if isinstance(space, gym.spaces.Box):
        return {
            "type": kind,
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _bound(space.low),
            "high": _bound(space.high),
        }
    if isinstance(space, gym.spaces.Discrete):
        return {"type": kind, "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {
            "type": kind,
            "nvec": jsonable(space.nvec),
            "start": jsonable(space.start),
            "dtype": str(space.dtype),
        }
    if isinstance(space, gym.spaces.MultiBinary):
        return {"type": kind, "n": jsonable(space.n), "shape": list(space.shape)}
    if isinstance(space, gym.spaces.Tuple):
        return {"type": kind, "spaces": [describe_space(s) for s in space.spaces]}
    if isinstance(space, gym.spaces.Dict):
        return {"type": kind, "spaces": {k: describe_space(s) for k, s in space.spaces.items()}}
    if isinstance(space, gym.spaces.Text):
        return {"type": kind, "min_length": space.min_length, "max_length": space.max_length}
    return {"type": kind, "repr": str(space)}


def describe_env(
    env_id: str, *, config: ExperimentConfig | None = None, seed: int = 0
) -> dict[str, Any]:
    """Spec, spaces, a sample from each space and the first observation after ``reset(seed)``.

    With `config` (a config of `env_id`), the environment is wrapped in the config's
    wrapper stack first.

    >>> info = describe_env("CartPole-v1")
    >>> info["action_space"], info["observation_space"]["shape"], info["reward_threshold"]
    ({'type': 'Discrete', 'n': 2, 'start': 0}, [4], 475.0)
    """
    spec = find_spec(env_id)
    env = make(spec) if config is None else make_env(RunPlan.of(config))
    try:
        observation, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        env.observation_space.seed(seed)
        return {
            "id": spec.id,
            "family": family_of(spec),
            "entry_point": entry_point_name(spec),
            "reward_threshold": spec.reward_threshold,
            "max_episode_steps": spec.max_episode_steps,
            "nondeterministic": spec.nondeterministic,
            "render_modes": list(env.metadata.get("render_modes", [])),
            "wrappers": [] if config is None else [name for name, _ in config.wrapper_stack],
            "action_space": describe_space(env.action_space),
            "observation_space": describe_space(env.observation_space),
            "action_sample": jsonable(env.action_space.sample()),
            "observation_sample": jsonable(env.observation_space.sample()),
            "seed": seed,
            "first_observation": jsonable(observation),
        }
    except GymrunError:
        raise
    except Exception as exc:
        raise EnvError(f"{env_id}: {type(exc).__name__}: {exc}") from exc
    finally:
        env.close()
