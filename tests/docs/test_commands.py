"""The commands the README and the pages under docs/ show work as written: each option they
give a gymrun command is one it takes, each file of the checkout they name exists, and the
commands a reader adapts (a model file of their own) find what they name. The commands whose
output a page shows are run again by ``scripts/doc_samples.py``."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main

from gymrun.cli import app
from tests.support.paths import CONFIGS, ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# `gymrun [--top-level-option] COMMAND ...` up to the end of the line, code span or comment
COMMAND = re.compile(r"\bgymrun(?: --?[\w-]+)* ([a-z][a-z-]+)\b([^`\n#]*)")
# the checkout's own files, as a page names them (configs/cartpole_random.yaml, ...)
CHECKOUT_FILE = re.compile(r"(?<![\w/.~-])((?:configs|examples|scripts|benchmarks)/[\w./-]*\w)")
# files the pages name as what a reader would make: shown in an error they lead to
NOT_SHIPPED = {"configs/models/ppo_cartpole.zip"}


def options_of_each_command() -> dict[str, set[str]]:
    group = typer.main.get_command(app)
    return {
        name: {"--help", "-h"} | {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for name, command in getattr(group, "commands", {}).items()
    }


def shown_commands() -> list[tuple[str, str, str]]:
    """Each ``gymrun COMMAND ...`` of the pages: where, the command, the rest of its line."""
    commands = options_of_each_command()
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in COMMAND.finditer(text):
            if match.group(1) in commands:  # not prose ("gymrun runs the episodes")
                line = text.count("\n", 0, match.start()) + 1
                found.append((f"{page.relative_to(ROOT)}:{line}", match.group(1), match.group(2)))
    return found


def test_every_option_the_docs_give_a_command_is_one_it_takes() -> None:
    commands = options_of_each_command()
    shown = shown_commands()
    assert len(shown) > 150
    unknown = [
        f"{where}: gymrun {name} {option}"
        for where, name, rest in shown
        for option in re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", rest)
        if option not in commands[name]
    ]
    assert unknown == []


def test_every_file_of_the_checkout_the_docs_name_exists() -> None:
    named = {
        (page.relative_to(ROOT), path)
        for page in PAGES
        for path in CHECKOUT_FILE.findall(page.read_text(encoding="utf-8"))
    }
    assert len(named) > 30
    missing = [
        f"{page}: {path}"
        for page, path in sorted(named)
        if path not in NOT_SHIPPED and not any(ROOT.glob(path))
    ]
    assert missing == []


@pytest.mark.slow
def test_the_atari_commands_find_the_model_file_they_name(tmp_path: Path) -> None:
    # a reader's model is in the working directory: each command must find it there, not
    # in configs/ (a path typed on the command line is read from the working directory)
    pytest.importorskip("ale_py")
    pytest.importorskip("stable_baselines3")
    shutil.copytree(CONFIGS, tmp_path / "configs")
    page = (ROOT / "docs" / "guide" / "trained-models.md").read_text(encoding="utf-8")
    lines = re.findall(r"^gymrun run configs/atari_sb3\.yaml .*$", page, re.MULTILINE)
    assert len(lines) == 2
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    for line in lines:
        args = shlex.split(line)
        model = next(a for a in args if a.startswith("agent.path=")).removeprefix("agent.path=")
        # a CartPole model where the reader's would be: found, then refused for its spaces
        shutil.copy(CONFIGS / "models" / "cartpole_ppo.zip", tmp_path / Path(model).name)
        result = subprocess.run(
            [sys.executable, "-m", "gymrun", *args[1:], "-n", "1", "--no-record"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert "was trained on observations" in result.stderr, (line, result.stderr)
