"""The agent protocol, in one place: how the loop asks an agent for actions.

An agent has ``act(observation) -> action`` and may have:

- ``act_batch(observations) -> actions``: acts for every sub-environment of a vector env at
  once (otherwise a vector run gives each sub-environment its own copy of the agent);
- ``reset(seed)``: called at each episode's start with the episode's agent seed;
- ``observe(obs, action, reward, next_obs, terminated, truncated)``: called after each step,
  for agents that learn (they run in one process, on one environment).

gymrun's own agents set ``actions_in_space = True``; every other agent's actions are checked
against the action space before they reach the environment. Those that act without looking
(random, constant) set ``reads_observations = False``: the loop then keeps no observation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from gymrun.components.spaces import expected_of, space_label, value_label
from gymrun.errors import ActionOutsideSpace, AgentError


class Policy:
    """One agent (or one per sub-environment) as the loop drives it.

    `agents` holds one agent for a single environment, one per sub-environment of a vector
    env, or (`batched`) one that acts for the whole vector env; `space` is the space its
    actions must be in (the batch space when batched). An agent is what a config names: an
    object with ``act(observation)``, or a plain function ``observation -> action``.

    >>> from gymrun.components.agents import ConstantAgent
    >>> policy = Policy([ConstantAgent(gym.spaces.Discrete(2), 1)], gym.spaces.Discrete(2))
    >>> policy.act(None), policy.learns, policy.resets
    (1, False, False)
    >>> Policy([lambda observation: 0], gym.spaces.Discrete(2)).act(None)
    0
    """

    def __init__(
        self,
        agents: Sequence[Any],
        space: gym.Space[Any],
        *,
        name: str = "agent",
        batched: bool = False,
    ) -> None:
        agents = [_as_agent(agent, name) for agent in agents]
        self.agents = agents
        self.name = name
        self.space = space
        self.checked = not all(getattr(a, "actions_in_space", False) for a in agents)
        self.reads = any(getattr(a, "reads_observations", True) for a in agents)
        self._resets: list[Callable[[int], Any] | None] = [
            getattr(agent, "reset", None) for agent in agents
        ]
        self.resets = any(reset is not None for reset in self._resets)
        observe = getattr(self.agents[0], "observe", None)
        self.observe: Callable[..., Any] | None = observe if callable(observe) else None
        self.learns = self.observe is not None
        self.batched = batched
        if batched:
            self.act_batch = self._checked(self.agents[0].act_batch, "actions")
        else:
            self.acts = [self._checked(agent.act, "action") for agent in self.agents]
            self.act = self.acts[0]

    @staticmethod
    def batches(agent: Any) -> bool:
        """Whether `agent` acts for a whole vector env at once."""
        return callable(getattr(agent, "act_batch", None))

    @staticmethod
    def learning(agent: Any) -> bool:
        """Whether `agent` learns from its steps (has ``observe``)."""
        return callable(getattr(agent, "observe", None))

    def reset(self, slot: int, seed: int) -> None:
        """Start an episode for the agent of `slot` (sub-environment; 0 for a single env)."""
        reset = self._resets[slot]
        if reset is not None:
            reset(seed)

    def reset_of(self, slot: int) -> Callable[[int], Any] | None:
        """The agent of `slot`'s ``reset(seed)``, or None when it has none."""
        return self._resets[slot]

    def _checked(self, act: Callable[[Any], Any], what: str) -> Callable[[Any], Any]:
        """`act`, with every action checked against the space before it reaches the env."""
        if not self.checked:
            return act
        contains, space, name = self.space.contains, self.space, self.name

        def checked_act(observation: Any) -> Any:
            action = act(observation)
            if not contains(action):
                expected = expected_of(space, action)
                raise ActionOutsideSpace(
                    f"agent {name} chose {what} {value_label(action)}, "
                    f"which {'are' if what == 'actions' else 'is'} not in the action space "
                    f"{space_label(space)}{': ' if expected else ''}{expected}"
                )
            return action

        return checked_act


class FunctionAgent:
    """A plain function ``observation -> action`` as an agent, as a config takes one.

    >>> FunctionAgent(lambda observation: 1).act(None)
    1
    """

    def __init__(self, act: Callable[[Any], Any]) -> None:
        self.act = act


def _as_agent(agent: Any, name: str) -> Any:
    """`agent` as the loop drives it: an object with ``act``, or a function made one."""
    who = "agent" if name == "agent" else f"agent {name}"  # named, or one given to Policy
    if callable(getattr(agent, "act", None)):
        if isinstance(agent, type):
            raise AgentError(
                f"{who}: {agent.__name__} is a class; give Policy an instance of it "
                f"({agent.__name__}(...))"
            )
        return agent
    if callable(agent) and not isinstance(agent, type):
        return FunctionAgent(agent)
    raise AgentError(
        f"{who}: {type(agent).__name__} {value_label(agent, 60)} is neither an object "
        "with an act(observation) method nor a function observation -> action"
    )
