"""gymrun as a real process: started, waited for with a time limit, and never left running."""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .paths import ROOT

TIMEOUT = 180  # seconds any one gymrun process may take in a test


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


def headless(**settings: str) -> dict[str, str]:
    """This process's environment with no display and no OpenGL platform set (as on a server),
    but for `settings`: for a child that renders MuJoCo's frames."""
    unset = ("DISPLAY", "WAYLAND_DISPLAY", "MUJOCO_GL", "PYOPENGL_PLATFORM")
    return {**{k: v for k, v in os.environ.items() if k not in unset}, **settings}


def run_gymrun(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """``python -m gymrun ARGS`` to its end (at most TIMEOUT seconds), its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "gymrun", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        **options,
    )


def finished(child: subprocess.Popen[str], timeout: float = TIMEOUT) -> tuple[int, str, str]:
    """Wait for `child` (killing it and its group after `timeout`): its exit code and output."""
    try:
        out, err = child.communicate(timeout=timeout)
    finally:
        _ended(child)
    return child.returncode, out, err


def signalled(
    child: subprocess.Popen[str],
    reached: Callable[[], bool],
    signum: int,
    *,
    within: float = 60,
    every: float = 0.01,
    then: float = 0,
    timeout: float = TIMEOUT,
) -> tuple[int, str, str]:
    """Send `child` signal `signum` once it has reached a point (`reached()` holds, looked at
    every `every` seconds; `then` seconds after), and wait for it as `finished` does: its
    exit code and output. After `within` seconds, or once `child` has ended, the signal is
    sent all the same: what the test asserts of the outcome tells what went wrong."""
    try:
        deadline = time.monotonic() + within
        while not reached() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(every)
        time.sleep(then)
        child.send_signal(signum)  # (nothing, to a child that has ended)
    except BaseException:
        _ended(child)
        raise
    return finished(child, timeout)


def duel_killed_mid_round(out: str) -> None:
    """A duel recorded in `out` and SIGKILLed (as the out-of-memory killer would) in its
    second round, once that round's first run completed: identical configs never decide,
    so round 2 (seeds 2 and 3) plays."""
    random = str(ROOT / "configs" / "cartpole_random.yaml")
    args = ["duel", random, random, "--set", "episodes=1000", "--max-seeds", "4", "--round", "2"]
    summary = Path(out, "a-seed=2", "summary.json")
    code, _, _ = signalled(
        start_gymrun(*args, "-o", out),
        lambda: summary.exists() and '"completed"' in summary.read_text(),
        signal.SIGKILL,
    )
    assert code == -signal.SIGKILL


def _ended(child: subprocess.Popen[str]) -> None:
    """`child` killed if it still runs, and its group with it."""
    if child.poll() is None:
        child.kill()
        child.communicate()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)  # no worker of it outlives the test


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def on_a_terminal(*args: str, cwd: Path, timeout: float = 120) -> tuple[int, str]:
    """``python -m gymrun ARGS`` with a pseudo-terminal for its stdin, stdout and stderr, as
    in a user's terminal: its exit status and everything it drew there."""
    import pty
    import select

    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "gymrun", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
        start_new_session=True,
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([main], [], [], 1)[0]:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the terminal closed: the process is done
                    break
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
    return process.returncode, shown.decode(errors="replace")


def lines(path: Path) -> list[str]:
    """The lines of a file that may not exist yet."""
    return path.read_text().splitlines() if path.exists() else []


def without(modules: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run gymrun where `modules` cannot be imported, as if not installed: in its own
    process and in any it starts (a package of each name that fails to import comes first
    on the path)."""
    shim = cwd / "not-installed"
    for module in modules:
        package = shim / module
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text(
            f"raise ModuleNotFoundError(\"No module named '{module}'\", name={module!r})\n"
        )
    return subprocess.run(
        [sys.executable, "-m", "gymrun", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=TIMEOUT,
        check=False,
        env={**os.environ, "PYTHONPATH": str(shim)},
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
