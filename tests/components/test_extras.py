"""Install hints name a command that works for how gymrun was installed: gymrun is not on
PyPI, so an extra comes from the checkout it was installed from, or as its packages."""

import shlex
import sys
from pathlib import Path

import pytest

from gymrun.components import extras
from gymrun.components.extras import install_command, install_hint
from tests.support.paths import ROOT


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
