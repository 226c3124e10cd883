"""Holding a board's folder while it is written: its lock file (``--out/.gymrun.lock``,
locked as a run's directory is: `gymrun.records.directory`), held by ``gymrun board`` for
its build and by ``gymrun board --serve`` for as long as it serves, so that two boards
never write one folder at once: the second is refused, and writes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from gymrun.board.build import check_dirs
from gymrun.board.store import Store, held_by_board
from gymrun.errors import UsageError
from gymrun.records.directory import RecordDir
from gymrun.records.layout import only_claimed

BUSY = "another gymrun board build is in progress there (or --serve); try again once it ends"


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
    ...             print(str(exc) == f"--out {out}: {BUSY}", type(exc).__name__)
    True RecordError
    """
    # A folder holding nothing but the lock: another board's first build claimed it a
    # moment ago and has not written its record yet (the lock tells), or was stopped then.
    if not only_claimed(out):
        check_dirs(root, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot make it: {exc.strerror or exc}") from exc
    claim = RecordDir.hold(out, "--out", BUSY)
    try:
        if not held_by_board(out):
            # the record of a board not built yet: the folder is a board's from now on
            Store(out).close()
        yield
    finally:
        claim.release()
