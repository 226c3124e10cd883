"""The library entry points, and the chapter's experiments as shipped in configs/."""

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gymrun import Experiment, load_config, run_experiment
from gymrun.errors import AgentError, GymrunError
from tests.support.paths import CONFIGS

# Recipes for a model of the user's own, which is not shipped: each is run against one the
# tests train (the Atari recipe in tests/components/test_trained_agents.py).
RECIPES = {"atari_sb3.yaml"}


@pytest.mark.parametrize(
    "path",
    [path for path in sorted(CONFIGS.glob("*.yaml")) if path.name not in RECIPES],
    ids=lambda p: p.name,
)
def test_every_shipped_config_runs(path: Path) -> None:
    one_run = ["sweep=null"] if "sweep" in path.name else []  # a sweep's other settings
    result = run_experiment(load_config(path, one_run, episodes=1))
    assert [e.episode for e in result.episodes] == [0]
    assert result.summary.count == 1
    assert result.config.seed is not None


def test_same_config_and_seed_give_identical_results() -> None:
    def rewards(episodes: int) -> list[tuple[int, float, int]]:
        result = run_experiment(load_config(CONFIGS / "cartpole_epsilon.yaml", episodes=episodes))
        return [(e.seed, e.reward, e.steps) for e in result.episodes]

    twenty = rewards(20)
    assert rewards(20) == twenty
    assert rewards(10) == twenty[:10]


def test_a_drawn_seed_is_reported_and_repeats_the_run() -> None:
    config = load_config(CONFIGS / "cartpole_random.yaml", ["seed=null"], episodes=5)
    first = run_experiment(config)
    assert first.config.seed is not None
    again = run_experiment(config.model_copy(update={"seed": first.config.seed}))
    assert len(again.episodes) == 5
    assert [(e.seed, e.reward) for e in again.episodes] == [
        (e.seed, e.reward) for e in first.episodes
    ]


def test_reward_boundary_defaults_to_the_spec_threshold() -> None:
    result = run_experiment(
        load_config(CONFIGS / "cartpole_random.yaml", ["reward_boundary=null"], episodes=2)
    )
    assert result.config.reward_boundary == 475.0
    assert result.to_json()["summary"]["reward_boundary"] == 475.0


def test_random_reward_env_behaves_like_the_chapter_says() -> None:
    result = run_experiment(load_config(CONFIGS / "random_reward.yaml", episodes=200))
    assert {e.steps for e in result.episodes} == {10}
    assert all(0 <= e.reward < 10 for e in result.episodes)
    assert result.summary.mean_reward == pytest.approx(5.0, abs=0.15)
    assert result.config.reward_boundary is None


def test_epsilon_random_improves_the_constant_agent_on_average() -> None:
    # The chapter's claim: random actions keep the pole up longer than always pushing left.
    constant = run_experiment(
        load_config(CONFIGS / "cartpole_epsilon.yaml", ["wrappers=[]"], episodes=200)
    )
    epsilon = run_experiment(load_config(CONFIGS / "cartpole_epsilon.yaml", episodes=200))
    assert constant.summary.mean_reward is not None and epsilon.summary.mean_reward is not None
    assert epsilon.summary.mean_reward > constant.summary.mean_reward + 2
    assert constant.summary.mean_reward < 10.5


def test_cartpole_balance_solves_cartpole_v1() -> None:
    result = run_experiment(
        load_config(CONFIGS / "cartpole_balance.yaml", ["reward_boundary=null"])
    )
    assert result.summary.count == 100
    assert result.summary.mean_reward is not None and result.summary.mean_reward >= 475
    assert result.summary.solved is True


def test_to_json_has_the_documented_shape() -> None:
    data = run_experiment(load_config(CONFIGS / "cartpole_random.yaml", episodes=2)).to_json()
    assert set(data) == {"config", "episodes", "summary", "status", "error", "run_dir"}
    assert set(data["episodes"][0]) == {
        "episode",
        "seed",
        "reward",
        "steps",
        "terminated",
        "truncated",
        "reached",
    }
    assert {
        "count",
        "mean_reward",
        "std_reward",
        "min_reward",
        "max_reward",
        "mean_steps",
        "reward_boundary",
        "reached",
        "solved",
    } <= set(data["summary"])
    assert data["config"]["seed"] == 42


def test_build_errors_are_clear(write_config: Callable[..., Path]) -> None:
    frame_stacked = write_config(
        "env: CartPole-v1\nagent: cartpole_balance\nwrappers: [{name: frame_stack, stack_size: 2}]"
    )
    with pytest.raises(AgentError, match=r"observes Box\(shape=\(2, 4\), dtype=float32\)$"):
        Experiment(load_config(frame_stacked))
    bad_kwargs = write_config("env: {id: CartPole-v1, kwargs: {gravity: 3}}\n")
    with pytest.raises(GymrunError, match=r"env.kwargs.gravity: unexpected keyword 'gravity'"):
        Experiment(load_config(bad_kwargs))  # found as the config is read


def test_experiment_streams_episodes_and_can_start_anywhere() -> None:
    config = load_config(CONFIGS / "cartpole_random.yaml", episodes=6)
    with Experiment(config) as experiment:
        tail = [(e.episode, e.reward) for e in experiment.episodes(start=4)]
    full = run_experiment(config).episodes
    assert tail == [(e.episode, e.reward) for e in full[4:]]
    assert np.mean([e.reward for e in full]) > 0


def test_evaluate_a_function_held_in_memory_as_a_run_of_it(tmp_path: Path) -> None:
    """``gymrun.evaluate`` of a function equals ``gymrun run`` of a config naming it: the
    same seeds and episodes, recorded as the CLI records them."""
    import json

    import gymrun
    from tests.support.cli import gymrun as cli

    (tmp_path / "lean.py").write_text("def act(observation):\n    return int(observation[2] > 0)\n")
    config = tmp_path / "lean.yaml"
    config.write_text("env: CartPole-v1\nagent: lean:act\nepisodes: 6\nseed: 4\n")
    code, _, err = cli("run", str(config), "-o", str(tmp_path / "named"))
    assert code == 0, err
    named = (tmp_path / "named" / "episodes.jsonl").read_text().splitlines()

    def lean(observation: np.ndarray) -> int:
        return int(observation[2] > 0)

    result = gymrun.evaluate(lean, "CartPole-v1", episodes=6, seed=4, record_dir=tmp_path / "held")
    assert result.status == "completed" and result.summary.count == 6
    held = (tmp_path / "held" / "episodes.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in held] == [json.loads(line) for line in named]
    meta = json.loads((tmp_path / "held" / "meta.json").read_text())
    assert meta["agent"]["in_memory"].endswith("lean")
    assert "(in memory)" in (tmp_path / "held" / "config.yaml").read_text()


def test_evaluate_an_sb3_model_held_in_memory_as_its_saved_file(tmp_path: Path) -> None:
    """A Stable-Baselines3 model in memory plays the episodes its saved file plays in a
    config (``agent: sb3``), with SB3's deterministic actions, and a config's wrappers."""
    import torch
    from stable_baselines3 import PPO

    import gymrun

    torch.set_num_threads(1)
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=64, batch_size=64, n_epochs=1, seed=0)
    model.learn(64)
    model.save(tmp_path / "ppo.zip")
    settings = ["wrappers=[{name: epsilon_random, epsilon: 0.2}]"]
    saved = run_experiment(
        load_config(CONFIGS / "cartpole_random.yaml", [*settings, "agent=sb3",
                    f"agent.path={tmp_path / 'ppo.zip'}"], episodes=8, seed=1)
    )  # fmt: skip
    held = gymrun.evaluate(
        model, CONFIGS / "cartpole_random.yaml", overrides=settings, episodes=8, seed=1
    )
    assert [(e.seed, e.reward, e.steps) for e in held.episodes] == [
        (e.seed, e.reward, e.steps) for e in saved.episodes
    ]
    assert held.summary.mean_reward == saved.summary.mean_reward


def test_evaluate_refuses_what_is_not_an_agent() -> None:
    import gymrun

    with pytest.raises(AgentError, match="int is not an agent: give an object with act"):
        gymrun.evaluate(3, "CartPole-v1", episodes=1)
