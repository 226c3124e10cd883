"""A config made real: the environment and its wrapper stack, the agent, the episodes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import load_env_creator

from gymrun.agents import make_agent
from gymrun.catalog import find_spec
from gymrun.config import ExperimentConfig
from gymrun.doctor import install_hint
from gymrun.errors import AgentError, GymrunError
from gymrun.recordings import VIDEO_DIR, RunRecorder
from gymrun.rollout import EpisodeBatch, EpisodeResult, EpisodeSeeds, rollout, rollout_vector
from gymrun.signals import InterruptGuard
from gymrun.summary import Summary, SummaryBuilder
from gymrun.vector import make_vector_env, row_by_row
from gymrun.video import EpisodeVideo, video_writer_class
from gymrun.wrappers import apply_wrappers


def resolve_config(config: ExperimentConfig) -> ExperimentConfig:
    """Fill in what the config left open: a drawn seed and the spec's reward boundary.

    >>> from gymrun.config import ExperimentConfig
    >>> resolved = resolve_config(ExperimentConfig(env={"id": "CartPole-v1"}, seed=3))
    >>> resolved.seed, resolved.reward_boundary
    (3, 475.0)
    """
    update: dict[str, Any] = {}
    if config.seed is None:
        update["seed"] = secrets.randbelow(2**31)
    if config.reward_boundary is None:
        update["reward_boundary"] = find_spec(config.env.id).reward_threshold
    return config.model_copy(update=update)


def unbounded_episodes_warning(config: ExperimentConfig) -> str | None:
    """A warning when nothing limits an episode's length: neither the env spec, nor
    ``env.max_episode_steps``, nor ``max_steps``.

    >>> from gymrun.config import ExperimentConfig
    >>> print(unbounded_episodes_warning(ExperimentConfig(env={"id": "Blackjack-v1"}))[:47])
    Blackjack-v1 sets no limit on episode length an
    >>> unbounded_episodes_warning(ExperimentConfig(env={"id": "Blackjack-v1"}, max_steps=100))
    """
    limits = (
        find_spec(config.env.id).max_episode_steps,
        config.env.max_episode_steps,
        config.max_steps,
    )
    if any(limit is not None for limit in limits):
        return None
    return (
        f"{config.env.id} sets no limit on episode length and neither does the config: an "
        "episode that never ends would run forever (set max_steps to cap it)"
    )


def make_env(config: ExperimentConfig, video_dir: Path | None = None) -> Any:
    """Make the config's environment wrapped in its wrapper stack.

    A config with a ``vector`` section makes a vector env. When the config records video,
    the environment renders ``rgb_array`` frames, and with a `video_dir` the chosen episodes
    are written there.
    """
    options: dict[str, Any] = dict(config.env.kwargs)
    if config.env.max_episode_steps is not None:
        options["max_episode_steps"] = config.env.max_episode_steps
    if config.vector is not None:
        return _make_vector_env(config, options)
    if config.record.video:
        _check_video(config)
        options["render_mode"] = "rgb_array"
    try:
        env = gym.make(config.env.id, **options)
    except Exception as exc:
        raise GymrunError(
            f"env: cannot make {config.env.id}: {type(exc).__name__}: {exc}{install_hint(exc)}"
        ) from exc
    try:
        env = apply_wrappers(env, config.wrapper_stack)
        if config.max_steps is not None:  # outermost, so it cuts what the agent sees
            env = gym.wrappers.TimeLimit(env, config.max_steps)
        if config.record.video and video_dir is not None:
            env = EpisodeVideo(env, video_dir, config.record.wants, fps=config.record.fps)
    except GymrunError:
        env.close()
        raise
    return env


def _make_vector_env(config: ExperimentConfig, options: dict[str, Any]) -> Any:
    if config.max_steps is not None:  # the vector env truncates its sub-environments itself
        limit = options.get("max_episode_steps") or find_spec(config.env.id).max_episode_steps
        options["max_episode_steps"] = min(config.max_steps, limit or config.max_steps)
    assert config.vector is not None and config.vector_mode is not None
    return make_vector_env(
        config.env.id, config.vector.num_envs, config.vector_mode, options, config.wrapper_stack
    )


def _check_video(config: ExperimentConfig) -> None:
    """Fail before anything runs if video cannot be recorded: no extra, or no frames."""
    video_writer_class()
    requested = config.env.kwargs.get("render_mode", "rgb_array")
    if requested != "rgb_array":
        raise GymrunError(
            "record.video needs render_mode 'rgb_array', "
            f"but env.kwargs.render_mode is {requested!r}"
        )
    entry_point = find_spec(config.env.id).entry_point
    creator: Any = load_env_creator(entry_point) if isinstance(entry_point, str) else entry_point
    modes = list(getattr(creator, "metadata", {}).get("render_modes", []))
    if "rgb_array" not in modes:
        raise GymrunError(
            f"record.video: {config.env.id} cannot render rgb_array frames "
            f"(its render modes: {', '.join(modes) or 'none'})"
        )
    # Rendering to arrays needs no display or sound; keep SDL from looking for either.
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


class Experiment:
    """An experiment ready to run; iterate `episodes()` to run it, episode by episode.

    With a ``vector`` section the environment is a vector env and episodes come in batches;
    with `workers` > 1 episodes are run in that many processes, in chunks, and come back in
    order, identical to a run in one process (each episode keeps its own seed).

    >>> from gymrun.config import load_config
    >>> with Experiment(load_config("configs/cartpole_balance.yaml", episodes=2, seed=0)) as exp:
    ...     [(e.reward, e.truncated) for e in exp.episodes()]
    [(500.0, True), (500.0, True)]
    """

    def __init__(
        self, config: ExperimentConfig, video_dir: Path | None = None, workers: int = 1
    ) -> None:
        self.seed_drawn = config.seed is None
        self.config = resolve_config(config)
        self.video_dir = video_dir
        self.workers = workers
        if workers > 1 and config.vector is not None:
            raise GymrunError(
                "--workers splits episodes across processes, vector runs them in one batch: "
                "use one or the other"
            )
        self.env: Any = make_env(self.config, video_dir)
        try:
            self.agent = self._make_agent()
        except BaseException:
            self.env.close()
            raise

    def _make_agent(self) -> Any:
        vector = self.config.vector is not None
        env = self.env
        agent = make_agent(
            self.config.agent.name,
            self.config.agent_options,
            env.single_action_space if vector else env.action_space,
            env.single_observation_space if vector else env.observation_space,
            num_envs=env.num_envs if vector else 1,
        )
        if hasattr(agent, "observe") and (vector or self.workers > 1):
            how = "a vector run" if vector else "worker processes"
            raise AgentError(
                f"agent {self.config.agent.name} learns from its steps (it has observe), so it "
                f"cannot be spread over {how}: run it in one process without vector"
            )
        return agent

    def episodes(self, start: int = 0, count: int | None = None) -> Iterator[EpisodeResult]:
        """Run episodes `start` .. `start + count - 1` (default: all the config asks for)."""
        for batch in self.batches(start, count):
            yield from batch

    def batches(
        self, start: int = 0, count: int | None = None
    ) -> Iterator[Sequence[EpisodeResult]]:
        """Like `episodes`, in the batches the episodes are produced in (one at a time for a
        single env; rounds of ``num_envs`` for a vector run; chunks from worker processes)."""
        config = self.config
        assert config.seed is not None  # resolve_config drew one
        count = config.episodes - start if count is None else count
        if self.workers > 1:
            from gymrun.workers import run_in_workers

            yield from run_in_workers(config, self.video_dir, start, count, self.workers)
        elif config.vector is not None:
            if start:
                raise GymrunError("a vector run always starts at episode 0")
            yield from self._vector_batches(count)
        else:
            if isinstance(self.env, EpisodeVideo):
                self.env.next_episode = start
            for episode in rollout(
                self.env,
                self.agent,
                seed=config.seed,
                episodes=count,
                start=start,
                reward_boundary=config.reward_boundary,
                agent_name=config.agent.name,
            ):
                yield (episode,)

    def _vector_batches(self, count: int) -> Iterator[EpisodeBatch]:
        config, env, agent = self.config, self.env, self.agent
        assert config.seed is not None
        seeds = EpisodeSeeds(config.seed)
        on_episode_start = None
        if hasattr(agent, "act_batch"):
            act_batch = agent.act_batch
            if hasattr(agent, "reset"):
                agent.reset(seeds[0][1])
        else:  # one copy of a per-observation agent for each sub-environment
            agents = [agent] + [self._make_agent() for _ in range(env.num_envs - 1)]
            act_batch = row_by_row(agents, env)
            resets = [getattr(a, "reset", None) for a in agents]

            def on_episode_start(envs: np.ndarray, indices: np.ndarray) -> None:
                for j, index in zip(envs.tolist(), indices.tolist(), strict=True):
                    if resets[j] is not None:
                        resets[j](seeds[index][1])

        return rollout_vector(
            env,
            act_batch,
            seed=config.seed,
            episodes=count,
            reward_boundary=config.reward_boundary,
            agent_name=config.agent.name,
            check_actions=not getattr(agent, "actions_in_space", False),
            on_episode_start=on_episode_start,
        )

    def close(self) -> None:
        self.env.close()

    def __enter__(self) -> Experiment:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced, also when it did not complete."""

    config: ExperimentConfig  # resolved: seed and reward boundary filled in
    episodes: list[EpisodeResult]  # empty when the run was asked not to keep them
    summary: Summary
    status: str = "completed"  # or "interrupted" (Ctrl-C) or "failed" (see `error`)
    error: GymrunError | None = None
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The object ``gymrun run --json`` prints."""
        return {
            "config": self.config.to_json(),
            "episodes": [episode.to_json() for episode in self.episodes],
            "summary": self.summary.to_json(),
            "status": self.status,
            "error": None if self.error is None else str(self.error),
            "run_dir": None if self.run_dir is None else str(self.run_dir),
        }


def run_experiment(
    config: ExperimentConfig,
    *,
    record_dir: Path | None = None,
    keep_episodes: bool = True,
    on_episodes: Callable[[Sequence[EpisodeResult]], None] | None = None,
    command: Sequence[str] | None = None,
    workers: int = 1,
) -> RunResult:
    """Run every episode of `config`; return the episodes, their summary and how it ended.

    With `record_dir` (an existing, empty directory: see `gymrun.recordings.new_run_dir`) the
    run is recorded there as it goes. If the env or agent raises, or on Ctrl-C, the episodes
    that finished are kept and the result says "failed" or "interrupted"; it is not raised.
    `on_episodes` is called with each batch of episodes as it finishes (one episode at a time
    in a single-env run); `keep_episodes=False` keeps memory flat for long runs. `workers`
    processes share the episodes, with results identical to one process.

    >>> from gymrun.config import load_config
    >>> result = run_experiment(load_config("configs/cartpole_random.yaml", episodes=5, seed=0))
    >>> [e.steps for e in result.episodes], result.summary.mean_steps, result.status
    ([26, 11, 39, 20, 10], 21.2, 'completed')
    """
    video_dir = None if record_dir is None else record_dir / VIDEO_DIR
    with Experiment(config, video_dir, workers) as experiment:
        resolved = experiment.config
        recorder = (
            None if record_dir is None else RunRecorder(record_dir, resolved.to_json(), command)
        )
        builder = SummaryBuilder(resolved.reward_boundary)
        episodes: list[EpisodeResult] = []
        status, error = "completed", None
        try:
            with InterruptGuard() as guard:
                for batch in experiment.batches():
                    guard.hold()  # the record and the summary take each batch together
                    if recorder is not None:
                        recorder.add_all(batch)
                    builder.add_all(batch)
                    if keep_episodes:
                        episodes.extend(batch)
                    guard.release()
                    if on_episodes is not None:
                        on_episodes(batch)
        except KeyboardInterrupt:
            status = "interrupted"
        except GymrunError as exc:
            status, error = "failed", exc
        except OSError as exc:  # the record itself could not be written (disk full, ...)
            status, error = "failed", GymrunError(f"cannot write the run record: {exc}")
        summary = builder.summary()
    notes = (
        []
        if recorder is None
        else recorder.finish(summary, status, None if error is None else str(error))
    )
    return RunResult(resolved, episodes, summary, status, error, record_dir, notes)
