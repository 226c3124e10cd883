"""The board of the documentation's examples, and the screenshots of it in docs/images/.

    .venv/bin/python docs/board_screenshots.py

Runs the shipped configs in a fresh directory (the random and scripted CartPole agents,
the epsilon experiment with epsilon 0.25 and 0.5 over seeds 0 to 4, the epsilon sweep, and
the random agent with video), builds the board, photographs its index and a run page in
Debian's chromium (docs/images/board-index.png, board-run.png, board-phone.png) and
prints the comparison of the two epsilon groups as the board shows it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from gymrun.board.site import interval

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def gymrun(cwd: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "gymrun", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL
    )


def record(cwd: Path) -> None:
    gymrun(cwd, "run", "configs/cartpole_random.yaml", "-q")
    gymrun(cwd, "run", "configs/cartpole_balance.yaml", "-q")
    for epsilon in ("0.25", "0.5"):
        for seed in range(5):
            gymrun(
                cwd,
                "run",
                "configs/cartpole_epsilon.yaml",
                "-q",
                "--set",
                f"wrappers.0.epsilon={epsilon}",
                "--seed",
                str(seed),
            )
    gymrun(cwd, "sweep", "configs/cartpole_epsilon_sweep.yaml")
    gymrun(
        cwd,
        "run",
        "configs/cartpole_random.yaml",
        "-q",
        "--set",
        "name=cartpole_random_video",
        "--set",
        "record={video: true, episodes: [0, 99]}",
    )


def photograph(board: Path) -> None:
    [run] = (board / "runs" / "cartpole_random_video").iterdir()
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path="/usr/bin/chromium", headless=True, args=ARGS
        )
        page = context.new_page()
        for path, target, width, height, whole in (
            (board / "index.html", "board-index.png", 1280, 800, True),
            (run / "index.html", "board-run.png", 1280, 1650, False),
            (board / "envs" / "CartPole-v1" / "compare.html", "board-phone.png", 375, 1300, False),
        ):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            page.wait_for_function("[...document.images].every(i => i.complete)")
            page.wait_for_function(  # the charts the page draws
                "[...document.querySelectorAll('.chart')].every(c => c.querySelector('canvas'))"
            )
            page.wait_for_function(
                "[...document.querySelectorAll('video')].every(v => v.readyState >= 2)"
            )
            page.screenshot(path=str(IMAGES / target), full_page=whole)
        context.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        shutil.copytree(ROOT / "configs", cwd / "configs")
        record(cwd)
        gymrun(cwd, "board")
        photograph(cwd / "board")
        compare = json.loads((cwd / "board/envs/CartPole-v1/compare.json").read_text())
    print_comparison(compare)


def print_comparison(compare: dict[str, Any]) -> None:
    """The two epsilon groups, as the scoreboard guide shows them."""
    wanted = [g for g in compare["groups"] if g["label"].startswith("cartpole-epsilon:")]
    print(f"{'group':<43}{'runs':>4}  {'IQM [95% CI over runs]':<23}mean [95% CI over runs]")
    for g in wanted:
        iqm, mean = interval(g["iqm"]), interval(g["mean"])
        print(f"{g['label']:<43}{len(g['scored_runs']):>4}  {iqm:<23}{mean}")
    keys = compare["improvement"]["groups"]
    a, b = (keys.index(g["key"]) for g in wanted)
    better, worse = (g["label"].split(": ", 1)[1] for g in wanted)
    p = interval(compare["improvement"]["matrix"][a][b])
    print(f"P({better} > {worse}) = {p}")


if __name__ == "__main__":
    main()
