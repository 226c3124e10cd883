"""Whether a run still marked running is still recording: its lock held by a process, or
its process (by ``meta.json``'s pid, host and command) still there. Every reader of a run
(``show``, ``compare``, the board) tells what became of it from here."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from gymrun.records.layout import LOCK_FILE, only_claimed


def became(stored: str, has_summary: bool, meta: dict[str, Any] | None, directory: Path) -> str:
    """What became of the run in `directory`, whose ``summary.json`` says `stored` (if it
    `has_summary`): a run still marked running is *killed* when its process is gone (on
    this machine), and *unfinished* when that cannot be told."""
    if not has_summary:
        return "unfinished"
    if stored != "running":
        return stored
    alive = recording(directory)
    if alive is None:
        alive = process_alive(meta or {})
    return "unfinished" if alive is None else "running" if alive else "killed"


def recording(directory: Path) -> bool | None:
    """Whether a process still holds the run directory's lock (None without a lock file,
    or where locks cannot be tested). The lock is only tried, never waited for."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        return None
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        descriptor = os.open(directory / LOCK_FILE, flags)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return False
    finally:
        os.close(descriptor)


def process_alive(meta: dict[str, Any]) -> bool | None:
    """Whether the process that wrote ``meta.json`` still runs: None when it ran on another
    machine, or ``meta.json`` does not say."""
    pid, host = meta.get("pid"), meta.get("host")
    if not isinstance(pid, int) or host != platform.node():
        return None
    proc = Path("/proc")
    if (proc / "self").exists():  # Linux: the pid must still run the run's command
        try:
            running = (proc / str(pid) / "cmdline").read_bytes().rstrip(b"\0").split(b"\0")
        except OSError:
            return False
        # argv[0] differs between `gymrun` and `python -m gymrun`; the arguments do not
        arguments = [str(part).encode() for part in (meta.get("command") or [])[1:]]
        return not arguments or running[-len(arguments) :] == arguments
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


NEVER_STARTED = (
    "a run, sweep or duel that never started: nothing of it was recorded, and no process "
    "holds its lock (killed as it started); it can be removed"
)


STARTING = "a run, sweep or duel starting now: nothing of it is recorded yet"


def unstarted(directory: Path, *, ours: bool = False) -> str | None:
    """What `directory`, holding nothing but its lock file (see `layout.only_claimed`), is
    in words: a run starting now while a process holds its lock (`STARTING`), else one that
    never started (`NEVER_STARTED`). None for any other directory. With `ours`, the lock is
    this process's (it claimed the directory to go on in it), so no other holds it."""
    if not only_claimed(directory):
        return None
    if not ours and recording(directory):
        return STARTING
    return NEVER_STARTED


# how a sweep or a duel that was stopped goes on (a sweep's directory holds no settings)
_RESUME = {"sweep": "gymrun sweep CONFIG --resume {}", "duel": "gymrun duel --resume {}"}


def going(directory: Path, kind: str) -> tuple[str, str]:
    """What became of the sweep or duel (`kind`) in `directory` whose record says it is
    running (its process holds the directory's lock while it plays): running, killed or
    unfinished, and that in words, with the command that goes on from there."""
    status = became("running", True, None, directory)
    words = {
        "running": f"the {kind} is still going",
        "killed": (
            f"its process is gone: the {kind} was killed before it could end "
            f"({_RESUME[kind].format(directory)} goes on from there)"
        ),
    }
    return status, words.get(status, f"the {kind} is still going, or was stopped before it ended")
