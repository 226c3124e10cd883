"""A config's ``sweep:`` section: dotted keys (the paths ``--set`` takes) to lists of values,
whose product is the grid, and the seeds every point is run with."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from gymrun.config.places import Places
from gymrun.config.wording import wording
from gymrun.config.yaml_source import Document
from gymrun.errors import ConfigError, Problem
from gymrun.numbers import counted

MAX_RUNS = 100_000  # runs (points x seeds) in one sweep
SEEDS = 2**64  # seeds are below this, as numpy's generators take them


@dataclass(frozen=True)
class Grid:
    """The points of a sweep (one mapping of key to value each) and its seeds."""

    keys: list[str]
    points: list[dict[str, Any]]
    seeds: list[int]


def read_grid(document: Document, places: Places | None = None) -> Grid:
    """The grid of `document`'s ``sweep:`` section; every problem in it in one `ConfigError`,
    placed by `places` (default: the file's lines), so a value ``--set`` gave is told at it.

    ``seeds: [...]`` repeats every point with those seeds; ``replicates: N`` with N seeds
    counting up from the config's seed (or 0).

    >>> from gymrun.config.yaml_source import parse_yaml
    >>> grid = read_grid(parse_yaml("seed: 5\\nsweep: {episodes: [1, 2], replicates: 2}"))
    >>> grid.points, grid.seeds
    ([{'episodes': 1}, {'episodes': 2}], [5, 6])
    """
    data = document.data
    places = places or Places(document.source, document.lines)
    if isinstance(data, dict) and data.get("sweep") is None and places.origin(("sweep",)) is None:
        raise ConfigError([_no_grid(document.source)])
    if not isinstance(data, dict) or not isinstance(data.get("sweep"), dict) or not data["sweep"]:
        message = "a sweep config needs a 'sweep:' mapping of keys to lists of values"
        raise ConfigError([places.problem(("sweep",), message)])
    grid = dict(data["sweep"])
    problems: list[Problem] = []
    seeds = _seeds(grid, data.get("seed"), places, problems)
    keys = list(grid)
    for key in keys:
        values = grid[key]
        if key == "seed":
            message = "the seeds of a sweep are given as seeds: [...] (or replicates: N)"
            problems.append(places.problem(("sweep", key), message))
        elif key == "sweep" or key.startswith("sweep."):
            # every point is run with the sweep section set aside: it would change nothing
            message = "the sweep section itself cannot be swept (seeds: [...] gives the seeds)"
            problems.append(places.problem(("sweep", key), message))
        elif not isinstance(values, list) or not values:
            problems.append(places.problem(("sweep", key), "must be a non-empty list"))
    if problems:
        raise ConfigError(problems)
    runs = math.prod(len(values) for values in grid.values()) * len(seeds)
    if runs > MAX_RUNS:
        shape = " x ".join(str(len(values)) for values in grid.values())
        message = (
            f"the grid has {runs:,} runs ({shape} points x {counted(len(seeds), 'seed')}); "
            f"a sweep has at most {MAX_RUNS:,}"
        )
        raise ConfigError([places.problem(("sweep",), message)])
    points = [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    return Grid(keys, points, seeds)


def _no_grid(source: str) -> Problem:
    """A config without a sweep section, given to a sweep: it is one run's.

    >>> print(_no_grid("c.yaml"))
    c.yaml: not a sweep config: it has no 'sweep:' section (keys to lists of values); \
run_experiment(load_config('c.yaml')) plays it as one run
    """
    one_run = wording().either(f"run_experiment(load_config({source!r}))", f"gymrun run {source}")
    message = (
        "not a sweep config: it has no 'sweep:' section (keys to lists of values); "
        f"{one_run} plays it as one run"
    )
    return Problem(source, "", message)


def _seeds(grid: dict[str, Any], base: Any, places: Places, problems: list[Problem]) -> list[int]:
    seeds = grid.pop("seeds", None)
    replicates = grid.pop("replicates", None)
    if seeds is not None and replicates is not None:
        message = "give either seeds or replicates, not both"
        problems.append(places.problem(("sweep",), message))
        return [0]
    if seeds is not None:
        valid = (
            isinstance(seeds, list)
            and seeds
            and all(type(s) is int and 0 <= s < SEEDS for s in seeds)
        )
        if not valid:
            message = "must be a non-empty list of integers from 0 to 2**64 - 1"
            problems.append(places.problem(("sweep", "seeds"), message))
            return [0]
        if len(set(seeds)) < len(seeds):
            twice = sorted({s for s in seeds if seeds.count(s) > 1})
            message = f"each seed once: {', '.join(map(str, twice))} repeated"
            problems.append(places.problem(("sweep", "seeds"), message))
            return [0]
        return list(seeds)
    first = base if isinstance(base, int) and not isinstance(base, bool) else 0
    if replicates is None:
        return [first]
    if not isinstance(replicates, int) or isinstance(replicates, bool) or replicates < 1:
        message = "must be an integer >= 1"
        problems.append(places.problem(("sweep", "replicates"), message))
        return [0]
    if replicates > MAX_RUNS:
        message = f"{replicates:,} replicates; a sweep has at most {MAX_RUNS:,} runs"
        problems.append(places.problem(("sweep", "replicates"), message))
        return [0]
    if first + replicates > SEEDS:
        message = f"{replicates:,} replicates from seed {first} pass 2**64 - 1, the last seed"
        problems.append(places.problem(("sweep", "replicates"), message))
        return [0]
    return [first + r for r in range(replicates)]
