"""What the output looks like at any width: tables that fit by leaving columns out or
abbreviating headings (never by cutting a number), messages that stay one line, natural
widths in a pipe, and numbers rounded by one rule."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import Result, gymrun
from tests.support.paths import CONFIGS

RANDOM = str(CONFIGS / "cartpole_random.yaml")
EPSILON = str(CONFIGS / "cartpole_epsilon.yaml")
SWEEP = str(CONFIGS / "cartpole_epsilon_sweep.yaml")


def at_width(width: int, *args: str) -> Result:
    return gymrun(*args, env={"COLUMNS": str(width)})


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


@pytest.fixture
def two_runs() -> list[str]:
    for name, config in (("a", RANDOM), ("b", EPSILON)):
        assert at_width(200, "run", config, "-n", "12", "-o", name, "-q")[0] == 0
    return ["a", "b"]


@pytest.mark.parametrize("width", [80, 60, 40])
def test_compare_fits_by_leaving_columns_out(two_runs: list[str], width: int) -> None:
    code, out, _ = at_width(width, "compare", *two_runs)
    assert code == 0
    assert widest(out) <= width
    assert "…" not in out  # no heading or number cut short
    table = out.split("Groups on")[0]
    lines = table.splitlines()
    headings = " ".join(lines[2 : next(i for i, line in enumerate(lines) if "┡" in line)])
    # the run, its episodes and its mean stay at every width; the rest go, least useful first
    for heading in ("run", "episodes", "mean ± std"):
        assert heading in headings
    assert ("reached" in headings) == (width >= 80)
    assert ("verdict" in headings) == (width >= 60)
    assert "21.3 ± 8.7 ★" in table and "13.0 ± 2.9" in table


def test_a_sweep_heading_is_abbreviated_before_columns_go() -> None:
    code, out, _ = at_width(50, "sweep", SWEEP, "--dry-run")
    assert code == 0 and widest(out) <= 50 and "…" not in out
    assert re.search(r"┃ point ┃ epsilon ┃ seeds +┃ episodes ┃", out)
    assert "│     2 │    0.25 │ 0, 1, 2 │      300 │" in out
    code, out, _ = at_width(120, "sweep", SWEEP, "--dry-run")
    assert "┃ wrappers.0.epsilon ┃" in out


def test_the_episode_table_keeps_rewards_whole_when_narrow() -> None:
    code, out, _ = at_width(40, "run", RANDOM, "-n", "3", "--no-record", "--seeds")
    assert code == 0 and "…" not in out
    episodes = out.split("cartpole_random:")[0]
    assert widest(episodes) <= 40
    assert re.search(r"┃ episode ┃ reward ┃ steps ┃", episodes)
    assert "│       0 │     41 │    41 │" in episodes


def test_messages_stay_one_line_however_narrow(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("env: CartPole-v1\nepisods: 3\n")
    code, _, err = at_width(30, "run", str(config))
    assert code == 2
    assert err == f"error: {config}:2 episods: unknown key; did you mean 'episodes'?\n"


def test_in_a_pipe_tables_keep_their_natural_width(two_runs: list[str]) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    piped = subprocess.run(
        [sys.executable, "-m", "gymrun", "compare", *two_runs],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    table = piped.stdout.split("Groups on")[0]
    assert "┃ run ┃ env, agent, wrappers                  ┃ episodes ┃" in table
    assert "│ b   │ CartPole-v1, constant, epsilon_random │" in table
    assert widest(table) > 80  # not squeezed into the 80 columns rich assumes


def test_numbers_are_rounded_by_their_uncertainty(two_runs: list[str]) -> None:
    code, out, _ = at_width(200, "show", "a")
    assert code == 0
    # 12 episodes: mean 21.33, std 8.70 -> two significant digits of the std
    assert "reward   │ 21.3 ± 8.7  (min 11, max 41)" in out
    assert "steps    │ 21.33 on average" in out
    code, out, _ = at_width(200, "inspect", "CartPole-v1")
    assert "low=[-4.8, -inf, -0.4189, -inf]" in out
    assert "reward threshold  │ 475" in out
    code, out, _ = at_width(200, "sweep", SWEEP, "--set", "episodes=20", "--no-record")
    assert code == 0
    # each mean to the decimals its interval's half width allows
    assert re.search(r"│ +0\.0 │ +60 │ +9\.\d\d \[9\.\d\d, (9|10)\.\d\d\] │", out)
