"""Seeds: each episode's, derived from the run seed, and cheap reproducible randomness.

Gymnasium and numpy build a generator through a `SeedSequence`, which costs several
microseconds; reseeding for every episode of a 20-step CartPole episode would be a visible
share of the run. These give the same reproducibility for a fraction of that.
"""

from __future__ import annotations

import numpy as np

_MASK64 = (1 << 64) - 1


class EpisodeSeeds:
    """The (environment, agent) seeds of each episode, derived from the run seed alone.

    Each episode's seeds depend only on the run seed and its index, so a run of 10 episodes
    repeats the first 10 of a run of 20, and episodes can be split across processes. They
    come from `numpy.random.SeedSequence` in blocks, which costs next to nothing per episode.

    >>> seeds = EpisodeSeeds(42)
    >>> seeds[0] == EpisodeSeeds(42)[0], seeds[0] != seeds[1], seeds[300] == EpisodeSeeds(42)[300]
    (True, True, True)
    """

    BLOCK = 256

    def __init__(self, run_seed: int) -> None:
        self.run_seed = run_seed
        self._block = -1
        self._words: list[int] = []

    def __getitem__(self, index: int) -> tuple[int, int]:
        block, offset = divmod(index, self.BLOCK)
        if block != self._block:
            sequence = np.random.SeedSequence(self.run_seed, spawn_key=(block,))
            self._words = sequence.generate_state(2 * self.BLOCK).tolist()
            self._block = block
        return self._words[2 * offset], self._words[2 * offset + 1]

    def environment_seeds(self, first: int, count: int) -> np.ndarray:
        """The environment seeds of episodes ``first .. first + count - 1``, at once.

        >>> seeds = EpisodeSeeds(42)
        >>> list(seeds.environment_seeds(255, 3)) == [seeds[i][0] for i in (255, 256, 257)]
        True
        """
        if count <= 0:
            return np.zeros(0, dtype=np.int64)
        start, end = first // self.BLOCK, (first + count - 1) // self.BLOCK
        words = [
            np.random.SeedSequence(self.run_seed, spawn_key=(block,)).generate_state(
                2 * self.BLOCK
            )[0::2]
            for block in range(start, end + 1)
        ]
        offset = first - start * self.BLOCK
        return np.concatenate(words)[offset : offset + count].astype(np.int64)


def splitmix64(seed: int, counter: int) -> int:
    """The `counter`-th 64-bit output of SplitMix64 started from `seed`.

    >>> splitmix64(0, 0) == splitmix64(0, 0), splitmix64(0, 0) != splitmix64(0, 1)
    (True, True)
    """
    z = (seed * 0x9E3779B97F4A7C15 + (counter + 1) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def uniform(seed: int, counter: int) -> float:
    """A float in [0, 1) from `splitmix64`: 53 random bits, as `random.random` has."""
    return (splitmix64(seed, counter) >> 11) * 2.0**-53


def reseed(generator: np.random.Generator, seed: int) -> None:
    """Reseed a PCG64 `generator` from `seed` in about two microseconds, by setting its
    state directly from mixed words of the seed.

    >>> a, b = np.random.Generator(np.random.PCG64()), np.random.Generator(np.random.PCG64())
    >>> reseed(a, 7); reseed(b, 7)
    >>> a.random() == b.random()
    True
    """
    words = [splitmix64(seed, k) for k in range(4)]
    generator.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": words[0] << 64 | words[1], "inc": (words[2] << 64 | words[3]) | 1},
        "has_uint32": 0,
        "uinteger": 0,
    }
