"""The shipped reference scores are what scripts/baselines_table.py writes from the
baselines table, and a task's run again gives the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gymrun.baselines import run_baselines
from gymrun.components.reference import REFERENCE_FILE, reference_document, shipped_references

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src" / "gymrun" / "components" / REFERENCE_FILE


def test_the_shipped_file_is_the_scripts_output_from_the_baselines_table() -> None:
    baselines = json.loads((ROOT / "docs" / "baselines.json").read_text())
    written = json.dumps(reference_document(baselines), indent=2) + "\n"
    assert SHIPPED.read_text() == written


def test_every_task_says_where_its_scores_come_from() -> None:
    references = shipped_references()
    assert len(references) == 21
    taxi, cartpole = references["Taxi-v4"], references["CartPole-v1"]
    assert (taxi.reference.score, taxi.reference.source) == (
        pytest.approx(7.93),
        "exact optimum (value iteration)",
    )
    assert cartpole.random.source == "baselines table: random agent, 100 episodes, seed 0"
    assert cartpole.reference.source == "baselines table: heuristic agent, 100 episodes, seed 0"


def test_a_quick_regeneration_of_one_task_gives_the_shipped_numbers() -> None:
    result = run_baselines("CartPole-v1", episodes=100, seed=0)
    [again] = reference_document(result.to_json())["tasks"].items()
    shipped = json.loads(SHIPPED.read_text())["tasks"]
    assert again == ("CartPole-v1", shipped["CartPole-v1"])
