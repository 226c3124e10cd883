"""Train the rl-zoo3 model folder that configs/cartpole_rlzoo.yaml plays:
configs/models/rlzoo/ppo/CartPole-v1_1/.

    .venv/bin/pip install rl_zoo3                       # a test dependency: '.[test]' has it
    .venv/bin/python scripts/train_cartpole_rlzoo.py    # about 15 seconds on one CPU core

rl-zoo3's own trainer (``python -m rl_zoo3.train``) with its CartPole-v1 settings for PPO, and
``normalize: true`` (observations normalised by VecNormalize, whose statistics the folder keeps
in vecnormalize.pkl), on a budget of 16,000 steps (the zoo trains for 100,000). It runs in a
temporary folder; what rl-zoo3 saves of the model is copied here as rl-zoo3 laid it out: the
model, and config.yml, args.yml and vecnormalize.pkl in the subfolder named for the env. Run
again, it saves the same weights and statistics.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "configs" / "models" / "rlzoo" / "ppo"
RUN = "CartPole-v1_1"
SETTINGS = ("config.yml", "args.yml", "vecnormalize.pkl")
STEPS = 16_000


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        command = [
            sys.executable,
            "-m",
            "rl_zoo3.train",
            "--algo", "ppo",
            "--env", "CartPole-v1",
            "-n", str(STEPS),
            "-f", "logs",  # relative, so args.yml records no path of this machine
            "--seed", "0",
            "--device", "cpu",
            "--num-threads", "1",  # a small network: more threads only contend for the CPU
            "--hyperparams", "normalize:True",
            "--verbose", "0",
        ]  # fmt: skip
        subprocess.run(command, cwd=scratch, check=True)
        trained = Path(scratch) / "logs" / "ppo" / RUN
        target = FOLDER / RUN
        shutil.rmtree(target, ignore_errors=True)
        (target / "CartPole-v1").mkdir(parents=True)
        shutil.copy(trained / "CartPole-v1.zip", target)
        for name in SETTINGS:
            shutil.copy(trained / "CartPole-v1" / name, target / "CartPole-v1")
    print(f"saved {target}")


if __name__ == "__main__":
    main()
