"""Optional packages: which environment families and features each provides, how to install
it, and the hint an error about a missing one carries."""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

# (name, kind, module to import, what it enables, what to install: a gymrun extra or a package)
COMPONENTS: list[tuple[str, str, str, str, str]] = [
    (
        "classic control",
        "environments",
        "pygame",
        "CartPole, MountainCar, Pendulum, Acrobot",
        "gymnasium[classic-control]",
    ),
    (
        "toy text",
        "environments",
        "gymnasium.envs.toy_text",
        "FrozenLake, Taxi, Blackjack, CliffWalking",
        "gymnasium[toy-text]",
    ),
    (
        "Box2D",
        "environments",
        "Box2D",
        "LunarLander, BipedalWalker, CarRacing",
        "gymrun[box2d]",
    ),
    (
        "MuJoCo",
        "environments",
        "mujoco",
        "Ant, HalfCheetah, Hopper, Humanoid, ... (v4, v5)",
        "gymrun[mujoco]",
    ),
    (
        "Atari",
        "environments",
        "ale_py",
        "ALE/... games (ROMs ship with ale-py)",
        "gymrun[atari]",
    ),
    (
        "jax",
        "environments",
        "jax",
        "phys2d/... and tabular/... functional environments",
        "gymnasium[jax]",
    ),
    ("plots", "feature", "matplotlib", "reward.png and sweep.png", "gymrun[plot]"),
    ("video", "feature", "moviepy", "record: {video: true}", "gymrun[video]"),
    (
        "dask",
        "feature",
        "distributed",
        "gymrun sweep --executor dask",
        "gymrun[dask]",
    ),
    (
        "datasets",
        "feature",
        "minari",
        "gymrun run --dataset (Minari datasets of a run's steps)",
        "gymrun[minari]",
    ),
    (
        "board",
        "feature",
        "jinja2",
        "gymrun board (the web scoreboard)",
        "gymrun[board]",
    ),
    (
        "statistics",
        "feature",
        "scipy",
        "IQM, intervals and probability of improvement in gymrun board and compare",
        "gymrun[board]",
    ),
    (
        "Stable-Baselines3",
        "agents",
        "stable_baselines3",
        "agent: {name: sb3, path: model.zip} and {name: rlzoo, path: FOLDER}",
        "gymrun[sb3]",
    ),
    (
        "ONNX",
        "agents",
        "onnxruntime",
        "agent: {name: onnx, path: policy.onnx}",
        "gymrun[onnx]",
    ),
    (
        "rl-zoo3",
        "tools",
        "rl_zoo3",
        "training the model folders agent rlzoo plays (playing them needs only SB3)",
        "rl_zoo3",
    ),
    ("Minari", "tools", "minari", "offline-RL datasets in Minari's format", "minari"),
]

# Modules found, not imported, to tell whether they are installed: importing rl_zoo3 patches
# Gymnasium's TimeLimit in the importing process.
FOUND_NOT_IMPORTED = {"rl_zoo3"}


def install_command(requirement: str) -> str:
    """The command that installs `requirement` into the Python running gymrun: a gymrun
    extra (``gymrun[plot]``) from the checkout gymrun was installed from, or its packages
    when there is no checkout (gymrun is not on PyPI); any other package by name.

    >>> install_command("gymnasium[jax]").endswith("install 'gymnasium[jax]'")
    True
    """
    pip = _pip()
    if not requirement.startswith("gymrun["):
        return f"{pip} install {shlex.quote(requirement)}"
    extra = requirement.removeprefix("gymrun[").removesuffix("]")
    source, editable = _installed_from()
    if source is not None:
        flag = "-e " if editable else ""
        return f"{pip} install {flag}{shlex.quote(f'{_shown(source)}[{extra}]')}"
    packages = _extra_requirements(extra)
    return f"{pip} install {' '.join(shlex.quote(p) for p in packages)}"


def _pip() -> str:
    """``pip`` when the environment gymrun runs in is the active one, else its own pip."""
    active = os.environ.get("VIRTUAL_ENV")
    if active and Path(active).resolve() == Path(sys.prefix).resolve():
        return "pip"
    return f"{shlex.quote(_shown(Path(sys.executable)))} -m pip"


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it lies inside it (``.``,
    ``./.venv/bin/python``: a path, not a name, to pip and the shell), else absolute."""
    try:
        relative = path.absolute().relative_to(Path.cwd())
    except ValueError:
        return str(path)
    return "." if relative == Path() else f"./{relative}"


@functools.lru_cache(maxsize=1)
def _installed_from() -> tuple[Path | None, bool]:
    """The local directory gymrun was installed from (PEP 610's direct_url.json), and
    whether it was installed editable."""
    try:
        text = metadata.distribution("gymrun").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None, False
    try:
        origin = json.loads(text or "null") or {}
    except ValueError:
        return None, False
    url = urlparse(origin.get("url", ""))
    if url.scheme != "file" or "dir_info" not in origin:
        return None, False
    source = Path(unquote(url.path))
    return (source, bool(origin["dir_info"].get("editable"))) if source.is_dir() else (None, False)


def _extra_requirements(extra: str) -> list[str]:
    """The packages gymrun's `extra` adds, from the installed metadata."""
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    try:
        requires = metadata.requires("gymrun") or []
    except metadata.PackageNotFoundError:
        requires = []
    found = [r.split(";")[0].strip() for r in requires if ";" in r and marker.search(r)]
    return found or [f"gymrun[{extra}]"]


def component_install(name: str) -> tuple[str, str] | None:
    """The module component `name` (an environment family: ``MuJoCo``, ``Atari``, ...)
    needs, and the command that installs it; None for a name that is not a component.

    >>> component_install("Atari")[0], component_install("gymrun")
    ('ale_py', None)
    """
    for component, _, module, _, requirement in COMPONENTS:
        if component == name:
            return module, install_command(requirement)
    return None


def install_hint(exc: BaseException) -> str:
    """``" (install it: ...)"`` when `exc` is a missing module a component provides, else ``""``.

    >>> install_hint(ModuleNotFoundError("No module named 'jax'", name="jax"))
    ... # doctest: +ELLIPSIS
    " (install it: ...pip install 'gymnasium[jax]')"
    """
    if isinstance(exc, ImportError) and "gymnasium-robotics" in str(exc):
        # Gymnasium keeps the old MuJoCo v2/v3 IDs only to say where they went
        return f" (install it: {_pip()} install gymnasium-robotics mujoco-py)"
    pinned = re.search(r"only supported on `([^`]+)`", str(exc))
    if isinstance(exc, ImportError) and pinned:
        return f" (install it: {install_command(pinned.group(1))})"
    missing = getattr(exc, "name", None)
    if not isinstance(exc, ModuleNotFoundError) or not missing:
        # Gymnasium says "MuJoCo is not installed" raising from the ImportError it caught
        cause = exc.__cause__ or exc.__context__
        return "" if cause is None or cause is exc else install_hint(cause)
    for _, _, module, _, requirement in COMPONENTS:
        if module.split(".")[0] == missing.split(".")[0]:
            return f" (install it: {install_command(requirement)})"
    return ""


def writable_matplotlib_dir() -> None:
    """Call before matplotlib is imported. Where matplotlib's config and cache directory
    cannot be written (no writable home, as in many containers) and ``MPLCONFIGDIR`` is not
    set, point ``MPLCONFIGDIR`` at a directory of gymrun's own, removed as this process ends.

    matplotlib would otherwise warn on every run, and leave the temporary directory it makes
    instead behind when it is imported in a process that ends without running ``atexit``
    (the plotting process a run forks). Processes forked after this call share the
    directory; call it in the process that starts them."""
    if os.environ.get("MPLCONFIGDIR") or "matplotlib" in sys.modules:
        return
    if all(_writable(path) for path in _matplotlib_dirs()):
        return
    try:
        path = tempfile.mkdtemp(prefix="gymrun-matplotlib-")
    except OSError:
        return  # no writable temporary directory either: matplotlib says so itself
    os.environ["MPLCONFIGDIR"] = path
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not in a forked process that runs atexit
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)


def _matplotlib_dirs() -> list[Path]:
    """Where matplotlib keeps its config and its cache without ``MPLCONFIGDIR``."""
    try:
        home = Path.home()
    except RuntimeError:  # no home at all
        return [Path("/nonexistent")]
    if not sys.platform.startswith(("linux", "freebsd")):
        return [home / ".matplotlib"]
    config = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    cache = os.environ.get("XDG_CACHE_HOME") or str(home / ".cache")
    return [Path(config, "matplotlib"), Path(cache, "matplotlib")]


def _writable(path: Path) -> bool:
    """Whether matplotlib could make and write `path`, as it tries to (``mkdir -p``)."""
    try:
        path = path.resolve()
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):
        return False
    return path.is_dir() and os.access(path, os.W_OK)
