"""Install hints name a command that works for how gymrun was installed: gymrun is not on
PyPI, so an extra comes from the checkout it was installed from, or as its packages."""

import os
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from gymrun.components import extras
from gymrun.components.extras import install_command, install_hint, writable_matplotlib_dir
from tests.support.paths import ROOT
from tests.support.processes import run_gymrun


def test_from_the_checkout_an_extra_is_the_readme_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    python = Path(sys.executable)
    shown = f"./{python.relative_to(ROOT)}" if python.is_relative_to(ROOT) else str(python)
    assert install_command("gymrun[plot]") == f"{shlex.quote(shown)} -m pip install -e '.[plot]'"


def test_in_the_active_virtualenv_it_is_plain_pip(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    assert install_command("gymrun[video]") == f"pip install -e '{ROOT}[video]'"
    assert install_command("gymnasium[jax]") == "pip install 'gymnasium[jax]'"
    missing = ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")
    assert install_hint(missing) == f" (install it: pip install -e '{ROOT}[plot]')"


def test_without_a_checkout_an_extra_is_its_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    # as when gymrun was installed from a wheel: no local directory to install extras from
    monkeypatch.setattr(extras, "_installed_from", lambda: (None, False))
    monkeypatch.setenv("VIRTUAL_ENV", sys.prefix)
    assert install_command("gymrun[plot]") == "pip install 'matplotlib>=3.7'"
    assert install_command("gymrun[onnx]") == "pip install 'onnxruntime>=1.17'"


def test_every_extra_named_in_a_hint_exists() -> None:
    declared = (ROOT / "pyproject.toml").read_text()
    for _, _, _, _, requirement in extras.COMPONENTS:
        if requirement.startswith("gymrun["):
            extra = requirement.removeprefix("gymrun[").removesuffix("]")
            assert f"\n{extra} = [" in declared, extra


def test_a_home_matplotlib_cannot_write_leaves_no_warning_and_nothing_behind(
    tmp_path: Path,
) -> None:
    # A home that cannot be made, even by root: a path beneath a file.
    (tmp_path / "file").write_text("")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")
    }
    env.update(HOME=str(tmp_path / "file" / "home"), TMPDIR=str(scratch))
    (tmp_path / "sweep.yaml").write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 2\nsweep: {seeds: [0, 1]}\n"
    )
    for args, plot in [
        (("run", "CartPole-v1", "-n", "3", "-o", "run"), tmp_path / "run" / "reward.png"),
        (("sweep", "sweep.yaml", "-o", "sweep"), tmp_path / "sweep" / "sweep.png"),
    ]:
        result = run_gymrun(*args, cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        assert "matplotlib" not in result.stderr.lower(), result.stderr
        assert "MPLCONFIGDIR" not in result.stderr
        assert plot.stat().st_size > 1000
        assert list(scratch.iterdir()) == []  # no matplotlib-* or gymrun-matplotlib-* left


def test_a_writable_home_is_left_to_matplotlib(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MPLCONFIGDIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delitem(sys.modules, "matplotlib", raising=False)
    writable_matplotlib_dir()
    assert "MPLCONFIGDIR" not in os.environ
    # where they cannot be made, a directory of gymrun's own
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file" / "cache"))
    writable_matplotlib_dir()
    made = Path(os.environ["MPLCONFIGDIR"])
    assert made.is_dir() and made.name.startswith("gymrun-matplotlib-")
    shutil.rmtree(made)
