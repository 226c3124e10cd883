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

from gymrun.components.policy import Policy
from gymrun.core.episodes import EpisodeResult
from gymrun.core.schedule import Schedule, rollout_error
from gymrun.errors import RolloutError

Episodes = Sequence[EpisodeResult]

# Steps per block of the autoreset stepper: enough to spread numpy's per-call cost, few
# enough that a block of every array the env returns stays in the CPU's cache.
BLOCK_STEPS = 64
BLOCK_VALUES = 1 << 18


class SingleStepper:
    """Episodes of one environment, one after another."""

    def __init__(self, env: gym.Env[Any, Any], policy: Policy) -> None:
        self.env, self.policy = env, policy

    def run(self, schedule: Schedule) -> Iterator[Episodes]:
        step, reset = self.env.step, self.env.reset
        act, observe = self.policy.act, self.policy.observe
        reset_agent = self.policy.reset_of(0)
        while schedule.wanted:
            index, env_seed, agent_seed = schedule.start()
            steps = 0
            try:
                started = perf_counter()
                observation, _ = reset(seed=env_seed)
                if reset_agent is not None:
                    reset_agent(agent_seed)
                total = 0.0
                terminated = truncated = False
                if observe is None:
                    while not (terminated or truncated):
                        observation, reward, terminated, truncated, _ = step(act(observation))
                        total += reward  # type: ignore[operator]
                        steps += 1
                else:
                    while not (terminated or truncated):
                        action = act(observation)
                        following, reward, terminated, truncated, _ = step(action)
                        total += reward  # type: ignore[operator]
                        steps += 1
                        observe(observation, action, reward, following, terminated, truncated)
                        observation = following
            except Exception as exc:
                where = f"episode {index}, step {steps}"
                raise rollout_error(exc, where, episode=index, step=steps) from exc
            yield schedule.finish(
                index,
                env_seed,
                float(total),
                steps,
                bool(terminated),
                bool(truncated),
                perf_counter() - started,
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
                observations, rewards, terminated, truncated, _ = env.step(act_batch(observations))
                step += 1
                returns += rewards
                lengths += 1
                ended = terminated | truncated
                if not ended.any():
                    continue
                finished: list[EpisodeResult] = []
                seeds = [None] * n
                for slot in np.flatnonzero(ended).tolist():
                    index, env_seed = playing[slot]
                    finished += schedule.finish(
                        index,
                        env_seed,
                        float(returns[slot]),
                        int(lengths[slot]),
                        bool(terminated[slot]),
                        bool(truncated[slot]),
                        math.nan,
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
        except RolloutError:
            raise
        except Exception as exc:
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
        # resets; its reward and its step do not count.
        self.next_step = mode is AutoresetMode.NEXT_STEP

    def run(self, schedule: Schedule) -> Iterator[Episodes]:
        env, policy, n = self.env, self.policy, self.env.num_envs
        act_batch = policy.act_batch if policy.batched else _row_by_row(policy.acts, env)
        # Agents of their own per sub-environment are reset as their episodes start: every
        # step is then a block, so that none acts on before its reset.
        block = 1 if policy.resets and not policy.batched else max(1, BLOCK_VALUES // n)
        block = min(block, BLOCK_STEPS)
        state = _Carry(n, schedule.start_many(n))
        step = 0
        step_env = env.step
        try:
            observations, _ = env.reset(seed=schedule.run_seed)
            if policy.batched:
                policy.reset(0, schedule.seeds[schedule.first][1])
            else:
                for slot, index in enumerate(state.playing.tolist()):
                    policy.reset(slot, schedule.seeds[index][1])
            while not schedule.done:
                rewards: list[Any] = []
                terminated: list[Any] = []
                truncated: list[Any] = []
                # Once every episode of the quota has started, only the last ones are
                # awaited: a block of one step stops the run as soon as they end.
                steps = block if schedule.wanted else 1
                for _ in range(steps):
                    observations, reward, ended, cut, _ = step_env(act_batch(observations))
                    if rewards and reward is rewards[-1]:  # an env that reuses its arrays
                        reward, ended, cut = reward.copy(), ended.copy(), cut.copy()
                    rewards.append(reward)
                    terminated.append(ended)
                    truncated.append(cut)
                step += steps
                started = self._account(schedule, state, rewards, terminated, truncated)
                if started is not None and not policy.batched:
                    slots, indices = started
                    for slot, index in zip(slots.tolist(), indices.tolist(), strict=True):
                        policy.reset(slot, schedule.seeds[index][1])
                batch = schedule.ready(int(state.playing.min()))
                if batch is not None:
                    yield batch
        except RolloutError:
            raise
        except Exception as exc:
            where = f"vector step {step}, episodes from {schedule.emitted}"
            raise rollout_error(exc, where, episode=schedule.emitted, step=step) from exc

    def _account(
        self,
        schedule: Schedule,
        state: _Carry,
        rewards: list[Any],
        terminated: list[Any],
        truncated: list[Any],
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Find the episodes that ended in a block of steps, report them to `schedule`,
        number the episodes that started; returns ``(sub-environments, numbers)`` of those."""
        k, n = len(rewards), state.n
        ended_t = np.stack(terminated)
        cut_t = np.stack(truncated)
        ended = ended_t | cut_t
        # cumulative reward per sub-environment within the block: row j holds steps < j
        cumulative = np.empty((k + 1, n))
        cumulative[0] = 0.0
        for step, reward in enumerate(rewards):
            np.add(cumulative[step], reward, out=cumulative[step + 1])
        flat = np.flatnonzero(ended)
        skip = 2 if self.next_step else 1  # rows from one episode's end to the next's start
        if not len(flat):
            state.advance_all(cumulative, k, self.next_step)
            return None
        rows: np.ndarray
        slots: np.ndarray
        rows, slots = np.divmod(flat, n)
        # In start order (row, then sub-environment) the new episodes take the next numbers;
        # grouped by sub-environment, each event ends the episode begun at the one before.
        order = np.argsort(slots, kind="stable")
        row, slot = rows[order], slots[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = slot[1:] != slot[:-1]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = first[1:]
        previous_row = np.empty_like(row)
        previous_row[1:] = row[:-1]
        start_row = np.where(first, state.pending[slot], previous_row + skip)
        reward = cumulative[row + 1, slot] - cumulative[start_row, slot]
        steps = row + 1 - start_row
        reward[first] += state.reward[slot[first]]
        steps[first] += state.steps[slot[first]]
        numbers = schedule.start_many(len(order))
        previous_number = np.empty_like(order)
        previous_number[1:] = numbers[order[:-1]]
        index = np.where(first, state.playing[slot], previous_number)
        schedule.finish_many(index, reward, steps, ended_t[row, slot], cut_t[row, slot])
        state.advance(cumulative, k, slot[last], row[last], numbers[order[last]], skip)
        return slots, numbers


class _Carry:
    """What each sub-environment's current episode has gathered in earlier blocks."""

    def __init__(self, n: int, playing: np.ndarray) -> None:
        self.n = n
        self.playing = playing  # the episode each sub-environment plays
        self.reward = np.zeros(n)
        self.steps = np.zeros(n, dtype=np.int64)
        # 1 where the block's first step is the reset step after an episode ended
        self.pending = np.zeros(n, dtype=np.int64)

    def advance_all(self, cumulative: np.ndarray, k: int, next_step: bool) -> None:
        """A block of `k` steps in which no episode ended."""
        self.reward += cumulative[k] - cumulative[self.pending, np.arange(self.n)]
        self.steps += k - self.pending
        self.pending[:] = 0

    def advance(
        self,
        cumulative: np.ndarray,
        k: int,
        slots: np.ndarray,
        last_rows: np.ndarray,
        numbers: np.ndarray,
        skip: int,
    ) -> None:
        """A block of `k` steps in which `slots` ended episodes, the last at `last_rows`,
        and went on with episodes `numbers`."""
        quiet = np.ones(self.n, dtype=bool)
        quiet[slots] = False
        self.reward[quiet] += cumulative[k, quiet] - cumulative[self.pending[quiet], quiet]
        self.steps[quiet] += k - self.pending[quiet]
        self.pending[quiet] = 0
        start = last_rows + skip  # the row the new episode's first step is on
        inside = start <= k
        self.reward[slots] = np.where(
            inside, cumulative[k, slots] - cumulative[np.minimum(start, k), slots], 0.0
        )
        self.steps[slots] = np.maximum(k - start, 0)
        self.pending[slots] = (start - k).clip(0, 1)
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
