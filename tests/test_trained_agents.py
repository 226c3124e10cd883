"""Trained agents: Stable-Baselines3 models and ONNX policies, trained and exported here, then
evaluated through gymrun and checked against SB3's own predict on the same seeds."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml
from sb3_contrib import QRDQN
from stable_baselines3 import A2C, DQN, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize
from typer.testing import CliRunner

from gymrun import Experiment, load_config, run_experiment
from gymrun.cli import app
from gymrun.components.seeding import EpisodeSeeds
from gymrun.sweep import load_sweep, run_sweep

RUN_SEED = 7


def gymrun(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Torch on one thread: two threads sharing a busy CPU train several times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with ``ppo.zip``: 2,048 PPO steps on CartPole-v1 (about a second), a policy
    that balances for 40 to 150 steps, so that episodes differ in length."""
    folder = tmp_path_factory.mktemp("models")
    with one_thread():
        ppo = PPO(
            "MlpPolicy",
            "CartPole-v1",
            n_steps=256,
            batch_size=64,
            n_epochs=4,
            seed=0,
            device="cpu",
            policy_kwargs={"net_arch": [32, 32]},
        )
        ppo.learn(2048)
    ppo.save(folder / "ppo.zip")
    return folder


@pytest.fixture(scope="session")
def onnx_exports(models: Path) -> dict[str, Path]:
    """``ppo.zip``'s policy exported to ONNX twice: its deterministic action (SB3's own
    export recipe: outputs actions, values, log_prob) and the logits of its two actions."""
    policy = PPO.load(models / "ppo.zip", device="cpu").policy

    class Actions(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.policy = policy  # a submodule: its weights are the graph's parameters

        def forward(self, observation: torch.Tensor) -> Any:
            return self.policy(observation, deterministic=True)

    class Logits(Actions):
        def forward(self, observation: torch.Tensor) -> Any:
            features = self.policy.extract_features(observation)
            return self.policy.action_net(self.policy.mlp_extractor.forward_actor(features))

    exports = {
        "actions": (Actions(), ["actions", "values", "log_prob"]),
        "logits": (Logits(), ["logits"]),
    }
    paths = {}
    for name, (module, outputs) in exports.items():
        paths[name] = models / f"{name}.onnx"
        with warnings.catch_warnings():  # the TorchScript exporter (no onnxscript) warns
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                (torch.zeros(1, 4),),
                str(paths[name]),
                input_names=["obs"],
                output_names=outputs,
                dynamic_axes={"obs": {0: "batch"}},
                dynamo=False,
            )
    return paths


def sb3_episodes(
    model: BaseAlgorithm, episodes: int, run_seed: int = RUN_SEED, env_id: str = "CartPole-v1"
) -> list[tuple[float, int]]:
    """(return, steps) of each episode, by hand: SB3's predict on a plain Gymnasium env,
    episode i reset with gymrun's seed for it."""
    env = gym.make(env_id)
    seeds = EpisodeSeeds(run_seed)
    played = []
    for index in range(episodes):
        observation, _ = env.reset(seed=seeds[index][0])
        total, steps, done = 0.0, 0, False
        while not done:
            action, _ = model.predict(observation, deterministic=True)
            observation, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            steps += 1
            done = terminated or truncated
        played.append((total, steps))
    env.close()
    return played


def write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def config_for(folder: Path, agent: dict[str, Any], **rest: Any) -> Path:
    base = {"env": "CartPole-v1", "agent": agent, "episodes": 20, "seed": RUN_SEED}
    return write(folder / "eval.yaml", base | rest)


def played(result: Any) -> list[tuple[float, int]]:
    return [(episode.reward, episode.steps) for episode in result.episodes]


# -- the sb3 agent ---------------------------------------------------------------------------


def test_an_sb3_model_plays_the_episodes_sb3s_own_predict_plays(models: Path) -> None:
    config = load_config(config_for(models, {"name": "sb3", "path": "ppo.zip"}))
    result = run_experiment(config)
    expected = sb3_episodes(PPO.load(models / "ppo.zip", device="cpu"), 20)
    assert played(result) == expected
    assert len({steps for _, steps in expected}) > 5  # episodes that differ: a real check


def test_evaluating_a_model_from_the_command_line_records_its_hash(
    models: Path, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    model = project / "models" / "ppo.zip"
    model.write_bytes((models / "ppo.zip").read_bytes())
    config = write(
        project / "eval.yaml",
        {"env": "CartPole-v1", "agent": {"name": "sb3", "path": "models/ppo.zip"}, "seed": 7},
    )
    code, out, err = gymrun("run", str(config), "-n", "5", "-o", "run")
    assert code == 0, err
    assert "eval: CartPole-v1, agent sb3" in out
    expected = sb3_episodes(PPO.load(model, device="cpu"), 5)
    episodes = [json.loads(line) for line in Path("run/episodes.jsonl").read_text().splitlines()]
    assert [(e["reward"], e["steps"]) for e in episodes] == expected
    assert yaml.safe_load(Path("run/config.yaml").read_text())["agent"] == {
        "name": "sb3",
        "path": str(model),  # resolved beside the config: the record runs from anywhere
        "algo": None,
        "deterministic": True,
        "vecnormalize": None,
        "device": "cpu",
    }
    meta = json.loads(Path("run/meta.json").read_text())["agent"]
    assert meta["model"] == {
        "path": str(model),
        "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
    }
    assert meta["algo"] == "PPO"
    assert meta["saved_with"] == {
        "stable-baselines3": zipfile.Path(model, "_stable_baselines3_version").read_text()
    }


def test_a_vector_run_gives_each_sub_environment_its_episode_and_shares_one_model(
    models: Path,
) -> None:
    path = config_for(models, {"name": "sb3", "path": "ppo.zip"})
    single = played(run_experiment(load_config(path)))
    for mode in ("sync", "async"):
        config = load_config(path, [f"vector={{num_envs: 3, mode: {mode}}}"])
        assert played(run_experiment(config)) == single, mode
        with Experiment(config) as experiment:
            agents = experiment.policy.agents
            assert len(agents) == 3 and len({id(agent.model) for agent in agents}) == 1


def test_an_env_with_its_own_vector_form_is_played_with_one_predict_per_step(
    models: Path, onnx_exports: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_for(models, {"name": "sb3", "path": "ppo.zip"}, episodes=64)
    config = load_config(path, ["vector={num_envs: 16}"])  # CartPole's own numpy vector env
    with Experiment(config) as experiment:
        assert experiment.policy.batched and len(experiment.policy.agents) == 1
        agent = experiment.policy.agents[0]
        rows: list[int] = []

        def counted(observations: Any, **options: Any) -> Any:
            rows.append(len(observations))
            return predict(observations, **options)

        predict = agent._predict
        monkeypatch.setattr(agent, "_predict", counted)
        episodes = [(e.reward, e.steps) for e in experiment.episodes()]
    assert len(episodes) == 64 and rows and set(rows) == {16}  # every call acts for all 16
    onnx = load_config(
        path, ["vector={num_envs: 16}", f"agent={{name: onnx, path: {onnx_exports['logits']}}}"]
    )
    assert played(run_experiment(onnx)) == episodes


def test_worker_processes_give_the_episodes_of_one_process(models: Path) -> None:
    config = config_for(models, {"name": "sb3", "path": "ppo.zip"})
    one = gymrun("run", str(config), "--json", "--no-record")
    two = gymrun("run", str(config), "--json", "--no-record", "--workers", "2")
    assert one[0] == two[0] == 0, one[2] + two[2]
    assert json.loads(one[1])["episodes"] == json.loads(two[1])["episodes"]


def test_sampled_actions_are_seeded_per_episode(models: Path) -> None:
    path = config_for(models, {"name": "sb3", "path": "ppo.zip", "deterministic": False})
    first = played(run_experiment(load_config(path)))
    assert played(run_experiment(load_config(path))) == first
    pooled = run_experiment(load_config(path), workers=2)
    assert played(pooled) == first  # each episode's draws depend on its own seed alone
    deterministic = played(run_experiment(load_config(path, ["agent.deterministic=true"])))
    assert first != deterministic


@pytest.fixture(scope="session")
def normalized(models: Path) -> tuple[Path, Path]:
    """PPO trained on VecNormalize'd CartPole observations, and the statistics it saved."""
    with one_thread():
        venv = VecNormalize(DummyVecEnv([lambda: gym.make("CartPole-v1")]), norm_reward=False)
        model = PPO("MlpPolicy", venv, n_steps=256, batch_size=64, n_epochs=4, seed=1)
        model.learn(2048)
    model.save(models / "normalized.zip")
    venv.save(models / "normalized.pkl")
    return models / "normalized.zip", models / "normalized.pkl"


def test_vecnormalize_statistics_are_applied_as_sb3_applies_them(
    normalized: tuple[Path, Path],
) -> None:
    model_path, stats_path = normalized
    agent = {"name": "sb3", "path": str(model_path), "vecnormalize": str(stats_path)}
    result = run_experiment(load_config(config_for(model_path.parent, agent)))
    # SB3's evaluation: the saved statistics on a DummyVecEnv, frozen, rewards left alone
    venv = VecNormalize.load(str(stats_path), DummyVecEnv([lambda: gym.make("CartPole-v1")]))
    venv.training, venv.norm_reward = False, False
    model = PPO.load(model_path, device="cpu")
    seeds, expected = EpisodeSeeds(RUN_SEED), []
    for index in range(20):
        venv.seed(seeds[index][0])
        observation, total, steps, done = venv.reset(), 0.0, 0, False
        while not done:
            action, _ = model.predict(observation, deterministic=True)
            observation, rewards, dones, _ = venv.step(action)
            total, steps, done = total + float(rewards[0]), steps + 1, bool(dones[0])
        expected.append((total, steps))
    assert played(result) == expected
    unnormalized = run_experiment(
        load_config(config_for(model_path.parent, agent | {"vecnormalize": None}))
    )
    assert played(unnormalized) != expected


def test_dask_workers_play_the_episodes_this_process_plays(models: Path) -> None:
    distributed = pytest.importorskip("distributed")
    path = config_for(
        models,
        {"name": "sb3", "path": "ppo.zip"},
        episodes=6,
        sweep={"agent.deterministic": [True, False], "seeds": [RUN_SEED, RUN_SEED + 1]},
    )
    sweep = load_sweep(path)
    local = run_sweep(sweep, executor="local")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=50,
    ) as cluster:
        dask = run_sweep(sweep, executor="dask", address=cluster.scheduler_address)
    assert dask.status == "completed"
    means = [(p.values, p.mean_reward, p.mean_steps) for p in local.points]
    assert [(p.values, p.mean_reward, p.mean_steps) for p in dask.points] == means
    model = PPO.load(models / "ppo.zip", device="cpu")
    by_hand = [r for seed in (RUN_SEED, RUN_SEED + 1) for r, _ in sb3_episodes(model, 6, seed)]
    assert local.points[0].mean_reward == pytest.approx(np.mean(by_hand), abs=1e-12)


# -- the algorithm, read from the file ---------------------------------------------------------


TRAINED = {
    # algorithm: (class, env, steps, keywords): a few hundred steps, well under a second each
    "A2C": (A2C, "CartPole-v1", 200, {"n_steps": 8}),
    "DQN": (DQN, "CartPole-v1", 300, {"learning_starts": 100, "train_freq": 4}),
    "SAC": (SAC, "Pendulum-v1", 150, {"learning_starts": 100, "batch_size": 32}),
    "QRDQN": (QRDQN, "CartPole-v1", 300, {"learning_starts": 100, "train_freq": 4}),
}


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``trained(name)``: the model file of algorithm `name`, trained once per session."""
    folder = tmp_path_factory.mktemp("algorithms")
    done: dict[str, Path] = {}

    def train(name: str) -> Path:
        if name not in done:
            cls, env_id, steps, keywords = TRAINED[name]
            with one_thread():
                model = cls("MlpPolicy", env_id, seed=0, device="cpu", **keywords)
                model.learn(steps)
            done[name] = folder / f"{name.lower()}.zip"
            model.save(done[name])
        return done[name]

    return train


@pytest.mark.parametrize("name", list(TRAINED))
def test_the_algorithm_is_read_from_the_file(
    name: str, trained: Callable[[str], Path], tmp_path: Path
) -> None:
    cls, env_id, _, _ = TRAINED[name]
    model = trained(name)
    config = write(
        tmp_path / "eval.yaml",
        {"env": env_id, "agent": {"name": "sb3", "path": str(model)}, "seed": RUN_SEED},
    )
    code, out, err = gymrun("run", str(config), "-n", "3", "--json", "-o", "run")
    assert code == 0, err
    episodes = [(e["reward"], e["steps"]) for e in json.loads(out)["episodes"]]
    assert episodes == sb3_episodes(cls.load(model, device="cpu"), 3, env_id=env_id)
    assert json.loads(Path("run/meta.json").read_text())["agent"]["algo"] == name


def test_workers_forked_after_torch_ran_on_two_threads_do_not_hang(
    models: Path, tmp_path: Path
) -> None:
    # OpenMP's thread pool does not survive a fork: a worker that used it would wait forever
    script = tmp_path / "after_training.py"
    script.write_text(
        "import sys, torch\n"
        "from gymrun import load_config, run_experiment\n"
        "torch.set_num_threads(2)\n"
        "x = torch.randn(512, 512)\n"
        "(x @ x).sum()\n"
        "result = run_experiment(load_config(sys.argv[1]), workers=2)\n"
        "print(result.summary.count)\n"
    )
    config = config_for(models, {"name": "sb3", "path": "ppo.zip"}, episodes=4)
    process = subprocess.Popen(
        [sys.executable, str(script), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its workers too are stopped if it hangs
    )
    try:
        out, err = process.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert (process.returncode, out) == (0, "4\n"), err
