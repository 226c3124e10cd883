"""gymrun as a real process: the entry point, real exit codes, a real Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import CONFIGS, pip_install, run_gymrun, start_gymrun


def test_module_help() -> None:
    result = run_gymrun("--help")
    assert result.returncode == 0
    assert "Usage: gymrun" in result.stdout


def test_run_in_a_subprocess_matches_the_json(tmp_path: Path) -> None:
    config = str(CONFIGS / "cartpole_random.yaml")
    result = run_gymrun("run", config, "--json", "-n", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [e["steps"] for e in data["episodes"]] == [41, 22, 36, 18, 25]
    [run_dir] = (tmp_path / "recordings" / "cartpole_random").iterdir()
    assert data["run_dir"] == str(run_dir.relative_to(tmp_path))


def test_bad_input_in_a_subprocess_has_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("env: CartPole-v1\nepisodes: many\n")
    result = run_gymrun("run", str(config))
    assert result.returncode == 2
    assert result.stderr == f"error: {config}:2 episodes: Input should be a valid integer\n"


@pytest.mark.parametrize(
    ("how", "code", "said"),
    [
        (signal.SIGINT, 130, "interrupted after "),
        (signal.SIGTERM, 143, "interrupted by SIGTERM after "),
        (signal.SIGHUP, 129, "interrupted by SIGHUP after "),
    ],
)
def test_a_stopping_signal_keeps_every_finished_episode(
    tmp_path: Path, how: signal.Signals, code: int, said: str
) -> None:
    # cartpole_balance plays 500-step episodes: long enough to be interrupted mid-run
    args = ["run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "100000", "-q", "-o", "run"]
    process = start_gymrun(*args, cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    try:
        episodes = tmp_path / "run" / "episodes.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_lines(episodes)) < 3:
            time.sleep(0.1)
        process.send_signal(how)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
    finished = int(stderr.split(said)[1].split()[0])
    assert f"episodes │ {finished} of 100000" in stdout
    assert "status   │ interrupted" in stdout
    lines = _lines(episodes)
    assert [json.loads(line)["episode"] for line in lines] == list(range(finished))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert (summary["status"], summary["count"]) == ("interrupted", finished)
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["command"][1:] == args


def test_a_signal_the_user_ignores_stays_ignored(tmp_path: Path) -> None:
    # nohup ignores SIGHUP: gymrun leaves that choice alone and runs to the end
    config = str(CONFIGS / "cartpole_balance.yaml")
    process = subprocess.Popen(
        [sys.executable, "-m", "gymrun", "run", config, "-n", "30", "-q", "-o", "run"],
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
    )
    try:
        episodes = tmp_path / "run" / "episodes.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_lines(episodes)) < 3:
            time.sleep(0.1)
        process.send_signal(signal.SIGHUP)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["count"] == 30


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _without(modules: list[str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
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
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(shim)},
    )


def test_missing_plot_extra_is_said_once_and_the_run_goes_on(tmp_path: Path) -> None:
    config = str(CONFIGS / "cartpole_random.yaml")
    result = _without(["matplotlib"], "run", config, "-n", "3", "-q", "-o", "run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "recorded in run",
        "note: no reward.png: plots need matplotlib, which is not installed: "
        + pip_install("gymrun[plot]"),
    ]
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        ".gymrun.lock",
        "config.yaml",
        "episodes.jsonl",
        "meta.json",
        "summary.json",
    ]


def test_missing_video_extra_is_an_error_before_the_run(tmp_path: Path) -> None:
    config = tmp_path / "video.yaml"
    config.write_text("env: CartPole-v1\nrecord: {video: true}\n")
    result = _without(["moviepy"], "run", str(config), "-o", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: recording video needs moviepy, which is not installed: "
        + pip_install("gymrun[video]")
        + "\n"
    )
    assert not (tmp_path / "run").exists()


def test_doctor_says_what_is_missing_and_how_to_install_it(tmp_path: Path) -> None:
    result = _without(["matplotlib", "ale_py"], "doctor", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    parts = {c["name"]: c for c in json.loads(result.stdout)["components"]}
    assert parts["classic control"]["usable"] is True
    assert parts["toy text"]["usable"] is True
    assert (parts["plots"]["usable"], parts["plots"]["install"]) == (
        False,
        pip_install("gymrun[plot]"),
    )
    assert (parts["Atari"]["usable"], parts["Atari"]["install"]) == (
        False,
        pip_install("gymrun[atari]"),
    )
    table = _without(["moviepy"], "doctor", "--json", cwd=tmp_path).stdout
    [video] = [c for c in json.loads(table)["components"] if c["name"] == "video"]
    assert (video["usable"], video["install"]) == (False, pip_install("gymrun[video]"))
    # the version is the installed distribution's, not a module's own (stale) __version__
    from importlib.metadata import version

    assert parts["video"]["detail"] == version("moviepy")


def test_the_progress_bar_on_a_real_terminal_shows_the_runs_name(tmp_path: Path) -> None:
    import pty
    import select

    main, terminal = pty.openpty()
    config = str(CONFIGS / "cartpole_balance.yaml")
    process = subprocess.Popen(
        [sys.executable, "-m", "gymrun", "run", config, "-n", "300", "--no-record"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
        start_new_session=True,
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 120
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
    text = shown.decode(errors="replace")
    assert process.returncode == 0, text
    assert "/300" in text  # the bar was drawn: episodes done of 300
    assert "cartpole_balance" in text.split("/300")[0]  # its label, before the count
    assert "[progress.description]" not in text
