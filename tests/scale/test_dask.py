"""The dask executor on a real cluster (`dask scheduler`, `dask worker` processes on
127.0.0.1): bad addresses and unusable clusters are bad input, the user's code goes with the
work, a lost cluster leaves a consistent, resumable sweep."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gymrun.components.user_code import UserModule
from tests.support.cli import gymrun
from tests.support.dask_cluster import Cluster, dask_cluster
from tests.support.processes import finished, start_gymrun

pytest.importorskip("distributed")


@pytest.fixture
def empty_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with dask_cluster(tmp_path_factory.mktemp("dask"), workers=0) as running:
        yield running


SWEEP = "env: CartPole-v1\nagent: random\nepisodes: 4\nsweep:\n  seeds: [0, 1]\n"


# -- 1. bad addresses and unusable clusters: bad input, in bounded time ----------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:41786x", "Dask scheduler address '127.0.0.1:41786x': not of the form"),
        ("http://127.0.0.1:8787", "scheme 'http' is not one of tcp, tls"),
        ("tcp://127.0.0.1", "needs a port from 1 to 65535"),
    ],
)
def test_a_malformed_address_is_one_line_of_bad_input(
    tmp_path: Path, address: str, expected: str
) -> None:
    (tmp_path / "s.yaml").write_text(SWEEP)
    code, _, err = gymrun("sweep", "s.yaml", "-e", "dask", "--address", address, "--no-record")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and expected in err, err
    assert "Traceback" not in err


@pytest.mark.slow  # the scheduler's 10 s to answer, waited out
def test_a_port_where_a_web_server_listens_is_no_scheduler(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        (tmp_path / "s.yaml").write_text(SWEEP)
        started = time.monotonic()
        code, _, err = gymrun(
            "sweep", "s.yaml", "-e", "dask", "--address", f"127.0.0.1:{port}", "--no-record"
        )
        assert code == 2 and time.monotonic() - started < 30
        assert f"no Dask scheduler answered at tcp://127.0.0.1:{port} within 10 s" in err
        assert "Traceback" not in err
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


def test_a_port_where_nothing_listens_is_said_at_once(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    (tmp_path / "s.yaml").write_text(SWEEP)
    started = time.monotonic()
    code, _, err = gymrun(
        "sweep", "s.yaml", "-e", "dask", "--address", f"127.0.0.1:{port}", "--no-record"
    )
    assert code == 2 and time.monotonic() - started < 8  # not Dask's 10 s of retries
    assert err == (
        f"error: no Dask scheduler at tcp://127.0.0.1:{port}: Connection refused; start one "
        "with `dask scheduler` or check --address\n"
    )


def test_a_tls_address_without_tls_settings_says_why(
    tmp_path: Path, empty_cluster: Cluster
) -> None:
    address = empty_cluster.address.replace("tcp://", "tls://")
    (tmp_path / "s.yaml").write_text(SWEEP)
    code, _, err = gymrun("sweep", "s.yaml", "-e", "dask", "--address", address, "--no-record")
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: cannot connect to {address}: TypeError: TLS expects a ")
    assert "check your TLS configuration" in err


def test_a_cluster_without_workers_is_waited_for_then_bad_input(
    tmp_path: Path, empty_cluster: Cluster
) -> None:
    (tmp_path / "s.yaml").write_text(SWEEP)
    (tmp_path / "r.yaml").write_text(SWEEP.partition("sweep:")[0])  # one run's config
    address = empty_cluster.address
    code, _, err = gymrun(
        "sweep", "s.yaml", "-e", "dask", "--address", address, "--wait-workers", "1", "-o", "s"
    )
    assert code == 2
    assert f"waiting up to 1 s for a Dask worker to join {address}" in err
    assert f"error: no Dask worker joined {address} within 1 s" in err
    assert not Path("s").exists()


@pytest.mark.parametrize(
    ("command", "wait"),
    [
        (["run", "r.yaml"], ["--wait-workers", "0"]),
        (["sweep", "s.yaml"], ["--wait-workers", "0"]),
        (["duel", "r.yaml", "r.yaml", "--max-seeds", "2"], ["--wait-workers", "0"]),
        (["sweep", "s.yaml"], []),  # GYMRUN_DASK_WAIT_WORKERS=0
    ],
)
def test_waiting_0_s_for_a_worker_fails_at_once_without_one(
    tmp_path: Path, empty_cluster: Cluster, command: list[str], wait: list[str]
) -> None:
    (tmp_path / "s.yaml").write_text(SWEEP)
    (tmp_path / "r.yaml").write_text(SWEEP.partition("sweep:")[0])  # one run's config
    address = empty_cluster.address
    process = start_gymrun(
        *command, "-e", "dask", "--address", address, *wait, "-o", "s",
        env={**os.environ, "GYMRUN_DASK_WAIT_WORKERS": "0"}, cwd=tmp_path,
    )  # fmt: skip
    code, _, err = finished(process, timeout=40)  # Dask took a wait of 0 s as one for ever
    assert code == 2, err
    assert err.endswith(
        f"error: no Dask worker has joined {address} (--wait-workers 0 waits for none); "
        f"start one with `dask worker {address}`\n"
    )
    assert "waiting" not in err and not (tmp_path / "s").exists()


@pytest.mark.parametrize("value", ["-1", "nan", "soon"])
def test_a_wait_for_workers_below_0_is_refused_before_connecting(value: str) -> None:
    (Path("s.yaml")).write_text(SWEEP)
    started = time.monotonic()
    code, _, err = gymrun(
        "sweep", "s.yaml", "-e", "dask", "--address", "tcp://127.0.0.1:9", "--no-record",
        env={"GYMRUN_DASK_WAIT_WORKERS": value},
    )  # fmt: skip
    assert code == 2 and time.monotonic() - started < 5
    assert err == (
        f"error: GYMRUN_DASK_WAIT_WORKERS={value!r}: must be a number of seconds, 0 or more\n"
    )
    code, _, err = gymrun("sweep", "s.yaml", "-e", "dask", "--wait-workers", "-1", "--no-record")
    assert code == 2 and "Invalid value for '--wait-workers'" in err and err.count("\n") == 1


def test_a_worker_that_cannot_import_gymrun_is_named(
    tmp_path: Path, empty_cluster: Cluster
) -> None:
    hiding = tmp_path / "hiding" / "gymrun"
    hiding.mkdir(parents=True)
    (hiding / "__init__.py").write_text("raise ImportError('hidden by PYTHONPATH')\n")
    empty_cluster.add_worker(env={"PYTHONPATH": str(hiding.parent)})
    (tmp_path / "s.yaml").write_text(SWEEP)
    started = time.monotonic()
    code, _, err = gymrun("sweep", "s.yaml", "-e", "dask", "--address", empty_cluster.address)
    assert code == 2 and time.monotonic() - started < 30
    assert "runs gymrun none (import gymrun fails: ImportError: hidden by PYTHONPATH)" in err
    assert "install the same version on every worker" in err


# -- 2. the user's code goes with the work ---------------------------------------------------

AGENT = """
ACTION = {action}

class Fixed:
    def act(self, observation):
        return ACTION
"""

FAILING_ENV = """
import gymnasium as gym
from gymnasium.envs.classic_control import CartPoleEnv

class Exploding(CartPoleEnv):
    def step(self, action):
        raise ValueError("exploded on purpose")
"""


def test_the_users_module_goes_with_the_tasks_by_its_hash(tmp_path: Path, cluster: Cluster) -> None:
    (tmp_path / "sweep.yaml").write_text(
        "env: CartPole-v1\nagent: my_agents:Fixed\nepisodes: 30\nsweep:\n  seeds: [0, 1]\n"
    )
    means = []
    for action in (0, 1):
        (tmp_path / "my_agents.py").write_text(AGENT.format(action=action))
        for executor in ("local", "dask"):
            out = tmp_path / f"{executor}{action}"
            args = ["sweep", "sweep.yaml", "-e", executor]
            args += ["--address", cluster.address] if executor == "dask" else []
            code, _, err = finished(start_gymrun(*args, "-o", str(out), cwd=tmp_path))
            assert code == 0, err
            recorded = json.loads((out / "sweep.json").read_text())
            means.append([p["mean_reward"] for p in recorded["points"]])
            meta = json.loads((out / "seed=0" / "meta.json").read_text())
            assert meta["code"] == recorded["code"]
            assert list(meta["code"]) == ["my_agents"]
            assert meta["code"]["my_agents"].startswith("sha256:")
            if executor == "dask":
                assert sorted(recorded["workers"]) == sorted(meta["workers"])
                versions = next(iter(meta["workers"].values()))
                assert set(versions) == {"gymrun", "gymnasium", "numpy"}
    local0, dask0, local1, dask1 = means
    assert dask0 == local0 and dask1 == local1  # the version the submitter ran, each time
    assert dask0 != dask1


def test_a_failure_on_a_worker_says_so_in_one_line(tmp_path: Path, cluster: Cluster) -> None:
    (tmp_path / "my_envs.py").write_text(FAILING_ENV)
    (tmp_path / "sweep.yaml").write_text(
        "env: {id: 'my_envs:Exploding', max_episode_steps: 50}\nagent: random\nepisodes: 3\n"
        "sweep:\n  seeds: [0]\n"
    )
    args = ["sweep", "sweep.yaml", "-e", "dask", "--address", cluster.address, "--no-record"]
    code, _, err = finished(start_gymrun(*args, cwd=tmp_path))
    assert code == 1
    failed = [line for line in err.splitlines() if "failed:" in line]
    assert len(failed) == 1, err
    assert "on Dask worker tcp://127.0.0.1:" in failed[0]
    assert "ValueError: exploded on purpose" in failed[0]
    assert "Traceback" not in err


def test_a_worker_refuses_to_install_code_where_others_may_write(
    tmp_path: Path, empty_cluster: Cluster
) -> None:
    # Another user made the worker's code directory first, open to all, and planted a
    # package where the module's next version will be installed (its hash is no secret).
    source = AGENT.format(action=0)
    module = UserModule("my_agents", (("my_agents.py", source.encode()),))
    temp = tmp_path / "worker-tmp"
    base = temp / f"gymrun-code-{os.getuid()}"
    planted = base / module.sha256.removeprefix("sha256:")[:32]
    for directory, mode in ((temp, 0o1777), (base, 0o777), (planted, 0o777)):
        directory.mkdir()
        directory.chmod(mode)
    (planted / "my_agents.py").write_text(source)
    marker = tmp_path / "planted-code-ran"
    (planted / "my_agents").mkdir()
    (planted / "my_agents" / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n{source}"
    )
    empty_cluster.add_worker(env={"TMPDIR": str(temp)})
    (tmp_path / "my_agents.py").write_text(source)
    (tmp_path / "sweep.yaml").write_text(
        "env: CartPole-v1\nagent: my_agents:Fixed\nepisodes: 3\nsweep:\n  seeds: [0]\n"
    )
    args = ["sweep", "sweep.yaml", "-e", "dask", "--address", empty_cluster.address]
    code, _, err = finished(start_gymrun(*args, "--no-record", cwd=tmp_path))
    assert code == 1, err
    failed = [line for line in err.splitlines() if "failed:" in line]
    assert len(failed) == 1, err
    assert "on Dask worker tcp://127.0.0.1:" in failed[0]
    assert f"{base} may be written by other users (mode 0777)" in failed[0]
    assert "Traceback" not in err
    assert not marker.exists()


# -- 3. never lost, always resumable -----------------------------------------------------------

LONG = "env: CartPole-v1\nagent: random\nepisodes: 200000\nsweep:\n  seeds: [0, 1]\n"


@pytest.fixture
def doomed_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with dask_cluster(tmp_path_factory.mktemp("dask")) as running:
        yield running


def started_sweep(tmp_path: Path, address: str) -> subprocess.Popen[str]:
    """A long sweep on the cluster at `address`, once its first episodes are on disk."""
    (tmp_path / "long.yaml").write_text(LONG)
    env = {**os.environ, "GYMRUN_DASK_WAIT_WORKERS": "2"}
    process = start_gymrun(
        "sweep", "long.yaml", "-e", "dask", "--address", address, "-o", "s", env=env, cwd=tmp_path
    )
    first = tmp_path / "s" / "seed=0" / "episodes.jsonl"
    deadline = time.monotonic() + 60
    while not (first.exists() and first.stat().st_size):
        if time.monotonic() > deadline or process.poll() is not None:
            finished(process)
            pytest.fail(f"the sweep did not start: {process.stderr}")
        time.sleep(0.1)
    return process


def assert_consistent(tmp_path: Path) -> None:
    recorded = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert recorded["status"] == "interrupted"
    for seed in (0, 1):
        run = tmp_path / "s" / f"seed={seed}"
        if not run.exists():
            continue
        summary = json.loads((run / "summary.json").read_text())
        assert summary["status"] == "interrupted"
        assert summary["count"] == sum(1 for _ in (run / "episodes.jsonl").open()) < 200000


@pytest.mark.slow  # a cluster of its own, killed under a running sweep
@pytest.mark.parametrize("lost", ["scheduler", "workers"])
def test_losing_the_cluster_leaves_a_consistent_sweep(
    tmp_path: Path, doomed_cluster: Cluster, lost: str
) -> None:
    process = started_sweep(tmp_path, doomed_cluster.address)
    for victim in [doomed_cluster.scheduler] if lost == "scheduler" else doomed_cluster.workers:
        assert victim is not None
        doomed_cluster.kill(victim)
    code, _, err = finished(process)
    assert code == 1, err
    assert "Traceback" not in err
    expected = "lost the Dask scheduler" if lost == "scheduler" else "every Dask worker"
    assert expected in err and "unfinished runs are marked interrupted" in err
    assert_consistent(tmp_path)


@pytest.mark.slow  # a cluster of its own, its workers killed
def test_results_lost_with_every_worker_are_given_up_within_one_time_limit(
    doomed_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tasks finished, their results not yet fetched, when every worker dies: each result is
    # computed again by a scheduler that has no worker left to do it. They are all given up
    # together within the fetch's time limit, not one limit after another (a minute or more
    # before the command said the workers were gone).
    from distributed import Client, wait

    from gymrun.scale import executors

    monkeypatch.setattr(executors, "FETCH_TIMEOUT", 3.0)
    with Client(doomed_cluster.address, timeout="20s") as client:
        futures = [client.submit(sum, [n, 1], pure=False) for n in range(4)]
        wait(futures, timeout=30)
        assert [f.status for f in futures] == ["finished"] * 4
        for worker in doomed_cluster.workers:
            doomed_cluster.kill(worker)
        started = time.monotonic()
        assert executors._gathered(client, futures) == [None] * 4
        # one limit (3 s), not one per result and one more (15 s)
        assert time.monotonic() - started < 9


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_stopping_the_submitting_process_leaves_a_consistent_sweep(
    tmp_path: Path, cluster: Cluster, signum: int, code: int
) -> None:
    process = started_sweep(tmp_path, cluster.address)
    process.send_signal(signum)
    returncode, _, err = finished(process)
    assert returncode == code, err
    assert "Traceback" not in err
    assert_consistent(tmp_path)


@pytest.mark.slow
def test_an_interrupted_sweep_resumes_to_the_uninterrupted_records(
    tmp_path: Path, cluster: Cluster
) -> None:
    (tmp_path / "my_agents.py").write_text(AGENT.format(action=0))
    (tmp_path / "sweep.yaml").write_text(
        "env: CartPole-v1\nagent: my_agents:Fixed\nwrappers: [{name: epsilon_random, "
        "epsilon: 0.5}]\nepisodes: 3000\nsweep:\n  wrappers.0.epsilon: [0.2, 0.5, 0.9]\n"
        "  seeds: [0, 1]\n"
    )
    sweep = ["sweep", "sweep.yaml", "-e", "dask", "--address", cluster.address]
    code, _, err = finished(start_gymrun(*sweep, "-o", "whole", cwd=tmp_path))
    assert code == 0, err
    process = start_gymrun(*sweep, "-o", "cut", cwd=tmp_path)

    def one_completed() -> bool:  # the costliest runs are sent first: any one will do
        summaries = (tmp_path / "cut").glob("*/summary.json")
        return any('"completed"' in path.read_text() for path in summaries)

    deadline = time.monotonic() + 60
    while not one_completed():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    code, _, err = finished(process)
    assert code == 130, err
    assert json.loads((tmp_path / "cut" / "sweep.json").read_text())["status"] == "interrupted"
    assert f"to finish it: gymrun {' '.join(sweep)} --resume cut\n" in err

    (tmp_path / "my_agents.py").write_text(AGENT.format(action=1))
    code, _, err = finished(start_gymrun(*sweep, "--resume", "cut", cwd=tmp_path))
    assert code == 2 and "module my_agents is not the version the sweep ran" in err, err
    code, _, err = finished(
        start_gymrun(*sweep, "--resume", "cut", "--set", "episodes=5", cwd=tmp_path)
    )
    assert code == 2 and "episodes=5 asks for fewer" in err, err

    (tmp_path / "my_agents.py").write_text(AGENT.format(action=0))
    code, _, err = finished(start_gymrun(*sweep, "--resume", "cut", cwd=tmp_path))
    assert code == 0, err
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    runs = sorted(p.name for p in whole.iterdir() if p.is_dir())
    assert runs == sorted(p.name for p in cut.iterdir() if p.is_dir()) and len(runs) == 6
    for run in runs:
        assert (cut / run / "episodes.jsonl").read_bytes() == (
            whole / run / "episodes.jsonl"
        ).read_bytes()
    assert (cut / "sweep.png").read_bytes() == (whole / "sweep.png").read_bytes()

    def points(sweep_dir: Path) -> list[dict[str, object]]:
        recorded = json.loads((sweep_dir / "sweep.json").read_text())["points"]
        for point in recorded:
            for run in point["runs"]:
                run.pop("run_dir")
        return recorded  # type: ignore[no-any-return]

    assert points(cut) == points(whole)


# -- 4. one long run shared out over the cluster ----------------------------------------------


def test_one_run_on_the_cluster_is_the_one_process_run(tmp_path: Path, cluster: Cluster) -> None:
    (tmp_path / "my_agents.py").write_text(AGENT.format(action=1))
    (tmp_path / "run.yaml").write_text(
        "env: CartPole-v1\nagent: my_agents:Fixed\nwrappers: [{name: epsilon_random, "
        "epsilon: 0.3}]\nepisodes: 2000\nseed: 5\n"
    )
    code, _, err = finished(start_gymrun("run", "run.yaml", "-q", "-o", "one", cwd=tmp_path))
    assert code == 0, err
    args = ["run", "run.yaml", "-q", "-e", "dask", "--address", cluster.address, "-o", "many"]
    code, _, err = finished(start_gymrun(*args, cwd=tmp_path))
    assert code == 0, err
    one, many = tmp_path / "one", tmp_path / "many"
    assert (many / "episodes.jsonl").read_bytes() == (one / "episodes.jsonl").read_bytes()
    meta = json.loads((many / "meta.json").read_text())
    assert list(meta["code"]) == ["my_agents"] and len(meta["workers"]) == 2


@pytest.mark.slow
def test_a_stopped_run_on_the_cluster_resumes_to_the_one_process_run(
    tmp_path: Path, cluster: Cluster
) -> None:
    (tmp_path / "run.yaml").write_text(
        "env: CartPole-v1\nagent: cartpole_balance\nwrappers: [{name: epsilon_random, "
        "epsilon: 0.3}]\nepisodes: 2000\nseed: 5\n"
    )
    on_dask = ["run", "run.yaml", "-q", "-e", "dask", "--address", cluster.address]
    process = start_gymrun(*on_dask, "-o", "cut", cwd=tmp_path)
    episodes = tmp_path / "cut" / "episodes.jsonl"
    deadline = time.monotonic() + 60
    while not (episodes.exists() and episodes.read_bytes().count(b"\n") >= 100):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    code, _, err = finished(process)
    assert code == 143, err
    kept = episodes.read_bytes().count(b"\n")
    assert kept < 2000

    code, _, err = finished(start_gymrun(*on_dask, "--resume", "cut", cwd=tmp_path))
    assert code == 0, err
    assert f"resumed from episode {kept};" in err
    code, _, err = finished(start_gymrun("run", "run.yaml", "-q", "-o", "one", cwd=tmp_path))
    assert code == 0, err
    assert episodes.read_bytes() == (tmp_path / "one" / "episodes.jsonl").read_bytes()
    [resumption] = json.loads((tmp_path / "cut" / "meta.json").read_text())["resumed"]
    assert resumption["from_episode"] == kept and len(resumption["workers"]) == 2


def test_metrics_on_the_cluster_are_the_one_process_ones(tmp_path: Path, cluster: Cluster) -> None:
    from tests.support import goal_env

    # the walkers' module goes with the work, as any module of the user's does
    (tmp_path / "my_goal.py").write_text(Path(goal_env.__file__).read_text())
    (tmp_path / "run.yaml").write_text(
        "env: {id: 'my_goal:GoalEnv', max_episode_steps: 12, kwargs: {report: late}}\n"
        "metrics: [is_success, {name: moves, key: one, reduce: sum}]\nepisodes: 300\nseed: 4\n"
    )
    code, _, err = finished(start_gymrun("run", "run.yaml", "-q", "-o", "one", cwd=tmp_path))
    assert code == 0, err
    args = ["run", "run.yaml", "-q", "-e", "dask", "--address", cluster.address, "-o", "dask"]
    code, _, err = finished(start_gymrun(*args, cwd=tmp_path))
    assert code == 0, err
    one = (tmp_path / "one" / "episodes.jsonl").read_bytes()
    assert (tmp_path / "dask" / "episodes.jsonl").read_bytes() == one
    lines = [json.loads(line) for line in one.splitlines()]
    assert {line["is_success"] for line in lines} == {True, False, None}
    assert all(line["moves"] == line["steps"] for line in lines)
    summaries = [json.loads((tmp_path / d / "summary.json").read_text()) for d in ("one", "dask")]
    assert summaries[0]["metrics"] == summaries[1]["metrics"]
