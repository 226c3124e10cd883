"""Random configs and overrides: the only outcomes are success or exit 2 with a message."""

from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.strategies import DOCUMENTS, FUZZ, KEYS, SCALARS, VALUES

PATHS = st.lists(st.sampled_from(KEYS) | st.integers(0, 3).map(str), min_size=1, max_size=3).map(
    ".".join
)


@FUZZ
@given(document=DOCUMENTS)
def test_random_documents_validate_or_fail_cleanly(tmp_path: Path, document: object) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(document))
    result = gymrun("validate", str(path))
    code, output = result.code, result.output
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
    result = gymrun("run", str(CONFIGS / "cartpole_epsilon.yaml"), *args)
    code, output = result.code, result.output
    assert code in (0, 2), output
    assert "Traceback" not in output
