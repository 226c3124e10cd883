"""The generated reference pages of the documentation site: an MkDocs hook (mkdocs.yml's
``hooks:``) that adds them to the site's files on every build.

- ``reference/cli.md``: every command's ``--help``, exactly as ``gymrun COMMAND --help``
  prints it in a terminal 80 columns wide. The commands are those of the Typer app
  (``gymrun.cli.command``), in the order ``gymrun --help`` lists them.
- ``reference/config.md``: every key of an experiment config, its type, default and
  description, from the config's JSON Schema (``gymrun.config_schema()``, which
  ``gymrun schema`` prints).

Nothing here is written twice: change a command's help or a config field's description in
``src/gymrun`` and the pages follow on the next ``mkdocs build``.

    .venv/bin/python docs/hooks/reference_pages.py    # print both pages, as the site has them
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

WIDTH = "80"  # columns: a terminal's default, and what fits the page
# Environment variables that would change how the help is drawn (colour, width, tracebacks).
UNSET = ("FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "TERMINAL_WIDTH", "GYMRUN_DEBUG")


# -- the command line ------------------------------------------------------------------------


def commands() -> list[tuple[str, str]]:
    """``(name, one-line summary)`` of each ``gymrun`` command, as ``gymrun --help`` lists
    them."""
    import typer.main

    from gymrun.cli import app

    group = typer.main.get_command(app)
    listed = getattr(group, "commands", {})
    return [(name, command.get_short_help_str(limit=300)) for name, command in listed.items()]


def help_text(*args: str) -> str:
    """What ``gymrun ARGS --help`` prints in a terminal 80 columns wide, without colour."""
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    env |= {"COLUMNS": WIDTH, "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "gymrun", *args, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    return "\n".join(lines).strip("\n")


def cli_page() -> str:
    listed = commands()
    with ThreadPoolExecutor(max_workers=4) as pool:
        helps = list(pool.map(lambda args: help_text(*args), [(), *[(n,) for n, _ in listed]]))
    out = [
        "# Command line",
        "",
        "Every command and its options, as `gymrun COMMAND --help` prints them in a terminal",
        "80 columns wide (this page is generated from the commands themselves). Each",
        "command's help ends with examples; `-h` is short for `--help`.",
        "`gymrun --install-completion` installs shell completion (bash, zsh, fish, PowerShell).",
        "",
        "| command | what it does |",
        "| --- | --- |",
        *[f"| [`gymrun {name}`](#gymrun-{name}) | {summary} |" for name, summary in listed],
        "",
        "A command line gymrun cannot parse (an unknown option, a missing argument) is bad",
        "input: one line, `error: No such option: --bogus (see gymrun run --help)`, exit 2",
        "(see [exit codes](exit-codes.md)).",
        "",
        "## gymrun",
        "",
        "```text",
        helps[0],
        "```",
    ]
    for (name, _), text in zip(listed, helps[1:], strict=True):
        out += ["", f"## gymrun {name}", "", "```text", text, "```"]
    return "\n".join(out) + "\n"


# -- the config ------------------------------------------------------------------------------

SECTIONS = {  # $defs entry -> (heading, anchor)
    "EnvConfig": ("env", "env"),
    "RecordConfig": ("record", "record"),
    "VectorConfig": ("vector", "vector"),
    "MetricConfig": ("metrics", "metrics"),
}


def _ref(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def _limits(node: dict[str, Any]) -> str:
    parts = []
    for key, sign in (
        ("minimum", "≥"),
        ("exclusiveMinimum", ">"),
        ("maximum", "≤"),
        ("exclusiveMaximum", "<"),
    ):
        if key in node:
            value = node[key]
            parts.append(f"{sign} {value:,}" if isinstance(value, int) else f"{sign} {value}")
    if "minLength" in node:
        parts.append(f"at least {node['minLength']} characters")
    if "maxLength" in node:
        parts.append(f"at most {node['maxLength']} characters")
    if "minItems" in node:
        parts.append(f"at least {node['minItems']} item(s)")
    if "pattern" in node:
        parts.append(f"matching `{node['pattern']}`")
    return f" ({', '.join(parts)})" if parts else ""


def type_of(node: dict[str, Any], defs: dict[str, Any]) -> str:
    """A schema node's type in words: ``integer (≥ 1)``, ``list of string``, ``mapping``."""
    ref = _ref(node)
    if ref is not None:
        heading, anchor = SECTIONS.get(ref, (ref, ref.lower()))
        return f"mapping ([`{heading}`](#{anchor}))"
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in node["enum"])
    for key in ("anyOf", "oneOf"):
        if key in node:
            options = [option for option in node[key] if option.get("type") != "null"]
            nullable = len(options) < len(node[key])
            refs = [_ref(option) for option in options]
            if key == "oneOf" and len(options) > 3:  # the wrapper and agent entries
                anchor = "agent" if "AgentConfig" in refs else "wrappers"
                text = f"mapping ([one of these](#{anchor}))"
            else:
                text = " or ".join(type_of(option, defs) for option in options)
            return text + (" or null" if nullable else "")
    kind = node.get("type")
    if kind == "array":
        items = node.get("items")
        return "list" + (f" of {type_of(items, defs)}" if items else "") + _limits(node)
    if kind == "object":
        return "mapping"
    words = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}
    if isinstance(kind, str):
        return words.get(kind, kind) + _limits(node)
    return "any"


def default_of(name: str, node: dict[str, Any], required: list[str]) -> str:
    if name in required:
        return "required"
    if "default" in node:
        return f"`{json.dumps(node['default'])}`"
    return "—"


def description_of(node: dict[str, Any], defs: dict[str, Any]) -> str:
    text = node.get("description")
    refs = [_ref(option) for option in [node, *node.get("anyOf", [])]]
    for ref in refs:
        if text is None and ref is not None:
            text = defs[ref].get("description")
    # in a table cell: | ends the cell, and {...} would read as Markdown attributes
    text = (text or "").replace("|", "\\|").replace("{", "\\{").replace("}", "\\}")
    return text.replace("\n", " ")


def key_table(model: dict[str, Any], defs: dict[str, Any], *, skip: tuple[str, ...] = ()) -> str:
    required = list(model.get("required", []))
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for name, node in model.get("properties", {}).items():
        if name in skip:
            continue
        rows.append(
            f"| `{name}` | {type_of(node, defs)} | {default_of(name, node, required)} "
            f"| {description_of(node, defs)} |"
        )
    if model.get("additionalProperties") is True:
        rows.append("| *any other key* | any | — | passed to the constructor as a keyword |")
    return "\n".join(rows)


def _entries(schema: dict[str, Any], key: str) -> list[str]:
    node = schema["properties"][key]
    if key == "wrappers":
        node = node["items"]
    for option in node.get("anyOf", []):  # the shorthand beside the mappings
        if "oneOf" in option:
            node = option
    return [ref for option in node.get("oneOf", []) if (ref := _ref(option))]


def _name_of(model: dict[str, Any]) -> str | None:
    const = model.get("properties", {}).get("name", {}).get("const")
    return const if isinstance(const, str) else None


def kinds(title: str, refs: list[str], defs: dict[str, Any], other: str) -> Iterator[str]:
    yield f"## {title}"
    yield ""
    for ref in refs:
        model = defs[ref]
        name = _name_of(model)
        yield f"### `{name}`" if name else f"### {other}"
        yield ""
        yield (model.get("description") or "").strip()
        yield ""
        yield key_table(model, defs)
        yield ""


def config_page() -> str:
    from gymrun.config import config_schema

    schema = config_schema()
    defs = schema.get("$defs", {})
    out = [
        "# Config reference",
        "",
        "Every key an experiment config can hold, with its type, default and description.",
        "This page is generated from the config's JSON Schema, which `gymrun schema` prints",
        "(see [configs](../guide/configs.md) for how the keys work together, the shorthands",
        "and `--set`). A key that is not listed is an error.",
        "",
        "## Top-level keys",
        "",
        key_table(schema, defs),
        "",
        "`env: ID` is short for `env: {id: ID}`, `agent: NAME` for `agent: {name: NAME}`, and",
        "a wrapper or a metric given as `- NAME` for `- {name: NAME}`; the schema takes both",
        "forms.",
        "",
    ]
    for ref, (heading, _) in SECTIONS.items():
        if ref in defs:
            out += [f"## {heading}", "", defs[ref].get("description", ""), ""]
            out += [key_table(defs[ref], defs), ""]
    out += list(
        kinds(
            "wrappers",
            _entries(schema, "wrappers"),
            defs,
            "Any other wrapper: a `gymnasium.wrappers` class or `package.module:Class`",
        )
    )
    out += list(
        kinds("agent", _entries(schema, "agent"), defs, "Your own agent: `package.module:attr`")
    )
    return "\n".join(out).rstrip() + "\n"


# -- the site --------------------------------------------------------------------------------

PAGES = {"reference/cli.md": cli_page, "reference/config.md": config_page}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """MkDocs event: the generated pages join the documentation's own."""
    from mkdocs.structure.files import File

    for path, page in PAGES.items():
        files.append(File.generated(config, path, content=page()))
    return files


if __name__ == "__main__":
    for page in PAGES.values():
        print(page())
