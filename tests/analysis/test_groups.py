"""Runs grouped by config and groups compared, as `gymrun compare` and the board both use
them: a seed counts once (its newest completed run), only completed runs are scored, and
runs that differ in what they measure never share a group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gymrun.analysis.groups import Member, compare, group_key, score_name, scored_runs
from gymrun.errors import UnknownNameError
from gymrun.records.reading import read_run
from tests.support.board_runs import episode_rewards
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

RANDOM = str(CONFIGS / "cartpole_random.yaml")
CARTPOLE = {"name": "eps", "env": {"id": "CartPole-v1"}, "episodes": 100}


def member(run: str, score: float | None, status: str = "completed", **config: object) -> Member:
    settings = CARTPOLE | config
    return Member(run, settings, status, score, started_at=f"2026-01-01T00:00:0{run[-1]}")


def test_runs_that_differ_by_seed_or_recording_share_a_group() -> None:
    base = CARTPOLE | {"seed": 1}
    same = [
        base | {"seed": 2},
        base | {"record": {"video": True}},
        base | {"vector": {"num_envs": 4, "mode": "sync"}},
        base | {"vector": {"num_envs": 2, "mode": "async"}},
        base | {"sweep": {"seeds": [1, 2]}},
    ]
    assert {group_key(c) for c in same} == {group_key(base)}
    # CartPole-v1's own vector implementation (its default mode) is seeded once per run
    own = [base | {"vector": {"num_envs": n, "mode": m}} for n, m in [(4, None), (2, None)]]
    named = {"num_envs": 4, "mode": "vector_entry_point"}
    assert group_key(own[0]) == group_key(base | {"vector": named})
    assert len({group_key(c) for c in [base, *own]}) == 3
    assert group_key(base | {"episodes": 50}) != group_key(base)
    assert group_key(base, {"sha256": "a"}) != group_key(base, {"sha256": "b"})


def test_a_seed_counts_once_and_only_completed_runs_are_scored() -> None:
    members = [
        member("r1", 10.0, seed=1),
        member("r2", 12.0, seed=1),  # the same seed again, newer: it stands for seed 1
        member("r3", 30.0, seed=2),
        member("r4", 99.0, status="interrupted", seed=3),
    ]
    assert [m.run for m in scored_runs(members)] == ["r2", "r3"]
    [comparison] = compare(members)
    [group] = comparison.groups
    assert sorted(group.run_scores.tolist()) == [12.0, 30.0]
    assert group.mean.value == pytest.approx(21.0)


def test_the_json_says_how_many_resamples_each_interval_drew() -> None:
    # the groups' intervals draw 10,000 resamples; P(X > Y) and the profiles 2,000
    members = [member(f"{g}{s}", 10.0 * s + g, seed=s, episodes=g) for g in (1, 2) for s in (1, 2)]
    [comparison] = compare(members)
    said = comparison.to_json()["statistics"]
    assert "10000 resamples" in said["interval"]
    assert "2000 resamples" in said["improvement_and_profile_interval"]


def test_groups_are_compared_within_one_environment() -> None:
    members = [
        member("a1", 10.0, seed=1),
        member("a2", 11.0, seed=2),
        member("b1", 20.0, seed=1, episodes=50),
        member("b2", 21.0, seed=2, episodes=50),
        member("c1", 5.0, seed=1, env={"id": "Acrobot-v1"}),
    ]
    comparisons = {c.env: c for c in compare(members)}
    assert sorted(comparisons) == ["Acrobot-v1", "CartPole-v1"]
    cartpole = comparisons["CartPole-v1"]
    assert [g.label for g in cartpole.groups] == ["eps: episodes=50", "eps: episodes=100"]
    assert cartpole.improvement[0][1].value == 1.0  # every run of the first beat the second


def test_groups_that_differ_in_a_list_are_labelled_by_the_whole_list() -> None:
    sequence = {"name": "sequence", "actions": [0, 1]}
    members = [
        member("a1", 30.0, seed=1, agent=sequence),
        member("b1", 9.0, seed=1, agent=sequence | {"actions": [0]}),
        member("c1", 9.5, seed=1, agent=sequence, wrappers=[{"name": "w", "x": 1}]),
        member("d1", 9.2, seed=1, agent=sequence, wrappers=[{"name": "w", "x": 2}]),
    ]
    [comparison] = compare(members)
    assert sorted(g.label for g in comparison.groups) == [
        "eps: agent.actions=[0, 1]",
        "eps: agent.actions=[0, 1], wrappers.0.name=w, wrappers.0.x=1",
        "eps: agent.actions=[0, 1], wrappers.0.name=w, wrappers.0.x=2",
        "eps: agent.actions=[0]",
    ]


def recorded(base: Path, name: str, seed: int, *args: str) -> str:
    """A run of 4 random CartPole-v1 episodes recorded in `base`/`name`."""
    run = str(base / name)
    code, _, err = gymrun("run", "CartPole-v1", "-n", "4", "--seed", str(seed), "-o", run, *args)
    assert code == 0, err
    return run


def compared_groups(*runs: str) -> dict[str, list[str]]:
    """``gymrun compare RUNS --json``'s groups: each one's label, to its scored runs' names."""
    code, out, err = gymrun("compare", *runs, "--json")
    assert code == 0, err
    [comparison] = json.loads(out)["groups"]
    return {g["label"]: [Path(r).name for r in g["scored_runs"]] for g in comparison["groups"]}


def test_a_vector_run_shares_a_group_only_with_runs_that_play_its_episodes(
    tmp_path: Path,
) -> None:
    """sync and async reset each sub-environment with its episode's seed: their episodes are
    the single env's, whatever num_envs. CartPole-v1's own vector implementation (its
    default mode) is seeded once per run: other episodes, other again for another
    num_envs. Such a run never stands for a serial run's seed."""
    serial = [recorded(tmp_path, "s1", 1), recorded(tmp_path, "s2", 2)]
    sync = recorded(tmp_path, "sync1", 1, "--num-envs", "3", "--set", "vector.mode=sync")
    own3 = recorded(tmp_path, "own3", 1, "--num-envs", "3")
    own2 = recorded(tmp_path, "own2", 1, "--num-envs", "2")
    assert episode_rewards(Path(sync)) == episode_rewards(Path(serial[0]))
    assert episode_rewards(Path(own3)) != episode_rewards(Path(serial[0]))
    assert episode_rewards(Path(own2)) != episode_rewards(Path(own3))

    assert compared_groups(serial[0], own3, serial[1]) == {
        "CartPole-v1": ["s1", "s2"],
        "CartPole-v1: vector.mode=vector_entry_point, vector.num_envs=3": ["own3"],
    }
    groups = compared_groups(*serial, sync, own3, own2)
    assert groups["CartPole-v1"] == ["s2", "sync1"]  # sync1 plays s1's episodes: newest counts
    assert groups["CartPole-v1: vector.mode=vector_entry_point, vector.num_envs=2"] == ["own2"]
    assert len(groups) == 3


def test_a_group_label_names_only_what_its_config_sets(tmp_path: Path) -> None:
    plain = recorded(tmp_path, "plain", 1)
    kwarg = recorded(tmp_path, "kwarg", 1, "--set", "env.kwargs.sutton_barto_reward=true")
    limited = recorded(tmp_path, "limited", 1, "--set", "max_steps=10")
    assert sorted(compared_groups(plain, kwarg, limited)) == [
        "CartPole-v1",
        "CartPole-v1: env.kwargs.sutton_barto_reward=true",
        "CartPole-v1: max_steps=10",
    ]


def test_a_score_no_run_recorded_is_refused_naming_the_argument(tmp_path: Path) -> None:
    """As score_name's argument: ``--score`` is gymrun compare's option."""
    run = tmp_path / "run"
    assert gymrun("run", RANDOM, "-n", "2", "-o", str(run))[0] == 0
    with pytest.raises(UnknownNameError) as raised:
        score_name("rewrd", [read_run(run)])
    assert str(raised.value) == (
        "score='rewrd': the runs recorded no metric 'rewrd'; did you mean 'reward'? "
        "(they have: reward)"
    )
