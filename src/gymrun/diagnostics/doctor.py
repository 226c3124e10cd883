"""What this installation can do: environment families, optional features, versions."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import platform
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from gymrun.components.extras import COMPONENTS, FOUND_NOT_IMPORTED, install_command
from gymrun.components.rendering import display, mujoco_gl


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


def check_component(name: str, kind: str, module: str, enables: str, requirement: str) -> Component:
    """Import `module` to see whether a component works (installed is not always usable);
    its version is the installed distribution's (a module's ``__version__`` can be stale)."""
    install = install_command(requirement)
    if module in FOUND_NOT_IMPORTED:
        version = _distribution_version(module) if importlib.util.find_spec(module) else None
        if version is None:
            return Component(name, kind, False, "not installed", enables, install)
        return Component(name, kind, True, version, enables, install)
    try:
        imported = importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken install raising something else
        reason = "not installed" if isinstance(exc, ModuleNotFoundError) else str(exc)
        return Component(name, kind, False, reason, enables, install)
    version = _distribution_version(module) or getattr(imported, "__version__", None)
    return Component(name, kind, True, version or "installed", enables, install)


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    """Which distributions provide each top-level module (one scan of site-packages)."""
    from importlib.metadata import packages_distributions

    return packages_distributions()


def _distribution_version(module: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    for distribution in _distributions().get(module.split(".")[0], []):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return None


def diagnose() -> dict[str, Any]:
    """Everything ``gymrun doctor`` reports, as data.

    >>> report = diagnose()
    >>> sorted(report) == ["components", "display", "platform", "rendering", "versions"]
    True
    """
    import gymnasium
    import numpy
    import pydantic
    import rich
    import typer

    from gymrun.version import __version__

    versions = {
        "gymrun": __version__,
        "python": platform.python_version(),
        "gymnasium": _distribution_version("gymnasium") or gymnasium.__version__,
        "numpy": _distribution_version("numpy") or numpy.__version__,
        "pydantic": pydantic.VERSION,
        "typer": getattr(typer, "__version__", _distribution_version("typer") or "?"),
        "rich": _distribution_version("rich") or getattr(rich, "__version__", "?"),
    }
    return {
        "versions": versions,
        "platform": f"{platform.platform()} ({sys.executable})",
        "display": display(),
        # before the components: checking MuJoCo imports it, and the choice comes first
        "rendering": mujoco_gl().to_json(),
        "components": [check_component(*c).to_json() for c in COMPONENTS],
    }
