"""An rl-zoo3 model folder played by rl-zoo3 itself, as its enjoy.py plays it: the env made by
``create_test_env`` from the folder's saved hyperparameters and env kwargs (wrapper, frozen
VecNormalize, frame stack), the model loaded with enjoy.py's custom objects, and
``model.predict(obs, deterministic=True)`` each step; episode i reset with gymrun's seed for it.

    python -m tests.support.zoo_episodes FOLDER ALGO RUN_SEED EPISODES

prints ``[[reward, steps], ...]`` as JSON. A process of its own: importing rl-zoo3 patches
Gymnasium's TimeLimit in the importing process, which must not be gymrun's.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from .paths import ROOT


def zoo_episodes(folder: Path, algo: str, run_seed: int, episodes: int) -> list[tuple[float, int]]:
    """The episodes rl-zoo3 plays of `folder`, from a process of their own."""
    command = [sys.executable, "-m", "tests.support.zoo_episodes", str(folder), algo]
    found = subprocess.run(
        [*command, str(run_seed), str(episodes)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=True,
    )
    return [(float(reward), int(steps)) for reward, steps in json.loads(found.stdout)]


def main(folder: str, algo: str, run_seed: int, episodes: int) -> list[tuple[float, int]]:
    import yaml
    from rl_zoo3.utils import ALGOS, create_test_env, get_saved_hyperparams

    from gymrun.components.seeding import EpisodeSeeds

    settings = next(path.parent for path in Path(folder).glob("*/config.yml"))
    hyperparams, stats_path = get_saved_hyperparams(str(settings), test_mode=True)
    env_kwargs = hyperparams.pop("env_kwargs", {})
    with open(settings / "args.yml") as handle:  # as enjoy.py: args.yml's kwargs win
        loaded = yaml.load(handle, Loader=yaml.UnsafeLoader)
    if loaded["env_kwargs"] is not None:
        env_kwargs = loaded["env_kwargs"]
    with contextlib.redirect_stdout(io.StringIO()):  # rl-zoo3 prints what it loads
        env = create_test_env(
            loaded["env"],
            stats_path=stats_path,
            should_render=False,
            hyperparams=hyperparams,
            env_kwargs=env_kwargs,
        )
    custom_objects = {
        "learning_rate": 0.0,
        "lr_schedule": lambda _: 0.0,
        "clip_range": lambda _: 0.0,
    }
    model = ALGOS[algo].load(
        os.path.join(folder, f"{settings.name}.zip"), custom_objects=custom_objects, device="cpu"
    )
    seeds, played = EpisodeSeeds(run_seed), []
    for index in range(episodes):
        env.seed(seeds[index][0])
        observation, total, steps, done = env.reset(), 0.0, 0, False
        while not done:
            action, _ = model.predict(observation, deterministic=True)
            observation, rewards, dones, _ = env.step(action)
            total, steps, done = total + float(rewards[0]), steps + 1, bool(dones[0])
        played.append((total, steps))
    env.close()
    return played


if __name__ == "__main__":
    folder, algo, run_seed, episodes = sys.argv[1:5]
    print(json.dumps(main(folder, algo, int(run_seed), int(episodes))))
