"""Claiming the directory a run (or a sweep) records into.

A run's directory holds a lock file, ``.gymrun.lock``, made when it is claimed and locked
(``flock``) for as long as the run records: two runs can never share a directory, and the
file marks the directory as a gymrun run's, which is what `force` (``--force``) may replace.
Messages name a directory as it was given (`config.wording`): a library call's argument
(``path='runs/a'``), or the command line's option (``--output runs/a``).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from gymrun.config.wording import wording
from gymrun.core.signals import deferred
from gymrun.errors import GymrunError, RecordError
from gymrun.records import files
from gymrun.records.layout import (
    CODE_DIR,
    DEFAULT_ROOT,
    DUEL_FILE,
    LOCK_FILE,
    META_FILE,
    RUN_FILES,
    SET_ASIDE_DIR,
    SUMMARY_FILE,
    SWEEP_FILES,
    VIDEO_DIR,
    only_claimed,
)
from gymrun.records.liveness import STARTING


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class RecordDir:
    """A directory claimed for one run: locked until `release`; with `replacing`, the run
    recorded in it before is removed by `clear_previous`, once the new run has started."""

    def __init__(self, path: Path, lock: int, *, replacing: bool = False) -> None:
        self.path = path
        self._lock: int | None = lock
        self._replacing = replacing

    @classmethod
    def claim(
        cls, path: Path, *, force: bool = False, where: str = "", replacing: str = ""
    ) -> RecordDir:
        """Claim `path` (made if missing): refused if it is not empty, unless `force` and it
        holds a gymrun run or sweep. Nothing in it is touched here. Messages name it as
        `where` does (``record directory runs/a``; by default as this call's `path`, or
        ``--output``), and say how to replace the run in it as `replacing` does (by default
        as `force`)."""
        where = where or wording().valued("path", str(path), "--output")
        forcing = wording().setting("force", True)
        link = files.led_nowhere(path)
        if link is not None:
            raise RecordError(f"{where}: {link}")
        if path.exists() and not path.is_dir():
            raise RecordError(f"{where}: exists and is not a directory")
        _make(path, where)
        contents = [entry for entry in path.iterdir() if entry.name != LOCK_FILE]
        ours = not contents or is_record_dir(path)
        if not ours and not force:  # nothing would make it ours to write in
            raise RecordError(
                f"{where}: the directory is not empty and holds no gymrun run or sweep; "
                "nothing in it was touched (choose another directory)"
            )
        if contents and not force:
            raise RecordError(
                f"{where}: the directory is not empty; nothing in it was touched (choose "
                f"another directory, or {replacing or f'pass {forcing} to replace the run in it'})"
            )
        if not ours:
            raise RecordError(
                f"{where}: not a gymrun run or sweep directory, so {forcing} does not "
                "replace what is in it; nothing in it was touched"
            )
        if contents and path.is_symlink():  # what it leads to may not be what was meant
            raise RecordError(
                f"{where}: a symbolic link to {os.path.realpath(path)}; {forcing} replaces "
                "a record only in a directory named as itself, not through a link; nothing "
                "in it was touched"
            )
        return cls(path, _lock(path, where), replacing=bool(contents))

    @classmethod
    def reopen(cls, path: Path, where: str = "") -> RecordDir:
        """Claim the directory of a run to continue it: it must hold a gymrun run, and
        nothing in it is removed. Messages name it as `where` does (``record directory
        runs/a``; by default as this call's `path`, or ``--resume``)."""
        where = where or wording().valued("path", str(path), "--resume")
        problem = files.no_directory(path)
        if problem is not None:
            raise RecordError(f"{where}: {problem}")
        if not is_record_dir(path):
            runs = sorted(e.name for e in path.iterdir() if e.is_dir() and is_record_dir(e))
            hint = f" (it holds runs: name one, such as {path / runs[-1]})" if runs else ""
            raise RecordError(f"{where}: not a gymrun run's directory{hint}")
        return cls(path, _lock(path, where))

    @classmethod
    def hold(cls, path: Path, where: str, busy: str) -> RecordDir:
        """Lock the folder `path` (there already) as a run's directory is locked, for
        something other than a run (the board's output folder, named by `where`): refused,
        saying `busy`, while another process holds it. Nothing in it is touched."""
        return cls(path, _lock(path, where, busy))

    def clear_previous(self) -> None:
        """Remove the run (or sweep) recorded here before, when this one replaces it: its
        files and run directories, never following a symbolic link out of the directory."""
        if not self._replacing:
            return
        self._replacing = False
        for name in (*RUN_FILES, *SWEEP_FILES, DUEL_FILE):
            _remove(self.path / name)
            _remove(self.path / f"{name}.partial")
            _remove(self.path / f"{name}.reserved")
        _remove(self.path / VIDEO_DIR)
        _remove(self.path / CODE_DIR)
        _remove(self.path / SET_ASIDE_DIR)  # the replaced sweep's or duel's, with it
        for entry in self.path.iterdir():
            if entry.is_dir() and not entry.is_symlink() and is_record_dir(entry):
                _remove(entry)

    def release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)  # closing releases the flock
            self._lock = None

    def __enter__(self) -> RecordDir:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


def is_record_dir(path: Path) -> bool:
    """Whether `path` holds a gymrun run, sweep or duel (its lock file; or, made before there
    was one, a ``meta.json`` that gymrun wrote beside a ``summary.json``)."""
    ours = (LOCK_FILE, *SWEEP_FILES, DUEL_FILE)
    if any(files.is_regular(path, name) for name in ours):
        return True
    try:
        meta = files.read_json(path, META_FILE)
    except (OSError, GymrunError):
        return False
    return isinstance(meta, dict) and "gymrun" in meta and files.is_regular(path, SUMMARY_FILE)


def new_record_dir(name: str, root: Path = DEFAULT_ROOT) -> RecordDir:
    """Claim a fresh ``root/name/<UTC timestamp>`` directory.

    Never reuses a directory: a second run in the same second gets a ``-2`` suffix, and the
    directory is claimed with an atomic ``mkdir``, so concurrent runs cannot collide either.
    """
    parent = root / name
    _make(parent, f"the recordings directory {parent}")
    stamp = utc_now().strftime("%Y-%m-%dT%H-%M-%SZ")
    for attempt in itertools.count(1):
        candidate = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise RecordError(f"cannot make the run directory {candidate}: {exc.strerror}") from exc
        return RecordDir(candidate, _lock(candidate, f"run directory {candidate}"))
    raise AssertionError("unreachable")


def set_aside(run_dir: Path) -> Path:
    """Move a sweep's or duel's run directory that is to be played again from its start
    into ``.set-aside/<run>-<UTC timestamp>`` beside it (``-2`` for a second in the same
    second), where no reader takes it for one of the runs, and say where it went: what a run
    recorded is never deleted. A rename within the sweep's own directory: nothing is copied,
    nothing written elsewhere."""
    folder = run_dir.parent / SET_ASIDE_DIR
    stamp = utc_now().strftime("%Y-%m-%dT%H-%M-%SZ")
    try:
        folder.mkdir(exist_ok=True)
        for attempt in itertools.count(1):
            kept = folder / (f"{run_dir.name}-{stamp}" + ("" if attempt == 1 else f"-{attempt}"))
            if not os.path.lexists(kept):
                run_dir.rename(kept)
                return kept
    except OSError as exc:
        raise RecordError(
            f"cannot move {run_dir} aside into {folder} to play it again: "
            f"{exc.strerror or exc}; nothing was played"
        ) from exc
    raise AssertionError("unreachable")


def new_run_dir(name: str, root: Path = DEFAULT_ROOT) -> Path:
    """A fresh ``root/name/<UTC timestamp>`` directory, for `run_experiment`'s `record_dir`."""
    with new_record_dir(name, root) as claimed:
        return claimed.path


@contextlib.contextmanager
def claimed(
    directory: Path | RecordDir | None, *, resume: bool, keyword: str
) -> Iterator[RecordDir | None]:
    """`directory` claimed for the time of the block (a path, a library call's argument
    `keyword`; a `RecordDir` or None is given back as it is, its owner releases it), taken
    over when `resume`."""
    if not isinstance(directory, Path):
        yield directory
        return
    named = wording()
    record = RecordDir.claim(
        directory,
        force=resume,
        where=named.valued(keyword, str(directory)),
        replacing=f"pass {named.setting('resume', True)} to go on with what is recorded there",
    )
    try:
        yield record
    finally:
        record.release()


def claim_output_dir(path: Path, *, force: bool = False, keyword: str = "output") -> RecordDir:
    """`RecordDir.claim` for a directory given as `keyword` (``output``: ``--output`` on the
    command line)."""
    return RecordDir.claim(path, force=force, where=wording().valued(keyword, str(path)))


@contextlib.contextmanager
def record_dir(
    name: str,
    *,
    output: Path | None = None,
    force: bool = False,
    record: bool = True,
    keyword: str = "output",
) -> Iterator[RecordDir | None]:
    """The directory a run or sweep records into (None with `record` False): `output` (given
    as `keyword`: ``--resume DIR`` goes on in it), or a new ``recordings/NAME/TIME``, locked
    while the run goes on. If nothing was recorded in it (the run could not start, or not
    write), it is removed again."""
    if not record:
        yield None
        return
    made = _missing((output.absolute().parent if output else DEFAULT_ROOT / name).absolute())
    # a directory that was there before (`--resume DIR`, `-o DIR`) stays, as it was
    there = (output, output / LOCK_FILE) if output else ()
    kept = {path for path in there if os.path.lexists(path)}
    claimed: RecordDir | None = None
    try:
        with deferred():  # a stop now is raised once the directory is claimed, then cleared
            claimed = (
                claim_output_dir(output, force=force, keyword=keyword)
                if output
                else new_record_dir(name)
            )
        yield claimed
    finally:
        if claimed is not None:
            with deferred():
                _clear_unrecorded(claimed, made, kept)


def _clear_unrecorded(claimed: RecordDir, made: list[Path], kept: set[Path]) -> None:
    """A run that recorded nothing (it was refused, stopped, or could not start or write)
    leaves nothing: neither its directory nor the ones made for it (recordings/NAME/), but
    for those of them that were there before (`kept`); one that started keeps its record."""
    with contextlib.suppress(OSError):
        if not any(e.name != LOCK_FILE for e in claimed.path.iterdir()):
            if claimed.path / LOCK_FILE not in kept:
                (claimed.path / LOCK_FILE).unlink()
            if claimed.path not in kept:
                claimed.path.rmdir()
            for directory in made:  # deepest first; one another run uses stays
                directory.rmdir()
    claimed.release()


def _missing(path: Path) -> list[Path]:
    """`path` and those of its parents that do not exist yet, deepest first (claiming makes
    them)."""
    missing = []
    while not os.path.lexists(path) and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _make(path: Path, where: str) -> None:
    """Make `path` (named `where` in messages) and its parents."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (NotADirectoryError, FileExistsError) as exc:  # a file where a directory should be
        blocking = next((p for p in (path, *path.parents) if os.path.lexists(p)), path)
        raise RecordError(f"{blocking}: not a directory, so {where} cannot be made") from exc
    except OSError as exc:
        raise RecordError(f"{where}: cannot make it: {exc.strerror or exc}") from exc


def _lock(path: Path, where: str, busy: str | None = None) -> int:
    """Open and lock ``path/.gymrun.lock`` (`where` names `path` in messages); refused while
    another run holds it (saying `busy`, when given). A new lock file is made exclusively,
    so two runs claiming a new directory at once cannot both."""
    new = not (path / LOCK_FILE).exists()
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | (os.O_EXCL if new else 0)
    try:
        lock = os.open(path / LOCK_FILE, flags, 0o644)
    except FileExistsError:
        said = busy or "another gymrun run has just claimed it"
        raise RecordError(f"{where}: {said}") from None
    except OSError as exc:
        raise RecordError(f"{where}: cannot claim it: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        # one that holds nothing yet is starting (as every reader tells it)
        said = busy or (
            STARTING if only_claimed(path) else "another gymrun run is recording there now"
        )
        raise RecordError(f"{where}: {said}") from None
    return lock


def _remove(path: Path) -> None:
    """Remove a file, a symbolic link (not what it points to) or a directory tree."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
