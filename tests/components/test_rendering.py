"""MuJoCo's video on a machine with no display: the OpenGL platform chosen before the env is
made, or the one-line error before the run starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.processes import headless, run_gymrun

VIDEO_RUN = ("run", "HalfCheetah-v5", "-n", "2", "--seed", "1", "-q")
VIDEO = ("--set", "record.video=true", "--set", "record.every=1", "--set", "max_steps=5")
REFUSED = (*VIDEO_RUN, *VIDEO, "-o", "run")


@pytest.mark.parametrize("executor", ["local", "process"])
def test_mujoco_video_is_recorded_with_no_display(tmp_path: Path, executor: str) -> None:
    workers = ["--workers", "2"] if executor == "process" else []
    result = run_gymrun(
        *VIDEO_RUN, *VIDEO, "-e", executor, *workers, "-o", "run", cwd=tmp_path, env=headless()
    )
    assert result.returncode == 0, result.stderr
    videos = sorted((tmp_path / "run" / "videos").iterdir())
    assert [video.name for video in videos] == ["episode-000000.mp4", "episode-000001.mp4"]
    assert all(video.stat().st_size > 1000 for video in videos)
    # nothing of OpenGL, GLFW or MuJoCo's own model compiler reaches the user
    assert "GL" not in result.stderr and "deprecated" not in result.stderr, result.stderr


def test_a_platform_that_cannot_work_is_one_line_before_the_run(tmp_path: Path) -> None:
    result = run_gymrun(*REFUSED, cwd=tmp_path, env=headless(MUJOCO_GL="glfw"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: record.video of HalfCheetah-v5: MuJoCo cannot render with MUJOCO_GL=glfw (GLFW "
        "opens a window, and there is no display); install libglfw3, or unset MUJOCO_GL to let "
        "gymrun choose"
    ]
    assert not (tmp_path / "run").exists()  # no run directory left behind


def test_an_unknown_platform_is_named(tmp_path: Path) -> None:
    result = run_gymrun(*REFUSED, cwd=tmp_path, env=headless(MUJOCO_GL="vulkan"))
    assert (result.returncode, result.stderr.strip()) == (
        2,
        "error: record.video of HalfCheetah-v5: MuJoCo cannot render with MUJOCO_GL=vulkan "
        "(Gymnasium's MuJoCo envs render with glfw, egl or osmesa); unset MUJOCO_GL to let "
        "gymrun choose",
    )
    assert not (tmp_path / "run").exists()


def test_no_platform_at_all_says_what_to_install(tmp_path: Path) -> None:
    # PYOPENGL_PLATFORM=x leaves PyOpenGL no library to load, whatever this machine has
    result = run_gymrun(*REFUSED, cwd=tmp_path, env=headless(PYOPENGL_PLATFORM="x"))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "error: record.video of HalfCheetah-v5: MuJoCo has no OpenGL platform to render with "
        "here (no display; egl: "
    )
    assert line.endswith("; install libegl1 or libosmesa6")
    assert not (tmp_path / "run").exists()


def test_runs_without_video_do_not_look_for_opengl(tmp_path: Path) -> None:
    result = run_gymrun(*VIDEO_RUN, "--no-record", cwd=tmp_path, env=headless(MUJOCO_GL="glfw"))
    assert result.returncode == 0, result.stderr
