"""A config made ready to run: what it left open filled in, what it names looked up once."""

from __future__ import annotations

import inspect
import math
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from gymnasium.envs.registration import EnvSpec, load_env_creator
from gymnasium.wrappers import TimeLimit

from gymrun.components.agent_env import AgentEnv
from gymrun.components.agents import agent_env, agent_provenance, resolve_agent
from gymrun.components.catalog import find_spec, renders_with_mujoco
from gymrun.components.importing import is_target
from gymrun.components.policy import Policy
from gymrun.components.rendering import use_mujoco_gl
from gymrun.components.user_code import UserModule, user_modules
from gymrun.components.vector_backends import VectorBackend, vector_backend
from gymrun.components.wrappers import resolve_wrapper
from gymrun.config import ExperimentConfig
from gymrun.core.metrics import Metric, metrics_of
from gymrun.errors import GymrunError


@dataclass(frozen=True)
class RunPlan:
    """A validated config with its seed drawn and its reward boundary filled in, and every
    fact about the run that follows from it decided once: the environment's registered
    spec, the vector backend, the agent (its class, or function) and whether it learns.

    It pickles without validating again, so worker processes build from it directly.

    >>> plan = RunPlan.of(ExperimentConfig(env={"id": "CartPole-v1"}, seed=3))
    >>> plan.seed, plan.reward_boundary, plan.spec.max_episode_steps, plan.backend
    (3, 475.0, 500, None)
    >>> plan.agent.__name__, plan.learns, plan.seeds_each_episode, plan.splittable
    ('RandomAgent', False, True, True)
    """

    config: ExperimentConfig
    spec: EnvSpec
    backend: VectorBackend | None  # None: a single environment
    agent: Any  # the agent's class (or function, or object), resolved
    learns: bool  # the agent learns from its steps (it has observe)
    # what identifies the run's code and data beyond its config, for meta.json
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)
    # the OpenGL platform (MUJOCO_GL) a MuJoCo env's video is rendered with, chosen here
    # so that a machine that cannot render says so before the run starts; None: not asked
    gl: str | None = None
    # what the agent's files say the environment is made with (an rl-zoo3 folder's settings)
    agent_env: AgentEnv | None = None
    # tells plans apart in worker processes, which keep built experiments by it
    key: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    @classmethod
    def of(cls, config: ExperimentConfig, agent: Any = None) -> RunPlan:
        with placing(config):
            return cls._of(config, agent)

    @classmethod
    def _of(cls, config: ExperimentConfig, agent: Any) -> RunPlan:
        spec = find_spec(config.env.id)
        update: dict[str, Any] = {}
        if config.seed is None:
            update["seed"] = secrets.randbelow(2**31)
        if config.reward_boundary is None:
            update["reward_boundary"] = spec.reward_threshold
        provenance = {}
        backend = None if config.vector is None else vector_backend(config.vector.mode, spec)
        setup = None
        if agent is None:  # else an agent held in memory (see `gymrun.run.evaluate`)
            agent = resolve_agent(config.agent.name)
            options = config.agent_options
            setup = agent_env(agent, options, config.env.id, config.env.kwargs, backend)
            model = agent_provenance(agent, options)
            if model is not None:
                provenance["agent"] = model
        code = user_code(config)
        if code:
            provenance["code"] = {module.name: module.sha256 for module in code}
        gl = None
        if config.record.video and renders_with_mujoco(spec):
            gl = use_mujoco_gl(f"record.video of {config.env.id}")
        return cls(
            config.model_copy(update=update),
            spec,
            backend,
            agent,
            Policy.learning(agent),
            provenance,
            gl,
            setup,
        )

    @property
    def env_kwargs(self) -> dict[str, Any]:
        """The keyword arguments the environment is made with: the config's, and those the
        agent's files say it was trained with."""
        kwargs = dict(self.config.env.kwargs)
        return kwargs if self.agent_env is None else self.agent_env.kwargs_with(kwargs)

    @property
    def agent_wrappers(self) -> list[tuple[str, dict[str, Any]]]:
        """The wrappers the agent's files say it was trained in, beneath the config's."""
        return [] if self.agent_env is None else list(self.agent_env.wrappers)

    @property
    def seeds_each_episode(self) -> bool:
        """Whether each episode is reset with its own seed (a single env, or a vector backend
        that does so), so that an episode depends on its index alone."""
        return self.backend is None or self.backend.seeds_each_episode

    @property
    def splittable(self) -> bool:
        """Whether the run's episodes can be played in pieces, anywhere, and the pieces put
        together give the run: each seeded alone, by an agent that learns nothing. Such a
        run can be shared out to workers, and resumed from its middle."""
        return self.seeds_each_episode and not self.learns

    @property
    def keeps_transitions(self) -> bool:
        """Whether the loop keeps every episode's steps: the run writes a dataset."""
        return self.config.record.dataset is not None

    @property
    def code(self) -> dict[str, str]:
        """The content hash of each of the user's modules the config names, by name."""
        code: dict[str, str] = self.provenance.get("code", {})
        return code

    @property
    def metrics(self) -> tuple[Metric, ...]:
        """What the run reads from its step infos (see `gymrun.core.metrics`)."""
        return metrics_of(self.config)

    @property
    def seed(self) -> int:
        assert self.config.seed is not None  # `of` drew one
        return self.config.seed

    @property
    def reward_boundary(self) -> float | None:
        return self.config.reward_boundary

    @property
    def episodes(self) -> int:
        return self.config.episodes


@contextmanager
def placing(config: ExperimentConfig) -> Iterator[None]:
    """Tell an error raised while `config`'s parts are built (its env, wrappers, agent) at
    the place of the value it is about: the config's file and line, or the option that
    gave the value (see `ExperimentConfig.placed`).

    >>> from gymrun.config import load_config
    >>> from gymrun.errors import AgentError
    >>> with placing(load_config("configs/cartpole_random.yaml")):
    ...     raise AgentError("5 is not an action", key=("agent", "action"))
    Traceback (most recent call last):
    gymrun.errors.AgentError: configs/cartpole_random.yaml:4 agent.action: 5 is not an action
    """
    try:
        yield
    except GymrunError as exc:
        raise config.placed(exc)  # noqa: B904  (the same error, its message placed)


def user_code(config: ExperimentConfig) -> list[UserModule]:
    """The user's own modules (not installed packages) that `config` names: in ``imports``,
    as the environment's, a wrapper's or the agent's ``module:attr``.

    >>> user_code(ExperimentConfig(env={"id": "CartPole-v1"}, imports=["gymnasium"]))
    []
    """
    names = [*config.imports, *(name for name, _ in config.wrapper_stack), config.agent.name]
    if ":" in config.env.id:
        names.append(config.env.id)
    modules = (name.split(":")[0] for name in names if is_target(name) or name in config.imports)
    return user_modules(modules)


def episode_step_limit(config: ExperimentConfig) -> int | None:
    """The most steps an episode of `config` can last, by the tightest bound it has: the
    env's ``TimeLimit`` (the spec's ``max_episode_steps``, or ``env.max_episode_steps`` in
    its place), ``max_steps``, a ``TimeLimit`` in the wrapper stack, or the env's own
    limit (an Atari game's ``max_num_frames_per_episode``); None when nothing bounds it.

    >>> episode_step_limit(ExperimentConfig(env={"id": "CartPole-v1"}, max_steps=100))
    100
    >>> episode_step_limit(ExperimentConfig(env={"id": "Blackjack-v1"})) is None
    True
    """
    spec = find_spec(config.env.id)
    env_limit = config.env.max_episode_steps
    limits = [
        spec.max_episode_steps if env_limit is None else env_limit,
        config.max_steps,
        *_wrapper_limits(config),
        _frame_limit(spec, config.env.kwargs),
    ]
    known = [limit for limit in limits if limit is not None]
    return min(known) if known else None


def _wrapper_limits(config: ExperimentConfig) -> list[int]:
    """The ``max_episode_steps`` of each ``TimeLimit`` (or subclass) in the wrapper stack."""
    limits = []
    for name, kwargs in config.wrapper_stack:
        try:
            wrapper = resolve_wrapper(name)
        except GymrunError:
            continue  # making the env says what is wrong with it
        limit = kwargs.get("max_episode_steps")
        if issubclass(wrapper, TimeLimit) and isinstance(limit, int):
            limits.append(limit)
    return limits


def _frame_limit(spec: EnvSpec, kwargs: dict[str, Any]) -> int | None:
    """The steps an env that stops itself after ``max_num_frames_per_episode`` emulator
    frames (the Arcade Learning Environment: 108,000, 30 minutes of play) lets an episode
    last: the frames over the fewest frames a step can skip."""
    options = {**spec.kwargs, **kwargs}
    frames = options.get("max_num_frames_per_episode")
    if not isinstance(frames, int) or frames <= 0:  # None or 0: the emulator sets no limit
        return None
    skip = options.get("frameskip", _default(spec, "frameskip"))
    fewest = min(skip) if isinstance(skip, tuple | list) else skip
    if not isinstance(fewest, int) or fewest < 1:
        return frames
    return math.ceil(frames / fewest)


def _default(spec: EnvSpec, keyword: str) -> Any:
    """The default of the env constructor's `keyword`, or None."""
    entry = spec.entry_point
    try:
        creator: Any = load_env_creator(entry) if isinstance(entry, str) else entry
        parameter = inspect.signature(creator).parameters.get(keyword)
    except Exception:  # an entry point that cannot be loaded: making the env will say why
        return None
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default


def unbounded_episodes_warning(config: ExperimentConfig) -> str | None:
    """A warning when nothing limits an episode's length (see `episode_step_limit`).

    >>> print(unbounded_episodes_warning(ExperimentConfig(env={"id": "Blackjack-v1"}))[:47])
    Blackjack-v1 sets no limit on episode length an
    >>> unbounded_episodes_warning(ExperimentConfig(env={"id": "Blackjack-v1"}, max_steps=100))
    """
    if episode_step_limit(config) is not None:
        return None
    return (
        f"{config.env.id} sets no limit on episode length and neither does the config: an "
        "episode that never ends would run forever (set max_steps to cap it)"
    )
