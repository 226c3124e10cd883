"""How episodes are stepped: one environment, or a vector env of many, in whichever way
resets its sub-environments. Each stepper has the same signature, ``run(schedule)``, and
yields finished episodes in index order; the `Schedule` numbers and seeds them.

- `SingleStepper`: one environment, each episode reset with its own seed. A tight loop of
  its own, because a vector env of one costs several times more per step (the benchmark
  shows it).
- `ResettingVectorStepper`: a vector env with autoreset disabled (gymrun's sync and async
  modes): each sub-environment is reset with its episode's own seed when the episode starts,
  so a vector run gives exactly the episodes of a single-env run.
- `AutoresetVectorStepper`: an environment's own vector implementation, which resets its
  sub-environments itself and is seeded once per run. Per step it only keeps the arrays the
  env returns; finished episodes are found and accounted for in blocks of steps, with numpy.

Each also reads the schedule's metrics from the step infos (`gymrun.core.metrics`): a step
whose info is empty costs one test of it, until an info has held a metric's key. For a run
that writes a dataset, the single and the resetting vector stepper also collect each
episode's steps (`gymrun.core.transitions`) and give them to the schedule; otherwise they
do not take one step more.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from time import perf_counter
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from gymrun.components.env_return import ENV_RETURN, ReportEnvReturn, find_reward_tap
from gymrun.components.policy import Policy
from gymrun.components.spaces import value_label
from gymrun.core.episodes import EpisodeResult
from gymrun.core.metrics import EpisodeTally, VectorTally
from gymrun.core.schedule import Schedule, rollout_error
from gymrun.core.transitions import Collector, Transitions
from gymrun.errors import RolloutError

Episodes = Sequence[EpisodeResult]

# Not faults of the env or agent: Ctrl-C (and the signals handled like it), a generator
# closed by its consumer, and gymrun's own errors, which say already where they struck.
_PASSED_ON = (KeyboardInterrupt, GeneratorExit, RolloutError)

# Steps per block of the autoreset stepper: enough to spread numpy's per-call cost, few
# enough that a block of every array the env returns stays in the CPU's cache; once every
# episode of the quota has started, short blocks, so that the run ends soon after the last.
BLOCK_STEPS = 256
BLOCK_VALUES = 1 << 18
TAIL_STEPS = 8
# A reward paid every step is summed as a product up to this size: exact to the last bit.
WHOLE_REWARDS = 2.0**20


class SingleStepper:
    """Episodes of one environment, one after another."""

    def __init__(self, env: gym.Env[Any, Any], policy: Policy) -> None:
        # The layer that reports the environment's return in the last info is there for
        # vector envs; one env is stepped beneath it and its meter read directly, a wrapper
        # layer less per step.
        self.meter = env.meter if isinstance(env, ReportEnvReturn) else None
        self.env = env.env if isinstance(env, ReportEnvReturn) else env
        self.policy = policy

    def run(self, schedule: Schedule) -> Iterator[Episodes]:
        step, reset, meter = self.env.step, self.env.reset, self.meter
        act, observe = self.policy.act, self.policy.observe
        reset_agent = self.policy.reset_of(0)
        tally = EpisodeTally(schedule.metrics)
        see = tally.see
        collector = None  # the steps, for a dataset; else not a step more is done
        if schedule.transitions is not None:
            collector = Collector(self.env.observation_space, self.env.action_space)
        while schedule.wanted:
            index, env_seed, agent_seed = schedule.start()
            steps = 0
            total: Any = 0.0
            try:
                started = perf_counter()
                observation, _ = reset(seed=env_seed)
                start = 0.0 if meter is None else meter.total  # a wrapper may step in reset
                if reset_agent is not None:
                    reset_agent(agent_seed)
                tally.clear()
                terminated = truncated = False
                # A sum of numpy rewards past the largest float is infinite, reported as a
                # non-finite reward, without numpy's warning (once per episode: it costs).
                with np.errstate(over="ignore", invalid="ignore"):
                    if collector is not None:
                        collector.start(observation)
                        while not (terminated or truncated):
                            action = act(observation)
                            following, reward, terminated, truncated, info = step(action)
                            total += reward
                            steps += 1
                            if info:
                                see(info)
                            if observe is not None:
                                observe(
                                    observation, action, reward, following, terminated, truncated
                                )
                            collector.step(action, reward, following)
                            observation = following
                        schedule.keep(index, collector.finish(terminated, truncated))
                    elif observe is None:
                        while not (terminated or truncated):
                            observation, reward, terminated, truncated, info = step(
                                act(observation)
                            )
                            total += reward
                            steps += 1
                            if info:
                                see(info)
                    else:
                        while not (terminated or truncated):
                            action = act(observation)
                            following, reward, terminated, truncated, info = step(action)
                            total += reward
                            steps += 1
                            if info:
                                see(info)
                            observe(observation, action, reward, following, terminated, truncated)
                            observation = following
                result = (float(total), bool(terminated), bool(truncated))
                env_return = None if meter is None or not steps else meter.total - start
                metrics = tally.values()
            except _PASSED_ON:
                raise
            except BaseException as exc:  # SystemExit from an agent is a fault too
                where = f"episode {index}, step {steps}"
                if isinstance(exc, TypeError | ValueError) and not isinstance(total, int | float):
                    exc = TypeError(f"the reward is not a number: {value_label(total)}")
                raise rollout_error(exc, where, episode=index, step=steps) from exc
            # With wrappers, the environment's own return is the episode's reward
            yield schedule.finish(
                index,
                env_seed,
                result[0] if env_return is None else float(env_return),
                steps,
                result[1],
                result[2],
                perf_counter() - started,
                None if env_return is None else result[0],
                metrics,
            )


class ResettingVectorStepper:
    """A vector env with autoreset disabled: gymrun resets each finished sub-environment
    with the seed of the episode it starts next."""

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any], policy: Policy) -> None:
        self.env, self.policy = env, policy

    def run(self, schedule: Schedule) -> Iterator[Episodes]:
        env, policy = self.env, self.policy
        n = env.num_envs
        act_batch = _row_by_row(policy.acts, env, policy.reads)
        playing: list[tuple[int, int]] = [(0, 0)] * n  # (index, env seed) per sub-environment
        seeds: list[int | None] = [None] * n
        returns = np.zeros(n)
        lengths = np.zeros(n, dtype=np.int64)
        tally = VectorTally(schedule.metrics, n)
        steps = None if schedule.transitions is None else _SlotSteps(env)
        step = 0
        try:
            for slot in range(n):
                seeds[slot] = self._begin(schedule, slot, playing)
            observations, _ = env.reset(seed=seeds)  # type: ignore[arg-type]  # a seed per env
            if steps is not None:
                steps.start(observations, range(n))
            while not schedule.done:
                actions = act_batch(observations)
                observations, rewards, terminated, truncated, infos = env.step(actions)
                if steps is not None:
                    steps.step(actions, rewards, observations)
                step += 1
                with np.errstate(over="ignore", invalid="ignore"):  # an infinite sum is reported
                    returns += rewards
                lengths += 1
                if infos:
                    tally.see(infos)
                ended = terminated | truncated
                if not ended.any():
                    continue
                finished: list[EpisodeResult] = []
                seeds = [None] * n
                # with wrappers, each sub-environment's own return (see `SingleStepper`)
                env_returns = infos.get(ENV_RETURN)
                metrics = tally.end(ended) if tally.active else None
                slots = np.flatnonzero(ended).tolist()
                for slot in slots:
                    index, env_seed = playing[slot]
                    if steps is not None:
                        schedule.keep(
                            index, steps.finish(slot, bool(terminated[slot]), bool(truncated[slot]))
                        )
                    shaped = float(returns[slot])
                    finished += schedule.finish(
                        index,
                        env_seed,
                        shaped if env_returns is None else float(env_returns[slot]),
                        int(lengths[slot]),
                        bool(terminated[slot]),
                        bool(truncated[slot]),
                        math.nan,
                        None if env_returns is None else shaped,
                        None if metrics is None else tally.episode(metrics, slot),
                    )
                    seeds[slot] = self._begin(schedule, slot, playing)
                returns[ended] = 0.0
                lengths[ended] = 0
                observations, _ = env.reset(
                    seed=seeds,  # type: ignore[arg-type]  # a seed per env
                    options={"reset_mask": ended},
                )
                if steps is not None:
                    steps.start(observations, slots)
                if finished:
                    yield finished
        except _PASSED_ON:
            raise
        except BaseException as exc:
            where = f"vector step {step}, episodes from {schedule.emitted}"
            raise rollout_error(exc, where, episode=schedule.emitted, step=step) from exc

    def _begin(self, schedule: Schedule, slot: int, playing: list[tuple[int, int]]) -> int:
        index, env_seed, agent_seed = schedule.start()
        self.policy.reset(slot, agent_seed)
        playing[slot] = (index, env_seed)
        return env_seed


class _SlotSteps:
    """The steps of each sub-environment's current episode, for a dataset: the vector env's
    batches taken apart row by row (only when steps are kept)."""

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any]) -> None:
        self.spaces = env.observation_space, env.action_space
        self.collectors = [
            Collector(env.single_observation_space, env.single_action_space)
            for _ in range(env.num_envs)
        ]

    def start(self, observations: Any, slots: Sequence[int]) -> None:
        rows = list(gym.vector.utils.iterate(self.spaces[0], observations))
        for slot in slots:
            self.collectors[slot].start(rows[slot])

    def step(self, actions: Any, rewards: np.ndarray, observations: Any) -> None:
        observation_rows = gym.vector.utils.iterate(self.spaces[0], observations)
        action_rows = gym.vector.utils.iterate(self.spaces[1], actions)
        for collector, action, reward, observation in zip(
            self.collectors, action_rows, rewards.tolist(), observation_rows, strict=True
        ):
            collector.step(action, reward, observation)

    def finish(self, slot: int, terminated: bool, truncated: bool) -> Transitions:
        return self.collectors[slot].finish(terminated, truncated)


class AutoresetVectorStepper:
    """An environment's own vector implementation, resetting its sub-environments itself."""

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any], policy: Policy) -> None:
        mode = AutoresetMode(env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP))
        self.env, self.policy = env, policy
        # Next-step autoreset (Gymnasium's default): the step after an episode ends only
        # resets; its reward and its step do not count. `skip` is the rows from one
        # episode's last step to the next one's first.
        self.skip = 2 if mode is AutoresetMode.NEXT_STEP else 1

    def run(self, schedule: Schedule) -> Iterator[Episodes]:
        env, policy, n = self.env, self.policy, self.env.num_envs
        act_batch = (
            policy.act_batch if policy.batched else _row_by_row(policy.acts, env, policy.reads)
        )
        # Agents of their own per sub-environment are reset as their episodes start: every
        # step is then a block, so that none acts before its reset.
        per_slot_resets = policy.resets and not policy.batched
        block = 1 if per_slot_resets else min(BLOCK_STEPS, max(1, BLOCK_VALUES // n))
        # with wrappers, the environment's own rewards beneath them, per step
        tap = find_reward_tap(env)
        tally = VectorTally(schedule.metrics, n)
        books = _Books(schedule, n, block, self.skip, tap is not None, tally)
        rewards, terminated, truncated, own = books.rewards, books.ended, books.cut, books.own
        see = books.see
        ends_per_step = n / 16  # a first guess, replaced by what each block shows
        step = 0
        step_env = env.step
        try:
            observations, _ = env.reset(seed=schedule.run_seed)
            for slot, index in enumerate(books.playing[: 1 if policy.batched else n].tolist()):
                policy.reset(slot, schedule.seeds[index][1])
            while not schedule.done:
                # Stop short of overshooting the quota: a long block at its end would step
                # on after the last episode it waits for has ended.
                to_start = schedule.stop - schedule.started
                steps = min(block, max(TAIL_STEPS, int(to_start / ends_per_step)))
                if not schedule.wanted:
                    steps = min(block, TAIL_STEPS)
                # What each step returns is copied into the block's rows at once (so an env
                # that reuses its arrays is read right, and nothing the env returned is kept).
                if own is None and policy.batched and not policy.reads:  # it does not look
                    observations = None
                    for row in range(1, steps + 1):
                        _, rewards[row], terminated[row], truncated[row], infos = step_env(
                            act_batch(None)
                        )
                        if infos or tally.active:
                            see(row, infos)
                elif own is None:
                    for row in range(1, steps + 1):
                        observations, rewards[row], terminated[row], truncated[row], infos = (
                            step_env(act_batch(observations))
                        )
                        if infos or tally.active:
                            see(row, infos)
                else:
                    for row in range(1, steps + 1):
                        observations, rewards[row], terminated[row], truncated[row], infos = (
                            step_env(act_batch(observations))
                        )
                        if infos or tally.active:
                            see(row, infos)
                        own[row] = tap.rewards  # type: ignore[union-attr]  # with `own`
                step += steps
                # Sums past the largest float are infinite (inf - inf, NaN), reported as
                # non-finite rewards without numpy's warnings.
                with np.errstate(over="ignore", invalid="ignore"):
                    ended = books.account(steps, per_slot_resets)
                ends_per_step = max(ended / steps, 1 / steps)
                if per_slot_resets:
                    for slot, index in books.started:
                        policy.reset(slot, schedule.seeds[index][1])
                batch = schedule.ready(int(books.playing.min()))
                if batch is not None:
                    yield batch
        except _PASSED_ON:
            raise
        except BaseException as exc:
            where = f"vector step {step}, episodes from {schedule.emitted}"
            raise rollout_error(exc, where, episode=schedule.emitted, step=step) from exc


class _Books:
    """The rows of a block of steps, and where each sub-environment's current episode
    stands: the autoreset stepper's accounting.

    Row ``j`` (from 1) of `rewards`, `ended` and `cut` holds step ``j - 1`` of the block;
    `own`, when the config has wrappers, holds the environment's rewards beneath them; once
    the `tally` of metrics is active, `metric_rows` hold per metric the value of each
    episode that ended, at the row of its last step. Per
    sub-environment, `start` is the row (from 0, of this block) of its current episode's
    first step: negative when the episode began in an earlier block, 1 when the block's
    first step only resets the sub-environment (`pending`).

    An episode's reward is the sum of its rows. While every step pays the same whole number
    (CartPole's 1.0), it is that number times the steps, exactly what summing gives: the
    rows are only checked, and the schedule's window multiplies. Otherwise the rows are
    summed in place (row 0 stays zero, so that row ``j`` then holds the sum of the steps
    before ``j``), each episode's sum is a difference of two of them, and `carries` hold
    what each current episode earned before the block.
    """

    def __init__(
        self, schedule: Schedule, n: int, block: int, skip: int, own: bool, tally: VectorTally
    ) -> None:
        self.schedule, self.n, self.skip, self.tally = schedule, n, skip, tally
        self.rewards = np.zeros((block + 1, n))
        self.own = np.zeros((block + 1, n)) if own else None
        self.ended = np.zeros((block + 1, n), dtype=bool)
        self.cut = np.zeros((block + 1, n), dtype=bool)
        self.matrices = [self.rewards] if self.own is None else [self.rewards, self.own]
        self.carries = [np.zeros(n) for _ in self.matrices]
        # per matrix: the whole number every step pays (None before the first block, False
        # once a step paid something else: from then on the rows are summed)
        self.constants: list[float | bool | None] = [None for _ in self.matrices]
        self.playing = schedule.start_many(n)  # the episode each sub-environment plays
        self.start = np.zeros(n, dtype=np.int64)
        self.pending: np.ndarray = np.zeros(
            0, dtype=np.int64
        )  # the sub-environments whose start is 1
        # sub-environment and row of a position in a block, by bit operations when n is a
        # power of two; sorted by sub-environment with 16-bit keys when they fit
        self.shift = n.bit_length() - 1 if n & (n - 1) == 0 else None
        self.key = np.int16 if n < 2**15 else np.int32
        self.started: list[tuple[int, int]] = []  # (sub-environment, episode) that began
        if own:
            schedule.window.keep_shaped()
        self.metric_rows: list[np.ndarray] = []
        self.last_ends = np.zeros(n, dtype=bool)  # at the last step of the block before
        if tally.active:
            self._keep_metrics()

    def _keep_metrics(self) -> None:
        self.metric_rows = [np.full(self.ended.shape, math.nan) for _ in self.tally.metrics]
        for metric in self.tally.metrics:
            self.schedule.window.keep_metric(metric.name)

    def see(self, row: int, infos: dict[str, Any]) -> None:
        """The infos of the block's row `row`: the metrics they report are tallied, and the
        value of each episode that ended there is kept."""
        tally = self.tally
        reads = tally.reads(infos)
        if not (reads or tally.active):  # infos of other keys only (an env's own numbers)
            return
        ended = self.ended[row] | self.cut[row]
        if reads and self.skip == 1:  # same-step autoreset: an episode's last info is in final_info
            became = tally.see(infos, ended, ended)
        elif reads:  # next-step: a sub-environment that ended one step ago gives its reset's info
            before = self.ended[row - 1] | self.cut[row - 1] if row > 1 else self.last_ends
            became = tally.see(infos, before)
        else:
            became = False
        if became:
            self._keep_metrics()
        if ended.any():
            for rows, values in zip(self.metric_rows, tally.end(ended), strict=True):
                rows[row] = values

    def account(self, k: int, started: bool = False) -> int:
        """Find the episodes that ended in the block's `k` steps, put them in the schedule's
        window and number the episodes that began; returns how many ended. With `started`,
        `self.started` lists the episodes that began, in order.

        Every operation is one numpy call over the block, over the sub-environments or over
        the episodes that ended in it, never a Python loop over either.
        """
        n, skip, schedule = self.n, self.skip, self.schedule
        if skip == 2:
            self.last_ends = self.ended[k] | self.cut[k]
        ended, cut = self.ended[1 : k + 1], self.cut[1 : k + 1]
        cuts = np.count_nonzero(cut)
        flat = np.flatnonzero(np.logical_or(ended, cut) if cuts else ended)
        count = len(flat)  # each end: its row * n + its sub-environment
        summed = [number for number in range(len(self.matrices)) if not self._paid(number, k, flat)]
        for number in summed:  # row j: the sum of the steps before j
            matrix = self.matrices[number]
            for j in range(1, k + 1):
                np.add(matrix[j - 1], matrix[j], out=matrix[j])
        if not count:
            self._carry_on(k, summed)
            return 0
        # Grouped by sub-environment (a stable sort of small integers is a radix sort,
        # linear in the ends), each end closes the episode begun after the one before.
        key = (flat % n if self.shift is None else flat & (n - 1)).astype(self.key)
        order = np.argsort(key, kind="stable")
        at = flat[order]
        slot = key[order]
        row = at // n if self.shift is None else at >> self.shift
        first = np.empty(count, dtype=bool)  # the sub-environment's first end in the block
        first[0] = True
        np.not_equal(slot[1:], slot[:-1], out=first[1:])
        firsts = np.flatnonzero(first)
        slots = slot[firsts]  # the sub-environments with an end, each once
        lasts = np.empty_like(firsts)
        np.subtract(firsts[1:], 1, out=lasts[:-1])
        lasts[-1] = count - 1
        # An episode's first step is `skip` rows after the end before it, or for the first
        # end of a sub-environment, its `start`.
        started_at = self.start[slots]
        steps = np.empty(count, dtype=np.int64)
        np.subtract(row[1:], row[:-1], out=steps[1:])
        if skip != 1:
            steps[1:] -= skip - 1
        steps[firsts] = row[firsts] + 1 - started_at
        sums: list[tuple[int, np.ndarray]] = []  # the rewards the window is given
        if summed:
            below = np.empty(count, dtype=np.int64)  # each first step's place in the rows
            np.add(at[:-1], skip * n, out=below[1:])
            below[firsts] = np.maximum(started_at, 0) * n + slots
            for number in summed:
                values = self.matrices[number].ravel()
                reward = values[n:][at] - values[below]
                reward[firsts] += self.carries[number][slots]  # earned before the block
                sums.append((number, reward))
        # In start order (row, then sub-environment) the new episodes take the next numbers:
        # the end at row-major position j starts episode `base + j`.
        base = schedule.started
        schedule.started += count
        metrics = [rows.ravel()[n:][at] for rows in self.metric_rows]  # of each end
        self._report(order, firsts, slots, base, steps, sums, at if cuts else None, metrics)
        # What goes on: the episodes begun by each sub-environment's last end.
        self._carry_on(k, summed)
        restart = row[lasts] + skip  # their first step's row
        if summed:
            inside = np.minimum(restart, k)
            for number in summed:
                values = self.matrices[number].ravel()
                self.carries[number][slots] = values[k * n + slots] - values[inside * n + slots]
        self.start[slots] = restart - k
        self.pending = slots[restart > k]
        self.playing[slots] = order[lasts] + base
        if started:
            slot_of = flat % n
            self.started = list(zip(slot_of.tolist(), range(base, base + count), strict=True))
        return count

    def _report(
        self,
        order: np.ndarray,
        firsts: np.ndarray,
        slots: np.ndarray,
        base: int,
        steps: np.ndarray,
        sums: list[tuple[int, np.ndarray]],
        cut_at: np.ndarray | None,
        metrics: list[np.ndarray],
    ) -> None:
        """Put the episodes that ended in the schedule's window: in sub-environment order,
        each closes the one begun at the end before it (`order`: that end's row-major
        position), or for `firsts` the one its sub-environment was playing. `sums` are the
        rewards of the window's columns that are written; `cut_at` (the ends' positions,
        when some episode was truncated) gives how each ended, otherwise all terminated;
        `metrics` are the episodes' values of each metric tallied."""
        schedule = self.schedule
        window = schedule.window
        window.make_room(min(schedule.started, schedule.stop), schedule.emitted)
        position = np.empty(len(order), dtype=np.int64)  # of each episode, in the window
        np.add(order[:-1], base - window.origin, out=position[1:])
        position[firsts] = self.playing[slots] - window.origin
        flags = None
        if cut_at is not None:
            ended, cut = self.ended[1:].ravel(), self.cut[1:].ravel()
            flags = ended[cut_at].view(np.uint8) | (cut[cut_at].view(np.uint8) << 1)
        if schedule.started > schedule.stop:  # past the quota: played on, not reported
            keep = position < schedule.stop - window.origin
            position, steps = position[keep], steps[keep]
            sums = [(number, reward[keep]) for number, reward in sums]
            flags = None if flags is None else flags[keep]
            metrics = [values[keep] for values in metrics]
        window.steps[position] = steps
        if flags is not None:
            window.flags[position] = flags
            window.flagged = True
        for number, reward in sums:
            window.sums[number][position] = reward
        if metrics:  # the tally is active
            tally = self.tally
            for metric, values, boolean in zip(tally.metrics, metrics, tally.booleans, strict=True):
                window.metrics[metric.name][position] = values
                window.booleans[metric.name] = boolean

    def _paid(self, number: int, k: int, flat: np.ndarray) -> bool:
        """Whether every step of the block paid the same whole number in matrix `number`
        (steps that only reset a sub-environment, whose rewards do not count, may pay it or
        0); once one did not, the rows are summed from then on."""
        constant = self.constants[number]
        if constant is False:
            return False
        rows = self.matrices[number][1 : k + 1]
        window = self.schedule.window
        if constant is None:  # the first block: row 0 is every episode's first step
            value = float(rows[0, 0]) + 0.0  # never -0.0
            if not (value.is_integer() and abs(value) <= WHOLE_REWARDS):
                self.constants[number] = False
                return False
            self.constants[number] = constant = value
            window.per_step[number] = value  # none has ended yet
        other = np.count_nonzero(rows != constant)
        if other:
            resets = [rows[0, self.pending]]  # the rows that only reset a sub-environment
            if self.skip == 2:
                below_last = flat[: np.searchsorted(flat, (k - 1) * self.n)]
                resets.append(rows.ravel()[below_last + self.n])
            paid = np.concatenate(resets)
            differ = paid != constant
            if np.count_nonzero(differ) != other or paid[differ].any():
                self.constants[number] = False
                # what the current episodes earned so far: the number times their steps
                self.carries[number][:] = np.maximum(-self.start, 0) * constant + 0.0
                window.write_sums(number)
                return False
        return True

    def _carry_on(self, k: int, summed: list[int]) -> None:
        """Every episode goes on past the block (those that ended are mended after): with
        summed rows, each gained what its steps in the block (from row 1 for `pending`)
        paid."""
        pending = self.pending
        for number in summed:
            matrix, carry = self.matrices[number], self.carries[number]
            resumed = carry[pending] + (matrix[k, pending] - matrix[1, pending])
            carry += matrix[k]  # less row 0, which is zero
            carry[pending] = resumed
        self.start -= k
        self.pending = pending[:0]


def _row_by_row(
    acts: Sequence[Callable[[Any], Any]],
    env: gym.vector.VectorEnv[Any, Any, Any],
    reads: bool = True,
) -> Callable[[Any], Any]:
    """Act on a batch of observations with one agent per sub-environment (agents that do
    not read observations are not given them)."""
    action_space = env.single_action_space
    out: Any = gym.vector.utils.create_empty_array(action_space, env.num_envs)

    def act_batch(observations: Any) -> Any:
        rows = gym.vector.utils.iterate(env.observation_space, observations)
        actions = [act(row) for act, row in zip(acts, rows, strict=True)]
        return gym.vector.utils.concatenate(action_space, actions, out)

    def act_blind(observations: Any) -> Any:
        return gym.vector.utils.concatenate(action_space, [act(None) for act in acts], out)

    return act_batch if reads else act_blind
