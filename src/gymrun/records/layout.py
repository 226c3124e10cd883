"""The files of a run directory, and what a run is called.

A run directory holds ``config.yaml`` (the resolved config: running it again repeats the run),
``episodes.jsonl`` (one line per finished episode, written as it finishes), ``summary.json``
(with ``status``: running, completed, interrupted or failed), ``meta.json`` (versions,
platform, command line, git commit), ``reward.png`` when matplotlib is installed,
``videos/``, and ``.gymrun.lock`` (see `gymrun.records.directory`). A sweep's directory holds
``sweep.json``, ``sweep.png`` and a run directory per (point, seed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_ROOT = Path("recordings")
CONFIG_FILE = "config.yaml"
EPISODES_FILE = "episodes.jsonl"
SUMMARY_FILE = "summary.json"
META_FILE = "meta.json"
PLOT_FILE = "reward.png"
VIDEO_DIR = "videos"
LOCK_FILE = ".gymrun.lock"  # locked while a run records; marks the directory as a run's
RUN_FILES = (CONFIG_FILE, EPISODES_FILE, SUMMARY_FILE, META_FILE, PLOT_FILE)
SWEEP_FILE = "sweep.json"
SWEEP_PLOT = "sweep.png"
SWEEP_FILES = (SWEEP_FILE, SWEEP_PLOT)


def run_title(config: dict[str, Any]) -> str:
    """``name: env, agent NAME`` for a config in its JSON form.

    >>> run_title({"name": "x", "env": {"id": "CartPole-v1"}, "agent": {"name": "random"}})
    'x: CartPole-v1, agent random'
    >>> cartpole = {"id": "CartPole-v1"}
    >>> run_title({"name": "CartPole-v1", "env": cartpole, "agent": {"name": "random"}})
    'CartPole-v1, agent random'
    """
    name, env = config.get("name") or "experiment", config["env"]["id"]
    what = f"{env}, agent {config['agent']['name']}"
    return what if name == env else f"{name}: {what}"
