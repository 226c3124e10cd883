"""Vector runs: exact per-episode accounting under autoreset, determinism, wrappers, agents."""

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gymrun import Experiment, ExperimentConfig, load_config, run_experiment
from gymrun.components.seeding import EpisodeSeeds
from gymrun.components.vector_backends import BACKENDS
from gymrun.core.plan import RunPlan
from gymrun.errors import ConfigError, GymrunError
from gymrun.scale.executors import Processes
from tests.support.fake_env import FAKE_ID
from tests.support.paths import CONFIGS


def run(settings: dict, **kwargs: object):  # type: ignore[no-untyped-def]
    return run_experiment(ExperimentConfig.model_validate({"seed": 0, **settings}), **kwargs)


def fake(n: int, episodes: int, **env_kwargs: object) -> dict:
    return {
        "env": {"id": FAKE_ID, "kwargs": env_kwargs},
        "agent": {"name": "constant", "action": 0},
        "episodes": episodes,
        "vector": {"num_envs": n, "mode": "sync"},
    }


def test_episodes_are_numbered_as_they_start_and_each_counted_once() -> None:
    # Two sub-environments whose episodes last 1, 3, 1, 3, ... steps: under next-step
    # autoreset both finish episodes 0 and 1 at step 1, reset at step 2, play episodes 2
    # and 3 for steps 3-5, reset at step 6 and play episodes 4 and 5 at step 7.
    result = run(fake(2, 5, lengths=[1, 3]))
    assert [(e.episode, e.steps, e.reward, e.terminated) for e in result.episodes] == [
        (0, 1, 1.0, True),
        (1, 1, 1.0, True),
        (2, 3, 3.0, True),
        (3, 3, 3.0, True),
        (4, 1, 1.0, True),
    ]
    assert result.summary.count == 5
    assert result.summary.mean_steps == pytest.approx(9 / 5)


@pytest.mark.parametrize(("n", "episodes"), [(1, 7), (3, 10), (8, 5), (16, 100)])
def test_exactly_the_requested_episodes_are_reported(n: int, episodes: int) -> None:
    result = run(fake(n, episodes, lengths=[2, 5, 3, 1]))
    assert [e.episode for e in result.episodes] == list(range(episodes))
    assert all(e.reward == e.steps and e.steps in (1, 2, 3, 5) for e in result.episodes)
    assert result.summary.count == episodes


def test_truncation_at_the_time_limit() -> None:
    settings = fake(4, 9, length=0)  # never terminates by itself
    settings["env"]["max_episode_steps"] = 7
    result = run(settings)
    assert {(e.steps, e.terminated, e.truncated) for e in result.episodes} == {(7, False, True)}
    capped = run({**fake(4, 9, length=0), "max_steps": 3})
    assert {(e.steps, e.truncated) for e in capped.episodes} == {(3, True)}


def test_vector_entry_point_runs_are_deterministic_and_have_the_prefix_property() -> None:
    settings = {"env": "CartPole-v1", "agent": "random", "vector": {"num_envs": 8}}
    first = run({**settings, "episodes": 60})
    again = run({**settings, "episodes": 60})
    shorter = run({**settings, "episodes": 30})
    assert RunPlan.of(first.config).backend == BACKENDS["vector_entry_point"]
    assert [e[:6] for e in first.episodes] == [e[:6] for e in again.episodes]
    assert [e[:6] for e in shorter.episodes] == [e[:6] for e in first.episodes[:30]]
    assert first.summary == again.summary
    assert len({e.steps for e in first.episodes}) > 5  # the agent really is random
    assert all(e.seed is None for e in first.episodes)  # one seed for the whole vector env
    other = run({**settings, "episodes": 60, "seed": 1})
    assert [e.steps for e in other.episodes] != [e.steps for e in first.episodes]


def test_sync_and_async_modes_agree() -> None:
    settings = {"env": "CartPole-v1", "agent": "random", "episodes": 20}
    sync = run({**settings, "vector": {"num_envs": 3, "mode": "sync"}})
    asynchronous = run({**settings, "vector": {"num_envs": 3, "mode": "async"}})
    assert [e[:6] for e in sync.episodes] == [e[:6] for e in asynchronous.episodes]


def test_scripted_and_row_by_row_agents(user_module: Callable[[str], str]) -> None:
    balance = run(
        {
            "env": "CartPole-v1",
            "agent": "cartpole_balance",
            "episodes": 6,
            "vector": {"num_envs": 3},
        }
    )
    assert {e.reward for e in balance.episodes} == {500.0}
    # sequence has no batch form: one copy per sub-environment, restarted at each episode
    sequence = run({**fake(3, 6, lengths=[2]), "agent": {"name": "sequence", "actions": [1, 0]}})
    assert [e.steps for e in sequence.episodes] == [2] * 6
    module = user_module(
        """
        import numpy as np

        def left(observation):
            return 0

        class Batched:
            def __init__(self, num_envs):
                self.num_envs = num_envs
            def act(self, observation):
                return 1
            def act_batch(self, observations):
                return np.ones(self.num_envs, dtype=np.int64)
        """
    )
    left = run(
        {"env": "CartPole-v1", "agent": f"{module}:left", "episodes": 4, "vector": {"num_envs": 2}}
    )
    batched = run(
        {
            "env": "CartPole-v1",
            "agent": f"{module}:Batched",
            "episodes": 4,
            "vector": {"num_envs": 2},
        }
    )
    assert max(e.steps for e in left.episodes) < 20
    assert max(e.steps for e in batched.episodes) < 20


def test_only_agents_that_read_observations_are_given_them(
    user_module: Callable[[str], str],
) -> None:
    module = user_module(
        """
        import numpy as np

        seen = {"Blind": [], "Looking": []}

        class Blind:
            reads_observations = False  # as gymrun's random and constant agents
            def act(self, observation):
                seen["Blind"].append(observation)
                return 0

        class Looking:
            def act(self, observation):
                seen["Looking"].append(np.array(observation))  # kept: a copy
                return 0
        """
    )
    for name in ("Blind", "Looking"):
        settings = {"env": "CartPole-v1", "episodes": 4, "vector": {"num_envs": 2}}
        result = run({**settings, "agent": f"{module}:{name}"})
        assert [e.steps for e in result.episodes] == [
            e.steps for e in run({**settings, "agent": {"name": "constant", "action": 0}}).episodes
        ]
    seen = sys.modules[module].seen
    assert seen["Blind"] and all(observation is None for observation in seen["Blind"])
    looking = np.array(seen["Looking"])
    assert looking.shape[1:] == (4,) and len(np.unique(looking, axis=0)) > len(looking) // 2


def test_vector_wrappers(write_config: Callable[..., Path]) -> None:
    base = {
        "env": "CartPole-v1",
        "agent": {"name": "constant", "action": 0},
        "episodes": 40,
        "vector": {"num_envs": 4},
    }
    plain = run(base)
    epsilon = run({**base, "wrappers": [{"name": "epsilon_random", "epsilon": 0.5}]})
    assert epsilon.summary.mean_reward > plain.summary.mean_reward + 2  # randomness helps
    scaled = run(
        {
            **base,
            "wrappers": [
                {"name": "scale_reward", "scale": 0.5},
                {"name": "ClipReward", "max_reward": 0.25},
            ],
        }
    )
    # the reward is the environment's own return; what the agent saw is the shaped reward
    assert all(e.reward == e.steps for e in scaled.episodes)
    assert all(e.shaped_reward == e.steps * 0.25 for e in scaled.episodes)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "wrappers: [{name: frame_stack, stack_size: 4}]",
            "wrappers.0.name: wrapper 'frame_stack' has no vector form",
        ),
        (
            "wrappers: [{name: TimeLimit, max_episode_steps: 5}]",
            "wrappers.0.name: wrapper 'TimeLimit' has no vector form",
        ),
        ("record: {video: true}", "record.video: video is recorded in single-env runs"),
    ],
)
def test_what_cannot_run_vectorised_is_refused_up_front(
    write_config: Callable[..., Path], extra: str, expected: str
) -> None:
    path = write_config(f"env: CartPole-v1\nvector: {{num_envs: 2}}\n{extra}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert [str(p).split(" ", 1)[1][: len(expected)] for p in exc.value.problems] == [expected]


def test_vector_entry_point_must_exist(write_config: Callable[..., Path]) -> None:
    path = write_config("env: Acrobot-v1\nvector: {num_envs: 2, mode: vector_entry_point}\n")
    with pytest.raises(ConfigError, match=r"vector\.mode: Acrobot-v1 has no vector_entry_point"):
        load_config(path)
    assert RunPlan.of(load_config(path, ["vector.mode=null"])).backend == BACKENDS["sync"]


def test_learning_agents_are_not_split(user_module: Callable[[str], str]) -> None:
    module = user_module(
        "class Learner:\n    def act(self, o):\n        return 0\n"
        "    def observe(self, *transition):\n        pass\n"
    )
    with pytest.raises(GymrunError, match="it has observe"):
        Experiment(
            ExperimentConfig.model_validate(
                {"env": "CartPole-v1", "agent": f"{module}:Learner", "vector": {"num_envs": 2}}
            )
        )
    with pytest.raises(GymrunError, match="it has observe"):
        run_experiment(
            ExperimentConfig.model_validate({"env": "CartPole-v1", "agent": f"{module}:Learner"}),
            executor=Processes(2),
        )


def test_workers_give_exactly_the_serial_results() -> None:
    config = load_config(CONFIGS / "cartpole_epsilon.yaml", episodes=300)
    serial = run_experiment(config)
    parallel = run_experiment(config, executor=Processes(2))
    assert [e[:7] for e in parallel.episodes] == [e[:7] for e in serial.episodes]
    assert [e.shaped_reward for e in parallel.episodes] == [e.reward for e in serial.episodes]
    assert parallel.summary == serial.summary
    with pytest.raises(GymrunError, match="own vector implementation is seeded once per run"):
        run({"env": "CartPole-v1", "vector": {"num_envs": 2}}, executor=Processes(2))


def test_a_failure_in_a_worker_keeps_the_episodes_before_it() -> None:
    doomed = EpisodeSeeds(0)[25][0]  # the environment seed of episode 25
    settings = {
        "env": {"id": FAKE_ID, "kwargs": {"length": 2, "fail_seed": doomed}},
        "agent": {"name": "constant", "action": 0},
        "episodes": 40,
    }
    result = run(settings, executor=Processes(2))
    assert result.status == "failed"
    assert str(result.error).startswith(
        f"episode 25, step 0: RuntimeError: reset exploded for seed {doomed}"
    )
    assert [e.episode for e in result.episodes] == list(range(25))
    assert result.summary.count == 25


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sync_and_async_episodes_are_exactly_the_single_env_ones(mode: str) -> None:
    # Each sub-environment is reset with its episode's own seed: the vector run is the
    # single-env run, episode by episode, wrappers and random agent included.
    settings = {
        "env": "CartPole-v1",
        "agent": "random",
        "wrappers": [
            {"name": "epsilon_random", "epsilon": 0.3},
            "FlattenObservation",
            {"name": "ClipReward", "max_reward": 0.5},
        ],
        "episodes": 25,
    }
    single = run(settings)
    vector = run({**settings, "vector": {"num_envs": 4, "mode": mode}})
    assert [e[:7] for e in vector.episodes] == [e[:7] for e in single.episodes]
    assert [e.shaped_reward for e in vector.episodes] == [e.steps / 2 for e in single.episodes]
    assert [e.seed for e in vector.episodes] == [EpisodeSeeds(0)[i][0] for i in range(25)]
    assert vector.summary == single.summary


def reference_episodes(episodes: int, num_envs: int) -> list[tuple[int, float, int, bool]]:
    """What a careful hand-written loop counts for CartPoleVectorEnv under next-step
    autoreset: one sub-environment and one step at a time."""
    import gymnasium as gym

    from gymrun.components.agents import RandomAgent

    env = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="vector_entry_point")
    agent = RandomAgent(env.single_action_space, num_envs)
    agent.reset(EpisodeSeeds(0)[0][1])
    env.reset(seed=0)
    playing, started = list(range(num_envs)), num_envs
    returns, lengths, resetting = [0.0] * num_envs, [0] * num_envs, [False] * num_envs
    ended: dict[int, tuple[int, float, int, bool]] = {}
    while any(i not in ended for i in range(episodes)):
        _, rewards, terminated, truncated, _ = env.step(agent.act_batch(None))
        for i in range(num_envs):
            if resetting[i]:  # this step only reset the sub-environment
                resetting[i] = False
                continue
            returns[i] += float(rewards[i])
            lengths[i] += 1
            if terminated[i] or truncated[i]:
                ended[playing[i]] = (playing[i], returns[i], lengths[i], bool(terminated[i]))
                returns[i], lengths[i], resetting[i] = 0.0, 0, True
                playing[i], started = started, started + 1
    return [ended[i] for i in range(episodes)]


@pytest.mark.parametrize("block", [1, 2, 7, 64])
@pytest.mark.parametrize("num_envs", [1, 3, 8])
def test_block_accounting_counts_what_a_step_by_step_loop_counts(
    monkeypatch: pytest.MonkeyPatch, block: int, num_envs: int
) -> None:
    import gymrun.core.steppers

    monkeypatch.setattr(gymrun.core.steppers, "BLOCK_STEPS", block)
    result = run(
        {"env": "CartPole-v1", "agent": "random", "episodes": 40, "vector": {"num_envs": num_envs}}
    )
    assert [(e.episode, e.reward, e.steps, e.terminated) for e in result.episodes] == (
        reference_episodes(40, num_envs)
    )


def test_a_large_recorded_vector_run_writes_every_episode_in_order(tmp_path: Path) -> None:
    # batches of thousands are written by the record's own thread
    settings = {"env": "CartPole-v1", "agent": "random", "episodes": 9000, "seed": 3}
    config = ExperimentConfig.model_validate({**settings, "vector": {"num_envs": 4096}})
    result = run_experiment(config, record_dir=tmp_path)
    lines = (tmp_path / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [e.to_json() for e in result.episodes]
    assert len(lines) == 9000
