"""Every error about a config's value names where the value was written: the file and line
and key, or the command-line option that gave it, whether the schema finds it or building
the env, wrappers and agent does."""

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

WriteConfig = Callable[..., Path]

BUILT_WRONG = [
    (
        "env: CartPole-v1\nwrappers:\n  - {name: TimeLimit, max_episode_steps: abc}\n",
        "3 wrappers.0.max_episode_steps: max_episode_steps of TimeLimit takes an integer, "
        "not 'abc'",
    ),
    (
        "env: CartPole-v1\nwrappers:\n  - {name: ClipReward, min_reward: 5, max_reward: 1}\n",
        "3 wrappers.0: ClipReward: InvalidBound: Min reward (5) must be smaller than max",
    ),
    (
        "env:\n  id: FrozenLake-v1\n  kwargs: {map_name: 5x5}\n",
        "1 env: cannot make FrozenLake-v1: KeyError: '5x5'",
    ),
    (
        "env: CartPole-v1\nagent: {name: constant, action: 5}\n",
        "2 agent.action: 5 is not an action of Discrete(2)",
    ),
    (
        "env: CartPole-v1\nagent:\n  name: sequence\n  actions: [0, 1, 9]\n",
        "4 agent.actions.2: 9 is not an action of Discrete(2)",
    ),
    (
        "env: Pendulum-v1\nagent: cartpole_balance\n",
        "2 agent: cartpole_balance needs CartPole's observation",
    ),
    (
        "env: Pendulum-v1\nagent: {name: planner, horizon: 2, population: 4, elites: 10}\n",
        "2 agent.elites: elites (10) exceeds population (4)",
    ),
    (
        "env:\n  id: CartPole-v1\n  kwargs: {render_mode: human}\nrecord: {video: true}\n",
        "4 record.video: needs render_mode 'rgb_array', but env.kwargs.render_mode is 'human'",
    ),
    ("env: CartPole-v1\nagent: {name: sb3, path: nope.zip}\n", "2 agent.path: agent sb3: no such"),
]


@pytest.mark.parametrize(("text", "said"), BUILT_WRONG)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_an_error_found_building_a_config_names_its_file_line_and_key(
    write_config: WriteConfig, text: str, said: str, command: str
) -> None:
    path = write_config(text + "episodes: 1\n")
    args = ["run", str(path), "--no-record", "-q"] if command == "run" else ["validate", str(path)]
    code, _, err = gymrun(*args)
    assert code == 2
    assert err.startswith(f"error: {path}:{said}"), err
    assert len(err.splitlines()) == 1


def test_an_error_about_a_value_given_on_the_command_line_names_the_option() -> None:
    code, _, err = gymrun("run", "CartPole-v1", "-a", "constant", "--set", "agent.action=5")
    assert (code, err) == (
        2,
        "error: --set agent.action=5 agent.action: 5 is not an action of Discrete(2)\n",
    )
    code, _, err = gymrun(
        "run", "CartPole-v1", "-W", "TimeLimit", "--set", "wrappers.0.max_episode_steps=abc"
    )
    assert code == 2
    assert err.startswith(
        "error: --set wrappers.0.max_episode_steps=abc wrappers.0.max_episode_steps: "
        "max_episode_steps of TimeLimit takes an integer"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ["--set", ".episodes=3"],
            "--set .episodes=3: '.episodes' is not a key: keys are dotted names, such as "
            "wrappers.0.epsilon",
        ),
        (
            ["--set", "wrappers.0.epsilon=0.3"],
            "--set wrappers.0.epsilon=0.3 wrappers.0.name: required key is missing "
            "(add --set wrappers.0.name=VALUE)",
        ),
        (
            ["-a", "dynamic_programming", "--set", "agent.gamma=2"],
            "--set agent.gamma=2 agent.gamma: Input should be less than or equal to 1",
        ),
    ],
)
def test_a_bad_override_is_blamed_on_the_option_that_gave_it(args: list[str], said: str) -> None:
    config = str(CONFIGS / ("cartpole_random.yaml"))
    if "dynamic_programming" in args:
        config = "FrozenLake-v1"
    code, _, err = gymrun("run", config, "--no-record", "-q", *args)
    assert (code, err) == (2, f"error: {said}\n")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--set", "name=a\udcff"], "--set name=a\\xff"),
        (["--set", "n\udcff=3"], "--set n\\xff=3"),
        (["-a", "x\udcff"], "--agent x\\xff"),
        (["-W", "x\udcff"], "--wrapper x\\xff"),
        (["--dataset", "x\udcff"], "--dataset x\\xff"),
    ],
)
def test_a_byte_that_is_not_utf8_on_the_command_line_is_named_with_its_option(
    args: list[str], said: str
) -> None:
    # Python keeps a command line's undecodable byte (0xff) as a lone surrogate
    config = str(CONFIGS / "cartpole_random.yaml")
    code, _, err = gymrun("run", config, "--no-record", "-q", *args)
    assert (code, err) == (2, f"error: {said}: not UTF-8 text (byte 0xff); a config is UTF-8\n")
