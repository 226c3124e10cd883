import importlib
import subprocess
import sys

import pytest

import gymrun


@pytest.mark.parametrize("name", gymrun.__all__)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(gymrun, name)
    assert value is not None
    assert getattr(value, "__doc__", None), f"gymrun.{name} has no docstring"


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="module 'gymrun' has no attribute 'nope'"):
        gymrun.nope  # noqa: B018


def test_importing_the_cli_does_not_import_gymnasium() -> None:
    # `gymrun --help` must stay quick: the heavy libraries load only when a command needs them.
    code = (
        "import sys, gymrun.cli; "
        "print(sorted(m for m in ('gymnasium', 'numpy', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_submodules_import_on_their_own() -> None:
    for module in (
        "agents",
        "catalog",
        "config",
        "experiment",
        "inspection",
        "render",
        "rollout",
        "spaces",
        "summary",
        "wrappers",
        "yaml_source",
    ):
        importlib.import_module(f"gymrun.{module}")
