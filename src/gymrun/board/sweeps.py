"""A sweep directory as the board shows it: its grid with intervals, from ``sweep.json``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gymrun.board.scan import SWEEP_FILE, SWEEP_PLOT


@dataclass
class SweepEntry:
    """A sweep: its grid and every point's numbers as ``gymrun sweep`` wrote them."""

    id: str
    directory: str
    status: str  # completed | interrupted | unfinished (no sweep.json) | damaged
    problem: str | None = None
    name: str | None = None
    keys: list[str] = field(default_factory=list)
    seeds: list[Any] = field(default_factory=list)
    executor: str | None = None
    seconds: float | None = None
    best: int | None = None
    points: list[dict[str, Any]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # ids of its run directories
    plot: bool = False
    env: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepEntry:
        return cls(**data)


def read_sweep(root: Path, directory: Path, runs: list[str]) -> SweepEntry:
    """Read the sweep in `directory`; `runs` are the ids of the run directories in it."""
    entry = SweepEntry(directory.relative_to(root).as_posix(), str(directory), "unfinished")
    entry.runs = runs
    entry.name = directory.parent.name
    entry.plot = (directory / SWEEP_PLOT).is_file()
    try:
        document = json.loads((directory / SWEEP_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        entry.problem = f"no {SWEEP_FILE}: the sweep is still going, or was stopped"
        return entry
    except (OSError, ValueError) as exc:
        entry.status, entry.problem = "damaged", f"{directory / SWEEP_FILE}: {exc}"
        return entry
    try:
        sweep = document["sweep"]
        entry.name = str(sweep["name"])
        entry.keys = [str(k) for k in sweep["keys"]]
        entry.seeds = list(sweep["seeds"])
        entry.points = [_point(point) for point in document["points"]]
        entry.status = str(document.get("status", "completed"))
        entry.executor = document.get("executor")
        entry.seconds = document.get("seconds")
        entry.best = document.get("best")
    except (KeyError, TypeError) as exc:
        entry.status = "damaged"
        entry.problem = (
            f"{directory / SWEEP_FILE}: not a gymrun sweep ({type(exc).__name__}: {exc})"
        )
    return entry


def _point(point: dict[str, Any]) -> dict[str, Any]:
    """A point with each run labelled by its directory's name (``p000-s0``): sweep.json
    keeps the directories as the sweep was given them, wherever it ran."""
    runs = []
    for run in point.get("runs", []):
        label = Path(str(run.get("run_dir") or "")).name
        runs.append(run | {"label": label})
    return point | {"runs": runs}
