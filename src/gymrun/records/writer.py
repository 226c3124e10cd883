"""Writing a run directory while the run goes on: nothing finished is ever lost, and nothing
written is read back to finish the record."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from gymrun.components.user_code import UserModule
from gymrun.config.yaml_source import dump_yaml
from gymrun.core.episodes import EpisodeResult
from gymrun.core.summary import Summary, SummaryBuilder
from gymrun.records import json_text
from gymrun.records.code import write_code
from gymrun.records.curve import RewardCurve
from gymrun.records.directory import RecordDir, utc_now
from gymrun.records.layout import (
    CODE_DIR,
    CONFIG_FILE,
    EPISODES_FILE,
    META_FILE,
    PLOT_FILE,
    SUMMARY_FILE,
    run_title,
)
from gymrun.records.lines import write_episode_lines
from gymrun.records.metadata import PENDING_CONFIG, config_sha256, run_metadata
from gymrun.records.plotter import Plotter
from gymrun.records.reading import read_episodes
from gymrun.records.resuming import Recorded


class EpisodeFile:
    """``episodes.jsonl``, appended to as episodes finish and flushed to disk at once.

    Batches of thousands (a vector run's, a worker's chunk) are written by a thread of its
    own while the run goes on: turning them into lines is numpy work and writing them a
    system call, during both of which Python lets the run's thread proceed. Smaller ones are
    written where they arrive, after any batch still queued.
    """

    THREADED = 4096  # episodes in a batch handed to the writing thread

    def __init__(self, path: Path, keep: int | None = None) -> None:
        if keep is None:
            self._file = path.open("xb")  # a new file: never through a link left in its place
        else:  # a resumed run's: its first `keep` bytes stay, what follows is played again
            self._file = _open_existing(path)
            self._file.truncate(keep)
            self._file.seek(keep)
        self._queue: queue.SimpleQueue[Sequence[EpisodeResult] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending = 0  # batches queued and not yet written
        self._done = threading.Condition()
        self._error: OSError | None = None

    def add_all(self, episodes: Sequence[EpisodeResult]) -> None:
        if self._error is not None:
            raise self._error
        if self._thread is None and len(episodes) < self.THREADED:
            self._write(episodes)
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._write_queued, daemon=True)
            self._thread.start()
        with self._done:
            self._pending += 1
        self._queue.put(episodes)

    def _write(self, episodes: Sequence[EpisodeResult]) -> None:
        write_episode_lines(self._file, episodes)
        self._file.flush()

    def _write_queued(self) -> None:
        while (episodes := self._queue.get()) is not None:
            try:
                if self._error is None:
                    self._write(episodes)
            except OSError as exc:
                self._error = exc
            with self._done:
                self._pending -= 1
                self._done.notify_all()

    def flush(self) -> None:
        with self._done:
            self._done.wait_for(lambda: self._pending == 0)
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._file.close()


def _open_existing(path: Path) -> Any:
    """`path` opened to be written in place, never through a symbolic link; made if missing."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    return os.fdopen(descriptor, "r+b")


def write_json(path: Path, data: Any, reserved: Path | None = None) -> None:
    """Write `data` beside `path` and rename it into place: a reader never sees half a file.

    With `reserved`, a file made by `reserve` beforehand is written over instead, so that
    the write needs no new room on the disk (a run's last summary, on a full disk)."""
    text = (json_text.dumps(data, indent=2) + "\n").encode()
    partial = reserved or path.with_name(path.name + ".partial")
    try:
        with partial.open("r+b" if reserved else "wb") as file:
            file.write(text)
            file.truncate()
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def reserve(path: Path, size: int = 8192) -> Path:
    """Make `path` a file of `size` bytes, for `write_json` to write over later (none is
    left behind when there is no room for it)."""
    try:
        with path.open("wb") as file:
            file.write(b" " * size)
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    return path


class RunRecorder:
    """Writes the run directory `directory` of a run of `config` (its JSON form), expected
    to have `expected` episodes; the reward curve is gathered as episodes arrive, and drawn
    by `plotter` (one of its own unless given) when the run ends; without `plot`,
    ``reward.png`` is not drawn (a sweep's many runs are drawn by the board, on their pages).
    `provenance` (see `RunPlan.provenance`) goes into ``meta.json``, and a copy of the
    user's modules it names, `code`, into ``code/`` (see `gymrun.records.code`). With
    `resumed` (see `gymrun.records.resuming`), the run continues the one recorded in
    `directory`: its episodes stay, and ``meta.json`` says when and how it was resumed."""

    def __init__(
        self,
        directory: Path | RecordDir,
        config: dict[str, Any],
        *,
        expected: int,
        command: Sequence[str] | None = None,
        plotter: Plotter | None = None,
        provenance: dict[str, Any] | None = None,
        plot: bool = True,
        resumed: Recorded | None = None,
        code: Sequence[UserModule] = (),
    ) -> None:
        # A directory given as a path is claimed here (and released at the end); one claimed
        # by the caller replaces its previous run only now, once the new run has started.
        self._own_claim = not isinstance(directory, RecordDir)
        if not isinstance(directory, Path):
            self._claim = directory
        elif resumed is None:
            self._claim = RecordDir.claim(
                directory,
                where=f"record directory {directory}",
                replacing="claim it with RecordDir.claim(path, force=True) to replace its run",
            )
        else:
            self._claim = RecordDir.reopen(directory, where=f"record directory {directory}")
        self.directory = self._claim.path
        self.config = config
        self.started = utc_now()
        self.curve = RewardCurve(expected)
        meta = run_metadata(command) | (provenance or {})
        self._reserved: Path | None = None
        self._episodes: EpisodeFile | None = None
        try:
            if resumed is None:
                self._claim.clear_previous()
                text = dump_yaml(config)  # read back as it was
                with (self.directory / CONFIG_FILE).open("x", encoding="utf-8") as saved:
                    saved.write(text)
                meta["config_sha256"] = config_sha256(text)
                write_code(self.directory, code)
            else:  # the first run's metadata stays; each resumption adds when, where and how
                resumption = {key: meta[key] for key in ("command", "cwd", "pid", "host")}
                resumption |= {"at": self.started.isoformat(), "from_episode": resumed.count}
                resumption |= {key: meta[key] for key in ("workers",) if key in meta}
                meta = resumed.meta | {"resumed": [*resumed.meta.get("resumed", []), resumption]}
                if resumed.extended_from is not None:  # its config now asks for more episodes
                    resumption["extended_from"] = resumed.extended_from
                    meta["config_sha256"] = self._rewrite_config(config, resumed.meta)
                for batch in resumed.batches:
                    self.curve.add_all(batch)
                if resumed.started_at is not None:
                    with contextlib.suppress(ValueError):
                        self.started = datetime.fromisoformat(resumed.started_at)
            # The episodes file first: a resumption is written down only once the run can
            # go on, and a record that cannot be written at all says so in its summary.
            keep = None if resumed is None else resumed.size
            self._episodes = EpisodeFile(self.directory / EPISODES_FILE, keep)
            # room for the last summary, kept even if the disk fills up meanwhile
            self._reserved = reserve(self.directory / f"{SUMMARY_FILE}.reserved")
            write_json(self.directory / META_FILE, meta)
            self._write_summary(None, "running")
        except OSError as exc:
            self._abandon(exc, new=resumed is None)
            raise
        # Started last, once the record is there: nothing is left waiting if it is not.
        self._own_plotter = plotter is None and plot
        self.plotter = plotter if plotter is not None or not plot else Plotter()

    def _rewrite_config(self, config: dict[str, Any], meta: dict[str, Any]) -> str:
        """Write a resumed run's `config` over its ``config.yaml`` (beside it, then renamed
        into place) and return its hash, for ``meta.json`` written next. Its `meta` is
        written first with that hash as pending (`PENDING_CONFIG`): killed at any point
        before ``meta.json`` is written again, the run's config is one of the two hashes it
        holds, and is read as its own, not as edited."""
        text = dump_yaml(config)
        hashed = config_sha256(text)
        write_json(self.directory / META_FILE, meta | {PENDING_CONFIG: hashed})
        partial = self.directory / f"{CONFIG_FILE}.partial"
        try:
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, self.directory / CONFIG_FILE)
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        return hashed

    def _abandon(self, exc: OSError, new: bool) -> None:
        """The record could not be set up: say so in its summary if it can be written; if
        not even that can be, a new run's record is taken away again (a resumed run's is
        left as it was). Nothing half-made stays behind."""
        if self._episodes is not None:
            with contextlib.suppress(OSError):
                self._episodes.close()
        try:
            reason = f"cannot write the run record: {exc.strerror or exc}"
            self._write_summary(None, "failed", reason, self._reserved)
        except OSError:
            if new:
                for name in (CONFIG_FILE, META_FILE, EPISODES_FILE, SUMMARY_FILE):
                    with contextlib.suppress(OSError):
                        (self.directory / name).unlink()
                shutil.rmtree(self.directory / CODE_DIR, ignore_errors=True)
        if self._reserved is not None:
            with contextlib.suppress(OSError):
                self._reserved.unlink()
        if self._own_claim:
            self._claim.release()

    def add_all(self, episodes: Sequence[EpisodeResult]) -> None:
        """Append finished episodes, one line each (see `EpisodeFile`)."""
        assert self._episodes is not None  # set up, or the recorder was never made
        self._episodes.add_all(episodes)
        self.curve.add_all(episodes)

    def flush(self) -> None:
        """Wait until every episode added is on disk; raises the `OSError` that kept one
        from being written."""
        assert self._episodes is not None
        self._episodes.flush()

    def finish(self, summary: Summary, status: str, error: str | None = None) -> list[str]:
        """Close the record; returns notes for the user (such as a missing plotting extra;
        with a shared plotter, its owner gets them). `summary` must be that of the episodes
        on disk (see `summary_on_disk` after a failed write)."""
        try:
            # The curve is whole: it is drawn while the last lines and the summary are
            # written, instead of after them.
            if summary.count and self.plotter is not None:
                self.plotter.rewards(
                    self.curve.curve(),
                    self.directory / PLOT_FILE,
                    title=run_title(self.config),
                    reward_boundary=summary.reward_boundary,
                )
            try:
                with contextlib.suppress(OSError):  # a failed write is already the run's error
                    if self._episodes is not None:
                        self._episodes.close()
                self._write_summary(summary, status, error, self._reserved)
            finally:  # the plot is done before the run is, even when its summary is not
                notes = self.plotter.close() if self._own_plotter and self.plotter else []
            return notes
        finally:
            if self._own_claim:
                self._claim.release()

    def summary_on_disk(self, reward_boundary: float | None) -> Summary:
        """The summary of the episodes that reached ``episodes.jsonl``: after a write failed,
        fewer than were added."""
        with contextlib.suppress(OSError):
            if self._episodes is not None:
                self._episodes.close()
        builder = SummaryBuilder(reward_boundary)
        for batch in read_episodes(self.directory, reward_boundary):
            builder.add_all(batch)
        return builder.summary()

    def _write_summary(
        self,
        summary: Summary | None,
        status: str,
        error: str | None = None,
        reserved: Path | None = None,
    ) -> None:
        data: dict[str, Any] = {"status": status, "error": error}
        data |= summary.to_json() if summary is not None else {}
        data["started_at"] = self.started.isoformat()
        data["ended_at"] = None if status == "running" else utc_now().isoformat()
        write_json(self.directory / SUMMARY_FILE, data, reserved)
