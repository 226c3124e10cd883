"""Episodes as the lines of ``episodes.jsonl``: one JSON object per episode, exactly as
`EpisodeResult.to_json` and ``json.dumps`` write it, made from columns in bulk.

A vector run finishes hundreds of thousands of episodes a second; formatting each in Python
would cost more than running it. Lines are built as rows of a byte matrix instead: a row of
constant text with a NUL-padded gap for each field, the numbers written into the gaps digit
by digit with numpy, the padding squeezed out at the end (by ``bytes.replace``, a memchr
loop, cheaper than a numpy mask; the less padding, the cheaper, so a column that never
varies in a batch gets none). Rewards that are not whole numbers (or are not finite) are
formatted by Python, one by one, and so are the values of a metric that are not booleans
(a metric's values come after the episode's own fields, each under its name; an optional
one an episode has no value of is left out of its line, its key and all).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from typing import BinaryIO

import numpy as np

from gymrun.core.episodes import EpisodeBatch, EpisodeResult, MetricColumn

ROWS = 32768  # lines built at once: a byte matrix of a few MB, reused
_WHOLE = 1e15  # below this a whole-number float prints as its digits and ".0"


def episode_line(episode: EpisodeResult) -> str:
    """One episode's line: ``json.dumps(episode.to_json())``, three times faster.

    >>> import json
    >>> episode = EpisodeResult(3, 7, 22.0, 22, True, False, None, 0.1)
    >>> episode_line(episode) == json.dumps(episode.to_json()) + "\\n"
    True
    """
    index, seed, reward, steps, terminated, truncated, reached, _, shaped, metrics = episode
    shaped_text = "" if shaped is None else f'"shaped_reward": {_reward_json(shaped)}, '
    metrics_text = "".join(
        f", {json.dumps(name)}: {_metric_json(value)}" for name, value in metrics.items()
    )
    return (
        f'{{"episode": {index}, "seed": {"null" if seed is None else seed}, '
        f'"reward": {_reward_json(reward)}, {shaped_text}"steps": {steps}, '
        f'"terminated": {_JSON[terminated]}, "truncated": {_JSON[truncated]}, '
        f'"reached": {_JSON[reached]}{metrics_text}}}\n'
    )


_JSON = {True: "true", False: "false", None: "null"}


def _metric_json(value: bool | float | None) -> str:
    if value is None or isinstance(value, bool):
        return _JSON[value]
    return repr(float(value))


def write_episode_lines(file: BinaryIO, episodes: Sequence[EpisodeResult]) -> None:
    """Write the lines of consecutive `episodes` to binary `file`, a part at a time."""
    if not isinstance(episodes, EpisodeBatch):
        file.write("".join(map(episode_line, episodes)).encode())
        return
    for start in range(0, len(episodes), ROWS):
        file.write(_matrix_lines(episodes.slice(start, start + ROWS)))


def episode_lines(episodes: Sequence[EpisodeResult]) -> bytes:
    """The lines of consecutive `episodes`, as UTF-8 bytes.

    >>> batch = EpisodeBatch.of([EpisodeResult(0, None, 9.0, 9, True, False, None, 0.0),
    ...                          EpisodeResult(1, None, 0.5, 1, False, True, None, 0.0)], None)
    >>> print(episode_lines(batch).decode(), end="")  # doctest: +NORMALIZE_WHITESPACE
    {"episode": 0, "seed": null, "reward": 9.0, "steps": 9, "terminated": true,
     "truncated": false, "reached": null}
    {"episode": 1, "seed": null, "reward": 0.5, "steps": 1, "terminated": false,
     "truncated": true, "reached": null}
    """
    file = io.BytesIO()
    write_episode_lines(file, episodes)
    return file.getvalue()


def _matrix_lines(batch: EpisodeBatch) -> bytes:
    """The lines of `batch` as bytes: rows of one byte matrix, the padding taken out."""
    count = len(batch)
    rewards = {"reward": batch.reward}
    if batch.shaped_reward is not None:  # only a run whose config has wrappers has them
        rewards["shaped_reward"] = batch.shaped_reward
    reward_texts = {name: _reward_texts(values) for name, values in rewards.items()}
    metric_texts = {name: _metric_texts(column) for name, column in batch.metrics.items()}
    fields: list[tuple[str, int]] = [
        ("episode", _width(batch.episode)),
        ("seed", 4 if batch.seed is None else max(4, _width(batch.seed))),
        *((name, width) for name, (_, width) in reward_texts.items()),
        ("steps", _width(batch.steps)),
        ("terminated", _boolean_width(batch.terminated)),
        ("truncated", _boolean_width(batch.truncated)),
        ("reached", 5 if batch.reached is None else _boolean_width(batch.reached)),
        *((name, text.shape[1]) for name, text in metric_texts.items()),
    ]
    columns: dict[str, slice] = {}  # the columns of each field
    keys: dict[str, int] = {}  # where each field's ", " and key begin
    template = bytearray(b"{")
    for number, (name, width) in enumerate(fields):
        keys[name] = len(template)
        template += f"{', ' if number else ''}{json.dumps(name)}: ".encode()
        columns[name] = slice(len(template), len(template) + width)
        template += b"\0" * width
    template += b"}\n"
    matrix = np.empty((count, len(template)), dtype=np.uint8)
    matrix[:] = np.frombuffer(bytes(template), dtype=np.uint8)
    _digits(batch.episode, matrix[:, columns["episode"]])
    if batch.seed is None:
        matrix[:, columns["seed"]] = _text(b"null", 4)
    else:
        _digits(batch.seed, matrix[:, columns["seed"]])
    for name, (text, _) in reward_texts.items():
        if text is None:
            _whole_numbers(rewards[name], matrix[:, columns[name]])
        else:
            matrix[:, columns[name]] = text
    _digits(batch.steps, matrix[:, columns["steps"]])
    _booleans(batch.terminated, matrix[:, columns["terminated"]])
    _booleans(batch.truncated, matrix[:, columns["truncated"]])
    if batch.reached is None:
        matrix[:, columns["reached"]] = _text(b"null", 5)
    else:
        _booleans(batch.reached, matrix[:, columns["reached"]])
    for name, text in metric_texts.items():
        matrix[:, columns[name]] = text
        column = batch.metrics[name]
        if column.optional:  # an episode without a value has no such key
            matrix[np.isnan(column.values), keys[name] : columns[name].stop] = 0
    return matrix.tobytes().replace(b"\0", b"")


def _width(values: np.ndarray) -> int:
    """Digits of the largest of non-negative `values`."""
    return len(str(int(values.max()))) if len(values) else 1


def _digits(values: np.ndarray, out: np.ndarray) -> None:
    """Non-negative integers `values` in decimal, right-aligned in `out` (NUL-padded)."""
    width = out.shape[1]
    rest = values.astype(np.int64)
    out[:] = 0
    for position in range(width - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        column = out[:, position]
        np.add(digit, 48, out=column, casting="unsafe")
        if position < width - 1:
            column[(rest == 0) & (digit == 0)] = 0  # a leading zero: none


def _whole_numbers(values: np.ndarray, out: np.ndarray) -> None:
    """Whole-number floats as ``json.dumps`` writes them: ``-12.0`` (when some is negative,
    the sign or NUL padding, which goes; then the digits)."""
    signed = _signed(values)
    _digits(np.abs(values), out[:, int(signed) : -2])
    out[:, -2:] = np.frombuffer(b".0", dtype=np.uint8)
    if signed:
        out[:, 0] = np.where(values < 0, ord("-"), 0)


def _signed(values: np.ndarray) -> bool:
    # a column for the sign only when some value needs it: less padding to squeeze out
    return bool(len(values)) and bool(values.min() < 0)


def _reward_texts(rewards: np.ndarray) -> tuple[np.ndarray | None, int]:
    """``(None, width)`` when every reward is a whole number written by `_whole_numbers`;
    else each reward's text, formatted by Python, as a NUL-padded byte matrix."""
    whole = np.isfinite(rewards) & (np.abs(rewards) < _WHOLE) & (rewards == np.round(rewards))
    whole &= ~((rewards == 0) & np.signbit(rewards))  # -0.0 prints as such
    if whole.all():
        largest = float(np.abs(rewards).max()) if len(rewards) else 0.0
        return None, _signed(rewards) + len(str(int(largest))) + 2  # sign, digits, ".0"
    texts = [_reward_json(r) for r in rewards.tolist()]
    width = max(map(len, texts))
    padded = np.array([t.encode() for t in texts], dtype=f"S{width}")
    return padded.view(np.uint8).reshape(len(texts), width), width


def _metric_texts(column: MetricColumn) -> np.ndarray:
    """Each episode's value of a metric as a NUL-padded byte matrix: ``true``, ``false``,
    a number, or ``null`` for none."""
    values = column.values
    if column.boolean:
        codes = np.where(np.isnan(values), 2, values).astype(np.uint8)
        return _METRIC_BOOLEANS[codes]
    texts = [repr(v) if v == v else "null" for v in values.tolist()]  # v != v: NaN
    width = max(map(len, texts), default=4)
    padded = np.array([t.encode() for t in texts], dtype=f"S{width}")
    return padded.view(np.uint8).reshape(len(texts), width)


_METRIC_BOOLEANS = np.frombuffer(b"false" + b"true\0" + b"null\0", dtype=np.uint8).reshape(3, 5)


def _reward_json(reward: float) -> str:
    # NaN and infinities are not JSON: they are written as "nan", "inf", "-inf"
    return repr(reward) if math.isfinite(reward) else f'"{reward}"'


_BOOLEANS = np.frombuffer(b"false" + b"true\0", dtype=np.uint8).reshape(2, 5)


def _boolean_width(values: np.ndarray) -> int:
    # 4 when every value is true: no padding to squeeze out of a column that never varies
    return 4 if values.all() else 5


def _booleans(values: np.ndarray, out: np.ndarray) -> None:
    # a row of the table per value: several times faster than np.where's broadcast
    np.take(_BOOLEANS[:, : out.shape[1]], values.view(np.uint8), axis=0, out=out, mode="clip")


def _text(word: bytes, width: int) -> np.ndarray:
    return np.frombuffer(word.ljust(width, b"\0"), dtype=np.uint8)
