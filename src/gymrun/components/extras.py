"""Optional packages: which environment families and features each provides, how to install
it, and the hint an error about a missing one carries."""

from __future__ import annotations

import re

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
        "pip install 'gymrun[box2d]'",
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
    (
        "board",
        "feature",
        "jinja2",
        "gymrun board (the web scoreboard)",
        "pip install 'gymrun[board]'",
    ),
    (
        "statistics",
        "feature",
        "scipy",
        "IQM, intervals and probability of improvement in gymrun board and compare",
        "pip install 'gymrun[board]'",
    ),
    (
        "Stable-Baselines3",
        "agents",
        "stable_baselines3",
        "agent: {name: sb3, path: model.zip}",
        "pip install 'gymrun[sb3]'",
    ),
    (
        "ONNX",
        "agents",
        "onnxruntime",
        "agent: {name: onnx, path: policy.onnx}",
        "pip install 'gymrun[onnx]'",
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
