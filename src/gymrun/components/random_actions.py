"""Random actions of any Gymnasium space, drawn in blocks and seeded per episode.

``action_space.sample()`` costs microseconds per call; a block of a thousand draws costs
about the same as one call. Each episode's actions depend on its seed alone, so episodes
repeat one by one, in any split across processes.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np

from gymrun.components.seeding import reseed, splitmix64

# Block sizes within an episode: start small (CartPole episodes of a random agent last about
# 20 steps), double for long episodes.
BLOCK_START = 32
BLOCK_MAX = 2048
BATCH_DRAW = 65536  # actions drawn at once for vector runs (several steps of small batches)
BLOCK_BYTES = 1 << 20  # a block of large actions (images) stays under this
SMALL_BLOCK = 64  # Discrete draws up to this many are looked up by byte, not made by numpy
_NONE: Iterator[Any] = iter(())  # no batch drawn yet (an exhausted iterator stays so)


class ActionDraws:
    """Random actions of `space`: `sample()` one at a time, `sample_batch()` for `num_envs`
    sub-environments at once; `reset(seed)` starts the stream that belongs to `seed`.

    Discrete actions come from one PCG64 stream that `reset` jumps to the window of 2**64
    draws belonging to the seed (a jump costs about a microsecond); Box, MultiDiscrete and
    MultiBinary actions from a generator reseeded the same way, in numpy blocks; Tuple and
    Dict actions from one such stream per part. Other spaces fall back to ``space.sample()``.

    >>> draws = ActionDraws(gym.spaces.Discrete(2))
    >>> draws.reset(0)
    >>> [int(draws.sample()) for _ in range(6)]
    [1, 0, 0, 1, 1, 1]
    >>> box = ActionDraws(gym.spaces.Box(-1.0, 1.0, (3,)), num_envs=4)
    >>> box.reset(0)
    >>> box.sample_batch().shape, bool(np.all(np.abs(box.sample()) <= 1))
    ((4, 3), True)
    """

    def __init__(self, space: gym.Space[Any], num_envs: int = 1) -> None:
        self.num_envs = num_envs
        self._source = _stream(space, num_envs)
        self.reset(0)

    def reset(self, seed: int) -> None:
        # once per episode: it costs about as much as the episode's draws
        self._source.reset(seed)
        # drawn now rather than at the first action: raising StopIteration there would
        # cost as much as the draw
        self._block: Iterator[Any] = self._source.block(BLOCK_START)
        self._block_size = 2 * BLOCK_START
        self._batches: Iterator[Any] = _NONE

    def sample(self, observation: Any = None) -> Any:
        """The next action; the observation is ignored (it is there so that this can serve
        as an agent's ``act``)."""
        try:
            return next(self._block)
        except StopIteration:
            self._block = self._source.block(self._next_size())
            return next(self._block)

    def _next_size(self) -> int:
        size = self._block_size
        self._block_size = min(2 * size, BLOCK_MAX)
        return size

    def sample_batch(self, observations: Any = None) -> Any:
        """The next action of each of the `num_envs` sub-environments, as a batch."""
        try:
            return next(self._batches)
        except StopIteration:
            self._batches = self._source.batches(self.num_envs)
            return next(self._batches)


class _Stream:
    """Where the draws of one space come from."""

    def reset(self, seed: int) -> None:
        raise NotImplementedError

    def block(self, count: int) -> Iterator[Any]:
        """The next `count` actions, one at a time."""
        raise NotImplementedError

    def batches(self, num_envs: int) -> Iterator[Any]:
        """The next steps' batches of `num_envs` actions, as many as one draw makes."""
        raise NotImplementedError


class _DiscreteStream(_Stream):
    def __init__(self, space: gym.spaces.Discrete) -> None:
        self._bits = np.random.PCG64(0)
        self._position = 0  # draws taken from the stream so far
        self._n, self._start = int(space.n), int(space.start)
        power_of_two = self._n & (self._n - 1) == 0
        self._byte_mask = np.uint8(self._n - 1) if power_of_two and self._n <= 256 else None
        if self._byte_mask is not None:
            self._action_of_byte = _by_byte(self._start, int(self._byte_mask)).__getitem__

    def reset(self, seed: int) -> None:
        target = (seed % 2**64) << 64
        self._bits.advance((target - self._position) % 2**128)
        self._position = target

    def draw(self, count: int) -> np.ndarray:
        # Raw draws, far cheaper than integers(): for n a power of two up to 256, the low
        # bits of single bytes are exactly uniform; otherwise 64-bit remainders, biased by
        # less than n / 2**64.
        if self._byte_mask is not None:
            words = -(-count // 8)
            self._position += words
            raw = self._bits.random_raw(words).view(np.uint8)[:count]
            draws = (raw & self._byte_mask).astype(np.int64)
        else:
            self._position += count
            draws = (self._bits.random_raw(count) % self._n).view(np.int64)
        return draws + self._start if self._start else draws

    def block(self, count: int) -> Iterator[Any]:
        # numpy integers, as Discrete.sample() gives: Discrete.contains checks a Python int
        # against the limits of the space's dtype first, which costs more than the step
        if self._byte_mask is None or count > SMALL_BLOCK:
            return iter(self.draw(count))
        # An episode's first draws are small: the same bytes, each action looked up by its
        # byte, cost a third of numpy's calls for so few.
        words = -(-count // 8)
        self._position += words
        return map(self._action_of_byte, self._bits.random_raw(words).tobytes()[:count])

    def batches(self, num_envs: int) -> Iterator[Any]:
        steps = max(1, BATCH_DRAW // num_envs)
        return iter(self.draw(steps * num_envs).reshape(steps, num_envs))


class _ArrayStream(_Stream):
    """Box, MultiDiscrete and MultiBinary: numpy draws of whole blocks at once."""

    def __init__(self, space: gym.Space[Any]) -> None:
        self.space = space
        self._generator = np.random.Generator(np.random.PCG64(0))
        self._shape = tuple(space.shape or ())
        itemsize = max(1, int(np.prod(self._shape, dtype=np.int64))) * 8
        self._max_block = max(1, BLOCK_BYTES // itemsize)

    def reset(self, seed: int) -> None:
        reseed(self._generator, seed)

    def draw(self, count: int) -> np.ndarray:
        """`count` samples, stacked along a new first axis."""
        generator, space = self._generator, self.space
        shape = (count, *self._shape)
        if isinstance(space, gym.spaces.MultiDiscrete):
            return (generator.random(shape) * space.nvec).astype(space.dtype) + space.start
        if isinstance(space, gym.spaces.MultiBinary):
            bits: np.ndarray = generator.integers(0, 2, shape, dtype=space.dtype)
            return bits
        assert isinstance(space, gym.spaces.Box)
        samples: np.ndarray = _box_samples(generator, space, shape)
        return samples

    def block(self, count: int) -> Iterator[Any]:
        return iter(self.draw(min(count, self._max_block)))

    def batches(self, num_envs: int) -> Iterator[Any]:
        steps = max(1, min(BATCH_DRAW // num_envs, self._max_block // num_envs))
        flat = self.draw(steps * num_envs)
        return iter(flat.reshape(steps, num_envs, *self._shape))


def _box_samples(generator: np.random.Generator, space: gym.spaces.Box, shape: Any) -> Any:
    """What ``Box.sample()`` draws, `shape[0]` times: uniform on bounded coordinates, shifted
    exponential on half-bounded ones, normal on unbounded ones; integers floored."""
    integer = space.dtype.kind in "iub"
    high = space.high.astype(np.int64) + 1 if integer else space.high
    below, above = space.bounded_below, space.bounded_above
    if below.all() and above.all():
        sample = generator.uniform(space.low, high, shape)
    else:
        sample = np.empty(shape)
        count = shape[0]
        bounded, unbounded = below & above, ~below & ~above
        low_only, high_only = below & ~above, ~below & above
        sample[:, bounded] = generator.uniform(
            space.low[bounded], high[bounded], (count, int(bounded.sum()))
        )
        sample[:, unbounded] = generator.normal(size=(count, int(unbounded.sum())))
        sample[:, low_only] = space.low[low_only] + generator.exponential(
            size=(count, int(low_only.sum()))
        )
        sample[:, high_only] = high[high_only] - generator.exponential(
            size=(count, int(high_only.sum()))
        )
    if integer:
        info = np.iinfo(space.dtype)  # type: ignore[type-var]  # an integer dtype
        margin = 2 if space.dtype == np.int64 else 0  # float64 misses the int64 limits
        sample = np.floor(sample).clip(info.min + margin, info.max - margin)
        return sample.astype(space.dtype).clip(space.low, space.high)
    return sample.astype(space.dtype)


class _CompositeStream(_Stream):
    """Tuple and Dict: one stream per part, each seeded from the episode seed and its part."""

    def __init__(self, space: gym.spaces.Tuple | gym.spaces.Dict, num_envs: int) -> None:  # type: ignore[type-arg]
        self.keys = list(space.spaces) if isinstance(space, gym.spaces.Dict) else None
        parts = space.spaces.values() if isinstance(space, gym.spaces.Dict) else space.spaces
        self.parts = [_stream(part, num_envs) for part in parts]

    def reset(self, seed: int) -> None:
        for number, part in enumerate(self.parts):
            part.reset(splitmix64(seed, number))

    def _join(self, parts: list[Iterator[Any]]) -> Iterator[Any]:
        # every part's stream is endless or the same length: zip stops at the block's end
        if self.keys is None:
            return zip(*parts, strict=False)
        return (dict(zip(self.keys, v, strict=True)) for v in zip(*parts, strict=False))

    def block(self, count: int) -> Iterator[Any]:
        return self._join([part.block(count) for part in self.parts])

    def batches(self, num_envs: int) -> Iterator[Any]:
        # Parts may draw different numbers of steps at once; one step per round keeps them
        # in step with each other.
        return self._join([_one_step(part, num_envs) for part in self.parts])


def _one_step(stream: _Stream, num_envs: int) -> Iterator[Any]:
    while True:
        yield from stream.batches(num_envs)


class _SampledStream(_Stream):
    """Any other space (Text, Graph, Sequence, ...): its own ``sample()``, seeded."""

    def __init__(self, space: gym.Space[Any], num_envs: int) -> None:
        # Private copies, so seeding them cannot disturb the env's or a wrapper's sampling.
        self.space = copy.deepcopy(space)
        self.batch_space = gym.vector.utils.batch_space(self.space, num_envs)

    def reset(self, seed: int) -> None:
        self.space.seed(seed)
        self.batch_space.seed(seed)

    def block(self, count: int) -> Iterator[Any]:
        return (self.space.sample() for _ in range(count))

    def batches(self, num_envs: int) -> Iterator[Any]:
        return iter((self.batch_space.sample(),))


def _stream(space: gym.Space[Any], num_envs: int) -> _Stream:
    if isinstance(space, gym.spaces.Discrete):
        return _DiscreteStream(space)
    if isinstance(space, gym.spaces.Box | gym.spaces.MultiDiscrete | gym.spaces.MultiBinary):
        return _ArrayStream(space)
    if isinstance(space, gym.spaces.Tuple | gym.spaces.Dict):
        return _CompositeStream(space, num_envs)
    return _SampledStream(space, num_envs)


@functools.cache
def _by_byte(start: int, mask: int) -> list[np.int64]:
    """The action each byte stands for (made once per space, not per agent: a sweep makes
    an agent for each of its runs)."""
    return [np.int64(start + (byte & mask)) for byte in range(256)]
