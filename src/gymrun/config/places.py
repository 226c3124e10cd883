"""Where each value of a config came from: its file and line, or what gave it besides the
file (a command-line option, or a library call's argument: see `gymrun.config.wording`);
every message about a config's value names that place."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gymrun.config.yaml_source import Loc, line_of
from gymrun.errors import Problem


@dataclass(frozen=True, eq=False)
class Places:
    """A config's `source` (its file), the line of each key there, and what gave each key
    given besides the file: the option (``--set KEY=VALUE``, ``--agent NAME``) or the
    argument (``overrides[0] 'KEY=VALUE'``, ``agent='NAME'``). Of those keys, `written` are
    the file's own text all the same: a sweep's point, from the grid the file holds.

    >>> places = Places("c.yaml", {("agent",): 3}, {("agent", "action"): "--set agent.action=5"})
    >>> str(places.problem(("agent", "name"), "x")), str(places.problem(("agent",), "y"))
    ('c.yaml:3 agent.name: x', '--set agent.action=5 agent: y')
    """

    source: str
    lines: dict[Loc, int] = field(default_factory=dict)
    origins: dict[Loc, str] = field(default_factory=dict)
    written: frozenset[Loc] = frozenset()

    def __eq__(self, other: object) -> bool:
        # where a config was read from is no part of what it says: two configs that say
        # the same compare equal wherever they were written
        return isinstance(other, Places)

    __hash__ = None  # type: ignore[assignment]

    def origin(self, loc: Loc) -> str | None:
        """What gave the value at `loc` besides the file: of those that set it, a section holding
        it or a key inside it, the last (the most specific, or the latest change); None
        when the file gave it."""
        given = self._given(loc)
        return None if given is None else given[1]

    def _given(self, loc: Loc) -> tuple[Loc, str] | None:
        given = [
            (prefix, origin)
            for prefix, origin in self.origins.items()
            if loc[: len(prefix)] == prefix or prefix[: len(loc)] == loc
        ]
        return given[-1] if given else None

    def folder_of(self, loc: Loc, config_dir: Path | None) -> Path:
        """The folder a relative file path at `loc` is read from: `config_dir` when the file
        wrote it, the working directory when an option or a library call's argument gave
        it (as every command-line tool reads a path typed there), or when there is no file.

        >>> places = Places("c/c.yaml", origins={("agent", "path"): "--set agent.path=m.zip"})
        >>> places.folder_of(("agent", "path"), Path("c")) == Path.cwd()
        True
        >>> str(places.folder_of(("agent", "vecnormalize"), Path("c")))
        'c'
        """
        given = self._given(loc)
        if config_dir is None or (given is not None and given[0] not in self.written):
            return Path.cwd()
        return config_dir

    def problem(self, loc: Loc, message: str) -> Problem:
        """`message` about the value at `loc`, placed where that value came from."""
        key = ".".join(str(part) for part in loc)
        origin = self.origin(loc)
        if origin is not None:
            return Problem(origin, key, message)
        return Problem(self.source, key, message, line_of(self.lines, loc))
