"""The rollout loop: the one place in gymrun that steps an environment."""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Iterator, Sequence
from time import perf_counter
from typing import Any, NamedTuple, overload

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from gymrun.errors import RolloutError
from gymrun.spaces import space_label


class EpisodeResult(NamedTuple):
    """What one finished episode came to."""

    episode: int  # its index in the run, from 0
    seed: int | None  # the environment's reset seed; None in vector mode (seeded once per run)
    reward: float
    steps: int
    terminated: bool
    truncated: bool
    reached: bool | None  # reward >= the boundary; None when there is no boundary
    seconds: float  # wall time of the episode; nan in vector mode

    def to_json(self) -> dict[str, Any]:
        """The episode as ``--json`` and the recordings show it (timings left out)."""
        return {
            "episode": self.episode,
            "seed": self.seed,
            # NaN and infinities are not JSON: they are written as "nan", "inf", "-inf"
            "reward": self.reward if math.isfinite(self.reward) else str(self.reward),
            "steps": self.steps,
            "terminated": self.terminated,
            "truncated": self.truncated,
            "reached": self.reached,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EpisodeResult:
        """An episode read back from ``to_json`` form (its timing was not kept)."""
        return cls(
            data["episode"],
            data["seed"],
            float(data["reward"]),
            data["steps"],
            data["terminated"],
            data["truncated"],
            data["reached"],
            math.nan,
        )


class EpisodeBatch(Sequence[EpisodeResult]):
    """Consecutive episodes held as columns; `EpisodeResult`s are made only when asked for.

    Vector runs and worker processes produce episodes by the thousand: as arrays they cost
    next to nothing until someone reads them one by one.
    """

    __slots__ = (
        "episode",
        "reached",
        "reward",
        "seconds",
        "seed",
        "steps",
        "terminated",
        "truncated",
    )

    def __init__(
        self,
        episode: np.ndarray,
        reward: np.ndarray,
        steps: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        reward_boundary: float | None,
        seed: np.ndarray | None = None,
        seconds: np.ndarray | None = None,
    ) -> None:
        self.episode, self.reward, self.steps = episode, reward, steps
        self.terminated, self.truncated = terminated, truncated
        self.reached = None if reward_boundary is None else reward >= reward_boundary
        self.seed, self.seconds = seed, seconds

    @classmethod
    def of(cls, episodes: Sequence[EpisodeResult], reward_boundary: float | None) -> EpisodeBatch:
        """Columns of `episodes` (consecutive, in index order)."""
        episode, seed, reward, steps, terminated, truncated, _, seconds = (
            zip(*episodes, strict=True) if episodes else ([],) * 8
        )
        return cls(
            np.array(episode, dtype=np.int64),
            np.array(reward, dtype=np.float64),
            np.array(steps, dtype=np.int64),
            np.array(terminated, dtype=bool),
            np.array(truncated, dtype=bool),
            reward_boundary,
            None if None in seed else np.array(seed, dtype=np.int64),
            np.array(seconds, dtype=np.float64),
        )

    def __len__(self) -> int:
        return len(self.episode)

    def __iter__(self) -> Iterator[EpisodeResult]:
        count = len(self.episode)
        columns = (
            self.episode.tolist(),
            [None] * count if self.seed is None else self.seed.tolist(),
            self.reward.tolist(),
            self.steps.tolist(),
            self.terminated.tolist(),
            self.truncated.tolist(),
            [None] * count if self.reached is None else self.reached.tolist(),
            [math.nan] * count if self.seconds is None else self.seconds.tolist(),
        )
        return map(EpisodeResult._make, zip(*columns, strict=True))

    @overload
    def __getitem__(self, item: int) -> EpisodeResult: ...
    @overload
    def __getitem__(self, item: slice) -> list[EpisodeResult]: ...
    def __getitem__(self, item: int | slice) -> EpisodeResult | list[EpisodeResult]:
        if isinstance(item, slice):
            return list(self.slice(item.start, item.stop))
        position = range(len(self))[item]
        return next(iter(self.slice(position, position + 1)))

    def slice(self, start: int | None, stop: int | None) -> EpisodeBatch:
        """Episodes ``start:stop`` of this batch, still as columns (views, not copies)."""
        batch = EpisodeBatch.__new__(EpisodeBatch)
        for name in EpisodeBatch.__slots__:
            column = getattr(self, name)
            setattr(batch, name, None if column is None else column[start:stop])
        return batch


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


def rollout(
    env: gym.Env[Any, Any],
    agent: Any,
    *,
    seed: int,
    episodes: int,
    start: int = 0,
    reward_boundary: float | None = None,
    agent_name: str = "agent",
) -> Iterator[EpisodeResult]:
    """Run episodes ``start .. start + episodes - 1`` and yield each as soon as it ends.

    This and `rollout_vector` are the only code in gymrun that steps an environment.

    >>> from gymrun.agents import ConstantAgent
    >>> env = gym.make("CartPole-v1")
    >>> [r.steps for r in rollout(env, ConstantAgent(env.action_space, 0), seed=0, episodes=3)]
    [9, 10, 8]
    """
    act = agent.act
    if not getattr(agent, "actions_in_space", False):
        # Built-in agents' actions are in the space by construction; the others are checked.
        act = _checked(act, env.action_space, agent_name)
    reset_agent = getattr(agent, "reset", None)
    observe = getattr(agent, "observe", None)
    step = env.step
    seeds = EpisodeSeeds(seed)
    for index in range(start, start + episodes):
        env_seed, agent_seed = seeds[index]
        steps = 0
        try:
            started = perf_counter()
            observation, _ = env.reset(seed=env_seed)
            if reset_agent is not None:
                reset_agent(agent_seed)
            total = 0.0
            terminated = truncated = False
            while not (terminated or truncated):
                action = act(observation)
                next_observation, reward, terminated, truncated, _ = step(action)
                total += reward  # type: ignore[operator]
                steps += 1
                if observe is not None:
                    observe(observation, action, reward, next_observation, terminated, truncated)
                observation = next_observation
        except _ActionOutsideSpace as exc:
            raise RolloutError(
                f"episode {index}, step {steps}: {exc}", episode=index, step=steps
            ) from None
        except Exception as exc:
            raise RolloutError(
                f"episode {index}, step {steps}: {type(exc).__name__}: {exc} ({_origin(exc)})",
                episode=index,
                step=steps,
            ) from exc
        total = float(total)
        yield EpisodeResult(
            index,
            env_seed,
            total,
            steps,
            bool(terminated),
            bool(truncated),
            None if reward_boundary is None else total >= reward_boundary,
            perf_counter() - started,
        )


def rollout_vector(
    env: gym.vector.VectorEnv[Any, Any, Any],
    act_batch: Callable[[Any], Any],
    *,
    seed: int,
    episodes: int,
    reward_boundary: float | None = None,
    agent_name: str = "agent",
    check_actions: bool = False,
    on_episode_start: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> Iterator[EpisodeBatch]:
    """Run episodes ``0 .. episodes - 1`` on the sub-environments of `env`; yield them in
    index order, in batches.

    Episodes are numbered as they start (sub-environments starting in the same step in
    sub-environment order), and exactly the first `episodes` started are reported, each
    played to its end. Counting whichever episodes finish first instead would leave out the
    long ones. The work is all numpy per step; only finished episodes are touched one by one,
    and only when someone reads them. `on_episode_start(envs, indices)` is called with the
    sub-environments that start counted episodes.

    >>> from gymrun.agents import ConstantAgent
    >>> env = gym.make_vec("CartPole-v1", num_envs=4)
    >>> agent = ConstantAgent(env.single_action_space, 0, num_envs=4)
    >>> batches = list(rollout_vector(env, agent.act_batch, seed=0, episodes=6))
    >>> [int(i) for b in batches for i in b.episode], [int(s) for b in batches for s in b.steps]
    ([0, 1, 2, 3, 4, 5], [9, 8, 9, 11, 10, 9])
    """
    n = env.num_envs
    mode = AutoresetMode(env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP))
    if mode is AutoresetMode.DISABLED:
        raise RolloutError(
            f"{env} does not reset its sub-environments itself (autoreset disabled)",
            episode=0,
            step=0,
        )
    # Next-step autoreset (Gymnasium's default): the step after an episode ends only resets.
    next_step = mode is AutoresetMode.NEXT_STEP
    finished_parts = _FinishedEpisodes(reward_boundary)
    returns = np.zeros(n)
    began = np.zeros(n, dtype=np.int64)  # vector steps taken before each current episode
    playing = np.arange(n)  # the index of the episode each sub-environment is playing
    assigned = n  # the next index to hand out
    emitted = 0
    step = 0
    try:
        observations, _ = env.reset(seed=seed)
        if on_episode_start is not None:
            first = np.flatnonzero(playing < episodes)
            on_episode_start(first, playing[first])
        while emitted < episodes:
            actions = act_batch(observations)
            if check_actions and not env.action_space.contains(actions):
                raise _ActionOutsideSpace(
                    f"agent {agent_name} chose actions {actions!r}, which are not in the "
                    f"action space {space_label(env.action_space)}"
                )
            observations, rewards, terminated, truncated, _ = env.step(actions)
            step += 1
            returns += rewards
            finished = np.flatnonzero(terminated | truncated)
            if not finished.size:
                continue
            # Every array operation here touches only the sub-environments that finished.
            index, counted = playing[finished], finished
            if assigned > episodes:  # near the end, some play beyond the quota: not counted
                wanted = index < episodes
                index, counted = index[wanted], finished[wanted]
            finished_parts.add(
                index,
                returns[counted],
                step - began[counted],
                terminated[counted],
                truncated[counted],
            )
            returns[finished] = 0.0
            began[finished] = step + 1 if next_step else step
            starting = np.arange(assigned, assigned + finished.size)
            playing[finished] = starting
            assigned += finished.size
            if on_episode_start is not None and starting[0] < episodes:
                new = starting < episodes
                on_episode_start(finished[new], starting[new])
            if finished_parts.count >= n or assigned >= episodes:
                # Every index below the lowest still being played has finished.
                ready = min(int(playing.min()), episodes)
                if ready > emitted:
                    yield finished_parts.take(ready)
                    emitted = ready
    except _ActionOutsideSpace as exc:
        raise RolloutError(f"vector step {step}: {exc}", episode=emitted, step=step) from None
    except Exception as exc:
        raise RolloutError(
            f"vector step {step}, episodes from {emitted}: {type(exc).__name__}: {exc} "
            f"({_origin(exc)})",
            episode=emitted,
            step=step,
        ) from exc


class _FinishedEpisodes:
    """Finished episodes of a vector run, held until they can be yielded in index order."""

    def __init__(self, reward_boundary: float | None) -> None:
        self.reward_boundary = reward_boundary
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.count = 0

    def add(self, *columns: np.ndarray) -> None:
        self.parts.append(columns)
        self.count += len(columns[0])

    def take(self, stop: int) -> EpisodeBatch:
        """The held episodes below index `stop` (all of which have finished), in order;
        the others stay held."""
        columns = [np.concatenate(column) for column in zip(*self.parts, strict=True)]
        order = np.argsort(columns[0], kind="stable")
        index, reward, steps, terminated, truncated = (column[order] for column in columns)
        taken = int(np.searchsorted(index, stop))
        rest = (index[taken:], reward[taken:], steps[taken:], terminated[taken:], truncated[taken:])
        self.parts = [rest] if taken < len(index) else []
        self.count = len(index) - taken
        return EpisodeBatch(
            index[:taken],
            reward[:taken],
            steps[:taken],
            terminated[:taken],
            truncated[:taken],
            self.reward_boundary,
        )


class _ActionOutsideSpace(Exception):
    pass


def _checked(
    act: Callable[[Any], Any], space: gym.Space[Any], agent_name: str
) -> Callable[[Any], Any]:
    """`act`, with every action checked against `space` before it reaches the env."""
    contains = space.contains

    def checked_act(observation: Any) -> Any:
        action = act(observation)
        if not contains(action):
            raise _ActionOutsideSpace(
                f"agent {agent_name} chose action {action!r}, "
                f"which is not in the action space {space_label(space)}"
            )
        return action

    return checked_act


def _origin(exc: BaseException) -> str:
    """Where `exc` was raised, so the message tells the env's fault from the agent's."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "raised outside Python"
    frame = frames[-1]
    return f"raised in {frame.name} at {frame.filename}:{frame.lineno}"
