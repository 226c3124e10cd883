"""A run's session: pieces that arrive in any order are recorded, summarised and given to
the sinks in episode order; a failure ends the run where it struck; every sink hears how the
run ended."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from gymrun import ExperimentConfig
from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.plan import RunPlan
from gymrun.errors import RolloutError
from gymrun.pipeline.session import RunResult, RunSession
from gymrun.pipeline.sinks import EpisodeList, Sink
from gymrun.scale import chunks
from gymrun.scale.chunks import Chunk, ChunkResult, play_chunk, stream_chunk
from tests.support.fake_env import FAKE_ID


def plan(episodes: int = 12) -> RunPlan:
    config = {"env": {"id": FAKE_ID, "kwargs": {"lengths": [1, 2, 3]}}, "episodes": episodes}
    return RunPlan.of(ExperimentConfig.model_validate({**config, "seed": 0}))


def pieces(run: RunPlan, size: int) -> list[ChunkResult]:
    """The run played in chunks of `size` episodes, as workers would send them back."""
    return [
        play_chunk(Chunk(run, first, min(size, run.episodes - first)))
        for first in range(0, run.episodes, size)
    ]


class Journal(Sink):
    def __init__(self) -> None:
        self.said: list[object] = []

    def started(self) -> None:
        self.said.append("started")

    def add(self, episodes: Sequence[EpisodeResult]) -> None:
        self.said.append([e.episode for e in episodes])

    def finish(self, result: RunResult) -> list[str]:
        self.said.append(result.status)
        return ["journal closed"]


def test_pieces_in_any_order_reach_record_and_sinks_in_episode_order(tmp_path: Path) -> None:
    run = plan()
    journal, kept = Journal(), EpisodeList()
    session = RunSession(run, record_dir=tmp_path / "run", sinks=[journal, kept])
    session.chunks = 4
    chunks = pieces(run, 3)
    for number in (2, 3, 0, 1):  # the last two before the first: held until it comes
        session.take(number, chunks[number])
    result = session.close()
    assert result.status == "completed" and result.notes[-1] == "journal closed"
    assert [e.episode for e in result.episodes] == list(range(12))
    assert journal.said == ["started", [0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], "completed"]
    lines = (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(line)["episode"] for line in lines] == list(range(12))
    assert result.summary.count == 12
    whole = play_chunk(Chunk(run, 0, 12)).episodes
    assert [e[:7] for e in result.episodes] == [e[:7] for e in whole]


def test_a_chunk_that_failed_ends_the_run_where_it_struck(tmp_path: Path) -> None:
    run = plan(9)
    session = RunSession(run, record_dir=tmp_path / "run", sinks=[EpisodeList()])
    session.chunks = 3
    good = pieces(run, 3)
    error = RolloutError("episode 4, step 0: ValueError: no", episode=4, step=0)
    broken = ChunkResult(good[1].episodes.slice(0, 1), error)  # episode 3, then the failure
    session.take(2, good[2])  # after the failure: never recorded
    session.take(1, broken)
    session.take(0, good[0])
    assert session.finished
    result = session.close()
    assert (result.status, str(result.error)) == ("failed", str(error))
    assert [e.episode for e in result.episodes] == [0, 1, 2, 3]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["status"], summary["count"]) == ("failed", 4)


def watched(session: RunSession) -> list[int]:
    """How many episodes each hand-over to the session's sinks held."""
    seen: list[int] = []

    class Watch(Sink):
        def add(self, episodes: Sequence[EpisodeResult]) -> None:
            seen.append(len(episodes))

    session.sinks.append(Watch())
    return seen


def test_a_chunk_played_here_hands_its_episodes_on_together_as_they_finish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = RunSession(plan(600))
    seen = watched(session)
    for piece in stream_chunk(Chunk(session.plan, 0, 600), keep=False):
        session.take(0, piece)
    assert sum(seen) == 600 and len(seen) < 10  # not one hand-over an episode
    assert session.close().status == "completed"

    monkeypatch.setattr(chunks, "GATHER_SECONDS", 0.0)  # as an episode ends, it is handed on
    session = RunSession(plan(6))
    seen = watched(session)
    for piece in stream_chunk(Chunk(session.plan, 0, 6), keep=False):
        session.take(0, piece)
    assert seen == [1] * 6


def test_ctrl_c_hands_on_the_episodes_that_finished_before_it_stops_the_chunk(
    tmp_path: Path,
) -> None:
    calls = 0

    def act(observation: object) -> int:  # Ctrl-C in the 5th episode's 2nd step
        nonlocal calls
        calls += 1
        if calls == 1 + 2 + 3 + 1 + 2:
            raise KeyboardInterrupt
        return 0

    run = RunPlan.of(plan(9).config, agent=act)
    session = RunSession(run, record_dir=tmp_path / "run")
    seen = watched(session)
    with pytest.raises(KeyboardInterrupt):
        for piece in stream_chunk(Chunk(run, 0, 9), keep=False):
            session.take(0, piece)
    assert sum(seen) == 4  # the four finished episodes, given to the record before it stopped
    lines = (tmp_path / "run" / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(line)["episode"] for line in lines] == [0, 1, 2, 3]


def test_a_run_that_never_started_records_nothing_and_says_why(tmp_path: Path) -> None:
    run = plan(3)
    session = RunSession(run, record_dir=tmp_path / "run")
    cannot = ValueError("no such thing")
    session.take(0, ChunkResult(EpisodeBatch.of([], None), cannot))
    result = session.close()
    assert (result.status, str(result.error)) == (
        "failed",
        "unexpected ValueError: no such thing",
    )
    assert not (tmp_path / "run").exists()
    with pytest.raises(Exception, match="unexpected ValueError: no such thing"):
        session.raise_if_never_started()
