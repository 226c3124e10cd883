"""Find the linear BipedalWalker-v3 policy that gymrun's `heuristic` agent ships.

Augmented random search (Mania, Guy and Recht 2018, "ARS V2-t"): a policy
``action = clip(W @ ((observation - mean) / std), -1, 1)``, perturbed in random directions,
each direction played both ways; the best directions move W. Observations are normalised
by running statistics gathered from every rollout. For the first `--shaped` iterations,
rewards are clipped to [-1, 1] (a fall then costs one step's worth, not 100, which keeps
risky gaits in the search while a gait is found); after that the search sees the real
reward, falls and all, which makes the gait safe. An episode that makes no progress for 200
steps is cut short. Every tenth iteration the policy is scored on 20 fixed episodes, and the
best so far is kept.

    .venv/bin/python scripts/search_bipedal.py            # about an hour on two cores

writes src/gymrun/components/baselines/data/bipedal_walker.json. The search is seeded: the
same command gives the same weights. ``--resume`` continues from the checkpoint it keeps
in bipedal_search.npz.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

ENV_ID = "BipedalWalker-v3"
OUT = Path(__file__).resolve().parent.parent / "src/gymrun/components/baselines/data"
CHECKPOINT = Path("bipedal_search.npz")
OBS, ACT = 24, 4

_env: gym.Env | None = None


def _environment() -> gym.Env:
    global _env
    if _env is None:
        _env = gym.make(ENV_ID)
    return _env


def rollout(args: tuple) -> tuple[float, float, int, np.ndarray, np.ndarray]:
    """One episode of policy W: (search score, true return, steps, obs sum, obs sq sum)."""
    weights, mean, std, seed, shaped = args
    env = _environment()
    obs, _ = env.reset(seed=int(seed))
    total = shaped_total = 0.0
    best_x, stalled, steps = -np.inf, 0, 0
    sums, squares = np.zeros(OBS), np.zeros(OBS)
    done = False
    while not done:
        sums += obs
        squares += obs * obs
        action = np.clip(weights @ ((obs - mean) / std), -1.0, 1.0)
        obs, reward, terminated, truncated, _ = env.step(action)
        steps += 1
        total += reward
        shaped_total += max(min(reward, 1.0), -1.0)
        done = terminated or truncated
        x = env.unwrapped.hull.position.x
        if x > best_x + 0.05:
            best_x, stalled = x, 0
        else:
            stalled += 1
        if shaped and stalled > 200:
            break
    return shaped_total if shaped else total, total, steps, sums, squares


def evaluate(pool, weights, mean, std, seeds) -> float:
    results = pool.map(rollout, [(weights, mean, std, s, False) for s in seeds])
    return float(np.mean([r[1] for r in results]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--shaped", type=int, default=200, help="iterations on clipped rewards")
    parser.add_argument("--directions", type=int, default=16)
    parser.add_argument("--top", type=int, default=8)
    parser.add_argument("--step", type=float, default=0.02)
    parser.add_argument("--noise", type=float, default=0.03)
    parser.add_argument("--target", type=float, default=315.0, help="stop at this eval mean")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--resume", action="store_true")
    options = parser.parse_args()

    weights = np.zeros((ACT, OBS))
    count, sums, squares = 1e-8, np.zeros(OBS), np.zeros(OBS)
    start, best, best_state = 0, -np.inf, None
    if options.resume and CHECKPOINT.exists():
        saved = np.load(CHECKPOINT, allow_pickle=True)
        weights, count, sums, squares = (
            saved["weights"],
            float(saved["count"]),
            saved["sums"],
            saved["squares"],
        )
        start, best = int(saved["iteration"]), float(saved["best"])
        best_state = saved["best_state"].item()
    eval_seeds = list(range(10_000, 10_020))
    began = time.time()
    with multiprocessing.Pool(options.workers) as pool:
        for iteration in range(start, options.iterations):
            rng = np.random.default_rng([options.seed, iteration])  # resumes exactly
            shaped = iteration < options.shaped
            mean = sums / count
            std = (
                np.sqrt(np.maximum(squares / count - mean * mean, 1e-4))
                if count > 1
                else np.ones(OBS)
            )
            deltas = rng.standard_normal((options.directions, ACT, OBS))
            seeds = rng.integers(0, 2**31, size=options.directions)
            jobs = []
            for delta, seed in zip(deltas, seeds, strict=True):
                jobs.append((weights + options.noise * delta, mean, std, seed, shaped))
                jobs.append((weights - options.noise * delta, mean, std, seed, shaped))
            results = pool.map(rollout, jobs)
            scores = np.array([r[0] for r in results]).reshape(options.directions, 2)
            for r in results:
                count += r[2]
                sums += r[3]
                squares += r[4]
            order = np.argsort(-scores.max(axis=1))[: options.top]
            spread = scores[order].std() + 1e-8
            step = sum((scores[i, 0] - scores[i, 1]) * deltas[i] for i in order)
            weights = weights + options.step / (options.top * spread) * step
            if iteration % 10 == 9:
                score = evaluate(pool, weights, mean, std, eval_seeds)
                if score > best:
                    best = score
                    best_state = {"weights": weights.copy(), "mean": mean.copy(), "std": std.copy()}
                elapsed = time.time() - began
                print(
                    f"iteration {iteration + 1}: eval {score:.1f} (best {best:.1f}), "
                    f"{count:.0f} steps, {elapsed:.0f} s",
                    flush=True,
                )
                np.savez(
                    CHECKPOINT,
                    weights=weights,
                    count=count,
                    sums=sums,
                    squares=squares,
                    iteration=iteration + 1,
                    best=best,
                    best_state=np.array(best_state, dtype=object),
                )
                if score >= options.target:
                    break
        assert best_state is not None
        final = evaluate(
            pool, best_state["weights"], best_state["mean"], best_state["std"], eval_seeds
        )
    document = {
        "env": ENV_ID,
        "policy": "action = clip(weights @ ((observation - mean) / std), -1, 1)",
        "weights": best_state["weights"].round(6).tolist(),
        "mean": best_state["mean"].round(6).tolist(),
        "std": best_state["std"].round(6).tolist(),
        "search": {**vars(options), "evaluation_mean_20": round(final, 2)},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bipedal_walker.json").write_text(json.dumps(document, indent=1) + "\n")
    print(f"wrote {OUT / 'bipedal_walker.json'}: {final:.1f} over 20 evaluation episodes")


if __name__ == "__main__":
    main()
