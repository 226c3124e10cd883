"""Trained agents: Stable-Baselines3 models and ONNX policies, trained and exported here, then
evaluated through gymrun and checked against SB3's own predict on the same seeds."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import pickle
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
import onnx
import onnx.numpy_helper
import pytest
import torch
import yaml
from onnx import TensorProto, helper
from sb3_contrib import QRDQN, RecurrentPPO
from stable_baselines3 import A2C, DQN, PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from gymrun import Experiment, load_config, run_experiment
from gymrun.components.agents import make_agent
from gymrun.components.extras import COMPONENTS
from gymrun.components.seeding import EpisodeSeeds
from gymrun.diagnostics.doctor import check_component
from gymrun.scale.executors import OnDask, Processes
from gymrun.sweep import load_sweep, run_sweep
from tests.support.cli import gymrun
from tests.support.dask_cluster import Cluster
from tests.support.fake_env import FAKE_ID
from tests.support.paths import CONFIGS
from tests.support.processes import pip_install, without

RUN_SEED = 7


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
    pooled = run_experiment(load_config(path), executor=Processes(2))
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


def test_dask_workers_play_the_episodes_this_process_plays(models: Path, cluster: Cluster) -> None:
    path = config_for(
        models,
        {"name": "sb3", "path": "ppo.zip"},
        episodes=6,
        sweep={"seeds": [RUN_SEED, RUN_SEED + 1]},
    )
    sweep = load_sweep(path)
    local = run_sweep(sweep)
    dask = run_sweep(sweep, executor=OnDask(cluster.address))
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


@pytest.mark.slow  # a process that imports torch, and two it forks
def test_workers_forked_after_torch_ran_on_two_threads_do_not_hang(
    models: Path, tmp_path: Path
) -> None:
    # OpenMP's thread pool does not survive a fork: a worker that used it would wait forever
    script = tmp_path / "after_training.py"
    script.write_text(
        "import sys, torch\n"
        "from gymrun import load_config, run_experiment\n"
        "from gymrun.scale.executors import Processes\n"
        "torch.set_num_threads(2)\n"
        "x = torch.randn(512, 512)\n"
        "(x @ x).sum()\n"
        "result = run_experiment(load_config(sys.argv[1]), executor=Processes(2))\n"
        "print(result.summary.count)\n"
    )
    config = config_for(models, {"name": "sb3", "path": "ppo.zip"}, episodes=2)
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
    assert (process.returncode, out) == (0, "2\n"), err


# -- the onnx agent ----------------------------------------------------------------------------


def seen_observations(model: BaseAlgorithm, episodes: int) -> np.ndarray:
    """Every observation of `episodes` episodes of `model` on CartPole-v1 (gymrun's seeds)."""
    env, seeds, seen = gym.make("CartPole-v1"), EpisodeSeeds(RUN_SEED), []
    for index in range(episodes):
        observation, _ = env.reset(seed=seeds[index][0])
        done = False
        while not done:
            seen.append(observation)
            action, _ = model.predict(observation, deterministic=True)
            observation, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
    return np.array(seen)


def test_the_onnx_exports_take_the_sb3_models_actions(
    models: Path, onnx_exports: dict[str, Path]
) -> None:
    model = PPO.load(models / "ppo.zip", device="cpu")
    observations = seen_observations(model, 20)
    expected, _ = model.predict(observations, deterministic=True)
    env = gym.make("CartPole-v1")
    for path in onnx_exports.values():  # the action itself, and logits (argmax)
        agent = make_agent("onnx", {"path": str(path)}, env.action_space, env.observation_space)
        assert agent.act_batch(observations).tolist() == expected.tolist()
        assert [int(agent.act(o)) for o in observations] == expected.tolist()
        config = load_config(config_for(models, {"name": "onnx", "path": str(path)}))
        assert played(run_experiment(config)) == sb3_episodes(model, 20)
    assert len(observations) > 1000


def linear_onnx(
    path: Path,
    weights: np.ndarray,
    input_shape: list[Any],
    inputs: tuple[str, ...] = ("obs",),
    output: str = "scores",
) -> Path:
    """An ONNX model ``observation @ weights`` (the sum of its inputs when it has several)."""
    tensor = helper.make_tensor_value_info
    nodes, summed = [], inputs[0]
    if len(inputs) > 1:
        nodes.append(helper.make_node("Add", list(inputs), ["summed"]))
        summed = "summed"
    nodes.append(helper.make_node("MatMul", [summed, "weights"], [output]))
    out_shape = [*input_shape[:-1], weights.shape[1]]
    graph = helper.make_graph(
        nodes,
        "linear",
        [tensor(name, TensorProto.FLOAT, input_shape) for name in inputs],
        [tensor(output, TensorProto.FLOAT, out_shape)],
        [onnx.numpy_helper.from_array(weights.astype(np.float32), "weights")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


# pushes the cart towards where the pole falls: scores (left, right) from angle and its rate
BALANCE = np.array([[0.0, 0.0], [0.0, 0.0], [-1.0, 1.0], [-1.0, 1.0]])


def test_models_with_a_batch_of_one_or_none_play_as_a_batched_one(tmp_path: Path) -> None:
    shapes = {"batch": ["batch", 4], "one": [1, 4], "none": [4]}
    results = {}
    for name, shape in shapes.items():
        path = linear_onnx(tmp_path / f"{name}.onnx", BALANCE, shape)
        config = config_for(tmp_path, {"name": "onnx", "path": str(path)}, episodes=12)
        results[name] = played(run_experiment(load_config(config, ["vector={num_envs: 4}"])))
    assert results["one"] == results["none"] == results["batch"]
    assert min(reward for reward, _ in results["batch"]) > 100  # it balances: a real policy


def test_box_actions_are_clipped_to_the_bounds(tmp_path: Path) -> None:
    env = gym.make("Pendulum-v1")  # observations (3,), actions Box(-2, 2, (1,))
    path = linear_onnx(tmp_path / "strong.onnx", np.full((3, 1), 5.0), ["batch", 3])
    agent = make_agent("onnx", {"path": str(path)}, env.action_space, env.observation_space)
    observations = np.array([[1.0, 0.0, 0.0], [0.1, 0.1, 0.1], [-1.0, 0.0, -0.5]], np.float32)
    assert agent.act_batch(observations).tolist() == [[2.0], [1.5], [-2.0]]
    assert agent.act(observations[1]).dtype == np.float32


def test_what_a_user_sees_when_an_onnx_model_does_not_fit(tmp_path: Path) -> None:
    good = linear_onnx(tmp_path / "good.onnx", BALANCE, ["batch", 4])
    (tmp_path / "corrupt.onnx").write_bytes(b"\x08\x07not a protobuf")
    cases = {
        "wide.onnx": (
            {"path": str(linear_onnx(tmp_path / "wide.onnx", np.ones((5, 2)), ["batch", 5]))},
            f"{tmp_path}/wide.onnx input 'obs' has shape [batch, 5], but the environment's "
            "observations have shape [4] (an input of shape [batch, 4] takes them)",
        ),
        "three.onnx": (
            {"path": str(linear_onnx(tmp_path / "three.onnx", np.ones((4, 3)), ["batch", 4]))},
            f"{tmp_path}/three.onnx output 'scores' gives 3 numbers per observation; the "
            "actions Discrete(2) need 1 (the action) or 2 (a score for each action)",
        ),
        "two inputs": (
            {
                "path": str(
                    linear_onnx(tmp_path / "two.onnx", BALANCE, ["batch", 4], ("obs", "state"))
                )
            },
            f"{tmp_path}/two.onnx has inputs obs, state; gymrun feeds one, the observation: "
            "export the policy with the observation as its only input",
        ),
        "input name": (
            {"path": str(good), "input": "observation"},
            f"{good} has no input 'observation' (its inputs: obs)",
        ),
        "output name": (
            {"path": str(good), "output": "actions"},
            f"{good} has no output 'actions' (its outputs: scores)",
        ),
        "missing": ({"path": "missing.onnx"}, f"no such file: {tmp_path}/missing.onnx"),
    }
    for case, (agent, message) in cases.items():
        config = config_for(tmp_path, {"name": "onnx", **agent})
        code, _, err = gymrun("run", str(config), "-o", "run")
        assert (code, err) == (2, f"error: {config}:4 agent.path: agent onnx: {message}\n"), case
        assert not Path("run").exists()  # nothing was recorded: the run never started
    config = config_for(tmp_path, {"name": "onnx", "path": "corrupt.onnx"})
    code, _, err = gymrun("run", str(config))
    assert code == 2 and err.startswith(
        f"error: {config}:4 agent.path: "
        f"agent onnx: {tmp_path}/corrupt.onnx is not an ONNX model onnxruntime can load: "
    )
    assert len(err.splitlines()) == 1


# -- what does not fit is bad input, found before the first step -------------------------------


@pytest.fixture(scope="session")
def two_action_model(models: Path) -> Path:
    """A PPO model of the test suite's fake env with two actions (observations: (1,))."""
    with one_thread():
        model = PPO("MlpPolicy", gym.make(FAKE_ID), n_steps=64, batch_size=64, n_epochs=1, seed=0)
        model.learn(64)
    model.save(models / "two_actions.zip")
    return models / "two_actions.zip"


def test_what_a_user_sees_when_an_sb3_model_does_not_fit(
    models: Path, two_action_model: Path, normalized: tuple[Path, Path], tmp_path: Path
) -> None:
    ppo = models / "ppo.zip"
    (tmp_path / "garbage.zip").write_bytes(b"PK\x03\x04 not really a zip")
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as archive:
        archive.writestr("notes.txt", "not a model")
    with zipfile.ZipFile(ppo) as source, zipfile.ZipFile(tmp_path / "no_weights.zip", "w") as out:
        for name in source.namelist():
            if name != "policy.pth":
                out.writestr(name, source.read(name))
    (tmp_path / "a_dict.pkl").write_bytes(pickle.dumps({"mean": 0.0}))
    fake_obs = gym.make(FAKE_ID).observation_space
    cases = {
        "observations": (
            {"path": str(ppo)},
            {"env": "Acrobot-v1"},
            f"{ppo} was trained on observations Box (4,) float32, but the environment's are "
            "Box (6,) float32",
        ),
        "actions": (
            {"path": str(two_action_model)},
            {"env": {"id": FAKE_ID, "kwargs": {"actions": 3}}, "max_steps": 50},
            f"{two_action_model} was trained on actions Discrete(2), but the environment's "
            "are Discrete(3)",
        ),
        "missing": ({"path": "missing.zip"}, {}, f"no such file: {tmp_path}/missing.zip"),
        "not a zip": (
            {"path": "garbage.zip"},
            {},
            f"{tmp_path}/garbage.zip is not a Stable-Baselines3 model: not a readable zip "
            "(File is not a zip file)",
        ),
        "another zip": (
            {"path": "notes.zip"},
            {},
            f"{tmp_path}/notes.zip is not a Stable-Baselines3 model: the zip has no 'data' "
            "entry (model.save writes one)",
        ),
        "no weights": (
            {"path": "no_weights.zip"},
            {},
            f"{tmp_path}/no_weights.zip is not a Stable-Baselines3 model: the zip has no "
            "'policy.pth' entry, the policy's weights (model.save writes one)",
        ),
        "another algorithm": (
            {"path": str(ppo), "algo": "dqn"},
            {},
            f"{ppo} was saved by PPO (its policy class is from "
            "stable_baselines3.common.policies), which DQN cannot load: set algo: ppo, or "
            "leave it out",
        ),
        "missing statistics": (
            {"path": str(ppo), "vecnormalize": "missing.pkl"},
            {},
            f"no such file: {tmp_path}/missing.pkl",
        ),
        "not statistics": (
            {"path": str(ppo), "vecnormalize": "a_dict.pkl"},
            {},
            f"vecnormalize {tmp_path}/a_dict.pkl holds a dict, not the VecNormalize that "
            "VecNormalize.save writes",
        ),
        "statistics of another env": (
            {"path": str(two_action_model), "vecnormalize": str(normalized[1])},
            {"env": FAKE_ID, "max_steps": 50},
            f"vecnormalize {normalized[1]} was saved for observations Box (4,) float32, but "
            f"the environment's are Box {fake_obs.shape} {fake_obs.dtype}",
        ),
    }
    for case, (agent, rest, message) in cases.items():
        config = config_for(tmp_path, {"name": "sb3", **agent}, **rest)
        code, _, err = gymrun("run", str(config), "-o", "run")
        # the value the problem is about
        key = next((key for key in ("algo", "vecnormalize") if key in agent), "path")
        line = config.read_text().splitlines().index(f"  {key}: {agent[key]}") + 1
        said = f"error: {config}:{line} agent.{key}: agent sb3: {message}\n"
        assert (code, err) == (2, said), case
        assert not Path("run").exists()  # nothing was recorded: the run never started
        assert gymrun("run", str(config), "--workers", "2", "--no-record")[:3:2] == (2, err)
    # SB3's own words follow (they name sets, whose order varies from run to run)
    with zipfile.ZipFile(ppo) as source, zipfile.ZipFile(tmp_path / "no_critic.zip", "w") as out:
        for name in source.namelist():
            content = source.read(name)
            if name == "policy.pth":
                weights = torch.load(io.BytesIO(content), weights_only=True)
                weights = {k: v for k, v in weights.items() if not k.startswith("value_net")}
                buffer = io.BytesIO()
                torch.save(weights, buffer)
                content = buffer.getvalue()
            out.writestr(name, content)
    config = config_for(tmp_path, {"name": "sb3", "path": "no_critic.zip"})
    code, _, err = gymrun("run", str(config))
    assert code == 2 and err.startswith(
        f"error: {config}:4 agent.path: "
        f"agent sb3: {tmp_path}/no_critic.zip cannot be loaded as PPO: RuntimeError: "
    )
    assert len(err.splitlines()) == 1


def test_a_model_whose_algorithm_cannot_be_told_asks_for_algo(
    tmp_path: Path, user_module: Callable[[str], str]
) -> None:
    module = user_module(
        """
        from stable_baselines3.common.policies import ActorCriticPolicy
        class WidePolicy(ActorCriticPolicy):
            pass
        """
    )
    policy = __import__(module).WidePolicy
    with one_thread():
        model = PPO(policy, "CartPole-v1", n_steps=64, batch_size=64, n_epochs=1, seed=0)
        model.learn(64)
    model.save(tmp_path / "custom.zip")
    config = config_for(tmp_path, {"name": "sb3", "path": "custom.zip"}, episodes=3)
    code, _, err = gymrun("run", str(config), "--no-record")
    assert (code, err) == (
        2,
        f"error: {config}:4 agent.path: "
        f"agent sb3: cannot tell which algorithm saved {tmp_path}/custom.zip (its "
        f"policy class is from {module}): set algo: to one of a2c, ddpg, dqn, ppo, sac, td3, "
        "ars, crossq, ppo_mask, ppo_lstm, qrdqn, tqc, trpo\n",
    )
    code, out, err = gymrun("run", str(config), "--no-record", "--json", "--set", "agent.algo=PPO")
    assert code == 0, err
    episodes = [(e["reward"], e["steps"]) for e in json.loads(out)["episodes"]]
    assert episodes == sb3_episodes(PPO.load(tmp_path / "custom.zip", device="cpu"), 3)


def test_config_mistakes_are_named_with_their_line(models: Path, tmp_path: Path) -> None:
    config = tmp_path / "typos.yaml"
    config.write_text(
        "env: CartPole-v1\n"
        "agent:\n"
        "  name: sb3\n"
        "  path: ppo.zip\n"
        "  algo: ppo2\n"
        "  determinstic: false\n"
    )
    code, _, err = gymrun("run", str(config))
    assert code == 2
    assert err.splitlines() == [
        f"error: {config}:5 agent.algo: unknown algorithm 'ppo2'; did you mean 'ppo'? (use one "
        "of a2c, ddpg, dqn, ppo, sac, td3, ars, crossq, ppo_mask, ppo_lstm, qrdqn, tqc, trpo)",
        f"error: {config}:6 agent.determinstic: unknown key; did you mean 'deterministic'?",
    ]


def test_validate_refuses_the_algorithm_and_device_a_run_could_not_load(
    models: Path, tmp_path: Path
) -> None:
    cases = {
        "algo": (
            "dqn",
            f"agent.algo: agent sb3: {models}/ppo.zip was saved by PPO (its policy class is "
            "from stable_baselines3.common.policies), which DQN cannot load: set algo: ppo, "
            "or leave it out",
        ),
        "device": ("tpu", "agent.device: 'tpu' is not a device torch knows: use cpu, cuda"),
    }
    for key, (value, message) in cases.items():
        config = tmp_path / f"{key}.yaml"
        config.write_text(
            f"env: CartPole-v1\nagent:\n  name: sb3\n  path: {models}/ppo.zip\n  {key}: {value}\n"
        )
        line = 5  # the key's own line
        for command in (["validate"], ["run", "--no-record"]):
            code, out, err = gymrun(*command, str(config))
            assert code == 2 and out == "", (key, command)
            assert err.startswith(f"error: {config}:{line} {message}"), (key, command)
            assert len(err.splitlines()) == 1


@pytest.mark.parametrize("name", list(TRAINED))
def test_validate_takes_the_algorithm_that_saved_the_model(
    name: str, trained: Callable[[str], Path], tmp_path: Path
) -> None:
    _, env_id, _, _ = TRAINED[name]
    agent = {"name": "sb3", "path": str(trained(name)), "algo": name}
    config = write(tmp_path / "eval.yaml", {"env": env_id, "agent": agent})
    code, out, err = gymrun("validate", str(config))
    assert code == 0 and ": valid — " in out, err


def test_missing_libraries_are_named_with_how_to_install_them(
    models: Path, trained: Callable[[str], Path], onnx_exports: dict[str, Path], tmp_path: Path
) -> None:
    cases = [
        (
            ["stable_baselines3"],
            {"name": "sb3", "path": str(models / "ppo.zip")},
            "agent sb3 needs stable-baselines3, which is not installed: "
            + pip_install("gymrun[sb3]"),
        ),
        (
            ["sb3_contrib"],
            {"name": "sb3", "path": str(trained("QRDQN"))},
            f"agent sb3: {trained('QRDQN')} (saved by QRDQN) needs sb3-contrib, which is not "
            "installed: " + pip_install("sb3-contrib"),
        ),
        (
            ["onnxruntime"],
            {"name": "onnx", "path": str(onnx_exports["logits"])},
            "agent onnx needs onnxruntime, which is not installed: " + pip_install("gymrun[onnx]"),
        ),
    ]
    for missing, agent, message in cases:
        folder = tmp_path / missing[0]  # a folder each: the modules made missing stay so
        folder.mkdir()
        config = config_for(folder, agent, episodes=2)
        result = without(missing, "run", str(config), "-o", "run", cwd=folder)
        said = f"error: {config}:4 agent.path: {message}\n"  # the agent that needs it
        assert (result.returncode, result.stderr) == (2, said), missing
        assert not (folder / "run").exists()


def test_doctor_names_the_extras_of_trained_agents() -> None:
    found = {entry[0]: check_component(*entry) for entry in COMPONENTS}
    assert (found["Stable-Baselines3"].usable, found["Stable-Baselines3"].install) == (
        True,
        pip_install("gymrun[sb3]"),
    )
    assert (found["ONNX"].usable, found["ONNX"].install) == (True, pip_install("gymrun[onnx]"))


class ImageEnv(gym.Env[np.ndarray, int]):
    """Ten random 36x36 colour frames (channels last, as cameras and Atari give them); an
    action is rewarded when it says whether the frame is brighter than mid-grey."""

    metadata = {"render_modes": []}  # noqa: RUF012
    observation_space = gym.spaces.Box(0, 255, (36, 36, 3), np.uint8)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self.t = 0
        self.frame = self.np_random.integers(0, 256, (36, 36, 3), dtype=np.uint8)
        return self.frame, {}

    def step(self, action: int) -> Any:
        reward = float(int(action) == int(self.frame.mean() > 127.5))
        self.t += 1
        self.frame = self.np_random.integers(0, 256, (36, 36, 3), dtype=np.uint8)
        return self.frame, reward, False, self.t >= 10, {}


IMAGE_ID = "gymrun-test/Image-v0"
if IMAGE_ID not in gym.registry:
    gym.register(id=IMAGE_ID, entry_point=ImageEnv)


def test_a_model_of_images_takes_the_frames_channels_last(tmp_path: Path) -> None:
    # SB3 trains image policies on channel-first frames and transposes them as it predicts
    with one_thread():
        model = PPO("CnnPolicy", gym.make(IMAGE_ID), n_steps=32, batch_size=32, n_epochs=1)
        model.learn(32)
    assert model.observation_space.shape == (3, 36, 36)
    model.save(tmp_path / "cnn.zip")
    config = config_for(tmp_path, {"name": "sb3", "path": "cnn.zip"}, env=IMAGE_ID, episodes=3)
    result = run_experiment(load_config(config))
    assert played(result) == sb3_episodes(PPO.load(tmp_path / "cnn.zip"), 3, env_id=IMAGE_ID)


def test_a_recurrent_policy_is_refused(tmp_path: Path) -> None:
    with one_thread():
        model = RecurrentPPO("MlpLstmPolicy", "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1)
        model.learn(32)
    model.save(tmp_path / "lstm.zip")
    config = config_for(tmp_path, {"name": "sb3", "path": "lstm.zip"})
    code, _, err = gymrun("run", str(config), "--no-record")
    assert (code, err) == (
        2,
        f"error: {config}:4 agent.path: "
        f"agent sb3: {tmp_path}/lstm.zip holds a RecurrentPPO model, whose policy keeps "
        "a state from step to step; the sb3 agent plays feed-forward policies\n",
    )


@pytest.fixture(scope="session")
def atari_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, gym.Space[Any]]:
    """A PPO CnnPolicy trained for 16 steps the way SB3's Atari models are (make_atari_env's
    AtariWrapper, VecFrameStack of 4, VecTransposeImage added by SB3), and its observation
    space as saved."""
    import ale_py
    from stable_baselines3.common.env_util import make_atari_env
    from stable_baselines3.common.vec_env import VecFrameStack

    gym.register_envs(ale_py)
    env = VecFrameStack(make_atari_env("PongNoFrameskip-v4", n_envs=1, seed=0), n_stack=4)
    with one_thread():
        model = PPO("CnnPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu")
        model.learn(16)
    path = tmp_path_factory.mktemp("atari") / "pong_ppo.zip"
    model.save(path)
    env.close()
    return path, model.observation_space


@pytest.mark.slow  # trains a CNN on Atari frames, then plays Pong with it
def test_the_atari_recipe_evaluates_an_sb3_atari_model(
    atari_model: tuple[Path, gym.Space[Any]], tmp_path: Path
) -> None:
    from gymrun.core.environment import make_env
    from gymrun.core.plan import RunPlan

    path, trained = atari_model
    assert trained == gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    recipe = CONFIGS / "atari_sb3.yaml"
    config = tmp_path / "atari.yaml"
    config.write_text(recipe.read_text().replace("models/pong_ppo.zip", str(path)))
    env = make_env(RunPlan.of(load_config(config)))
    assert env.observation_space == trained  # exactly what the model was trained on
    env.close()

    code, _, stderr = gymrun("validate", str(config))
    assert code == 0, stderr
    code, stdout, stderr = gymrun(
        "run", str(recipe), "--set", f"agent.path={path}", "--set", "max_steps=200",
        "-n", "2", "--json", "--no-record",
    )  # fmt: skip
    assert code == 0, stderr
    summary = json.loads(stdout)["summary"]
    assert summary["count"] == 2 and summary["mean_steps"] == 200
    assert -21 <= summary["mean_reward"] <= 21  # Pong's points, not clipped to the sign
