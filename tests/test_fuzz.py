"""Random configs, overrides and damaged records: the only outcomes are success or exit 2
with a message."""

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gymrun.cli import app

from .conftest import CONFIGS

KEYS = [
    "name",
    "env",
    "wrappers",
    "agent",
    "episodes",
    "seed",
    "reward_boundary",
    "max_steps",
    "record",
    "vector",
    "imports",
    "sweep",
    "bogus",
    "id",
    "kwargs",
    "epsilon",
    "action",
    "num_envs",
    "mode",
    "video",
    "every",
    "stack_size",
    "scale",
    "0",
]
NAMES = [
    "CartPole-v1",
    "random",
    "constant",
    "epsilon_random",
    "frame_stack",
    "ClipReward",
    "scale_reward",
    "sequence",
    "cartpole_balance",
    "nope",
    "os:system",
    "sync",
    "",
    "a b",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-10, 10**6)
    | st.floats(allow_nan=True)
    | st.sampled_from(NAMES)
    | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
DOCUMENTS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6) | VALUES
PATHS = st.lists(st.sampled_from(KEYS) | st.integers(0, 3).map(str), min_size=1, max_size=3).map(
    ".".join
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def gymrun(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


@FUZZ
@given(document=DOCUMENTS)
def test_random_documents_validate_or_fail_cleanly(tmp_path: Path, document: object) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(document))
    code, output = gymrun("validate", str(path))
    assert code in (0, 2), output
    assert "Traceback" not in output
    if code == 2:
        assert output.startswith("error: ")


@FUZZ
@given(overrides=st.lists(st.tuples(PATHS, SCALARS | VALUES), max_size=3))
def test_random_overrides_run_or_fail_cleanly(overrides: list[tuple[str, object]]) -> None:
    args = []
    for key, value in overrides:
        args += ["--set", f"{key}={yaml.safe_dump(value, default_flow_style=True).strip()}"]
    # Whatever the overrides say, keep the run tiny: shortcuts and later --set win.
    args += ["--set", "max_steps=5", "--set", "vector=null", "--episodes", "2", "--no-record", "-q"]
    code, output = gymrun("run", str(CONFIGS / "cartpole_epsilon.yaml"), *args)
    assert code in (0, 2), output
    assert "Traceback" not in output


RUN_FILES = ["config.yaml", "episodes.jsonl", "summary.json", "meta.json"]
DAMAGE = st.one_of(
    st.just(("delete", b"")),
    st.tuples(st.just("bytes"), st.binary(max_size=200)),
    st.tuples(st.just("truncate"), st.integers(0, 400).map(lambda n: n.to_bytes(2, "big"))),
    st.tuples(st.just("json"), VALUES.map(lambda v: yaml.safe_dump(v).encode())),
    st.tuples(st.just("line"), st.binary(max_size=60)),
    st.just(("directory", b"")),
)


@pytest.fixture(scope="module")
def healthy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("healthy") / "run"
    result = CliRunner().invoke(
        app,
        ["run", str(CONFIGS / "cartpole_random.yaml"), "-n", "6", "-q", "-o", str(directory)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    return directory


def damaged_copy(healthy: Path, target: Path, damage: dict[str, tuple[str, bytes]]) -> None:
    shutil.copytree(healthy, target)
    for name, (kind, data) in damage.items():
        path = target / name
        if kind == "delete":
            path.unlink()
        elif kind == "bytes" or kind == "json":
            path.write_bytes(data)
        elif kind == "truncate":
            path.write_bytes(path.read_bytes()[: int.from_bytes(data, "big")])
        elif kind == "line":
            content = path.read_bytes().split(b"\n")
            content.insert(len(content) // 2, data)
            path.write_bytes(b"\n".join(content))
        elif kind == "directory":
            path.unlink()
            path.mkdir()


@FUZZ
@given(damage=st.dictionaries(st.sampled_from(RUN_FILES), DAMAGE, min_size=1, max_size=4))
def test_damaged_run_directories_are_shown_or_refused_cleanly(
    tmp_path: Path, healthy_run: Path, damage: dict[str, tuple[str, bytes]]
) -> None:
    target = tmp_path / f"damaged-{len(list(tmp_path.iterdir()))}"
    damaged_copy(healthy_run, target, damage)
    for command in (
        ["show", str(target)],
        ["show", str(target), "--json"],
        ["compare", str(target), str(healthy_run)],
    ):
        result = CliRunner().invoke(app, command, catch_exceptions=False)
        assert result.exit_code in (0, 2), (command, damage, result.stderr)
        assert "Traceback" not in result.stderr
        if result.exit_code == 2:
            errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
            assert errors, result.stderr
