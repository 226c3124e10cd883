"""Episodes from worker processes: a killed worker does not hang the run, a huge run costs no
memory up front, and vector runs share out too."""

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import finished, start_gymrun, wait_for

WriteConfig = Callable[..., Path]


RANDOM = str(CONFIGS / "cartpole_random.yaml")


def test_a_killed_worker_process_does_not_hang_the_run(tmp_path: Path) -> None:
    serial = json.loads(gymrun("run", RANDOM, "-n", "3000", "--json", "--no-record")[1])
    child = start_gymrun(
        "run", RANDOM, "-n", "3000", "-w", "2", "--json", "--no-record", cwd=tmp_path
    )
    try:
        children = Path(f"/proc/{child.pid}/task/{child.pid}/children")
        wait_for(lambda: len(children.read_text().split()) >= 2, timeout=60)
        os.kill(int(children.read_text().split()[0]), signal.SIGKILL)
    finally:
        code, out, err = finished(child, timeout=120)
    assert code == 0, err
    assert json.loads(out)["episodes"] == serial["episodes"]  # lost chunks played again


def test_a_very_long_run_in_workers_costs_no_memory_up_front(tmp_path: Path) -> None:
    child = start_gymrun(
        "run", RANDOM, "-n", "100000000000", "-w", "2", "--no-record", "-q", cwd=tmp_path
    )
    try:
        # Once both workers play, the chunks sent so far are all that was made.
        children = Path(f"/proc/{child.pid}/task/{child.pid}/children")
        wait_for(lambda: len(children.read_text().split()) >= 2, timeout=60)
        time.sleep(1)
        status = Path(f"/proc/{child.pid}/status").read_text()
        resident = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
        )
        assert resident < 400_000  # kB: the chunks are made as they are sent
    finally:
        child.send_signal(signal.SIGINT)
        code, out, _ = finished(child)
    assert code == 130 and "of 100000000000" in out


def test_a_vector_sweep_on_worker_processes(write_config: WriteConfig) -> None:
    path = write_config(
        "env: CartPole-v1\nagent: random\nvector: {num_envs: 4}\nepisodes: 40\n"
        "sweep: {agent: [random, cartpole_balance]}\n"
    )
    local = json.loads(gymrun("sweep", str(path), "--json", "--no-record")[1])
    pool = json.loads(gymrun("sweep", str(path), "--json", "--no-record", "-e", "process")[1])
    assert [p["status"] for p in pool["points"]] == ["completed", "completed"]
    assert [p["mean_reward"] for p in pool["points"]] == [p["mean_reward"] for p in local["points"]]
