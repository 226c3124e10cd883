"""The JSON Schema that the configs guide offers editors (``gymrun schema``) takes every
config gymrun takes, shorthands included, and flags what gymrun would refuse."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from gymrun.config import config_schema
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS, ROOT


def problems(document: Any) -> list[str]:
    validator = Draft202012Validator(config_schema())
    return [error.message for error in validator.iter_errors(document)]


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda path: path.name)
def test_every_shipped_config_is_valid(path: Any) -> None:
    assert problems(yaml.safe_load(path.read_text())) == []


def test_the_configs_guide_example_is_valid() -> None:
    page = (ROOT / "docs" / "guide" / "configs.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", page, re.S)
    assert example is not None
    assert problems(yaml.safe_load(example.group(1))) == []
    # and gymrun takes it as it is, every key together
    Path("example.yaml").write_text(example.group(1))
    code, out, err = gymrun("validate", "example.yaml")
    assert (code, err) == (0, "")
    assert out.startswith("example.yaml: valid — CartPole-v1, wrappers: epsilon_random")


@pytest.mark.parametrize(
    "document",
    [
        {"env": "CartPole-v1", "episods": 10},
        {"env": "CartPole-v1", "wrappers": [{"name": "epsilon_random", "epsilon": 1.5}]},
        {"env": "CartPole-v1", "wrappers": [{"name": "epsilon_random"}]},
        {"env": "CartPole-v1", "agent": {"name": "planner", "horizon": 0}},
        {"env": "CartPole-v1", "agent": {"name": "constant"}},
        {"env": {"id": "CartPole-v1", "max_episode_steps": 0}},
        {"agent": "random"},
    ],
)
def test_what_gymrun_refuses_the_schema_flags(document: dict[str, Any]) -> None:
    assert problems(document)


def test_other_wrappers_and_agents_take_their_own_keywords() -> None:
    document = {
        "env": "CartPole-v1",
        "wrappers": ["TimeLimit", {"name": "my_wrappers:Shaped", "scale": 2}],
        "agent": {"name": "my_agents:PushTowardsPole", "gain": 0.5},
    }
    assert problems(document) == []


def test_a_wrapper_may_be_its_name_to_its_keywords() -> None:
    wrappers = [{"ClipReward": {"min_reward": 0, "max_reward": 1}}, {"TimeLimit": None}]
    assert problems({"env": "CartPole-v1", "wrappers": wrappers}) == []
    assert problems({"env": "CartPole-v1", "wrappers": [{"TimeLimit": 5}]})
    assert problems({"env": "CartPole-v1", "wrappers": [{"TimeLimit": {}, "ClipReward": {}}]})


def test_metrics_take_names_and_mappings_and_flag_an_unknown_reduce() -> None:
    document = {"env": "CartPole-v1", "metrics": ["is_success", {"name": "d", "key": "x"}]}
    assert problems(document) == []
    assert problems({"env": "CartPole-v1", "metrics": [{"name": "d", "reduce": "meen"}]})
    assert problems({"env": "CartPole-v1", "metrics": ["a.b"]})
