"""The documentation site builds with ``mkdocs build --strict`` (a broken link or anchor, a
page left out of the navigation, a docstring that does not render is an error), and holds
what a reader looks for: every command's help, every config key, every public name."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

import gymrun
from gymrun.cli import app
from gymrun.config import config_schema
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

QUIET = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return out


def text_of(page: Path) -> str:
    """A built page as a reader sees it: tags stripped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def help_of(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    for name in ("FORCE_COLOR", "PY_COLORS", "GITHUB_ACTIONS", "TERMINAL_WIDTH"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "gymrun", *args, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


def listed_commands() -> list[str]:
    """The commands ``gymrun --help`` lists in its Commands panel."""
    panel = help_of().split("Commands")[1]
    return re.findall(r"^│ (\S+) ", panel, re.MULTILINE)


def test_the_site_holds_every_page_of_the_navigation(site: Path) -> None:
    for page in ("index", "guide/configs", "guide/sweeps", "reference/cli", "development"):
        assert (site / page / "index.html").is_file() or (site / f"{page}.html").is_file()
    assert (site / "images" / "board-index.png").is_file()


def test_the_cli_reference_holds_the_help_of_every_command(site: Path) -> None:
    page = text_of(site / "reference" / "cli" / "index.html")
    commands = listed_commands()
    assert len(commands) >= 12 and "run" in commands and "list-envs" in commands
    for args in [(), *[(command,) for command in commands]]:
        for line in help_of(*args).splitlines():
            assert line.rstrip() in page, (args, line)


def test_the_cli_reference_shows_each_example_on_a_line_of_its_own(site: Path) -> None:
    page = text_of(site / "reference" / "cli" / "index.html")
    lines = [line.strip() for line in page.splitlines()]
    group = typer.main.get_command(app)
    for name, command in getattr(group, "commands", {}).items():
        # each example a line of inline code (`gymrun ...`, a markdown line break after it)
        examples = [
            example
            for line in (command.help or "").splitlines()
            if (example := line.strip().rstrip("\\").strip("`")).startswith(f"gymrun {name}")
        ]
        assert examples, name
        for example in examples:
            # the whole example, or its start when the terminal's width wrapped it (the
            # table of commands above has lines of `gymrun NAME` alone)
            assert any(
                example.startswith(line) and len(line) >= min(len(example), 30) for line in lines
            ), example


def test_the_config_reference_names_every_key_of_the_schema(site: Path) -> None:
    page = (site / "reference" / "config" / "index.html").read_text(encoding="utf-8")
    text = text_of(site / "reference" / "config" / "index.html")
    schema = config_schema()
    for key, node in schema["properties"].items():
        assert f"<code>{key}</code>" in page, key
        assert node["description"] in text, key
    for section in ("EnvConfig", "RecordConfig", "VectorConfig", "Sb3AgentConfig"):
        for key, node in schema["$defs"][section]["properties"].items():
            assert f"<code>{key}</code>" in page, (section, key)
            if "description" in node:
                assert html.escape(node["description"], quote=False) in page, (section, key)
    for name in ("epsilon_random", "frame_stack", "random", "dynamic_programming", "planner"):
        assert f"<code>{name}</code></h3>" in page or f"<code>{name}</code><a" in page, name


def test_the_api_page_documents_every_public_name(site: Path) -> None:
    page = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    for name in gymrun.__all__:
        assert f'id="gymrun.{name}"' in page, name
    text = text_of(site / "reference" / "api" / "index.html")
    assert "Run every episode of `config`" in text or "Run every episode of config" in text
    assert "&gt;&gt;&gt;" not in page.split('id="gymrun.run_experiment"')[1][:200]


def test_the_site_reads_offline(site: Path) -> None:
    for page in site.rglob("*.html"):
        assert "fonts.googleapis.com" not in page.read_text(encoding="utf-8"), page


def test_the_readme_links_into_pages_and_anchors_that_exist(site: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((docs/[^)#\s]+)(?:#([^)\s]+))?\)", readme)
    assert len(links) >= 10
    for path, anchor in links:
        assert (ROOT / path).is_file(), path
        if anchor and path.endswith(".md"):
            built = site / Path(path).relative_to("docs").with_suffix("")
            built = built.parent if built.name == "index" else built
            assert f'id="{anchor}"' in (built / "index.html").read_text(encoding="utf-8"), anchor
