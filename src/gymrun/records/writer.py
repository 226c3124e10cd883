"""Writing a run directory while the run goes on: nothing finished is ever lost, and nothing
written is read back to finish the record."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from gymrun.core.episodes import EpisodeResult
from gymrun.core.summary import Summary
from gymrun.errors import GymrunError
from gymrun.records.curve import RewardCurve
from gymrun.records.directory import utc_now
from gymrun.records.layout import (
    CONFIG_FILE,
    EPISODES_FILE,
    META_FILE,
    PLOT_FILE,
    SUMMARY_FILE,
    run_title,
)
from gymrun.records.lines import write_episode_lines
from gymrun.records.metadata import run_metadata
from gymrun.records.plots import plot_rewards


def write_json(path: Path, data: Any) -> None:
    """Write `data` beside `path` and rename it into place: a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


class RunRecorder:
    """Writes the run directory `directory` of a run of `config` (its JSON form), expected
    to have `expected` episodes; the reward curve is gathered as episodes arrive."""

    def __init__(
        self,
        directory: Path,
        config: dict[str, Any],
        *,
        expected: int,
        command: Sequence[str] | None = None,
    ) -> None:
        self.directory = directory
        self.config = config
        self.started = utc_now()
        self.curve = RewardCurve(expected)
        (directory / CONFIG_FILE).write_text(
            yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        write_json(directory / META_FILE, run_metadata(command))
        self._write_summary(None, "running")
        self._episodes = (directory / EPISODES_FILE).open("ab")

    def add_all(self, episodes: Sequence[EpisodeResult]) -> None:
        """Append finished episodes, one line each, and flush them to disk."""
        write_episode_lines(self._episodes, episodes)
        self._episodes.flush()
        self.curve.add_all(episodes)

    def finish(
        self, summary: Summary, status: str, error: str | None = None, *, plot: bool = True
    ) -> list[str]:
        """Close the record; returns notes for the user (such as a missing plotting extra)."""
        self._episodes.close()
        self._write_summary(summary, status, error)
        notes = []
        if plot and summary.count:
            try:
                plot_rewards(
                    self.curve.curve(),
                    self.directory / PLOT_FILE,
                    title=run_title(self.config),
                    reward_boundary=summary.reward_boundary,
                )
            except GymrunError as exc:
                notes.append(f"no {PLOT_FILE}: {exc}")
        return notes

    def discard(self) -> None:
        """Remove what was written: the run never started."""
        self._episodes.close()
        for name in (CONFIG_FILE, META_FILE, SUMMARY_FILE, EPISODES_FILE):
            (self.directory / name).unlink(missing_ok=True)

    def _write_summary(
        self, summary: Summary | None, status: str, error: str | None = None
    ) -> None:
        data: dict[str, Any] = {"status": status, "error": error}
        data |= summary.to_json() if summary is not None else {}
        data["started_at"] = self.started.isoformat()
        data["ended_at"] = None if status == "running" else utc_now().isoformat()
        write_json(self.directory / SUMMARY_FILE, data)
