"""The layers: each subpackage imports only from the layers below it, and no module imports
another that (directly or through others) imports it back, inside functions included."""

import ast
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGE = ROOT / "src" / "gymrun"
# Bottom to top. A module may import from its own layer and the layers below it.
LAYERS = [
    "gymrun.version",
    "gymrun.errors",
    "gymrun.numbers",
    "gymrun.components",
    "gymrun.config",
    "gymrun.core",
    "gymrun.records",
    "gymrun.scale",
    "gymrun.pipeline",
    "gymrun.run",
    "gymrun.sweep",
    "gymrun.baselines",
    "gymrun.analysis",
    "gymrun.duel",
    "gymrun.board",
    "gymrun.diagnostics",
    "gymrun.cli",
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int | None:
    for number, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return number
    return None  # the package itself: gymrun (its version, its lazy public names)


def imports(path: Path) -> set[str]:
    """Every gymrun module `path` imports, wherever in the file the import stands (those
    under ``if TYPE_CHECKING:`` are for type checkers only, and never run)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = {f"{node.module}.{alias.name}" for alias in node.names}
            submodules = names & MODULES.keys()  # `from gymrun import numbers` is a module
            found |= submodules
            if names - submodules:
                found.add(node.module)
    return {name for name in found if name.startswith("gymrun")}


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def resolved(name: str) -> str | None:
    """The module an imported name lives in (``gymrun.config.load_config`` is in
    ``gymrun.config``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


GRAPH = {
    module: {m for name in imports(path) if (m := resolved(name)) and m != module}
    for module, path in MODULES.items()
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module: str) -> None:
    if module in ("gymrun", "gymrun.__main__"):
        return  # the package's public names and the entry point stand above every layer
    own = layer(module)
    for target in GRAPH[module]:
        assert own is not None and layer(target) is not None
        assert layer(target) <= own, f"{module} imports {target}, a layer above it"


def test_no_import_circles() -> None:
    circles = []
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_tests_mirror_the_package() -> None:
    # `pytest tests/records` is the check for a change to records/: every folder of tests
    # is a subpackage's, and every subpackage has one (beside the shared helpers and the
    # checks of the documentation and the benchmarks).
    tests = {p.name for p in (ROOT / "tests").iterdir() if (p / "__init__.py").is_file()}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert tests - {"support", "docs", "benchmarks"} == packages


def test_errors_are_raised_as_their_kind() -> None:
    """A library caller tells errors apart by class, not by parsing messages: nothing raises
    the base class itself, and the CLI uses no private Typer module."""
    for module, path in MODULES.items():
        text = path.read_text()
        assert "raise GymrunError(" not in text, module
        assert "_click" not in text and "__class__ =" not in text, module
