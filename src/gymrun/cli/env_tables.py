"""Tables of environments and of this installation: list-envs, inspect, doctor, check."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from gymrun.cli.fitted import FittedTable
from gymrun.numbers import figure

if TYPE_CHECKING:
    from gymrun.components.catalog import EnvInfo
    from gymrun.diagnostics.availability import Availability


def envs_table(infos: Iterable[EnvInfo], here: Mapping[str, Availability]) -> Table:
    """``gymrun list-envs``: a section per family; whether each env runs here, its spaces."""
    table = FittedTable(title="Registered environments", title_justify="left")
    table.add_column("family")
    table.add_column("id", style="bold", no_wrap=True)
    table.add_column("runs", justify="center", no_wrap=True)
    table.add_column("action", drop=3)
    table.add_column("observation", drop=4)
    table.add_column("max steps", justify="right", no_wrap=True, short="steps", drop=2)
    table.add_column("reward threshold", justify="right", short="threshold", drop=1)
    family = None
    for info in infos:
        if family is not None and info.family != family:
            table.add_section()
        can = here[info.id]
        table.add_row(
            info.family if info.family != family else "",
            info.id,
            "✓" if can.runs else "✗",
            can.action_space or "",
            can.observation_space or "",
            figure(info.max_episode_steps),
            figure(info.reward_threshold),
        )
        family = info.family
    return table


def missing_families(infos: Iterable[EnvInfo], here: Mapping[str, Availability]) -> list[str]:
    """One line per family and reason that envs cannot run here: how many, and why."""
    counts: dict[tuple[str, str], int] = {}
    for info in infos:
        can = here[info.id]
        if not can.runs:
            key = (info.family, can.problem or "")
            counts[key] = counts.get(key, 0) + 1
    return [f"✗ {family} ({count}): {problem}" for (family, problem), count in counts.items()]


def env_description(info: dict[str, Any]) -> Group:
    """``gymrun inspect``: the spec as a table, then each space as a tree, then samples."""
    spec = Table(title=info["id"], title_justify="left", show_header=False)
    spec.add_column(style="bold")
    spec.add_column(overflow="fold")  # a long word (a path) folds, never cut
    for key in (
        "family",
        "entry_point",
        "max_episode_steps",
        "reward_threshold",
        "nondeterministic",
        "render_modes",
        "wrappers",
    ):
        value = info[key]
        if key == "wrappers" and not value:
            continue
        shown = ", ".join(value) if isinstance(value, list) else _plain(value)
        spec.add_row(key.replace("_", " "), shown)
    parts: list[Any] = [spec]
    for key in ("action_space", "observation_space"):
        tree = Tree(Text(key.replace("_", " "), "bold"))
        _space_tree(tree, info[key])
        parts.append(tree)
    samples = Table(show_header=False, box=None)
    samples.add_column(style="bold")
    samples.add_column(overflow="fold")  # a long word (a path) folds, never cut
    samples.add_row("action sample", Text(_plain(info["action_sample"])))
    samples.add_row("observation sample", Text(_plain(info["observation_sample"])))
    samples.add_row(f"reset(seed={info['seed']})", Text(_plain(info["first_observation"])))
    parts.append(samples)
    return Group(*parts)


def _plain(value: Any) -> str:
    """JSON-like text without quotes, numbers as every table shows them: ``[-4.8, -inf]``
    rather than ``[-4.8, '-inf']``, ``0.4189`` rather than ``0.41887903``."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_plain(item)}" for key, item in value.items()) + "}"
    if value is None or isinstance(value, float) or value in ("nan", "inf", "-inf"):
        return figure(value)
    return str(value)


def _space_tree(tree: Tree, space: dict[str, Any]) -> None:
    details = ", ".join(f"{k}={_plain(v)}" for k, v in space.items() if k not in ("type", "spaces"))
    node = tree.add(Text.assemble((space["type"], "cyan"), f"  {details}" if details else ""))
    children = space.get("spaces")
    if isinstance(children, dict):
        for key, child in children.items():
            branch = node.add(Text(key, style="bold"))
            _space_tree(branch, child)
    elif isinstance(children, list):
        for child in children:
            _space_tree(node, child)


def doctor_table(report: dict[str, Any]) -> Group:
    """``gymrun doctor``: versions, then each family and feature, usable or how to get it."""
    versions = Table(title="gymrun doctor", title_justify="left", show_header=False)
    versions.add_column(style="bold")
    versions.add_column(overflow="fold")  # a long word (a path) folds, never cut
    for name, version in report["versions"].items():
        versions.add_row(name, str(version))
    versions.add_row("platform", report["platform"])
    display = report["display"]
    versions.add_row(
        "display", display or "none (fine: recording renders rgb_array frames without one)"
    )
    versions.add_row("MuJoCo rendering", _rendering(report["rendering"]))
    parts = FittedTable(title="Environment families and features", title_justify="left")
    parts.add_column("", justify="center", no_wrap=True)
    parts.add_column("name", style="bold", no_wrap=True)
    parts.add_column("for", drop=1)
    parts.add_column("version, or how to install it", no_wrap=True)
    for part in report["components"]:
        mark = Text("✓", "green") if part["usable"] else Text("✗", "red")
        detail = part["detail"]
        if not part["usable"]:  # the cross says it is missing: what to do about it
            missing = detail == "not installed"
            detail = part["install"] if missing else f"{detail}: {part['install']}"
        parts.add_row(mark, part["name"], part["enables"], detail)
    return Group(versions, parts)


def _rendering(gl: dict[str, Any]) -> Text:
    """Which OpenGL platform MuJoCo's frames are drawn with, and why; or why none works."""
    if gl["source"] == "not installed":
        return Text("— (MuJoCo is not installed)")
    if not gl["works"]:
        user = gl["source"] == "MUJOCO_GL"
        verdict = f"MUJOCO_GL={gl['name']} does not work" if user else "no platform works"
        return Text(f"{verdict}: {gl['problem']}; {gl['advice']}", "red")
    if gl["source"] == "display":
        return Text("MuJoCo's default (GLFW, on the display)")
    why = "your MUJOCO_GL" if gl["source"] == "MUJOCO_GL" else "no display: chosen by gymrun"
    return Text(f"{gl['name']} ({why})")


def check_table(report: dict[str, Any]) -> Group:
    """``gymrun check``: the checker's verdict, its warnings, the speed of random play."""
    verdict = (
        Text("passes Gymnasium's environment checker", "green")
        if report["passed"]
        else Text(f"fails Gymnasium's environment checker: {report['error']}", "red")
    )
    parts: list[Any] = [Text.assemble((report["id"], "bold"), " ", verdict)]
    if report["warnings"]:
        warned = Table(title="Warnings", title_justify="left")
        warned.add_column("#", justify="right")
        warned.add_column("warning", overflow="fold")
        for number_, message in enumerate(report["warnings"], 1):
            warned.add_row(str(number_), message)
        parts.append(warned)
    else:
        parts.append(Text("no warnings"))
    if report["steps_per_second"] is not None:
        parts.append(
            Text(
                f"random play: {report['steps_per_second']:,.0f} steps/s "
                f"({report['steps']:,} steps, {report['episodes']:,} episodes)"
            )
        )
    return Group(*parts)
