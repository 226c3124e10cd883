"""Episode accounting: which episodes a stretch of a run plays, their seeds, their numbers,
the order they are reported in, the boundary, and what an error says about where it struck.

Every stepper in `gymrun.core.steppers` plays through a `Schedule`; none numbers, seeds or
orders episodes itself.
"""

from __future__ import annotations

import traceback

import numpy as np

from gymrun.components.seeding import EpisodeSeeds
from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.errors import ActionOutsideSpace, RolloutError


class Schedule:
    """Episodes ``first .. first + count - 1`` of a run seeded `run_seed`.

    Episodes are numbered as they start: a single environment plays them in order; the
    sub-environments of a vector env take the next number whenever one starts an episode
    (several in the same step in sub-environment order). Episode i's environment and agent
    seeds are ``EpisodeSeeds(run_seed)[i]``. Exactly the requested episodes are reported,
    each played to its end, in index order; sub-environments still stepping past the quota
    play on, unreported.

    >>> schedule = Schedule(run_seed=0, first=5, count=2, reward_boundary=1.0)
    >>> [schedule.start()[0] for _ in range(3)], schedule.wanted
    ([5, 6, 7], False)
    >>> schedule.finish(6, 0, 2.0, 2, True, False, 0.1)  # waits for episode 5
    ()
    >>> [(e.episode, e.reached) for e in schedule.finish(5, 0, 0.5, 1, True, False, 0.1)]
    [(5, False), (6, True)]
    """

    def __init__(
        self, *, run_seed: int, first: int, count: int, reward_boundary: float | None
    ) -> None:
        self.run_seed = run_seed
        self.seeds = EpisodeSeeds(run_seed)
        self.first, self.stop = first, first + count
        self.boundary = reward_boundary
        self.started = first  # the next number to hand out
        self.emitted = first  # every episode below this has been reported
        self._held: dict[int, EpisodeResult] = {}  # finished before an earlier one
        self._window = _Window(capacity=4096)

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
    ) -> tuple[EpisodeResult, ...]:
        """Episode `index` has ended; returns the episodes that can now be reported, in order
        (none when an earlier one is still running, or for an episode past the quota).

        `reward` is the environment's own return, which the boundary judges; `shaped_reward`
        what the agent saw through the config's wrappers (None without wrappers)."""
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

    def finish_many(
        self,
        index: np.ndarray,
        reward: np.ndarray,
        steps: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        shaped_reward: np.ndarray | None = None,
    ) -> None:
        """Episodes `index` (any order) have ended; they wait for `ready`."""
        keep = index < self.stop
        if not keep.all():
            index, reward, steps = index[keep], reward[keep], steps[keep]
            terminated, truncated = terminated[keep], truncated[keep]
            shaped_reward = None if shaped_reward is None else shaped_reward[keep]
        if len(index):
            columns = [reward, steps, terminated, truncated]
            if shaped_reward is not None:
                columns.append(shaped_reward)
            self._window.put(index - self.emitted, *columns)

    def ready(self, lowest_running: int) -> EpisodeBatch | None:
        """The episodes below `lowest_running` (all of them finished) not yet reported."""
        stop = min(lowest_running, self.stop)
        if stop <= self.emitted:
            return None
        (reward, steps, terminated, truncated), shaped = self._window.take(stop - self.emitted)
        batch = EpisodeBatch(
            np.arange(self.emitted, stop),
            reward,
            steps,
            terminated,
            truncated,
            self.boundary,
            shaped_reward=shaped,
        )
        self.emitted = stop
        return batch


class _Window:
    """Finished episodes by their distance from the lowest unreported one, as columns.

    Writes and reads touch only the episodes written or read: reading moves a start
    offset, and the columns are moved down only once that offset passes half their length.
    The shaped-reward column is kept only once an episode with one is put.
    """

    def __init__(self, capacity: int) -> None:
        self.offset = 0
        self.shaped: np.ndarray | None = None
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        self.reward = np.zeros(capacity)
        self.steps = np.zeros(capacity, dtype=np.int64)
        self.terminated = np.zeros(capacity, dtype=bool)
        self.truncated = np.zeros(capacity, dtype=bool)
        if self.shaped is not None:
            self.shaped = np.zeros(capacity)

    def _columns(self) -> tuple[np.ndarray, ...]:
        basic = self.reward, self.steps, self.terminated, self.truncated
        return basic if self.shaped is None else (*basic, self.shaped)

    def put(self, position: np.ndarray, *values: np.ndarray) -> None:
        if len(values) > 4 and self.shaped is None:
            self.shaped = np.zeros(len(self.reward))
        needed = self.offset + int(position.max()) + 1
        if needed > len(self.reward):
            old = [column[self.offset :] for column in self._columns()]
            self._allocate(max(2 * len(self.reward), needed - self.offset))
            for column, part in zip(self._columns(), old, strict=True):
                column[: len(part)] = part
            self.offset = 0
        at = position + self.offset
        for column, value in zip(self._columns(), values, strict=True):
            column[at] = value

    def take(self, count: int) -> tuple[list[np.ndarray], np.ndarray | None]:
        """The next `count` episodes' columns, and their shaped rewards if they have any."""
        start, stop = self.offset, self.offset + count
        taken = [column[start:stop].copy() for column in self._columns()]
        shaped = taken.pop() if self.shaped is not None else None
        self.offset = stop
        if self.offset > len(self.reward) // 2:
            for column in self._columns():
                column[: len(column) - self.offset] = column[self.offset :]
            self.offset = 0
        return taken, shaped


def rollout_error(exc: BaseException, where: str, *, episode: int, step: int) -> RolloutError:
    """The `RolloutError` for `exc`, raised by the env or the agent at `where`.

    >>> str(rollout_error(ValueError("bad"), "episode 3, step 2", episode=3, step=2))[:40]
    'episode 3, step 2: ValueError: bad (rais'
    """
    if isinstance(exc, ActionOutsideSpace):
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
