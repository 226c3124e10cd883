"""``gymrun run --dataset ID`` (``record.dataset``): a Minari dataset of every step, whose
episodes are the run's, the same whatever plays them; refused before anything runs when it
cannot be written; whole after an interrupted run, and continued by ``--resume``. A Minari
dataset reads back as a run in ``gymrun show`` and ``compare``."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import gymnasium as gym
import minari
import numpy as np
import pytest

from gymrun import load_config, run_experiment
from gymrun.errors import UsageError
from tests.records.test_resuming import stopped_run
from tests.support.cli import gymrun
from tests.support.processes import pip_install, run_gymrun, without

RANDOM = "env: CartPole-v1\nagent: random\nepisodes: 30\nseed: 3\n"


def datasets() -> Path:
    return Path(os.environ["MINARI_DATASETS_PATH"])


def lines(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]


def steps_of(dataset_id: str) -> list[tuple[np.ndarray, ...]]:
    """Each episode of a dataset: observations, actions, rewards, terminations, truncations."""
    return [
        (e.observations, e.actions, e.rewards, e.terminations, e.truncations)
        for e in minari.load_dataset(dataset_id).iterate_episodes()
    ]


def same_steps(a: list[tuple[np.ndarray, ...]], b: list[tuple[np.ndarray, ...]]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(x, y)
        for one, other in zip(a, b, strict=True)
        for x, y in zip(one, other, strict=True)
    )


def test_a_run_is_a_dataset_minari_reads_back_with_the_runs_episodes(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RANDOM)
    code, _, err = gymrun("run", "run.yaml", "--dataset", "cartpole/random", "-o", "run", "-q")
    assert code == 0, err
    path = datasets() / "cartpole" / "random-v0"
    assert f"note: dataset cartpole/random-v0 written: 30 episodes, in {path}\n" in err
    dataset = minari.load_dataset("cartpole/random-v0")
    recorded = lines(tmp_path / "run")
    episodes = list(dataset.iterate_episodes())
    assert [float(e.rewards.sum()) for e in episodes] == [line["reward"] for line in recorded]
    assert [len(e.rewards) for e in episodes] == [line["steps"] for line in recorded]
    assert [len(e.observations) for e in episodes] == [line["steps"] + 1 for line in recorded]
    assert [bool(e.terminations[-1]) for e in episodes] == [line["terminated"] for line in recorded]
    seeds = [m["seed"] for m in dataset.storage.get_episode_metadata(range(30))]
    assert seeds == [line["seed"] for line in recorded]
    # the first observation is the reset's with the episode's seed; the actions replay it
    env = gym.make("CartPole-v1")
    observation, _ = env.reset(seed=seeds[0])
    assert np.array_equal(episodes[0].observations[0], observation)
    for action, following in zip(episodes[0].actions, episodes[0].observations[1:], strict=True):
        observation, *_ = env.step(int(action))
        assert np.array_equal(observation, following)

    metadata = dataset.storage.metadata
    assert dataset.spec.env_spec.id == "CartPole-v1"
    assert (metadata["ref_min_score"], metadata["ref_max_score"]) == (23.04, 500.0)
    assert metadata["algorithm_name"] == "gymrun agent random"
    assert metadata["gymrun"]["config"]["record"]["dataset"] == "cartpole/random-v0"
    assert metadata["gymrun"]["config"]["seed"] == 3
    assert minari.get_normalized_score(dataset, np.array([500.0])) == pytest.approx(1.0)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # nothing left over


def test_a_task_without_reference_scores_or_spec_json_leaves_them_out(tmp_path: Path) -> None:
    code, _, err = gymrun(
        "run", "gymrun-test/Fake-v0", "-n", "3", "--dataset", "fake", "--no-record", "-q"
    )
    assert code == 0, err
    dataset = minari.load_dataset("fake-v0")
    metadata = dataset.storage.metadata
    assert "ref_min_score" not in metadata and "ref_max_score" not in metadata
    assert dataset.spec.env_spec is None  # its entry point is a class: no spec JSON holds it
    assert metadata["total_episodes"] == 3 and metadata["total_steps"] == 15


def test_an_existing_dataset_is_refused_before_anything_runs_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RANDOM)
    assert gymrun("run", "run.yaml", "--dataset", "taken-v2", "--no-record", "-q").code == 0
    path = datasets() / "taken-v2"
    code, _, err = gymrun("run", "run.yaml", "-n", "5", "--dataset", "taken-v2", "-o", "again")
    assert (code, err) == (
        2,
        f"error: --dataset record.dataset: dataset taken-v2 exists already ({path}); give "
        "another name or version, or --force to replace it\n",
    )
    assert not (tmp_path / "again").exists()
    with pytest.raises(UsageError) as refused:  # from Python: run_experiment's argument
        run_experiment(load_config(tmp_path / "run.yaml", episodes=5, dataset="taken-v2"))
    assert str(refused.value) == (
        f"dataset='taken-v2' record.dataset: dataset taken-v2 exists already ({path}); give "
        "another name or version, or replace_dataset=True to replace it"
    )
    # given in the file, its line is named
    (tmp_path / "named.yaml").write_text(RANDOM + "record: {dataset: taken-v2}\n")
    code, _, err = gymrun("run", "named.yaml", "-o", "again")
    line = len(RANDOM.splitlines()) + 1
    said = err.split(" dataset taken-v2")[0]
    assert (code, said) == (2, f"error: named.yaml:{line} record.dataset:")
    assert minari.load_dataset("taken-v2").total_episodes == 30
    code, _, err = gymrun("run", "run.yaml", "-n", "5", "--dataset", "taken-v2", "--force", "-q")
    assert code == 0, err
    assert minari.load_dataset("taken-v2").total_episodes == 5
    assert sorted(p.name for p in datasets().iterdir()) == ["taken-v2"]


def test_a_dataset_that_cannot_be_written_is_left_out_whole_and_fails_the_command(
    tmp_path: Path,
) -> None:
    (tmp_path / "not-a-directory").write_text("")
    environment = {"MINARI_DATASETS_PATH": str(tmp_path / "not-a-directory")}
    code, _, err = gymrun(
        "run", "CartPole-v1", "-n", "3", "--dataset", "x", "-o", "run", env=environment
    )
    assert code == 1, err  # asked for and not there: a script that goes on would miss it
    last = err.splitlines()[-1]
    assert last.startswith("error: dataset x-v0 was not written: ")
    assert last.endswith(" (the run is recorded in run)")
    assert len(lines(tmp_path / "run")) == 3  # the run itself is whole
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "completed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-directory", "run"]
    code, out, _ = gymrun(
        "run", "CartPole-v1", "-n", "3", "--dataset", "x", "--no-record", "--json", env=environment
    )
    assert code == 1
    assert json.loads(out)["unwritten"][0].startswith("dataset x-v0 was not written: ")


def test_a_config_without_a_dataset_records_what_it_always_did(tmp_path: Path) -> None:
    assert gymrun("run", "CartPole-v1", "-n", "2", "-o", "plain", "-q").code == 0
    assert "dataset" not in (tmp_path / "plain" / "config.yaml").read_text()
    assert gymrun("run", "CartPole-v1", "-n", "2", "-o", "kept", "--dataset", "k", "-q").code == 0
    assert "  dataset: k-v0\n" in (tmp_path / "kept" / "config.yaml").read_text()


def test_a_name_minari_would_not_take_is_one_line_of_bad_input(tmp_path: Path) -> None:
    rule = (
        "is not a Minari dataset ID: [NAMESPACE/]NAME[-vN], of letters, digits, '_' and '-', "
        "with a NAMESPACE of at least 2 characters (Minari's rule)\n"
    )
    (tmp_path / "run.yaml").write_text(RANDOM + "record: {dataset: 'my data'}\n")
    code, _, err = gymrun("run", "run.yaml", "--no-record")
    assert (code, err) == (2, f"error: run.yaml:5 record.dataset: 'my data' {rule}")
    code, _, err = gymrun("run", "run.yaml", "--no-record", "--dataset", "t/x")
    assert (code, err) == (2, f"error: --dataset record.dataset: 't/x' {rule}")


def test_without_minari_a_dataset_is_refused_with_the_install_command(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RANDOM)
    result = without(["minari"], "run", "run.yaml", "--dataset", "x", "-o", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: writing or reading a Minari dataset needs minari, which is not installed: "
        + pip_install("gymrun[minari]")
        + "\n"
    )
    assert not (tmp_path / "run").exists()


def test_vector_runs_and_workers_write_the_single_env_runs_dataset(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RANDOM)
    ways = {
        "single": [],
        "sync": ["--num-envs", "4", "--set", "vector.mode=sync"],
        "async": ["--num-envs", "3", "--set", "vector.mode=async"],
        "workers": ["--workers", "2"],
    }
    for name, args in ways.items():
        code, _, err = gymrun("run", "run.yaml", "--dataset", name, "--no-record", "-q", *args)
        assert code == 0, (name, err)
    single = steps_of("single-v0")
    assert len(single) == 30
    for name in ("sync", "async", "workers"):
        assert same_steps(steps_of(f"{name}-v0"), single), name


def test_an_envs_own_vector_implementation_is_refused(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RANDOM)
    code, _, err = gymrun("run", "run.yaml", "--num-envs", "4", "--dataset", "x", "--no-record")
    assert code == 2
    assert "record.dataset: a dataset is written from vector.mode sync or async: " in err
    assert not datasets().exists() or not list(datasets().iterdir())


def test_a_sweep_cannot_write_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "sweep.yaml").write_text(RANDOM + "record: {dataset: x}\nsweep: {seeds: [0, 1]}\n")
    code, _, err = gymrun("sweep", "sweep.yaml", "--no-record")
    assert code == 2
    assert "sweep.yaml:5 record.dataset: a dataset is written by one run" in err


def test_spaces_of_every_kind_are_kept_as_minari_lays_them_out(tmp_path: Path) -> None:
    # Blackjack's observations are a Tuple of Discrete spaces
    code, _, err = gymrun("run", "Blackjack-v1", "-n", "20", "--dataset", "bj", "--no-record")
    assert code == 0, err
    dataset = minari.load_dataset("bj-v0")
    assert isinstance(dataset.observation_space, gym.spaces.Tuple)
    for episode in dataset.iterate_episodes():
        assert [len(part) for part in episode.observations] == [len(episode.rewards) + 1] * 3
        assert all(episode.observations[0] < 32)


def test_minaris_own_cli_lists_the_dataset(tmp_path: Path) -> None:
    cli = shutil.which("minari") or str(Path(os.sys.executable).parent / "minari")
    if not os.path.exists(cli):
        pytest.skip("minari's command is not installed")
    assert gymrun("run", "CartPole-v1", "-n", "4", "--dataset", "shown", "--no-record").code == 0
    shown = subprocess.run(
        [cli, "show", "shown-v0"], capture_output=True, text=True, timeout=120, check=False
    )
    assert shown.returncode == 0, shown.stderr
    assert "Total Episodes" in shown.stdout and "│ 4 " in shown.stdout.replace("  ", " ")
    assert "gymrun agent random" in shown.stdout


def theirs() -> None:
    """A dataset gymrun did not write: 3 episodes of 2 steps, returns 2, 3 and 4."""
    space = gym.spaces.Discrete(2)
    buffers = [
        minari.data_collector.EpisodeBuffer(
            observations=np.array([0, 1, 0]),
            actions=np.array([1, 0]),
            rewards=[float(k), 2.0],
            terminations=[False, True],
            truncations=[False, False],
        )
        for k in range(3)
    ]
    with pytest.warns(UserWarning):  # Minari asks for an author, a code link, ...
        minari.create_dataset_from_buffers(
            "theirs/made-v1",
            buffers,
            env="CartPole-v1",
            algorithm_name="theirs",
            observation_space=space,
            action_space=space,
        )


def test_show_reads_a_dataset_as_a_run(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RANDOM)
    assert gymrun("run", "run.yaml", "--dataset", "ours", "--no-record", "-q").code == 0
    code, out, err = gymrun("show", "minari:ours-v0", "--json")
    assert code == 0, err
    shown = json.loads(out)
    returns = [float(steps[2].sum()) for steps in steps_of("ours-v0")]
    assert [e["reward"] for e in shown["episodes"]] == returns
    assert shown["config"]["seed"] == 3 and shown["status"] == "completed"
    code, out, err = gymrun("show", str(datasets() / "ours-v0"))
    assert code == 0, err
    assert out.startswith(f"dataset {datasets() / 'ours-v0'}\n")

    theirs()  # its returns, its env, its algorithm as the agent
    code, out, err = gymrun("show", "minari:theirs/made-v1", "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert [e["reward"] for e in shown["episodes"]] == [2.0, 3.0, 4.0]
    assert [e["steps"] for e in shown["episodes"]] == [2, 2, 2]
    assert (shown["config"]["env"]["id"], shown["config"]["agent"]["name"]) == (
        "CartPole-v1",
        "theirs",
    )
    code, _, err = gymrun("show", "minari:nothing-v0")
    assert (code, err) == (
        2,
        f"error: minari:nothing-v0: no Minari dataset nothing-v0 in {datasets()}\n",
    )
    # a dataset's ID given where a path is expected: the path is missing, the dataset is not
    code, _, err = gymrun("show", "theirs/made-v1")
    assert (code, err) == (
        2,
        "error: theirs/made-v1: no such directory (the Minari dataset of that ID is "
        "minari:theirs/made-v1)\n",
    )


@pytest.mark.slow  # a recorded run and the groups' statistics
def test_compare_sets_datasets_beside_runs(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RANDOM)
    assert gymrun("run", "run.yaml", "--dataset", "ours", "-o", "run", "-q").code == 0
    theirs()
    code, out, err = gymrun("compare", "run", "minari:ours-v0", "minari:theirs/made-v1")
    assert code == 0, err
    assert "│ minari:theirs/made-v1 │ CartPole-v1 │ theirs " in out
    # the run and the dataset it wrote are one config, one group; theirs is a group of its own
    assert re.search(r"│ run +│ 1 of 2 │", out)
    assert "│ theirs/made-v1 │ 1 of 1 │" in out


def test_a_run_taken_on_to_more_episodes_takes_its_dataset_with_it(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RANDOM)
    assert gymrun("run", "run.yaml", "--dataset", "ext", "-o", "run", "-n", "10", "-q").code == 0
    code, _, err = gymrun("run", "--resume", "run", "-n", "30", "-q")
    assert code == 0, err
    assert "note: dataset ext-v0 written: 30 episodes" in err
    assert gymrun("run", "run.yaml", "--dataset", "whole", "--no-record", "-q").code == 0
    assert same_steps(steps_of("ext-v0"), steps_of("whole-v0"))


@pytest.mark.slow  # a real process stopped, resumed and played whole
def test_a_stopped_run_leaves_a_whole_dataset_that_resume_completes(tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(
        "env: CartPole-v1\nagent: cartpole_balance\nepisodes: 300\nseed: 3\n"
        "wrappers: [{name: epsilon_random, epsilon: 0.3}]\n"
    )
    environ = {**os.environ}
    cut, stderr = stopped_run(tmp_path, signal.SIGTERM, "run", "run.yaml", "--dataset", "cut")
    kept = lines(cut)
    assert "note: dataset cut-v0 written: the " in stderr
    assert "to finish it: gymrun run run.yaml --dataset cut -q --resume cut\n" in stderr
    cut_steps = steps_of("cut-v0")
    assert [float(e[2].sum()) for e in cut_steps] == [line["shaped_reward"] for line in kept]
    assert not [p for p in datasets().iterdir() if p.name.startswith(".")]

    other = run_gymrun("run", "run.yaml", "--dataset", "other", "--resume", "cut", cwd=tmp_path)
    assert other.returncode == 2
    assert '(record.dataset: "cut-v0" recorded, "other-v0" given)' in other.stderr

    resumed = run_gymrun("run", "--resume", "cut", "-q", cwd=tmp_path, env=environ)
    assert resumed.returncode == 0, resumed.stderr
    assert "note: dataset cut-v0 written: 300 episodes" in resumed.stderr
    whole = gymrun("run", "run.yaml", "--dataset", "whole", "--no-record", "-q")
    assert whole.code == 0, whole.stderr
    assert same_steps(steps_of("cut-v0"), steps_of("whole-v0"))
    assert same_steps(steps_of("cut-v0")[: len(cut_steps)], cut_steps)


@pytest.mark.slow  # the shared cluster
def test_a_dask_cluster_writes_the_single_env_runs_dataset(tmp_path: Path, cluster) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "run.yaml").write_text(RANDOM)
    for name, args in {"here": [], "dask": ["-e", "dask", "--address", cluster.address]}.items():
        code, _, err = gymrun("run", "run.yaml", "--dataset", name, "--no-record", "-q", *args)
        assert code == 0, err
    assert same_steps(steps_of("dask-v0"), steps_of("here-v0"))


def test_no_record_says_it_leaves_the_dataset_written() -> None:
    help_text = gymrun("run", "--help", env={"COLUMNS": "300", "NO_COLOR": "1"}).stdout
    assert "Write no run directory (config, episodes, summary, plot, video); a --dataset is " in (
        help_text
    )
    assert "Write nothing to disk" not in help_text
