"""JSON that stays JSON: NaN and infinities, which JSON has no words for, as strings."""

from __future__ import annotations

import json
import math
from typing import Any


def dumps(data: Any, *, indent: int | None = None) -> str:
    """``json.dumps`` of `data`, with every non-finite float written as ``"nan"``, ``"inf"``
    or ``"-inf"`` (as episode rewards are), so that any JSON parser reads it.

    >>> dumps({"boundary": float("nan"), "rewards": [1.5, float("-inf")]})
    '{"boundary": "nan", "rewards": [1.5, "-inf"]}'
    """
    return json.dumps(_finite(data), indent=indent, allow_nan=False)


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        return data if math.isfinite(data) else str(data)
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(value) for value in data]
    return data
