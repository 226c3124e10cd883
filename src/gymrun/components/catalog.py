"""The environments Gymnasium knows: gymrun's own, Gymnasium's and installed plugins'."""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import re
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

import gymrun.components.envs  # noqa: F401  (registers gymrun's environments)
from gymrun.components.importing import import_module, is_target, load_target
from gymrun.errors import EnvError, GymrunError, UnknownNameError, did_you_mean

# Packages that register environments when imported (Gymnasium >= 1.0 loads no plugins itself).
PLUGIN_MODULES = ("ale_py",)

FAMILIES = {
    "classic_control": "classic control",
    "toy_text": "toy text",
    "box2d": "Box2D",
    "mujoco": "MuJoCo",
    "ale_py": "Atari",
    "phys2d": "phys2d (functional, jax)",
    "tabular": "tabular (functional, jax)",
    "gymrun": "gymrun",
}

_plugins_loaded = False


def load_plugins() -> None:
    """Import installed environment plugins once, so their IDs are registered."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for name in PLUGIN_MODULES:
        if importlib.util.find_spec(name) is not None:
            module = importlib.import_module(name)
            gym.register_envs(module)


@dataclass(frozen=True)
class EnvInfo:
    """One registered environment, as ``list-envs`` shows it."""

    id: str
    family: str
    max_episode_steps: int | None
    reward_threshold: float | None
    entry_point: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def entry_point_name(spec: EnvSpec) -> str:
    """The entry point as ``module:attr`` text, also when it was registered as a callable."""
    entry = spec.entry_point
    if isinstance(entry, str):
        return entry
    if entry is None:
        return ""
    return f"{entry.__module__}:{getattr(entry, '__qualname__', repr(entry))}"


def family_of(spec: EnvSpec) -> str:
    """The family an environment belongs to, from its entry point or namespace.

    >>> family_of(gym.spec("CartPole-v1")), family_of(gym.spec("FrozenLake-v1"))
    ('classic control', 'toy text')
    """
    entry = entry_point_name(spec)
    for part in (spec.namespace, *entry.split(":")[0].split(".")):
        if part in FAMILIES:
            return FAMILIES[part]
    # Gymnasium registers envs it cannot build (MuJoCo v2/v3) with a function that explains why
    for key, family in FAMILIES.items():
        if key in entry.lower():
            return family
    return spec.namespace or "other"


def list_envs(pattern: str | None = None) -> list[EnvInfo]:
    """Every registered environment, sorted by family then ID; `pattern` filters the IDs.

    A pattern with ``*``, ``?`` or ``[`` is a glob; otherwise it is a substring; both
    ignore case.

    >>> [e.id for e in list_envs("cartpole-v*")]
    ['CartPole-v0', 'CartPole-v1']
    """
    load_plugins()
    if pattern is not None and not any(c in pattern for c in "*?["):
        pattern = f"*{pattern}*"
    infos = [
        EnvInfo(
            id=spec.id,
            family=family_of(spec),
            max_episode_steps=spec.max_episode_steps,
            reward_threshold=spec.reward_threshold,
            entry_point=entry_point_name(spec),
        )
        for spec in gym.registry.values()
        if pattern is None or fnmatch.fnmatch(spec.id.lower(), pattern.lower())
    ]
    order = list(FAMILIES.values())
    return sorted(
        infos, key=lambda e: (order.index(e.family) if e.family in order else len(order), e.family)
    )


def _register_env_class(target: str) -> None:
    """Make ``package.module:EnvClass`` usable as an ID: register the class under its name,
    which is what Gymnasium looks up after importing the module."""
    if not is_target(target):
        return
    try:
        obj = load_target(target)
    except GymrunError:
        return  # not a class path: let Gymnasium's "module:EnvId" lookup explain
    name = target.split(":")[1]
    if isinstance(obj, type) and issubclass(obj, gym.Env) and name not in gym.registry:
        gym.register(id=name, entry_point=target)


def renders_with_mujoco(spec: EnvSpec) -> bool:
    """Whether `spec`'s environment is simulated, and drawn, by MuJoCo (told from its entry
    point, without importing it).

    >>> [renders_with_mujoco(gym.spec(name)) for name in ("HalfCheetah-v5", "CartPole-v1")]
    [True, False]
    """
    return "mujoco" in entry_point_name(spec).lower()


def quiet_native_logs(env: str | EnvSpec) -> None:
    """Before making a MuJoCo env: MuJoCo's warnings become Python warnings, but for its
    notices about deprecated attributes in the model files (Gymnasium's own, which a user
    of the env cannot act on). Left to itself MuJoCo prints them and appends them to
    ``MUJOCO_LOG.TXT`` in the working directory (HalfCheetah-v4 does, on every make): the
    user's directory, not the run's."""
    global _mujoco_quiet
    spec = env if isinstance(env, EnvSpec) else gym.registry.get(env)
    if _mujoco_quiet or spec is None or not renders_with_mujoco(spec):
        return
    try:
        import mujoco
    except ImportError:
        return  # making the env will say what to install
    mujoco.set_mju_user_warning(_mujoco_warning)
    _mujoco_quiet = True


_mujoco_quiet = False
# "compiler attribute 'settotalmass' is deprecated and will be removed ...": MuJoCo's model
# compiler on HalfCheetah's XML, at every make
_MODEL_DEPRECATION = re.compile(r"compiler attribute '[^']*' is deprecated")


def _mujoco_warning(message: str) -> None:
    if _MODEL_DEPRECATION.match(message):
        return
    warnings.warn(f"MuJoCo: {message}", RuntimeWarning, stacklevel=2)


def find_spec(env_id: str) -> EnvSpec:
    """The registered spec of `env_id`, or a `GymrunError` that suggests the near miss.

    >>> find_spec("CartPole-v1").reward_threshold
    475.0
    >>> find_spec("CartPol-v1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gymrun.errors.UnknownNameError: unknown environment 'CartPol-v1'; did you mean ...
    """
    if env_id in gym.registry:
        return gym.registry[env_id]
    load_plugins()  # only now: importing ale_py costs a seventh of a second
    if env_id in gym.registry:
        return gym.registry[env_id]
    if ":" in env_id:
        # "package.module:EnvId", which gym.make understands: importing the module registers
        # EnvId. "package.module:EnvClass" is registered here under the class's name.
        module, name = env_id.split(":", 1)
        _register_env_class(env_id)
        try:
            import_module(module)
            return gym.spec(name)
        except (gym.error.Error, GymrunError) as exc:
            raise EnvError(f"cannot find environment '{env_id}': {exc}") from exc
    raise UnknownNameError(
        f"unknown environment '{env_id}'{did_you_mean(env_id, gym.registry)} (see gymrun list-envs)"
    )
