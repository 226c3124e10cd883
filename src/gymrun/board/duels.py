"""A duel directory as the board shows it: its rounds and decision, from ``duel.json`` as
``gymrun show`` reads it (`read_duel_document`: a killed duel's runs of the round it was
playing counted), and its runs side by side."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gymrun.analysis.verdicts import guarantee, side_name, verdict
from gymrun.board.scan import shown
from gymrun.duel import read_duel_document
from gymrun.errors import GymrunError
from gymrun.records.layout import DUEL_FILE


@dataclass
class DuelEntry:
    """A duel: what ``gymrun duel`` decided and each round, as ``duel.json`` says."""

    id: str
    directory: str
    status: str  # completed | running | interrupted | failed | damaged
    problem: str | None = None
    notes: list[str] = field(default_factory=list)  # what became of it, as show says it
    name: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # side (A, B) -> its config's name
    decision: str | None = None
    verdict: str | None = None
    guarantee: str | None = None
    test: str | None = None
    max_seeds: int | None = None
    rounds: list[dict[str, Any]] = field(default_factory=list)
    sides: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # side -> its runs
    runs: list[str] = field(default_factory=list)  # ids of its run directories
    env: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DuelEntry:
        return cls(**data)


def read_duel(duel_id: str, directory: Path, runs: list[str]) -> DuelEntry:
    """Read the duel in `directory` (its board id `duel_id`, `scan.board_id`); `runs` are
    the ids of the run directories in it."""
    entry = DuelEntry(duel_id, shown(str(directory)), "damaged")
    entry.runs = runs
    entry.name = shown(directory.parent.name)
    try:
        document, notes = read_duel_document(directory)
    except (GymrunError, FileNotFoundError) as exc:  # the reader names the file and the fault
        missing = isinstance(exc, FileNotFoundError)
        entry.problem = f"no {DUEL_FILE}" if missing else shown(str(exc))
        return entry
    settings = document["duel"]
    entry.status, entry.problem = document["status"], document["error"]
    entry.notes = [shown(note) for note in notes]
    entry.name = settings["name"]
    entry.names = {side: side_name(document, side) for side in ("A", "B")}
    entry.decision = document["decision"]
    entry.verdict = verdict(document)
    if document["decision"] in ("A", "B"):
        entry.guarantee = guarantee(document["alpha"])
    test = document["test"]
    entry.test = f"{test.get('name')}, {test.get('spending')} alpha spending"
    entry.max_seeds = settings["max_seeds"]
    entry.rounds = document["rounds"]
    ids = {Path(run).name: run for run in runs}
    entry.sides = {
        side: [
            run | {"id": ids.get(Path(run["run_dir"] or "").name)}
            for run in document["runs"]
            if run["side"] == side
        ]
        for side in ("A", "B")
    }
    return entry
