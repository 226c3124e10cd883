"""What this installation can do: environment families, optional features, versions."""

from __future__ import annotations

import importlib
import os
import platform
import re
import sys
from dataclasses import asdict, dataclass
from typing import Any

# (name, kind, module to import, what it enables, the command that installs it)
COMPONENTS: list[tuple[str, str, str, str, str]] = [
    (
        "classic control",
        "environments",
        "pygame",
        "CartPole, MountainCar, Pendulum, Acrobot",
        'pip install "gymnasium[classic-control]"',
    ),
    (
        "toy text",
        "environments",
        "gymnasium.envs.toy_text",
        "FrozenLake, Taxi, Blackjack, CliffWalking",
        'pip install "gymnasium[toy-text]"',
    ),
    (
        "Box2D",
        "environments",
        "Box2D",
        "LunarLander, BipedalWalker, CarRacing",
        "pip install swig && pip install 'gymrun[box2d]'",
    ),
    (
        "MuJoCo",
        "environments",
        "mujoco",
        "Ant, HalfCheetah, Hopper, Humanoid, ... (v4, v5)",
        "pip install 'gymrun[mujoco]'",
    ),
    (
        "Atari",
        "environments",
        "ale_py",
        "ALE/... games (ROMs ship with ale-py)",
        "pip install 'gymrun[atari]'",
    ),
    (
        "jax",
        "environments",
        "jax",
        "phys2d/... and tabular/... functional environments",
        'pip install "gymnasium[jax]"',
    ),
    ("plots", "feature", "matplotlib", "reward.png and sweep.png", "pip install 'gymrun[plot]'"),
    ("video", "feature", "moviepy", "record: {video: true}", "pip install 'gymrun[video]'"),
    (
        "dask",
        "feature",
        "distributed",
        "gymrun sweep --executor dask",
        "pip install 'gymrun[dask]'",
    ),
]


def install_hint(exc: BaseException) -> str:
    """``" (install it: ...)"`` when `exc` is a missing module a component provides, else ``""``.

    >>> install_hint(ModuleNotFoundError("No module named 'jax'", name="jax"))
    ' (install it: pip install "gymnasium[jax]")'
    """
    if isinstance(exc, ImportError) and "gymnasium-robotics" in str(exc):
        # Gymnasium keeps the old MuJoCo v2/v3 IDs only to say where they went
        return " (install it: pip install gymnasium-robotics mujoco-py)"
    pinned = re.search(r"only supported on `([^`]+)`", str(exc))
    if isinstance(exc, ImportError) and pinned:
        return f' (install it: pip install "{pinned.group(1)}")'
    missing = getattr(exc, "name", None)
    if not isinstance(exc, ModuleNotFoundError) or not missing:
        return ""
    for _, _, module, _, install in COMPONENTS:
        if module.split(".")[0] == missing.split(".")[0]:
            return f" (install it: {install})"
    return ""


@dataclass(frozen=True)
class Component:
    """One environment family or optional feature, and whether it is usable here."""

    name: str
    kind: str
    usable: bool
    detail: str  # its version when usable, else why not
    enables: str
    install: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_component(name: str, kind: str, module: str, enables: str, install: str) -> Component:
    """Import `module` to see whether a component works (installed is not always usable)."""
    try:
        imported = importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install raising something else
        reason = "not installed" if isinstance(exc, ModuleNotFoundError) else str(exc)
        return Component(name, kind, False, reason, enables, install)
    version = getattr(imported, "__version__", None) or _distribution_version(module)
    return Component(name, kind, True, version or "installed", enables, install)


def _distribution_version(module: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, packages_distributions, version

    for distribution in packages_distributions().get(module.split(".")[0], []):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return None


def diagnose() -> dict[str, Any]:
    """Everything ``gymrun doctor`` reports, as data.

    >>> report = diagnose()
    >>> sorted(report) == ["components", "display", "platform", "versions"]
    True
    """
    import gymnasium
    import numpy
    import pydantic
    import rich
    import typer

    from gymrun import __version__

    versions = {
        "gymrun": __version__,
        "python": platform.python_version(),
        "gymnasium": gymnasium.__version__,
        "numpy": numpy.__version__,
        "pydantic": pydantic.VERSION,
        "typer": getattr(typer, "__version__", _distribution_version("typer") or "?"),
        "rich": _distribution_version("rich") or getattr(rich, "__version__", "?"),
    }
    display = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    return {
        "versions": versions,
        "platform": f"{platform.platform()} ({sys.executable})",
        "display": display or None,
        "components": [check_component(*c).to_json() for c in COMPONENTS],
    }
