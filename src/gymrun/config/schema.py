"""The experiment config's schema: every section, its types, limits and defaults.

Names a config gives (environments, wrappers, agents, modules) are checked against what they
name as the config is validated, so a typo is reported with the line it stands on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from gymnasium.envs.registration import load_env_creator
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from gymrun.components.agents import BUILTIN_AGENTS, agent_option_problem, env_problem
from gymrun.components.catalog import find_spec
from gymrun.components.importing import (
    KeywordProblem,
    import_module,
    keyword_problem,
    value_problem,
)
from gymrun.components.trained.sb3_files import algorithm_named
from gymrun.components.vector_backends import BACKENDS, vector_backend
from gymrun.components.vector_wrappers import resolve_vector_wrapper
from gymrun.components.wrappers import (
    BUILTIN_WRAPPERS,
    outside_problem,
    path_keywords,
    resolve_wrapper,
)
from gymrun.config.places import Places
from gymrun.config.wording import wording
from gymrun.config.yaml_source import Loc
from gymrun.errors import AgentError, GymrunError, Problem, UsageError, did_you_mean


@dataclass(frozen=True)
class OnePoint:
    """How what takes a config as one point (a run, each side of a duel, ``inspect``)
    refuses a config with a ``sweep:`` section: `why` it would leave the grid unplayed,
    and what to do `instead`, as a library call and as the command line say it
    (``{source}``: the config's file). The loader refuses such a config before checking its
    keys, which the grid may give (each point its env), so it is told as what it is.

    >>> print(ONE_RUN.refusal(Places("s.yaml", {("sweep",): 4})))
    s.yaml:4 sweep: a run plays one point, not a grid: use \
run_sweep(load_sweep('CONFIG')) for it, or 'sweep=null' in overrides
    """

    why: str
    instead: tuple[str, str]  # (a library call's words, the command line's)
    drop: bool = True  # whether the caller takes overrides, sweep=null among them

    def problem(self, places: Places) -> Problem:
        """The refusal, at the sweep section's place."""
        source = places.source if Path(places.source).is_file() else "CONFIG"  # not an env ID
        return places.problem(("sweep",), self._message(source))

    def refusal(self, places: Places | None) -> UsageError:
        """The refusal as an error, placed when `places` says where the section is."""
        if places is None:
            return UsageError(self._message("CONFIG"), key=("sweep",))
        problem = self.problem(places)
        error = UsageError(str(problem))
        error.key, error.problem = (), problem
        return error

    def _message(self, source: str) -> str:
        call, command = (text.format(source=source) for text in self.instead)
        message = f"{self.why}: {wording().either(call, command)}"
        if self.drop:
            drop = wording().either("'sweep=null' in overrides", "--set sweep=null")
            message += f", or {drop}"
        return message


ONE_RUN = OnePoint(
    "a run plays one point, not a grid",
    ("use run_sweep(load_sweep({source!r})) for it", "use gymrun sweep {source} for it"),
)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MAX_EPISODES = 2**53  # the most a float counts exactly
MAX_STEPS = 2**31 - 1
MAX_HORIZON = 100_000  # steps an agent plans for
MAX_PLANS = 100_000  # plans a planner samples at once
MAX_PLANNED_STEPS = 10_000_000  # a planner's plans times their steps, held at once


class _Section(BaseModel):
    # strict: `episodes: true` or `seed: "7"` is a mistake, not something to coerce
    model_config = ConfigDict(extra="forbid", strict=True)


class EnvConfig(_Section):
    """Which environment to make, as ``gymnasium.make(id, max_episode_steps, **kwargs)``."""

    id: str = Field(description="A registered environment ID, e.g. CartPole-v1")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments for make")
    max_episode_steps: int | None = Field(
        None, ge=1, le=MAX_STEPS, description="Overrides the spec's limit"
    )

    @field_validator("id")
    @classmethod
    def _registered(cls, env_id: str) -> str:
        try:
            find_spec(env_id)
        except GymrunError as exc:
            raise PydanticCustomError("unknown_env", str(exc)) from None
        return env_id

    @model_validator(mode="after")
    def _known_keywords(self) -> EnvConfig:
        problem = _env_keyword_problem(self.id, self.kwargs)
        if problem is not None and problem.key is not None:
            raise PydanticCustomError(
                "bad_keyword", problem.message, {"loc": ("env", "kwargs", problem.key)}
            )
        return self


def _env_keyword_problem(env_id: str, kwargs: dict[str, Any]) -> KeywordProblem | None:
    """A keyword of `kwargs` that the constructor of `env_id` does not take (with its near
    miss), judged from the constructor's signature; None when it takes them all, or when its
    signature cannot tell (then making it does)."""
    if not kwargs:
        return None
    try:
        spec = find_spec(env_id)
        creator = (
            load_env_creator(spec.entry_point)
            if isinstance(spec.entry_point, str)
            else spec.entry_point
        )
    except Exception:  # not importable here: making the environment says why
        return None
    if creator is None:
        return None
    problem = keyword_problem(creator, {**spec.kwargs, **kwargs})
    problem = problem or value_problem(creator, kwargs, name=env_id)
    return problem if problem is not None and problem.key in kwargs else None


# -- wrappers --------------------------------------------------------------------------------


class EpsilonRandomConfig(_Section):
    """With probability epsilon, the agent's action is replaced by a random one."""

    name: Literal["epsilon_random"]
    epsilon: float = Field(ge=0.0, le=1.0)


class ScaleRewardConfig(_Section):
    """Every reward is multiplied by scale."""

    name: Literal["scale_reward"]
    scale: float


class FrameStackConfig(_Section):
    """The last stack_size observations are stacked (gymnasium's FrameStackObservation)."""

    name: Literal["frame_stack"]
    stack_size: int = Field(ge=1, le=4096)
    padding_type: Literal["reset", "zero"] = "reset"


class WrapperConfig(BaseModel):
    """Any gymnasium.wrappers class by name, or 'package.module:Class', with its keywords."""

    model_config = ConfigDict(extra="allow")
    # In the JSON Schema a built-in's name is left to that wrapper's own section.
    name: str = Field(
        description="A gymnasium.wrappers class name, or package.module:Class",
        json_schema_extra={"not": {"enum": list(BUILTIN_WRAPPERS)}},
    )

    @model_validator(mode="after")
    def _resolvable(self) -> WrapperConfig:
        try:
            cls = resolve_wrapper(self.name)
        except GymrunError as exc:
            raise PydanticCustomError("unknown_wrapper", str(exc), {"key": "name"}) from None
        problem = keyword_problem(cls, self.model_extra or {}, supplied=("env",))
        problem = problem or value_problem(cls, self.model_extra or {})
        if problem:
            context = {"key": problem.key, "missing": list(problem.missing)}
            raise PydanticCustomError("bad_keyword", problem.message, context)
        for key in path_keywords(self.model_extra or {}):
            outside = outside_problem(key, (self.model_extra or {})[key])
            if outside:
                raise PydanticCustomError("outside_run", outside, {"key": key})
        return self


def _builtin_or_other(builtins: Sequence[str]) -> Any:
    def tag(value: Any) -> str:
        name = value.get("name") if isinstance(value, dict) else getattr(value, "name", None)
        return str(name) if name in builtins else "other"

    return Discriminator(tag)


WrapperEntry = Annotated[
    Annotated[EpsilonRandomConfig, Tag("epsilon_random")]
    | Annotated[ScaleRewardConfig, Tag("scale_reward")]
    | Annotated[FrameStackConfig, Tag("frame_stack")]
    | Annotated[WrapperConfig, Tag("other")],
    _builtin_or_other(list(BUILTIN_WRAPPERS)),
]

# -- agents ----------------------------------------------------------------------------------


class RandomAgentConfig(_Section):
    """Samples the action space (seeded per episode)."""

    name: Literal["random"]


class ConstantAgentConfig(_Section):
    """Always plays `action`."""

    name: Literal["constant"]
    action: Any


class SequenceAgentConfig(_Section):
    """Plays `actions` in order, cycling."""

    name: Literal["sequence"]
    actions: list[Any] = Field(min_length=1)


class CartPoleBalanceConfig(_Section):
    """A scripted CartPole controller that keeps the pole up."""

    name: Literal["cartpole_balance"]


def _algorithm_key(algo: str | None) -> str | None:
    """An algorithm's config name, from any name `algorithm_named` takes."""
    try:
        return None if algo is None else algorithm_named(algo).key
    except GymrunError as exc:
        raise PydanticCustomError("unknown_algo", str(exc)) from None


class Sb3AgentConfig(_Section):
    """A Stable-Baselines3 model saved as .zip (needs gymrun[sb3])."""

    name: Literal["sb3"]
    path: str = Field(description="The model's .zip; a relative path is from the config's folder")
    algo: Annotated[str | None, AfterValidator(_algorithm_key)] = Field(
        None, description="ppo, dqn, sac, ...; default: read from the file"
    )
    deterministic: bool = Field(True, description="false: sample actions, seeded per episode")
    vecnormalize: str | None = Field(
        None, description="A VecNormalize.save file: its observation normalisation is applied"
    )
    device: str = Field("cpu", description="Where torch runs the policy: cpu, cuda, auto")


class RlzooAgentConfig(_Section):
    """An rl-zoo3 model folder, played with the preprocessing it was trained with (needs
    gymrun[sb3])."""

    name: Literal["rlzoo"]
    path: str = Field(
        description="The model's folder (logs/ppo/CartPole-v1_1); relative: from the config's"
    )
    algo: Annotated[str | None, AfterValidator(_algorithm_key)] = Field(
        None, description="ppo, dqn, ...; default: what the folder says"
    )
    model: str | None = Field(
        None, description="The model's file in the folder; default: ENV.zip (best_model.zip, ...)"
    )
    deterministic: bool = Field(True, description="false: sample actions, seeded per episode")
    device: str = Field("cpu", description="Where torch runs the policy: cpu, cuda, auto")


class OnnxAgentConfig(_Section):
    """An ONNX policy run by onnxruntime (needs gymrun[onnx])."""

    name: Literal["onnx"]
    path: str = Field(description="The .onnx file; a relative path is from the config's folder")
    input: str | None = Field(None, description="The observation's input; default: the only one")
    output: str | None = Field(None, description="The output holding actions; default: the first")


class HeuristicConfig(_Section):
    """The scripted controller of the env's task, chosen by its ID."""

    name: Literal["heuristic"]


class DynamicProgrammingConfig(_Section):
    """The exact optimal policy of an env with a transition table P (privileged)."""

    name: Literal["dynamic_programming"]
    gamma: float = Field(1.0, gt=0.0, le=1.0, description="Discount factor")
    # its table holds an action for each (step left, state): bounded before it is made
    horizon: int | None = Field(
        None,
        ge=1,
        le=MAX_HORIZON,
        description="Steps to plan for; default: the episode's step limit",
    )


class LqrConfig(_Section):
    """A linear-quadratic regulator about the upright pose (privileged on MuJoCo)."""

    name: Literal["lqr"]
    control_cost: float = Field(0.1, gt=0.0, description="Weight of the control in the cost")


class PlannerConfig(_Section):
    """Cross-entropy planning over copies of the simulator's state (privileged)."""

    name: Literal["planner"]
    horizon: int = Field(20, ge=1, le=MAX_HORIZON, description="Steps each plan looks ahead")
    population: int = Field(64, ge=2, le=MAX_PLANS, description="Plans sampled per iteration")
    iterations: int = Field(3, ge=1, le=1000, description="Sampling rounds per step")
    elites: int = Field(8, ge=1, description="Best plans that reshape the sampling")
    noise: float = Field(0.1, gt=0.0, description="First spread, times the action range")

    @model_validator(mode="after")
    def _sized(self) -> PlannerConfig:
        # every plan's actions are held at once: bounded before they are drawn
        if self.population * self.horizon > MAX_PLANNED_STEPS:
            message = (
                f"population x horizon is {self.population * self.horizon:,} planned steps; "
                f"at most {MAX_PLANNED_STEPS:,} are held at once"
            )
            raise PydanticCustomError("too_many_plans", message, {"key": "population"})
        if self.elites > self.population:
            message = f"elites ({self.elites}) exceeds population ({self.population})"
            raise PydanticCustomError("elites", message, {"key": "elites"})
        return self


class AgentConfig(BaseModel):
    """A user's agent, 'package.module:attr'; other keys go to its constructor."""

    model_config = ConfigDict(extra="allow")
    # In the JSON Schema a built-in's name is left to that agent's own section.
    name: str = Field(
        description="package.module:attr: a function or a class with act(observation)",
        json_schema_extra={"not": {"enum": list(BUILTIN_AGENTS)}},
    )

    @model_validator(mode="after")
    def _resolvable(self) -> AgentConfig:
        try:
            problem = agent_option_problem(self.name, self.model_extra or {})
        except GymrunError as exc:
            raise PydanticCustomError("unknown_agent", str(exc), {"key": "name"}) from None
        if problem:
            raise PydanticCustomError("bad_keyword", problem.message, {"key": problem.key})
        return self


AgentEntry = Annotated[
    Annotated[RandomAgentConfig, Tag("random")]
    | Annotated[ConstantAgentConfig, Tag("constant")]
    | Annotated[SequenceAgentConfig, Tag("sequence")]
    | Annotated[CartPoleBalanceConfig, Tag("cartpole_balance")]
    | Annotated[Sb3AgentConfig, Tag("sb3")]
    | Annotated[OnnxAgentConfig, Tag("onnx")]
    | Annotated[RlzooAgentConfig, Tag("rlzoo")]
    | Annotated[HeuristicConfig, Tag("heuristic")]
    | Annotated[DynamicProgrammingConfig, Tag("dynamic_programming")]
    | Annotated[LqrConfig, Tag("lqr")]
    | Annotated[PlannerConfig, Tag("planner")]
    | Annotated[AgentConfig, Tag("other")],
    _builtin_or_other(list(BUILTIN_AGENTS)),
]


SECTION_MODELS: dict[str, type[BaseModel]] = {
    "epsilon_random": EpsilonRandomConfig,
    "scale_reward": ScaleRewardConfig,
    "frame_stack": FrameStackConfig,
    "random": RandomAgentConfig,
    "constant": ConstantAgentConfig,
    "sequence": SequenceAgentConfig,
    "cartpole_balance": CartPoleBalanceConfig,
    "sb3": Sb3AgentConfig,
    "onnx": OnnxAgentConfig,
    "rlzoo": RlzooAgentConfig,
    "heuristic": HeuristicConfig,
    "dynamic_programming": DynamicProgrammingConfig,
    "lqr": LqrConfig,
    "planner": PlannerConfig,
}


# Minari's dataset IDs: ``[namespace/]name[-vN]`` (``minari.dataset.minari_dataset``)
DATASET_ID = re.compile(
    r"^(?:(?P<namespace>[-_\w][-_\w/]*[-_\w]+)/)?(?P<name>[-_\w]+?)(?:-v(?P<version>\d+))?$"
)


def dataset_id(name: str) -> str:
    """The Minari dataset ID `name` gives: ``[namespace/]name-vN``, version 0 when it has
    none. Raises ValueError for a name Minari would not take.

    >>> dataset_id("cartpole/random"), dataset_id("cartpole/random-v2")
    ('cartpole/random-v0', 'cartpole/random-v2')
    """
    match = DATASET_ID.fullmatch(name)
    if match is None or "//" in name:
        raise ValueError(
            f"'{name}' is not a Minari dataset ID: [NAMESPACE/]NAME[-vN], of letters, digits, "
            "'_' and '-', with a NAMESPACE of at least 2 characters (Minari's rule)"
        )
    return name if match.group("version") is not None else f"{name}-v0"


class RecordConfig(_Section):
    """What a run records besides its episodes: video of chosen episodes, and a Minari
    dataset of every step."""

    video: bool = Field(False, description="Record episodes as .mp4 (needs gymrun[video])")
    dataset: str | None = Field(
        None,
        description="Write the run's episodes, step by step, as the Minari dataset of this "
        "ID ([namespace/]name[-vN], version 0 when not given; needs gymrun[minari])",
    )
    every: int | None = Field(None, ge=1, le=MAX_EPISODES, description="Record every Nth episode")
    episodes: list[Annotated[int, Field(ge=0, le=MAX_EPISODES)]] | None = Field(
        None, description="Record these episodes (by index)"
    )
    fps: int | None = Field(None, ge=1, le=1000, description="Default: the env's render_fps")

    @model_validator(mode="after")
    def _one_schedule(self) -> RecordConfig:
        if self.every is not None and self.episodes is not None:
            raise PydanticCustomError(
                "two_schedules", "give either every or episodes, not both", {"key": "episodes"}
            )
        if not self.video and (self.every is not None or self.episodes is not None):
            raise PydanticCustomError(
                "video_off", "choosing episodes to record needs video: true", {"key": "video"}
            )
        return self

    @field_validator("dataset")
    @classmethod
    def _dataset_id(cls, name: str | None) -> str | None:
        if name is None:
            return None
        try:
            return dataset_id(name)
        except ValueError as exc:
            raise PydanticCustomError("dataset_id", str(exc)) from None

    def wants(self, episode: int) -> bool:
        """Whether episode `episode` is recorded (default: Gymnasium's capped cubic schedule)."""
        if self.every is not None:
            return episode % self.every == 0
        if self.episodes is not None:
            return episode in self.episodes
        return capped_cubic(episode)


def capped_cubic(episode: int) -> bool:
    """Gymnasium's default schedule: episodes 0, 1, 8, 27, ... up to 1000, then every 1000th.

    >>> [e for e in range(3000) if capped_cubic(e)][:6], capped_cubic(2000)
    ([0, 1, 8, 27, 64, 125], True)
    """
    if episode < 1000:
        return bool(round(episode ** (1 / 3)) ** 3 == episode)
    return episode % 1000 == 0


class VectorConfig(_Section):
    """Run `num_envs` copies of the environment as one vector env (``gymnasium.make_vec``)."""

    num_envs: int = Field(ge=1, le=2**20, description="Sub-environments stepped together")
    mode: str | None = Field(
        None,
        description="Default: vector_entry_point when the env has one, else sync",
        json_schema_extra={"enum": [*BACKENDS, None]},
    )

    @field_validator("mode")
    @classmethod
    def _known(cls, mode: str | None) -> str | None:
        if mode is not None and mode not in BACKENDS:
            raise ValueError(
                f"unknown vector mode '{mode}'{did_you_mean(mode, BACKENDS)} "
                f"(use one of {', '.join(BACKENDS)})"
            )
        return mode


# -- metrics ---------------------------------------------------------------------------------

# How an episode's steps make one value of a metric: the value of its last step that reported
# the key, their sum, their mean or their largest.
METRIC_REDUCTIONS = ("last", "sum", "mean", "max")
# The fields of an episode's line in episodes.jsonl: a metric, recorded beside them, cannot
# take one of their names.
EPISODE_FIELDS = (
    "episode",
    "seed",
    "reward",
    "shaped_reward",
    "steps",
    "terminated",
    "truncated",
    "reached",
)
METRIC_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class MetricConfig(_Section):
    """A number the environment reports in its step infos, recorded per episode: the info
    key `key`, the values of an episode's steps made one by `reduce`."""

    name: str = Field(
        pattern=METRIC_NAME_PATTERN,
        max_length=64,
        description="Its name in episodes.jsonl, the summary, --expect and --score",
    )
    key: str | None = Field(
        None, min_length=1, description="The info key it reads; default: its name"
    )
    reduce: str = Field(
        "last",
        description="How an episode's steps make one value: last, sum, mean or max (of the "
        "steps whose info has the key)",
        json_schema_extra={"enum": list(METRIC_REDUCTIONS)},
    )

    @field_validator("name")
    @classmethod
    def _not_a_field(cls, name: str) -> str:
        if name in EPISODE_FIELDS:
            raise ValueError(
                f"'{name}' is a field of every episode already; name the metric otherwise"
            )
        return name

    @field_validator("reduce")
    @classmethod
    def _known(cls, reduce: str) -> str:
        if reduce not in METRIC_REDUCTIONS:
            raise ValueError(
                f"unknown reduce '{reduce}'{did_you_mean(reduce, METRIC_REDUCTIONS)} "
                f"(use one of {', '.join(METRIC_REDUCTIONS)})"
            )
        return reduce

    @property
    def info_key(self) -> str:
        """The info key the metric reads."""
        return self.name if self.key is None else self.key


def _options(section: BaseModel) -> dict[str, Any]:
    """A wrapper's or agent's keyword arguments: every key but `name`."""
    data = section.model_dump(exclude={"name"})
    return {**data, **(section.model_extra or {})}


def _imported(module: str) -> str:
    try:
        import_module(module)
    except GymrunError as exc:
        raise PydanticCustomError("import_failed", str(exc)) from None
    return module


class ExperimentConfig(_Section):
    """A whole experiment: environment, wrapper stack, agent, how many episodes, seed."""

    model_config = ConfigDict(extra="forbid", strict=True, title="gymrun experiment")

    name: str | None = Field(
        None, pattern=NAME_PATTERN, max_length=100, description="Defaults to the file's stem"
    )
    # Before env: a module imported here may register the environment env names.
    imports: list[Annotated[str, AfterValidator(_imported)]] = Field(
        default_factory=list,
        description="Modules to import first (they may register envs)",
        json_schema_extra={"default": []},
    )
    env: EnvConfig = Field(description="The environment: an ID, or {id, kwargs, max_episode_steps}")
    wrappers: list[WrapperEntry] = Field(
        default_factory=list,
        description="Wrappers around the env, innermost first",
        json_schema_extra={"default": []},
    )
    agent: AgentEntry = Field(
        default_factory=lambda: RandomAgentConfig(name="random"),
        description="Who acts: a built-in agent by name, or package.module:attr",
        json_schema_extra={"default": {"name": "random"}},
    )
    episodes: int = Field(100, ge=1, le=MAX_EPISODES, description="Episodes to play")
    seed: int | None = Field(None, ge=0, le=2**64 - 1, description="Drawn and reported when absent")
    reward_boundary: float | None = Field(
        None, allow_inf_nan=False, description="Default: the spec's reward_threshold"
    )
    max_steps: int | None = Field(
        None, ge=1, le=MAX_STEPS, description="Truncate episodes at this many steps"
    )
    record: RecordConfig = Field(
        default_factory=RecordConfig,
        description="What is recorded besides the episodes (video)",
        json_schema_extra={"default": {"video": False}},
    )
    vector: VectorConfig | None = Field(None, description="Run as a vector env")
    metrics: list[MetricConfig] | None = Field(
        None,
        description="Numbers the env reports in its step infos, recorded per episode: a "
        "name (the info key, its last value) or {name, key, reduce}. Default: is_success, "
        "where the env reports it; [] records none",
    )
    sweep: dict[str, Any] | None = Field(
        None, description="Grid for gymrun sweep: dotted key -> list of values, seeds, replicates"
    )

    # where each value was written (file and line, or option); set by the loader
    _places: Places | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: Any) -> Any:
        return expand_shorthands(data)

    def problem_of(self, error: GymrunError) -> Problem | None:
        """`error`, raised while this config's parts were built, as a problem at the place
        of the value it is about: its key's, else for an agent's error the agent's section
        (its path, when it has one). None for an error about no key, or a config not read
        by the loader."""
        agent_key = ("agent", "path") if "path" in self.agent_options else ("agent",)
        loc = error.key  # () once placed
        if loc is None and isinstance(error, AgentError):
            loc = agent_key
        if self._places is None or not loc:
            return None
        return self._places.problem(loc, error.detail)

    @property
    def source(self) -> str | None:
        """The file the config was read from (as it was named), or the environment ID it was
        made of; None for a config not read by the loader."""
        return None if self._places is None else self._places.source

    def refused_sweep(self, one: OnePoint = ONE_RUN) -> UsageError | None:
        """The error that refuses this config's sweep section, placed at it (`one`: in the
        words of what would take the config as one point; a run's by default), or None when
        it has none."""
        if self.sweep is None:
            return None
        return one.refusal(self._places)

    def placed(self, error: GymrunError) -> GymrunError:
        """`error` (see `problem_of`), its message naming the value's place."""
        problem = self.problem_of(error)
        if problem is not None:
            error.args, error.key, error.problem = (str(problem),), (), problem
        return error

    @model_validator(mode="after")
    def _vector_ready(self) -> ExperimentConfig:
        """A vector run records no video; an env's own vector implementation needs the vector
        form of each wrapper (sync and async modes wrap each sub-environment as usual)."""
        if self.vector is None:
            return self
        if self.record.video:
            vector = f"vector / {wording().either('num_envs', '--num-envs')}"
            message = f"video is recorded in single-env runs; remove {vector}, or record.video"
            raise PydanticCustomError("vector_video", message, {"loc": ["record", "video"]})
        spec = find_spec(self.env.id)
        if self.vector.mode == "vector_entry_point" and spec.vector_entry_point is None:
            message = f"{self.env.id} has no vector_entry_point; use mode sync or async"
            raise PydanticCustomError("no_vector_entry_point", message, {"loc": ["vector", "mode"]})
        backend = vector_backend(self.vector.mode, spec)
        if self.record.dataset is not None and not backend.seeds_each_episode:
            message = (
                f"a dataset is written from vector.mode sync or async: {self.env.id}'s own "
                "vector implementation resets its sub-environments itself, and its steps are "
                "not kept"
            )
            raise PydanticCustomError("vector_dataset", message, {"loc": ["record", "dataset"]})
        if not backend.vector_wrappers:
            return self
        for index, wrapper in enumerate(self.wrappers):
            try:
                resolve_vector_wrapper(wrapper.name)
            except GymrunError as exc:
                # sync and async wrap each sub-environment as a single env is wrapped
                vector = f"vector / {wording().either('num_envs', '--num-envs')}"
                sync = wording().either("vector.mode: sync", "--set vector.mode=sync")
                loc = ["wrappers", index, "name"]
                message = (
                    f"{exc}: remove it, run without {vector}, or give {sync} (each "
                    "sub-environment wrapped as one env)"
                )
                raise PydanticCustomError("no_vector_form", message, {"loc": loc}) from None
        return self

    @model_validator(mode="after")
    def _agent_fits_env(self) -> ExperimentConfig:
        """An agent that supports only some envs (or a single env) is refused here, before
        anything is made, not after a run has started."""
        try:
            problem = env_problem(
                self.agent.name,
                find_spec(self.env.id),
                vector=self.vector is not None,
                unvectored=f"remove vector / {wording().either('num_envs', '--num-envs')}",
            )
        except GymrunError:
            return self  # the agent's section said what is wrong with it
        if problem is not None:
            raise PydanticCustomError("agent_env", problem, {"loc": ["agent", "name"]})
        return self

    @model_validator(mode="after")
    def _metrics_named_once(self) -> ExperimentConfig:
        named: dict[str, int] = {}
        for index, metric in enumerate(self.metrics or []):
            if metric.name in named:
                message = f"'{metric.name}' is named twice (metrics.{named[metric.name]} too)"
                loc = ["metrics", index, "name"]
                raise PydanticCustomError("metric_twice", message, {"loc": loc})
            named[metric.name] = index
        return self

    @property
    def wrapper_stack(self) -> list[tuple[str, dict[str, Any]]]:
        """``(name, kwargs)`` for each wrapper, innermost first."""
        return [(w.name, _options(w)) for w in self.wrappers]

    @property
    def agent_options(self) -> dict[str, Any]:
        return _options(self.agent)

    def to_json(self) -> dict[str, Any]:
        """The config as plain data, every default spelled out (but ``metrics`` when not
        given, and ``record.dataset`` when not asked for: a run that names neither records
        what it always did, and is grouped, compared and resumed as it always was)."""
        excluded: dict[str, Any] = {}
        if self.metrics is None:
            excluded["metrics"] = True
        if self.record.dataset is None:  # nor a dataset: what a run's record always held
            excluded["record"] = {"dataset"}
        return self.model_dump(mode="json", exclude=excluded or None)


# What a section given as something else than a mapping should have been, by its model:
# the shorthands `expand_shorthands` spells out, or a mapping
_SECTION_FORMS = {
    "EnvConfig": "an environment ID (CartPole-v1) or a mapping with id:",
    "AgentConfig": "an agent's name (random) or a mapping with name: and its keywords",
    "WrapperConfig": "a wrapper's name (TimeLimit) or a mapping with name: and its keywords",
    "MetricConfig": "a metric's name (is_success) or a mapping with name:",
}


def section_form(class_name: str) -> str:
    """What a config section of model `class_name` is written as, for a message about one
    written otherwise.

    >>> section_form("EnvConfig"), section_form("RecordConfig")
    ('an environment ID (CartPole-v1) or a mapping with id:', 'a mapping of its keys')
    """
    return _SECTION_FORMS.get(class_name, "a mapping of its keys")


def expand_shorthands(data: Any) -> Any:
    """Spell out ``env: ID``, ``agent: NAME``, ``- WrapperName``, ``- WrapperName: {KEY:
    VALUE}`` and a metric's bare name as mappings.

    >>> expand_shorthands({"env": "CartPole-v1", "agent": "random", "wrappers": ["TimeLimit"]})
    {'env': {'id': 'CartPole-v1'}, 'agent': {'name': 'random'}, 'wrappers': [{'name': 'TimeLimit'}]}
    """
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if isinstance(data.get("env"), str):
        data["env"] = {"id": data["env"]}
    if isinstance(data.get("agent"), str):
        data["agent"] = {"name": data["agent"]}
    if isinstance(data.get("wrappers"), list):
        data["wrappers"] = [_wrapper_spelt_out(w) for w in data["wrappers"]]
    if isinstance(data.get("metrics"), list):
        data["metrics"] = [{"name": m} if isinstance(m, str) else m for m in data["metrics"]]
    return data


def _named_wrapper(entry: Any) -> str | None:
    """The wrapper's name when `entry` is written as rl-zoo3 writes ``env_wrapper``, a
    mapping of the name alone to its keywords (or to nothing): ``- ClipReward: {min_reward:
    0}``. None for any other entry: ``- name: ...``, or one key to a value that keywords
    cannot be (``- epsilon: 0.5``, a wrapper whose ``name:`` was left out), which the
    schema refuses as it is."""
    if not isinstance(entry, dict) or len(entry) != 1:
        return None
    ((name, options),) = entry.items()
    if not isinstance(name, str) or name == "name":
        return None
    if options is None or (isinstance(options, dict) and "name" not in options):
        return name
    return None


def _wrapper_spelt_out(entry: Any) -> Any:
    """A wrapper entry as the mapping of its name and keywords.

    >>> _wrapper_spelt_out("TimeLimit"), _wrapper_spelt_out({"TimeLimit": None})
    ({'name': 'TimeLimit'}, {'name': 'TimeLimit'})
    >>> _wrapper_spelt_out({"ClipReward": {"min_reward": 0, "max_reward": 1}})
    {'name': 'ClipReward', 'min_reward': 0, 'max_reward': 1}
    """
    if isinstance(entry, str):
        return {"name": entry}
    name = _named_wrapper(entry)
    if name is None:
        return entry
    return {"name": name, **(entry[name] or {})}


def shorthand_lines(data: Any, lines: dict[Loc, int]) -> dict[Loc, int]:
    """`lines` (a document's, of its `data` as written) with the line of each key of a
    wrapper written ``- NAME: {KEY: VALUE}`` under the key it has once spelt out
    (``wrappers.0.KEY``, ``wrappers.0.name``), so that a message about it names its line.

    >>> written = {("wrappers", 0, "ClipReward"): 3, ("wrappers", 0, "ClipReward", "max_reward"): 4}
    >>> lines = shorthand_lines({"wrappers": [{"ClipReward": {"max_reward": 1}}]}, written)
    >>> lines[("wrappers", 0, "name")], lines[("wrappers", 0, "max_reward")]
    (3, 4)
    """
    wrappers = data.get("wrappers") if isinstance(data, dict) else None
    if not isinstance(wrappers, list):
        return lines
    moved = dict(lines)
    for index, entry in enumerate(wrappers):
        name = _named_wrapper(entry)
        if name is None:
            continue
        inside = ("wrappers", index, name)
        for loc, line in lines.items():
            if loc[: len(inside)] == inside:
                moved[("wrappers", index, *loc[len(inside) :])] = line
        if inside in lines:
            moved[("wrappers", index, "name")] = lines[inside]
    return moved


def config_schema() -> dict[str, Any]:
    """The config's JSON Schema, for editors that validate and complete YAML.

    It takes what gymrun takes: the shorthands (``env: ID``, ``agent: NAME``, a wrapper given
    as ``- NAME`` or ``- NAME: {KEY: VALUE}``) too, and a built-in wrapper's or agent's name
    selects that one's keys.

    >>> config_schema()["properties"]["env"]["anyOf"][0]
    {'type': 'string', 'description': 'An environment ID: short for {id: ID}'}
    """
    schema = ExperimentConfig.model_json_schema()
    properties = schema["properties"]
    shorthands = {
        "env": "An environment ID: short for {id: ID}",
        "agent": "An agent's name: short for {name: NAME}",
    }
    for key, description in shorthands.items():
        full = properties[key]
        outer = {k: full.pop(k) for k in ("description", "default", "title") if k in full}
        properties[key] = {**outer, "anyOf": [{"type": "string", "description": description}, full]}
    items = properties["wrappers"]["items"]
    name = {"type": "string", "description": "A wrapper's name: short for {name: NAME}"}
    named = {
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "not": {"required": ["name"]},
        "additionalProperties": {
            "anyOf": [{"type": "null"}, {"type": "object", "not": {"required": ["name"]}}]
        },
        "description": "A wrapper's name to its keywords: short for {name: NAME, KEY: VALUE}",
    }
    properties["wrappers"]["items"] = {"anyOf": [name, named, items]}
    metrics = next(o for o in properties["metrics"]["anyOf"] if o.get("type") == "array")
    bare = {
        "type": "string",
        "pattern": METRIC_NAME_PATTERN,
        "description": "A metric's name, which is its info key: short for {name: NAME}",
    }
    metrics["items"] = {"anyOf": [bare, metrics["items"]]}
    return schema
