"""The README's samples are what gymrun prints: every ``$ gymrun ...`` block is run again
and compared (time stamps aside)."""

import subprocess
import sys

import pytest

from tests.support.paths import ROOT


@pytest.mark.slow
def test_every_readme_sample_is_what_gymrun_prints() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "readme_samples.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
