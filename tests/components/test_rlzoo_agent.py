"""The rlzoo agent: rl-zoo3 model folders (the shipped one, and folders rl-zoo3's own trainer
makes here) played as rl-zoo3 plays them, and every setting gymrun cannot reproduce refused
in one line before anything is made."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import yaml

from gymrun import load_config, run_experiment
from gymrun.components.extras import COMPONENTS
from gymrun.components.trained.rlzoo_folder import zoo_yaml
from gymrun.diagnostics.doctor import check_component
from gymrun.scale.executors import OnDask, Processes
from gymrun.sweep import load_sweep, run_sweep
from tests.support.cli import gymrun
from tests.support.dask_cluster import Cluster
from tests.support.paths import CONFIGS
from tests.support.zoo_episodes import zoo_episodes

SHIPPED = CONFIGS / "models" / "rlzoo" / "ppo" / "CartPole-v1_1"
RUN_SEED = 7


def write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def played(result: Any) -> list[tuple[float, int]]:
    return [(episode.reward, episode.steps) for episode in result.episodes]


def zoo_copy(root: Path, config: dict[str, Any] | None = None, **args: Any) -> Path:
    """The shipped folder copied to ``root/logs/ppo/CartPole-v1_1``, its config.yml changed
    by `config` (a value of None removes the key) and args.yml by `args`, each written as
    rl-zoo3 writes it: ``yaml.dump`` of an OrderedDict of the sorted settings."""
    folder = root / "logs" / "ppo" / "CartPole-v1_1"
    shutil.copytree(SHIPPED, folder)
    for name, changes in (("config.yml", config or {}), ("args.yml", args)):
        file = folder / "CartPole-v1" / name
        settings = {**zoo_yaml(file), **changes}
        kept = sorted((key, value) for key, value in settings.items() if value is not None)
        file.write_text(yaml.dump(OrderedDict(kept)))
    return folder


def evaluation(folder: Path, path: str, **rest: Any) -> Path:
    config = {"env": "CartPole-v1", "agent": {"name": "rlzoo", "path": path}}
    return write(folder / "eval.yaml", config | {"episodes": 12, "seed": RUN_SEED} | rest)


# -- playing ---------------------------------------------------------------------------------


def test_the_shipped_folder_plays_as_its_model_with_its_statistics() -> None:
    zoo = played(run_experiment(load_config(CONFIGS / "cartpole_rlzoo.yaml", episodes=12)))
    model, stats = SHIPPED / "CartPole-v1.zip", SHIPPED / "CartPole-v1" / "vecnormalize.pkl"
    agent = f"agent={{name: sb3, path: {model}, vecnormalize: {stats}}}"
    by_hand = load_config(CONFIGS / "cartpole_rlzoo.yaml", [agent], episodes=12)
    assert zoo == played(run_experiment(by_hand))
    raw = load_config(CONFIGS / "cartpole_rlzoo.yaml", [f"agent={{name: sb3, path: {model}}}"])
    assert zoo != played(run_experiment(raw.model_copy(update={"episodes": 12})))


def test_a_vector_run_plays_the_episodes_of_one_env(tmp_path: Path) -> None:
    path = evaluation(tmp_path, str(SHIPPED))
    single = played(run_experiment(load_config(path)))
    synced = load_config(path, ["vector={num_envs: 3, mode: sync}"])
    assert played(run_experiment(synced)) == single
    own = run_experiment(load_config(path, num_envs=3))  # CartPole's own vector env
    assert own.status == "completed" and len(own.episodes) == 12


def test_an_env_wrapper_wraps_each_env_beneath_the_agent(tmp_path: Path) -> None:
    clipped = {"gymnasium.wrappers.ClipReward": {"min_reward": 0, "max_reward": 0.5}}
    folder = zoo_copy(tmp_path, {"env_wrapper": [clipped]})
    result = run_experiment(load_config(evaluation(tmp_path, str(folder), episodes=3)))
    # the environment's own reward, and beside it the clipped one the model was trained on
    assert [(e.reward, e.shaped_reward) for e in result.episodes] == [
        (e.steps, e.steps / 2) for e in result.episodes
    ]


def test_worker_processes_and_dask_workers_play_the_episodes_of_one_process(
    tmp_path: Path, cluster: Cluster
) -> None:
    path = evaluation(tmp_path, str(SHIPPED), episodes=6, sweep={"seeds": [1, 2]})
    args = ["run", str(path), "--set", "sweep=null", "--json", "--no-record"]
    one, two = gymrun(*args), gymrun(*args, "--workers", "2")
    assert one.code == two.code == 0, one.stderr + two.stderr
    assert json.loads(one.stdout)["episodes"] == json.loads(two.stdout)["episodes"]
    sweep = load_sweep(path)
    local, dask = run_sweep(sweep), run_sweep(sweep, executor=OnDask(cluster.address))
    assert dask.status == "completed"
    means = [(p.values, p.mean_reward, p.mean_steps) for p in local.points]
    assert [(p.values, p.mean_reward, p.mean_steps) for p in dask.points] == means


def test_a_recorded_run_keeps_the_hash_of_every_file_it_read(tmp_path: Path) -> None:
    code, _, err = gymrun("run", str(evaluation(tmp_path, str(SHIPPED))), "-q", "-o", "run")
    assert code == 0, err
    agent = json.loads((tmp_path / "run" / "meta.json").read_text())["agent"]
    assert agent["folder"] == str(SHIPPED)
    assert agent["algo"] == "PPO"
    assert [Path(file["path"]).name for file in agent["settings"]] == ["config.yml", "args.yml"]
    assert Path(agent["vecnormalize"]["path"]).name == "vecnormalize.pkl"
    assert Path(agent["model"]["path"]) == SHIPPED / "CartPole-v1.zip"
    assert len(agent["model"]["sha256"]) == 64


def test_validate_reads_the_folder_without_loading_it() -> None:
    code, out, err = gymrun("validate", str(CONFIGS / "cartpole_rlzoo.yaml"))
    assert code == 0, err
    assert "agent: rlzoo" in out
    assert err == (
        "note: agent rlzoo: its files were read, not loaded; the model's weights and the "
        "VecNormalize statistics are checked when a run loads them\n"
    )


# -- what is refused -------------------------------------------------------------------------


def test_a_python_tag_other_than_ordered_dict_is_refused_not_run(tmp_path: Path) -> None:
    folder = zoo_copy(tmp_path)
    config = folder / "CartPole-v1" / "config.yml"
    planted = tmp_path / "planted"
    config.write_text(
        config.read_text()
        + f"  - - policy_kwargs\n    - !!python/object/apply:os.system ['touch {planted}']\n"
    )
    code, _, err = gymrun("validate", str(evaluation(tmp_path, str(folder))))
    line = len(config.read_text().splitlines())
    assert (code, err) == (
        2,
        f"error: {tmp_path}/eval.yaml:4 agent.path: agent rlzoo: {config} line {line}: the tag "
        "!!python/object/apply:os.system is not read; gymrun reads rl-zoo3's OrderedDict tag "
        "as a mapping and builds no other Python object\n",
    )
    assert not planted.exists()


def refusal(tmp_path: Path, folder: Path, *options: str) -> tuple[int, str]:
    code, _, err = gymrun("run", str(evaluation(tmp_path, str(folder))), "-o", "run", *options)
    assert not (tmp_path / "run").exists()  # refused before anything was made
    return code, err.removeprefix(f"error: {tmp_path}/eval.yaml:4 agent.path: ")


def test_what_cannot_be_played_as_trained_is_refused_in_one_line(tmp_path: Path) -> None:
    case = tmp_path / "case"
    settings = f"{case}/logs/ppo/CartPole-v1_1/CartPole-v1"
    cases = [
        (
            {"vec_env_wrapper": "stable_baselines3.common.vec_env.VecMonitor"},
            {},
            (),
            f"agent rlzoo: {settings}/config.yml sets vec_env_wrapper "
            "(stable_baselines3.common.vec_env.VecMonitor), which wraps the whole vector env; "
            "gymrun plays each environment alone and does not reproduce it",
        ),
        (
            {"env_wrapper": ["no_such_package.wrappers.Wrapper"]},
            {},
            (),
            f"agent rlzoo: {settings}/config.yml: env_wrapper no_such_package.wrappers.Wrapper: ",
        ),
        (
            {"env_wrapper": "stable_baselines3.common.atari_wrappers.AtariWrapper"},
            {},
            (),
            f"agent rlzoo: {settings}/config.yml: env_wrapper AtariWrapper ends an episode at "
            "each lost life and goes on with the game when reset, so no episode can be reset "
            "with a seed of its own: gymrun cannot play it as trained (play the model with "
            "agent sb3 and configs/atari_sb3.yaml's wrappers)",
        ),
        (
            {},
            {"env": "Acrobot-v1"},
            (),
            f"agent rlzoo: the model in {case}/logs/ppo/CartPole-v1_1 was trained on "
            f"Acrobot-v1 ({settings}/args.yml), but the config's env is CartPole-v1",
        ),
        (
            {},
            {"env_kwargs": {"sutton_barto_reward": True}},
            ("--set", "env.kwargs.sutton_barto_reward=false"),
            "agent rlzoo: env.kwargs.sutton_barto_reward is False, but the model was trained "
            f"with sutton_barto_reward: True ({settings}/args.yml): leave it out",
        ),
        (
            {},
            {"algo": "a2c"},
            ("--set", "agent.algo=ppo"),
            f"agent rlzoo: algo is ppo, but the model in {case}/logs/ppo/CartPole-v1_1 was "
            f"trained with a2c ({settings}/args.yml says a2c): leave algo out",
        ),
        (
            {"frame_stack": 4},
            {},
            ("--num-envs", "2"),
            f"agent rlzoo: {settings}/config.yml sets frame_stack, which the environment's own "
            "vector implementation (vector mode vector_entry_point, the default when an env "
            "has one) cannot play: set vector.mode to sync or async",
        ),
    ]
    for config, args, options, message in cases:
        folder = zoo_copy(case, config, **args)
        code, err = refusal(case, folder, *options)
        assert code == 2 and err.startswith(message) and err.count("\n") == 1, (err, message)
        shutil.rmtree(case)


def test_a_folder_that_is_not_a_zoo_model_is_named_for_what_it_lacks(tmp_path: Path) -> None:
    folder = zoo_copy(tmp_path)
    (folder / "CartPole-v1" / "vecnormalize.pkl").unlink()
    settings = folder / "CartPole-v1"
    assert refusal(tmp_path, folder) == (
        2,
        f"agent rlzoo: {settings}/config.yml sets normalize, but {settings}/vecnormalize.pkl, "
        "the VecNormalize statistics the model was trained with, is missing\n",
    )
    (folder / "CartPole-v1.zip").rename(folder / "best_model.zip")
    shutil.rmtree(settings)
    assert refusal(tmp_path, folder) == (
        2,
        f"agent rlzoo: {folder} is not an rl-zoo3 model folder: it has no ENV/config.yml "
        "(rl-zoo3 saves ENV.zip and ENV/config.yml side by side)\n",
    )
    assert refusal(tmp_path, folder / "best_model.zip") == (
        2,
        f"agent rlzoo: {folder}/best_model.zip is not a folder: give the model's rl-zoo3 "
        "folder (such as logs/ppo/CartPole-v1_1), or play a .zip alone with agent sb3\n",
    )
    assert refusal(tmp_path, tmp_path / "nowhere") == (
        2,
        f"agent rlzoo: no such folder: {tmp_path}/nowhere\n",
    )


def test_a_frame_stack_the_model_did_not_see_is_named_with_its_file(tmp_path: Path) -> None:
    folder = zoo_copy(tmp_path, {"frame_stack": 4})
    config = evaluation(tmp_path, str(folder))
    code, _, err = gymrun("validate", str(config))
    assert (code, err) == (
        2,
        f"error: {config}:4 agent.path: "
        f"agent rlzoo: {folder}/CartPole-v1.zip was trained on observations Box (4,) "
        "float32, but the environment's are Box (16,) float32 (its observations stacked 4 "
        f"times: frame_stack in {folder}/CartPole-v1/config.yml)\n",
    )


def test_another_model_file_in_the_folder_is_played_when_named(tmp_path: Path) -> None:
    folder = zoo_copy(tmp_path)
    (folder / "CartPole-v1.zip").rename(folder / "best_model.zip")
    assert refusal(tmp_path, folder) == (
        2,
        f"agent rlzoo: no such file: {folder}/CartPole-v1.zip\n",
    )
    path = evaluation(tmp_path, str(folder), episodes=3)
    best = played(run_experiment(load_config(path, ["agent.model=best_model.zip"])))
    shipped = load_config(CONFIGS / "cartpole_rlzoo.yaml", [f"seed={RUN_SEED}"], episodes=3)
    assert best == played(run_experiment(shipped))


def test_doctor_says_whether_rl_zoo3_and_minari_are_installed() -> None:
    found = {entry[0]: check_component(*entry) for entry in COMPONENTS}
    from importlib.metadata import version

    assert (found["rl-zoo3"].usable, found["rl-zoo3"].detail) == (True, version("rl_zoo3"))
    assert sys.modules.get("rl_zoo3") is None  # found, not imported: it patches Gymnasium
    assert found["Minari"].install.endswith("install minari")


# -- against rl-zoo3 itself ------------------------------------------------------------------


def train_with_rl_zoo3(folder: Path, *hyperparams: str, env_kwargs: str | None = None) -> Path:
    """A tiny PPO on CartPole-v1 (256 steps) trained by rl-zoo3's own trainer in `folder`:
    the model folder it saves, ``logs/ppo/CartPole-v1_1``."""
    command = [
        sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "CartPole-v1",
        "-n", "256", "-f", "logs", "--seed", "1", "--device", "cpu", "--num-threads", "1",
        "--verbose", "0", "--hyperparams", "n_envs:2", "n_epochs:2",
        "policy_kwargs:dict(net_arch=[16])", *hyperparams,
    ]  # fmt: skip
    if env_kwargs is not None:
        command += ["--env-kwargs", env_kwargs]
    subprocess.run(command, cwd=folder, check=True, capture_output=True, timeout=300)
    return folder / "logs" / "ppo" / "CartPole-v1_1"


@pytest.fixture(scope="session")
def zoo_trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder trained with every setting the agent reproduces: env kwargs (Sutton and
    Barto's rewards: 0 a step, -1 at the fall), an env_wrapper with keywords (a 60-step
    TimeLimit), VecNormalize and a stack of two frames."""
    return train_with_rl_zoo3(
        tmp_path_factory.mktemp("zoo"),
        "normalize:True",
        "frame_stack:2",
        "env_wrapper:[{'gymnasium.wrappers.TimeLimit': {'max_episode_steps': 60}}]",
        env_kwargs="sutton_barto_reward:True",
    )


@pytest.mark.slow
def test_a_folder_rl_zoo3_trained_plays_the_episodes_rl_zoo3_plays(zoo_trained: Path) -> None:
    expected = zoo_episodes(zoo_trained, "ppo", RUN_SEED, 12)
    assert {reward for reward, _ in expected} == {-1.0, 0.0}  # its env kwargs
    assert max(steps for _, steps in expected) == 60  # its wrapper
    assert len({steps for _, steps in expected}) > 5  # episodes that differ: a real check
    path = evaluation(zoo_trained.parent, str(zoo_trained))
    assert played(run_experiment(load_config(path))) == expected
    synced = load_config(path, ["vector={num_envs: 3, mode: sync}"])
    assert played(run_experiment(synced)) == expected
    assert played(run_experiment(load_config(path), executor=Processes(2))) == expected


@pytest.mark.slow
def test_the_shipped_folder_plays_the_episodes_rl_zoo3_plays() -> None:
    config = load_config(CONFIGS / "cartpole_rlzoo.yaml", [f"seed={RUN_SEED}"], episodes=5)
    assert played(run_experiment(config)) == zoo_episodes(SHIPPED, "ppo", RUN_SEED, 5)
