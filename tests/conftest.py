"""Shared fixtures: a configurable fake environment, config files and user modules on disk."""

from __future__ import annotations

import itertools
import os
import shlex
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.envs.registration import register, registry

from gymrun import Policy, play
from gymrun.core.episodes import EpisodeResult

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ROOT / "configs"
FAKE_ID = "gymrun-test/Fake-v0"


def default_signals() -> None:
    """For a child process: the default action for the signals gymrun stops on, whatever the
    test runner ignores (a shell's background job ignores SIGINT; ``nohup`` SIGHUP), so a
    test that sends one meets gymrun as a user's terminal would."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def start_gymrun(*args: str, **options: Any) -> subprocess.Popen[str]:
    """``python -m gymrun ARGS`` as a process of its own (its own session, default signal
    actions unless `options` give another ``preexec_fn``), its output captured as text."""
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("stderr", subprocess.PIPE)
    options.setdefault("preexec_fn", default_signals)
    return subprocess.Popen(
        [sys.executable, "-m", "gymrun", *args], text=True, start_new_session=True, **options
    )


def run_gymrun(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python -m gymrun ARGS`` to its end (at most two minutes), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "gymrun", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **options,
    )


def pip_install(requirement: str) -> str:
    """The install command gymrun prints, from a directory outside this checkout, for
    `requirement`: the tests run where this checkout is installed editable (the README's
    test command), so an extra is installed from it, into the Python running the tests."""
    active = os.environ.get("VIRTUAL_ENV")
    here = active and Path(active).resolve() == Path(sys.prefix).resolve()
    pip = "pip" if here else f"{shlex.quote(sys.executable)} -m pip"
    if requirement.startswith("gymrun["):
        extra = requirement.removeprefix("gymrun")
        return f"{pip} install -e {shlex.quote(f'{ROOT}{extra}')}"
    return f"{pip} install {shlex.quote(requirement)}"


class FakeEnv(gym.Env[np.ndarray, int]):
    """An episode of `length` steps paying `reward` each; observation = [step index].

    `lengths` cycles episode lengths instead; a `length` of 0 never ends on its own.
    `fail_seed` makes `reset` raise for that seed; `fail_at` makes `step` (or `reset`, with
    fail_in="reset") raise at that step of episode `fail_episode` (counting resets from 0).
    """

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        length: int = 5,
        reward: float = 1.0,
        fail_at: int | None = None,
        fail_in: str = "step",
        fail_episode: int = 0,
        actions: int = 2,
        lengths: list[int] | None = None,
        fail_seed: int | None = None,
    ) -> None:
        self.length, self.reward, self.lengths = length, reward, lengths
        self.fail_seed = fail_seed
        self.fail_at, self.fail_in, self.fail_episode = fail_at, fail_in, fail_episode
        self.episode = -1
        self.observation_space = gym.spaces.Box(0, np.inf, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(actions)
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        super().reset(seed=seed)
        self.episode += 1
        if seed is not None and seed == self.fail_seed:
            raise RuntimeError(f"reset exploded for seed {seed}")
        if self.fail_in == "reset" and self.episode == self.fail_episode:
            raise RuntimeError("reset exploded")
        self.t = 0
        if self.lengths:
            self.length = self.lengths[self.episode % len(self.lengths)]
        return np.array([0.0], np.float32), {}

    def step(self, action: int) -> Any:
        self.t += 1
        failing = self.fail_in == "step" and self.episode == self.fail_episode
        if failing and self.t == self.fail_at:
            raise ValueError(f"step {self.t} exploded")
        done = self.length > 0 and self.t >= self.length
        return np.array([self.t], np.float32), self.reward, done, False, {}


if FAKE_ID not in registry:
    register(id=FAKE_ID, entry_point=FakeEnv)


@pytest.fixture(autouse=True)
def _terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Runs record into the working directory: make it the test's own.
    monkeypatch.chdir(tmp_path)
    # Wide, uncoloured output, so tests can compare the text a user reads.
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("GYMRUN_DEBUG", raising=False)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    """Write YAML text to a config file in tmp_path and return its path."""
    counter = itertools.count()

    def write(text: str, name: str | None = None) -> Path:
        path = tmp_path / (name or f"config{next(counter)}.yaml")
        path.write_text(textwrap.dedent(text).lstrip())
        return path

    return write


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], str]]:
    """Write a Python module into the working directory (as a user's project would have it)
    and return its unique module name."""
    counter = itertools.count()
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    created: list[str] = []

    def write(source: str) -> str:
        name = f"user_mod_{tmp_path.name.replace('-', '_')}_{next(counter)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield write
    for name in created:
        sys.modules.pop(name, None)


def rollout(
    env: gym.Env[Any, Any],
    agent: Any,
    *,
    seed: int,
    episodes: int,
    start: int = 0,
    reward_boundary: float | None = None,
    agent_name: str = "agent",
) -> Iterator[EpisodeResult]:
    """Episodes of one agent on one environment through gymrun's loop, one at a time."""
    policy = Policy([agent], env.action_space, name=agent_name)
    for batch in play(
        env, policy, seed=seed, count=episodes, first=start, reward_boundary=reward_boundary
    ):
        yield from batch
