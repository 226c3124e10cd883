"""The spaces a Stable-Baselines3 model was trained on, as its ``data`` says them readably.

``model.save`` stores each space as a pickle (``:serialized:``) and, beside it, the space's
attributes that JSON can hold, the others as text: a Box's ``_shape`` and ``dtype``, its
``low`` and ``high`` as numpy prints them; a Discrete's ``n`` and ``start``; a Dict's spaces
as their repr. Those are read here, never the pickle, so a model's spaces are checked
against an environment's without loading it. What the text does not say for sure (bounds
numpy summarised with ``...``, a Dict whose repr differs) is left to the check made once
the model is loaded.

Also here: the space SB3 trains on for an environment's observations (images channel-first),
which both checks compare with.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

import gymnasium as gym
import numpy as np

from gymrun.components.spaces import space_label

# ":type:" as SB3 writes it: str(type(space))
_TYPE = re.compile(r"<class '((?:gymnasium|gym)\.spaces\.[\w.]+)'>")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d{1,4})?|[-+]?(?:inf|nan)")
MAX_DIMENSIONS = 32  # numpy's own limit is 64


@dataclass(frozen=True)
class Bound:
    """One number as numpy printed it, and how far off the value printed may be."""

    value: float
    slack: float


@dataclass(frozen=True)
class StoredSpace:
    """A space as a model's ``data`` says it: its class, and its attributes as far as they
    are readable (None where not)."""

    kind: str  # the class name: Box, Discrete, Dict, ...
    fields: dict[str, Any]

    @property
    def label(self) -> str:
        """The space as a message names it: as `space_label` names the space itself, when
        its attributes say it all."""
        space = self.rebuilt()
        if space is not None:
            return space_label(space)
        shape, dtype = _shape(self.fields.get("_shape")), _dtype(self.fields.get("dtype"))
        spaces = self.fields.get("spaces")
        if self.kind in ("Dict", "Tuple") and isinstance(spaces, str) and len(spaces) < 120:
            return f"{self.kind}({spaces[1:-1]})"
        if shape is not None and dtype is not None:
            return f"{self.kind}(shape={shape}, dtype={dtype})"
        return self.kind

    def rebuilt(self) -> gym.Space[Any] | None:
        """The space itself, when the readable attributes say all of it."""
        try:
            return _rebuilt(self.kind, self.fields)
        except Exception:  # attributes no space has (gymnasium asserts, numpy overflows)
            return None

    def matches(self, space: gym.Space[Any]) -> bool | None:
        """Whether this is `space`, as gymnasium compares spaces: True or False when the
        readable attributes tell, None when they do not."""
        if type(space).__module__.split(".")[0] != "gymnasium":
            return None
        if type(space).__name__ != self.kind:
            return False
        if isinstance(space, gym.spaces.Box):
            return self._box_matches(space)
        if isinstance(space, gym.spaces.Discrete | gym.spaces.MultiDiscrete):
            return self._integers_match(space)
        if isinstance(space, gym.spaces.MultiBinary):
            n = _integers(self.fields.get("n"))
            return None if n is None else bool(np.array_equal(n, np.asarray(space.n)))
        if isinstance(space, gym.spaces.Dict | gym.spaces.Tuple):
            spaces = self.fields.get("spaces")
            if not isinstance(spaces, str):
                return None
            if isinstance(space, gym.spaces.Dict) and any(
                f"{key!r}: " not in spaces for key in space.spaces
            ):
                return False  # a key the model was not trained with
            return True if spaces == str(space.spaces) else None
        return None

    def _box_matches(self, space: gym.spaces.Box) -> bool | None:
        shape, dtype = _shape(self.fields.get("_shape")), _dtype(self.fields.get("dtype"))
        if shape is not None and shape != space.shape:
            return False
        if dtype is not None and dtype != space.dtype:
            return False
        told = [shape is not None, dtype is not None]
        for name, values in (("low", space.low), ("high", space.high)):
            bounds = _bounds(self.fields.get(name))
            if bounds is None or len(bounds) != values.size:
                told.append(False)
            elif not all(_near(b, float(v)) for b, v in zip(bounds, values.flat, strict=True)):
                return False
        return True if all(told) else None

    def _integers_match(self, space: gym.spaces.Discrete | gym.spaces.MultiDiscrete) -> bool | None:
        dtype = _dtype(self.fields.get("dtype"))
        if dtype is not None and dtype != space.dtype:
            return False
        told = dtype is not None
        pairs: list[tuple[str, Any]]
        if isinstance(space, gym.spaces.Discrete):
            pairs = [("n", space.n), ("start", space.start)]
        else:
            shape = _shape(self.fields.get("_shape"))
            if shape is not None and shape != space.shape:
                return False
            pairs = [("nvec", space.nvec), ("start", space.start)]
        for name, value in pairs:
            stored = _integers(self.fields.get(name))
            if stored is None:
                told = False
            elif not np.array_equal(stored, np.asarray(value)):
                return False
        return True if told else None


def stored_space(entry: Any) -> StoredSpace | None:
    """The space a ``data`` entry (``observation_space``, ``action_space``) stores, when it
    is one of gymnasium's, read from its readable attributes; None otherwise.

    >>> entry = {":type:": "<class 'gymnasium.spaces.discrete.Discrete'>", ":serialized:": "…",
    ...          "dtype": "int64", "n": "3", "start": "0", "_shape": []}
    >>> stored = stored_space(entry)
    >>> stored.label, stored.matches(gym.spaces.Discrete(3)), stored.matches(gym.spaces.Discrete(2))
    ('Discrete(3)', True, False)
    """
    if not isinstance(entry, dict):
        return None
    match = _TYPE.fullmatch(str(entry.get(":type:", "")))
    if match is None:
        return None
    fields = {key: value for key, value in entry.items() if not key.startswith(":")}
    return StoredSpace(match.group(1).rsplit(".", 1)[-1], fields)


def sb3_view(space: gym.Space[Any]) -> gym.Space[Any] | None:
    """The space SB3 trains on for observations `space`, when it is another: channel-last
    images made channel-first (as ``VecTransposeImage`` makes them), alone or in a Dict;
    None when SB3 takes `space` as it is.

    >>> sb3_view(gym.spaces.Box(0, 255, (84, 84, 3), np.uint8))
    Box(0, 255, (3, 84, 84), uint8)
    >>> sb3_view(gym.spaces.Box(0, 255, (3, 84, 84), np.uint8)) is None
    True
    """
    if isinstance(space, gym.spaces.Dict):
        if not any(_is_image(part) for part in space.spaces.values()):
            return None
        return gym.spaces.Dict(
            {
                key: _channels_first(part)
                if _is_image(part) and not _is_channels_first(part)
                else part
                for key, part in space.spaces.items()
            }
        )
    if _is_image(space) and not _is_channels_first(space):
        return _channels_first(space)
    return None


def stacked_space(space: gym.Space[Any], frames: int) -> gym.Space[Any] | None:
    """The observations SB3's ``VecFrameStack`` makes of `space` with `frames` frames: a
    Box repeated on its last axis (an image's first, when its channels come first), a
    Dict key by key; None for other spaces, which it does not stack.

    >>> stacked_space(gym.spaces.Box(-1, 1, (4,)), 3)
    Box(-1.0, 1.0, (12,), float32)
    >>> stacked_space(gym.spaces.Box(0, 255, (1, 84, 84), np.uint8), 4).shape
    (4, 84, 84)
    """
    if isinstance(space, gym.spaces.Dict):
        parts = {key: stacked_space(part, frames) for key, part in space.spaces.items()}
        stacked = {key: part for key, part in parts.items() if part is not None}
        return gym.spaces.Dict(stacked) if len(stacked) == len(parts) else None
    if not isinstance(space, gym.spaces.Box):
        return None
    axis = 0 if _is_image(space) and _is_channels_first(space) else -1
    low = np.repeat(space.low, frames, axis=axis)
    high = np.repeat(space.high, frames, axis=axis)
    return gym.spaces.Box(low=low, high=high, dtype=space.dtype)


def fits(trained: gym.Space[Any], space: gym.Space[Any]) -> bool:
    """Whether a model trained on observations `trained` takes observations of `space`: the
    same space, or channel-last images, which SB3 trains on channel-first and transposes as
    it predicts."""
    view = sb3_view(space)
    return bool(trained == space or (view is not None and trained == view))


def stored_fits(trained: StoredSpace, space: gym.Space[Any]) -> bool | None:
    """`fits` for a space as a model's ``data`` says it: None when that does not tell."""
    view = sb3_view(space)
    found = [trained.matches(space), *([] if view is None else [trained.matches(view)])]
    if True in found:
        return True
    return False if all(result is False for result in found) else None


def side_by_side(trained: gym.Space[Any] | StoredSpace, space: gym.Space[Any], what: str) -> str:
    """A model's space and the environment's, as a message that they differ shows them: a Box
    as its shape and dtype, its bounds (briefly) only when they are what differs.

    >>> side_by_side(gym.spaces.Box(-1, 1, (4,)), gym.spaces.Box(-1, 1, (6,)), "observations")
    "observations Box (4,) float32, but the environment's are Box (6,) float32"
    >>> low = np.array([-4.8, -np.inf, -0.42, -np.inf], np.float32)
    >>> text = side_by_side(gym.spaces.Box(low, -low), gym.spaces.Box(-1, 1, (4,)), "actions")
    >>> for part in text.split(", but "):
    ...     print(part)
    actions Box (4,) float32 in [-4.8, -inf, -0.42, -inf]..[4.8, inf, 0.42, inf]
    the environment's are Box (4,) float32 in -1..1
    """
    if isinstance(trained, StoredSpace):
        trained = trained.rebuilt() or trained
    bounds = (
        isinstance(trained, gym.spaces.Box)
        and isinstance(space, gym.spaces.Box)
        and (trained.shape, trained.dtype) == (space.shape, space.dtype)
    )
    return f"{what} {_brief(trained, bounds)}, but the environment's are {_brief(space, bounds)}"


def _brief(space: gym.Space[Any] | StoredSpace, bounds: bool) -> str:
    if isinstance(space, StoredSpace):
        return space.label
    if not isinstance(space, gym.spaces.Box):
        return space_label(space)
    text = f"Box {space.shape} {space.dtype}"
    return f"{text} in {_bound(space.low)}..{_bound(space.high)}" if bounds else text


def _bound(values: np.ndarray) -> str:
    """A Box's bound on one line: one number when every value has it."""
    flat = values.ravel()
    if flat.size and bool(np.all(flat == flat[0])):
        return f"{flat[0].item():.4g}"
    shown = [*flat[:2], None, *flat[-2:]] if flat.size > 6 else list(flat)
    return f"[{', '.join('...' if v is None else f'{v.item():.4g}' for v in shown)}]"


def _is_image(space: gym.Space[Any]) -> TypeGuard[gym.spaces.Box]:
    """SB3's ``is_image_space``: a uint8 Box of three dimensions, from 0 to 255."""
    return (
        isinstance(space, gym.spaces.Box)
        and len(space.shape) == 3
        and space.dtype == np.uint8
        and bool(np.all(space.low == 0))
        and bool(np.all(space.high == 255))
    )


def _is_channels_first(space: gym.spaces.Box) -> bool:
    """SB3's rule: the channels are the smallest dimension."""
    return bool(np.argmin(space.shape) == 0)


def _channels_first(space: gym.spaces.Box) -> gym.spaces.Box:
    height, width, channels = space.shape
    return gym.spaces.Box(0, 255, (channels, height, width), dtype=space.dtype)


def _rebuilt(kind: str, fields: dict[str, Any]) -> gym.Space[Any] | None:
    dtype = _dtype(fields.get("dtype"))
    if kind == "Box":
        shape = _shape(fields.get("_shape"))
        low, high = _bounds(fields.get("low")), _bounds(fields.get("high"))
        if shape is None or dtype is None or low is None or high is None:
            return None
        size = math.prod(shape)
        if len(low) != size or len(high) != size:
            return None
        lows = np.array([b.value for b in low], dtype).reshape(shape)
        highs = np.array([b.value for b in high], dtype).reshape(shape)
        return gym.spaces.Box(lows, highs, shape, dtype)
    if kind == "Discrete":
        n, start = _integers(fields.get("n")), _integers(fields.get("start"))
        if n is None or start is None or n.ndim or start.ndim or dtype is None:
            return None
        return gym.spaces.Discrete(int(n), start=int(start), dtype=dtype)
    if kind == "MultiDiscrete":
        nvec, start = _integers(fields.get("nvec")), _integers(fields.get("start"))
        if nvec is None or start is None or dtype is None:
            return None
        return gym.spaces.MultiDiscrete(nvec, dtype=dtype, start=start)
    if kind == "MultiBinary":
        n = _integers(fields.get("n"))
        return None if n is None else gym.spaces.MultiBinary(n.tolist())
    return None


def _shape(value: Any) -> tuple[int, ...] | None:
    if not isinstance(value, list) or len(value) > MAX_DIMENSIONS:
        return None
    if not all(isinstance(size, int) and not isinstance(size, bool) for size in value):
        return None
    return tuple(value) if all(size >= 0 for size in value) else None


def _dtype(value: Any) -> np.dtype[Any] | None:
    if not isinstance(value, str) or not re.fullmatch(r"[a-z]+[0-9]*", value):
        return None
    try:
        return np.dtype(value)
    except TypeError:
        return None


def _bounds(value: Any) -> list[Bound] | None:
    """The numbers of an array as numpy prints it (``[-4.8 -inf 0.41887903]``), each with
    the slack its printed digits leave; None when they are not all there (summarised with
    ``...``) or not numbers."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = repr(value)
    if not isinstance(value, str) or "..." in value:
        return None
    tokens = value.replace("[", " ").replace("]", " ").split()
    if not tokens or not all(_NUMBER.fullmatch(token) for token in tokens):
        return None
    return [Bound(float(token), _slack(token)) for token in tokens]


def _slack(token: str) -> float:
    """Half a unit of `token`'s last printed digit: how far off the value it stands for may
    be, whatever precision numpy printed with (``4.8`` may be 4.75 printed to 1 decimal)."""
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    if mantissa.lstrip("+-") in ("inf", "nan"):
        return 0.0
    try:
        return 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    except OverflowError:
        return math.inf


def _near(bound: Bound, value: float) -> bool:
    """Whether `value` may be what `bound` printed (as gymnasium compares bounds, with
    ``np.isclose``'s tolerance on top)."""
    if math.isnan(bound.value) or math.isnan(value):
        return math.isnan(bound.value) == math.isnan(value)
    if math.isinf(bound.value) or math.isinf(value):
        return bound.value == value
    return abs(bound.value - value) <= bound.slack + 1e-8 + 1e-5 * abs(value)


def _integers(value: Any) -> np.ndarray | None:
    """Integers as SB3 stores them: a number, or numpy's text of one or of an array."""
    if isinstance(value, int) and not isinstance(value, bool):
        return np.asarray(value)
    if not isinstance(value, str) or "..." in value:
        return None
    text = value.strip()
    tokens = text.replace("[", " ").replace("]", " ").split()
    if not tokens or not all(re.fullmatch(r"[-+]?\d{1,18}", token) for token in tokens):
        return None
    numbers = np.array([int(token) for token in tokens], np.int64)
    if not text.startswith("["):
        return np.asarray(numbers[0]) if len(numbers) == 1 else None
    if text.startswith("[["):
        return None  # an array of two or more dimensions: its shape is not read here
    return numbers
