"""Reference scores: on each task, what a random agent scores (normalized 0) and what the
best non-learning agent or the exact optimum scores (normalized 1), so that scores of
tasks on different scales (CartPole's 0 to 500, LunarLander's -500 to 300) can be put
together, as rliable normalizes Atari scores by a random and a human player.

The figures ship in ``reference_scores.json`` beside this module, written by
``scripts/baselines_table.py`` from the baselines table (`reference_document`), each with
where it came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

REFERENCE_FILE = "reference_scores.json"
NORMALIZED = "(score - random) / (reference - random)"
# How an agent that knows the exact optimal expected return computes it.
OPTIMUM_METHODS = {"dynamic_programming": "value iteration"}


@dataclass(frozen=True)
class Anchor:
    """One end of a task's scale: a score and where it came from."""

    score: float
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "source": self.source}


@dataclass(frozen=True)
class ReferenceScores:
    """A task's random score (normalized 0) and reference score (normalized 1)."""

    env_id: str
    random: Anchor
    reference: Anchor

    def normalize(self, score: float) -> float:
        """`score` on the task's scale, 0 the random agent, 1 the reference.

        >>> task = ReferenceScores("x", Anchor(20.0, "a"), Anchor(500.0, "b"))
        >>> task.normalize(20.0), task.normalize(260.0), task.normalize(500.0)
        (0.0, 0.5, 1.0)
        """
        return (score - self.random.score) / (self.reference.score - self.random.score)

    def to_json(self) -> dict[str, Any]:
        return {"random": self.random.to_json(), "reference": self.reference.to_json()}


def reference_document(baselines: dict[str, Any]) -> dict[str, Any]:
    """The reference scores of a ``baselines.json`` document, as ``reference_scores.json``
    holds them: per task the random agent's mean, and as the reference the exact optimum
    where the shipped agent knows it, else the shipped agent's mean, else the env's reward
    threshold. A task whose two ends are equal (or missing) is left out.

    >>> task = {"env_id": "T-v0", "threshold": 9.0, "optimum": None, "baseline": None,
    ...         "random": {"agent": "random", "mean_reward": 1.0}}
    >>> found = reference_document({"episodes": 100, "seed": 0, "tasks": [task]})["tasks"]
    >>> found["T-v0"]["random"]["source"]
    'baselines table: random agent, 100 episodes, seed 0'
    >>> found["T-v0"]["reference"]
    {'score': 9.0, 'source': 'env reward threshold'}
    """
    played = f"{baselines['episodes']} episodes, seed {baselines['seed']}"
    tasks = {}
    for task in baselines["tasks"]:
        random = task["random"]["mean_reward"]
        reference = _reference(task, played)
        if random is None or reference is None or reference.score == random:
            continue
        source = f"baselines table: random agent, {played}"
        tasks[task["env_id"]] = ReferenceScores(
            task["env_id"], Anchor(random, source), reference
        ).to_json()
    return {
        "normalized": NORMALIZED,
        "made_by": "scripts/baselines_table.py, from the baselines table (docs/baselines.json)",
        "tasks": tasks,
    }


def _reference(task: dict[str, Any], played: str) -> Anchor | None:
    shipped = task["baseline"]
    if task["optimum"] is not None and shipped is not None:
        method = OPTIMUM_METHODS.get(shipped["agent"], f"computed by the {shipped['agent']} agent")
        return Anchor(task["optimum"], f"exact optimum ({method})")
    if shipped is not None and shipped["mean_reward"] is not None:
        return Anchor(
            shipped["mean_reward"], f"baselines table: {shipped['agent']} agent, {played}"
        )
    if task["threshold"] is not None:
        return Anchor(float(task["threshold"]), "env reward threshold")
    return None


def shipped_references() -> dict[str, ReferenceScores]:
    """The reference scores gymrun ships, by env ID.

    >>> cartpole = shipped_references()["CartPole-v1"]
    >>> cartpole.reference.score, cartpole.reference.source
    (500.0, 'baselines table: heuristic agent, 100 episodes, seed 0')
    """
    text = resources.files("gymrun.components").joinpath(REFERENCE_FILE).read_text("utf-8")
    return references_of(json.loads(text))


def references_of(document: dict[str, Any]) -> dict[str, ReferenceScores]:
    """The reference scores of a ``reference_scores.json`` document, by env ID."""
    return {
        env_id: ReferenceScores(env_id, Anchor(**task["random"]), Anchor(**task["reference"]))
        for env_id, task in document["tasks"].items()
    }
