"""What reproducing a run needs besides its config: versions, platform, command, commit."""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import gymnasium
import numpy

from gymrun.version import __version__


def run_metadata(command: Sequence[str] | None = None) -> dict[str, Any]:
    """Versions, platform, command line and git commit, as ``meta.json`` keeps them."""
    return {
        "gymrun": __version__,
        "gymnasium": gymnasium.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "command": list(sys.argv if command is None else command),
        "cwd": os.getcwd(),
        "git": _git_state(os.getcwd()),
        # whether a run still marked "running" was killed can be told from these
        "pid": os.getpid(),
        "host": platform.node(),
    }


@functools.lru_cache(maxsize=8)
def _git_state(cwd: str | None = None) -> dict[str, Any] | None:
    """The commit checked out where gymrun runs (`cwd` keys the cache: the runs of a sweep
    ask once, not once each)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], capture_output=True, text=True, timeout=5, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None  # not a checkout, or no git
    return {"commit": commit, "dirty": bool(status.strip())}


# In meta.json while a resumed run's config.yaml is replaced by one asking for more episodes:
# the new config's hash. Until the run's meta.json is written again without it, the run's
# config.yaml is its own under either hash (a process killed between the two writes leaves
# one or the other).
PENDING_CONFIG = "config_sha256_pending"


def config_sha256(text: str) -> str:
    """The hash of a run's ``config.yaml`` as written, which ``meta.json`` keeps: a config
    edited since (another environment, say) is then not taken for the one its episodes
    were played with."""
    return hashlib.sha256(text.encode()).hexdigest()
