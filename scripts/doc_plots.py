"""Make the plots the documentation shows, from real runs of the shipped configs:
``docs/images/reward.png`` (``gymrun run configs/cartpole_epsilon.yaml -n 500``) and
``docs/images/sweep.png`` (``gymrun sweep configs/cartpole_epsilon_sweep.yaml``).

    .venv/bin/python scripts/doc_plots.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
RUNS = {
    "reward.png": ["run", "configs/cartpole_epsilon.yaml", "-n", "500", "-q", "-o", "out"],
    "sweep.png": ["sweep", "configs/cartpole_epsilon_sweep.yaml", "-o", "out"],
}


def main() -> None:
    for image, args in RUNS.items():
        with tempfile.TemporaryDirectory() as scratch:
            shutil.copytree(ROOT / "configs", Path(scratch) / "configs")
            subprocess.run(
                [sys.executable, "-m", "gymrun", *args], cwd=scratch, check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
            shutil.copyfile(Path(scratch) / "out" / image, IMAGES / image)
        print(f"docs/images/{image}: gymrun {' '.join(args[:-2])}")


if __name__ == "__main__":
    main()
