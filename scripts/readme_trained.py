"""Print the sample output of README.md's "Trained agents" section, by running its commands.

    .venv/bin/python scripts/readme_trained.py

The commands run in a scratch folder holding a copy of configs/, so they read exactly as a
user in the repository types them; the output is what they print, at 100 columns, uncoloured,
with the scratch folder's path shown as ~/gymrun (a clone of the repository in a home folder).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GYMRUN = str(Path(sys.executable).with_name("gymrun"))
COMMANDS = [
    "gymrun run configs/cartpole_ppo.yaml -n 10 --no-record",
    "gymrun run configs/cartpole_ppo.yaml -q -o runs/ppo",
    "gymrun run configs/cartpole_balance.yaml -q -o runs/balance",
    "gymrun compare runs/ppo runs/balance",
    # what does not fit: exit 2, one line each
    "gymrun run configs/cartpole_ppo.yaml --set env=Acrobot-v1",
    "gymrun run configs/cartpole_ppo.yaml --set agent.path=models/ppo_cartpole.zip",
    "gymrun run configs/cartpole_ppo.yaml --set agent.algo=dqn",
]


def main() -> None:
    env = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree(ROOT / "configs", Path(scratch) / "configs")
        for command in COMMANDS:
            args = shlex.split(command)
            done = subprocess.run(
                [GYMRUN, *args[1:]],
                cwd=scratch,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode not in (0, 2):
                raise SystemExit(f"{command} exited {done.returncode}:\n{done.stderr}")
            print(f"$ {command}")
            output = (done.stdout + done.stderr).replace(scratch, "~/gymrun")
            for line in output.splitlines():
                print(line.rstrip())
            print()


if __name__ == "__main__":
    main()
