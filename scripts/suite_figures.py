"""Measure the test suite as the README states it: the fast set (the README's test command)
and the slow set (what CI runs after it), each as a whole command, by the wall clock.

    .venv/bin/python scripts/suite_figures.py           # measure, print, and rewrite the
                                                        # figures in README.md and
                                                        # docs/development.md
    .venv/bin/python scripts/suite_figures.py --print   # measure and print only

The figures are only worth stating from an idle machine: the script prints the load average
before each set, and refuses to write when either set failed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "docs" / "development.md"]
BLOCK = re.compile(r"(<!-- suite-figures -->\n).*?(<!-- /suite-figures -->)", re.S)
SETS = {"fast": [], "slow": ["-m", "slow"]}


def measure(extra: list[str]) -> tuple[int, float, bool]:
    """How many tests passed, in how many seconds, and whether all did."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    passed = int(match.group(1)) if (match := re.search(r"(\d+) passed", last)) else 0
    print(f"{' '.join(extra) or '(fast)':>8}: {last} (load average {load:.2f} before)")
    for line in result.stdout.splitlines():
        if line.startswith(("FAILED", "ERROR")):
            print(f"          {line}")
    if result.returncode:  # what failed, and why: a failure seen once is worth reading
        report = result.stdout
        start = report.find("= FAILURES =")
        print(report[report.rfind("\n", 0, start) + 1 :] if start >= 0 else report, file=sys.stderr)
    return passed, seconds, result.returncode == 0


def minutes(seconds: float) -> str:
    whole, rest = divmod(round(seconds), 60)
    return f"{whole} min {rest:02d} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="measure only; write nothing")
    options = parser.parse_args()
    figures = {name: measure(extra) for name, extra in SETS.items()}
    (fast, fast_s, fast_ok), (slow, slow_s, slow_ok) = figures["fast"], figures["slow"]
    text = (
        f"The test command runs the fast set: {fast:,} tests in {minutes(fast_s)} on an idle "
        f"{os.cpu_count()}-core machine, in parallel. CI (`.ci/run`) then runs the slow set "
        f"(`.venv/bin/python -m pytest -m slow`): {slow:,} tests in {minutes(slow_s)}. "
        f"Measured with `.venv/bin/python scripts/suite_figures.py`."
    )
    print(text)
    if options.print:
        return 0
    if not (fast_ok and slow_ok):
        print("a set failed: nothing written")
        return 1
    for page in PAGES:
        content = page.read_text(encoding="utf-8")
        updated, count = BLOCK.subn(lambda m: f"{m.group(1)}{text}\n{m.group(2)}", content)
        if count != 1:
            print(f"{page.relative_to(ROOT)}: no <!-- suite-figures --> block")
            return 1
        page.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
