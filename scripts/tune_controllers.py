"""Find the constants of two of the `heuristic` agent's controllers, on starts other than
those ``gymrun baselines`` scores them on.

    .venv/bin/python scripts/tune_controllers.py          # about two minutes

- MountainCar-v0: push right when ``velocity > a x + b``; a grid over (a, b), scored on
  3000 uniform starts with the car's equations in numpy (the env's own, vectorised).
- Reacher-v5: the soft PD's gains per joint, by random search (log-normal steps from the
  first guess), scored on 100 episodes seeded 1000..1099.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from gymrun.components.baselines import heuristic


def mountain_car_steps(a: float, b: float, starts: np.ndarray) -> float:
    """Mean episode length (capped at 200) of the switching line from these starts."""
    x, v = starts.copy(), np.zeros_like(starts)
    done, steps = np.zeros(len(x), dtype=bool), np.zeros(len(x))
    for _ in range(200):
        push = np.where(v > a * x + b, 2, 0)
        v_next = np.clip(v + (push - 1) * 0.001 - 0.0025 * np.cos(3 * x), -0.07, 0.07)
        x_next = np.clip(x + v_next, -1.2, 0.6)
        v_next = np.where((x_next == -1.2) & (v_next < 0), 0.0, v_next)
        x, v = np.where(done, x, x_next), np.where(done, v, v_next)
        steps += ~done
        done |= (x >= 0.5) & (v >= 0)
    return float(steps.mean())


def reacher_return(env: gym.Env, gains: np.ndarray, seeds: range) -> float:
    heuristic.REACHER_P, heuristic.REACHER_D = gains[:2], gains[2:]
    total = 0.0
    for seed in seeds:
        observation, _ = env.reset(seed=seed)
        done = False
        while not done:
            observation, reward, terminated, truncated, _ = env.step(heuristic.reacher(observation))
            total += float(reward)
            done = terminated or truncated
    return total / len(seeds)


def main() -> None:
    starts = np.random.default_rng(1).uniform(-0.6, -0.4, 3000)
    grid = [(a, b) for a in np.linspace(0.0, 0.012, 25) for b in np.linspace(0.0, 0.005, 21)]
    a, b = min(grid, key=lambda ab: mountain_car_steps(*ab, starts))
    print(
        f"MountainCar-v0: velocity > {a:.4f} x + {b:.5f}: {-mountain_car_steps(a, b, starts):.2f}"
    )

    env, seeds = gym.make("Reacher-v5"), range(1000, 1100)
    rng = np.random.default_rng(0)
    best = np.array([0.35, 0.35, 0.065, 0.065])
    score = reacher_return(env, best, seeds)
    for _ in range(80):
        trial = best * np.exp(rng.normal(0.0, 0.15, 4))
        trial_score = reacher_return(env, trial, seeds)
        if trial_score > score:
            best, score = trial, trial_score
    print(f"Reacher-v5: P {best[:2].round(3)}, D {best[2:].round(3)}: {score:.3f}")


if __name__ == "__main__":
    main()
