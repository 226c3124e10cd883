"""Optional packages: which environment families and features each provides, how to install
it, and the hint an error about a missing one carries."""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import sys
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
        "agent: {name: sb3, path: model.zip}",
        "gymrun[sb3]",
    ),
    (
        "ONNX",
        "agents",
        "onnxruntime",
        "agent: {name: onnx, path: policy.onnx}",
        "gymrun[onnx]",
    ),
]


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
        return ""
    for _, _, module, _, requirement in COMPONENTS:
        if module.split(".")[0] == missing.split(".")[0]:
            return f" (install it: {install_command(requirement)})"
    return ""
