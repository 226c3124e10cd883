"""Episode accounting: which episodes a stretch of a run plays, their seeds, their numbers,
the order they are reported in, the boundary, and what an error says about where it struck.

Every stepper in `gymrun.core.steppers` plays through a `Schedule`; none numbers, seeds or
orders episodes itself.
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Mapping, Sequence

import numpy as np

from gymrun.components.seeding import EpisodeSeeds
from gymrun.core.episodes import NO_METRICS, EpisodeBatch, EpisodeResult, MetricColumn
from gymrun.core.metrics import Metric
from gymrun.core.transitions import Transitions
from gymrun.errors import ActionOutsideSpace, InfoValueError, RolloutError


class Schedule:
    """Episodes ``first .. first + count - 1`` of a run seeded `run_seed`.

    Episodes are numbered as they start: a single environment plays them in order; the
    sub-environments of a vector env take the next number whenever one starts an episode
    (several in the same step in sub-environment order). Episode i's environment and agent
    seeds are ``EpisodeSeeds(run_seed)[i]``. Exactly the requested episodes are reported,
    each played to its end, in index order; sub-environments still stepping past the quota
    play on, unreported. The steppers read `metrics` from the step infos, and with
    `transitions` keep each episode's steps (`keep`) for whoever consumes the loop.

    >>> schedule = Schedule(run_seed=0, first=5, count=2, reward_boundary=1.0)
    >>> [schedule.start()[0] for _ in range(3)], schedule.wanted
    ([5, 6, 7], False)
    >>> schedule.finish(6, 0, 2.0, 2, True, False, 0.1)  # waits for episode 5
    ()
    >>> [(e.episode, e.reached) for e in schedule.finish(5, 0, 0.5, 1, True, False, 0.1)]
    [(5, False), (6, True)]
    """

    def __init__(
        self,
        *,
        run_seed: int,
        first: int,
        count: int,
        reward_boundary: float | None,
        metrics: Sequence[Metric] = (),
        transitions: bool = False,
    ) -> None:
        self.run_seed = run_seed
        self.metrics = tuple(metrics)
        # each finished episode's steps, by index, until taken (None: steps are not kept)
        self.transitions: dict[int, Transitions] | None = {} if transitions else None
        self.seeds = EpisodeSeeds(run_seed)
        self.first, self.stop = first, first + count
        self.boundary = reward_boundary
        self.started = first  # the next number to hand out
        self.emitted = first  # every episode below this has been reported
        self._held: dict[int, EpisodeResult] = {}  # finished before an earlier one
        self._window: _Window | None = None

    @property
    def wanted(self) -> bool:
        """Whether an episode of the quota is still to start."""
        return self.started < self.stop

    @property
    def done(self) -> bool:
        """Whether every episode of the quota has been reported."""
        return self.emitted >= self.stop

    def start(self) -> tuple[int, int, int]:
        """Number the next episode: ``(index, env seed, agent seed)``."""
        index = self.started
        self.started += 1
        env_seed, agent_seed = self.seeds[index]
        return index, env_seed, agent_seed

    def keep(self, index: int, steps: Transitions) -> None:
        """The steps of episode `index` (one past the quota is dropped)."""
        if self.transitions is not None and index < self.stop:
            self.transitions[index] = steps

    def finish(
        self,
        index: int,
        seed: int | None,
        reward: float,
        steps: int,
        terminated: bool,
        truncated: bool,
        seconds: float,
        shaped_reward: float | None = None,
        metrics: Mapping[str, bool | float | None] | None = None,
    ) -> tuple[EpisodeResult, ...]:
        """Episode `index` has ended; returns the episodes that can now be reported, in order
        (none when an earlier one is still running, or for an episode past the quota).

        `reward` is the environment's own return, which the boundary judges; `shaped_reward`
        what the agent saw through the config's wrappers (None without wrappers); `metrics`
        what its step infos said (see `gymrun.core.metrics`)."""
        if index >= self.stop:
            return ()
        boundary = self.boundary
        result = EpisodeResult(
            index,
            seed,
            reward,
            steps,
            terminated,
            truncated,
            None if boundary is None else reward >= boundary,
            seconds,
            shaped_reward,
            metrics or NO_METRICS,
        )
        if index != self.emitted:
            self._held[index] = result
            return ()
        self.emitted += 1
        if not self._held:
            return (result,)
        ready = [result]
        while self.emitted in self._held:
            ready.append(self._held.pop(self.emitted))
            self.emitted += 1
        return tuple(ready)

    def start_many(self, count: int) -> np.ndarray:
        """Number the next `count` episodes at once (vector envs seeded once per run)."""
        numbers = np.arange(self.started, self.started + count)
        self.started += count
        return numbers

    @property
    def window(self) -> _Window:
        """Where a vector env's stepper puts the episodes that ended, by index, for `ready`
        to report (made when first asked for)."""
        if self._window is None:
            self._window = _Window(self.emitted)
        return self._window

    def ready(self, lowest_running: int) -> EpisodeBatch | None:
        """The episodes below `lowest_running` (all of them in the window) not yet reported."""
        stop = min(lowest_running, self.stop)
        if stop <= self.emitted:
            return None
        window = self.window
        terminated, truncated, steps, reward, shaped = window.take(self.emitted, stop)
        part = slice(self.emitted - window.origin, stop - window.origin)
        metrics = {
            metric.name: MetricColumn(
                window.metrics[metric.name][part], window.booleans[metric.name], metric.optional
            )
            for metric in self.metrics
            if metric.name in window.metrics
        }
        batch = EpisodeBatch(
            np.arange(self.emitted, stop),
            reward,
            steps,
            terminated,
            truncated,
            self.boundary,
            shaped_reward=shaped,
            metrics=metrics,
        )
        self.emitted = stop
        return batch


class _Window:
    """Columns of the episodes that ended, at their index less `origin`: written in any
    order, each episode once, and read in index order.

    `sums` holds the episodes' rewards: one column, or with wrappers two, the shaped
    rewards (what the agent saw) and the environment's own. A column whose `per_step` is a
    number is not written: each episode earned that number times its steps. `flags` holds
    1 for terminated (what it holds until written), 2 for truncated, 3 for both.

    `metrics` holds a column per metric the step infos have reported (NaN: no value),
    and `booleans` whether every value of each was a boolean.

    What has been read is never written again: columns are not moved in place but made
    anew (from the first unread episode on) when they are full, so that what `take` gives
    are views, not copies.
    """

    SIZE = 1 << 17  # episodes the columns hold at least

    def __init__(self, origin: int, sums: int = 1) -> None:
        self.origin = origin
        self.written = origin  # below this, episodes may have been put
        self.per_step: list[float | None] = [None] * sums
        self.sums: list[np.ndarray] = []
        self.metrics: dict[str, np.ndarray] = {}
        self.booleans: dict[str, bool] = {}
        self.steps, self.flags = np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint8)
        self.flagged = False  # whether some episode did not just terminate
        self._allocate(self.SIZE)

    def _allocate(self, size: int) -> None:
        self.sums = [np.empty(size) for _ in self.per_step]
        self.metrics = {name: np.full(size, math.nan) for name in self.metrics}
        self.steps = np.empty(size, dtype=np.int64)
        self.flags = np.ones(size, dtype=np.uint8)

    def keep_metric(self, name: str) -> None:
        """Keep a column of metric `name` too: no episode put so far has a value of it."""
        self.metrics[name] = np.full(len(self.steps), math.nan)
        self.booleans[name] = True

    def keep_shaped(self) -> None:
        """Keep a column of shaped rewards too (before anything is put)."""
        if len(self.per_step) == 1:
            self.per_step.insert(0, None)
            self.sums.insert(0, np.empty(len(self.steps)))

    def make_room(self, stop: int, first_unread: int) -> None:
        """Room for the episodes below `stop`; those below `first_unread` will not be read."""
        if stop - self.origin <= len(self.steps):
            self.written = max(self.written, stop)
            return
        old = [*self.sums, *self.metrics.values(), self.steps, self.flags]
        live = slice(first_unread - self.origin, self.written - self.origin)
        self._allocate(max(self.SIZE, 4 * (stop - first_unread)))
        new = [*self.sums, *self.metrics.values(), self.steps, self.flags]
        for column, before in zip(new, old, strict=True):
            column[: live.stop - live.start] = before[live]
        self.origin = first_unread
        self.written = stop

    def write_sums(self, number: int) -> None:
        """From now on, column `number` of `sums` is written: fill in what it implied."""
        per_step = self.per_step[number]
        if per_step is not None:
            part = slice(0, self.written - self.origin)
            np.multiply(self.steps[part], per_step, out=self.sums[number][part])
            self.per_step[number] = None

    def take(
        self, start: int, stop: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Episodes ``start .. stop - 1``: terminated, truncated, steps, reward, shaped."""
        part = slice(start - self.origin, stop - self.origin)
        steps = self.steps[part]
        sums = [
            column[part] if per_step is None else steps * per_step
            for column, per_step in zip(self.sums, self.per_step, strict=True)
        ]
        if self.flagged:
            flags = self.flags[part]
            terminated, truncated = (flags & 1).view(bool), (flags >> 1).view(bool)
        else:
            terminated, truncated = _constant(True, stop - start), _constant(False, stop - start)
        return terminated, truncated, steps, sums[-1], sums[0] if len(sums) > 1 else None


_CONSTANTS: dict[bool, np.ndarray] = {}


def _constant(value: bool, count: int) -> np.ndarray:
    """`count` times `value`, as a read-only view of an array kept for the purpose."""
    kept = _CONSTANTS.get(value)
    if kept is None or len(kept) < count:
        kept = np.full(max(count, _Window.SIZE), value)
        kept.flags.writeable = False
        _CONSTANTS[value] = kept
    return kept[:count]


def rollout_error(exc: BaseException, where: str, *, episode: int, step: int) -> RolloutError:
    """The `RolloutError` for `exc`, raised by the env or the agent at `where`.

    >>> str(rollout_error(ValueError("bad"), "episode 3, step 2", episode=3, step=2))[:40]
    'episode 3, step 2: ValueError: bad (rais'
    """
    if isinstance(exc, ActionOutsideSpace | InfoValueError):  # they say what is wrong
        return RolloutError(f"{where}: {exc}", episode=episode, step=step)
    return RolloutError(
        f"{where}: {type(exc).__name__}: {exc} ({_origin(exc)})", episode=episode, step=step
    )


def _origin(exc: BaseException) -> str:
    """Where `exc` was raised, so the message tells the env's fault from the agent's."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "raised outside Python"
    frame = frames[-1]
    return f"raised in {frame.name} at {frame.filename}:{frame.lineno}"
