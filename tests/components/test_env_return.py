"""The environment's own return: what episodes are judged on, whatever the wrappers do to the
rewards the agent sees; what the agent saw is kept as the shaped reward."""

import json
from pathlib import Path

import pytest

from gymrun import ExperimentConfig, run_experiment
from gymrun.board.build import build_board
from gymrun.scale.executors import Processes
from gymrun.sweep import load_sweep, run_sweep
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

BALANCE = str(CONFIGS / "cartpole_balance.yaml")
SCALED = "wrappers=[{name: scale_reward, scale: 0.01}]"


def run(settings: dict, **kwargs: object):  # type: ignore[no-untyped-def]
    return run_experiment(ExperimentConfig.model_validate({"seed": 0, **settings}), **kwargs)


def test_a_scaled_reward_does_not_hide_a_solved_task() -> None:
    code, out, err = gymrun("run", BALANCE, "-n", "5", "--no-record", "--set", SCALED)
    assert code == 0, err
    assert "reward   │ 500 ± 0  (min 500, max 500)" in out
    assert "shaped   │ 5 ± 0  (min 5, max 5): what the agent saw through the wrappers" in out
    assert "verdict  │ reached on average: mean 500 [500, 500] ≥ 195 over 5 episodes" in out
    header = next(line for line in out.splitlines() if "episode" in line and "reward" in line)
    assert header.split()[1:6] == ["episode", "┃", "reward", "┃", "shaped"]
    assert "│       0 │    500 │      5 │   500 │ truncated │" in out


def test_json_and_records_hold_both_returns(tmp_path: Path) -> None:
    code, out, err = gymrun("run", BALANCE, "-n", "5", "-o", "scaled", "--json", "--set", SCALED)
    assert code == 0, err
    document = json.loads(out)
    summary = document["summary"]
    assert (summary["mean_reward"], summary["verdict"]) == (500.0, "reached on average")
    assert summary["solved"] is False  # 5 episodes: "solved" needs 100
    assert summary["shaped_reward"]["mean"] == pytest.approx(5.0)
    assert summary["shaped_reward"]["differing"] == 5
    for episode in document["episodes"]:
        assert episode["reward"] == 500.0 and episode["shaped_reward"] == pytest.approx(5.0)
    lines = [json.loads(line) for line in Path("scaled/episodes.jsonl").read_text().splitlines()]
    assert [list(line) for line in lines] == [
        [
            "episode",
            "seed",
            "reward",
            "shaped_reward",
            "steps",
            "terminated",
            "truncated",
            "reached",
        ]
    ] * 5
    assert [line["reward"] for line in lines] == [500.0] * 5
    assert [line["shaped_reward"] for line in lines] == pytest.approx([5.0] * 5)
    on_disk = json.loads(Path("scaled/summary.json").read_text())
    assert on_disk["shaped_reward"]["mean"] == pytest.approx(5.0)
    _, shown, _ = gymrun("show", "scaled")
    assert "shaped   │ 5 ± 0" in shown and "verdict  │ reached on average" in shown


def test_without_wrappers_the_records_are_as_they_were() -> None:
    code, out, err = gymrun("run", BALANCE, "-n", "2", "--seed", "0", "-o", "plain", "--json")
    assert code == 0, err
    assert Path("plain/episodes.jsonl").read_text().splitlines()[0] == (
        '{"episode": 0, "seed": 3757552657, "reward": 500.0, "steps": 500, '
        '"terminated": false, "truncated": true, "reached": true}'
    )
    assert "shaped_reward" not in Path("plain/summary.json").read_text()
    assert "shaped_reward" not in out
    _, table, _ = gymrun("run", BALANCE, "-n", "2", "--no-record")
    assert "shaped" not in table


def test_the_shaped_column_shows_only_when_it_differs() -> None:
    # an action wrapper leaves the rewards as they are: the records say so, the table not
    epsilon = ["--set", "wrappers=[{name: epsilon_random, epsilon: 0.2}]"]
    code, out, _ = gymrun("run", BALANCE, "-n", "3", "-o", "eps", *epsilon)
    assert code == 0 and "shaped" not in out
    assert '"shaped_reward"' in Path("eps/episodes.jsonl").read_text()
    assert "shaped" not in gymrun("show", "eps")[1]


def test_an_outer_time_limit_ends_the_measured_episode() -> None:
    result = run(
        {
            "env": "CartPole-v1",
            "agent": "cartpole_balance",
            "episodes": 3,
            "max_steps": 50,
            "wrappers": [
                {"name": "scale_reward", "scale": 0.5},
                {"name": "TimeLimit", "max_episode_steps": 80},
            ],
        }
    )
    assert [(e.reward, e.shaped_reward, e.steps) for e in result.episodes] == [(50.0, 25.0, 50)] * 3


CLIPPED = {
    "env": "CartPole-v1",
    "agent": "random",
    "wrappers": [
        {"name": "scale_reward", "scale": 3.0},
        {"name": "ClipReward", "max_reward": 2.0},
        {"name": "epsilon_random", "epsilon": 0.3},
    ],
    "episodes": 30,
}


def whole(episodes):  # type: ignore[no-untyped-def]
    return [(*e[:7], e.shaped_reward) for e in episodes]


@pytest.mark.parametrize(
    "how",
    [{"vector": {"num_envs": 4, "mode": "sync"}}, {"vector": {"num_envs": 3, "mode": "async"}}],
)
def test_vector_runs_measure_what_the_single_run_does(how: dict) -> None:
    single = run(CLIPPED)
    assert all(e.reward == e.steps and e.shaped_reward == 2 * e.steps for e in single.episodes)
    vector = run({**CLIPPED, **how})
    assert whole(vector.episodes) == whole(single.episodes)
    assert vector.summary == single.summary


def test_worker_processes_measure_what_one_process_does() -> None:
    single = run(CLIPPED)
    parallel = run(CLIPPED, executor=Processes(2))
    assert whole(parallel.episodes) == whole(single.episodes)
    assert parallel.summary == single.summary


@pytest.mark.parametrize("block", [1, 7, 256])
def test_the_envs_own_vector_implementation_measures_beneath_its_vector_wrappers(
    monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    import gymrun.core.steppers

    monkeypatch.setattr(gymrun.core.steppers, "BLOCK_STEPS", block)
    settings = {"env": "CartPole-v1", "agent": "random", "episodes": 60}
    vector = {"num_envs": 5, "mode": "vector_entry_point"}
    plain = run({**settings, "vector": vector})
    scaled = run(
        {**settings, "vector": vector, "wrappers": [{"name": "scale_reward", "scale": 0.5}]}
    )
    assert [e[:7] for e in scaled.episodes] == [e[:7] for e in plain.episodes]
    assert [e.shaped_reward for e in scaled.episodes] == [e.reward / 2 for e in plain.episodes]
    assert plain.episodes[0].shaped_reward is None
    assert scaled.summary.shaped_reward is not None
    assert scaled.summary.shaped_reward.mean == pytest.approx(plain.summary.mean_reward / 2)


def test_the_board_scores_the_envs_return(tmp_path: Path) -> None:
    code, _, err = gymrun("run", BALANCE, "-n", "5", "-q", "-o", "recs/scaled", "--set", SCALED)
    assert code == 0, err
    build_board(Path("recs"), tmp_path / "site")
    index = json.loads((tmp_path / "site" / "index.json").read_text())
    [row] = [r for env in index["environments"] for r in env["runs"]]
    assert row["score"]["value"] == 500.0


def test_a_sweep_over_the_reward_scale_judges_every_point_alike(tmp_path: Path) -> None:
    path = tmp_path / "scales.yaml"
    path.write_text(
        "name: scales\nenv: CartPole-v1\nagent: cartpole_balance\nepisodes: 3\n"
        "wrappers: [{name: scale_reward, scale: 1.0}]\n"
        "sweep:\n  wrappers.0.scale: [0.01, 1.0]\n  seeds: [3]\n"
    )
    sweep = load_sweep(path)
    local = run_sweep(sweep)
    process = run_sweep(sweep, executor=Processes(2))
    for result in (local, process):
        # 3 episodes a run: never "solved" (that needs 100), reached on average alike
        assert [(p.mean_reward, p.solved) for p in result.points] == [(500.0, False)] * 2
        verdicts = [p.runs[0]["summary"]["verdict"] for p in result.points]
        assert verdicts == ["reached on average"] * 2
        shaped = [p.runs[0]["summary"]["shaped_reward"]["mean"] for p in result.points]
        assert shaped == pytest.approx([5.0, 500.0])


def test_a_spread_of_float_rounding_is_shown_as_none() -> None:
    # 500 steps of 0.01 sum to 5 give or take 1e-15 from one episode to the next: the
    # table says 5 ± 0, as it does of the 500 the environment paid, not 5.00000000
    scaled = ["-W", "scale_reward", "--set", "wrappers.0.scale=0.01"]
    code, out, _ = gymrun("run", BALANCE, "-n", "100", "--no-record", *scaled)
    assert code == 0
    assert "reward   │ 500 ± 0  (min 500, max 500)" in out
    assert "shaped   │ 5 ± 0  (min 5, max 5): what the agent saw" in out
