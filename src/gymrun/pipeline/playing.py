"""Playing sessions on an executor: each run's remaining episodes cut into chunks (see
`gymrun.scale.sizing`), sent costliest first, and each piece that comes back handed to its
run's session."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from gymrun.errors import FaultError
from gymrun.pipeline.session import RunSession
from gymrun.scale.chunks import Chunk
from gymrun.scale.executors import Executor
from gymrun.scale.sizing import Chunked, chunked, chunks_of, episode_costs


@dataclass
class Progress:
    """How far a set of runs has come: runs finished of all, and episodes played (this
    time: a resumed run's kept episodes are not counted)."""

    runs: int
    runs_done: int = 0
    episodes: int = 0


def play_sessions(
    sessions: Sequence[RunSession],
    executor: Executor,
    *,
    on_progress: Callable[[Progress], None] | None = None,
) -> tuple[str, str | None]:
    """Play what each session has left on `executor` (entered), until every run is finished,
    or the sessions are stopped. Returns how it ended, ``completed`` or ``interrupted``
    (Ctrl-C, SIGTERM, SIGHUP, or the cluster lost, said in the second item); the sessions
    are left for their owner to close."""
    progress = Progress(len(sessions))
    playing = []
    for session in sessions:
        if session.remaining == 0:  # a resumed run with every episode in
            if not session.complete_already:
                session.start()  # its record says it completed
        else:
            playing.append(session)
    progress.runs_done = len(sessions) - len(playing)
    if not playing:
        return "completed", None
    plans = [session.plan for session in playing]
    cut = chunked(
        plans,
        [session.first for session in playing],
        executor.policy,
        executor.parallel,
        _costs(playing, executor),
    )
    for session, size in zip(playing, cut.sizes, strict=True):
        session.chunks = -(-session.remaining // (size or session.remaining))
    outcomes = executor.play(_chunks(playing, cut), cut.bundle)
    left = len(playing)
    status, lost = "completed", None
    try:
        for (number, chunk), piece in outcomes:
            session = playing[number]
            was_finished = session.finished
            progress.episodes += session.take(chunk, piece)
            if session.finished and not was_finished:
                progress.runs_done += 1
                left -= 1
            if on_progress is not None:
                on_progress(progress)
            if not left:
                break
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM, SIGHUP: what finished is kept
        status = "interrupted"
    except FaultError as exc:  # the cluster was lost: what finished is kept
        status, lost = "interrupted", str(exc)
    finally:
        outcomes.close()  # cancels what has not started, now rather than at exit
    return status, lost


def _costs(sessions: Sequence[RunSession], executor: Executor) -> list[float | None] | None:
    """What an episode of each run costs, measured here on the first run of each config
    (runs that differ by their seed alone cost alike); None when chunks are not sized."""
    if executor.policy is None:
        return None
    groups: dict[str, int] = {}
    for number, session in enumerate(sessions):
        config = session.plan.config.to_json()
        config.pop("seed", None)
        groups.setdefault(json.dumps(config, sort_keys=True, default=str), number)
    firsts = list(groups.values())
    measured = episode_costs([sessions[n].plan for n in firsts])
    cost_of = dict(zip(groups, measured, strict=True))
    costs: list[float | None] = []
    for session in sessions:
        config = session.plan.config.to_json()
        config.pop("seed", None)
        costs.append(cost_of[json.dumps(config, sort_keys=True, default=str)])
    return costs


def _chunks(
    sessions: Sequence[RunSession], cut: Chunked
) -> Iterator[tuple[tuple[int, int], Chunk]]:
    """Each session's chunks, ``((session, chunk), chunk)``, made as they are asked for."""
    for number in cut.order:
        session = sessions[number]
        pieces = chunks_of(session.first, session.remaining, cut.sizes[number])
        for chunk, (first, count) in enumerate(pieces):
            yield (number, chunk), Chunk(session.plan, first, count, session.directory)
