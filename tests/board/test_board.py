"""``gymrun board``: the site built from real runs, what it says about each, what a second
build touches, the terminal's ``gymrun compare`` of groups, and serving."""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import BrowserContext
from scipy import stats

from gymrun.analysis.groups import Comparison, Member, compare, stored_member
from gymrun.board.build import build_board, env_slug
from gymrun.board.serve import serve_board
from gymrun.board.site import Site, json_bytes
from gymrun.core.scores import Profile
from gymrun.errors import GymrunError
from gymrun.numbers import interval
from gymrun.records.reading import read_run
from tests.support.board_runs import (
    Recordings,
    episode_rewards,
    gymrun_in,
    make_recordings,
    solved_after_by_hand,
)
from tests.support.browser import Visit, crawl
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import (
    default_signals,
    duel_killed_mid_round,
    finished,
    on_a_terminal,
    run_gymrun,
    start_gymrun,
)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Recordings:
    return make_recordings(tmp_path_factory.mktemp("board"))


@pytest.fixture(scope="module")
def site(recordings: Recordings) -> Path:
    out = recordings.base / "site"
    build_board(recordings.root, out)
    return out


def leaderboard(site: Path, env: str) -> dict:
    """An environment's leaderboard.json: every run of it, ranked (the index has the
    first ten of each)."""
    return json.loads((site / "envs" / env_slug(env) / "leaderboard.json").read_text())


def index_rows(site: Path) -> dict[str, dict]:
    index = json.loads((site / "index.json").read_text())
    every = [r for env in index["environments"] for r in leaderboard(site, env["env"])["runs"]]
    return {r["id"]: r for r in every} | {r["id"]: r for r in index["damaged"]}


def run_id(recordings: Recordings, run: str) -> str:
    return recordings.runs[run].relative_to(recordings.root).as_posix()


# -- statistics ---------------------------------------------------------------------------


def test_episodes_before_solve_is_the_old_rule(recordings: Recordings, site: Path) -> None:
    rewards = recordings.rewards("solved")
    expected = solved_after_by_hand(rewards, 5.0)
    assert expected is not None and expected > 0  # the coin run is solved late, not at once
    row = index_rows(site)[run_id(recordings, "solved")]
    assert (row["solved"], row["episodes_before_solve"]) == (True, expected)
    assert row["verdict"] in ("solved", "within noise")


def test_a_short_run_is_reached_on_average_on_the_board(recordings: Recordings, site: Path) -> None:
    row = index_rows(site)[run_id(recordings, "random")]  # 40 episodes against 195
    assert (row["solved"], row["verdict"], row["episodes_before_solve"]) == (
        False,
        "not reached on average",
        None,
    )
    run = json.loads((site / "runs" / run_id(recordings, "random") / "run.json").read_text())
    assert run["summary"]["verdict"] == "not reached on average"


# -- the site ------------------------------------------------------------------------------


def test_every_run_is_on_the_board_as_what_it_became(recordings: Recordings, site: Path) -> None:
    rows = index_rows(site)
    status = {
        name: rows[run_id(recordings, name)]["status"]
        for name in recordings.runs
        if name != "sweep"
    }
    assert status == {
        "balance": "completed",
        "random": "completed",
        "solved": "completed",
        "video": "completed",
        "failed": "failed",
        "interrupted": "interrupted",
        "killed": "killed",
        "damaged": "damaged",
    }
    assert "the agent gave up" in rows[run_id(recordings, "failed")]["problem"]
    damaged = rows[run_id(recordings, "damaged")]
    assert re.search(r"episodes\.jsonl(: line |:)4: not an episode record", damaged["problem"])
    killed = rows[run_id(recordings, "killed")]
    assert killed["episodes"] >= 150  # what it finished before it was killed is all there


def test_leaderboard_scores_and_order(recordings: Recordings, site: Path) -> None:
    runs = leaderboard(site, "CartPole-v1")["runs"]
    index = json.loads((site / "index.json").read_text())
    [cartpole] = [env for env in index["environments"] if env["env"] == "CartPole-v1"]
    assert cartpole["runs"] == runs[:10]  # the index has the first ten
    ranked = [r for r in runs if r["rank"] is not None]
    lows = [r["score"]["ci95"][0] for r in ranked if r["score"]["ci95"][0] is not None]
    assert lows == sorted(lows, reverse=True)
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert runs[0]["id"] == run_id(recordings, "balance")  # 500 every episode
    rewards = recordings.rewards("random")
    random_row = next(r for r in runs if r["id"] == run_id(recordings, "random"))
    assert random_row["score"]["value"] == pytest.approx(np.mean(rewards))
    low, high = random_row["score"]["ci95"]
    assert low < np.mean(rewards) < high
    balance = runs[0]
    # 500 from the start: solved by the window of episodes 0 to 99
    assert (balance["episodes_before_solve"], balance["verdict"]) == (0, "solved")


def test_run_page_data_is_beside_its_figures(recordings: Recordings, site: Path) -> None:
    folder = site / "runs" / run_id(recordings, "solved")
    curve = json.loads((folder / "reward.json").read_text())
    rewards = recordings.rewards("solved")
    assert curve["episodes"] == len(rewards) == 300
    assert curve["high"] == pytest.approx(rewards)  # one point per episode for a short run
    window = np.convolve(rewards, np.ones(100) / 100, mode="valid")
    assert curve["rolling_mean"][99:] == pytest.approx(window.tolist())
    assert curve["rolling_mean"][:99] == [None] * 99  # no whole window yet
    # the same curve as a script, for the page's chart (a page opened from disk may load a
    # script beside it, not a JSON file)
    script = (folder / "reward.js").read_text()
    assert script.startswith("gymrunCurve(") and json.loads(script[12:-3]) == curve
    run = json.loads((folder / "run.json").read_text())
    assert run["reproduce"] == f"gymrun run {recordings.runs['solved']}/config.yaml"
    video = site / "runs" / run_id(recordings, "video") / "videos"
    assert sorted(p.name for p in video.iterdir()) == ["episode-000000.mp4", "episode-000002.mp4"]
    # a killed run never drew its reward.png: the board's chart is drawn from its episodes
    killed = site / "runs" / run_id(recordings, "killed")
    assert not (recordings.runs["killed"] / "reward.png").exists()
    killed_curve = json.loads((killed / "reward.json").read_text())
    assert killed_curve["episodes"] == len(recordings.rewards("killed"))


def test_comparison_of_the_sweeps_points(recordings: Recordings, site: Path) -> None:
    compare = json.loads((site / "envs" / "CartPole-v1" / "compare.json").read_text())
    groups = {g["label"]: g for g in compare["groups"]}
    low, high = groups["eps: wrappers.0.epsilon=0.25"], groups["eps: wrappers.0.epsilon=0.5"]
    for group, epsilon in ((low, 0.25), (high, 0.5)):
        means = [np.mean(episode_rewards(d)) for d in recordings.sweep_runs(epsilon)]
        assert len(means) == 3
        assert sorted(group["run_scores"]) == pytest.approx(sorted(means))
        assert group["iqm"]["value"] == pytest.approx(stats.trim_mean(means, 0.25))
        assert group["mean"]["value"] == pytest.approx(np.mean(means))
    keys = compare["improvement"]["groups"]
    matrix = compare["improvement"]["matrix"]
    a, b = keys.index(high["key"]), keys.index(low["key"])
    pairs = [(x > y) + 0.5 * (x == y) for x in high["run_scores"] for y in low["run_scores"]]
    assert matrix[a][b]["value"] == pytest.approx(np.mean(pairs))
    assert matrix[b][a]["value"] == pytest.approx(1 - np.mean(pairs))
    profile = json.loads((site / "envs" / "CartPole-v1" / "profile.json").read_text())
    # profiles of the groups with several runs: the sweep's two points
    assert profile["groups"] == [high["label"], low["label"]]
    assert len(profile["curves"]) == 2 and profile["keys"] == [high["key"], low["key"]]


def test_a_second_build_touches_only_what_changed(recordings: Recordings, tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    shutil.copytree(recordings.root, root, symlinks=True)
    out = tmp_path / "site"
    first = build_board(root, out)
    assert first.read == first.runs == 14  # 8 runs and a sweep of 6
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = build_board(root, out)
    assert (again.read, again.written) == (0, [])
    gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    old = os.listdir(recordings.root / "cartpole_random")
    [new] = [d for d in (root / "cartpole_random").iterdir() if d.name not in old]
    third = build_board(root, out)
    assert third.read == 1
    written = set(third.written)
    page = f"runs/cartpole_random/{new.name}"
    assert {f"{page}/index.html", f"{page}/run.json", "index.html", "index.json"} <= written
    assert all(w.startswith((page, "index.", "envs/CartPole-v1/")) for w in written)
    untouched = [p for p in before if p.relative_to(out).as_posix() not in written]
    touched = [p.name for p in untouched if p.stat().st_mtime_ns != before[p]]
    # the build's own record of what it read, and of the rows it made
    assert touched == [".board.db"]
    shutil.rmtree(new)
    build_board(root, out)
    assert not (out / page).exists()  # a run removed from the recordings leaves the board


def test_a_run_read_again_unchanged_rewrites_nothing(tmp_path: Path) -> None:
    gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    root, out = tmp_path / "recordings", tmp_path / "site"
    build_board(root, out)
    [run] = (root / "cartpole_random").iterdir()
    touched = (run / "summary.json").stat().st_mtime_ns + 1_000_000_000
    os.utime(run / "summary.json", ns=(touched, touched))  # its time, not its content
    again = build_board(root, out)
    assert (again.read, again.written) == (1, [])
    assert build_board(root, out).read == 0  # and the record knows it now


def test_a_run_whose_page_was_removed_from_the_board_is_read_again(tmp_path: Path) -> None:
    for _ in range(2):
        gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    root, out = tmp_path / "recordings", tmp_path / "site"
    build_board(root, out)
    gone, kept = sorted((out / "runs" / "cartpole_random").iterdir())
    shutil.rmtree(gone)
    again = build_board(root, out)
    assert again.read == 1 and (gone / "index.html").is_file() and (kept / "index.html").is_file()
    shutil.rmtree(out / "runs")
    assert build_board(root, out).read == 2


def test_a_record_that_is_not_the_boards_makes_the_build_read_every_run_again(
    tmp_path: Path,
) -> None:
    def new_run() -> None:
        gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")

    new_run()
    root, out = tmp_path / "recordings", tmp_path / "site"
    build_board(root, out)
    record = out / ".board.db"
    first_record = record.read_bytes()
    new_run()
    assert build_board(root, out).read == 1  # the record it wrote is taken
    record.write_text("damaged")
    again = build_board(root, out)  # not a record: every run is read again, no page changed
    assert (again.runs, again.read, again.written) == (2, 2, [])
    assert build_board(root, out).read == 0  # and the record it made is taken
    record.write_bytes(first_record)  # an earlier build's record: the runs since are read
    new_run()
    fourth = build_board(root, out)
    assert (fourth.runs, fourth.read) == (3, 2)
    board = leaderboard(out, "CartPole-v1")["runs"]
    assert len(board) == 3 and all(row["episodes"] == 5 for row in board)
    # the record of a board built by an older version is replaced, and the board built anew
    (out / ".board.json").write_text("{}")
    (out / ".board-rows.json").write_text("{}")
    record.unlink()
    assert build_board(root, out).read == 3
    assert sorted(p.name for p in out.glob(".board*")) == [".board.db"]


def settle(root: Path) -> None:
    """Date every folder under `root` an hour back, as recordings made long ago are: a build
    then keeps their listings and need not read the folders again."""
    past = time.time_ns() - 3600 * 10**9
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        os.utime(folder, ns=(past, past))


def test_a_build_over_settled_recordings_sees_every_change(tmp_path: Path) -> None:
    for _ in range(2):
        gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    root, out = tmp_path / "recordings", tmp_path / "site"
    kept, grown = sorted((root / "cartpole_random").iterdir())
    settle(root)
    assert build_board(root, out).runs == 2
    assert build_board(root, out).read == 0  # nothing listed again, nothing read
    # an episode added in place: its folder's time is as it was, the run is read again
    with (grown / "episodes.jsonl").open("a") as episodes:
        episodes.write(json.dumps({"episode": 5, "reward": 11.0, "steps": 11}) + "\n")
    assert build_board(root, out).read == 1
    # a new run in a settled folder, and a run removed
    gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    shutil.rmtree(kept)
    third = build_board(root, out)
    assert (third.runs, third.read) == (2, 1)
    assert f"cartpole_random/{kept.name}" not in index_rows(out)


def test_a_folder_listed_as_it_changed_is_listed_again(tmp_path: Path) -> None:
    # a file system's clock ticks coarsely: a run made in the same tick as the listing
    # leaves the folder's time as it was, so a listing made that soon is never kept
    gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    root, out = tmp_path / "recordings", tmp_path / "site"
    folder = root / "cartpole_random"
    tick = time.time_ns() + 60 * 10**9  # later than the listing: it changed as it was listed
    os.utime(folder, ns=(tick, tick))
    assert build_board(root, out).runs == 1
    gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    os.utime(folder, ns=(tick, tick))  # the second run made in that same tick
    assert build_board(root, out).runs == 2


def test_the_servers_poll_sees_every_change_and_lists_no_settled_folder_again(
    tmp_path: Path,
) -> None:
    # where inotify is missing, --serve compares this state at each poll
    from gymrun.board.serve import recordings_state

    for _ in range(2):
        gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    root = tmp_path / "recordings"
    kept, grown = sorted((root / "cartpole_random").iterdir())
    settle(root)
    state, listings = recordings_state(root)
    assert [Path(run) for run, _ in state] == [kept, grown]
    again, relisted = recordings_state(root, listings)
    assert again == state
    assert relisted == listings  # each folder as listed before: none listed again
    with (grown / "episodes.jsonl").open("a") as episodes:
        episodes.write(json.dumps({"episode": 5, "reward": 11.0, "steps": 11}) + "\n")
    appended, _ = recordings_state(root, relisted)
    assert appended[0] == state[0] and appended[1] != state[1]
    shutil.rmtree(kept)
    gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    later, _ = recordings_state(root, relisted)
    before, after = {run: stamp for run, stamp in appended}, {run: stamp for run, stamp in later}
    # one run gone and one new (made in the same second, it may take the gone one's name:
    # a new folder all the same)
    assert len(after) == 2 and after[str(grown)] == before[str(grown)]
    assert after.get(str(kept)) != before[str(kept)]
    assert recordings_state(tmp_path / "gone") == ([], {})


def test_a_build_shows_the_runs_it_reads_on_a_terminal_and_nothing_elsewhere(
    tmp_path: Path,
) -> None:
    seeds = ", ".join(map(str, range(30)))
    (tmp_path / "s.yaml").write_text(
        f"env: CartPole-v1\nagent: random\nepisodes: 2\nsweep: {{seeds: [{seeds}]}}\n"
    )
    gymrun_in(tmp_path, "sweep", "s.yaml")
    code, text = on_a_terminal("board", cwd=tmp_path)
    assert code == 0, text
    assert "reading runs" in text and "/30" in text  # the bar: runs read of 30
    assert "board: 30 runs, 1 sweep" in text.rsplit("reading runs", 1)[1]  # then the line
    piped = gymrun_in(tmp_path, "board", "-o", "again")
    assert "reading runs" not in piped.stdout + piped.stderr


def test_half_written_runs_never_stop_a_build(tmp_path: Path) -> None:
    root = tmp_path / "recordings"
    gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    [good] = (root / "cartpole_random").iterdir()
    started = root / "started" / "t"  # stopped right after it wrote its config
    started.mkdir(parents=True)
    shutil.copy(good / "config.yaml", started)
    bad_yaml = root / "bad" / "t"
    bad_yaml.mkdir(parents=True)
    (bad_yaml / "config.yaml").write_text("env: [unclosed\n")
    not_a_config = root / "other" / "t"
    not_a_config.mkdir(parents=True)
    (not_a_config / "config.yaml").write_text("just a string\n")
    report = build_board(root, tmp_path / "site")
    rows = index_rows(tmp_path / "site")
    assert (report.runs, report.damaged) == (4, 2)
    assert rows["started/t"]["status"] == "unfinished"
    assert rows["started/t"]["episodes"] == 0
    assert rows["bad/t"]["status"] == rows["other/t"]["status"] == "damaged"
    assert "cannot read the run" in rows["bad/t"]["problem"]
    assert re.search(r"not a gymrun (run's )?config", rows["other/t"]["problem"])
    assert rows[f"cartpole_random/{good.name}"]["status"] == "completed"


def test_a_board_of_no_run_yet_has_its_index(tmp_path: Path) -> None:
    (tmp_path / "recordings").mkdir()
    first = build_board(tmp_path / "recordings", tmp_path / "site")
    assert (first.runs, first.read) == (0, 0)
    index = json.loads((tmp_path / "site" / "index.json").read_text())
    assert index["environments"] == [] and (tmp_path / "site" / "index.html").is_file()
    again = build_board(tmp_path / "recordings", tmp_path / "site")
    assert again.written == []


def test_a_first_build_stopped_midway_is_taken_up_by_the_next(
    recordings: Recordings, tmp_path: Path
) -> None:
    # Ctrl-C during a first build (of thousands of runs, it takes a while): the folder it
    # leaves is a board the next build finishes, not one it refuses as someone else's.
    def stopped(read: int, to_read: int) -> None:
        if read == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_board(recordings.root, tmp_path / "site", on_progress=stopped)
    assert (tmp_path / "site" / "runs").is_dir()
    code, _, err = gymrun("board", str(recordings.root), "--out", str(tmp_path / "site"))
    assert code == 0, err
    code, _, err = gymrun("board", str(recordings.root), "--out", str(tmp_path / "whole"))
    assert code == 0, err  # (each board with its lock file, .gymrun.lock)
    for page in ("index.json", "index.html"):
        assert (tmp_path / "site" / page).read_bytes() == (tmp_path / "whole" / page).read_bytes()
    built = sorted(p.relative_to(tmp_path / "site") for p in (tmp_path / "site").rglob("*"))
    whole = sorted(p.relative_to(tmp_path / "whole") for p in (tmp_path / "whole").rglob("*"))
    assert built == whole


def test_a_full_disk_fails_a_build_in_one_line_and_the_next_build_goes_on(
    recordings: Recordings, tmp_path: Path
) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(disk)]).returncode:
        pytest.fail("cannot mount a tmpfs (the tests run as root)")
    try:
        code, out, err = gymrun("board", str(recordings.root), "--out", str(disk / "site"))
        assert (code, out) == (1, "")
        assert err == (
            f"error: --out {disk / 'site'}: cannot write the board: No space left on device "
            "(the next build goes on from what was written)\n"
        )
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        code, _, err = gymrun("board", str(recordings.root), "--out", str(disk / "site"))
        assert code == 0, err
        build_board(recordings.root, tmp_path / "whole")
        for page in ("index.json", "index.html"):
            assert (disk / "site" / page).read_bytes() == (tmp_path / "whole" / page).read_bytes()
        assert not list((disk / "site").rglob("*.partial"))
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def test_a_recording_run_is_read_on_from_where_it_was_read(tmp_path: Path) -> None:
    # A server reads a recording run at each of its new batches: only what was written since
    # is read, and its page is what a build that reads the whole run shows, at every stage.
    import fcntl

    from gymrun.board.build import Kept

    root = tmp_path / "rec"
    for seed in ("1", "2"):
        config = str(CONFIGS / "cartpole_random.yaml")
        gymrun_in(tmp_path, "run", config, "-n", "300", "--seed", seed, "-o", f"done{seed}")
    run = root / "live" / "t"
    run.mkdir(parents=True)
    for name in ("config.yaml", "meta.json", ".gymrun.lock"):
        shutil.copy(tmp_path / "done1" / name, run / name)
    running = {"status": "running", "error": None, "started_at": "2026-01-01T00:00:00+00:00"}
    (run / "summary.json").write_text(json.dumps(running | {"ended_at": None}))
    lines = (tmp_path / "done1" / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    other = (tmp_path / "done2" / "episodes.jsonl").read_bytes().splitlines(keepends=True)
    kept = Kept()

    def page(out: Path) -> tuple[bytes, bytes]:
        folder = out / "runs" / "live" / "t"
        return (folder / "run.json").read_bytes(), (folder / "reward.json").read_bytes()

    def as_a_whole_read(built: int) -> None:
        fresh = tmp_path / f"fresh{built}"
        build_board(root, fresh)
        assert page(tmp_path / "site") == page(fresh)

    with (run / ".gymrun.lock").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the run's process holds it while it records
        (run / "episodes.jsonl").write_bytes(b"".join(lines[:120]) + lines[120][:30])
        build_board(root, tmp_path / "site", kept=kept)
        [(where, so_far)] = kept.reads.items()
        assert (where, so_far.go_on.position.count) == ("live/t", 120)
        as_a_whole_read(1)
        with (run / "episodes.jsonl").open("ab") as more:  # the half line, and more
            more.write(lines[120][30:] + b"".join(lines[121:250]))
        build_board(root, tmp_path / "site", changed=[run], kept=kept)
        assert kept.reads["live/t"].go_on.position.count == 250
        assert json.loads(page(tmp_path / "site")[0])["summary"]["count"] == 250
        as_a_whole_read(2)
        # another run in its place: another file (of other episodes), read from its start
        (run / "episodes.jsonl").unlink()
        (run / "episodes.jsonl").write_bytes(b"".join(other[:260]))
        build_board(root, tmp_path / "site", changed=[run], kept=kept)
        assert kept.reads["live/t"].go_on.position.count == 260
        as_a_whole_read(3)
        # written over in place from an earlier line: read from its start too
        with (run / "episodes.jsonl").open("r+b") as over:
            over.truncate(len(b"".join(other[:100])))
            over.seek(0, os.SEEK_END)
            over.write(b"".join(lines[100:270]))
        build_board(root, tmp_path / "site", changed=[run], kept=kept)
        as_a_whole_read(4)
        assert json.loads(page(tmp_path / "site")[0])["summary"]["count"] == 270
    # it ends, as the first run did: read once more, then no longer followed
    shutil.copy(tmp_path / "done1" / "episodes.jsonl", run / "episodes.jsonl")
    shutil.copy(tmp_path / "done1" / "summary.json", run / "summary.json")
    build_board(root, tmp_path / "site", changed=[run], kept=kept)
    assert kept.reads == {}
    as_a_whole_read(5)


def test_a_run_whose_lock_is_held_is_still_recording(tmp_path: Path) -> None:
    import fcntl

    from gymrun.records.layout import LOCK_FILE
    from gymrun.records.liveness import recording

    assert recording(tmp_path) is None  # no lock file: cannot be told this way
    (tmp_path / LOCK_FILE).touch()
    assert recording(tmp_path) is False  # nobody holds it: the run's process is gone
    with (tmp_path / LOCK_FILE).open() as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert recording(tmp_path) is True


# -- the command ---------------------------------------------------------------------------


def test_board_command(recordings: Recordings, tmp_path: Path) -> None:
    code, out, err = gymrun("board", str(recordings.root), "--out", str(tmp_path / "b"))
    assert (code, err) == (0, "")
    assert re.fullmatch(
        r"board: 14 runs \(1 damaged\), 1 sweep, 2 environments; read 14, wrote \d+ files "
        rf"in \d+\.\d\d s -> {re.escape(str(tmp_path / 'b' / 'index.html'))}\n",
        out,
    )
    code, out, _ = gymrun("board", str(recordings.root), "--out", str(tmp_path / "b"), "--json")
    assert code == 0 and json.loads(out)["read"] == 0


def test_board_command_refuses_what_it_would_overwrite(recordings: Recordings) -> None:
    assert gymrun("board", "nowhere")[::2] == (2, "error: nowhere: no such directory\n")
    Path("afile").write_text("not a directory")
    assert gymrun("board", "afile")[::2] == (2, "error: afile: not a directory\n")
    assert gymrun("board", "afile/sub")[::2] == (2, "error: afile/sub: afile is not a directory\n")
    for out, said in (
        ("afile", "exists and is not a directory"),
        ("afile/sub", "afile is not a directory"),
    ):
        code, _, err = gymrun("board", str(recordings.root), "--out", out)
        assert (code, err) == (2, f"error: --out {out}: {said}\n")
    assert Path("afile").read_text() == "not a directory"
    Path("mine").mkdir()
    Path("mine/notes.txt").write_text("keep")
    code, _, err = gymrun("board", str(recordings.root), "--out", "mine")
    assert code == 2
    assert err == (
        "error: --out mine: the directory is not empty and holds no board (.board.db); "
        "nothing in it was touched (choose another directory)\n"
    )
    assert Path("mine/notes.txt").read_text() == "keep"
    code, _, err = gymrun("board", str(recordings.root), "--out", str(recordings.root / "b"))
    assert code == 2 and "cannot be inside the recordings" in err


def test_build_board_refuses_an_output_naming_its_argument(tmp_path: Path) -> None:
    """As build_board's argument: ``--out`` is gymrun board's option (said above)."""
    (tmp_path / "recordings").mkdir()
    (tmp_path / "afile").write_text("x")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    for out, said in (
        ("afile", "exists and is not a directory"),
        (
            "mine",
            "the directory is not empty and holds no board (.board.db); nothing in it "
            "was touched (choose another directory)",
        ),
        ("recordings/b", "the board cannot be inside the recordings it shows, nor hold them"),
    ):
        with pytest.raises(GymrunError) as refused:
            build_board(tmp_path / "recordings", tmp_path / out)
        assert str(refused.value) == f"out='{tmp_path / out}': {said}"


def test_a_port_in_use_is_refused_naming_the_argument_or_the_option(tmp_path: Path) -> None:
    (tmp_path / "recordings").mkdir()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(GymrunError) as refused:
            serve_board(tmp_path / "recordings", tmp_path / "site", port=port)
        said = "cannot serve on 127.0.0.1 (Address already in use)"
        assert str(refused.value) == f"port={port}: {said}"
        code, _, err = gymrun(
            "board",
            str(tmp_path / "recordings"),
            "-o",
            str(tmp_path / "site"),
            "--serve",
            "--port",
            str(port),
        )
        assert (code, err.splitlines()[-1]) == (2, f"error: --port {port}: {said}")


def test_board_refuses_options_that_mean_nothing_together(tmp_path: Path) -> None:
    (tmp_path / "recordings").mkdir()
    board = ("board", str(tmp_path / "recordings"), "--out", str(tmp_path / "site"))
    for options, said in (
        (("--port", "9000"), "--port 9000 is the port --serve serves on: add --serve"),
        (("-p", "0", "--json"), "--port 0 is the port --serve serves on: add --serve"),
        (
            ("--serve", "--json"),
            "--json prints one build's report, and --serve builds until stopped: drop --json",
        ),
    ):
        assert gymrun(*board, *options) == (2, "", f"error: {said}\n"), options
    assert not (tmp_path / "site").exists()  # nothing built


def test_compare_prints_the_group_statistics(recordings: Recordings) -> None:
    runs = [str(d) for d in recordings.sweep_runs(0.25) + recordings.sweep_runs(0.5)]
    code, out, _ = gymrun("compare", *runs)
    assert code == 0
    build_board(recordings.root, Path("site"))
    site_compare = json.loads(Path("site/envs/CartPole-v1/compare.json").read_text())
    groups = {g["label"]: g for g in site_compare["groups"]}
    for label in ("eps: wrappers.0.epsilon=0.25", "eps: wrappers.0.epsilon=0.5"):
        iqm = groups[label]["iqm"]
        shown = interval(iqm["value"], *iqm["ci95"])
        assert re.search(rf"{re.escape(label)}.*│ +3 of 3 │ +{re.escape(shown)}", out)
    assert "Probability of improvement on CartPole-v1" in out
    assert "Performance profiles on CartPole-v1" in out
    data = json.loads(gymrun("compare", *runs, "--json")[1])
    [terminal] = data["groups"]
    assert [g["iqm"] for g in terminal["groups"]] == [
        groups[g["label"]]["iqm"] for g in terminal["groups"]
    ]
    # P(X > Y) of the two groups is the same number in the terminal and on the board
    a, b = terminal["improvement"]["groups"]
    keys = site_compare["improvement"]["groups"]
    on_site = site_compare["improvement"]["matrix"][keys.index(a)][keys.index(b)]
    assert terminal["improvement"]["matrix"][0][1] == on_site


@pytest.fixture
def server(recordings: Recordings, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "recordings"
    shutil.copytree(recordings.root / "cartpole_balance", root / "cartpole_balance")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gymrun",
            "board",
            str(root),
            "-o",
            str(tmp_path / "site"),
            "--serve",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=default_signals,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        address = process.stdout.readline().strip()
        assert first.startswith("board: 1 run, 0 sweeps, 1 environment")
        match = re.fullmatch(r"serving (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)", address)
        assert match, address
        yield match.group(1), root
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130  # Ctrl-C ends it as it ends every command
        assert process.stderr is not None
        said = process.stderr.read()
        # a recordings directory removed while served is said once, then awaited
        assert said.replace(f"error: {root}: no such directory\n", "", 1) == "interrupted\n"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize(
    ("how", "code", "said"),
    [
        (signal.SIGTERM, 143, "interrupted by SIGTERM\n"),
        (signal.SIGHUP, 129, "interrupted by SIGHUP\n"),
    ],
)
def test_serve_stopped_by_a_signal_exits_as_every_command_does(
    tmp_path: Path, how: signal.Signals, code: int, said: str
) -> None:
    (tmp_path / "recordings").mkdir()
    args = ["board", "recordings", "-o", "site", "--serve", "--port", "0"]
    process = start_gymrun(*args, cwd=tmp_path)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("board: 0 runs")
        assert process.stdout.readline().startswith("serving http://127.0.0.1:")
        process.send_signal(how)
        assert finished(process)[0::2] == (code, said)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_board_being_served_is_not_built_by_another_process_meanwhile(tmp_path: Path) -> None:
    (tmp_path / "recordings").mkdir()
    serving = start_gymrun(
        "board", "recordings", "-o", "site", "--serve", "--port", "0", cwd=tmp_path
    )
    try:
        assert serving.stdout is not None
        assert serving.stdout.readline().startswith("board: 0 runs")
        assert serving.stdout.readline().startswith("serving http://127.0.0.1:")
        index = (tmp_path / "site" / "index.html").read_bytes()
        busy = (
            "error: --out site: another gymrun board build is in progress there (or --serve); "
            "try again once it ends\n"
        )
        for extra in ((), ("--serve", "--port", "0")):  # a build, and a second server
            other = run_gymrun("board", "recordings", "-o", "site", *extra, cwd=tmp_path)
            assert (other.returncode, other.stdout, other.stderr) == (2, "", busy)
        assert (tmp_path / "site" / "index.html").read_bytes() == index
        serving.send_signal(signal.SIGINT)
        assert finished(serving, timeout=30)[0] == 130
    finally:
        if serving.poll() is None:
            serving.kill()
            serving.wait()
    after = run_gymrun("board", "recordings", "-o", "site", cwd=tmp_path)  # free again
    assert (after.returncode, after.stderr) == (0, "")


# a build from Python that stops inside itself, holding its folder, until told to go on
BUILD_HELD = """
import pathlib, sys, time
from gymrun.board.build import build_board

def reading(done, total):
    print("reading", flush=True)
    while not pathlib.Path("go-on").exists():
        time.sleep(0.05)

build_board(pathlib.Path("recordings"), pathlib.Path("site"), on_progress=reading)
print("built", flush=True)
"""


def test_a_board_built_from_python_holds_its_folder_against_other_processes(
    tmp_path: Path,
) -> None:
    """`build_board` takes the lock itself: `gymrun board`, a server and another build
    from Python are refused while it writes, each in its own words."""
    code, _, err = gymrun(
        "run",
        str(CONFIGS / "cartpole_random.yaml"),
        "-n",
        "2",
        "-q",
        "-o",
        str(tmp_path / "recordings" / "r"),
    )
    assert code == 0, err
    building = subprocess.Popen(
        [sys.executable, "-c", BUILD_HELD],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert building.stdout is not None
        assert building.stdout.readline() == "reading\n"  # its build is under way
        busy = (
            "another gymrun board build is in progress there (or --serve); try again once it ends"
        )
        for extra in ((), ("--serve", "--port", "0")):
            other = run_gymrun("board", "recordings", "-o", "site", *extra, cwd=tmp_path)
            assert (other.returncode, other.stdout, other.stderr) == (
                2,
                "",
                f"error: --out site: {busy}\n",
            )
        with pytest.raises(GymrunError) as refused:
            build_board(tmp_path / "recordings", tmp_path / "site")
        assert str(refused.value) == (
            f"out='{tmp_path / 'site'}': another gymrun board build is in progress there "
            "(or serve_board); try again once it ends"
        )
        (tmp_path / "go-on").touch()
        assert finished(building, timeout=60)[:2] == (0, "built\n")
    finally:
        if building.poll() is None:
            building.kill()
            building.wait()
    assert json.loads((tmp_path / "site" / "index.json").read_text())["environments"]
    after = run_gymrun("board", "recordings", "-o", "site", cwd=tmp_path)  # free again
    assert (after.returncode, after.stderr) == (0, "")


def test_serve_rebuilds_as_runs_arrive(server: tuple[str, Path], tmp_path: Path) -> None:
    address, root = server
    page = urllib.request.urlopen(address + "index.html", timeout=10).read().decode()
    assert "cartpole_balance" in page and "cartpole_random" not in page
    gymrun_in(root.parent, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = urllib.request.urlopen(address + "index.html", timeout=10).read().decode()
        if "cartpole_random" in page:
            break
        time.sleep(0.3)
    assert "cartpole_random" in page
    # what each build wrote, for open pages to refresh themselves
    live = json.loads(urllib.request.urlopen(address + "live.json", timeout=10).read())
    assert live["version"] >= 1 and live["changes"][-1][0] == live["version"]
    written = {page for _, pages in live["changes"] for page in pages}
    assert {"index.html", "envs/CartPole-v1/index.html"} <= written
    assert any(p.startswith("runs/cartpole_random/") for p in written)


def test_serve_follows_recordings_removed_and_made_again(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    address, root = server
    shutil.rmtree(root)  # rm -rf recordings, then a new run there
    time.sleep(1)
    gymrun_in(root.parent, "run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")
    deadline = time.monotonic() + 30
    names: list[str] = []
    while time.monotonic() < deadline and names != ["cartpole_random"]:
        time.sleep(0.3)
        index = json.loads(urllib.request.urlopen(address + "index.json", timeout=10).read())
        names = [run["name"] for env in index["environments"] for run in env["runs"]]
    assert names == ["cartpole_random"]


def requested(
    address: str, host: str | None, method: str = "GET", path: str = "index.html"
) -> tuple[int, str]:
    """The status and body of `method` /index.html at `address`, sent with `host` as its
    Host header (None: none at all), as a page of another site would have it sent."""
    served = urllib.parse.urlsplit(address)
    connection = http.client.HTTPConnection(served.hostname or "", served.port, timeout=10)
    try:
        connection.putrequest(method, f"/{path}", skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_serve_answers_only_for_its_own_names(server: tuple[str, Path]) -> None:
    # A page on another site can have the browser send it to 127.0.0.1 under its own name
    # (DNS rebinding): the board answers only for the names it is served under.
    address, _ = server
    port = urllib.parse.urlsplit(address).port
    for host in (
        f"127.0.0.1:{port}",
        "127.0.0.1",
        f"localhost:{port}",
        "localhost",
        f"LocalHost:{port}",
        f"[::1]:{port}",
        "[::1]",
    ):
        status, page = requested(address, host)
        assert (status, "cartpole_balance" in page) == (200, True), host
    for host in (
        "evil.example",
        f"evil.example:{port}",
        f"localhost.evil.example:{port}",
        f"127.0.0.1.nip.io:{port}",
        f"127.0.0.1:{port + 1 if port < 65535 else 1}",
        f"localhost:{port}@evil.example",
        "",
        None,
    ):
        for method in ("GET", "HEAD", "POST"):
            status, page = requested(address, host, method)
            assert status == 421, (host, method)
            assert "cartpole_balance" not in page and "<html" not in page.lower(), host
            if method != "HEAD":
                assert page.startswith("421 Misdirected Request: "), page


def test_serve_sends_only_what_the_board_wrote(server: tuple[str, Path], tmp_path: Path) -> None:
    address, _ = server
    secret = tmp_path / "id_rsa"
    secret.write_text("the key")
    site = tmp_path / "site"
    (site / "key.txt").symlink_to(secret)  # planted in the site, not made by the board
    (site / "runs" / "linked").symlink_to(tmp_path)
    os.mkfifo(site / "pipe.txt")
    assert (site / ".board.db").is_file()  # the build's record, not the board's
    hidden = (".board.db", "runs/.partial")
    (site / "runs" / ".partial").write_text("half written")
    for name in ("key.txt", "runs/linked/id_rsa", "pipe.txt", "../id_rsa", *hidden):
        status, page = requested(address, urllib.parse.urlsplit(address).netloc, path=name)
        assert status == 404 and "the key" not in page, name
    assert requested(address, urllib.parse.urlsplit(address).netloc)[0] == 200


# -- in a real browser ---------------------------------------------------------------------


def test_index_shows_each_leaderboard_in_order(
    browser: BrowserContext, recordings: Recordings, site: Path
) -> None:
    visit = Visit(browser, site / "index.html")
    index = json.loads((site / "index.json").read_text())
    [cartpole] = [env for env in index["environments"] if env["env"] == "CartPole-v1"]
    section = visit.page.locator("#env-CartPole-v1")
    assert section.locator("h2").inner_text() == "CartPole-v1"
    rows = section.locator("table.leaderboard tbody tr")
    shown = [rows.nth(i).get_attribute("data-run") for i in range(rows.count())]
    assert shown == [r["id"] for r in cartpole["runs"][:10]]
    first = [c.strip() for c in rows.nth(0).locator("td").all_inner_texts()]
    assert first[0] == "1" and first[1].startswith("cartpole_balance")
    # the video run is judged against CartPole-v1's own 475, the others against 195
    assert first[2] == "500 [500, 500]" and first[4] == "195"
    assert first[5].startswith("solved after 0 episodes")  # the first window's first episode
    assert first[9] == "completed"
    link = f"all {cartpole['run_count']} runs"
    visit.page.get_by_role("link", name=link).click()  # the environment's page
    rows = visit.page.locator("table.leaderboard tbody tr")
    shown = [rows.nth(i).get_attribute("data-run") for i in range(rows.count())]
    assert shown == [r["id"] for r in leaderboard(site, "CartPole-v1")["runs"]]
    statuses = dict(zip(shown, visit.texts("tbody td:last-child"), strict=True))
    assert statuses[run_id(recordings, "interrupted")] == "interrupted"
    assert statuses[run_id(recordings, "killed")] == "killed"
    assert statuses[run_id(recordings, "failed")] == "failed"
    visit.page.go_back()
    coin = visit.page.locator("section.env", has_text="gymrun/RandomReward-v0")
    expected = solved_after_by_hand(recordings.rewards("solved"), 5.0)
    assert f"solved after {expected} episodes" in coin.locator("tbody td").nth(4).inner_text()
    damaged = visit.texts("#damaged li")
    assert len(damaged) == 1
    assert re.search(r"episodes\.jsonl(: line |:)4: not an episode record", damaged[0])
    assert visit.broken_images() == [] and visit.errors == []
    visit.close()


def test_run_page_plays_its_video_and_shows_its_record(
    browser: BrowserContext, recordings: Recordings, site: Path
) -> None:
    visit = Visit(browser, site / "runs" / run_id(recordings, "video") / "index.html")
    videos = visit.page.locator("video")
    assert videos.count() == 2
    visit.page.wait_for_function(
        "[...document.querySelectorAll('video')].every(v => v.readyState >= 1)"
    )
    durations = visit.page.evaluate("[...document.querySelectorAll('video')].map(v => v.duration)")
    steps = [
        json.loads(line)["steps"]
        for line in (recordings.runs["video"] / "episodes.jsonl").read_text().splitlines()
    ]
    # CartPole renders 50 frames a second: the frame after reset, then one per step
    assert durations == pytest.approx([(steps[0] + 1) / 50, (steps[2] + 1) / 50], abs=0.05)
    assert visit.texts("figure.video figcaption") == ["episode 0", "episode 2"]
    command = visit.page.locator("pre.command code").first.inner_text()
    assert command == f"gymrun run {recordings.runs['video']}/config.yaml"
    assert visit.broken_images() == [] and visit.errors == []
    visit.close()


def test_killed_run_page_says_so(
    browser: BrowserContext, recordings: Recordings, site: Path
) -> None:
    visit = Visit(browser, site / "runs" / run_id(recordings, "killed") / "index.html")
    assert "killed before it could close its record" in visit.page.locator("p.problem").inner_text()
    episodes = len(recordings.rewards("killed"))
    summary = dict(
        zip(visit.texts("table.summary th"), visit.texts("table.summary td"), strict=True)
    )
    assert summary["episodes"] == f"{episodes} of 100000000"
    # every episode it finished is listed, one a row or (past 200) in blocks
    last = visit.page.locator("table.episodes tbody tr").last.locator("td").first.inner_text()
    assert last.split("\u2013")[-1] == str(episodes - 1)  # a block reads "first-last" (en dash)
    # its reward curve is drawn in the page, from the episodes it finished
    visit.page.wait_for_selector("[data-chart=reward] canvas")
    assert visit.broken_images() == [] and visit.errors == []
    visit.close()


def test_comparison_page_picks_groups(
    browser: BrowserContext, recordings: Recordings, site: Path
) -> None:
    visit = Visit(browser, site / "envs" / "CartPole-v1" / "compare.html")
    compare = json.loads((site / "envs" / "CartPole-v1" / "compare.json").read_text())
    labels = visit.texts("table.groups tbody td:nth-child(2)")
    assert labels == [g["label"] for g in compare["groups"]]
    row = visit.page.locator("table.groups tbody tr", has_text="eps: wrappers.0.epsilon=0.5")
    group = next(g for g in compare["groups"] if g["label"] == "eps: wrappers.0.epsilon=0.5")
    shown = interval(group["iqm"]["value"], *group["iqm"]["ci95"])
    assert row.locator("td").nth(3).inner_text() == shown
    legend = "[data-chart=profiles] .u-legend .u-series"
    drawn = [t for t in visit.texts(legend) if t not in ("", "τ")]
    assert drawn == ["eps: wrappers.0.epsilon=0.5", "eps: wrappers.0.epsilon=0.25"]
    visit.page.get_by_label("eps: wrappers.0.epsilon=0.5").uncheck()
    assert "off" in (row.get_attribute("class") or "")  # still there, to tick again
    hidden = visit.page.locator(f"table.improvement [data-group='{group['key']}']")
    assert hidden.count() > 0 and all(hidden.nth(i).is_hidden() for i in range(hidden.count()))
    # the profiles are drawn again, of the ticked groups only
    assert [t for t in visit.texts(legend) if t not in ("", "τ")] == [
        "eps: wrappers.0.epsilon=0.25"
    ]
    assert visit.broken_images() == [] and visit.errors == []
    visit.close()


def test_every_page_links_resolve_and_fits_a_phone(browser: BrowserContext, site: Path) -> None:
    seen, problems = crawl(browser, site, width=375)
    assert problems == []
    assert len(seen) == 1 + 14 + 1 + 2 * 2  # index, runs, the sweep, each env's two pages


@pytest.fixture(scope="module")
def two_boundaries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A board of CartPole runs judged against 195 and against the spec's 475, one Acrobot
    run, and a sweep over both environments."""
    base = tmp_path_factory.mktemp("boundaries")
    gymrun_in(base, "run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "3", "-q")  # 195
    gymrun_in(base, "run", "CartPole-v1", "-a", "cartpole_balance", "-n", "3", "-q")  # 475
    gymrun_in(base, "run", "Acrobot-v1", "-n", "2", "-q")
    (base / "two.yaml").write_text(
        "name: two\nenv: CartPole-v1\nagent: random\nepisodes: 3\nseed: 0\n"
        "sweep:\n  env: [CartPole-v1, Acrobot-v1]\n  max_steps: [10, 30]\n"
    )
    gymrun_in(base, "sweep", "two.yaml", "-o", "recordings/two")
    build_board(base / "recordings", base / "site")
    return base / "site"


def test_a_leaderboard_of_two_boundaries_shows_each(
    browser: BrowserContext, two_boundaries: Path
) -> None:
    visit = Visit(browser, two_boundaries / "index.html")
    cartpole = visit.page.locator("#env-CartPole-v1 table.leaderboard")
    heads = [h.strip() for h in cartpole.locator("thead th").all_inner_texts()]
    assert "boundary" in heads
    column = heads.index("boundary")
    rows = cartpole.locator("tbody tr")
    boundaries = [rows.nth(i).locator("td").nth(column).inner_text() for i in range(rows.count())]
    assert set(boundaries) == {"195", "475"}  # the sweep's CartPole runs are at 475 too
    # one boundary among Acrobot's runs: no column repeats it
    acrobot = visit.page.locator("#env-Acrobot-v1 table.leaderboard thead th")
    assert "boundary" not in [h.strip() for h in acrobot.all_inner_texts()]
    visit.close()
    visit = Visit(browser, two_boundaries / "envs" / "CartPole-v1" / "compare.html")
    heads = visit.texts("table.groups thead th")
    cells = visit.texts(f"table.groups tbody td:nth-child({heads.index('boundary') + 1})")
    assert set(cells) == {"195", "475"}  # each group of runs with its own
    assert visit.errors == []
    visit.close()


def test_a_sweep_over_two_environments_stars_the_best_of_each(
    browser: BrowserContext, two_boundaries: Path
) -> None:
    [page] = (two_boundaries / "sweeps").rglob("index.html")
    visit = Visit(browser, page)
    rows = visit.page.locator("table.grid tbody tr")
    starred = []
    for i in range(rows.count()):
        cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        if cells[3].endswith("★"):
            starred.append((cells[0], cells[1]))
    # Acrobot's -10 is below every CartPole mean, and still the best of its environment
    assert sorted(starred) == [("Acrobot-v1", "10"), ("CartPole-v1", "30")]
    assert visit.errors == []
    visit.close()


def test_the_index_shows_the_aggregate_of_an_agent_on_several_tasks(tmp_path: Path) -> None:
    root = tmp_path / "rec"
    for env in ("CartPole-v1", "Acrobot-v1"):
        for seed in ("1", "2"):
            code, _, err = gymrun(
                "run", env, "-n", "3", "--seed", seed, "-o", str(root / f"{env}-{seed}")
            )
            assert code == 0, err
    build_board(root, tmp_path / "site")
    index = json.loads((tmp_path / "site" / "index.json").read_text())
    [group] = index["normalized"]["groups"]
    assert [t["env"] for t in group["tasks"]] == ["Acrobot-v1", "CartPole-v1"]
    iqm = group["aggregate"]["iqm"]
    page = (tmp_path / "site" / "index.html").read_text()
    assert "Across tasks" in page
    assert interval(iqm["value"], *iqm["ci95"]) in page


def test_a_runs_metrics_are_on_its_page_and_its_leaderboard(tmp_path: Path) -> None:
    (tmp_path / "goal.yaml").write_text(
        "imports: [tests.support.goal_env]\nenv: gymrun-test/Goal-v0\nepisodes: 20\n"
        "sweep:\n  seeds: [1, 2]\n"
    )
    code, _, err = gymrun("sweep", str(tmp_path / "goal.yaml"), "-o", str(tmp_path / "rec/s"))
    assert code == 0, err
    build_board(tmp_path / "rec", tmp_path / "site")
    index = json.loads((tmp_path / "site" / "index.json").read_text())
    [env] = index["environments"]
    assert env["metrics"] == ["is_success"]
    run = json.loads((tmp_path / "site/runs/s/seed=1/run.json").read_text())
    stored = json.loads((tmp_path / "rec/s/seed=1/summary.json").read_text())
    success = stored["metrics"]["is_success"]
    assert run["run"]["metrics"]["is_success"] == {
        "value": success["mean"],
        "ci95": [success["low"], success["high"]],
        "episodes": 20,
        "missing": 0,
    }
    lines = (tmp_path / "rec/s/seed=1/episodes.jsonl").read_text().splitlines()
    assert [e["metrics"] for e in run["episodes"]] == [
        {"is_success": json.loads(line)["is_success"]} for line in lines
    ]
    shown = interval(success["mean"], success["low"], success["high"])
    page = (tmp_path / "site/runs/s/seed=1/index.html").read_text()
    assert f"success [95% CI]</th><td>{shown} over 20 episodes</td>" in page
    assert page.count("✓ yes") == sum('"is_success": true' in line for line in lines)
    leaderboard = (tmp_path / "site/envs" / env["slug"] / "index.html").read_text()
    assert "success [95% CI]</th>" in leaderboard and f">{shown}</td>" in leaderboard


def test_a_duel_is_listed_and_its_runs_link_to_its_page(tmp_path: Path) -> None:
    random = str(CONFIGS / "cartpole_random.yaml")
    gymrun_in(tmp_path, "duel", random, random, "--max-seeds", "1", "-o", "recordings/duel")
    site = tmp_path / "site"
    report = build_board(tmp_path / "recordings", site)
    assert (report.runs, report.sweeps, report.duels) == (2, 0, 1)
    index = json.loads((site / "index.json").read_text())
    [duel] = index["duels"]
    assert (duel["id"], duel["decision"], duel["status"]) == ("duel", "none", "completed")
    assert [run["id"] for side in "AB" for run in duel["sides"][side]] == [
        "duel/a-seed=0",
        "duel/b-seed=0",
    ]
    [cartpole] = index["environments"]
    assert cartpole["duels"] == ["duel"] and len(cartpole["runs"]) == 2  # on the leaderboard
    page = (site / "duels" / "duel" / "index.html").read_text()
    assert duel["verdict"] in page and 'href="../../runs/duel/b-seed%3D0/index.html"' in page
    run_page = (site / "runs" / "duel" / "a-seed=0" / "index.html").read_text()
    assert 'href="../../../duels/duel/index.html">duel</a>' in run_page
    assert build_board(tmp_path / "recordings", site).written == []


def test_the_page_of_a_duel_killed_mid_round_counts_the_runs_of_that_round_as_show_does() -> None:
    duel_killed_mid_round("recordings/d")
    _, _, said = gymrun("show", "recordings/d")
    notes = [line.removeprefix("note: ") for line in said.splitlines()]
    assert len(notes) == 2 and notes[1].startswith("round 2 was cut short with ")
    assert gymrun("board", "recordings", "-o", "site").code == 0
    page = Path("site/duels/d/index.html").read_text()
    shown = re.findall(r'<p class="note">(.*?)</p>', page)
    assert shown[:2] == notes  # show's words, each
    assert "killed</span>" in page and "undecided: killed after 2 seeds of each" in page
    assert 'href="../../runs/d/a-seed%3D2/index.html">2</a>: ' in page  # round 2's run


@pytest.mark.slow  # twelve runs, each drawn
def test_a_duel_has_a_page_with_its_decision_and_its_runs_link_to_it(
    browser: BrowserContext, tmp_path: Path
) -> None:
    random, balance = str(CONFIGS / "cartpole_random.yaml"), str(CONFIGS / "cartpole_balance.yaml")
    gymrun_in(
        tmp_path, "duel", random, balance, "--set", "episodes=3", "--max-seeds", "6",
        "--round", "3", "-o", "recordings/duel",
    )  # fmt: skip
    site = tmp_path / "site"
    build_board(tmp_path / "recordings", site)
    [duel] = json.loads((site / "index.json").read_text())["duels"]
    assert duel["verdict"] == "B (cartpole_balance) scores higher: decided after 6 seeds of each"
    visit = Visit(browser, site / "duels" / "duel" / "index.html", width=375)
    width = visit.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] and visit.errors == []
    assert duel["verdict"] in visit.page.inner_text("body")
    assert [row[-1] for row in (r.split("\t") for r in visit.texts("table.grid tbody tr")[:2])] == [
        "go on",
        "B",
    ]
    links = visit.page.eval_on_selector_all("a[href*='runs/']", "as => as.map(a => a.href)")
    assert len(links) == 12  # each run, by its seed
    visit.close()


def test_a_killed_sweeps_page_shows_the_points_its_runs_recorded(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 5\n"
        "wrappers: [{name: epsilon_random, epsilon: 0.1}]\n"
        "sweep:\n  wrappers.0.epsilon: [0.1, 0.9]\n  seeds: [1, 2]\n"
    )
    code, _, err = gymrun("sweep", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "rec/s"))
    assert code == 0, err
    # what a sweep killed outright leaves: its sweep.json as written at its start
    record = tmp_path / "rec/s/sweep.json"
    document = json.loads(record.read_text())
    record.write_text(json.dumps(document | {"status": "running", "points": []}))
    build_board(tmp_path / "rec", tmp_path / "site")
    page = (tmp_path / "site/sweeps/s/index.html").read_text()
    assert "killed" in page and "gymrun sweep CONFIG --resume" in page
    rows = re.findall(r'<td>(0\.[19])</td><td class="num">(\d+)</td>', page)
    assert rows == [("0.1", "10"), ("0.9", "10")]  # each point's two runs of 5 episodes
    for point in document["points"]:  # the numbers the sweep printed, from its runs
        assert f'<td class="num nowrap">{interval(point["mean_reward"], *point["ci95"])}' in page


def test_runs_named_by_seed_at_the_top_of_the_recordings_are_runs_not_a_sweep(
    tmp_path: Path,
) -> None:
    """Runs a user recorded as ``recordings/random-seed=1`` and ``-seed=2`` are runs on the
    leaderboard: the recordings directory is not taken for a sweep (which had a page with
    no name, its styles and links broken, and a link "sweep " from its environment)."""
    for seed in (1, 2):
        out = str(tmp_path / f"rec/random-seed={seed}")
        code, _, err = gymrun("run", "CartPole-v1", "-n", "3", "--seed", str(seed), "-q", "-o", out)
        assert code == 0, err
    report = build_board(tmp_path / "rec", tmp_path / "site")
    assert (report.runs, report.sweeps) == (2, 0)
    index = json.loads((tmp_path / "site/index.json").read_text())
    assert index["sweeps"] == [] and index["environments"][0]["sweeps"] == []
    assert not (tmp_path / "site/sweeps").exists()
    assert ">sweep " not in (tmp_path / "site/envs/CartPole-v1/index.html").read_text()


def test_a_sweeps_page_names_its_runs_not_there_to_read(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 2\nsweep: {seeds: [0, 1]}\n"
    )
    code, _, err = gymrun("sweep", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "rec/s"))
    assert code == 0, err
    shutil.rmtree(tmp_path / "rec/s/seed=1")
    build_board(tmp_path / "rec", tmp_path / "site")
    page = (tmp_path / "site/sweeps/s/index.html").read_text()
    said = "rec/s/seed=1: not read: sweep.json lists it, but it is gone; shown as sweep.json"
    assert re.search(rf'<p class="note">[^<]*{re.escape(said)} recorded it</p>', page)


OPENED: list[str] = []  # the files opened while a test listens (see `_opened`)


def _opened(event: str, args: tuple) -> None:
    if event == "open" and OPENED and isinstance(args[0], str | os.PathLike):
        OPENED.append(os.fspath(args[0]))


def test_a_sweep_marked_running_is_asked_once_whether_its_process_is_alive(
    tmp_path: Path,
) -> None:
    # Asked twice, a sweep whose process ends in between would be shown as one thing with
    # points judged as another; each ask tries its lock.
    (tmp_path / "s.yaml").write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 3\nsweep:\n  seeds: [1, 2]\n"
    )
    code, _, err = gymrun("sweep", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "rec/s"))
    assert code == 0, err
    record = tmp_path / "rec/s/sweep.json"
    record.write_text(json.dumps(json.loads(record.read_text()) | {"status": "running"}))
    sys.addaudithook(_opened)  # (a hook stays for the process: it listens only while asked)
    OPENED.append("listening")
    try:
        build_board(tmp_path / "rec", tmp_path / "site")
    finally:
        opened, OPENED[:] = OPENED[1:], []
    assert opened.count(str(tmp_path / "rec/s/.gymrun.lock")) == 1
    assert "killed" in (tmp_path / "site/sweeps/s/index.html").read_text()


def test_a_board_of_other_recordings_leaves_no_page_of_the_last_ones(tmp_path: Path) -> None:
    # the same --out, given another recordings folder: built anew, its environments only
    for name, env in (("first", "CartPole-v1"), ("second", "Acrobot-v1")):
        code = gymrun("run", env, "-n", "2", "-o", str(tmp_path / name / "run")).code
        assert code == 0
    out = tmp_path / "site"
    build_board(tmp_path / "first", out)
    assert (out / "envs" / "CartPole-v1" / "index.html").is_file()
    report = build_board(tmp_path / "second", out)
    assert (report.runs, report.environments) == (1, 1)
    assert sorted(p.name for p in (out / "envs").iterdir()) == ["Acrobot-v1"]
    assert [r["env"] for r in json.loads((out / "index.json").read_text())["environments"]] == [
        "Acrobot-v1"
    ]


def test_a_recordings_folder_whose_name_is_not_utf8_is_built_and_followed(
    tmp_path: Path,
) -> None:
    # its runs cannot be shown by their directory (no page holds such a name): each says
    # so, and the board is built, and followed by a server told which run changed
    root = tmp_path / os.fsdecode(b"rec-\xff")
    config = str(CONFIGS / "cartpole_random.yaml")
    gymrun_in(tmp_path, "run", config, "-n", "3", "-o", str(root / "a"))
    gymrun_in(tmp_path, "run", config, "-n", "4", "-o", str(root / "b"))
    first = build_board(root, tmp_path / "site")
    assert (first.runs, first.damaged) == (2, 2)
    index = json.loads((tmp_path / "site" / "index.json").read_text())
    assert index["recordings"].startswith(f"{tmp_path}/rec-\ufffd-")
    [problem, _] = [run["problem"] for run in index["damaged"]]
    assert problem.startswith(f"{tmp_path}/rec-\ufffd/a")
    assert problem.endswith(": the directory's name is not UTF-8 (rename it)")
    (root / "b" / "summary.json").write_text("{}")
    again = build_board(root, tmp_path / "site", changed=[root / "b"])
    assert (again.runs, again.read) == (2, 1)


def test_a_server_told_of_another_change_still_sees_a_recording_run_die(tmp_path: Path) -> None:
    # A server's build after a change looks only at the runs that changed, and at those
    # still recording: a process that dies writes nothing, and its run is killed all the same.
    import fcntl

    from gymrun.board.build import Kept

    root, site = tmp_path / "rec", tmp_path / "site"
    config = str(CONFIGS / "cartpole_random.yaml")
    gymrun_in(tmp_path, "run", config, "-n", "5", "-o", "rec/done")
    gymrun_in(tmp_path, "run", config, "-n", "5", "--seed", "1", "-o", "template")
    run = root / "live"
    run.mkdir()
    for name in ("config.yaml", "meta.json", "episodes.jsonl", ".gymrun.lock"):
        shutil.copy(tmp_path / "template" / name, run / name)
    running = {"status": "running", "error": None, "started_at": "2026-01-01T00:00:00+00:00"}
    (run / "summary.json").write_text(json.dumps(running | {"ended_at": None}))

    def status() -> str:
        return str(json.loads((site / "runs" / "live" / "run.json").read_text())["run"]["status"])

    kept = Kept()
    with (run / ".gymrun.lock").open() as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # its process holds it while it records
        build_board(root, site, kept=kept)
        assert status() == "running"
    os.utime(root / "done" / "summary.json")  # (another run changed)
    report = build_board(root, site, changed=[root / "done"], kept=kept)
    assert (report.runs, report.read, report.running) == (2, 2, 0)
    assert status() == "killed"


def test_each_environments_comparison_is_made_and_written_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A board compares one environment's runs at a time and writes compare.json and
    compare.html as it makes them (a board of thousands of runs holds neither every run
    nor a whole page of them): each environment's files are those of the whole comparison
    of its runs, as `gymrun compare` makes it."""
    gymrun_in(tmp_path, "run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "3", "-q")  # 195
    (tmp_path / "three.yaml").write_text(
        "name: three\nenv: CartPole-v1\nagent: random\nepisodes: 3\nmax_steps: 20\n"
        "wrappers:\n  - name: epsilon_random\n    epsilon: 0.5\n"
        "sweep:\n  env: [CartPole-v1, Acrobot-v1, MountainCar-v0]\n"
        "  wrappers.0.epsilon: [0.0, 1.0]\n  seeds: [0, 1, 2]\n"
    )
    gymrun_in(tmp_path, "sweep", "three.yaml", "-o", "recordings/three")
    compared: list[set[str]] = []
    written: dict[str, object] = {}

    def one_by_one(members: list[Member], *args: object) -> list[Comparison]:
        compared.append({m.env for m in members})
        return compare(members, *args)  # type: ignore[arg-type]

    def write(site: Site, relative: str, content: object) -> bool:
        written[relative] = content
        return site_write(site, relative, content)  # type: ignore[arg-type]

    site_write = Site.write
    monkeypatch.setattr("gymrun.board.build.compare", one_by_one)
    monkeypatch.setattr(Site, "write", write)
    root, out = tmp_path / "recordings", tmp_path / "site"
    build_board(root, out)
    envs = ["Acrobot-v1", "CartPole-v1", "MountainCar-v0"]
    assert compared == [{env} for env in envs]
    members = []
    for config in sorted(root.rglob("config.yaml")):
        member = stored_member(read_run(config.parent, kept_summary=True))
        members.append(dataclasses.replace(member, run=config.parent.relative_to(root).as_posix()))
    for whole in compare(members):
        folder = f"envs/{whole.env}"
        for name in ("compare.json", "compare.html"):
            assert callable(written[f"{folder}/{name}"])  # made as it is written
        on_board = (out / folder / "compare.json").read_bytes()
        assert on_board == json_bytes(whole.to_json(Profile.arrays)) + b"\n"
        page = (out / folder / "compare.html").read_text()
        data = re.search(r'id="compare-data">(.*?)</script>', page, re.S)
        assert data is not None
        assert json.loads(data.group(1)) == {
            "groups": [
                {"key": g.key, "label": g.label, "run_scores": g.run_scores.tolist()}
                for g in whole.groups
            ],
            "improvement": json.loads(on_board)["improvement"],
        }
        rows = re.findall(r'<tr id="g-(\w+)" data-group="\w+">\n(.*?)</tr>\n', page, re.S)
        assert [key for key, _ in rows] == [g.key for g in whole.groups]
        for (_, row), group in zip(rows, whole.groups, strict=True):
            assert f"{len(group.scored)} of {len(group.members)}" in row
            assert row.count("<a href=") == len(group.scored)  # a link to each run scored
            assert ('<td class="num">195</td>' in row) == (group.reward_boundary == 195)
