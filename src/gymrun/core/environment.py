"""Making a plan's environment: ``gymnasium.make`` and the config's wrapper stack, or a
vector env of many copies."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from gymrun.components.catalog import check_render_mode, make, quiet_native_logs, render_modes
from gymrun.components.env_return import EnvReturn, ReportEnvReturn, VectorRewardTap
from gymrun.components.rendering import export
from gymrun.components.vector_wrappers import apply_vector_wrappers
from gymrun.components.wrappers import apply_wrappers
from gymrun.core.plan import RunPlan
from gymrun.errors import EnvError, GymrunError

Wrap = Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]]


def make_env(
    plan: RunPlan, outer: Wrap | None = None, files_dir: Path | None = None
) -> gym.Env[Any, Any]:
    """The plan's environment in its wrapper stack, then ``max_steps``, then `outer` (which
    records video, when the config asks for it and the run is recorded). Files wrappers
    write go in `files_dir`, the run's directory. The wrappers the agent was trained in
    (`RunPlan.agent_wrappers`) come first, beneath the config's.

    With a wrapper stack, the environment's own return is measured beneath it and given in
    the info of each episode's last step (`gymrun.components.env_return`).

    >>> from gymrun.config import ExperimentConfig
    >>> config = ExperimentConfig(env="CartPole-v1", wrappers=["FlattenObservation"])
    >>> env = make_env(RunPlan.of(config))
    >>> type(env).__name__, type(env.env).__name__
    ('ReportEnvReturn', 'FlattenObservation')
    """
    config = plan.config
    options: dict[str, Any] = plan.env_kwargs
    if config.env.max_episode_steps is not None:
        options["max_episode_steps"] = config.env.max_episode_steps
    if config.record.video:
        check_video_env(plan)
        export(plan.gl)  # in a worker process too, before the env renders
        options["render_mode"] = "rgb_array"
    try:
        env = make(plan.spec, **options)
    except EnvError as exc:
        exc.key = exc.key or ("env",)
        raise
    try:
        trained_in = plan.agent_wrappers  # as the agent was trained, beneath the config's
        meter = EnvReturn(env) if config.wrapper_stack or trained_in else None
        env = apply_wrappers(meter or env, trained_in, files_dir, ("agent", "env_wrapper"))
        env = apply_wrappers(env, config.wrapper_stack, files_dir)
        if config.max_steps is not None:  # outermost, so it cuts what the agent sees
            env = gym.wrappers.TimeLimit(env, config.max_steps)
        if meter is not None:
            env = ReportEnvReturn(env, meter)
        if outer is not None:
            env = outer(env)
    except GymrunError:
        env.close()
        raise
    return env


def make_vector_env(
    plan: RunPlan, files_dir: Path | None = None
) -> gym.vector.VectorEnv[Any, Any, Any]:
    """``vector.num_envs`` copies of the plan's environment stepped as one.

    In ``sync`` and ``async`` mode each copy is exactly the single environment `make_env`
    makes, and autoreset is off: the loop resets each with its episode's seed. With the
    environment's own vector implementation, the wrappers are applied in vector form.
    """
    config, backend = plan.config, plan.backend
    assert config.vector is not None and backend is not None
    num_envs = config.vector.num_envs
    options: dict[str, Any] = plan.env_kwargs
    limit = config.env.max_episode_steps or plan.spec.max_episode_steps
    if config.max_steps is not None:  # a vector env truncates its sub-environments itself
        limit = min(config.max_steps, limit or config.max_steps)
    if limit is not None:
        options["max_episode_steps"] = limit
    check_render_mode(plan.spec, options.get("render_mode"))
    try:
        quiet_native_logs(plan.spec)
        env = backend.make(
            plan.spec, num_envs, functools.partial(make_env, plan, files_dir=files_dir), options
        )
    except GymrunError:
        raise
    except Exception as exc:
        raise EnvError(
            f"cannot make {num_envs} x {config.env.id} ({backend.name}): "
            f"{type(exc).__name__}: {exc}",
            key=("vector",),
        ) from exc
    if not backend.vector_wrappers:  # each sub-environment is already wrapped
        return env
    if config.wrapper_stack:  # the environment's own rewards, beneath the wrappers
        env = VectorRewardTap(env)
    return apply_vector_wrappers(env, config.wrapper_stack)


def check_video_env(plan: RunPlan) -> None:
    """Fail before anything runs if the environment cannot give frames to record."""
    config = plan.config
    requested = config.env.kwargs.get("render_mode", "rgb_array")
    if requested != "rgb_array":
        raise EnvError(
            f"needs render_mode 'rgb_array', but env.kwargs.render_mode is {requested!r}",
            key=("record", "video"),
        )
    modes = render_modes(plan.spec) or []
    if "rgb_array" not in modes:
        raise EnvError(
            f"{config.env.id} cannot render rgb_array frames "
            f"(its render modes: {', '.join(modes) or 'none'})",
            key=("record", "video"),
        )
    # Rendering to arrays needs no display or sound; keep SDL from looking for either.
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
