"""Real recordings for the board's tests: runs made by gymrun itself, in every state a run
can be left in (completed, solved, interrupted with Ctrl-C, failed, killed, damaged, with
video, a sweep)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .cli import Result, gymrun
from .paths import CONFIGS
from .processes import default_signals

PYTHON = [sys.executable, "-m", "gymrun"]
TIMEOUT = 120


@dataclass
class Recordings:
    base: Path  # the working directory the runs were made in
    root: Path  # base / "recordings"
    runs: dict[str, Path]  # what each run is, to its directory

    def rewards(self, run: str) -> list[float]:
        return episode_rewards(self.runs[run])

    def sweep_runs(self, epsilon: float) -> list[Path]:
        """The sweep's run directories at one value of epsilon, whatever they are named."""
        return sorted(
            d
            for d in self.runs["sweep"].iterdir()
            if (d / "config.yaml").is_file()
            and yaml.safe_load((d / "config.yaml").read_text())["wrappers"][0]["epsilon"] == epsilon
        )


# quitter.py: an agent that always pushes right and fails as its fifth episode starts (its
# run fails after 4 episodes: on MountainCar-v0 it ties at -200 with one that completes)
QUITTER = (
    "class Quitter:\n"
    "    episodes = 0\n"
    "    def reset(self, seed):\n"
    "        self.episodes += 1\n"
    "        if self.episodes == 5:\n"
    "            raise RuntimeError('the agent gave up')\n"
    "    def act(self, observation):\n"
    "        return 1\n"
)


def episode_rewards(run_dir: Path) -> list[float]:
    lines = (run_dir / "episodes.jsonl").read_text().splitlines()
    return [float(json.loads(line)["reward"]) for line in lines]


def gymrun_in(base: Path, *args: str, check: bool = True) -> Result:
    """``gymrun ARGS`` run in `base` (in this process: only stopped runs need one of their own)."""
    here = Path.cwd()
    os.chdir(base)
    try:
        result = gymrun(*args)
    finally:
        os.chdir(here)
    if check:
        assert result.code == 0, result.stderr
    return result


def newest(root: Path, name: str) -> Path:
    return sorted((root / name).iterdir())[-1]


def stopped_run(base: Path, name: str, how: signal.Signals, episodes: int) -> Path:
    """A long run stopped by `how` once `episodes` episodes are on disk."""
    process = subprocess.Popen(
        [
            *PYTHON,
            "run",
            str(CONFIGS / "cartpole_random.yaml"),
            "-n",
            "100000000",
            "-q",
            "--set",
            f"name={name}",
        ],
        cwd=base,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=default_signals,  # the signal reaches it whatever the test runner ignores
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        lines = base / "recordings" / name
        while time.monotonic() < deadline:
            found = list(lines.glob("*/episodes.jsonl"))
            if found and found[0].read_bytes().count(b"\n") >= episodes:
                break
            time.sleep(0.05)
        process.send_signal(how)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return newest(base / "recordings", name)


def make_recordings(base: Path) -> Recordings:
    root = base / "recordings"
    runs: dict[str, Path] = {}
    # completed runs of the shipped configs
    gymrun_in(base, "run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "120", "-q")
    runs["balance"] = newest(root, "cartpole_balance")
    gymrun_in(base, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "40", "-q")
    runs["random"] = newest(root, "cartpole_random")
    # solved late: the running mean of RandomReward's returns crosses 5 after a while
    (base / "coin.yaml").write_text(
        "name: coin\nenv: gymrun/RandomReward-v0\nagent: random\nepisodes: 300\nseed: 11\n"
        "reward_boundary: 5.0\nmax_steps: 1000\n"
    )
    gymrun_in(base, "run", "coin.yaml", "-q")
    runs["solved"] = newest(root, "coin")
    # a video of two episodes
    (base / "video.yaml").write_text(
        "name: video\nenv: CartPole-v1\nagent: random\nepisodes: 3\nseed: 0\n"
        "record: {video: true, episodes: [0, 2]}\n"
    )
    gymrun_in(base, "run", "video.yaml", "-q")
    runs["video"] = newest(root, "video")
    # a failed run: the agent raises in its fifth episode
    (base / "flaky_agent.py").write_text(
        textwrap.dedent(
            """
            class Flaky:
                def __init__(self):
                    self.episodes = 0
                def reset(self, seed):
                    self.episodes += 1
                    if self.episodes == 5:
                        raise RuntimeError("the agent gave up")
                def act(self, observation):
                    return 0
            """
        )
    )
    (base / "flaky.yaml").write_text(  # beside its agent's module
        "name: flaky\nenv: CartPole-v1\nagent: flaky_agent:Flaky\nepisodes: 100\nseed: 0\n"
        "reward_boundary: 195\n"
    )
    failed = gymrun_in(base, "run", "flaky.yaml", "-q", check=False)
    assert failed.code == 1, failed.stderr
    runs["failed"] = newest(root, "flaky")
    runs["interrupted"] = stopped_run(base, "interrupted", signal.SIGINT, 150)
    runs["killed"] = stopped_run(base, "killed", signal.SIGKILL, 150)
    # damaged: a copy of a run whose episodes file has a broken line in the middle
    damaged = root / "damaged" / "2026-01-01T00-00-00Z"
    damaged.mkdir(parents=True)
    for name in ("config.yaml", "summary.json", "meta.json"):
        (damaged / name).write_bytes((runs["random"] / name).read_bytes())
    lines = (runs["random"] / "episodes.jsonl").read_text().splitlines(keepends=True)
    lines[3] = '{"episode": 3, "seed": \n'
    (damaged / "episodes.jsonl").write_text("".join(lines))
    runs["damaged"] = damaged
    # a sweep: two points of epsilon, three seeds each
    (base / "sweep.yaml").write_text(
        "name: eps\nenv: CartPole-v1\nwrappers: [{name: epsilon_random, epsilon: 0.5}]\n"
        "agent: {name: constant, action: 0}\nepisodes: 30\nreward_boundary: 195\n"
        "sweep:\n  wrappers.0.epsilon: [0.25, 0.5]\n  seeds: [0, 1, 2]\n"
    )
    gymrun_in(base, "sweep", "sweep.yaml")
    runs["sweep"] = newest(root, "eps")
    return Recordings(base, root, runs)


def solved_after_by_hand(rewards: list[float], boundary: float, window: int = 100) -> int | None:
    """The old rule, step by step: the episodes before the first window whose mean reaches
    the boundary (the window's first episode)."""
    for end in range(window, len(rewards) + 1):
        if sum(rewards[end - window : end]) / window >= boundary:
            return end - window
    return None
