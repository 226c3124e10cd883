"""One run's session: its chunks put in order, its episodes recorded, summarised and given
to its sinks as they finish, and its end written whole, however it ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gymrun.components.agents import loading_note
from gymrun.config import ExperimentConfig
from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.plan import RunPlan, user_code
from gymrun.core.signals import InterruptGuard
from gymrun.core.summary import Summary, SummaryBuilder
from gymrun.errors import FaultError, GymrunError, RolloutError, described
from gymrun.pipeline.sinks import EpisodeList, Sink
from gymrun.records.directory import RecordDir
from gymrun.records.plotter import Plotter
from gymrun.records.resuming import Recorded
from gymrun.records.writer import RunRecorder
from gymrun.scale.chunks import ChunkResult


@dataclass(frozen=True)
class RunResult:
    """Everything a run produced, also when it did not complete."""

    config: ExperimentConfig  # resolved: seed and reward boundary filled in
    episodes: list[EpisodeResult]  # those an `EpisodeList` sink kept (none without one)
    summary: Summary
    status: str = "completed"  # or "interrupted" (Ctrl-C, SIGTERM, SIGHUP), "failed" (`error`)
    error: GymrunError | None = None
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    # outputs the run was asked for that could not be written (a dataset), each with why:
    # the run itself is whole, but what was asked of it is not all there
    unwritten: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The object ``gymrun run --json`` prints."""
        return {
            "config": self.config.to_json(),
            "episodes": [episode.to_json() for episode in self.episodes],
            "summary": self.summary.to_json(),
            "status": self.status,
            "error": None if self.error is None else str(self.error),
            "run_dir": None if self.run_dir is None else str(self.run_dir),
        } | ({"unwritten": self.unwritten} if self.unwritten else {})


class RunSession:
    """The run of `plan`, recorded in `record_dir` (None: not recorded), its episodes given
    to `sinks`. Its pieces (see `gymrun.scale.chunks.ChunkResult`) arrive as `take(chunk,
    piece)` in any order between chunks; they are put in order here, and each batch goes
    to the record, the summary and the sinks together (the `guard` holds a stopping signal
    meanwhile). The record is set up once the run has started (its environment built, or
    its first episodes back from a worker), so a run that never starts leaves nothing.

    A `resumed` run (see `gymrun.records.resuming`) starts from the episodes already in its
    record; they count as played. With `plot`, the run's ``reward.png`` is drawn at the end
    (by `plotter`, one shared with other runs, else one of its own); a sweep's many runs are
    not drawn.
    """

    def __init__(
        self,
        plan: RunPlan,
        *,
        record_dir: Path | RecordDir | None = None,
        sinks: Sequence[Sink] = (),
        resumed: Recorded | None = None,
        guard: InterruptGuard | None = None,
        plotter: Plotter | None = None,
        plot: bool = True,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        self.plan = plan
        self.record_dir = record_dir
        self.directory = record_dir.path if isinstance(record_dir, RecordDir) else record_dir
        self.sinks = list(sinks)
        self.resumed = resumed
        self.guard = guard or InterruptGuard()
        self.plotter, self.plot = plotter, plot
        self.provenance = plan.provenance | (provenance or {})
        self.summary = SummaryBuilder(plan.reward_boundary)
        self.recorder: RunRecorder | None = None
        self.started = False
        self.chunks = 1  # set by whoever cuts the run into chunks
        self.next_chunk = 0
        self._waiting: dict[int, list[ChunkResult]] = {}
        self.error: GymrunError | None = None
        self.cause: BaseException | None = None  # an exception that was not gymrun's own
        self.write_failed = False
        self.result: RunResult | None = None
        self.first = 0  # the first episode still to play
        if resumed is not None:
            for batch in resumed.batches:
                self._count(batch)
                for sink in self.sinks:
                    sink.add(batch)
            self.first = resumed.count

    @property
    def remaining(self) -> int:
        return self.plan.episodes - self.first

    @property
    def complete_already(self) -> bool:
        """A resumed run that was complete: there is nothing to play, and nothing is touched."""
        return self.resumed is not None and self.resumed.complete and self.remaining == 0

    @property
    def finished(self) -> bool:
        """Every chunk is in, or the run failed (nothing more it plays counts)."""
        return self.error is not None or self.next_chunk >= self.chunks or self.remaining == 0

    def take(self, chunk: int, piece: ChunkResult) -> int:
        """A piece of chunk `chunk`; returns how many episodes became final (given to the
        record, the summary and the sinks)."""
        if self.finished:
            return 0
        self._waiting.setdefault(chunk, []).append(piece)
        added = 0
        while self.next_chunk in self._waiting and not self.finished:
            pieces = self._waiting.pop(self.next_chunk)
            for number, current in enumerate(pieces):
                added += self._feed(current)
                if current.error is not None:
                    self._fail(current.error)
                if current.done or self.finished:
                    if number < len(pieces) - 1:  # a chunk's pieces after its last: none
                        raise AssertionError("pieces after a chunk's last")
                    break
            else:  # the chunk is still playing: its next pieces come here later
                self._waiting[self.next_chunk] = []
                return added
            self.next_chunk += 1
            if self.next_chunk in self._waiting and not self._waiting[self.next_chunk]:
                del self._waiting[self.next_chunk]
        if self.finished:  # its record is closed now, not when every other run is done
            self.close(deliver=True)
        return added

    def _feed(self, piece: ChunkResult) -> int:
        # The record is set up whole, and the record, the summary and the sinks take the
        # batch together: a stop waits, and is raised after (a stop asked for earlier and
        # swallowed where it landed is raised here too: see `InterruptGuard`).
        self.guard.hold()
        try:
            if not self.started and (len(piece.episodes) or piece.error is None):
                self.start()
            if not len(piece.episodes) or self.write_failed:
                return 0
            batch = piece.episodes
            if self.recorder is not None:
                try:
                    self.recorder.add_all(batch)
                except OSError as exc:  # the disk is full, say: the run fails, kept as it is
                    self.write_failed = True
                    self._fail(FaultError(f"cannot write the run record: {exc.strerror or exc}"))
                    return 0
            self._count(batch)
            for sink in self.sinks:
                sink.add(batch)
        finally:
            self.guard.release()
        return len(batch)

    def _count(self, batch: EpisodeBatch) -> None:
        self.summary.add_all(batch)

    def start(self) -> None:
        """The run has started: its record is set up (a failure to write it fails the run,
        and its summary says so where it can be written)."""
        self.started = True
        if self.record_dir is not None:
            try:
                self.recorder = RunRecorder(
                    self.record_dir,
                    self.plan.config.to_json(),
                    expected=self.plan.episodes,
                    provenance=self.provenance,
                    plotter=self.plotter,
                    plot=self.plot,
                    resumed=self.resumed,
                    code=user_code(self.plan.config),
                )
            except OSError as exc:  # its summary says so, where it could be written
                self.write_failed = True
                self._fail(FaultError(f"cannot write the run record: {exc.strerror or exc}"))
                return
        for sink in self.sinks:
            sink.started()

    def _fail(self, error: BaseException) -> None:
        if self.error is not None:
            return
        if isinstance(error, GymrunError):
            self.error = error
        else:  # a bug, ours or the user's: still a consistent record
            self.error = FaultError(f"unexpected {described(error)}")
            self.cause = error
            self.error.__cause__ = error

    def close(self, status: str = "interrupted", *, deliver: bool = False) -> RunResult:
        """End the run (once): its summary written whole, its plot sent to be drawn, each
        sink told. `status` is how a run that did not finish ended (``interrupted``). A
        signal that comes meanwhile waits, then is raised (`deliver`: other runs are still
        to play) or dropped (the work it would have stopped is done)."""
        if self.result is not None:
            return self.result
        self.guard.hold()  # the end of the record is written whole: a signal waits
        try:
            self.result = self._close(status)
        finally:
            self.guard.release(deliver=deliver)
        return self.result

    def _close(self, status: str) -> RunResult:
        if self.error is not None:
            status = "failed"
        elif self.finished:
            status = "completed"
        summary = self.summary.summary()
        notes: list[str] = []
        if self.resumed is not None and not self.complete_already:
            notes.append(f"resumed from episode {self.first}; those before it were kept")
        if self.recorder is not None:
            if self.write_failed:
                summary = self.recorder.summary_on_disk(self.plan.reward_boundary)
            error = None if self.error is None else str(self.error)
            try:
                notes += self.recorder.finish(summary, status, error)
            except OSError as exc:
                notes.append(f"the run's summary could not be written: {exc.strerror or exc}")
        if self.started and (note := loading_note(self.plan.agent)) is not None:
            notes.insert(0, note)  # the run loaded its agent's files: what that means
        episodes = next((s.episodes for s in self.sinks if isinstance(s, EpisodeList)), [])
        result = RunResult(
            self.plan.config, episodes, summary, status, self.error, self.directory, notes
        )
        for sink in self.sinks:
            result.notes.extend(sink.finish(result))
            if sink.problem is not None:
                result.unwritten.append(sink.problem)
        return result

    def raise_if_never_started(self) -> None:
        """For a run of its own: a run that could not even start (its environment or agent
        could not be built) is bad input, raised as such; nothing was recorded."""
        error = self.error
        if not self.started and error is not None and not isinstance(error, RolloutError):
            raise error
