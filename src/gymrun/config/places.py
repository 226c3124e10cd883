"""Where each value of a config came from: its file and line, or what gave it besides the
file (a command-line option, or a library call's argument: see `gymrun.config.wording`);
every message about a config's value names that place."""

from __future__ import annotations

from dataclasses import dataclass, field

from gymrun.config.yaml_source import Loc, line_of
from gymrun.errors import Problem


@dataclass(frozen=True, eq=False)
class Places:
    """A config's `source` (its file), the line of each key there, and what gave each key
    given besides the file: the option (``--set KEY=VALUE``, ``--agent NAME``) or the
    argument (``overrides[0] 'KEY=VALUE'``, ``agent='NAME'``).

    >>> places = Places("c.yaml", {("agent",): 3}, {("agent", "action"): "--set agent.action=5"})
    >>> str(places.problem(("agent", "name"), "x")), str(places.problem(("agent",), "y"))
    ('c.yaml:3 agent.name: x', '--set agent.action=5 agent: y')
    """

    source: str
    lines: dict[Loc, int] = field(default_factory=dict)
    origins: dict[Loc, str] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        # where a config was read from is no part of what it says: two configs that say
        # the same compare equal wherever they were written
        return isinstance(other, Places)

    __hash__ = None  # type: ignore[assignment]

    def origin(self, loc: Loc) -> str | None:
        """What gave the value at `loc` besides the file: of those that set it, a section holding
        it or a key inside it, the last (the most specific, or the latest change); None
        when the file gave it."""
        given = [
            origin
            for prefix, origin in self.origins.items()
            if loc[: len(prefix)] == prefix or prefix[: len(loc)] == loc
        ]
        return given[-1] if given else None

    def problem(self, loc: Loc, message: str) -> Problem:
        """`message` about the value at `loc`, placed where that value came from."""
        key = ".".join(str(part) for part in loc)
        origin = self.origin(loc)
        if origin is not None:
            return Problem(origin, key, message)
        return Problem(self.source, key, message, line_of(self.lines, loc))
