"""The files of a run directory, and what a run is called.

A run directory holds ``config.yaml`` (the resolved config: running it again repeats the run),
``episodes.jsonl`` (one line per finished episode, written as it finishes), ``summary.json``
(with ``status``: running, completed, interrupted or failed), ``meta.json`` (versions,
platform, command line, git commit, the hashes of the user's modules and of
``config.yaml``), ``reward.png`` when matplotlib is installed, ``videos/``, ``code/`` (a
copy of the user's modules it imported), and ``.gymrun.lock`` (see
`gymrun.records.directory`). A sweep's directory holds ``sweep.json``, ``sweep.png`` and a
run directory per (point, seed); a duel's holds ``duel.json`` and a run directory per side
and seed (``a-seed=0``, ``b-seed=0``). Either may hold ``.set-aside/``: the records of runs
that a resume played again from their start (damaged, or stopped where they cannot go on),
each kept as ``<run>-<UTC timestamp>``; hidden, so no reader takes them for the sweep's runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

DEFAULT_ROOT = Path("recordings")
CONFIG_FILE = "config.yaml"
EPISODES_FILE = "episodes.jsonl"
SUMMARY_FILE = "summary.json"
META_FILE = "meta.json"
PLOT_FILE = "reward.png"
VIDEO_DIR = "videos"
CODE_DIR = "code"  # a copy of the user's modules the run imported (see `records.code`)
LOCK_FILE = ".gymrun.lock"  # locked while a run records; marks the directory as a run's
RUN_FILES = (CONFIG_FILE, EPISODES_FILE, SUMMARY_FILE, META_FILE, PLOT_FILE)
SWEEP_FILE = "sweep.json"
SWEEP_PLOT = "sweep.png"
SWEEP_FILES = (SWEEP_FILE, SWEEP_PLOT)
SWEEP_RESERVED = f"{SWEEP_FILE}.reserved"  # the room kept for sweep.json while a sweep goes
# How a sweep names its runs (``epsilon=0.25-seed=1``; ``p000-s0`` in older records).
SWEEP_RUN = re.compile(r"(.+-)?seed=\d+|p\d+-s-?\d+")
DUEL_FILE = "duel.json"  # written when a duel starts, and again after each of its rounds
DUEL_SIDES = ("a", "b")  # how a duel's run directories begin: a-seed=0, b-seed=0
SET_ASIDE_DIR = ".set-aside"  # in a sweep's or duel's directory: runs a resume played again

Kind = Literal["run", "sweep", "duel"]


def record_kind(files: Iterable[str], folders: Iterable[str] = ()) -> Kind | None:
    """What a directory holding `files` and `folders` (names) records: a ``run`` (its
    ``config.yaml``), a ``duel`` (``duel.json``, written before its first run), a ``sweep``
    (``sweep.json``, the room reserved for it while the sweep goes, or runs named as a sweep
    names them: one killed before it wrote ``sweep.json``), or nothing of gymrun's. What is
    wrong with a file is said when it is read.

    >>> record_kind(["config.yaml", "episodes.jsonl"]), record_kind([], ["epsilon=0.5-seed=1"])
    ('run', 'sweep')
    >>> record_kind(["duel.json"], ["a-seed=0", "b-seed=0"])
    'duel'
    >>> record_kind(["notes.txt"], ["data"]) is None
    True
    """
    names = set(files)
    if CONFIG_FILE in names:
        return "run"
    if DUEL_FILE in names:
        return "duel"
    if SWEEP_FILE in names or SWEEP_RESERVED in names:
        return "sweep"
    if any(SWEEP_RUN.fullmatch(folder) for folder in folders):
        return "sweep"
    return None


def kind_of(directory: Path) -> Kind | None:
    """`record_kind` of `directory` (its entries of any kind, links not followed); None
    for one that recorded nothing yet (`only_claimed`)."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return None
    if only_claimed(directory):
        return None
    folders = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
    return record_kind([e.name for e in entries], folders)


def only_claimed(directory: Path) -> bool:
    """Whether `directory` holds gymrun's lock file and nothing else: a run, sweep or duel
    claimed and then killed before it recorded anything (SIGKILL, a machine lost), or one
    starting now (`gymrun.records.liveness.unstarted` tells which). It records nothing, so
    it is none of `record_kind`'s kinds; every reader says what it is instead. A run's
    `config.yaml` still empty counts as nothing: it is made, then written in one go, and a
    run killed between the two recorded nothing either.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / LOCK_FILE).touch()
    ...     alone = only_claimed(Path(tmp))
    ...     (Path(tmp) / CONFIG_FILE).touch()
    ...     empty = only_claimed(Path(tmp))
    ...     _ = (Path(tmp) / CONFIG_FILE).write_text("env: CartPole-v1")
    ...     alone, empty, only_claimed(Path(tmp))
    (True, True, False)
    """
    try:
        entries = {entry.name: entry for entry in os.scandir(directory)}
        lock = entries.pop(LOCK_FILE, None)
        config = entries.pop(CONFIG_FILE, None)
        return (
            not entries
            and lock is not None
            and lock.is_file(follow_symlinks=False)
            and (config is None or _empty_file(config))
        )
    except OSError:
        return False


def _empty_file(entry: os.DirEntry[str]) -> bool:
    return entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_size == 0


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
