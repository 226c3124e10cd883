from collections.abc import Callable

import gymnasium as gym
import numpy as np
import pytest

from gymrun.components.agents import CartPoleBalance, RandomAgent, SequenceAgent, make_agent
from gymrun.components.seeding import EpisodeSeeds
from gymrun.components.spaces import space_label, to_action, value_label
from gymrun.errors import AgentError
from tests.support.loop import rollout

DISCRETE = gym.spaces.Discrete(3)
BOX = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)


def test_random_agent_is_seeded_and_leaves_the_env_space_alone() -> None:
    space = gym.spaces.Discrete(4)
    space.seed(0)
    expected = [space.sample() for _ in range(5)]
    space.seed(0)
    agent = RandomAgent(space)
    agent.reset(7)
    first = [agent.act(None) for _ in range(20)]
    agent.reset(7)
    assert [agent.act(None) for _ in range(20)] == first
    assert set(first) == {0, 1, 2, 3}
    assert [space.sample() for _ in range(5)] == expected


def test_sequence_cycles_and_restarts_each_episode() -> None:
    agent = SequenceAgent(DISCRETE, actions=[2, 0])
    assert [agent.act(None) for _ in range(3)] == [2, 0, 2]
    agent.reset(0)
    assert agent.act(None) == 2


@pytest.mark.parametrize(
    ("space", "value", "expected"),
    [
        (DISCRETE, 2, 2),
        (BOX, [0.5, -1.0], np.array([0.5, -1.0], np.float32)),
        (gym.spaces.MultiDiscrete([2, 3]), [1, 2], np.array([1, 2])),
        (gym.spaces.Tuple([DISCRETE, DISCRETE]), [1, 2], (1, 2)),
        (gym.spaces.Dict({"a": DISCRETE}), {"a": 1}, {"a": 1}),
    ],
)
def test_yaml_values_become_actions(space: gym.Space, value: object, expected: object) -> None:
    action = to_action(space, value, "action")
    assert space.contains(action)
    np.testing.assert_equal(action, expected)


@pytest.mark.parametrize(
    ("space", "value"),
    [
        (DISCRETE, 3),
        (DISCRETE, True),
        (DISCRETE, "1"),
        (BOX, [2.0, 0.0]),
        (BOX, [0.0]),
        (BOX, "left"),
    ],
)
def test_actions_outside_the_space_are_refused(space: gym.Space, value: object) -> None:
    with pytest.raises(AgentError) as exc:
        make_agent("constant", {"action": value}, space, None)
    assert str(exc.value) == f"agent.action: {value!r} is not an action of {space}"


def test_cartpole_balance_refuses_other_observations() -> None:
    with pytest.raises(AgentError, match="cartpole_balance needs CartPole's observation"):
        CartPoleBalance(gym.spaces.Box(-1, 1, (4, 4)))


def test_cartpole_balance_solves_cartpole() -> None:
    env = gym.make("CartPole-v1")
    agent = make_agent("cartpole_balance", {}, env.action_space, env.observation_space)
    rewards = [e.reward for e in rollout(env, agent, seed=0, episodes=100)]
    assert np.mean(rewards) >= 475
    assert min(rewards) == 500.0


def test_user_class_agent_gets_spaces_options_resets_and_observations(
    user_module: Callable[[str], str],
) -> None:
    module = user_module(
        """
        class Counting:
            def __init__(self, action_space, bias=0):
                self.action_space, self.bias = action_space, bias
                self.seeds, self.transitions = [], []
            def reset(self, seed):
                self.seeds.append(seed)
            def act(self, observation):
                return self.bias
            def observe(self, obs, action, reward, next_obs, terminated, truncated):
                self.transitions.append((float(obs[0]), action, reward, float(next_obs[0]),
                                         terminated, truncated))
        """
    )
    env = gym.make("gymrun-test/Fake-v0", length=2)
    agent = make_agent(f"{module}:Counting", {"bias": 1}, env.action_space, env.observation_space)
    assert agent.action_space == env.action_space
    results = list(rollout(env, agent, seed=0, episodes=2))
    # each episode's environment seed is recorded; the agent got the episode's agent seed
    assert [(r.seed, seed) for r, seed in zip(results, agent.seeds, strict=True)] == [
        EpisodeSeeds(0)[0],
        EpisodeSeeds(0)[1],
    ]
    assert len(agent.seeds) == 2 and agent.seeds[0] != agent.seeds[1]
    assert (
        agent.transitions
        == [
            (0.0, 1, 1.0, 1.0, False, False),
            (1.0, 1, 1.0, 2.0, True, False),
        ]
        * 2
    )


def test_user_function_agent(user_module: Callable[[str], str]) -> None:
    module = user_module("def push_right(observation):\n    return 1\n")
    env = gym.make("CartPole-v1")
    agent = make_agent(f"{module}:push_right", {}, env.action_space, env.observation_space)
    assert agent.act(None) == 1


def test_user_agent_that_fails_to_build(user_module: Callable[[str], str]) -> None:
    module = user_module(
        "class Picky:\n    def __init__(self, level=1):\n        raise ValueError('too picky')\n"
        "    def act(self, observation):\n        return 0\n"
    )
    with pytest.raises(
        AgentError, match=f"agent {module}:Picky could not be built: ValueError: too picky"
    ):
        make_agent(f"{module}:Picky", {}, DISCRETE, DISCRETE)


@pytest.mark.parametrize(
    ("env_id", "label"),
    [
        ("CartPole-v1", "Box([-4.8, -inf, -0.4189, -inf], [4.8, inf, 0.4189, inf], (4,), float32)"),
        ("LunarLander-v3", "Box([-2.5, -2.5, ..., -0, -0], [2.5, 2.5, ..., 1, 1], (8,), float32)"),
        ("Pendulum-v1", "Box([-1, -1, -8], [1, 1, 8], (3,), float32)"),
    ],
)
def test_spaces_are_named_on_one_line_without_padding(env_id: str, label: str) -> None:
    # numpy writes these bounds padded into columns, LunarLander's over three lines
    env = gym.make(env_id)
    assert space_label(env.observation_space) == label
    env.close()


def test_values_from_user_code_are_shown_on_one_line() -> None:
    assert (
        value_label(np.zeros((50, 50, 3), dtype=np.uint8))
        == (
            "array of shape (50, 50, 3) uint8: [[[0, 0, 0], [0, 0, 0], ..., [0, 0, 0], [0, 0, 0]],"
            " [[0, 0, 0], [0, 0, 0], ..., [0, 0, 0], [0, 0, 0]], ..., [[0, 0, 0], [0, 0, 0], ...,"
            " [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [0, 0, 0], ..., [0, 0, 0], [0, 0, 0]]]"
        )[: 120 - 3]
        + "..."
    )
    assert value_label({"a": np.float64(1.5), "b": "x\ny"}) == "{'a': 1.5 (float64), 'b': 'x\\ny'}"
    assert value_label("x" * 200) == "'" + "x" * 116 + "..."


def test_a_policy_takes_what_a_config_takes() -> None:
    import gymrun

    env = gym.make("CartPole-v1")

    def lean(observation: np.ndarray) -> int:
        return int(observation[2] > 0)

    class Lean:
        def act(self, observation: np.ndarray) -> int:
            return lean(observation)

    played = {
        kind: [(e.reward, e.steps) for b in gymrun.play(env, policy, seed=0, count=3) for e in b]
        for kind, policy in [
            ("function", gymrun.Policy([lean], env.action_space)),
            ("object", gymrun.Policy([Lean()], env.action_space)),
        ]
    }
    assert played["function"] == played["object"]
    assert len(played["function"]) == 3
    for given, said in [
        (Lean, "agent: Lean is a class; give Policy an instance of it (Lean(...))"),
        (3, "agent: int 3 is neither an object with an act(observation) method nor a "),
    ]:
        with pytest.raises(AgentError) as raised:
            gymrun.Policy([given], env.action_space)
        assert str(raised.value).startswith(said)
