"""``gymrun doctor``: what is missing here and the command that installs it."""

import json
from pathlib import Path

from tests.support.processes import pip_install, without


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
    table = without(["moviepy"], "doctor", "--json", cwd=tmp_path).stdout
    [video] = [c for c in json.loads(table)["components"] if c["name"] == "video"]
    assert (video["usable"], video["install"]) == (False, pip_install("gymrun[video]"))
    # the version is the installed distribution's, not a module's own (stale) __version__
    from importlib.metadata import version

    assert parts["video"]["detail"] == version("moviepy")
