"""What an agent's files say about the environment it plays: the keyword arguments the
environment was made with and the wrappers it was trained in (an rl-zoo3 model folder says
both). The plan holds it, and every copy of the environment is made with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AgentEnv:
    """Keyword arguments for ``gymnasium.make`` and wrappers (``(name, kwargs)``, innermost
    first, as `gymrun.components.wrappers.apply_wrappers` takes them) that go beneath a
    config's own, and where they were read (`source`, for messages).

    >>> setup = AgentEnv({"sutton_barto_reward": False}, (), "args.yml")
    >>> setup.kwargs_with({"render_mode": "rgb_array"})
    {'render_mode': 'rgb_array', 'sutton_barto_reward': False}
    """

    kwargs: dict[str, Any] = field(default_factory=dict)
    wrappers: tuple[tuple[str, dict[str, Any]], ...] = ()
    source: str = ""

    def kwargs_with(self, config_kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The config's keyword arguments and these together (they never disagree: a
        config that sets one of these to another value is refused as it is loaded)."""
        return {**config_kwargs, **self.kwargs}
