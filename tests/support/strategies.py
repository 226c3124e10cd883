"""Hypothesis strategies for what a user can type into a config: keys and names gymrun knows,
misspelt ones, and values of every YAML kind, nested."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

KEYS = [
    "name",
    "env",
    "wrappers",
    "agent",
    "episodes",
    "seed",
    "reward_boundary",
    "max_steps",
    "record",
    "vector",
    "imports",
    "sweep",
    "bogus",
    "id",
    "kwargs",
    "epsilon",
    "action",
    "num_envs",
    "mode",
    "video",
    "every",
    "stack_size",
    "scale",
    "0",
]
NAMES = [
    "CartPole-v1",
    "random",
    "constant",
    "epsilon_random",
    "frame_stack",
    "ClipReward",
    "scale_reward",
    "sequence",
    "cartpole_balance",
    "nope",
    "os:system",
    "sync",
    "",
    "a b",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-10, 10**6)
    | st.floats(allow_nan=True)
    | st.sampled_from(NAMES)
    | st.text(max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
DOCUMENTS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=6) | VALUES
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
