"""What the output looks like at any width: tables that fit by leaving columns out or
abbreviating headings (never by cutting a number), messages that stay one line, natural
widths in a pipe, and numbers rounded by one rule."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gymrun.numbers import figure, interval
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


def headings(table: str) -> list[str]:
    """The headings of the first table in `table`, each whole (a heading may wrap)."""
    lines = table.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    rule = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    rows = [[cell.strip() for cell in line.split("┃")[1:-1]] for line in lines[top + 1 : rule]]
    return [" ".join(filter(None, parts)) for parts in zip(*rows, strict=True)]


def left_out(out: str) -> list[str]:
    """The columns the note under a table names as not shown (the note may wrap)."""
    text = " ".join(out.split())
    found = re.search(r"not shown: (.*?) \(--wide or a wider terminal shows them\)", text)
    return [] if found is None else found.group(1).split(", ")


@pytest.mark.parametrize("width", [80, 60])
def test_compare_fits_by_leaving_columns_out(two_runs: list[str], width: int) -> None:
    code, out, _ = at_width(width, "compare", *two_runs)
    assert code == 0
    assert widest(out) <= width
    assert "…" not in out  # no heading or number cut short
    table = out.split("Groups on")[0]
    shown = headings(table)
    # what ran and its score stay at every width; the rest go, least needed first
    assert shown[:3] == ["run", "env", "agent"] and "mean ± std" in shown
    assert ("wrappers" in shown) == (width >= 80) and "episodes" in shown
    assert "21.3 ± 8.7 ★" in table and "13.0 ± 2.9" in table
    assert "CartPole-v1" in table and "constant" in table
    # the note names every column left out, and --wide shows them all
    wide = headings(at_width(width, "compare", *two_runs, "--wide")[1])
    assert wide == [
        "run",
        "env",
        "agent",
        "wrappers",
        "episodes",
        "mean ± std",
        "reached",
        "verdict",
    ]
    assert sorted(left_out(table)) == sorted(set(wide) - set(shown))


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
    assert "┃ run ┃ env         ┃ agent    ┃ wrappers       ┃ episodes ┃" in table
    assert "│ b   │ CartPole-v1 │ constant │ epsilon_random │" in table
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


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs, a sweep and baselines recorded once for the tables of every command."""
    base = tmp_path_factory.mktemp("tables")
    here = Path.cwd()
    os.chdir(base)
    try:
        for args in (
            ("run", RANDOM, "-n", "12", "-o", "a", "-q"),
            ("run", EPSILON, "-n", "12", "-o", "b", "-q"),
            ("run", "Acrobot-v1", "-n", "2", "-o", "c", "-q"),
            ("sweep", SWEEP, "--set", "episodes=3", "--set", "sweep.seeds=[0]", "-o", "s"),
            ("baselines", "CartPole*", "-n", "3", "-o", "bl"),
            ("baselines", "Pusher-v5", "-n", "3", "-o", "pusher"),  # no shipped agent
        ):
            assert at_width(200, *args).code == 0, args
    finally:
        os.chdir(here)
    return base


def baseline_scores(directory: Path) -> list[str]:
    """Every number a baselines row needs, as text: threshold, the agent, its mean, and the
    random agent's score where it is the only one."""
    from gymrun.baselines import interval

    document = json.loads(gymrun("show", str(directory), "--json").stdout)
    needed = []
    for task in document["tasks"]:
        needed += [task["env_id"], figure(task["threshold"])]
        if task["baseline"] is None:
            needed.append(interval(task["random"]))
        else:
            needed += [task["baseline"]["agent"], interval(task["baseline"]).split(" ")[0]]
    return needed


# headings a narrow table shortens (a sweep's keys lose all but their last part)
SHORT = {"threshold": "goal", "max steps": "steps", "reward threshold": "threshold"}


@pytest.mark.parametrize("width", [80, 60])
def test_every_table_keeps_what_matters_and_says_what_it_left_out(
    recorded: Path, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(recorded)
    acrobot = json.loads(Path("c/summary.json").read_text())
    sweep = json.loads(Path("s/sweep.json").read_text())
    best = sweep["points"][sweep["best"]]
    commands: dict[tuple[str, ...], list[str]] = {
        ("run", RANDOM, "-n", "3", "--no-record", "--seeds"): ["41", "22", "36"],
        ("show", "a"): ["21.3 ± 8.7", "195"],
        ("compare", "a", "b", "c"): [
            "CartPole-v1",
            "Acrobot-v1",
            "random",
            "constant",
            "21.3 ± 8.7 ★",
            "13.0 ± 2.9",
            f"{figure(acrobot['mean_reward'])} ± {figure(acrobot['std_reward'])}",
            "195",
            "-100",
        ],
        ("sweep", SWEEP, "--dry-run"): ["0.25", "300"],
        ("show", "s"): [interval(best["mean_reward"], *best["ci95"]) + " ★"],
        ("show", "bl"): baseline_scores(recorded / "bl"),
        ("show", "pusher"): baseline_scores(recorded / "pusher"),
        ("list-envs", "CartPole*"): ["CartPole-v0", "CartPole-v1", "195", "475"],
        ("inspect", "CartPole-v1"): ["475", "500"],
        ("doctor",): ["classic control", "toy text"],
    }
    for args, needed in commands.items():
        code, out, err = at_width(width, *args)
        assert code == 0, (args, err)
        assert widest(out) <= width, args
        assert "…" not in out, args
        for value in needed:  # whole, on one line of a row
            assert any(value in line for line in out.splitlines()), (args, value)
        wide = at_width(width, *args, "--wide") if args[0] != "inspect" else None
        if wide is not None and "┏" in out:
            narrow = set(headings(out))
            dropped = set(headings(wide.stdout)) - narrow
            shortened = {h for h in dropped if {SHORT.get(h), h.rpartition(".")[2]} & narrow}
            assert set(left_out(out.split("\n┏", 2)[1])) >= dropped - shortened, args
            assert "not shown" not in wide.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["run", RANDOM],
        ["sweep", SWEEP],
        ["duel", RANDOM, RANDOM],
        ["baselines", "CartPole-v1"],
        ["show", "a"],
        ["compare", "a"],
        ["doctor"],
        ["list-envs", "CartPole"],
    ],
)
def test_wide_with_json_is_refused_not_ignored(command: list[str]) -> None:
    # --json prints no table, so --wide could only be ignored
    code, out, err = gymrun(*command, "--json", "--wide")
    assert (code, out) == (2, "")
    assert err == "error: --json prints no table to widen: drop --wide\n"
    assert not Path("recordings").exists()


def test_wide_with_markdown_is_refused_not_ignored() -> None:
    code, out, err = gymrun("baselines", "CartPole-v1", "--markdown", "--wide", "--no-record")
    assert (code, out) == (2, "")
    assert err == "error: --markdown prints its table whole, as Markdown: drop --wide\n"
