"""The board's pages at work in a real browser: a comparison of 16 groups shows every one
of them, a leaderboard sorts, filters, overlays reward curves and downloads as CSV, no page
scrolls sideways, and a served board follows a run as it records."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from gymrun.board.build import build_board, env_slug
from gymrun.board.serve import LIVE_PAGES
from gymrun.numbers import figure
from tests.support.board_runs import QUITTER, gymrun_in
from tests.support.browser import Visit, crawl
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import default_signals

EPSILONS = [round(0.05 * n, 2) for n in range(16)]
GYMRUN = [sys.executable, "-m", "gymrun"]


@pytest.fixture(scope="module")
def sixteen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A board of 16 groups on CartPole-v1 (a sweep of epsilon over two seeds), and one run
    judged against CartPole-v1's own boundary (475) instead of the sweep's 195."""
    base = tmp_path_factory.mktemp("sixteen")
    (base / "eps.yaml").write_text(
        "name: eps\nenv: CartPole-v1\nwrappers: [{name: epsilon_random, epsilon: 0.5}]\n"
        "agent: {name: constant, action: 0}\nepisodes: 5\nreward_boundary: 195\n"
        f"sweep:\n  wrappers.0.epsilon: {EPSILONS}\n  seeds: [0, 1]\n"
    )
    gymrun_in(base, "sweep", "eps.yaml", "-o", "recordings/eps")
    gymrun_in(base, "run", "CartPole-v1", "-n", "5", "-q")
    build_board(base / "recordings", base / "site")
    return base / "site"


def test_a_comparison_shows_every_group_and_draws_what_is_ticked(
    browser: BrowserContext, sixteen: Path
) -> None:
    compare = json.loads((sixteen / "envs" / "CartPole-v1" / "compare.json").read_text())
    assert len(compare["groups"]) == 17  # the sweep's 16 points and the lone run
    visit = Visit(browser, sixteen / "envs" / "CartPole-v1" / "compare.html")
    page = visit.page
    labels = visit.texts("table.groups tbody td:nth-child(2)")
    assert labels == [g["label"] for g in compare["groups"]]
    # every pair of the scored groups has its interval in the table
    assert len(compare["improvement"]["groups"]) == 17
    assert page.locator("table.improvement tbody tr").count() == 17
    # the map has a cell for every pair, and says what a cell holds
    canvas = page.locator("canvas[data-chart=improvement]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] == box["height"] and box["width"] >= 17
    page.mouse.move(box["x"] + box["width"] * 0.5 / 17, box["y"] + box["height"] * 1.5 / 17)
    first, second = (g["label"] for g in compare["groups"][:2])
    assert page.locator("#improvement-tip").inner_text().startswith(f"P({second} > {first}) = ")
    # the profiles: of every group with several runs, as ticked
    legend = "[data-chart=profiles] .u-legend .u-series"
    profiled = json.loads((sixteen / "envs" / "CartPole-v1" / "profile.json").read_text())
    assert len(profiled["groups"]) == 16

    def drawn() -> list[str]:
        return [t for t in visit.texts(legend) if t not in ("", "τ")]

    assert drawn() == profiled["groups"]
    for label in profiled["groups"][3:6]:
        page.get_by_label(label, exact=True).uncheck()
    assert drawn() == profiled["groups"][:3] + profiled["groups"][6:]
    assert page.locator("#improvement-shown").inner_text().startswith("14 groups")
    page.get_by_role("button", name="none").click()
    assert drawn() == []
    page.get_by_role("button", name="all").click()
    assert drawn() == profiled["groups"]
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert not visit.sideways(), width
    assert visit.errors == []
    visit.close()


def cells(visit: Visit, column: int) -> list[str]:
    return visit.texts(f"table.leaderboard tbody td:nth-child({column})")


def number(cell: str) -> float:
    return float(cell.split()[0])


def test_a_leaderboard_sorts_filters_overlays_and_downloads(
    browser: BrowserContext, sixteen: Path
) -> None:
    visit = Visit(browser, sixteen / "envs" / "CartPole-v1" / "index.html")
    page = visit.page
    heads = visit.texts("table.leaderboard thead th")
    assert heads[:4] == ["select", "#", "run", "mean reward [95% CI]"]
    assert "boundary" in heads  # 195 and 475 on one leaderboard
    score, boundary = heads.index("mean reward [95% CI]") + 1, heads.index("boundary") + 1
    assert page.locator(".count").inner_text() == "33 runs"
    assert set(cells(visit, boundary)) == {"195", "475"}
    ranks = [int(r) for r in cells(visit, 2)]
    assert ranks == sorted(ranks)  # ranked to start with
    page.locator("th[data-sort=score]").click()
    ascending = [number(c) for c in cells(visit, score)]
    assert ascending == sorted(ascending)
    page.locator("th[data-sort=score]").click()
    assert [number(c) for c in cells(visit, score)] == sorted(ascending, reverse=True)
    assert page.locator("th[data-sort=score]").get_attribute("aria-sort") == "descending"
    # filters: by text, by agent, by wrapper, by status
    page.locator("input[data-filter=text]").fill("epsilon=0.25")
    assert page.locator(".count").inner_text() == "2 of 33 runs"
    page.locator("input[data-filter=text]").fill("")
    page.locator("select[data-filter=agent]").select_option("random")
    assert page.locator(".count").inner_text() == "1 of 33 runs"
    page.locator("select[data-filter=agent]").select_option("")
    page.locator("select[data-filter=wrapper]").select_option("epsilon_random (epsilon=0.5)")
    assert page.locator(".count").inner_text() == "2 of 33 runs"
    page.locator("select[data-filter=wrapper]").select_option("")
    page.locator("select[data-filter=status]").select_option("completed")
    assert page.locator(".count").inner_text() == "33 runs"
    # two runs' reward curves laid over each other, with the boundary
    rows = page.locator("table.leaderboard tbody tr")
    chosen = [rows.nth(0).get_attribute("data-run"), rows.nth(5).get_attribute("data-run")]
    rows.nth(0).locator("input[data-select]").check()
    rows.nth(5).locator("input[data-select]").check()
    page.get_by_role("button", name="Overlay 2 selected curves").click()
    page.wait_for_selector("[data-chart=overlay] canvas")
    series = [t for t in visit.texts("[data-chart=overlay] .u-legend .u-series") if t]
    boundaries = {
        r.locator("td").nth(boundary - 1).inner_text() for r in (rows.nth(0), rows.nth(5))
    }
    assert len(series) == 2 + len(boundaries)  # the two runs, and their boundaries
    assert {s.removeprefix("boundary ") for s in series[2:]} == boundaries
    # the table as CSV: the rows shown, in the order shown
    page.locator("th[data-sort=episodes]").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    text = Path(download.value.path()).read_text()
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["run"] for r in table] == [r.get_attribute("data-run") for r in rows.all()]
    assert {float(r["reward_boundary"]) for r in table} == {195.0, 475.0}
    assert set(chosen) <= {r["run"] for r in table}
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert not visit.sideways(), width
    assert visit.errors == []
    visit.close()


def test_the_index_sorts_each_environments_best_runs_as_its_page_does(
    browser: BrowserContext, sixteen: Path
) -> None:
    """The index's table of an environment's ten best runs sorts by a click on a heading,
    as the environment's page does: the same ten runs, in the order asked for."""
    index = json.loads((sixteen / "index.json").read_text())
    [cartpole] = index["environments"]
    best = [r["id"] for r in cartpole["runs"]]
    visit = Visit(browser, sixteen / "index.html")
    page = visit.page
    table = page.locator("#env-CartPole-v1 table.leaderboard")
    caption = f"Best 10 of {cartpole['run_count']} (judged against different reward boundaries)"
    assert table.locator("caption").inner_text() == caption

    def shown(column: int) -> tuple[list[str], list[str]]:
        rows = table.locator("tbody tr")
        return [r.get_attribute("data-run") or "" for r in rows.all()], [
            t.strip() for t in rows.locator(f"td:nth-child({column})").all_inner_texts()
        ]

    heads = [t.strip() for t in table.locator("thead th").all_inner_texts()]
    score = heads.index("mean reward [95% CI]")
    assert shown(1) == (best, [str(n) for n in range(1, 11)])  # ranked to start with
    table.locator("th[data-sort=score]").click()
    runs, cells = shown(score + 1)
    ascending = [number(c) for c in cells]
    assert sorted(runs) == sorted(best) and runs != best
    assert ascending == sorted(ascending)
    assert table.locator("th[data-sort=score]").get_attribute("aria-sort") == "ascending"
    table.locator("th[data-sort=score]").click()
    assert [number(c) for c in shown(score + 1)[1]] == sorted(ascending, reverse=True)
    table.locator("th[data-sort=rank]").press("Enter")  # by the keyboard too
    assert shown(1) == (best, [str(n) for n in range(1, 11)])
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        assert not visit.sideways(), width
    assert visit.errors == []
    visit.close()


def test_a_leaderboard_shows_every_column_on_a_laptop_and_fits_a_phone(
    browser: BrowserContext, sixteen: Path, tmp_path: Path
) -> None:
    """At 1280 px the leaderboards, a boundary column among theirs, show every column up to
    the status without scrolling their box; at 375 px an agent of a long name (in the agent
    filter's choices) does not make the page scroll sideways."""
    for path in (sixteen / "index.html", sixteen / "envs/CartPole-v1/index.html"):
        visit = Visit(browser, path)
        hidden = visit.page.evaluate(
            "[...document.querySelectorAll('table.leaderboard')]"
            ".map(t => t.scrollWidth - t.parentElement.clientWidth)"
        )
        assert hidden and max(hidden) <= 0, (path, hidden)
        visit.close()
    (tmp_path / "a_planner_of_many_words.py").write_text(
        "class CrossEntropyPlannerWithEveryOptionSpelledOutInItsName:\n"
        "    def act(self, observation):\n        return 0\n"
    )
    (tmp_path / "long.yaml").write_text(
        "imports: [tests.support.fake_env]\nenv: gymrun-test/Fake-v0\nepisodes: 3\n"
        "agent: a_planner_of_many_words:CrossEntropyPlannerWithEveryOptionSpelledOutInItsName\n"
    )
    code, _, err = gymrun(
        "run", str(tmp_path / "long.yaml"), "-q", "-o", str(tmp_path / "rec/long")
    )
    assert code == 0, err
    build_board(tmp_path / "rec", tmp_path / "site")
    page = tmp_path / "site/envs" / env_slug("gymrun-test/Fake-v0") / "index.html"
    visit = Visit(browser, page, width=375)
    assert "CrossEntropyPlanner" in visit.page.locator("select[data-filter=agent]").inner_text()
    assert not visit.sideways()
    assert visit.errors == []
    visit.close()


def test_a_leaderboard_search_matches_every_word_and_whole_numbers(
    browser: BrowserContext, sixteen: Path
) -> None:
    visit = Visit(browser, sixteen / "envs" / "CartPole-v1" / "index.html")
    page = visit.page
    search = page.locator("input[data-filter=text]")
    assert "all words must match" in (search.get_attribute("placeholder") or "")
    assert (search.get_attribute("title") or "").startswith("Every word must match.")

    def found(text: str) -> list[str]:
        search.fill(text)
        return [r.get_attribute("data-run") or "" for r in page.locator("tbody tr").all()]

    seed_0 = found("seed 0")  # the seed, not every run with a 0 in its id
    assert page.locator(".count").inner_text() == "16 of 33 runs"
    assert sorted(seed_0) == sorted(f"eps/epsilon={e}-seed=0" for e in EPSILONS)
    assert sorted(found("seed:1")) == sorted(f"eps/epsilon={e}-seed=1" for e in EPSILONS)
    # a number is a whole number: epsilon=0.5 is not epsilon=0.55
    assert sorted(found("epsilon=0.5")) == ["eps/epsilon=0.5-seed=0", "eps/epsilon=0.5-seed=1"]
    assert found("seed=1 epsilon=0.05") == ["eps/epsilon=0.05-seed=1"]  # every word
    assert found("wrapper:epsilon agent:random") == []
    assert found("agent:random") == [r for r in found("") if not r.startswith("eps/")]
    assert page.locator(".count").inner_text() == "33 runs"
    assert visit.errors == []
    visit.close()


def test_a_leaderboard_sorts_by_a_metric_and_downloads_it(
    browser: BrowserContext, tmp_path: Path
) -> None:
    """Runs whose env reports ``is_success``: the leaderboard has its column, sorts by it,
    and the CSV carries each run's success rate as its summary has it; the duel's page and
    the run pages with metrics do not scroll sideways."""
    (tmp_path / "goal.yaml").write_text(
        "imports: [tests.support.goal_env]\nenv: gymrun-test/Goal-v0\nepisodes: 20\n"
        "sweep:\n  seeds: [1, 2, 3, 4]\n"
    )
    code, _, err = gymrun("sweep", str(tmp_path / "goal.yaml"), "-o", str(tmp_path / "rec/s"))
    assert code == 0, err
    random = str(CONFIGS / "cartpole_random.yaml")
    code, _, err = gymrun(
        "duel", random, random, "--max-seeds", "1", "-o", str(tmp_path / "rec/duel")
    )
    assert code == 0, err
    site = tmp_path / "site"
    build_board(tmp_path / "rec", site)
    rates = {
        f"s/seed={seed}": json.loads((tmp_path / f"rec/s/seed={seed}/summary.json").read_text())[
            "metrics"
        ]["is_success"]["mean"]
        for seed in (1, 2, 3, 4)
    }
    visit = Visit(browser, site / "envs" / env_slug("gymrun-test/Goal-v0") / "index.html")
    page = visit.page
    heads = visit.texts("table.leaderboard thead th")
    assert heads.index("success [95% CI]") == heads.index("episodes") + 1
    page.locator('th[data-sort="metric:is_success"]').click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    table = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    shown = [float(r["is_success"]) for r in table]
    assert shown == sorted(rates.values())  # ascending, each run's own rate
    assert all(rates[r["run"]] == float(r["is_success"]) for r in table)
    column = heads.index("success [95% CI]") + 1
    assert [number(c) for c in cells(visit, column)] == [round(v, 2) for v in shown]
    assert visit.errors == []
    visit.close()
    for path in (site / "duels/duel/index.html", site / "runs/s/seed=1/index.html"):
        for width in (1280, 375):
            visit = Visit(browser, path, width=width)
            assert not visit.sideways(), (path, width)
            assert visit.errors == [], path
            visit.close()


VERDICT_RUNS = {  # name: the fake env's episode lengths (its reward: 1 a step), episodes
    "early": ("length: 10", 120),  # solved after 0 episodes
    "late": (f"lengths: {[1] * 60 + [10] * 100}", 160),  # solved after 5
    "reached": ("length: 10", 20),  # reached on average
    "noise": ("lengths: [4, 6]", 20),  # within noise: a mean of 5, its interval about it
    "far": ("length: 1", 20),  # not reached on average, 4 below the boundary
    "near": ("length: 4", 120),  # not solved, 1 below it
    "unjudged": ("length: 3", 20),  # no boundary, no verdict
}


def test_a_leaderboard_sorts_verdicts_from_solved_to_farthest(
    browser: BrowserContext, tmp_path: Path
) -> None:
    for name, (lengths, episodes) in VERDICT_RUNS.items():
        boundary = "" if name == "unjudged" else "reward_boundary: 5\n"
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\nimports: [tests.support.fake_env]\n"
            f"env: {{id: gymrun-test/Fake-v0, kwargs: {{{lengths}}}}}\n"
            f"agent: random\nepisodes: {episodes}\nseed: 0\n{boundary}"
        )
        code, _, err = gymrun(
            "run", str(tmp_path / f"{name}.yaml"), "-q", "-o", str(tmp_path / "rec" / name)
        )
        assert code == 0, err
    build_board(tmp_path / "rec", tmp_path / "site")
    visit = Visit(
        browser, tmp_path / "site" / "envs" / env_slug("gymrun-test/Fake-v0") / "index.html"
    )
    page = visit.page
    solved = visit.texts("table.leaderboard thead th").index("solved") + 1

    def shown() -> list[tuple[str, str]]:
        names = [r.split("\n")[0] for r in cells(visit, 3)]
        return list(zip(names, [c.split("\n")[0] for c in cells(visit, solved)], strict=True))

    page.locator("th[data-sort=solved]").click()
    assert shown() == [
        ("early", "solved after 0 episodes"),
        ("late", "solved after 5 episodes"),
        ("reached", "reached on average"),
        ("noise", "within noise"),
        ("near", "not solved"),
        ("far", "not reached on average"),
        ("unjudged", "no boundary"),
    ]
    page.locator("th[data-sort=solved]").click()  # the other way; no verdict still last
    assert [name for name, _ in shown()] == [
        "far",
        "near",
        "noise",
        "reached",
        "late",
        "early",
        "unjudged",
    ]
    assert visit.errors == []
    visit.close()


def test_a_comparison_of_few_groups_reads_right(browser: BrowserContext, tmp_path: Path) -> None:
    """One group with several runs, groups of one run each: the page counts them in good
    English, and a pair without an interval shows its value alone."""
    for env, episodes, seed in (("MountainCar-v0", 3, 0), ("MountainCar-v0", 3, 1),
                                ("MountainCar-v0", 4, 0), ("CartPole-v1", 3, 0),
                                ("CartPole-v1", 4, 0)):  # fmt: skip
        gymrun_in(tmp_path, "run", env, "-n", str(episodes), "--seed", str(seed), "-q")
    build_board(tmp_path / "recordings", tmp_path / "site")
    visit = Visit(browser, tmp_path / "site" / "envs" / "MountainCar-v0" / "compare.html")
    page = visit.page
    profiles = "The one group with several runs is drawn, with its 95% band."
    assert page.locator("#profiles-shown").inner_text() == profiles
    page.locator("input[data-pick]").nth(1).uncheck()
    assert page.locator("#improvement-shown").inner_text().startswith("1 group, in the order")
    visit.close()
    # two groups of one run each: P(X > Y) has no interval
    compare = json.loads((tmp_path / "site/envs/CartPole-v1/compare.json").read_text())
    first, second = (g["label"] for g in compare["groups"])
    [[_, _], [second_over_first, _]] = compare["improvement"]["matrix"]
    assert second_over_first["ci95"] == [None, None]
    visit = Visit(browser, tmp_path / "site" / "envs" / "CartPole-v1" / "compare.html")
    canvas = visit.page.locator("canvas[data-chart=improvement]")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    visit.page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75)
    value = figure(second_over_first["value"])
    tip = visit.page.locator("#improvement-tip").inner_text()
    assert tip == f"P({second} > {first}) = {value}"
    assert visit.errors == []
    visit.close()


@pytest.fixture(scope="module")
def every_kind(sixteen: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`sixteen`'s recordings with random runs on MountainCar-v0 and Pendulum-v1 (with the
    lone CartPole-v1 run, a group across three tasks) and a duel on Pendulum-v1: a board
    with every kind of page and table."""
    base = tmp_path_factory.mktemp("every-kind")
    shutil.copytree(sixteen.parent / "recordings", base / "recordings")
    for env in ("MountainCar-v0", "Pendulum-v1"):
        gymrun_in(base, "run", env, "-n", "5", "-q")
    (base / "pendulum.yaml").write_text("env: Pendulum-v1\nagent: random\nepisodes: 5\n")
    gymrun_in(base, "duel", "pendulum.yaml", "pendulum.yaml", "--max-seeds", "1", "-o",
              "recordings/duel")  # fmt: skip
    build_board(base / "recordings", base / "site")
    return base / "site"


def test_no_page_scrolls_sideways(browser: BrowserContext, every_kind: Path) -> None:
    """Every kind of page, at a laptop's width and a phone's: a table too wide for the
    window scrolls in its own box, never the page."""
    site = every_kind
    pages = [site / "index.html", *sorted(site.glob("envs/*/*.html"))]
    pages += [*sorted(site.glob("sweeps/**/index.html"))[:1], site / "duels/duel/index.html"]
    pages += sorted(site.glob("runs/**/index.html"))[:2]
    kinds = {"across-tasks", "leaderboard", "groups", "improvement", "grid", "summary", "episodes"}
    seen: set[str] = set()
    for path in pages:
        for width in (1280, 375):
            visit = Visit(browser, path, width=width)
            visit.page.wait_for_timeout(100)  # the charts are drawn
            assert not visit.sideways(), (path, width)
            unwrapped = visit.page.evaluate(
                "[...document.querySelectorAll('table')]"
                ".filter(t => !t.closest('.table-wrap, .chart')).map(t => t.className)"
            )
            assert unwrapped == [], (path, unwrapped)
            seen |= set(visit.page.evaluate(
                "[...document.querySelectorAll('table')].map(t => t.className)"
            ))  # fmt: skip
            assert visit.errors == [], path
            visit.close()
    assert seen >= kinds, kinds - seen
    visit = Visit(browser, site / "index.html", width=375)
    tasks = visit.texts("table.across-tasks tbody td:nth-child(2)")
    assert tasks == ["CartPole-v1, MountainCar-v0, Pendulum-v1"]
    visit.close()


def test_the_index_lists_only_groups_across_tasks_it_could_aggregate(
    browser: BrowserContext, tmp_path: Path
) -> None:
    """A group whose tasks have no reference scores has no row of dashes: the note under
    the table names it, as gymrun compare's does."""
    for env in ("CartPole-v1", "MountainCar-v0"):
        gymrun_in(tmp_path, "run", env, "-n", "3", "-q")
    for env in ("gymrun-test/Fake-v0", "gymrun-test/Goal-v0"):
        config = tmp_path / f"{env.split('/')[1]}.yaml"
        config.write_text(
            f"imports: [tests.support.goal_env]\nenv: {env}\n"
            "agent: {name: constant, action: 0}\nepisodes: 3\n"
        )
        gymrun_in(tmp_path, "run", str(config), "-q")
    build_board(tmp_path / "recordings", tmp_path / "site")
    visit = Visit(browser, tmp_path / "site" / "index.html")
    rows = visit.texts("table.across-tasks tbody td:first-child")
    assert rows == ["random"]
    notes = visit.texts("#across-tasks p.note")
    assert notes == [
        f"{env} has no reference scores: left out of the normalized scores of constant "
        "(tasks with them: gymrun baselines)"
        for env in ("gymrun-test/Fake-v0", "gymrun-test/Goal-v0")
    ]
    assert visit.errors == []
    visit.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`gymrun board --serve` on an empty recordings directory: its address, and the
    directory."""
    root = tmp_path / "recordings"
    root.mkdir()
    process = subprocess.Popen(
        [*GYMRUN, "board", str(root), "-o", str(tmp_path / "site"), "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        preexec_fn=default_signals,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # the first build
        match = re.search(r"serving (http://127\.0\.0\.1:\d+/)", process.stdout.readline())
        assert match
        yield match.group(1), root
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("not seen in time")


@pytest.mark.slow
def test_an_open_page_follows_a_run_as_it_records(
    browser: BrowserContext, served: tuple[str, Path]
) -> None:
    address, root = served
    visit = Visit(browser, address + "index.html")
    page = visit.page
    page.evaluate("window.stayed = true")  # gone if the page were loaded again
    run = subprocess.Popen(
        [*GYMRUN, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "100000000", "-q"],
        cwd=root.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=default_signals,
    )
    try:
        row = page.locator("tr[data-run^='cartpole_random/']")

        def episodes() -> int:
            if not row.count():
                return -1
            return int(row.locator("td").nth(3).inner_text().split()[0])

        wait_for(lambda: row.count() == 1 and "running" in row.inner_text())
        seen = episodes()
        wait_for(lambda: episodes() > seen)  # new episodes, without a reload
        run.send_signal(signal.SIGINT)
        run.wait(timeout=30)
        wait_for(lambda: "interrupted" in row.inner_text())
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert page.evaluate("window.stayed") is True
    assert visit.errors == []
    visit.close()


def served_run_page(address: str, root: Path, episodes: str) -> tuple[Path, str]:
    """A run of random CartPole recorded into the served `root`, and the address of its
    page once the server has built it."""
    gymrun_in(root.parent, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", episodes, "-q")
    run_dir = next((root / "cartpole_random").iterdir())
    page_address = f"{address}runs/cartpole_random/{run_dir.name}/index.html"

    def served_page() -> bool:
        try:
            return urllib.request.urlopen(page_address).status == 200
        except urllib.error.HTTPError:  # not built yet
            return False

    wait_for(served_page)
    return run_dir, page_address


@pytest.mark.slow
def test_an_open_page_of_a_run_removed_from_the_recordings_says_so(
    browser: BrowserContext, served: tuple[str, Path]
) -> None:
    address, root = served
    run_dir, page_address = served_run_page(address, root, "5")
    visit = Visit(browser, page_address)
    page = visit.page
    page.wait_for_selector("[data-chart=reward] canvas")
    page.evaluate("window.stayed = true")  # gone if the page were loaded again
    notice = page.locator("main .gone")
    assert notice.count() == 0
    shutil.rmtree(run_dir)
    wait_for(lambda: notice.count() == 1)
    assert notice.inner_text() == (
        "This run is no longer in the recordings: it was removed since this page was built. "
        "What it showed is kept below; the rest of the board is as the recordings are now."
    )
    assert page.evaluate("window.stayed") is True
    # what it showed is still there, and its links lead to the board as it is now
    assert page.locator("h1").inner_text().startswith("cartpole_random")
    assert page.locator("[data-chart=reward] canvas").count() >= 1
    page.get_by_role("link", name="gymrun board").click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == "Leaderboards"
    assert page.locator("tr[data-run^='cartpole_random/']").count() == 0
    assert visit.errors == []
    visit.close()


@pytest.mark.slow
def test_an_open_page_refreshes_after_a_build_of_too_many_pages_to_list(
    browser: BrowserContext, served: tuple[str, Path]
) -> None:
    address, root = served
    _, page_address = served_run_page(address, root, "3")
    visit = Visit(browser, page_address)
    page = visit.page
    page.evaluate(
        "window.refreshed = 0;"
        "document.addEventListener('board:refreshed', () => { window.refreshed += 1; })"
    )
    # A sweep of more runs than a build's changes list, moved into the recordings at once:
    # one build writes all their pages, and the server says any page may have changed
    # instead of sending their names to every open page each second.
    (root.parent / "many.yaml").write_text(
        "name: many\nenv: CartPole-v1\nagent: random\nepisodes: 1\nseed: 0\n"
        f"sweep:\n  reward_boundary: [195]\n  replicates: {LIVE_PAGES}\n"
    )
    gymrun_in(root.parent, "sweep", "many.yaml", "-o", "elsewhere/many")
    (root.parent / "elsewhere" / "many").rename(root / "many")

    def listed_as_everything() -> bool:
        live = json.loads(urllib.request.urlopen(address + "live.json", timeout=10).read())
        return any(pages is None for _, pages in live["changes"])

    wait_for(listed_as_everything, seconds=120)
    wait_for(lambda: page.evaluate("window.refreshed") >= 1)
    assert page.locator("h1").inner_text().startswith("cartpole_random")
    assert visit.errors == []
    visit.close()


@pytest.mark.slow
def test_a_comparison_refreshed_live_keeps_the_readers_ticks_and_ticks_a_new_group(
    browser: BrowserContext, served: tuple[str, Path]
) -> None:
    address, root = served
    for episodes in ("3", "4"):  # two groups: their configs differ in episodes
        gymrun_in(root.parent, "run", "MountainCar-v0", "-n", episodes, "--seed", "0", "-q")
    compare = address + "envs/MountainCar-v0/compare.html"

    def groups_served() -> int:
        try:
            return urllib.request.urlopen(compare).read().count(b"data-pick=")
        except urllib.error.HTTPError:  # not built yet (a busy machine builds later)
            return 0

    wait_for(lambda: groups_served() == 2)
    visit = Visit(browser, compare)
    page = visit.page
    page.evaluate("window.stayed = true")  # gone if the page were loaded again
    unticked = page.locator("input[data-pick]").nth(1).get_attribute("data-pick")
    # by its key: a refresh in between may have put the groups in another order
    page.locator(f'input[data-pick="{unticked}"]').uncheck()

    def ticks() -> dict[str, bool]:
        return page.evaluate(
            "Object.fromEntries([...document.querySelectorAll('input[data-pick]')]"
            ".map(b => [b.dataset.pick, b.checked]))"
        )

    gymrun_in(root.parent, "run", "MountainCar-v0", "-n", "5", "--seed", "0", "-q")
    wait_for(lambda: len(ticks()) == 3)
    assert page.evaluate("window.stayed") is True
    shown = ticks()
    assert [key for key, on in shown.items() if not on] == [unticked]  # the new group ticked
    # (the matrix is drawn again after the ticks are put back: a moment later)
    wait_for(lambda: page.locator("#improvement-shown").inner_text().startswith("2 groups"))
    page.reload()
    reloaded = ticks()
    assert all(reloaded.values())  # a reload ticks every group, as the page has them
    assert {key: on or key == unticked for key, on in shown.items()} == reloaded
    assert visit.errors == []
    visit.close()


def test_a_run_named_as_markup_is_shown_as_text(browser: BrowserContext, tmp_path: Path) -> None:
    name = 'x"\'><img src=nowhere onerror="window.pwned=1">'
    code = gymrun_in(tmp_path, "run", "CartPole-v1", "-n", "3", "-q", "-o", f"recordings/{name}")
    assert code.code == 0
    build_board(tmp_path / "recordings", tmp_path / "site")
    visit = Visit(browser, tmp_path / "site" / "envs" / "CartPole-v1" / "index.html")
    page = visit.page
    page.locator("select[data-filter=agent]").select_option("random")  # rows drawn again
    row = page.locator("table.leaderboard tbody tr")
    assert row.count() == 1 and row.get_attribute("data-run") == name
    assert page.locator("table.leaderboard tbody img").count() == 0
    assert page.evaluate("window.pwned") is None
    visit.close()


@pytest.mark.parametrize("kind", ["sweep", "duel"])
def test_a_board_of_one_sweep_or_duel_names_it_by_its_folder_and_links_right(
    browser: BrowserContext, tmp_path: Path, kind: str
) -> None:
    """``gymrun board rec/eps``, the folder of one sweep (or duel) itself: its page is
    named by the folder, as on a board of the recordings holding it, and every link of every
    page (the index, its environment's, its own, its runs') leads to a page of the site."""
    (tmp_path / "eps.yaml").write_text(
        "name: eps\nenv: CartPole-v1\nwrappers: [{name: epsilon_random, epsilon: 0.5}]\n"
        "agent: {name: constant, action: 0}\nepisodes: 3\n"
        "sweep:\n  wrappers.0.epsilon: [0.1, 0.2]\n  seeds: [0]\n"
    )
    if kind == "sweep":
        gymrun_in(tmp_path, "sweep", "eps.yaml", "-o", "rec/eps")
    else:
        duel = ("eps.yaml", "eps.yaml", "--set", "sweep=null", "--max-seeds", "1")
        gymrun_in(tmp_path, "duel", *duel, "-o", "rec/eps")
    gymrun_in(tmp_path, "board", "rec/eps", "--out", "site")
    site = tmp_path / "site"
    page = site / f"{kind}s" / "eps" / "index.html"
    assert page.is_file() and not (site / f"{kind}s" / "index.html").exists()
    seen, problems = crawl(browser, site)
    assert problems == []
    runs = sorted(site.glob("runs/eps/*/index.html"))
    assert len(runs) == 2 and {page, *runs} <= seen
    # each run's page leads back to its sweep or duel
    for run in runs:
        visit = Visit(browser, run)
        back = visit.page.locator("nav a", has_text=kind).get_attribute("href")
        assert back == f"../../../{kind}s/eps/index.html"
        visit.close()


def test_on_a_tie_a_completed_run_ranks_before_a_failed_one(
    browser: BrowserContext, tmp_path: Path
) -> None:
    """MountainCar-v0 scores -200 [-200, -200] whatever an agent does that never reaches
    the flag: a run that failed after 4 of its 10 episodes ties with a completed run of 10,
    and comes after it, in leaderboard.json, on the page and in the ranking it states."""
    (tmp_path / "quitter.py").write_text(QUITTER)
    agents = {"a-quitter": "quitter:Quitter", "b-steady": "{name: constant, action: 1}"}
    for name, agent in agents.items():
        (tmp_path / f"{name}.yaml").write_text(
            f"name: {name}\nenv: MountainCar-v0\nagent: {agent}\nepisodes: 10\nseed: 0\n"
        )
    failed = gymrun_in(tmp_path, "run", "a-quitter.yaml", "-q", check=False)
    assert failed.code == 1, failed.stderr
    gymrun_in(tmp_path, "run", "b-steady.yaml", "-q")
    gymrun_in(tmp_path, "board", "recordings", "--out", "site")
    env = tmp_path / "site" / "envs" / "MountainCar-v0"
    board = json.loads((env / "leaderboard.json").read_text())
    ranked = [(r["name"], r["status"], r["episodes"], r["score"], r["rank"]) for r in board["runs"]]
    tied = {"value": -200.0, "ci95": [-200.0, -200.0]}
    assert ranked == [("b-steady", "completed", 10, tied, 1), ("a-quitter", "failed", 4, tied, 2)]
    assert "on a tie a completed run comes before one that did not complete" in board["ranking"]
    visit = Visit(browser, env / "index.html")
    assert visit.texts("table.leaderboard tbody td:nth-child(2)") == ["1", "2"]
    rows = visit.page.locator("table.leaderboard tbody tr")
    assert [rows.nth(i).get_attribute("data-run") for i in range(2)] == [
        r["id"] for r in board["runs"]
    ]
    assert board["runs"][0]["id"].startswith("b-steady/")
    assert "a completed run comes before" in visit.page.locator("p.lead").inner_text()
    assert visit.errors == []
    visit.close()
