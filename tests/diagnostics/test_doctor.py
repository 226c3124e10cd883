"""``gymrun doctor``: what is missing here and the command that installs it."""

import json
from pathlib import Path

from tests.support.processes import headless, pip_install, run_gymrun, without


def test_doctor_says_what_is_missing_and_how_to_install_it(tmp_path: Path) -> None:
    result = without(["matplotlib", "ale_py"], "doctor", "--json", cwd=tmp_path)
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
    assert parts["datasets"]["usable"] is True  # minari, for --dataset
    table = without(["moviepy", "minari"], "doctor", "--json", cwd=tmp_path).stdout
    [datasets] = [c for c in json.loads(table)["components"] if c["name"] == "datasets"]
    assert (datasets["usable"], datasets["install"]) == (False, pip_install("gymrun[minari]"))
    [video] = [c for c in json.loads(table)["components"] if c["name"] == "video"]
    assert (video["usable"], video["install"]) == (False, pip_install("gymrun[video]"))
    # the version is the installed distribution's, not a module's own (stale) __version__
    from importlib.metadata import version

    assert parts["video"]["detail"] == version("moviepy")


def test_doctor_says_which_opengl_platform_mujoco_renders_with(tmp_path: Path) -> None:
    chosen = run_gymrun("doctor", "--json", cwd=tmp_path, env=headless())
    rendering = json.loads(chosen.stdout)["rendering"]
    assert (rendering["source"], rendering["works"]) == ("chosen", True)
    assert rendering["name"] in ("egl", "osmesa")
    table = run_gymrun("doctor", cwd=tmp_path, env=headless()).stdout
    assert f"│ MuJoCo rendering │ {rendering['name']} (no display: chosen by gymrun)" in table
    broken = run_gymrun("doctor", cwd=tmp_path, env=headless(MUJOCO_GL="glfw")).stdout
    assert (
        "│ MuJoCo rendering │ MUJOCO_GL=glfw does not work: GLFW opens a window, and there is no "
        "display; install libglfw3, or unset MUJOCO_GL to let gymrun choose │"
    ) in broken
