"""Train the PPO model that configs/cartpole_ppo.yaml evaluates: configs/models/cartpole_ppo.zip.

    .venv/bin/python scripts/train_cartpole_ppo.py      # about 20 seconds on one CPU core

rl-baselines3-zoo's CartPole-v1 settings for PPO, on a budget of 8,000 steps (the zoo trains
for 100,000): a policy that keeps the pole up for hundreds of steps but not always for all 500,
which is what an evaluation should be able to tell apart from a perfect one.
"""

from __future__ import annotations

from pathlib import Path

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

MODEL = Path(__file__).resolve().parent.parent / "configs" / "models" / "cartpole_ppo.zip"
STEPS = 8_000


def main() -> None:
    torch.set_num_threads(1)  # a small network: more threads only contend for the CPU
    env = make_vec_env("CartPole-v1", n_envs=8, seed=0)
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=32,
        batch_size=256,
        gae_lambda=0.8,
        gamma=0.98,
        n_epochs=20,
        ent_coef=0.0,
        learning_rate=lambda progress: 0.001 * progress,
        clip_range=0.2,
        seed=0,
        device="cpu",
    )
    model.learn(STEPS)
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    model.save(MODEL)
    print(f"saved {MODEL}")


if __name__ == "__main__":
    main()
