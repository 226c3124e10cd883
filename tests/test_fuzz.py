"""Random configs and overrides: the only outcomes are success or exit 2 with a message."""

from pathlib import Path

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
