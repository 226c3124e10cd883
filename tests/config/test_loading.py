import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from gymrun.config import ExperimentConfig, config_schema, load_config
from gymrun.config.wording import options_named
from gymrun.config.yaml_source import read_yaml
from gymrun.duel import load_duel
from gymrun.errors import ConfigError
from gymrun.sweep import load_sweep
from tests.support.board_runs import episode_rewards
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import run_gymrun

WriteConfig = Callable[..., Path]


def problems(path: Path, *overrides: str, **shortcuts: Any) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_config(path, list(overrides), **shortcuts)
    return [str(p) for p in exc.value.problems]


def test_full_config_loads(write_config: WriteConfig) -> None:
    path = write_config(
        """
        name: cartpole-epsilon
        env: {id: CartPole-v1, kwargs: {sutton_barto_reward: true}, max_episode_steps: 200}
        wrappers:
          - name: epsilon_random
            epsilon: 0.5
          - name: scale_reward
            scale: 0.01
          - name: frame_stack
            stack_size: 4
          - ClipReward
        agent:
          name: constant
          action: 0
        episodes: 7
        seed: 42
        reward_boundary: 195
        max_steps: 100
        """
    )
    config = load_config(path)
    assert config.name == "cartpole-epsilon"
    assert config.env.kwargs == {"sutton_barto_reward": True}
    assert config.env.max_episode_steps == 200
    assert config.wrapper_stack == [
        ("epsilon_random", {"epsilon": 0.5}),
        ("scale_reward", {"scale": 0.01}),
        ("frame_stack", {"stack_size": 4, "padding_type": "reset"}),
        ("ClipReward", {}),
    ]
    assert (config.agent.name, config.agent_options) == ("constant", {"action": 0})
    assert (config.episodes, config.seed, config.reward_boundary, config.max_steps) == (
        7,
        42,
        195.0,
        100,
    )


def test_defaults_and_shorthands(write_config: WriteConfig) -> None:
    config = load_config(write_config("env: CartPole-v1\n", name="my run!.yaml"))
    assert config.name == "my-run-"  # the file's stem, made safe for a directory name
    assert config.env.id == "CartPole-v1"
    assert config.agent.name == "random"
    assert (config.episodes, config.seed, config.reward_boundary) == (100, None, None)


def test_every_problem_is_reported_at_once_with_file_line_and_key(
    write_config: WriteConfig,
) -> None:
    path = write_config(
        """
        env: CartPol-v1
        wrappers:
          - name: epsilon_random
            epsilon: 1.5
          - name: scale_rewrd
            scale: 0.1
          - name: ClipReward
            min_rewrd: 0
          - name: frame_stack
            stack_size: 0
        agent:
          name: constnt
        episods: 10
        seed: -1
        max_steps: true
        """
    )
    assert problems(path) == [
        f"{path}:1 env.id: unknown environment 'CartPol-v1'; did you mean 'CartPole-v1'? "
        "(see gymrun list-envs)",
        f"{path}:4 wrappers.0.epsilon: Input should be less than or equal to 1",
        f"{path}:5 wrappers.1.name: unknown wrapper 'scale_rewrd'; did you mean 'scale_reward'? "
        "(use one of gymrun's, a gymnasium.wrappers class name, or 'package.module:Class')",
        f"{path}:8 wrappers.2.min_rewrd: unexpected keyword 'min_rewrd' for ClipReward; "
        "did you mean 'min_reward'? (accepts: min_reward, max_reward)",
        f"{path}:10 wrappers.3.stack_size: Input should be greater than or equal to 1",
        f"{path}:12 agent.name: unknown agent 'constnt'; did you mean 'constant'? "
        "(use one of random, constant, sequence, cartpole_balance, sb3, onnx, rlzoo, heuristic, "
        "dynamic_programming, lqr, planner or 'package.module:attr')",
        f"{path}:13 episods: unknown key; did you mean 'episodes'?",
        f"{path}:14 seed: Input should be greater than or equal to 0",
        f"{path}:15 max_steps: expected an integer, not true",
    ]


@pytest.mark.parametrize(
    ("key", "told"),
    [
        ("env_kwargs", "an environment's keywords go under env: {id: ID, kwargs: {...}}"),
        ("n_envs", "a vector run is vector: {num_envs: N}"),
        ("seeds", "several seeds are a sweep: sweep: {seeds: [...]}"),
        ("n_eval_episodes", "the number of episodes is episodes: N"),
        ("policy", "what acts is agent: (a name, or {name: sb3, path: FILE} for a trained model)"),
    ],
)
def test_a_key_of_another_tool_says_where_gymrun_takes_it(
    write_config: WriteConfig, key: str, told: str
) -> None:
    # rl-zoo3's and SB3's names: a near miss of gymrun's own (n_envs to env, seeds to seed)
    # would point the wrong way
    path = write_config(f"env: CartPole-v1\n{key}: 3\n")
    assert problems(path) == [f"{path}:2 {key}: unknown key; {told}"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "env: CartPole-v1\nepisodes: 0\n",
            ":2 episodes: Input should be greater than or equal to 1",
        ),
        ("env: CartPole-v1\nepisodes: '10'\n", ":2 episodes: expected an integer, not '10'"),
        ("env: CartPole-v1\nepisodes: true\n", ":2 episodes: expected an integer, not true"),
        ("env: CartPole-v1\nseed: 1.5\n", ":2 seed: expected an integer, not 1.5"),
        # YAML reads 1e3 as a float: the message says so, and how to write the integer
        (
            "env: CartPole-v1\nepisodes: 1e3\n",
            ":2 episodes: expected an integer, not 1000.0; write 1000",
        ),
        ("env: CartPole-v1\nwrappers:\n", ":2 wrappers: expected a list, not nothing"),
        (
            "env: CartPole-v1\nwrappers: [{name: epsilon_random, epsilon: [0.1]}]\n",
            ":2 wrappers.0.epsilon: expected a number, not a list",
        ),
        (
            "env: CartPole-v1\nwrappers:\n  - name: epsilon_random\n    epsilon: -0.1\n",
            ":4 wrappers.0.epsilon: Input should be greater than or equal to 0",
        ),
        (
            "env: CartPole-v1\nwrappers:\n  - name: epsilon_random\n    epsilon: 0.1\n    x: 1\n",
            ":5 wrappers.0.x: unknown key",
        ),
        (
            "env: CartPole-v1\nwrappers:\n  - name: TransformReward\n",
            ":3 wrappers.0: TransformReward needs 'func'",
        ),
        # numpy's annotations: a number or a list may be one, text never
        (
            "env: CartPole-v1\nwrappers:\n  - ClipReward: {min_reward: zero, max_reward: 1}\n",
            ":3 wrappers.0.min_reward: min_reward of ClipReward takes a number or an array "
            "(a list) or null, not 'zero'",
        ),
        (
            "env: Pendulum-v1\nwrappers:\n  - name: RescaleAction\n    min_action: low\n"
            "    max_action: 1\n",
            ":4 wrappers.0.min_action: min_action of RescaleAction takes a number or an array "
            "(a list), not 'low'",
        ),
        (
            "env: CartPole-v1\nwrappers: {name: frame_stack}\n",
            ":2 wrappers: expected a list, not a mapping",
        ),
        (
            "env: CartPole-v1\nagent:\n  name: constant\n",
            ":2 agent.action: required key is missing",
        ),
        (
            "env: CartPole-v1\nagent:\n  name: sequence\n  actions: []\n",
            ":4 agent.actions: List should have at least 1 item after validation, not 0",
        ),
        ("env: CartPole-v1\nagent:\n  name: random\n  action: 1\n", ":4 agent.action: unknown key"),
        (
            "env: {id: CartPole-v1, kwarg: {}}\n",
            ":1 env.kwarg: unknown key; did you mean 'kwargs'?",
        ),
        (
            "env: {id: CartPole-v1, max_episode_steps: 0}\n",
            ":1 env.max_episode_steps: Input should be greater than or equal to 1",
        ),
        ("name: 'a/b'\nenv: CartPole-v1\n", ":1 name: String should match pattern"),
        (
            "env: CartPole-v1\nmetrics:\n  - {name: x, key: dist, reduce: meen}\n",
            ":3 metrics.0.reduce: unknown reduce 'meen'; did you mean 'mean'? (use "
            "one of last, sum, mean, max)",
        ),
        (
            "env: CartPole-v1\nmetrics: [is_success, reward]\n",
            ":2 metrics.1.name: 'reward' is a field of every episode already",
        ),
        (
            "env: CartPole-v1\nmetrics:\n  - is_success\n  - {name: is_success, key: x}\n",
            ":4 metrics.1.name: 'is_success' is named twice (metrics.0 too)",
        ),
        ("env: CartPole-v1\nmetrics: [a.b]\n", ":2 metrics.0.name: String should match pattern"),
        (
            "env: CartPole-v1\nmetrics: is_success\n",
            ":2 metrics: expected a list, not 'is_success'",
        ),
        ("env: CartPole-v1\nmetrics: [{key: x}]\n", ":2 metrics.0.name: required key is missing"),
        ("agent: random\n", " env: required key is missing"),
        # a key YAML reads as a number or null, at its line, not taken for a line number
        (
            "env: CartPole-v1\n1: 2\n",
            ":2: the key 1 is read as a number; keys are names (quote it: '1')",
        ),
        ("env: CartPole-v1\n~: 2\n", ":2: the key ~ is read as null; keys are names"),
        ("env: CartPole-v1\nrecord: {true: 2}\n", ":2 record: the key true is read as true"),
        # a section given as something else: what it is written as, not a class's name
        (
            "env: 5\n",
            ":1 env: expected an environment ID (CartPole-v1) or a mapping with id:, not 5",
        ),
        (
            "env:\n",
            ":1 env: expected an environment ID (CartPole-v1) or a mapping with id:, not nothing",
        ),
        ("env: [CartPole-v1]\n", ":1 env: expected an environment ID (CartPole-v1) or a mapping"),
        (
            "env: CartPole-v1\nagent: [random]\n",
            ":2 agent: expected an agent's name (random) or a mapping with name: and its "
            "keywords, not a list",
        ),
        (
            "env: CartPole-v1\nwrappers: [5]\n",
            ":2 wrappers.0: expected a wrapper's name (TimeLimit) or a mapping with name: and "
            "its keywords, not 5",
        ),
        ("env: CartPole-v1\nmetrics: [5]\n", ":2 metrics.0: expected a metric's name"),
        ("env: CartPole-v1\nrecord: 5\n", ":2 record: expected a mapping of its keys, not 5"),
        (
            "env: CartPole-v1\nvector: {num_envs: 2, mode: foo}\n",
            ":2 vector.mode: unknown vector mode 'foo' (use one of sync, async",
        ),
        (
            "env: cartpole-v1\n",
            ":1 env.id: unknown environment 'cartpole-v1'; did you mean 'CartPole-v1'?",
        ),
    ],
)
def test_rejections(write_config: WriteConfig, text: str, expected: str) -> None:
    path = write_config(text)
    found = problems(path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{path}{expected}")


def test_a_wrapper_written_as_rl_zoo3_writes_env_wrapper_is_that_wrapper(
    write_config: WriteConfig,
) -> None:
    path = write_config(
        """
        env: CartPole-v1
        wrappers:
          - ClipReward: {min_reward: 0, max_reward: 1}
          - TimeLimit:
              max_episode_steps: 50
          - FlattenObservation:
        """
    )
    config = load_config(path, ["wrappers.0.max_reward=0.5"])
    assert config.wrapper_stack == [
        ("ClipReward", {"min_reward": 0, "max_reward": 0.5}),
        ("TimeLimit", {"max_episode_steps": 50}),
        ("FlattenObservation", {}),
    ]
    # a keyword's mistake is told at its own line, under the key it has spelt out
    bad = write_config(
        """
        env: CartPole-v1
        wrappers:
          - TimeLimit:
              max_episode_stps: 50
          - frame_stack: {stack_size: 0}
        """
    )
    assert problems(bad) == [
        f"{bad}:4 wrappers.0.max_episode_stps: unexpected keyword 'max_episode_stps' for "
        "TimeLimit; did you mean 'max_episode_steps'? (accepts: max_episode_steps)",
        f"{bad}:5 wrappers.1.stack_size: Input should be greater than or equal to 1",
    ]


@pytest.mark.parametrize(
    ("text", "told"),
    [
        (
            "env: CartPole-v1\nwrappers: [gymnasium.wrappers.ClipReward]\n",
            ":2 wrappers.0.name: unknown wrapper 'gymnasium.wrappers.ClipReward'; "
            "did you mean 'gymnasium.wrappers:ClipReward'?",
        ),
        (
            "env: CartPole-v1\nwrappers:\n  - rl_zoo3.wrappers.HistoryWrapper: {horizon: 2}\n",
            ":3 wrappers.0.name: unknown wrapper 'rl_zoo3.wrappers.HistoryWrapper'; "
            "did you mean 'rl_zoo3.wrappers:HistoryWrapper'?",
        ),
        (
            "env: CartPole-v1\nagent: my_agents.Greedy\n",
            ":2 agent.name: unknown agent 'my_agents.Greedy'; did you mean 'my_agents:Greedy'?",
        ),
        (
            "env: my_envs.Corridor\n",
            ":1 env.id: unknown environment 'my_envs.Corridor'; did you mean 'my_envs:Corridor'?",
        ),
    ],
)
def test_a_name_with_a_dot_where_its_module_ends_is_told_its_spelling(
    write_config: WriteConfig, text: str, told: str
) -> None:
    path = write_config(text)
    code, out, err = gymrun("validate", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {path}{told} (")
    assert err.count("\n") == 1


def test_a_sweep_goes_over_a_wrapper_written_by_its_name_alone(write_config: WriteConfig) -> None:
    path = write_config(
        """
        env: CartPole-v1
        wrappers:
          - ClipReward: {min_reward: 0, max_reward: 1}
        sweep:
          wrappers.0.max_reward: [0.5, 1]
        """
    )
    sweep = load_sweep(path)
    assert [run.config.wrapper_stack[0][1]["max_reward"] for run in sweep.runs] == [0.5, 1]
    over = write_config(
        """
        env: CartPole-v1
        sweep:
          wrappers: [[{TimeLimit: {max_episode_steps: 5}}], [ClipReward: {max_reward: 1}]]
        """
    )
    assert [run.config.wrapper_stack for run in load_sweep(over).runs] == [
        [("TimeLimit", {"max_episode_steps": 5})],
        [("ClipReward", {"max_reward": 1})],
    ]


def test_a_misspelt_key_is_reported_with_the_missing_one(write_config: WriteConfig) -> None:
    path = write_config("env: CartPole-v1\nwrappers:\n  - name: epsilon_random\n    epsilom: 0.1\n")
    assert problems(path) == [
        f"{path}:3 wrappers.0.epsilon: required key is missing",
        f"{path}:4 wrappers.0.epsilom: unknown key; did you mean 'epsilon'?",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "- env: CartPole-v1\n",
            "a config must be a mapping of keys (env, agent, ...), not a list",
        ),
        ("just text\n", "a config must be a mapping of keys (env, agent, ...), not a str"),
        ("# nothing\n", "the config is empty"),
    ],
)
def test_a_config_must_be_a_mapping(write_config: WriteConfig, text: str, expected: str) -> None:
    assert expected in problems(write_config(text))[0]


def test_user_modules_that_do_not_import_are_rejected(
    write_config: WriteConfig, user_module: Callable[[str], str]
) -> None:
    broken = user_module("import not_a_real_package\n")
    path = write_config(
        f"""
        env: CartPole-v1
        wrappers:
          - name: "{broken}:Wrapper"
        agent:
          name: "no_such_module_anywhere:Agent"
        """
    )
    assert problems(path) == [
        f"{path}:3 wrappers.0.name: cannot import module '{broken}': "
        "No module named 'not_a_real_package'",
        f"{path}:5 agent.name: cannot import module 'no_such_module_anywhere': no installed "
        "package has it, and there is no no_such_module_anywhere.py or no_such_module_anywhere/ "
        f"in {path.parent}",  # the config's directory, which is also the working directory here
    ]


def test_user_agent_options_are_checked_against_its_constructor(
    write_config: WriteConfig, user_module: Callable[[str], str]
) -> None:
    module = user_module(
        """
        class Greedy:
            def __init__(self, action_space, temperature=1.0):
                self.temperature = temperature
            def act(self, observation):
                return 0

        def policy(observation):
            return 0
        """
    )
    ok = write_config(f"env: CartPole-v1\nagent:\n  name: {module}:Greedy\n  temperature: 0.5\n")
    assert load_config(ok).agent_options == {"temperature": 0.5}
    bad = write_config(f"env: CartPole-v1\nagent:\n  name: {module}:Greedy\n  temprature: 0.5\n")
    assert problems(bad) == [
        f"{bad}:4 agent.temprature: unexpected keyword 'temprature' for Greedy; "
        "did you mean 'temperature'? (accepts: temperature)"
    ]
    function = write_config(f"env: CartPole-v1\nagent:\n  name: {module}:policy\n  x: 1\n")
    assert problems(function) == [
        f"{function}:4 agent.x: {module}:policy is not a class, so it takes no options (x)"
    ]
    missing = write_config(f"env: CartPole-v1\nagent: {module}:Greedyy\n")
    assert problems(missing) == [
        f"{missing}:2 agent.name: '{module}' has no attribute 'Greedyy'; did you mean 'Greedy'?"
    ]


def test_overrides_and_shortcuts(write_config: WriteConfig) -> None:
    config = load_config(
        CONFIGS / "cartpole_epsilon.yaml",
        [
            "wrappers.0.epsilon=0.2",
            "env.max_episode_steps=50",
            "agent.action=1",
            "wrappers.1=FlattenObservation",
            "reward_boundary=10.5",
        ],
        episodes=3,
        seed=9,
    )
    assert config.wrapper_stack == [
        ("epsilon_random", {"epsilon": 0.2}),
        ("FlattenObservation", {}),
    ]
    assert config.env.max_episode_steps == 50
    assert config.agent_options == {"action": 1}
    assert (config.episodes, config.seed, config.reward_boundary) == (3, 9, 10.5)
    # a whole section can be replaced, shorthand included
    config = load_config(CONFIGS / "cartpole_epsilon.yaml", ["agent=random", "env=Acrobot-v1"])
    assert (config.agent.name, config.env.id) == ("random", "Acrobot-v1")


def test_bad_overrides_name_the_option(write_config: WriteConfig) -> None:
    path = CONFIGS / "cartpole_epsilon.yaml"
    with options_named():  # as the command line loads a config
        assert problems(path, "wrappers.0.epsilon=2") == [
            "--set wrappers.0.epsilon=2 wrappers.0.epsilon: Input should be less than or equal to 1"
        ]
        assert problems(path, "wrappers.3.epsilon=0.1", "episodes.x=2", "nokey", "seed=[1") == [
            "--set wrappers.3.epsilon=0.1: wrappers.3 does not exist (the list has 1 item)",
            "--set episodes.x=2: episodes is the value 100; it has no key 'x'",
            "--set nokey: expected KEY=VALUE, e.g. episodes=10",
            "--set seed=[1 seed: invalid YAML: while parsing a flow sequence expected ',' or ']', "
            "but got '<stream end>'",
        ]
        assert problems(path, "epsilon=0.3") == ["--set epsilon=0.3 epsilon: unknown key"]
        assert problems(path, "seed=-4") == [
            "--set seed=-4 seed: Input should be greater than or equal to 0"
        ]


def test_an_override_without_a_value_is_refused_not_taken_as_null(tmp_path: Path) -> None:
    # `--set seed=$SEED` with SEED unset: a seed drawn in silence would not repeat the run
    config = str(CONFIGS / "cartpole_random.yaml")
    code, out, err = gymrun("run", config, "-n", "2", "--set", "seed=", "-o", "run")
    assert (code, out) == (2, "")
    assert err == "error: --set seed=: no value after '='; write seed=null to unset seed\n"
    assert not (tmp_path / "run").exists()
    assert gymrun("run", config, "-n", "2", "--set", "seed=null", "--no-record", "-q")[0] == 0


def test_a_library_call_names_what_it_was_passed() -> None:
    path = CONFIGS / "cartpole_random.yaml"
    assert problems(path, episodes=0) == [
        "episodes=0 episodes: Input should be greater than or equal to 1"
    ]
    assert problems(path, num_envs=0) == [
        "num_envs=0 vector.num_envs: Input should be greater than or equal to 1"
    ]
    assert problems(path, "seed=1", "nokey") == [
        "overrides[1] 'nokey': expected KEY=VALUE, e.g. episodes=10"
    ]
    assert problems(path, "seed=-4") == [
        "overrides[0] 'seed=-4' seed: Input should be greater than or equal to 0"
    ]
    assert problems(path, agent="constant") == [
        "agent='constant' agent.action: required key is missing "
        "(add 'agent.action=VALUE' to overrides)"
    ]
    assert problems(path, wrappers=["epsilon_random"]) == [
        "wrappers=['epsilon_random'] wrappers.0.epsilon: required key is missing "
        "(add 'wrappers.0.epsilon=VALUE' to overrides)"
    ]
    # the command line names its options for the same mistakes
    args = ["run", str(path), "-q", "--no-record"]
    code, _, err = gymrun(*args, "-a", "constant", "-W", "epsilon_random", "--set", "seed=-4")
    assert code == 2
    assert err.splitlines() == [
        "error: --wrapper epsilon_random wrappers.0.epsilon: required key is missing "
        "(add --set wrappers.0.epsilon=VALUE)",
        "error: --agent constant agent.action: required key is missing "
        "(add --set agent.action=VALUE)",
        "error: --set seed=-4 seed: Input should be greater than or equal to 0",
    ]


def test_every_shipped_config_validates() -> None:
    for path in sorted(CONFIGS.glob("*.yaml")):
        if "sweep" in (read_yaml(path).data or {}):  # a sweep's: each of its points is one
            assert load_sweep(path).runs, path
        else:
            assert isinstance(load_config(path), ExperimentConfig), path


def test_schema_describes_the_config() -> None:
    schema = config_schema()
    assert schema["title"] == "gymrun experiment"
    assert schema["required"] == ["env"]
    assert schema["additionalProperties"] is False
    assert {"env", "wrappers", "agent", "episodes", "seed", "reward_boundary", "max_steps"} <= set(
        schema["properties"]
    )
    epsilon = schema["$defs"]["EpsilonRandomConfig"]["properties"]["epsilon"]
    assert (epsilon["minimum"], epsilon["maximum"]) == (0.0, 1.0)


def test_imports_register_third_party_environments_first(
    write_config: WriteConfig, user_module: Callable[[str], str]
) -> None:
    module = user_module(
        """
        import gymnasium as gym
        from gymnasium.envs.classic_control import CartPoleEnv

        gym.register(id="ThirdParty/Pole-v0", entry_point=CartPoleEnv, max_episode_steps=50)
        """
    )
    path = write_config(f"imports: [{module}]\nenv: ThirdParty/Pole-v0\n")
    assert load_config(path).imports == [module]
    missing = write_config("imports: [no_such_plugin_module]\nenv: CartPole-v1\n")
    assert problems(missing) == [
        f"{missing}:1 imports.0: cannot import module 'no_such_plugin_module': no installed "
        "package has it, and there is no no_such_plugin_module.py or no_such_plugin_module/ "
        f"in {missing.parent}"
    ]


def test_an_env_class_by_module_path(
    write_config: WriteConfig, user_module: Callable[[str], str]
) -> None:
    from gymrun import run_experiment

    module = user_module(
        """
        import gymnasium as gym
        import numpy as np

        class Hallway(gym.Env):
            observation_space = gym.spaces.Box(0, 10, (1,))
            action_space = gym.spaces.Discrete(2)

            def reset(self, *, seed=None, options=None):
                super().reset(seed=seed)
                self.position = 0
                return np.zeros(1, dtype=np.float32), {}

            def step(self, action):
                self.position += 1
                done = self.position >= 3
                return np.full(1, self.position, dtype=np.float32), 1.0, done, False, {}
        """
    )
    config = load_config(write_config(f"env: '{module}:Hallway'\nepisodes: 2\nmax_steps: 10\n"))
    result = run_experiment(config)
    assert [(e.reward, e.steps) for e in result.episodes] == [(3.0, 3), (3.0, 3)]


def test_an_env_path_to_something_else_than_an_env_says_so(
    write_config: WriteConfig, user_module: Callable[[str], str]
) -> None:
    module = user_module("class Agent:\n    pass\n")
    config = write_config(f"env: '{module}:Agent'\n")
    assert problems(config) == [
        f"{config}:1 env.id: '{module}:Agent' is not a gymnasium.Env subclass"
    ]
    code, out, err = gymrun("run", f"{module}:Agent", "--no-record")
    assert (code, out) == (2, "")
    said = f"'{module}:Agent' is not a gymnasium.Env subclass"
    assert err == f"error: {module}:Agent: not a config file, and {said}\n"


def test_a_directory_named_like_an_env_id_does_not_stop_the_env_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("CartPole-v1").mkdir()
    code, out, err = gymrun("run", "CartPole-v1", "-n", "2", "--seed", "0", "--no-record", "--json")
    assert code == 0, err
    assert json.loads(out)["config"]["env"]["id"] == "CartPole-v1"
    Path("Nope-v1").mkdir()
    code, _, err = gymrun("run", "Nope-v1")
    assert code == 2 and err.startswith(
        "error: Nope-v1: not a config file, and unknown environment"
    )


def test_a_config_read_from_an_endless_device_stops_at_the_limit() -> None:
    code, _, err = gymrun("validate", "/dev/zero")
    assert (code, err.strip()) == (
        2,
        "error: /dev/zero: file is larger than 1,000,000 bytes, the limit for a config",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "env: " + "[" * 5000 + "]" * 5000 + "\n",
            "nested 5000 levels deep; a config has at most 64",
        ),
        ("env: CartPole-v1\nseed: " + "7" * 5000 + "\n", "a number has more than 4,300 digits"),
        (
            "env: CartPole-v1\nseed: 18446744073709551616\n",
            "seed: Input should be less than or equal to 18446744073709551615",
        ),
        (
            "env: CartPole-v1\nepisodes: 3\nepisodes: 4\n",
            ":3: invalid YAML: key 'episodes' is given twice (lines 2 and 3)",
        ),
        (
            "env: CartPole-v1\nreward_boundary: .nan\n",
            "reward_boundary: Input should be a finite number",
        ),
    ],
)
def test_odd_input_is_one_line_and_exit_2(
    write_config: WriteConfig, text: str, expected: str
) -> None:
    code, _, err = gymrun("run", str(write_config(text)), "--no-record")
    assert code == 2
    assert expected in err and len(err.strip().splitlines()) == 1


def test_a_whole_number_written_as_a_float_is_told_how_to_write_it(
    write_config: WriteConfig,
) -> None:
    write_config("env: CartPole-v1\nepisodes: 1e3\n", "float.yaml")
    told = "error: float.yaml:2 episodes: expected an integer, not 1000.0; write 1000\n"
    assert gymrun("validate", "float.yaml") == (2, "", told)
    assert gymrun("run", "float.yaml", "--set", "seed=1e3") == (
        2,
        "",
        told + "error: --set seed=1e3 seed: expected an integer, not 1000.0; write 1000\n",
    )


def test_yaml_1_1_numbers_are_refused_by_every_command(write_config: WriteConfig) -> None:
    write_config("env: CartPole-v1\nagent: random\nepisodes: 010\nseed: 0\n", "run.yaml")
    expected = (
        "error: run.yaml:3 episodes: 010 is 8 in YAML 1.1 and 10 in YAML 1.2; write 10 or 8\n"
    )
    for command in ("validate", "run"):
        code, out, err = gymrun(command, "run.yaml")
        assert (code, out, err) == (2, "", expected), command
    # the same values in overrides
    path = write_config("env: CartPole-v1\nagent: random\nepisodes: 2\n", "ok.yaml")
    code, out, err = gymrun("run", "ok.yaml", "--set", "episodes=10", "--set", "seed=1:30")
    assert (code, out) == (2, "")
    assert err == (
        "error: --set seed=1:30 seed: 1:30 is 90 in YAML 1.1 and the string '1:30' in YAML 1.2;"
        " write 90 or '1:30'\n"
    )
    code, out, err = gymrun("run", str(path), "--set", "record={video: on}", "--no-record")
    assert code == 2
    assert err.endswith(
        " record.video: on is true in YAML 1.1 and the string 'on' in YAML 1.2;"
        " write true or 'on'\n"
    )


def test_yaml_1_2_numbers_are_numbers(write_config: WriteConfig) -> None:
    write_config(
        """
        env: CartPole-v1
        agent: random
        wrappers:
          - name: scale_reward
            scale: 1e-3
        episodes: 0o3
        seed: 0
        """,
        "run.yaml",
    )
    code, out, err = gymrun("validate", "run.yaml")
    assert (code, err) == (0, "")
    assert "3 episodes" in out
    config = load_config("run.yaml")
    assert (config.episodes, config.wrappers[0].scale) == (3, 0.001)


def test_a_number_too_long_for_python_has_its_line(write_config: WriteConfig) -> None:
    write_config("env: CartPole-v1\nseed: " + "7" * 5000 + "\n", "big.yaml")
    code, out, err = gymrun("validate", "big.yaml")
    assert (code, out) == (2, "")
    assert err == (
        "error: big.yaml:2 seed: a number has more than 4,300 digits, more than Python reads\n"
    )


def test_an_env_keyword_the_env_does_not_take_gets_its_near_miss(
    write_config: WriteConfig,
) -> None:
    path = write_config("env:\n  id: FrozenLake-v1\n  kwargs:\n    is_slipery: true\n")
    accepts = "render_mode, desc, map_name, is_slippery, success_rate, reward_schedule"
    assert problems(path) == [
        f"{path}:4 env.kwargs.is_slipery: unexpected keyword 'is_slipery' for FrozenLakeEnv; "
        f"did you mean 'is_slippery'? (accepts: {accepts})"
    ]
    code, _, err = gymrun("run", "FrozenLake-v1", "--set", "env.kwargs.is_slipery=true")
    assert (code, err) == (
        2,
        "error: --set env.kwargs.is_slipery=true env.kwargs.is_slipery: unexpected keyword "
        f"'is_slipery' for FrozenLakeEnv; did you mean 'is_slippery'? (accepts: {accepts})\n",
    )
    assert not Path("recordings").exists()
    # the keywords it does take are made as before
    config = load_config(write_config("env: {id: FrozenLake-v1, kwargs: {is_slippery: false}}"))
    assert config.env.kwargs == {"is_slippery": False}


def test_metrics_are_names_or_mappings_and_not_recorded_when_not_given(
    write_config: WriteConfig,
) -> None:
    path = write_config(
        "env: CartPole-v1\nmetrics: [is_success, {name: dist, key: distance, reduce: mean}]\n"
    )
    assert load_config(path).to_json()["metrics"] == [
        {"name": "is_success", "key": None, "reduce": "last"},
        {"name": "dist", "key": "distance", "reduce": "mean"},
    ]
    # a config without the key records as it always did: grouped and resumed with older runs
    assert "metrics" not in load_config(write_config("env: CartPole-v1\n")).to_json()
    assert load_config(write_config("env: CartPole-v1\nmetrics: []\n")).to_json()["metrics"] == []


@pytest.mark.parametrize(
    ("agent", "said"),
    [
        (
            "{name: planner, horizon: 2, population: 1000000000000, iterations: 1}",
            "agent.population: Input should be less than or equal to 100000",
        ),
        (
            "{name: planner, horizon: 1000, population: 50000}",
            "agent.population: population x horizon is 50,000,000 planned steps; at most "
            "10,000,000 are held at once",
        ),
        (
            "{name: dynamic_programming, horizon: 1000000000000}",
            "agent.horizon: Input should be less than or equal to 100000",
        ),
    ],
)
def test_an_agent_too_large_to_build_is_refused_before_memory_is_spent(
    write_config: WriteConfig, agent: str, said: str
) -> None:
    env = "FrozenLake-v1" if "dynamic" in agent else "Pendulum-v1"
    path = write_config(f"env: {env}\nagent: {agent}\n")
    code, out, err = gymrun("validate", str(path))
    assert (code, out, err) == (2, "", f"error: {path}:2 {said}\n")


@pytest.mark.parametrize("overrides", ["episodes=3", {"episodes": 3}])
def test_overrides_given_as_one_string_or_a_mapping_are_refused_by_name(
    overrides: object,
) -> None:
    with pytest.raises(TypeError, match=r"^overrides must be a sequence of 'KEY=VALUE' strings"):
        load_config(CONFIGS / "cartpole_random.yaml", overrides)  # type: ignore[arg-type]


# -- a relative path of a file the agent reads: from the config's folder when the file wrote
# it, from the working directory when the command line (or a library call) gave it


@pytest.fixture
def model_in_each_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A working directory (this test's) and a config folder beside it, ``configs/eval.yaml``
    naming ``models/model.zip``. Where each path is to be read from there is a model; where it
    is not, a file of the same name that is none, so a run that reads the wrong one fails."""
    work, folder = tmp_path / "work", tmp_path / "configs"
    for directory in (work / "models", folder / "models"):
        directory.mkdir(parents=True)
    shutil.copy(CONFIGS / "models" / "cartpole_ppo.zip", work / "model.zip")
    shutil.copy(CONFIGS / "models" / "cartpole_ppo.zip", folder / "models" / "model.zip")
    (folder / "model.zip").write_bytes(b"not a model")
    (work / "models" / "model.zip").write_bytes(b"not a model")
    agent = "agent: {name: sb3, path: models/model.zip}"
    (folder / "eval.yaml").write_text(f"env: CartPole-v1\n{agent}\nepisodes: 2\nseed: 0\n")
    monkeypatch.chdir(work)
    return work.resolve(), folder.resolve()


def test_a_model_path_given_by_set_is_read_from_the_working_directory(
    model_in_each_folder: tuple[Path, Path],
) -> None:
    work, folder = model_in_each_folder
    typed = run_gymrun("run", "../configs/eval.yaml", "--set", "agent.path=model.zip", "-o", "a")
    assert typed.returncode == 0, typed.stderr
    recorded = yaml.safe_load((work / "a" / "config.yaml").read_text())
    assert recorded["agent"]["path"] == str(work / "model.zip")
    # the same relative path written in the config is the config folder's
    written = run_gymrun("run", "../configs/eval.yaml", "-o", "b")
    assert written.returncode == 0, written.stderr
    recorded = yaml.safe_load((work / "b" / "config.yaml").read_text())
    assert Path(recorded["agent"]["path"]).resolve() == folder / "models" / "model.zip"
    # the recorded config repeats the run from another working directory
    again = run_gymrun("run", str(work / "a" / "config.yaml"), "-o", "again", cwd=folder)
    assert again.returncode == 0, again.stderr
    assert episode_rewards(folder / "again") == episode_rewards(work / "a")
    missing = run_gymrun("run", "../configs/eval.yaml", "--set", "agent.path=no.zip", "--no-record")
    said = f"--set agent.path=no.zip agent.path: agent sb3: no such file: {work}/no.zip"
    assert (missing.returncode, missing.stderr) == (2, f"error: {said}\n")


def test_paths_a_caller_gives_are_read_from_the_working_directory_in_sweeps_and_duels(
    model_in_each_folder: tuple[Path, Path],
) -> None:
    work, folder = model_in_each_folder
    config = folder / "eval.yaml"
    here, there = str(work / "model.zip"), str(folder / "models" / "model.zip")
    assert load_config(config, ["agent.path=model.zip"]).agent.path == here
    duel = load_duel(config, config, ["agent.path=model.zip"])
    assert (duel.a.agent.path, duel.b.agent.path) == (here, here)
    # a sweep's grid is the file's own text, unless --set gives it
    swept = config.with_name("swept.yaml")
    swept.write_text(config.read_text() + "sweep: {agent.path: [models/model.zip]}\n")
    assert {run.config.agent.path for run in load_sweep(swept).runs} == {there}
    given = load_sweep(swept, ["sweep.agent.path=[model.zip]"])
    assert {run.config.agent.path for run in given.runs} == {here}
    given = load_sweep(config, ["sweep={agent.deterministic: [true, false]}"])
    assert {run.config.agent.path for run in given.runs} == {there}
