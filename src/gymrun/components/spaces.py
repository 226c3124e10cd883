"""Small facts about Gymnasium spaces: how to name one in a message, how to fill one from YAML."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gymrun.errors import AgentError


def space_label(space: Any, width: int = 120) -> str:
    """A one-line name for `space`: its repr, unless that would spread over lines or be
    longer than `width`.

    >>> space_label(gym.spaces.Discrete(2))
    'Discrete(2)'
    >>> high = np.arange(1.0, 9.0).reshape(2, 4)
    >>> space_label(gym.spaces.Box(np.zeros((2, 4)), high, dtype=np.float64))
    'Box(shape=(2, 4), dtype=float64)'
    """
    text = str(space)
    if "\n" not in text and len(text) <= width:
        return text
    if isinstance(space, gym.spaces.Tuple):
        return f"Tuple({', '.join(space_label(part, width) for part in space.spaces)})"
    if isinstance(space, gym.spaces.Dict):
        parts = (f"{key}: {space_label(part, width)}" for key, part in space.spaces.items())
        return f"Dict({', '.join(parts)})"
    shape = getattr(space, "shape", None)
    dtype = getattr(space, "dtype", None)
    return f"{type(space).__name__}(shape={shape}, dtype={dtype})"


def to_action(space: gym.Space[Any], value: Any, where: str) -> Any:
    """Convert a YAML value to an action of `space`, or raise `AgentError`.

    >>> to_action(gym.spaces.Box(-1, 1, (2,)), [0.5, -0.5], "action")
    array([ 0.5, -0.5], dtype=float32)
    """
    try:
        if isinstance(space, gym.spaces.Tuple):
            action: Any = tuple(to_action(s, v, where) for s, v in zip(space, value, strict=True))
        elif isinstance(space, gym.spaces.Dict):
            action = {key: to_action(s, value[key], where) for key, s in space.items()}
        elif isinstance(space, gym.spaces.Discrete):
            action = value if isinstance(value, int) and not isinstance(value, bool) else None
        elif isinstance(space, gym.spaces.Box | gym.spaces.MultiDiscrete | gym.spaces.MultiBinary):
            action = np.asarray(value, dtype=space.dtype)
        else:
            action = value
    except (TypeError, ValueError, KeyError):
        action = None
    if action is None or not space.contains(action):
        raise AgentError(f"agent {where}: {value!r} is not an action of {space_label(space)}")
    return action
