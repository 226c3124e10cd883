"""Sweeps: grid expansion and validation, intervals, and identical results from every executor."""

import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from gymrun.cli import app
from gymrun.core.statistics import bootstrap_ci
from gymrun.errors import ConfigError
from gymrun.records.reading import read_run
from gymrun.sweep import load_sweep, run_sweep

from .conftest import CONFIGS, FAKE_ID, start_gymrun
from .dask_cluster import Cluster, dask_cluster

WriteConfig = Callable[..., Path]
EPSILON_SWEEP = CONFIGS / "cartpole_epsilon_sweep.yaml"


def gymrun(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


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


def rows(result) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [
        (p.values, p.episodes, p.mean_reward, p.ci_low, p.ci_high, p.mean_steps)
        for p in result.points
    ]


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


def test_every_point_is_validated_before_anything_runs(write_config: WriteConfig) -> None:
    path = write_config(
        "env: CartPole-v1\nwrappers: [{name: epsilon_random, epsilon: 0.5}]\n"
        "sweep:\n  wrappers.0.epsilon: [0.5, 1.5]\n  agent: [random, {name: constant, action: 2}]\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_sweep(path)
    assert [str(p) for p in exc.value.problems] == [
        f"{path} point 2 (wrappers.0.epsilon=1.5, agent='random') wrappers.0.epsilon: "
        "Input should be less than or equal to 1",
        f"{path} point 3 (wrappers.0.epsilon=1.5, agent={{'name': 'constant', 'action': 2}}) "
        "wrappers.0.epsilon: Input should be less than or equal to 1",
    ]
    code, _, _ = gymrun("sweep", str(path))
    assert code == 2 and not Path("recordings").exists()
    fixed = write_config(
        "env: CartPole-v1\nwrappers: [{name: epsilon_random, epsilon: 0.5}]\n"
        "sweep:\n  agent: [random, {name: constant, action: 2}]\n"
    )
    with pytest.raises(ConfigError, match="point 1: agent action: 2 is not an action of Discrete"):
        load_sweep(fixed)


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        ("[1, 2]", "sweep: a sweep config needs a 'sweep:' mapping"),
        ("{episodes: 3}", "sweep.episodes: must be a non-empty list"),
        ("{episodes: [3], seeds: [1], replicates: 2}", "sweep: give either seeds or replicates"),
        ("{episodes: [3], seeds: [-1]}", "sweep.seeds: must be a list of integers >= 0"),
    ],
)
def test_malformed_sweep_sections(write_config: WriteConfig, sweep: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_sweep(write_config(f"env: CartPole-v1\nsweep: {sweep}\n"))
    assert expected in str(exc.value)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean() -> None:
    rewards = np.random.default_rng(1).normal(20, 5, 400)
    low, high = bootstrap_ci(rewards)
    assert (low, high) == bootstrap_ci(rewards)
    assert low < rewards.mean() < high
    # about 1.96 standard errors either side
    assert high - low == pytest.approx(2 * 1.96 * rewards.std() / 20, rel=0.15)


def test_few_distinct_rewards_resample_by_counts_to_the_same_interval() -> None:
    # episode lengths: a few dozen values; the interval matches one from picking episodes
    rewards = np.random.default_rng(2).geometric(0.05, 3000).astype(float)
    assert 2 * len(np.unique(rewards)) <= len(rewards)  # the counts path is taken
    low, high = bootstrap_ci(rewards)
    picks = np.random.default_rng(9).integers(0, len(rewards), size=(20000, len(rewards)))
    ref_low, ref_high = np.percentile(rewards[picks].mean(axis=1), [2.5, 97.5])
    width = ref_high - ref_low
    assert abs(low - ref_low) < 0.08 * width and abs(high - ref_high) < 0.08 * width
    assert (low, high) == bootstrap_ci(rewards)


def test_local_and_process_executors_agree_and_the_record_is_complete(
    write_config: WriteConfig,
) -> None:
    sweep = load_sweep(small_sweep(write_config))
    local = run_sweep(sweep, executor="local")
    Path("rec").mkdir()
    process = run_sweep(sweep, executor="process", workers=2, sweep_dir=Path("rec"))
    assert rows(local) == rows(process)
    assert local.best == process.best
    assert sorted(p.name for p in Path("rec").iterdir()) == sorted(
        [
            ".gymrun.lock",
            *(
                f"epsilon={epsilon}-action={action}-seed={seed}"
                for epsilon in ("0.0", "1.0")
                for action in (0, 1)
                for seed in (3, 4)
            ),
            "sweep.json",
            "sweep.png",
        ]
    )
    recorded = json.loads(Path("rec/sweep.json").read_text())
    assert [p["mean_reward"] for p in recorded["points"]] == [p.mean_reward for p in local.points]
    one = read_run(Path("rec/epsilon=1.0-action=0-seed=3"))  # an ordinary run directory
    assert (one.status, one.summary.count, one.config["seed"]) == ("completed", 12, 3)


def test_a_failing_point_does_not_stop_the_others(write_config: WriteConfig) -> None:
    path = write_config(
        f"env: {{id: {FAKE_ID}, kwargs: {{length: 3}}}}\nagent: {{name: constant, action: 0}}\n"
        "episodes: 5\nsweep:\n  env.kwargs.fail_at: [null, 2]\n"
    )
    for executor in ("local", "process"):
        result = run_sweep(load_sweep(path), executor=executor, workers=2)
        ok, failed = result.points
        assert (ok.status, ok.episodes, ok.mean_reward) == ("completed", 5, 3.0)
        assert failed.status == "failed"
        assert failed.errors[0].startswith("seed 0: episode 0, step 1: ValueError: step 2 exploded")
    code, _, err = gymrun("sweep", str(path), "--no-record")
    assert code == 1
    assert "failed: seed 0: episode 0, step 1: ValueError" in err


def test_sweep_command_table_and_json(write_config: WriteConfig) -> None:
    path = small_sweep(write_config)
    code, out, err = gymrun("sweep", str(path), "--dry-run")
    assert code == 0 and "small: 4 points x 2 seeds = 8 runs" in out
    code, out, err = gymrun("sweep", str(path), "-o", "s")
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("│")]
    assert "★" in lines[0] and all("★" not in line for line in lines[1:])  # best first, starred
    assert err.strip().endswith("recorded in s")
    data = json.loads(gymrun("sweep", str(path), "--json", "--no-record")[1])
    means = [p["mean_reward"] for p in data["points"]]
    assert data["best"] == means.index(max(means))
    assert all(p["ci95"][0] <= p["mean_reward"] <= p["ci95"][1] for p in data["points"])


def test_unknown_executor_and_missing_scheduler() -> None:
    code, _, err = gymrun("sweep", str(EPSILON_SWEEP), "--executor", "spark")
    assert (code, err.strip()) == (2, "error: --executor spark: use one of local, process, dask")
    os.environ.pop("DASK_SCHEDULER_ADDRESS", None)
    code, _, err = gymrun("sweep", str(EPSILON_SWEEP), "--executor", "dask", "--no-record")
    assert code == 2 and "the dask executor needs a scheduler" in err


# -- a real Dask cluster on 127.0.0.1 (`dask scheduler`, `dask worker` processes) ---------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    pytest.importorskip("distributed")
    with dask_cluster(tmp_path_factory.mktemp("dask")) as running:
        yield running


def test_dask_executor_gives_the_local_results(cluster: Cluster) -> None:
    sweep = load_sweep(EPSILON_SWEEP)
    local = run_sweep(sweep, executor="local")
    dask = run_sweep(sweep, executor="dask", address=cluster.address)
    assert dask.status == "completed"
    assert rows(dask) == rows(local)


def test_a_worker_killed_mid_sweep_still_gives_complete_identical_results(
    cluster: Cluster,
) -> None:
    from distributed import Client

    sweep = load_sweep(EPSILON_SWEEP, ["episodes=300"])
    local = run_sweep(sweep, executor="local")
    with Client(cluster.address) as client:
        victim = next(iter(client.run(os.getpid).values()))
    killed = []

    def kill_once(done: int, total: int, episodes: int) -> None:
        if not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(done)

    dask = run_sweep(sweep, executor="dask", address=cluster.address, on_progress=kill_once)
    assert killed and killed[0] < len(sweep.runs)  # it died with work still to do
    assert dask.status == "completed"
    assert all(p.status == "completed" for p in dask.points)
    assert rows(dask) == rows(local)


@pytest.mark.parametrize(
    ("how", "group", "code"),
    [(signal.SIGINT, False, 130), (signal.SIGTERM, True, 143)],
    ids=["ctrl-c", "sigterm-to-the-group"],
)
def test_a_stopped_sweep_cancels_the_rest_and_keeps_what_finished(
    tmp_path: Path, how: signal.Signals, group: bool, code: int
) -> None:
    # timeout and Slurm send SIGTERM to every process of the job: workers and the plotting
    # process get it too, and the sweep still ends consistent
    import time

    config = tmp_path / "long.yaml"
    config.write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 400000\n"
        "sweep:\n  agent: [random, {name: constant, action: 0}]\n"
    )
    process = start_gymrun("sweep", str(config), "-e", "process", "-o", "s", cwd=tmp_path)
    try:
        first = tmp_path / "s" / "agent=random-seed=0" / "episodes.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (first.exists() and first.stat().st_size):
            time.sleep(0.1)
        if group:
            os.killpg(process.pid, how)
        else:
            process.send_signal(how)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == code, err
    assert "Traceback" not in err
    recorded = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert recorded["status"] == "interrupted"
    assert (tmp_path / "s" / "sweep.png").stat().st_size > 0
    statuses = [p["status"] for p in recorded["points"]]
    assert "interrupted" in statuses
    kept = sum(1 for _ in first.open())
    summary = json.loads((tmp_path / "s" / "agent=random-seed=0" / "summary.json").read_text())
    assert 0 < summary["count"] == kept < 400000
