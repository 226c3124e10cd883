"""Sweeps: every point validated, a failing point, every executor giving the same results,
stopping, and sweeps of odd shapes."""

import json
import os
import re
import resource
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from gymrun.errors import ConfigError, UsageError
from gymrun.pipeline.playing import Progress
from gymrun.records.reading import read_run
from gymrun.scale.executors import InProcess, OnDask, Processes
from gymrun.sweep import load_sweep, run_sweep
from tests.support.cli import gymrun
from tests.support.dask_cluster import Cluster
from tests.support.fake_env import FAKE_ID
from tests.support.paths import CONFIGS
from tests.support.processes import default_signals, finished, signalled, start_gymrun

WriteConfig = Callable[..., Path]
EPSILON_SWEEP = CONFIGS / "cartpole_epsilon_sweep.yaml"


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


@pytest.mark.parametrize(
    ("section", "said"),
    [
        (
            "wrappers.0.epsilon: [0.1, 1.5]",
            " point 1 (wrappers.0.epsilon=1.5) wrappers.0.epsilon: Input should be less than "
            "or equal to 1",
        ),
        ("episods: [1, 2]", ":4 episods: unknown key; did you mean 'episodes'?"),
        (
            "seeds: []",
            ":4 sweep.seeds: must be a non-empty list of integers from 0 to 2**64 - 1",
        ),
        (
            "agent: [random, randm]",
            " point 1 (agent='randm') agent.name: unknown agent 'randm'; did you mean 'random'?",
        ),
    ],
)
def test_validate_refuses_the_sweep_that_sweep_refuses(
    write_config: WriteConfig, section: str, said: str
) -> None:
    path = write_config(
        "env: CartPole-v1\nwrappers: [{name: epsilon_random, epsilon: 0.5}]\n"
        f"sweep:\n  {section}\n"
    )
    for command in ("validate", "sweep --dry-run"):
        code, out, err = gymrun(*command.split(), str(path))
        assert (code, out) == (2, ""), command
        assert err.startswith(f"error: {path}{said}"), (command, err)
    code, out, _ = gymrun("validate", str(EPSILON_SWEEP))
    assert code == 0 and out.rstrip().endswith("100 episodes, sweep: 6 points, 3 seeds each")


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
    with pytest.raises(ConfigError) as exc:
        load_sweep(fixed)
    assert str(exc.value) == (
        f"{fixed} point 1 (agent={{'name': 'constant', 'action': 2}}) agent.action: "
        "2 is not an action of Discrete(2)"
    )


def test_local_and_process_executors_agree_and_the_record_is_complete(
    write_config: WriteConfig,
) -> None:
    sweep = load_sweep(small_sweep(write_config))
    local = run_sweep(sweep)
    Path("rec").mkdir()
    process = run_sweep(sweep, executor=Processes(2), sweep_dir=Path("rec"))
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
    for executor in (InProcess(), Processes(2)):
        result = run_sweep(load_sweep(path), executor=executor)
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
    assert (code, err) == (
        2,
        "error: the dask executor needs a scheduler: pass --address tcp://HOST:PORT or set "
        "DASK_SCHEDULER_ADDRESS\n",
    )


def test_resuming_without_a_directory_names_the_arguments() -> None:
    # a library call: no --resume was typed
    sweep = load_sweep(CONFIGS / "cartpole_epsilon_sweep.yaml")
    with pytest.raises(UsageError, match=r"^resume=True needs sweep_dir, the sweep's directory$"):
        run_sweep(sweep, resume=True)


# -- a real Dask cluster on 127.0.0.1 (`dask scheduler`, `dask worker` processes) ---------


def test_dask_executor_gives_the_local_results(cluster: Cluster) -> None:
    sweep = load_sweep(EPSILON_SWEEP)
    local = run_sweep(sweep)
    dask = run_sweep(sweep, executor=OnDask(cluster.address))
    assert dask.status == "completed"
    assert rows(dask) == rows(local)


def test_a_worker_killed_mid_sweep_still_gives_complete_identical_results(
    cluster: Cluster,
) -> None:
    from distributed import Client

    sweep = load_sweep(EPSILON_SWEEP, ["episodes=300"])
    local = run_sweep(sweep)
    with Client(cluster.address) as client:
        victim = next(iter(client.run(os.getpid).values()))
    killed = []

    def kill_once(progress: Progress) -> None:
        if not killed:
            os.kill(victim, signal.SIGKILL)
            killed.append(progress.runs_done)

    dask = run_sweep(sweep, executor=OnDask(cluster.address), on_progress=kill_once)
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

    config = tmp_path / "long.yaml"
    config.write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 400000\n"
        "sweep:\n  agent: [random, {name: constant, action: 0}]\n"
    )
    process = start_gymrun("sweep", str(config), "-e", "process", "-o", "s", cwd=tmp_path)
    try:
        first = tmp_path / "s" / "agent=random-seed=0" / "episodes.jsonl"
        deadline = time.monotonic() + 180  # a loaded machine starts the worker slowly
        while time.monotonic() < deadline and not (first.exists() and first.stat().st_size):
            assert process.poll() is None, process.communicate()[1]
            time.sleep(0.1)
        assert first.exists() and first.stat().st_size, "no episode recorded in 180 s"
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


def test_a_stopped_sweeps_point_is_judged_on_the_windows_its_played_run_has(
    tmp_path: Path,
) -> None:
    # Stopped during its first seed, a point's other seeds never play an episode: its
    # verdict is its one run's, over windows of 100 episodes, not the words of a run too
    # short for a window ("not reached on average").
    config = tmp_path / "long.yaml"
    config.write_text("env: CartPole-v1\nagent: random\nepisodes: 400000\nsweep: {replicates: 3}\n")
    process = start_gymrun("sweep", str(config), "-o", "s", cwd=tmp_path)
    first = tmp_path / "s" / "seed=0" / "episodes.jsonl"
    code, _, err = signalled(
        process,
        lambda: first.exists() and len(first.read_text().splitlines()) > 200,
        signal.SIGINT,
        within=120,
        every=0.1,
    )
    assert code == 130, err
    [point] = json.loads((tmp_path / "s" / "sweep.json").read_text())["points"]
    played = [run for run in point["runs"] if run["summary"]["count"]]
    assert len(played) == 1 and len(point["runs"]) == 3
    assert played[0]["summary"]["verdict"] == "not solved"
    assert point["verdict"] == "not solved"


def test_a_sweep_of_many_runs_under_a_low_open_file_limit(
    write_config: WriteConfig, tmp_path: Path
) -> None:
    path = write_config("env: CartPole-v1\nepisodes: 1\nsweep:\n  replicates: 400\n")

    def few_files() -> None:
        default_signals()
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    code, out, err = finished(
        start_gymrun(
            "sweep", str(path), "-o", "sweep", "--json", cwd=tmp_path, preexec_fn=few_files
        )
    )
    assert code == 0, err
    assert json.loads(out)["points"][0]["episodes"] == 400
    assert len(list((tmp_path / "sweep").glob("*/summary.json"))) == 400


def test_a_sweep_of_seeds_alone_is_drawn(write_config: WriteConfig) -> None:
    path = write_config("env: CartPole-v1\nepisodes: 2\nsweep: {seeds: [1, 2]}\n")
    code, _, err = gymrun("sweep", str(path), "-o", "s")
    assert code == 0, err
    assert Path("s/sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_force_replaces_a_sweep(write_config: WriteConfig) -> None:
    path = write_config("env: CartPole-v1\nepisodes: 2\nsweep: {episodes: [1, 2]}\n")
    assert gymrun("sweep", str(path), "-o", "s")[0] == 0
    code, _, err = gymrun("sweep", str(path), "-o", "s", "--force", "--set", "sweep.episodes=[3]")
    assert code == 0, err
    assert sorted(p.name for p in Path("s").iterdir() if p.is_dir()) == ["episodes=3-seed=0"]


def test_a_file_name_with_spaces_names_the_sweep(tmp_path: Path) -> None:
    path = tmp_path / "my sweep.yaml"
    path.write_text("env: CartPole-v1\nepisodes: 1\nsweep: {episodes: [1]}\n")
    code, out, err = gymrun("sweep", str(path), "--dry-run")
    assert code == 0, err
    assert "my-sweep:" in out


def test_a_zero_mean_sorts_above_a_negative_one(write_config: WriteConfig) -> None:
    path = write_config(
        f"env: {{id: {FAKE_ID}, kwargs: {{length: 2}}}}\nagent: {{name: constant, action: 0}}\n"
        "episodes: 2\nsweep:\n  env.kwargs.reward: [-1.0, 0.0]\n"
    )
    data = json.loads(gymrun("sweep", str(path), "--json", "--no-record")[1])
    assert [p["mean_reward"] for p in data["points"]] == [-2.0, 0.0]
    assert data["best"] == 1
    table = gymrun("sweep", str(path), "--no-record")[1]
    rows = [line for line in table.splitlines() if line.startswith("│")]
    assert "0 [0, 0] ★" in rows[0] and "-2 [-2, -2]" in rows[1]


def test_a_sweep_without_a_boundary_is_judged_on_the_spec_threshold(
    write_config: WriteConfig,
) -> None:
    path = write_config("env: CartPole-v1\nagent: cartpole_balance\nsweep: {episodes: [100]}\n")
    point = json.loads(gymrun("sweep", str(path), "--json", "--no-record")[1])["points"][0]
    assert (point["solved"], point["runs"][0]["summary"]["reward_boundary"]) == (True, 475.0)
    assert (point["verdict"], point["solved_seeds"]) == ("solved", 1)


def test_a_point_of_short_runs_is_judged_on_its_mean_not_called_unsolved(
    write_config: WriteConfig,
) -> None:
    path = write_config(
        f"env: {{id: {FAKE_ID}, kwargs: {{length: 2}}}}\nagent: {{name: constant, action: 0}}\n"
        "episodes: 5\nreward_boundary: 1.5\n"
        "sweep:\n  env.kwargs.reward: [0.5, 1.0]\n  seeds: [1, 2]\n"
    )
    data = json.loads(gymrun("sweep", str(path), "--json", "--no-record")[1])
    assert [(p["verdict"], p["solved"]) for p in data["points"]] == [
        ("not reached on average", False),
        ("reached on average", False),  # the old rule never says solved under 100 episodes
    ]
    table = gymrun("sweep", str(path), "--no-record", "--wide")[1]
    assert "│ not reached on average" in table and "│ reached on average" in table


def test_each_point_has_the_success_rate_of_its_episodes(write_config: WriteConfig) -> None:
    """An env that reports is_success: each point's success rate pools its seeds' episodes,
    with its interval, in sweep.json, the table, `gymrun show` and the board's sweep page."""
    from gymrun.board.build import build_board
    from gymrun.core.statistics import bootstrap_ci
    from gymrun.numbers import interval

    path = write_config(
        "imports: [tests.support.goal_env]\nenv: gymrun-test/Goal-v0\nepisodes: 15\n"
        "sweep:\n  agent: [random, {name: constant, action: 1}]\n  seeds: [1, 2]\n"
    )
    code, out, err = gymrun("sweep", str(path), "-o", "rec/s")
    assert code == 0, err
    data = json.loads(Path("rec/s/sweep.json").read_text())
    shown = []
    for point in data["points"]:
        lines = [
            json.loads(line)
            for run in point["runs"]
            for line in Path(run["run_dir"], "episodes.jsonl").read_text().splitlines()
        ]
        successes = [float(line["is_success"]) for line in lines]
        low, high = bootstrap_ci(np.array(successes))
        assert point["metrics"] == {
            "is_success": {
                "mean": sum(successes) / 30,
                "low": low,
                "high": high,
                "episodes": 30,
                "missing": 0,
            }
        }
        shown.append(interval(sum(successes) / 30, low, high))
    assert shown[0] != shown[1]  # the walker that always steps right succeeds more often
    for table in (out, gymrun("show", "rec/s")[1]):
        assert "success [95% CI]" in table
        assert all(f" {text} │" in table for text in shown)
    build_board(Path("rec"), Path("site"))
    page = Path("site/sweeps/s/index.html").read_text()
    assert "success [95% CI over episodes]</th>" in page
    assert all(f'<td class="num nowrap">{text}</td>' in page for text in shown)


def test_a_sweep_over_environments_stars_the_best_of_each(write_config: WriteConfig) -> None:
    path = write_config(
        "env: CartPole-v1\nagent: random\nepisodes: 3\nseed: 0\n"
        "sweep:\n  env: [CartPole-v1, Acrobot-v1]\n  max_steps: [10, 30]\n"
    )
    code, out, err = gymrun("sweep", str(path), "-o", "s")
    assert code == 0, err
    data = json.loads(Path("s/sweep.json").read_text())
    means = {
        (p["values"]["env"], p["values"]["max_steps"]): p["mean_reward"] for p in data["points"]
    }
    assert means[("Acrobot-v1", 10)] == -10 and means[("Acrobot-v1", 30)] == -30
    assert means[("CartPole-v1", 30)] > means[("CartPole-v1", 10)] == 10
    # Acrobot's -10 is its best, though below every CartPole mean; no best across the two
    assert (data["best"], data["bests"]) == (None, [1, 2])
    rows = {
        tuple(cell.strip() for cell in line.split("│")[1:3]): line
        for line in out.splitlines()
        if line.startswith("│")
    }
    starred = {key for key, line in rows.items() if "★" in line}
    assert starred == {("CartPole-v1", "30"), ("Acrobot-v1", "10")}
    # the points were judged against their environments' own boundaries: each is shown
    assert re.search(r"┃ boundary ┃", out)
    assert rows[("CartPole-v1", "10")].split("│")[5].strip() == "475"
    assert rows[("Acrobot-v1", "30")].split("│")[5].strip() == "-100"
