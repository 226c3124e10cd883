"""Claiming the directory a run records into."""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from gymrun.errors import GymrunError
from gymrun.records.layout import DEFAULT_ROOT, RUN_FILES, VIDEO_DIR


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_run_dir(name: str, root: Path = DEFAULT_ROOT) -> Path:
    """Create and return a fresh ``root/name/<UTC timestamp>`` directory.

    Never reuses a directory: a second run in the same second gets a ``-2`` suffix, and the
    directory is claimed with an atomic ``mkdir``, so concurrent runs cannot collide either.
    """
    parent = root / name
    parent.mkdir(parents=True, exist_ok=True)
    stamp = utc_now().strftime("%Y-%m-%dT%H-%M-%SZ")
    for attempt in itertools.count(1):
        candidate = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


def claim_output_dir(path: Path, *, force: bool = False) -> Path:
    """Make `path` ready for a run: refuse a non-empty one unless `force`.

    With `force`, only the files a run writes are removed; anything else in the directory
    is left alone.
    """
    if path.exists() and not path.is_dir():
        raise GymrunError(f"--output {path}: exists and is not a directory")
    if path.is_dir() and any(path.iterdir()):
        if not force:
            raise GymrunError(
                f"--output {path}: the directory is not empty; nothing in it was touched "
                "(choose another directory, or pass --force to replace the run in it)"
            )
        for name in RUN_FILES:
            (path / name).unlink(missing_ok=True)
        shutil.rmtree(path / VIDEO_DIR, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def record_dir(
    name: str, *, output: Path | None = None, force: bool = False, record: bool = True
) -> Iterator[Path | None]:
    """The directory a run or sweep records into (None with `record` False): `output`, or a
    new ``recordings/NAME/TIME``. If the run could not start (a `GymrunError` escapes), an
    empty directory is removed again."""
    if not record:
        yield None
        return
    directory = claim_output_dir(output, force=force) if output else new_run_dir(name)
    try:
        yield directory
    except GymrunError:
        with contextlib.suppress(OSError):
            directory.rmdir()  # only when empty: a run that started keeps its record
        raise
