"""A sweep's grid: the product of its values and seeds, bounded and checked before expanding."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gymrun.errors import ConfigError
from gymrun.sweep import load_sweep
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

WriteConfig = Callable[..., Path]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "env: CartPole-v1\nsweep:\n"
            + "".join(f"  k{i}: [{','.join('1' * 10)}]\n" for i in range(10)),
            "the grid has 10,000,000,000 runs (" + " x ".join(["10"] * 10) + " points x 1 seed)",
        ),
        (
            "env: CartPole-v1\nsweep: {episodes: [1], replicates: 1000000000}\n",
            "sweep.replicates: 1,000,000,000 replicates; a sweep has at most 100,000 runs",
        ),
        (
            "env: CartPole-v1\nsweep: {seed: [1, 2, 3]}\n",
            "sweep.seed: the seeds of a sweep are given as seeds: [...] (or replicates: N)",
        ),
        (
            "env: CartPole-v1\nsweep: {sweep.seeds: [[0], [1]]}\n",
            "sweep.sweep.seeds: the sweep section itself cannot be swept (seeds: [...] gives "
            "the seeds)",
        ),
        (
            "env: CartPole-v1\nsweep: {sweep: [{seeds: [0]}, {seeds: [1]}]}\n",
            "sweep.sweep: the sweep section itself cannot be swept",
        ),
        (
            "env: CartPole-v1\nsweep: {seeds: [1, 18446744073709551616]}\n",
            "sweep.seeds: must be a non-empty list of integers from 0 to 2**64 - 1",
        ),
        (
            "env: CartPole-v1\nsweep: {seeds: [3, 1, 3]}\n",
            "sweep.seeds: each seed once: 3 repeated",
        ),
        (
            "env: CartPole-v1\nseed: 18446744073709551615\nsweep: {replicates: 2}\n",
            "sweep.replicates: 2 replicates from seed 18446744073709551615 pass 2**64 - 1",
        ),
    ],
)
def test_sweep_grids_are_bounded_and_checked_before_expanding(
    write_config: WriteConfig, text: str, expected: str
) -> None:
    code, _, err = gymrun("sweep", str(write_config(text)), "--dry-run")
    assert code == 2 and expected in err


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        # the keys the point's agent needs, outside the keys the point sets: the point's
        ("{name: random}", ["point 1 (agent.name='constant') agent.action: required key is "
                            "missing"]),
        # a mistake of the config's own, at every point: where it is in the file, once
        ("{name: random, bogus: 1}", [":3 agent.bogus: unknown key",
                                      "point 1 (agent.name='constant') agent.action: required"]),
    ],
)  # fmt: skip
def test_a_problem_only_a_point_has_names_the_point(
    write_config: WriteConfig, agent: str, expected: list[str]
) -> None:
    config = write_config(
        f"name: m\nenv: CartPole-v1\nagent: {agent}\nepisodes: 3\n"
        "sweep:\n  agent.name: [random, constant]\n"
    )
    code, out, err = gymrun("sweep", str(config), "--dry-run")
    assert (code, out) == (2, "")
    lines = err.strip().splitlines()
    assert len(lines) == len(expected), err
    for line, said in zip(lines, expected, strict=True):
        assert line.startswith(f"error: {config}") and said in line, err


def small_sweep(write_config: WriteConfig, episodes: int = 12) -> Path:
    return write_config(
        f"""
        name: small
        env: CartPole-v1
        wrappers: [{{name: epsilon_random, epsilon: 0.5}}]
        agent: {{name: constant, action: 0}}
        episodes: {episodes}
        reward_boundary: 195
        sweep:
          wrappers.0.epsilon: [0.0, 1.0]
          agent.action: [0, 1]
          seeds: [3, 4]
        """
    )


def test_the_grid_is_the_product_of_the_values_times_the_seeds(write_config: WriteConfig) -> None:
    sweep = load_sweep(small_sweep(write_config))
    assert sweep.keys == ["wrappers.0.epsilon", "agent.action"]
    assert sweep.points == [
        {"wrappers.0.epsilon": 0.0, "agent.action": 0},
        {"wrappers.0.epsilon": 0.0, "agent.action": 1},
        {"wrappers.0.epsilon": 1.0, "agent.action": 0},
        {"wrappers.0.epsilon": 1.0, "agent.action": 1},
    ]
    assert [(r.point, r.seed, r.config.seed, r.config.wrappers[0].epsilon) for r in sweep.runs][
        :3
    ] == [
        (0, 3, 3, 0.0),
        (0, 4, 4, 0.0),
        (1, 3, 3, 0.0),
    ]
    assert all(r.config.sweep is None for r in sweep.runs)  # each run is an ordinary config


def test_replicates_count_up_from_the_seed(write_config: WriteConfig) -> None:
    path = write_config("env: CartPole-v1\nseed: 10\nsweep:\n  episodes: [2, 3]\n  replicates: 3\n")
    assert load_sweep(path).seeds == [10, 11, 12]


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        ("[1, 2]", "sweep: a sweep config needs a 'sweep:' mapping"),
        ("{episodes: 3}", "sweep.episodes: must be a non-empty list"),
        ("{episodes: [3], seeds: [1], replicates: 2}", "sweep: give either seeds or replicates"),
        ("{episodes: [3], seeds: [-1]}", "sweep.seeds: must be a non-empty list of integers"),
        ("{episodes: [3], seeds: []}", "sweep.seeds: must be a non-empty list of integers"),
    ],
)
def test_malformed_sweep_sections(write_config: WriteConfig, sweep: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_sweep(write_config(f"env: CartPole-v1\nsweep: {sweep}\n"))
    assert expected in str(exc.value)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("sweep.seeds=[]", "sweep.seeds: must be a non-empty list of integers from 0 to 2**64 - 1"),
        ("sweep.seeds=[1, 1]", "sweep.seeds: each seed once: 1 repeated"),
        ("sweep.replicates=0", "sweep: give either seeds or replicates, not both"),
        (
            "sweep={seeds: [-1]}",
            "sweep.seeds: must be a non-empty list of integers from 0 to 2**64 - 1",
        ),
        ("sweep.episodes=3", "sweep.episodes: must be a non-empty list"),
        ("sweep.agent.action=[]", "sweep.agent.action: must be a non-empty list"),
        (
            "sweep.seed=[1]",
            "sweep.seed: the seeds of a sweep are given as seeds: [...] (or replicates: N)",
        ),
    ],
)
def test_a_sweep_value_given_by_set_is_told_at_the_option(option: str, expected: str) -> None:
    sweep = str(CONFIGS / "cartpole_epsilon_sweep.yaml")
    code, out, err = gymrun("sweep", sweep, "--set", option, "--dry-run")
    assert (code, out) == (2, "")
    assert err == f"error: --set {option} {expected}\n"


@pytest.mark.parametrize(
    ("option", "column", "values"),
    [
        # the rest of the path is one key of the grid, as the sweep section writes its keys
        ("sweep.wrappers.0.epsilon=[0.2, 0.3]", "wrappers.0.epsilon", ["0.2", "0.3"]),
        ("sweep.agent.action=[0, 1]", "agent.action", ["0", "1"]),
        # a path that goes on into a key the section has is an item of its values
        ("sweep.wrappers.0.epsilon.1=0.9", "wrappers.0.epsilon", ["0.0", "0.9", "0.25"]),
    ],
)
def test_set_reaches_a_dotted_key_of_the_grid(option: str, column: str, values: list[str]) -> None:
    sweep = str(CONFIGS / "cartpole_epsilon_sweep.yaml")
    code, out, err = gymrun("sweep", sweep, "--set", option, "--dry-run", "--json")
    assert (code, err) == (0, "")
    grid = json.loads(out)
    assert column in grid["keys"]
    assert [str(point[column]) for point in grid["points"]][: len(values)] == values


def test_set_of_one_seed_changes_that_seed_alone() -> None:
    sweep = str(CONFIGS / "cartpole_epsilon_sweep.yaml")
    code, out, _ = gymrun("sweep", sweep, "--set", "sweep.seeds.1=7", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["seeds"] == [0, 7, 2]
