"""What a plan knows before a run: how long an episode can last, and the warning when
nothing limits it."""

from __future__ import annotations

from typing import Any

import pytest

from gymrun.config import ExperimentConfig
from gymrun.core.plan import episode_step_limit, unbounded_episodes_warning
from tests.support.cli import gymrun

BLACKJACK_WARNING = (
    "warning: Blackjack-v1 sets no limit on episode length and neither does the config: an "
    "episode that never ends would run forever (set max_steps to cap it)"
)

LIMITS: dict[str, tuple[dict[str, Any], int]] = {
    "the spec's TimeLimit": ({"env": "CartPole-v1"}, 500),
    "env.max_episode_steps in the spec's place": (
        {"env": {"id": "CartPole-v1", "max_episode_steps": 700}},
        700,
    ),
    "env.max_episode_steps": ({"env": {"id": "Blackjack-v1", "max_episode_steps": 7}}, 7),
    "max_steps": ({"env": "Blackjack-v1", "max_steps": 50}, 50),
    "a TimeLimit wrapper": (
        {"env": "Blackjack-v1", "wrappers": [{"name": "TimeLimit", "max_episode_steps": 30}]},
        30,
    ),
    "a TimeLimit wrapper named by its module": (
        {
            "env": "Blackjack-v1",
            "wrappers": [
                {"name": "ClipReward", "min_reward": -1},
                {"name": "gymnasium.wrappers:TimeLimit", "max_episode_steps": 40},
            ],
        },
        40,
    ),
    # 108,000 emulator frames, 4 to a step (v5) or 2 to 4 (v4), 1 (NoFrameskip)
    "an Atari game's own frame limit": ({"env": "ALE/Pong-v5"}, 27_000),
    "an Atari game's frames, skipped at random": ({"env": "Pong-v4"}, 54_000),
    "an Atari game's frames, none skipped": ({"env": "PongNoFrameskip-v4"}, 108_000),
    "an Atari game's frame limit set in env.kwargs": (
        {"env": {"id": "ALE/Pong-v5", "kwargs": {"max_num_frames_per_episode": 400}}},
        100,
    ),
    "the tightest of several": ({"env": "ALE/Pong-v5", "max_steps": 2_000}, 2_000),
}


@pytest.mark.parametrize("document, limit", LIMITS.values(), ids=list(LIMITS))
def test_every_way_an_episode_is_bounded_is_known(document: dict[str, Any], limit: int) -> None:
    config = ExperimentConfig.model_validate(document)
    assert episode_step_limit(config) == limit
    assert unbounded_episodes_warning(config) is None


@pytest.mark.parametrize(
    "document",
    [
        {"env": "Blackjack-v1"},
        {"env": "Blackjack-v1", "wrappers": [{"name": "ClipReward", "min_reward": -1}]},
        # 0 frames: the emulator's own limit turned off
        {"env": {"id": "ALE/Pong-v5", "kwargs": {"max_num_frames_per_episode": 0}}},
    ],
    ids=["no limit", "wrappers but no TimeLimit", "Atari frame limit turned off"],
)
def test_an_unbounded_env_still_warns(document: dict[str, Any]) -> None:
    config = ExperimentConfig.model_validate(document)
    assert episode_step_limit(config) is None
    assert unbounded_episodes_warning(config) is not None


def test_a_time_limit_wrapper_silences_the_warning_on_the_command_line() -> None:
    plain = gymrun("run", "Blackjack-v1", "-n", "2", "-q", "--no-record")
    assert (plain.code, plain.stderr.splitlines()[0]) == (0, BLACKJACK_WARNING)
    wrapped = ("-W", "TimeLimit", "--set", "wrappers.0.max_episode_steps=50")
    limited = gymrun("run", "Blackjack-v1", *wrapped, "-n", "2", "-q", "--no-record")
    assert limited.code == 0 and "warning" not in limited.stderr, limited.stderr
