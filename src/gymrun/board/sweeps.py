"""A sweep directory as the board shows it: its grid with intervals, from ``sweep.json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gymrun.board.scan import shown
from gymrun.errors import GymrunError
from gymrun.records.files import is_regular
from gymrun.records.layout import SWEEP_FILE, SWEEP_PLOT
from gymrun.records.liveness import going
from gymrun.records.reading import read_sweep_json
from gymrun.records.sweep_points import starred_points
from gymrun.sweep import read_sweep_document, unread_sweep_runs


@dataclass
class SweepEntry:
    """A sweep: its grid and every point's numbers as ``gymrun sweep`` wrote them."""

    id: str
    directory: str
    # completed | interrupted | running | killed | unfinished (no sweep.json, or not to be
    # told) | damaged
    status: str
    problem: str | None = None
    name: str | None = None
    keys: list[str] = field(default_factory=list)
    seeds: list[Any] = field(default_factory=list)
    executor: str | None = None
    seconds: float | None = None
    bests: list[int] = field(default_factory=list)  # the best point of each environment
    points: list[dict[str, Any]] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # ids of its run directories
    notes: list[str] = field(default_factory=list)  # its runs not there to read, as `show` says
    plot: bool = False
    env: str | None = None

    @property
    def metrics(self) -> list[str]:
        """The metrics its points' runs recorded (success...): a column each."""
        return list(dict.fromkeys(name for p in self.points for name in p.get("metrics", {})))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepEntry:
        return cls(**data)


def read_sweep(sweep_id: str, directory: Path, runs: list[str]) -> SweepEntry:
    """Read the sweep in `directory` (its board id `sweep_id`, `scan.board_id`); `runs` are
    the ids of the run directories in it."""
    entry = SweepEntry(sweep_id, shown(str(directory)), "unfinished")
    entry.runs = runs
    entry.name = shown(directory.parent.name)
    entry.plot = is_regular(directory, SWEEP_PLOT)
    try:
        document = read_sweep_json(directory)
    except FileNotFoundError:
        entry.problem = f"no {SWEEP_FILE}: the sweep is still going, or was stopped"
        return entry
    except GymrunError as exc:  # the reader names the file and what is wrong
        entry.status, entry.problem = "damaged", shown(str(exc))
        return entry
    sweep = document["sweep"]
    entry.name = sweep["name"]
    entry.keys = list(sweep["keys"])
    entry.seeds = list(sweep["seeds"])
    if document["status"] == "running":
        # its points are summarised when it ends: until then (or when it was killed before
        # it could), what its runs recorded, as `gymrun show` has them
        became = going(directory, "sweep")  # asked once: its points are read with the answer
        entry.status, entry.problem = became
        try:
            document, notes = read_sweep_document(directory, became)
        except GymrunError:  # a run of it damaged: the runs' own rows say which
            return entry
    else:
        entry.status = document["status"]
        notes = unread_sweep_runs(document, directory)
    entry.notes = [shown(note) for note in notes if note != entry.problem]  # said once
    entry.points = [_point(point) for point in document["points"]]
    entry.executor = document.get("executor") if isinstance(document.get("executor"), str) else None
    seconds = document.get("seconds")
    entry.seconds = seconds if isinstance(seconds, int | float) else None
    entry.bests = starred_points(entry.points)
    return entry


def _point(point: dict[str, Any]) -> dict[str, Any]:
    """A point with each run labelled by its directory's name (``p000-s0``): sweep.json
    keeps the directories as the sweep was given them, wherever it ran."""
    runs = [run | {"label": Path(run.get("run_dir") or "").name} for run in point["runs"]]
    return point | {"runs": runs}
