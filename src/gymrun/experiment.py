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
from gymnasium.envs.registration import load_env_creator

from gymrun.agents import make_agent
from gymrun.catalog import find_spec
from gymrun.config import ExperimentConfig
from gymrun.errors import GymrunError
from gymrun.recordings import VIDEO_DIR, RunRecorder
from gymrun.rollout import EpisodeResult, rollout
from gymrun.summary import Summary, SummaryBuilder
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


def make_env(config: ExperimentConfig, video_dir: Path | None = None) -> gym.Env[Any, Any]:
    """Make the config's environment wrapped in its wrapper stack.

    When the config records video, the environment renders ``rgb_array`` frames, and with a
    `video_dir` the chosen episodes are written there.
    """
    options: dict[str, Any] = dict(config.env.kwargs)
    if config.env.max_episode_steps is not None:
        options["max_episode_steps"] = config.env.max_episode_steps
    if config.record.video:
        _check_video(config)
        options["render_mode"] = "rgb_array"
    try:
        env = gym.make(config.env.id, **options)
    except Exception as exc:
        raise GymrunError(f"env: cannot make {config.env.id}: {type(exc).__name__}: {exc}") from exc
    try:
        env = apply_wrappers(env, config.wrapper_stack)
        if config.record.video and video_dir is not None:
            env = EpisodeVideo(env, video_dir, config.record.wants, fps=config.record.fps)
    except GymrunError:
        env.close()
        raise
    return env


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

    >>> from gymrun.config import load_config
    >>> with Experiment(load_config("configs/cartpole_balance.yaml", episodes=2, seed=0)) as exp:
    ...     [(e.reward, e.truncated) for e in exp.episodes()]
    [(500.0, True), (500.0, True)]
    """

    def __init__(self, config: ExperimentConfig, video_dir: Path | None = None) -> None:
        self.seed_drawn = config.seed is None
        self.config = resolve_config(config)
        self.env = make_env(self.config, video_dir)
        try:
            self.agent = make_agent(
                self.config.agent.name,
                self.config.agent_options,
                self.env.action_space,
                self.env.observation_space,
            )
        except BaseException:
            self.env.close()
            raise

    def episodes(self, start: int = 0, count: int | None = None) -> Iterator[EpisodeResult]:
        """Run episodes `start` .. `start + count - 1` (default: all the config asks for)."""
        assert self.config.seed is not None  # resolve_config drew one
        if isinstance(self.env, EpisodeVideo):
            self.env.next_episode = start
        return rollout(
            self.env,
            self.agent,
            seed=self.config.seed,
            episodes=self.config.episodes - start if count is None else count,
            start=start,
            reward_boundary=self.config.reward_boundary,
            max_steps=self.config.max_steps,
            agent_name=self.config.agent.name,
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
    on_episode: Callable[[EpisodeResult], None] | None = None,
    command: Sequence[str] | None = None,
) -> RunResult:
    """Run every episode of `config`; return the episodes, their summary and how it ended.

    With `record_dir` (an existing, empty directory: see `gymrun.recordings.new_run_dir`) the
    run is recorded there as it goes. If the env or agent raises, or on Ctrl-C, the episodes
    that finished are kept and the result says "failed" or "interrupted"; it is not raised.
    `on_episode` is called with each episode as it finishes; `keep_episodes=False` keeps
    memory flat for long runs.

    >>> from gymrun.config import load_config
    >>> result = run_experiment(load_config("configs/cartpole_random.yaml", episodes=5, seed=0))
    >>> [e.steps for e in result.episodes], result.summary.mean_steps, result.status
    ([24, 28, 99, 21, 21], 38.6, 'completed')
    """
    video_dir = None if record_dir is None else record_dir / VIDEO_DIR
    with Experiment(config, video_dir) as experiment:
        resolved = experiment.config
        recorder = (
            None if record_dir is None else RunRecorder(record_dir, resolved.to_json(), command)
        )
        builder = SummaryBuilder(resolved.reward_boundary)
        episodes: list[EpisodeResult] = []
        status, error = "completed", None
        try:
            for episode in experiment.episodes():
                builder.add(episode)
                if recorder is not None:
                    recorder.add(episode)
                if keep_episodes:
                    episodes.append(episode)
                if on_episode is not None:
                    on_episode(episode)
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
