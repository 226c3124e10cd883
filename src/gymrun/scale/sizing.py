"""How runs are cut into chunks for an executor: the one place chunks are sized.

A run whose episodes can be played in pieces (see `RunPlan.splittable`) is cut into chunks
of about the same work, sized from what an episode costs (its first few played here) and how
many workers share them: enough chunks that no worker idles at the end, each short enough
that a stopped run keeps nearly all it played and results stream back, long enough that
sending one costs little beside playing it. Runs shorter than a chunk are played several
to a task where the executor bundles them (a cluster's round trip is milliseconds). A run
that cannot be split is one chunk. The costliest runs go first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from gymrun.core.experiment import Experiment
from gymrun.core.plan import RunPlan
from gymrun.errors import GymrunError

SPREAD = 8  # chunks per worker (thread), so that none idles long while another finishes


@dataclass(frozen=True)
class ChunkPolicy:
    """How long a chunk of an executor should take: at most `seconds` of work and
    `episodes` episodes, at least `least_seconds` (chunks of short runs are bundled to reach
    it); None when each run is played whole, where it streams its own episodes."""

    seconds: float
    least_seconds: float
    episodes: int


def chunk_size(count: int, parallel: int, cost: float, policy: ChunkPolicy) -> int:
    """Episodes per chunk when `count` episodes in all are shared by `parallel` workers and
    an episode costs `cost` seconds (0 when not known: shared out evenly).

    >>> pool = ChunkPolicy(seconds=0.5, least_seconds=0.0, episodes=1000)
    >>> [chunk_size(count, 2, cost, pool) for count, cost in ((100, 0), (10**6, 0), (10**6, 0.05))]
    [7, 1000, 10]
    >>> cluster = ChunkPolicy(seconds=1.0, least_seconds=0.025, episodes=100_000)
    >>> chunk_size(54000, 2, 0.0001, cluster), chunk_size(1800, 2, 0.0001, cluster)
    (3375, 250)
    """
    share = -(-count // (parallel * SPREAD))
    if cost <= 0:
        return max(1, min(count, policy.episodes, share))
    least = int(policy.least_seconds / cost)
    most = int(policy.seconds / cost)
    return max(1, min(count, policy.episodes, most, max(least, share)))


@dataclass(frozen=True)
class Chunked:
    """Where each run starts, in which order runs are sent, and each run's chunk size
    (None: played whole); `bundle`, episodes a task may hold when chunks are bundled."""

    order: list[int]
    sizes: list[int | None]
    bundle: int


def chunked(
    plans: Sequence[RunPlan],
    starts: Sequence[int],
    policy: ChunkPolicy | None,
    parallel: int,
    costs: Sequence[float | None] | None = None,
) -> Chunked:
    """How the runs of `plans`, from episode `starts[i]` on, are cut for an executor of
    `parallel` workers with `policy` (None: each run whole). `costs`, an episode's seconds
    per run where measured (see `episode_costs`), order the runs costliest first."""
    remaining = [plan.episodes - start for plan, start in zip(plans, starts, strict=True)]
    known = [cost for cost in costs or [] if cost is not None]
    cost = sum(known) / len(known) if known else 0.0
    each = [cost if found is None else found for found in (costs or [None] * len(plans))]
    order = sorted(range(len(plans)), key=lambda r: -each[r] * remaining[r])
    if policy is None:
        return Chunked(order, [None] * len(plans), 1)
    size = chunk_size(sum(remaining), parallel, cost, policy)
    sizes = [size if plan.splittable else None for plan in plans]
    return Chunked(order, sizes, size if policy.least_seconds > 0 else 1)


def chunks_of(start: int, count: int, size: int | None) -> Iterator[tuple[int, int]]:
    """``(first, count)`` of each chunk of episodes ``start .. start + count - 1``, made as
    they are asked for (a run of 10**11 episodes has 10**8 of them).

    >>> list(chunks_of(5, 20, 7)), list(chunks_of(0, 10, None))
    ([(5, 7), (12, 7), (19, 6)], [(0, 10)])
    """
    step = size or max(count, 1)
    for first in range(start, start + count, step):
        yield first, min(step, start + count - first)


def episode_costs(
    plans: Sequence[RunPlan], episodes: int = 5, budget: float = 0.1
) -> list[float | None]:
    """Seconds an episode of each of `plans` takes in this process: up to `episodes` of each
    (its first ones, seeded as always), for at most about `budget` seconds in all (None for
    the plans that were not reached, or whose episodes could not be played). The
    environment's making is not counted: a worker keeps what it built for the next chunk."""
    costs: list[float | None] = [None] * len(plans)
    began = time.perf_counter()
    for number, plan in enumerate(plans):
        if time.perf_counter() - began > budget:
            break
        played = 0
        try:
            with Experiment(plan) as experiment:
                started = time.perf_counter()
                for batch in experiment.batches(0, min(episodes, plan.episodes)):
                    played += len(batch)
                    if time.perf_counter() - began > budget:
                        break
                seconds = time.perf_counter() - started
        except GymrunError:
            continue  # the run fails where it is played, and says so there
        costs[number] = seconds / played if played else None
    return costs
