"""Holding a board's folder while it is written: its lock file (``OUT/.gymrun.lock``, locked
as a run's directory is: `gymrun.records.directory`), held by `build_board` for its build
and by `serve_board` for as long as it serves, so that two boards never write one folder
at once, whoever started them: the second is refused, and writes nothing. Messages name
the folder as it was given (`config.wording`): `build_board`'s ``out='...'``, or
``gymrun board``'s ``--out``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from gymrun.board import store
from gymrun.config.wording import wording
from gymrun.errors import UsageError
from gymrun.records import files
from gymrun.records.directory import RecordDir
from gymrun.records.layout import only_claimed


def out_named(out: Path) -> str:
    """The board's folder as it was given: ``out='site'``, or ``--out site``."""
    return wording().valued("out", str(out))


def busy() -> str:
    """Why a folder another board holds is refused, in the terms of the caller."""
    server = wording().either("serve_board", "--serve")
    return f"another gymrun board build is in progress there (or {server}); try again once it ends"


@contextlib.contextmanager
def claimed_board(root: Path, out: Path) -> Iterator[None]:
    """`out` locked for the time of the block, for the board of `root`: refused (a
    `RecordError`, exit 2) while another build or server holds it. A folder that is not a
    board is refused as `build_board` refuses it, before anything is written in it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root, out = Path(tmp, "recordings"), Path(tmp, "board")
    ...     root.mkdir()
    ...     with claimed_board(root, out):
    ...         try:
    ...             with claimed_board(root, out):
    ...                 pass
    ...         except Exception as exc:
    ...             print(str(exc) == f"out='{out}': {busy()}", type(exc).__name__)
    True RecordError
    """
    # A folder holding nothing but the lock: another board's first build claimed it a
    # moment ago and has not written its record yet (the lock tells), or was stopped then.
    if not only_claimed(out):
        check_dirs(root, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out_named(out)}: cannot make it: {exc.strerror or exc}") from exc
    claim = RecordDir.hold(out, out_named(out), busy())
    try:
        if not store.held_by_board(out):
            # the record of a board not built yet: the folder is a board's from now on
            store.Store(out).close()
        yield
    finally:
        claim.release()


def check_dirs(root: Path, out: Path) -> None:
    """Refuse a recordings directory that is not there, and an output directory that
    would overwrite something that is not a board."""
    if not root.is_dir():
        blocking = file_in_the_way(root)
        said = files.no_directory(root) or "not a directory"
        if blocking not in (None, root):
            said = f"{blocking} is not a directory"
        raise UsageError(f"{root}: {said}")
    link = files.led_nowhere(out)
    if link is not None:
        raise UsageError(f"{out_named(out)}: {link}")
    source, target = root.resolve(), out.resolve()
    if target == source or source in target.parents or target in source.parents:
        raise UsageError(
            f"{out_named(out)}: the board cannot be inside the recordings it shows, nor hold them"
        )
    blocking = file_in_the_way(out)
    if blocking == out:
        raise UsageError(f"{out_named(out)}: exists and is not a directory")
    if blocking is not None:
        raise UsageError(f"{out_named(out)}: {blocking} is not a directory")
    if out.is_dir() and any(out.iterdir()) and not store.held_by_board(out):
        raise UsageError(
            f"{out_named(out)}: the directory is not empty and holds no board ({store.FILE}); "
            "nothing in it was touched (choose another directory)"
        )


def file_in_the_way(path: Path) -> Path | None:
    """The first of `path` and its parents that is there, when it is not a directory: no
    directory can be made at `path` through it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     site = Path(tmp)
    ...     _ = (site / "notes").write_text("")
    ...     file_in_the_way(site / "notes/board") == site / "notes", file_in_the_way(site / "new/x")
    (True, None)
    """
    there = next((p for p in (path, *path.parents) if p.exists()), None)
    return there if there is not None and not there.is_dir() else None
