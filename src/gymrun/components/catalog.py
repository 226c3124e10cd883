"""The environments Gymnasium knows: gymrun's own, Gymnasium's and installed plugins'."""

from __future__ import annotations

import difflib
import fnmatch
import functools
import importlib
import importlib.util
import re
import sys
import warnings
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

import gymrun.components.envs  # noqa: F401  (registers gymrun's environments)
from gymrun.components.extras import component_install, install_hint
from gymrun.components.importing import colon_spelling, import_module, is_target, load_target
from gymrun.errors import EnvError, GymrunError, NotInstalledError, UnknownNameError

# Packages that register environments when imported (Gymnasium >= 1.0 loads no plugins itself).
PLUGIN_MODULES = ("ale_py",)
# The namespace each plugin registers its environments in, and the family they are.
PLUGIN_NAMESPACES = {"ALE": ("ale_py", "Atari")}
# Families whose environments cannot be made without their package (classic control's
# only draw with theirs): `gymrun.components.extras.COMPONENTS` says which and how to install.
PACKAGED_FAMILIES = ("Box2D", "MuJoCo", "Atari")

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

_plugins: dict[str, bool] = {}  # each plugin module: whether it registered its environments


def load_plugins() -> None:
    """Import installed environment plugins once, so their IDs are registered; a plugin
    that is not installed, or cannot be imported, registers nothing (`find_spec` then says
    what installs it)."""
    if _plugins:
        return
    for name in PLUGIN_MODULES:
        try:
            module = importlib.import_module(name) if installed(name) else None
        except ImportError:
            module = None
        if module is not None:
            gym.register_envs(module)
        _plugins[name] = module is not None


def installed(module: str) -> bool:
    """Whether `module` can be found, without importing it (importing MuJoCo, say, reads
    settings that making the environment sets first).

    >>> installed("gymnasium"), installed("no_such_module_here")
    (True, False)
    """
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


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
    if isinstance(obj, type) and issubclass(obj, gym.Env):
        if name not in gym.registry:
            gym.register(id=name, entry_point=target)
    elif name not in gym.registry:  # an object, and no ID its module registers
        raise EnvError(f"'{target}' is not a gymnasium.Env subclass")


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
    """The registered spec of `env_id`, or an error that says what to give instead: the
    IDs it nearly names (another namespace, another version, other capitals, a bare game
    name), or the command that installs the package its environments need.

    >>> find_spec("CartPole-v1").reward_threshold
    475.0
    >>> find_spec("cartpole")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gymrun.errors.UnknownNameError: unknown environment 'cartpole'; did you mean 'CartPole-v1'...
    """
    if env_id not in gym.registry:
        load_plugins()  # only now: importing ale_py costs a seventh of a second
    if env_id in gym.registry:
        spec = gym.registry[env_id]
        _check_installed(spec)
        return spec
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
    require_plugin(env_id)
    raise UnknownNameError(
        f"unknown environment '{env_id}'{suggestion(env_id) or colon_spelling(env_id)} "
        "(see gymrun list-envs)"
    )


def registered_spec(env_id: str) -> EnvSpec | None:
    """The spec registered here for `env_id` (Gymnasium's plugins loaded first if need be),
    None without one. Unlike `find_spec` it imports no module the ID names: a reader of
    recorded configs runs none of their code.

    >>> registered_spec("CartPole-v1").id, registered_spec("mymodule:Corridor-v0")
    ('CartPole-v1', None)
    """
    if env_id not in gym.registry:
        load_plugins()
    return gym.registry.get(env_id)


def make(env: str | EnvSpec, **options: Any) -> gym.Env[Any, Any]:
    """`env` made from its registered spec, as every command makes one: with the
    environment's own errors as an `EnvError` saying how to install what is missing, its
    native libraries quiet, and no warning that the ID's version is out of date (Gymnasium
    gives it to an ID typed at ``gymnasium.make``, raw, colour codes and all; a user of gymrun
    named the version on purpose). A ``render_mode`` the environment does not list is
    refused before anything is made (Gymnasium only warns, and the env then renders nothing).

    >>> make("CartPole-v1", render_mode="rgb") # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gymrun.errors.EnvError: env.kwargs.render_mode: CartPole-v1 has no render mode 'rgb' ...
    """
    spec = find_spec(env) if isinstance(env, str) else env
    check_render_mode(spec, options.get("render_mode"))
    try:
        quiet_native_logs(spec)
        return gym.make(spec, **options)
    except Exception as exc:  # whatever the env's own code raises
        raise EnvError(
            f"cannot make {spec.id}: {type(exc).__name__}: {exc}{install_hint(exc)}"
        ) from exc


def render_modes(spec: EnvSpec) -> list[str] | None:
    """The render modes `spec`'s environment lists in its class's metadata, read without
    making it; None when its entry point does not import (making it will say why).

    >>> render_modes(gym.spec("CartPole-v1"))
    ['human', 'rgb_array']
    """
    entry_point = spec.entry_point
    try:
        creator: Any = (
            gym.envs.registration.load_env_creator(entry_point)
            if isinstance(entry_point, str)
            else entry_point
        )
    except Exception:  # whatever importing the env's module raises
        return None
    return [str(mode) for mode in getattr(creator, "metadata", {}).get("render_modes", [])]


def check_render_mode(spec: EnvSpec, mode: Any) -> None:
    """Refuse a ``render_mode`` (`mode`, None: none asked for) the environment does not list."""
    modes = None if mode is None else render_modes(spec)
    if modes is not None and mode not in modes:
        raise EnvError(
            f"{spec.id} has no render mode {mode!r} (it has {', '.join(modes) or 'none'})",
            key=("env", "kwargs", "render_mode"),
        )


def _check_installed(spec: EnvSpec) -> None:
    """Refuse a registered environment whose family's package is not installed (Gymnasium
    registers MuJoCo's and Box2D's environments whether or not they are)."""
    family = family_of(spec)
    found = component_install(family) if family in PACKAGED_FAMILIES else None
    if found is not None and not installed(found[0]):
        raise _not_installed(spec.id, family, *found)


def require_plugin(env_id: str) -> None:
    """`NotInstalledError` for an ID that a plugin which is not installed would register:
    in its namespace (``ALE/...``), or one of its games by name (``Pong-v5``, ``pong``)."""
    namespace, name, _ = _parts(env_id)
    load_plugins()
    for plugin_namespace, (module, family) in PLUGIN_NAMESPACES.items():
        if _plugins.get(module):
            continue
        game = re.sub(r"(-ram)?(NoFrameskip|Deterministic)?$", "", name, flags=re.IGNORECASE)
        if (namespace or "").lower() == plugin_namespace.lower() or (
            namespace is None and game.lower() in _atari_games()
        ):
            found = component_install(family)
            if found is not None:
                raise _not_installed(env_id, family, *found)


def _not_installed(env_id: str, family: str, module: str, command: str) -> NotInstalledError:
    return NotInstalledError(
        f"{family} environment '{env_id}' needs the {module} package, which is not "
        f"installed (install it: {command})"
    )


@functools.cache
def _atari_games() -> frozenset[str]:
    """The Atari games' names in lower case, from the list shipped with gymrun."""
    text = (resources.files("gymrun.components") / "atari_games.txt").read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line.lower() for line in lines if line and not line.startswith("#"))


_ID = re.compile(r"^(?:(?P<namespace>[^/]+)/)?(?P<name>.+?)(?:-v(?P<version>\d+))?$")


def _parts(env_id: str) -> tuple[str | None, str, int | None]:
    """``(namespace, name, version)`` of an ID as typed, any of them possibly wrong.

    >>> _parts("ALE/Pong-v5"), _parts("pong")
    (('ALE', 'Pong', 5), (None, 'pong', None))
    """
    match = _ID.match(env_id)
    if match is None:
        return None, env_id, None
    version = match.group("version")
    return match.group("namespace"), match.group("name"), None if version is None else int(version)


def near_misses(env_id: str, registry: Iterable[EnvSpec] | None = None) -> list[str]:
    """The registered IDs `env_id` nearly names, best first.

    The same name (in any capitals, in any namespace, or a near spelling of it): the ID
    with the version asked for, else every version there is, newest first; a name without
    a version gets the newest version in each namespace. Failing that, IDs spelled alike.

    >>> near_misses("Acrobot-v9"), near_misses("halfcheetah"), near_misses("CartPol-v1")
    (['Acrobot-v1'], ['HalfCheetah-v5'], ['CartPole-v1'])
    """
    specs = list(gym.registry.values() if registry is None else registry)
    namespace, name, version = _parts(env_id)
    by_name: dict[str, list[EnvSpec]] = {}
    for spec in specs:
        by_name.setdefault(spec.name.lower(), []).append(spec)
    key = name.lower()
    if key not in by_name:
        close = difflib.get_close_matches(key, by_name, n=1, cutoff=0.75)
        if not close:
            ids = [spec.id for spec in specs]
            return difflib.get_close_matches(env_id, ids, n=1, cutoff=0.6)
        key = close[0]
    newest_first = sorted(by_name[key], key=lambda s: (-(s.version or 0), s.namespace or ""))
    if version is not None:
        wanted = (namespace or "").lower()
        in_namespace = [s for s in newest_first if (s.namespace or "").lower() == wanted]
        exact = [s for s in newest_first if s.version == version]
        if any(s in in_namespace for s in exact):
            return [s.id for s in exact if s in in_namespace]
        if exact and namespace is not None:  # the version elsewhere, or another one here
            return [s.id for s in exact + in_namespace]
        return [s.id for s in (exact or newest_first)]
    newest: dict[str | None, EnvSpec] = {}
    for spec in newest_first:
        newest.setdefault(spec.namespace, spec)
    return [s.id for s in newest.values()]


def suggestion(env_id: str, most: int = 4) -> str:
    """``"; did you mean 'a', 'b' or 'c'?"`` for the IDs `env_id` nearly names (at most
    `most`, see `near_misses`), or ``""``.

    >>> suggestion("LunarLander-v2")
    "; did you mean 'LunarLander-v3'?"
    """
    ids = near_misses(env_id)
    if not ids:
        return ""
    quoted = [f"'{i}'" for i in ids[:most]]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
    return f"; did you mean {listed}?"
