"""The documentation's samples are what gymrun prints: every ``$ gymrun ...`` block of the
README and of the pages under docs/ is run again and compared (time stamps aside)."""

import subprocess
import sys

import pytest

from tests.support.paths import ROOT


@pytest.mark.slow
def test_every_sample_is_what_gymrun_prints() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "doc_samples.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
