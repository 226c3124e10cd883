"""Small facts about Gymnasium spaces: how to name one in a message, how to fill one from YAML."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from gymrun.errors import AgentError


def space_label(space: Any, width: int = 120) -> str:
    """A one-line name for `space`: its repr, with a Box's bounds written compactly, unless
    that would be longer than `width`.

    >>> space_label(gym.spaces.Discrete(2))
    'Discrete(2)'
    >>> space_label(gym.spaces.Box(np.array([-4.8, -np.inf]), np.array([4.8, np.inf]), (2,), float))
    'Box([-4.8, -inf], [4.8, inf], (2,), float64)'
    >>> box = gym.spaces.Box(np.zeros(20), np.arange(1.0, 21.0), dtype=np.float64)
    >>> space_label(box)
    'Box([0, 0, ..., 0, 0], [1, 2, ..., 19, 20], (20,), float64)'
    >>> space_label(box, width=40)
    'Box(shape=(20,), dtype=float64)'
    """
    text = str(space)
    if isinstance(space, gym.spaces.Box) and not (
        np.all(space.low == space.low.flat[0]) and np.all(space.high == space.high.flat[0])
    ):  # bounds of their own per value: numpy pads them into columns, over lines
        low, high = (_items(bound, threshold=6) for bound in (space.low, space.high))
        text = f"Box({low}, {high}, {space.shape}, {space.dtype})"
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


def value_label(value: Any, width: int = 120) -> str:
    """A value from user code (an action, an observation, a reward) on one line: an array as
    its shape, dtype and first and last items, anything else as its repr, cut at `width`.

    >>> value_label(np.full((10, 2), 0.123456789))
    'array of shape (10, 2) float64: [[0.1235, 0.1235], [0.1235, 0.1235], ..., [0.1235, 0.1235]]'
    >>> value_label(np.float32(0.5)), value_label((1, np.array([2, 3])))
    ('0.5 (float32)', '(1, array of shape (2,) int64: [2, 3])')
    """
    if isinstance(value, np.ndarray) and value.ndim:
        text = f"array of shape {value.shape} {value.dtype}: {_items(value)}"
    elif isinstance(value, np.ndarray | np.generic):
        text = f"{value.item()!r} ({value.dtype})"
    elif isinstance(value, tuple | list) and len(value) <= 6:
        parts = ", ".join(value_label(part, width) for part in value)
        text = (
            f"({parts}{',' if len(value) == 1 else ''})"
            if isinstance(value, tuple)
            else f"[{parts}]"
        )
    elif isinstance(value, dict) and len(value) <= 6:
        text = "{" + ", ".join(f"{k!r}: {value_label(v, width)}" for k, v in value.items()) + "}"
    else:
        text = repr(value)
    text = " ".join(text.split())  # one line, whatever a repr spreads over
    return text if len(text) <= width else text[: width - 3] + "..."


def _items(array: np.ndarray, threshold: int = 6) -> str:
    """An array's items on one line, compactly: ``[0.1, -2.5, ..., 3, 4]`` (numpy's own text
    pads items into columns and breaks rows over lines)."""
    summarise = array.size > threshold

    def items(part: np.ndarray) -> str:
        if part.ndim == 0:
            value = part.item()
            return f"{value:.4g}" if isinstance(value, float) else repr(value)
        rows = list(part)
        if summarise and len(rows) > 4:
            return f"[{', '.join(map(items, rows[:2]))}, ..., {', '.join(map(items, rows[-2:]))}]"
        return f"[{', '.join(map(items, rows))}]"

    return items(array)


def expected_of(space: Any, value: Any) -> str:
    """What `space` holds beside what `value` is, where the space has a shape and a dtype:
    ``expected shape (1,) float32, got shape (3, 2) float64``; else ``""``.

    >>> expected_of(gym.spaces.Box(-2, 2, (1,)), np.zeros((3, 2)))
    'expected shape (1,) float32, got shape (3, 2) float64'
    >>> expected_of(gym.spaces.Discrete(3), 5)
    'expected an integer from 0 to 2, got 5'
    """
    if isinstance(space, gym.spaces.Discrete):
        low = int(space.start)
        return (
            f"expected an integer from {low} to {low + int(space.n) - 1}, got {value_label(value)}"
        )
    if not isinstance(space, gym.spaces.Box | gym.spaces.MultiDiscrete | gym.spaces.MultiBinary):
        return ""
    got = getattr(value, "dtype", None) or type(value).__name__
    wanted = f"shape {space.shape} {space.dtype}"
    if np.shape(value) == space.shape and str(got) == str(space.dtype):
        return f"expected {wanted} within its bounds"
    return f"expected {wanted}, got shape {np.shape(value)} {got}"


def to_action(space: gym.Space[Any], value: Any, key: tuple[str | int, ...]) -> Any:
    """Convert a YAML value to an action of `space`, or raise `AgentError` about config
    key `key`.

    >>> to_action(gym.spaces.Box(-1, 1, (2,)), [0.5, -0.5], ("agent", "action"))
    array([ 0.5, -0.5], dtype=float32)
    """
    try:
        if isinstance(space, gym.spaces.Tuple):
            action: Any = tuple(to_action(s, v, key) for s, v in zip(space, value, strict=True))
        elif isinstance(space, gym.spaces.Dict):
            action = {name: to_action(s, value[name], key) for name, s in space.items()}
        elif isinstance(space, gym.spaces.Discrete):
            action = value if isinstance(value, int) and not isinstance(value, bool) else None
        elif isinstance(space, gym.spaces.Box | gym.spaces.MultiDiscrete | gym.spaces.MultiBinary):
            action = np.asarray(value, dtype=space.dtype)
        else:
            action = value
    except (TypeError, ValueError, KeyError):
        action = None
    if action is None or not space.contains(action):
        message = f"{value_label(value)} is not an action of {space_label(space)}"
        raise AgentError(message, key=key)
    return action
