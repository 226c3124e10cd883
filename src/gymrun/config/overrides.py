"""Overrides (``--set KEY=VALUE`` on the command line): dotted paths into a config document,
values parsed as YAML, each named as it was given (see `gymrun.config.wording`)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from gymrun.config.places import Places
from gymrun.config.schema import expand_shorthands
from gymrun.config.wording import wording
from gymrun.config.yaml_source import Document, Loc, parse_yaml
from gymrun.errors import ConfigError, Problem

# the keys of a sweep section that are its own settings, not dotted paths of the grid
SWEEP_SETTINGS = ("seeds", "replicates")


def overridden(document: Document, overrides: Sequence[str]) -> tuple[Document, Places]:
    """`document` with `overrides` applied (a copy; every malformed one in a `ConfigError`),
    and the places of its values: the file's lines, and the option that gave each override.

    >>> from gymrun.config.yaml_source import parse_yaml
    >>> document, places = overridden(parse_yaml("sweep: {seeds: [0, 1]}"), ["sweep.seeds=[5]"])
    >>> document.data, places.origin(("sweep", "seeds"))
    ({'sweep': {'seeds': [5]}}, "overrides[0] 'sweep.seeds=[5]'")
    """
    if not isinstance(document.data, dict) or not overrides:
        return document, Places(document.source, document.lines)
    problems: list[Problem] = []
    origins: dict[Loc, str] = {}
    data = apply_overrides(copy.deepcopy(document.data), overrides, origins, problems)
    if problems:
        raise ConfigError(problems)
    return Document(document.source, data, document.lines), Places(
        document.source, document.lines, origins
    )


def apply_overrides(
    data: dict[str, Any],
    overrides: Sequence[str],
    origins: dict[Loc, str],
    problems: list[Problem],
) -> dict[str, Any]:
    """Apply each ``KEY=VALUE`` of `overrides` to `data` in turn; note where each value came
    from in `origins` and each malformed override in `problems`.

    >>> data, origins, problems = {"episodes": 5}, {}, []
    >>> apply_overrides(data, ["episodes=10", "agent=random"], origins, problems)
    {'episodes': 10, 'agent': {'name': 'random'}}
    """
    named = wording()
    for number, text in enumerate(overrides):
        origin = named.override(number, text)
        if (garbled := not_utf8(origin)) is not None:
            problems.append(garbled)
            continue
        key, sep, value_text = text.partition("=")
        if not sep or not key:
            source, given = named.malformed(number, text)
            problems.append(Problem(source, given, "expected KEY=VALUE, e.g. episodes=10"))
            continue
        if not value_text.strip():  # an unset shell variable, most likely: not null in silence
            message = f"no value after '='; write {key}=null to unset {key}"
            problems.append(Problem(origin, "", message))
            continue
        try:
            value = parse_yaml(value_text, origin).data
        except ConfigError as exc:  # named by the override and its key: it has one line
            problems.extend(
                Problem(origin, ".".join(part for part in (key, p.loc) if part), p.message)
                for p in exc.problems
            )
            continue
        set_path(data, key, value, origin, origins, problems)
        data = expand_shorthands(data)
    return data


def overridden_keys(overrides: Sequence[str], data: Any = None) -> list[tuple[str, Loc]]:
    """The place (the option, or the argument) and the key of each well-formed override, in
    `data` (the document they apply to: below ``sweep`` its keys are the grid's).

    >>> overridden_keys(["episodes=3", "wrappers.0.epsilon=0.2", "oops"])
    [("overrides[0] 'episodes=3'", ('episodes',)), \
("overrides[1] 'wrappers.0.epsilon=0.2'", ('wrappers', 0, 'epsilon'))]
    """
    named = wording()
    keys: list[tuple[str, Loc]] = []
    for number, text in enumerate(overrides):
        key, sep, _ = text.partition("=")
        if sep and key and "" not in key.split("."):
            keys.append((named.override(number, text), tuple(_path(data or {}, key))))
    return keys


def twice_given(settings: Sequence[tuple[str, Loc]], overrides: Sequence[str]) -> list[Problem]:
    """A problem for each override that gives a value one of `settings` (each the place of
    an option, such as ``--episodes``, and the key it sets) gives too, or a section holding
    it: two values for one key on one command line are a mistake, whichever would win.

    >>> [str(p) for p in twice_given([("episodes=3", ("episodes",))], ["episodes=5"])]
    ["overrides[0] 'episodes=5': episodes=3 sets episodes too; give one of the two"]
    """
    problems = []
    for origin, key in overridden_keys(overrides):
        for other, setting in settings:
            if key == setting[: len(key)] or setting == key[: len(setting)]:
                message = f"{other} sets {dotted(setting)} too; give one of the two"
                problems.append(Problem(origin, "", message))
                break
    return problems


def not_utf8(option: str) -> Problem | None:
    r"""A problem naming `option` (``--set name=...``, as given) when a byte of it is not
    UTF-8 (Python keeps such a byte of the command line as a lone surrogate), else None.

    >>> str(not_utf8("--set name=a\udcff"))
    '--set name=a\\xff: not UTF-8 text (byte 0xff); a config is UTF-8'
    """
    try:
        option.encode("utf-8")
    except UnicodeEncodeError as exc:
        raw = option.encode("utf-8", "surrogateescape")
        shown = raw.decode("utf-8", "backslashreplace")
        byte = ord(option[exc.start]) - 0xDC00
        return Problem(shown, "", f"not UTF-8 text (byte 0x{byte:02x}); a config is UTF-8")
    return None


def set_path(
    data: dict[str, Any],
    key: str,
    value: Any,
    origin: str,
    origins: dict[Loc, str],
    problems: list[Problem],
) -> None:
    """Set dotted `key` (list indices as numbers) in `data`, creating missing mappings."""
    if "" in key.split("."):
        message = f"'{key}' is not a key: keys are dotted names, such as wrappers.0.epsilon"
        problems.append(Problem(origin, "", message))
        return
    parts = _path(data, key)
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, dict) and isinstance(part, str):
            if not last and part not in node:  # made by this option: named as its origin
                node[part] = [] if isinstance(parts[depth + 1], int) else {}
                origins[tuple(parts[: depth + 1])] = origin
        elif isinstance(node, list) and isinstance(part, int):
            if part > len(node):
                here = dotted(tuple(parts[: depth + 1]))
                items = "1 item" if len(node) == 1 else f"{len(node)} items"
                message = f"{here} does not exist (the list has {items})"
                problems.append(Problem(origin, "", message))
                return
            if part == len(node):
                node.append({})
                origins[tuple(parts[: depth + 1])] = origin
        else:
            parent = dotted(tuple(parts[:depth])) or "the config"
            kind = f"the value {node!r}"
            if isinstance(node, list | dict):
                kind = "a list" if isinstance(node, list) else "a mapping"
            problems.append(Problem(origin, "", f"{parent} is {kind}; it has no key '{part}'"))
            return
        if last:
            node[part] = value
        else:
            node = node[part]
    origins[tuple(parts)] = origin


def _path(data: dict[str, Any], key: str) -> list[str | int]:
    """The parts of dotted `key`, list indices as numbers. Below ``sweep``, whose keys are
    dotted paths themselves, the rest of `key` is one key of the grid
    (``sweep.wrappers.0.epsilon`` sets the values of ``wrappers.0.epsilon``), unless it goes
    on into a key there already (``sweep.seeds.1``, the second seed) or the sweep's seeds.

    >>> _path({}, "wrappers.0.epsilon"), _path({}, "sweep.wrappers.0.epsilon")
    (['wrappers', 0, 'epsilon'], ['sweep', 'wrappers.0.epsilon'])
    >>> _path({"sweep": {"env.id": ["CartPole-v1"]}}, "sweep.env.id.0")
    ['sweep', 'env.id', 0]
    """
    names = key.split(".")
    if names[0] == "sweep" and len(names) > 2:
        section = data.get("sweep")
        grid = section if isinstance(section, dict) else {}
        for end in range(len(names) - 1, 1, -1):
            head = ".".join(names[1:end])
            if head in grid or (end == 2 and head in SWEEP_SETTINGS):
                return ["sweep", head, *indexed(names[end:])]
        return ["sweep", ".".join(names[1:])]
    return indexed(names)


def indexed(names: list[str]) -> list[str | int]:
    """Dotted names as a key's parts, list indices as numbers: ``["wrappers", 0]``."""
    return [int(name) if name.isdigit() else name for name in names]


def dotted(loc: Loc) -> str:
    """``wrappers.0.epsilon`` for ``("wrappers", 0, "epsilon")``."""
    return ".".join(str(part) for part in loc)
