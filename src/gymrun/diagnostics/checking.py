"""``gymrun check``: Gymnasium's environment checker, and how fast random play runs."""

from __future__ import annotations

import re
import time
import warnings
from typing import Any

from gymnasium.envs.registration import EnvSpec
from gymnasium.utils.env_checker import check_env

from gymrun.components.catalog import find_spec, make
from gymrun.errors import EnvError

_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def check_environment(env_id: str, *, seconds: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """Run `check_env` on `env_id` (unwrapped, as Gymnasium advises), collect its warnings,
    then play random actions for about `seconds` to measure steps per second.

    >>> report = check_environment("CartPole-v1", seconds=0.05)
    >>> report["passed"], report["error"], report["steps_per_second"] > 0
    (True, None, True)
    """
    spec = find_spec(env_id)
    env = make(spec)
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check_env(env.unwrapped, skip_render_check=True)
        except Exception as exc:  # the checker's verdict: the env breaks the API
            error = f"{type(exc).__name__}: {_COLOUR.sub('', str(exc))}"
        finally:
            env.close()
    found = list(
        dict.fromkeys(_COLOUR.sub("", str(w.message)).removeprefix("WARN: ") for w in caught)
    )
    speed = _random_play(spec, seconds, seed) if error is None else None
    return {
        "id": env_id,
        "passed": error is None,
        "error": error,
        "warnings": found,
        **(speed or {"steps_per_second": None, "steps": 0, "episodes": 0}),
    }


def _random_play(spec: EnvSpec, seconds: float, seed: int) -> dict[str, Any]:
    env = make(spec)
    env.action_space.seed(seed)
    env.reset(seed=seed)
    steps = episodes = 0
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            for _ in range(100):  # read the clock every hundred steps only
                _, _, terminated, truncated, _ = env.step(env.action_space.sample())
                steps += 1
                if terminated or truncated:
                    episodes += 1
                    env.reset()
    except Exception as exc:
        raise EnvError(f"{spec.id} raised during random play: {type(exc).__name__}: {exc}") from exc
    finally:
        env.close()
    elapsed = time.perf_counter() - started
    return {"steps_per_second": steps / elapsed, "steps": steps, "episodes": episodes}
