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
from gymrun.core.schedule import Schedule, rollout_error
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
                terminated = truncated = False
                # A sum of numpy rewards past the largest float is infinite, reported as a
                # non-finite reward, without numpy's warning (once per episode: it costs).
                with np.errstate(over="ignore", invalid="ignore"):
                    if observe is None:
                        while not (terminated or truncated):
                            observation, reward, terminated, truncated, _ = step(act(observation))
                            total += reward
                            steps += 1
                    else:
                        while not (terminated or truncated):
                            action = act(observation)
                            following, reward, terminated, truncated, _ = step(action)
                            total += reward
                            steps += 1
                            observe(observation, action, reward, following, terminated, truncated)
                            observation = following
                result = (float(total), bool(terminated), bool(truncated))
                env_return = None if meter is None or not steps else meter.total - start
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
            )


class ResettingVectorStepper:
    """A vector env with autoreset disabled: gymrun resets each finished sub-environment
    with the seed of the episode it starts next."""

    def __init__(self, env: gym.vector.VectorEnv[Any, Any, Any], policy: Policy) -> None:
        self.env, self.policy = env, policy

    def run(self, schedule: Schedule) -> Iterator[Episodes]:
        env, policy = self.env, self.policy
        n = env.num_envs
        act_batch = _row_by_row(policy.acts, env)
        playing: list[tuple[int, int]] = [(0, 0)] * n  # (index, env seed) per sub-environment
        seeds: list[int | None] = [None] * n
        returns = np.zeros(n)
        lengths = np.zeros(n, dtype=np.int64)
        step = 0
        try:
            for slot in range(n):
                seeds[slot] = self._begin(schedule, slot, playing)
            observations, _ = env.reset(seed=seeds)  # type: ignore[arg-type]  # a seed per env
            while not schedule.done:
                observations, rewards, terminated, truncated, infos = env.step(
                    act_batch(observations)
                )
                step += 1
                with np.errstate(over="ignore", invalid="ignore"):  # an infinite sum is reported
                    returns += rewards
                lengths += 1
                ended = terminated | truncated
                if not ended.any():
                    continue
                finished: list[EpisodeResult] = []
                seeds = [None] * n
                # with wrappers, each sub-environment's own return (see `SingleStepper`)
                env_returns = infos.get(ENV_RETURN)
                for slot in np.flatnonzero(ended).tolist():
                    index, env_seed = playing[slot]
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
                    )
                    seeds[slot] = self._begin(schedule, slot, playing)
                returns[ended] = 0.0
                lengths[ended] = 0
                observations, _ = env.reset(
                    seed=seeds,  # type: ignore[arg-type]  # a seed per env
                    options={"reset_mask": ended},
                )
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
        act_batch = policy.act_batch if policy.batched else _row_by_row(policy.acts, env)
        # Agents of their own per sub-environment are reset as their episodes start: every
        # step is then a block, so that none acts before its reset.
        per_slot_resets = policy.resets and not policy.batched
        block = 1 if per_slot_resets else min(BLOCK_STEPS, max(1, BLOCK_VALUES // n))
        # with wrappers, the environment's own rewards beneath them, per step
        tap = find_reward_tap(env)
        state = _Carry(n, schedule.start_many(n), tap is not None)
        ends_per_step = n / 16  # a first guess, replaced by what each block shows
        step = 0
        step_env = env.step
        try:
            observations, _ = env.reset(seed=schedule.run_seed)
            for slot, index in enumerate(state.playing[: 1 if policy.batched else n].tolist()):
                policy.reset(slot, schedule.seeds[index][1])
            while not schedule.done:
                # Stop short of overshooting the quota: a long block at its end would step
                # on after the last episode it waits for has ended.
                to_start = schedule.stop - schedule.started
                steps = min(block, max(TAIL_STEPS, int(to_start / ends_per_step)))
                if not schedule.wanted:
                    steps = min(block, TAIL_STEPS)
                rewards: list[Any] = []
                terminated: list[Any] = []
                truncated: list[Any] = []
                env_rewards: list[Any] = []
                for _ in range(steps):
                    observations, reward, ended, cut, _ = step_env(act_batch(observations))
                    if rewards and reward is rewards[-1]:  # an env that reuses its arrays
                        reward, ended, cut = reward.copy(), ended.copy(), cut.copy()
                    rewards.append(reward)
                    terminated.append(ended)
                    truncated.append(cut)
                    if tap is not None:
                        own = tap.rewards
                        if env_rewards and own is env_rewards[-1]:  # reused, as above
                            own = own.copy()
                        env_rewards.append(own)
                step += steps
                # Sums past the largest float are infinite (inf - inf, NaN), reported as
                # non-finite rewards without numpy's warnings.
                with np.errstate(over="ignore", invalid="ignore"):
                    slots, numbers = self._account(
                        schedule,
                        state,
                        rewards,
                        terminated,
                        truncated,
                        None if tap is None else env_rewards,
                    )
                ends_per_step = max(len(slots) / steps, 1 / steps)
                if per_slot_resets:
                    for slot, index in zip(slots.tolist(), numbers.tolist(), strict=True):
                        policy.reset(slot, schedule.seeds[index][1])
                batch = schedule.ready(int(state.playing.min()))
                if batch is not None:
                    yield batch
        except _PASSED_ON:
            raise
        except BaseException as exc:
            where = f"vector step {step}, episodes from {schedule.emitted}"
            raise rollout_error(exc, where, episode=schedule.emitted, step=step) from exc

    def _account(
        self,
        schedule: Schedule,
        state: _Carry,
        rewards: list[Any],
        terminated: list[Any],
        truncated: list[Any],
        env_rewards: list[Any] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Find the episodes that ended in a block of steps, report them to `schedule`, and
        number the episodes that started; returns ``(sub-environments, numbers)`` of those.
        `env_rewards`, when the config has wrappers, are the environment's own rewards
        beneath them: the episodes' rewards, `rewards` their shaped rewards.

        Every operation is one numpy call over the block or over the episodes that ended in
        it, never a Python loop over either.
        """
        k, n, skip = len(rewards), state.n, self.skip
        ended_t = np.array(terminated)
        cut_t = np.array(truncated)
        cumulative = _cumulative(rewards, n)
        own = None if env_rewards is None else _cumulative(env_rewards, n)
        flat = np.flatnonzero(ended_t | cut_t)  # row * n + sub-environment of each end
        if not len(flat):
            state.carry_all(k, cumulative, own)
            return flat, flat
        slots = flat % n
        # Grouped by sub-environment (a stable sort of small integers is a radix sort,
        # linear in the ends), each end closes the episode begun at the one before.
        order = np.argsort(slots.astype(np.int16 if n < 2**15 else np.int32), kind="stable")
        at = flat[order]
        slot = slots[order]
        row = at // n
        later = np.empty(len(at), dtype=bool)  # not the sub-environment's first end
        later[0] = False
        np.equal(slot[1:], slot[:-1], out=later[1:])
        first = ~later
        start_row = np.empty_like(row)
        start_row[1:] = row[:-1] + skip
        first_slots = slot[first]
        start_row[first] = state.pending[first_slots]
        begin = start_row * n + slot
        reward = cumulative.ravel()[at + n] - cumulative.ravel()[begin]
        reward[first] += state.reward[first_slots]
        if own is not None:
            env_reward = own.ravel()[at + n] - own.ravel()[begin]
            env_reward[first] += state.env_reward[first_slots]
        steps = row + 1 - start_row
        steps[first] += state.steps[first_slots]
        # In start order (row, then sub-environment) the new episodes take the next numbers:
        # the end at row-major position j starts episode `base + j`.
        base = schedule.started
        numbers = schedule.start_many(len(at))
        index = np.empty_like(row)
        index[1:] = order[:-1] + base
        index[first] = state.playing[first_slots]
        ended, cut = ended_t.ravel()[at], cut_t.ravel()[at]
        if own is None:
            schedule.finish_many(index, reward, steps, ended, cut)
        else:
            schedule.finish_many(index, env_reward, steps, ended, cut, shaped_reward=reward)
        last = np.append(first[1:], True)
        state.carry_all(k, cumulative, own)
        state.restart(k, slot[last], row[last] + skip, order[last] + base, cumulative, own)
        return slots, numbers


def _cumulative(rewards: list[Any], n: int) -> np.ndarray:
    """Cumulative reward per sub-environment within a block: row j holds steps < j."""
    cumulative = np.empty((len(rewards) + 1, n))
    cumulative[0] = 0.0
    for step, reward in enumerate(rewards):
        np.add(cumulative[step], reward, out=cumulative[step + 1])
    return cumulative


class _Carry:
    """What each sub-environment's current episode has gathered in earlier blocks."""

    def __init__(self, n: int, playing: np.ndarray, env_rewards: bool = False) -> None:
        self.n = n
        self.every = np.arange(n)
        self.playing = playing  # the episode each sub-environment plays
        self.reward = np.zeros(n)
        self.env_reward = np.zeros(n if env_rewards else 0)  # beneath the wrappers
        self.steps = np.zeros(n, dtype=np.int64)
        # 1 where the block's first step is the reset step after an episode ended
        self.pending = np.zeros(n, dtype=np.int64)

    def carry_all(self, k: int, cumulative: np.ndarray, own: np.ndarray | None = None) -> None:
        """A block of `k` steps in which no episode ended (`restart` then mends those in
        which one did); `own` is the environment's rewards beneath the wrappers."""
        self.reward += cumulative[k] - cumulative[self.pending, self.every]
        if own is not None:
            self.env_reward += own[k] - own[self.pending, self.every]
        self.steps += k - self.pending
        self.pending[:] = 0

    def restart(
        self,
        k: int,
        slots: np.ndarray,
        start: np.ndarray,
        numbers: np.ndarray,
        cumulative: np.ndarray,
        own: np.ndarray | None = None,
    ) -> None:
        """`slots` went on with episodes `numbers`, whose first step is on row `start` (the
        next block's when ``start >= k``)."""
        inside = np.minimum(start, k)
        self.reward[slots] = cumulative[k, slots] - cumulative[inside, slots]
        if own is not None:
            self.env_reward[slots] = own[k, slots] - own[inside, slots]
        self.steps[slots] = k - inside
        self.pending[slots] = start > k
        self.playing[slots] = numbers


def _row_by_row(
    acts: Sequence[Callable[[Any], Any]], env: gym.vector.VectorEnv[Any, Any, Any]
) -> Callable[[Any], Any]:
    """Act on a batch of observations with one agent per sub-environment."""
    action_space = env.single_action_space
    out: Any = gym.vector.utils.create_empty_array(action_space, env.num_envs)

    def act_batch(observations: Any) -> Any:
        rows = gym.vector.utils.iterate(env.observation_space, observations)
        actions = [act(row) for act, row in zip(acts, rows, strict=True)]
        return gym.vector.utils.concatenate(action_space, actions, out)

    return act_batch
