"""Run every command the documentation shows output of, and put the output in the page.

A sample is a ```text block whose first line is ``$ gymrun ...``, in README.md or any page
under docs/. Each ``$`` line is run (in a scratch directory holding a copy of ``configs/``
and ``examples/``,
one scratch directory per page so that a page's samples may build on each other, 100 columns
wide, as a user would see it in a terminal: stdout and stderr together), and what it printed
replaces what the block had. With ``--check`` nothing is written: the script exits 1 naming
each sample that is no longer what gymrun prints (run times and record directories' time
stamps aside).

    .venv/bin/python scripts/doc_samples.py                          # rewrite every page
    .venv/bin/python scripts/doc_samples.py --check                  # what the test suite runs
    .venv/bin/python scripts/doc_samples.py docs/guide/sweeps.md     # one page
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTH = "100"
HOME = "~/gymrun"  # how the samples name the checkout

# Files the samples use that are not in the repo: a config with four mistakes, one with a
# mistake only building finds, and one with values YAML 1.1 reads otherwise.
FIXTURES = {
    "bad.yaml": """\
env: CartPol-v1
wrappers:
  - name: epsilon_random
    epsilon: 1.5
  - name: scale_reward
    scale: 0.5
  - name: ClipReward
    min_rewrd: -1
    max_reward: 1
agent:
  name: constant
  action: 0
episods: 100
""",
    # a mistake only building the wrapper finds
    "clip.yaml": """\
env: CartPole-v1
wrappers:
  - name: ClipReward
    min_reward: 5
    max_reward: 1
""",
    # values that YAML 1.1 and YAML 1.2 read differently
    "yaml11.yaml": """\
env: CartPole-v1
agent: random
episodes: 010
record: {video: yes}
""",
}

FENCE = re.compile(r"^```text\n(\$ gymrun .*?)^```$", re.MULTILINE | re.DOTALL)
# What differs from one run of a sample to the next, masked when checking.
VARYING = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ(-\d+)?"), "TIME"),
    (re.compile(r"\b\d+ (tasks?|runs?) in \d+ s\b"), "N in S s"),
]


def pages() -> list[Path]:
    """README.md and every Markdown page of the documentation."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def commands(block: str) -> list[tuple[str, bool]]:
    """The ``$`` lines of a block, each with whether a blank line comes before it."""
    lines = block.splitlines()
    return [
        (line[2:], i > 0 and lines[i - 1] == "")
        for i, line in enumerate(lines)
        if line.startswith("$ ")
    ]


def run(command: str, scratch: Path) -> str:
    args = shlex.split(command)
    assert args[0] == "gymrun", command
    env = {**os.environ, "COLUMNS": WIDTH, "NO_COLOR": "1", "TERM": "dumb"}
    for name in ("GYMRUN_DEBUG", "FORCE_COLOR", "PY_COLORS", "TERMINAL_WIDTH"):
        env.pop(name, None)
    # Minari datasets go in the scratch directory, shown where Minari keeps them by default
    home = scratch / "home"
    env["MINARI_DATASETS_PATH"] = str(home / ".minari" / "datasets")
    result = subprocess.run(
        [sys.executable, "-m", "gymrun", *args[1:]],
        cwd=scratch,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        check=False,
    )
    text = result.stdout
    for path in (home.resolve(), home):
        text = text.replace(str(path), "~")
    text = text.replace(str(scratch.resolve()), HOME).replace(str(scratch), HOME)
    return "\n".join(line.rstrip() for line in text.splitlines())


def rendered(block: str, scratch: Path) -> str:
    parts = []
    for command, spaced in commands(block):
        parts.append(("\n" if spaced else "") + f"$ {command}\n" + run(command, scratch) + "\n")
    return "".join(parts)


def masked(text: str) -> str:
    for pattern, replacement in VARYING:
        text = pattern.sub(replacement, text)
    return text


def refresh(page: Path) -> tuple[str, int, list[tuple[str, str, str]]]:
    """The page with its samples run again, how many it has, and those that changed."""
    text = page.read_text(encoding="utf-8")
    stale: list[tuple[str, str, str]] = []
    count = len(FENCE.findall(text))
    if not count:
        return text, 0, stale
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        shutil.copytree(ROOT / "configs", scratch / "configs")
        shutil.copytree(ROOT / "examples", scratch / "examples")  # what configs import
        for name, content in FIXTURES.items():
            (scratch / name).write_text(content, encoding="utf-8")

        def replace(match: re.Match[str]) -> str:
            block = match.group(1)
            fresh = rendered(block, scratch)
            if masked(fresh) != masked(block):
                stale.append((commands(block)[0][0], block, fresh))
            return f"```text\n{fresh}```"

        updated = FENCE.sub(replace, text)
    return updated, count, stale


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    parser.add_argument("pages", nargs="*", type=Path, help="only these pages (default: all)")
    options = parser.parse_args()
    chosen = [path.resolve() for path in options.pages] or pages()
    samples = updated = 0
    for page in chosen:
        text, count, stale = refresh(page)
        samples += count
        updated += len(stale)
        where = page.relative_to(ROOT)
        if options.check:
            for first, old, new in stale:
                print(f"{where}: sample '$ {first}' is not what gymrun prints now:")
                diff = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
                print("\n".join(list(diff)[2:]))
        elif stale:
            page.write_text(text, encoding="utf-8")
    if options.check:
        if updated:
            print(f"{updated} stale sample(s): run scripts/doc_samples.py to update")
        else:
            print(f"{samples} samples in {len(chosen)} pages are what gymrun prints")
        return 1 if updated else 0
    print(f"{samples} samples run in {len(chosen)} pages, {updated} updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
