"""Reading YAML safely, remembering on which line each value stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gymrun.errors import ConfigError, Problem

MAX_BYTES = 1_000_000
# An alias bomb is small on disk and huge once its aliases are expanded; counting
# the expanded nodes (memoised per shared node) rejects it without expanding it.
MAX_EXPANDED_NODES = 100_000
MAX_DEPTH = 64  # levels of nesting

Loc = tuple[str | int, ...]


@dataclass
class Document:
    """A parsed YAML document: its data and the 1-based line of each key path."""

    source: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """The line of `loc`, or of its nearest ancestor that the file spells out."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def read_yaml(path: str | Path) -> Document:
    """Read a YAML file with `yaml.safe_load` semantics and a line map.

    Raises `ConfigError` for a missing, unreadable, oversized, binary or malformed file.
    """
    source = str(path)
    try:
        with Path(path).open("rb") as file:  # a device or a pipe is read no further than this
            raw = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([Problem(source, "", "file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(source, "", "is a directory, not a YAML file")]) from None
    except OSError as exc:
        raise ConfigError([Problem(source, "", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        message = f"file is larger than {MAX_BYTES:,} bytes, the limit for a config"
        raise ConfigError([Problem(source, "", message)])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"not a text file (invalid UTF-8 at byte {exc.start})"
        raise ConfigError([Problem(source, "", message)]) from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str = "<string>") -> Document:
    """Parse one YAML document from `text`.

    >>> doc = parse_yaml("env: CartPole-v1\\nwrappers:\\n  - name: frame_stack\\n")
    >>> doc.data["env"], doc.line_of(("wrappers", 0, "name"))
    ('CartPole-v1', 3)
    """
    depth = _nesting(text)
    if depth > MAX_DEPTH:
        message = f"invalid YAML: nested {depth} levels deep; a config has at most {MAX_DEPTH}"
        raise ConfigError([Problem(source, "", message)])
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, such as NUL
        line = text.count("\n", 0, exc.position) + 1
        message = f"invalid YAML: character {chr(exc.character)!r} is not allowed in YAML"
        raise ConfigError([Problem(source, "", message, line)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(source, None)
        _check_expanded_size(node, source)  # first: it also finds a recursive alias
        if _node_depth(node) > MAX_DEPTH:
            message = f"invalid YAML: nested more than {MAX_DEPTH} levels deep"
            raise ConfigError([Problem(source, "", message)])
        _check_unique_keys(node, source)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_problem(exc, source)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(source, "", f"invalid YAML: {exc}")]) from None
    except RecursionError:
        message = f"invalid YAML: nested more than {MAX_DEPTH} levels deep"
        raise ConfigError([Problem(source, "", message)]) from None
    except ValueError as exc:
        message = f"invalid YAML: {exc}"
        if "integer string conversion" in str(exc):
            message = "invalid YAML: a number has more than 4,300 digits, more than Python reads"
        raise ConfigError([Problem(source, "", message)]) from None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    _map_lines(node, (), lines)
    return Document(source, data, lines)


def _yaml_problem(exc: yaml.MarkedYAMLError, source: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    what = " ".join(part for part in (exc.context, exc.problem) if part)
    if exc.problem and exc.problem.startswith("could not determine a constructor for the tag"):
        tag = exc.problem.rsplit(" ", 1)[-1]
        what = f"tag {tag} is not allowed (configs are plain YAML; tags are never executed)"
    return Problem(source, "", f"invalid YAML: {what}", line)


def _nesting(text: str) -> int:
    """How deep flow collections (``[[[...]]]``, ``{a: {b: ...}}``) nest, counted without
    parsing: PyYAML parses by recursion, and a deep enough document exhausts Python's stack.
    (Brackets inside quoted strings count too: a config has no call for so many.)"""
    depth = deepest = 0
    for character in text:
        if character in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif character in "]}":
            depth = max(0, depth - 1)
    return deepest


def _node_depth(root: yaml.Node) -> int:
    deepest, pending = 0, [(root, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(node, yaml.SequenceNode):
            pending.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend((value, depth + 1) for _, value in node.value)
    return deepest


def _check_unique_keys(root: yaml.Node, source: str) -> None:
    """A key given twice in one mapping: YAML would keep the last and drop the first
    silently."""
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    line = key.start_mark.line + 1
                    if key.value in seen:
                        message = (
                            f"invalid YAML: key '{key.value}' is given twice "
                            f"(lines {seen[key.value]} and {line})"
                        )
                        raise ConfigError([Problem(source, "", message, line)])
                    seen[key.value] = line
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


def _check_expanded_size(root: yaml.Node, source: str) -> None:
    sizes: dict[int, int] = {}
    in_progress: set[int] = set()
    aliased = False  # a node met twice: an alias points at it

    def size(node: yaml.Node) -> int:
        nonlocal aliased
        key = id(node)
        if key in sizes:
            aliased = True
            return sizes[key]
        if key in in_progress:
            line = node.start_mark.line + 1
            raise ConfigError([Problem(source, "", "invalid YAML: recursive alias", line)])
        in_progress.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        in_progress.discard(key)
        sizes[key] = total
        if total > MAX_EXPANDED_NODES:
            message = (
                f"invalid YAML: more than {MAX_EXPANDED_NODES:,} values, the limit for a config"
            )
            if aliased:
                message += " (its aliases expand to that many)"
            raise ConfigError([Problem(source, "", message, node.start_mark.line + 1)])
        return total

    size(root)


def _map_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*loc, key_node.value)
                lines[child] = key_node.start_mark.line + 1
                _map_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*loc, index)
            lines[child] = item.start_mark.line + 1
            _map_lines(item, child, lines)
