"""Per-episode metrics read from the step infos: how an episode's steps make one value, what
an episode whose env did not report one gets, and the same values in every way a run is
stepped (one env, sync, async, the env's own vector form in both autoreset modes)."""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
import pytest

from gymrun import ExperimentConfig, Policy, play, run_experiment
from gymrun.components.agents import RandomAgent
from gymrun.components.seeding import EpisodeSeeds
from gymrun.core.metrics import Metric
from gymrun.errors import RolloutError
from gymrun.scale.executors import Processes
from tests.support.fake_env import FAKE_ID
from tests.support.goal_env import GOAL_ID, GoalVectorEnv

METRICS = [
    "is_success",
    {"name": "moves", "key": "one", "reduce": "sum"},
    {"name": "distance", "reduce": "mean"},
    {"name": "farthest", "key": "distance", "reduce": "max"},
    {"name": "final_distance", "key": "distance"},
]


def goal(episodes: int = 40, metrics: Any = None, **kwargs: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"env": {"id": GOAL_ID, "kwargs": kwargs}, "episodes": episodes}
    settings["seed"] = 3
    if metrics is not None:
        settings["metrics"] = metrics
    return settings


def run(settings: dict[str, Any], **options: Any) -> Any:
    return run_experiment(ExperimentConfig.model_validate(settings), **options)


def values(result: Any) -> list[dict[str, Any]]:
    return [dict(e.metrics) for e in result.episodes]


def test_each_reduce_makes_one_value_of_an_episodes_steps() -> None:
    result = run(goal(metrics=METRICS))
    episodes = result.episodes
    assert all(e.metrics["moves"] == e.steps for e in episodes)  # the sum of 1 per step
    # the walker succeeds exactly when it earns its reward, and ends 0 from the goal
    assert [e.metrics["is_success"] for e in episodes] == [e.reward == 1.0 for e in episodes]
    assert all(type(e.metrics["is_success"]) is bool for e in episodes)
    for e in episodes:
        assert (e.metrics["final_distance"] == 0.0) is e.metrics["is_success"]
        assert e.metrics["farthest"] >= max(e.metrics["distance"], e.metrics["final_distance"])
        assert e.metrics["farthest"] <= 3 + e.steps  # a step moves the walker by one
    assert {True, False} == {e.metrics["is_success"] for e in episodes}


def test_without_a_metrics_key_is_success_is_recorded_where_the_env_reports_it() -> None:
    reported = run(goal())
    assert [list(e.metrics) for e in reported.episodes] == [["is_success"]] * 40
    assert reported.summary.metrics["is_success"].mean == pytest.approx(
        np.mean([e.reward for e in reported.episodes])
    )
    silent = run(goal(report="never"))
    assert all(e.metrics == {} for e in silent.episodes)
    assert silent.summary.metrics == {} and "metrics" not in silent.summary.to_json()
    plain = run({"env": "CartPole-v1", "episodes": 3, "seed": 0})
    assert all(e.metrics == {} for e in plain.episodes) and plain.summary.metrics == {}
    none = run(goal(metrics=[]))  # an empty list records nothing, is_success neither
    assert all(e.metrics == {} for e in none.episodes)


def test_an_episode_without_a_value_gets_none_left_out_and_counted() -> None:
    # is_success only from step 5 on: the shorter episodes never report it
    named = run(goal(metrics=["is_success"], report="late"))
    short = [e for e in named.episodes if e.steps < 5]
    assert short and all(e.metrics == {"is_success": None} for e in short)
    given = [e.metrics["is_success"] for e in named.episodes if e.steps >= 5]
    summary = named.summary.metrics["is_success"]
    assert (summary.episodes, summary.missing) == (len(given), len(short))
    assert summary.mean == pytest.approx(np.mean(given))
    # recorded by default, the shorter episodes leave it out altogether
    default = run(goal(report="late"))
    assert [e.metrics for e in default.episodes if e.steps < 5] == [{}] * len(short)
    assert default.summary.metrics == named.summary.metrics
    # a metric the config names and the env never reports is there, with no value
    never = run(goal(metrics=["is_success"], report="never"))
    assert never.summary.metrics["is_success"].mean is None
    assert never.summary.metrics["is_success"].missing == 40


def test_a_float_success_is_a_number_and_its_mean_the_success_rate() -> None:
    boolean, floats = run(goal()), run(goal(kind="float"))  # as Gymnasium-Robotics gives it
    assert [e.metrics["is_success"] for e in floats.episodes] == [
        float(e.metrics["is_success"]) for e in boolean.episodes
    ]
    assert all(type(e.metrics["is_success"]) is float for e in floats.episodes)
    assert floats.summary.metrics == boolean.summary.metrics


def test_a_value_that_is_not_a_number_fails_the_run_naming_episode_step_and_key() -> None:
    env = gym.make(FAKE_ID, length=3)

    class Worded(gym.Wrapper):  # type: ignore[type-arg]
        def step(self, action: Any) -> Any:
            observation, reward, terminated, truncated, info = self.env.step(action)
            return observation, reward, terminated, truncated, {**info, "is_success": "yes"}

    policy = Policy([RandomAgent(env.action_space)], env.action_space)
    with pytest.raises(RolloutError) as raised:
        list(play(Worded(env), policy, seed=0, count=2))
    assert str(raised.value) == (
        "episode 0, step 1: info['is_success'] is 'yes', not a number or a boolean "
        "(metric is_success)"
    )


def test_nan_and_none_count_as_not_reported() -> None:
    env = gym.make(FAKE_ID, length=4)

    class Patchy(gym.Wrapper):  # type: ignore[type-arg]
        def step(self, action: Any) -> Any:
            observation, reward, terminated, truncated, _ = self.env.step(action)
            step = int(observation[0])
            value = {1: 2.0, 2: math.nan, 3: None, 4: 5.0}[step]
            return observation, reward, terminated, truncated, {"x": value}

    policy = Policy([RandomAgent(env.action_space)], env.action_space)
    metrics = [Metric(f"x_{r}", "x", r) for r in ("last", "sum", "mean", "max")]
    [[episode]] = list(play(Patchy(env), policy, seed=0, count=1, metrics=metrics))
    assert episode.metrics == {"x_last": 5.0, "x_sum": 7.0, "x_mean": 3.5, "x_max": 5.0}


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_runs_give_the_single_env_values(mode: str) -> None:
    single = run(goal(metrics=METRICS))
    vector = run({**goal(metrics=METRICS), "vector": {"num_envs": 4, "mode": mode}})
    assert values(vector) == values(single)
    assert vector.summary == single.summary
    partial = goal(report="late", kind="numpy")  # numpy booleans: object arrays in vector infos
    assert values(run({**partial, "vector": {"num_envs": 3, "mode": mode}})) == values(run(partial))


def test_worker_processes_give_the_single_env_values() -> None:
    single = run(goal(60, METRICS))
    pooled = run(goal(60, METRICS), executor=Processes(2))
    assert values(pooled) == values(single)
    assert pooled.summary == single.summary


def reference(
    episodes: int, num_envs: int, mode: str, report: str, late: int = 5
) -> list[tuple[float, int, dict[str, Any]]]:
    """What a careful loop counts for the walkers' own vector form, one sub-environment and
    one step at a time: each episode's reward, steps and metrics (is_success, the sum of
    `one` and the mean distance), from its step infos only (never a reset's)."""
    env = GoalVectorEnv(num_envs, report=report, late=late, autoreset_mode=mode)
    agent = RandomAgent(env.single_action_space, num_envs)
    agent.reset(EpisodeSeeds(3)[0][1])
    env.reset(seed=3)
    playing, started = list(range(num_envs)), num_envs
    fresh: dict[str, Any] = {"reward": 0.0, "steps": 0, "success": None, "one": 0, "d": []}
    state = [dict(fresh, d=[]) for _ in range(num_envs)]
    resetting = [False] * num_envs
    ended: dict[int, tuple[float, int, dict[str, Any]]] = {}
    while any(i not in ended for i in range(episodes)):
        _, rewards, terminated, truncated, infos = env.step(agent.act_batch(None))
        for i in range(num_envs):
            if resetting[i]:
                resetting[i] = False
                continue
            done = bool(terminated[i] or truncated[i])
            info = infos["final_info"] if mode == "same_step" and done else infos
            s = state[i]
            s["reward"] += float(rewards[i])
            s["steps"] += 1
            s["one"] += int(info["one"][i])
            s["d"].append(float(info["distance"][i]))
            if info.get("_is_success", np.zeros(num_envs, bool))[i]:
                s["success"] = bool(info["is_success"][i])
            if done:
                found = {"moves": float(s["one"]), "distance": float(np.mean(s["d"]))}
                if s["success"] is not None:
                    found = {"is_success": s["success"], **found}
                ended[playing[i]] = (s["reward"], s["steps"], found)
                state[i] = dict(fresh, d=[])
                resetting[i] = mode == "next_step"
                playing[i], started = started, started + 1
    return [ended[i] for i in range(episodes)]


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
@pytest.mark.parametrize("block", [1, 3, 256])
def test_an_envs_own_vector_form_counts_what_a_step_by_step_loop_counts(
    monkeypatch: pytest.MonkeyPatch, mode: str, block: int
) -> None:
    import gymrun.core.steppers

    monkeypatch.setattr(gymrun.core.steppers, "BLOCK_STEPS", block)
    metrics = ["is_success", METRICS[1], METRICS[2]]
    for report in ("every", "late"):
        settings = goal(60, metrics, report=report, autoreset_mode=mode)
        result = run({**settings, "vector": {"num_envs": 5, "mode": "vector_entry_point"}})
        expected = reference(60, 5, mode, report)
        found = [
            (e.reward, e.steps, {k: v for k, v in e.metrics.items() if v is not None})
            for e in result.episodes
        ]
        assert found == expected


def test_default_success_on_an_envs_own_vector_form_starts_where_it_is_first_reported() -> None:
    # is_success is seen first at some step of the run: the episodes that ended before
    # it have no value, and from then on every episode is counted
    settings = goal(80, report="late", autoreset_mode="next_step", late=7)
    result = run({**settings, "vector": {"num_envs": 8, "mode": "vector_entry_point"}})
    expected = reference(80, 8, "next_step", "late", late=7)
    assert [dict(e.metrics) for e in result.episodes] == [
        {"is_success": m["is_success"]} if "is_success" in m else {} for _, _, m in expected
    ]
