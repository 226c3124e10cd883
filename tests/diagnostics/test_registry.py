"""Every registered environment either runs or says exactly what is missing."""

import pytest

from gymrun import ExperimentConfig, run_experiment
from gymrun.components.catalog import EnvInfo, list_envs
from gymrun.diagnostics.inspection import describe_env
from gymrun.errors import GymrunError

# The registry as installed: not the envs some test modules register for themselves.
ENVS = [info for info in list_envs() if not info.id.startswith("gymrun-test/")]
EVERY_ID = [info.id for info in ENVS]


# Atari's IDs differ only in their ROM and settings: gymrun plays them all the same way, so
# the fast set plays a few and the slow set every other (ale-py's old IDs, `Pong-v4`,
# `PongNoFrameskip-v4`, `-ram`, `Deterministic`, are the ROMs of the `ALE/*-v5` IDs again).
FAST_ATARI = ("ALE/Pong-v5", "ALE/Breakout-v5", "ALE/MontezumaRevenge-v5")


def slow_atari(info: EnvInfo) -> bool:
    return info.family == "Atari" and info.id not in FAST_ATARI


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
@pytest.mark.parametrize(
    "env_id",
    [pytest.param(i.id, marks=[pytest.mark.slow] if slow_atari(i) else []) for i in ENVS],
)
def test_every_registered_environment_runs_or_names_what_to_install(env_id: str) -> None:
    config = ExperimentConfig.model_validate(
        {"env": env_id, "episodes": 1, "seed": 0, "max_steps": 200}
    )
    try:
        info = describe_env(env_id)
    except GymrunError as exc:
        message = str(exc)
        assert "\n" not in message
        assert "install" in message.lower(), message
        with pytest.raises(GymrunError) as run_error:
            run_experiment(config)
        assert "install" in str(run_error.value).lower()
        return
    assert info["action_space"]["type"] and info["observation_space"]["type"]
    result = run_experiment(config)
    assert (result.status, result.summary.count) == ("completed", 1)
    assert 1 <= result.episodes[0].steps <= 200


def test_the_registry_is_all_there() -> None:
    assert len(EVERY_ID) >= 60
    assert {"CartPole-v1", "LunarLander-v3", "Hopper-v5", "gymrun/RandomReward-v0"} <= set(EVERY_ID)
