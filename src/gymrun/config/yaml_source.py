"""Reading YAML safely, remembering on which line each value stands.

Plain values are read as YAML 1.2 (its core schema) reads them, as editors do with
``gymrun schema``; a plain value that YAML 1.1 (PyYAML's default, and many other tools')
reads as another number or a boolean is refused rather than guessed at."""

from __future__ import annotations

import math
import re
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

_INT, _FLOAT, _BOOL, _NULL, _STR = (
    f"tag:yaml.org,2002:{name}" for name in ("int", "float", "bool", "null", "str")
)


class _Loader(yaml.SafeLoader):
    """`yaml.SafeLoader` with YAML 1.2's core schema for plain values: ``010`` is 10,
    ``0o10`` 8, ``1e-3`` a number; ``yes``, ``1:30``, ``1_000`` and dates are strings."""

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.tagged: set[int] = set()  # the scalars given a tag (``!!str 010``), by id

    def compose_scalar_node(self, anchor: Any) -> yaml.ScalarNode:
        tag = self.peek_event().tag  # type: ignore[no-untyped-call]
        node: yaml.ScalarNode = super().compose_scalar_node(anchor)
        if tag not in (None, "!"):
            self.tagged.add(id(node))
        return node


_CORE_12 = [
    (_NULL, r"~|null|Null|NULL|", ["~", "n", "N", ""]),
    (_BOOL, r"true|True|TRUE|false|False|FALSE", list("tTfF")),
    (_INT, r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", list("-+0123456789")),
    (
        _FLOAT,
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        list("-+0123456789."),
    ),
    ("tag:yaml.org,2002:merge", r"<<", ["<"]),  # merge keys, as PyYAML (and most tools) take
]
for _tag, _pattern, _first in _CORE_12:  # an int is tried before a float
    _Loader.add_implicit_resolver(_tag, re.compile(f"^(?:{_pattern})$"), _first)


def _int_12(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


def _float_12(text: str) -> float:
    if text.lstrip("+-").lower() in (".inf", ".nan"):
        return float(text.replace(".", ""))
    return float(text)


def _scalar_12(tag: str, text: str) -> Any:
    """The value of a scalar tagged `tag` (plain or explicit) as YAML 1.2 reads it; a
    `ValueError` for text that is not of its tag."""
    if tag == _INT:
        return _int_12(text)
    if tag == _FLOAT:
        return _float_12(text)
    if tag == _BOOL:
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{text!r} is not a boolean (true or false)")
        return text.lower() == "true"
    return text


def _construct_12(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    try:
        return _scalar_12(node.tag, node.value)
    except ValueError as exc:  # a key (values are checked before): its line, no key to name
        problem = _unreadable(node, exc)
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from None


for _tag in (_INT, _FLOAT, _BOOL):
    _Loader.add_constructor(_tag, _construct_12)


if hasattr(yaml, "CSafeLoader"):

    class _CLoader(yaml.CSafeLoader):
        """`_Loader` with libyaml's parser: the same resolvers and constructors, and its
        nodes get the same checks, five times faster (a board reads thousands of run
        configs). It cannot tell a tagged scalar from a plain one, so it reads only text
        without tags."""

        yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
        yaml_constructors = _Loader.yaml_constructors

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self.tagged: set[int] = set()

else:  # PyYAML built without libyaml
    _CLoader = None  # type: ignore[assignment,misc]


def _c_loader(text: str) -> Any:
    """A `_CLoader` of `text` where libyaml is there and `text` has no tag (``!``)."""
    return None if _CLoader is None or "!" in text else _CLoader(text)


# YAML 1.1's reading of a plain value, to find those it reads as another number or a
# boolean: PyYAML's int and float resolvers, and the booleans of the YAML 1.1 spec (PyYAML
# leaves out y and n; other YAML 1.1 readers do not).
_BOOL_11 = re.compile(
    r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
    r"|on|On|ON|off|Off|OFF)$"
)
_RESOLVERS_11 = yaml.SafeLoader.yaml_implicit_resolvers
_CONSTRUCTOR_11 = yaml.constructor.SafeConstructor()


def _scalar_11(text: str) -> Any:
    """What YAML 1.1 reads plain `text` as, where it reads a number or a boolean (else None)."""
    if _BOOL_11.match(text):
        return text.lower() in ("y", "yes", "true", "on")
    for tag, pattern in _RESOLVERS_11.get(text[:1], []):
        if tag in (_INT, _FLOAT) and pattern.match(text):
            node = yaml.ScalarNode(tag, text)
            try:
                if tag == _INT:
                    return _CONSTRUCTOR_11.construct_yaml_int(node)
                return _CONSTRUCTOR_11.construct_yaml_float(node)
            except ValueError:  # too many digits: YAML 1.2's reading says so
                return None
    return None


# libyaml's emitter where PyYAML was built with it: a sweep writes a config per run
_EMITTER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_EMITTER):  # type: ignore[misc]
    """PyYAML's dumper quotes a string that YAML 1.1 reads as something else; this one
    quotes as well those YAML 1.2 reads as something else (``1e3``, ``0o17``) and the
    booleans of YAML 1.1 that PyYAML leaves out (``y``, ``n``), so that `parse_yaml`
    reads every string back as the string it was."""


for _tag, _pattern, _first in _CORE_12:
    _Dumper.add_implicit_resolver(_tag, re.compile(f"^(?:{_pattern})$"), _first)
_Dumper.add_implicit_resolver(_BOOL, _BOOL_11, list("yYnNoOtTfF"))


def dump_yaml(data: Any) -> str:
    """`data` (of JSON's kinds) as YAML that `parse_yaml` reads back as `data`, its keys in
    their order.

    >>> print(dump_yaml({"name": "1e3", "answer": "y", "episodes": 3}), end="")
    name: '1e3'
    answer: 'y'
    episodes: 3
    """
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


@dataclass
class Document:
    """A parsed YAML document: its data and the 1-based line of each key path."""

    source: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Loc) -> int | None:
        """The line of `loc`, or of its nearest ancestor that the file spells out."""
        return line_of(self.lines, loc)


def line_of(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line `lines` gives `loc`, or its nearest ancestor that has one."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def read_yaml(path: str | Path) -> Document:
    """Read a YAML file safely, its values as YAML 1.2 reads them, with a line map.

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
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError([Problem(source, "", message, line)]) from None
    return parse_yaml(text, source)


def parse_yaml(text: str, source: str = "<string>") -> Document:
    """Parse one YAML document from `text`.

    >>> doc = parse_yaml("env: CartPole-v1\\nwrappers:\\n  - name: frame_stack\\n")
    >>> doc.data["env"], doc.line_of(("wrappers", 0, "name"))
    ('CartPole-v1', 3)
    """
    depth, line = _nesting(text)
    if depth > MAX_DEPTH:
        message = f"invalid YAML: nested {depth} levels deep; a config has at most {MAX_DEPTH}"
        raise ConfigError([Problem(source, "", message, line)])
    loader, composed = _c_loader(text), False
    if loader is not None:
        try:
            node, composed = loader.get_single_node(), True
        except Exception:  # a YAML error, or libyaml's binding failing on an empty
            # document: the Python parser reads it again, and says what is wrong as it does
            loader.dispose()
            loader = None
    if loader is None:
        try:
            loader = _Loader(text)
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow
            raise ConfigError([_reader_problem(exc, text, source)]) from None
    try:
        if not composed:
            node = loader.get_single_node()
        if node is None:
            return Document(source, None)
        _check_expanded_size(node, source)  # first: it also finds a recursive alias
        if (deepest := _deepest_node(node))[0] > MAX_DEPTH:
            message = f"invalid YAML: nested more than {MAX_DEPTH} levels deep"
            raise ConfigError([Problem(source, "", message, deepest[1])])
        _check_unique_keys(node, source)
        _check_values(node, source, loader)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_problem(exc, source)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(source, "", f"invalid YAML: {exc}")]) from None
    except RecursionError:
        message = f"invalid YAML: nested more than {MAX_DEPTH} levels deep"
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
    elif exc.problem and "'\\t'" in exc.problem and mark is not None:
        what = f"a tab at column {mark.column + 1}: YAML indents with spaces, never tabs"
    return Problem(source, "", f"invalid YAML: {what}", line)


def _reader_problem(exc: yaml.reader.ReaderError, text: str, source: str) -> Problem:
    line = text.count("\n", 0, exc.position) + 1
    character = exc.character if isinstance(exc.character, int) else ord(exc.character)
    message = f"invalid YAML: character #x{character:04x} is not allowed in YAML"
    return Problem(source, "", message, line)


def _nesting(text: str) -> tuple[int, int]:
    """How deep flow collections (``[[[...]]]``, ``{a: {b: ...}}``) nest, counted without
    parsing (PyYAML parses by recursion, and a deep enough document exhausts Python's
    stack), and the line where they are deepest first. (Brackets inside quoted strings count
    too: a config has no call for so many.)"""
    depth = deepest = 0
    line = where = 1
    for character in text:
        if character in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
        elif character in "]}":
            depth = max(0, depth - 1)
        elif character == "\n":
            line += 1
    return deepest, where


def _deepest_node(root: yaml.Node) -> tuple[int, int]:
    """How many levels deep `root` nests, and the line of its first deepest node."""
    deepest, line, pending = 0, 1, [(root, 1)]
    while pending:
        node, depth = pending.pop()
        if depth > deepest:
            deepest, line = depth, node.start_mark.line + 1
        if isinstance(node, yaml.SequenceNode):
            pending.extend((child, depth + 1) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend((value, depth + 1) for _, value in node.value)
    return deepest, line


def _check_values(root: yaml.Node, source: str, loader: _Loader) -> None:
    """Every value YAML 1.2 cannot read as its tag says (a number of more digits than Python
    reads), and every plain value that YAML 1.1 reads as another number or a boolean than
    YAML 1.2 does (``010``: 8 or 10; ``1:30``: 90 or a string; ``yes``: true or a string).
    Keys are names: read as YAML 1.2 reads them."""
    problems: list[Problem] = []
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, Loc]] = [(root, ())]
    while pending:
        node, loc = pending.pop()
        if id(node) in seen:  # an alias: checked where its anchor is
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in reversed(node.value):
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                pending.append((value, (*loc, name)))
        elif isinstance(node, yaml.SequenceNode):
            pending.extend((item, (*loc, i)) for i, item in reversed(list(enumerate(node.value))))
        elif isinstance(node, yaml.ScalarNode) and (message := _value_problem(node, loader)):
            where = ".".join(str(part) for part in loc)
            problems.append(Problem(source, where, message, node.start_mark.line + 1))
    if problems:
        raise ConfigError(problems)


def _value_problem(node: yaml.ScalarNode, loader: _Loader) -> str | None:
    try:
        new = _scalar_12(node.tag, node.value)
    except ValueError as exc:
        return _unreadable(node, exc)
    # not quoted (libyaml's parser gives a plain scalar the style "", PyYAML's None), not tagged
    plain = not node.style and id(node) not in loader.tagged
    old = _scalar_11(node.value) if plain else None
    if old is None or (type(old) is type(new) and (old == new or (old != old and new != new))):
        return None
    either = sorted((new, old), key=lambda value: isinstance(value, str))  # a string last
    return (
        f"{node.value} is {_spelled(old)} in YAML 1.1 and {_spelled(new)} in YAML 1.2; "
        f"write {_spelled(either[0], plain=True)} or {_spelled(either[1], plain=True)}"
    )


def _unreadable(node: yaml.ScalarNode, exc: ValueError) -> str:
    if "integer string conversion" in str(exc):
        return "a number has more than 4,300 digits, more than Python reads"
    return f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}"


def _spelled(value: Any, plain: bool = False) -> str:
    """`value` as YAML that every version reads alike (``'yes'`` for a string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        quoted = "'" + value.replace("'", "''") + "'"
        return quoted if plain else f"the string {quoted}"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if value != value else ("-.inf" if value < 0 else ".inf")
    return repr(value)


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
    _ExpandedSize(source).of(root)


class _ExpandedSize:
    """How many values a YAML node holds once its aliases are expanded (an object, not a
    function calling itself by its closure: that cycle would keep every node's size until
    the cycle collector ran, and a board reads thousands of configs)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sizes: dict[int, int] = {}
        self.in_progress: set[int] = set()
        self.aliased = False  # a node met twice: an alias points at it

    def of(self, node: yaml.Node) -> int:
        key = id(node)
        if key in self.sizes:
            self.aliased = True
            return self.sizes[key]
        if key in self.in_progress:
            line = node.start_mark.line + 1
            raise ConfigError([Problem(self.source, "", "invalid YAML: recursive alias", line)])
        self.in_progress.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(self.of(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(self.of(k) + self.of(v) for k, v in node.value)
        self.in_progress.discard(key)
        self.sizes[key] = total
        if total > MAX_EXPANDED_NODES:
            message = (
                f"invalid YAML: more than {MAX_EXPANDED_NODES:,} values, the limit for a config"
            )
            if self.aliased:
                message += " (its aliases expand to that many)"
            raise ConfigError([Problem(self.source, "", message, node.start_mark.line + 1)])
        return total


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
