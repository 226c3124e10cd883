"""A recorded sweep read back: `show` prints its table again, `compare` compares its points,
and a sweep stopped before it wrote sweep.json says so; `compare` of runs of several
environments and reward boundaries."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from gymrun.board.build import build_board
from gymrun.numbers import interval
from tests.support.board_runs import QUITTER
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

SWEEP = str(CONFIGS / "cartpole_epsilon_sweep.yaml")


def test_show_prints_a_sweeps_table_again() -> None:
    code, ran, _ = gymrun("sweep", SWEEP, "--set", "episodes=10", "-o", "s")
    assert code == 0
    code, shown, err = gymrun("show", "s")
    assert code == 0, err
    assert shown == "sweep s\n" + ran  # the very table the sweep printed
    document = json.loads(gymrun("show", "s", "--json")[1])
    assert document == json.loads(Path("s/sweep.json").read_text())
    # recordings/NAME shows its newest sweep, as it does a run
    gymrun("sweep", SWEEP, "--set", "episodes=5")
    code, shown, _ = gymrun("show", "recordings/cartpole-epsilon-sweep")
    assert code == 0
    assert shown.startswith("sweep recordings/cartpole-epsilon-sweep/")
    assert "│                1.0 │       15 │" in shown


def test_show_json_of_a_moved_sweep_or_duel_names_its_runs_where_they_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert gymrun("sweep", SWEEP, "--set", "episodes=2", "-o", "s")[0] == 0
    random_agent = str(CONFIGS / "cartpole_random.yaml")
    assert gymrun("duel", random_agent, random_agent, "--set", "episodes=2", "-o", "d")[0] == 0
    Path("kept").mkdir()
    Path("s").rename("kept/s")
    Path("d").rename("kept/d")
    Path("elsewhere").mkdir()
    monkeypatch.chdir("elsewhere")  # a script reading the records from its own folder
    sweep = json.loads(gymrun("show", "../kept/s", "--json")[1])
    assert sweep["sweep_dir"] == "../kept/s"
    run_dirs = [run["run_dir"] for point in sweep["points"] for run in point["runs"]]
    assert run_dirs[0] == "../kept/s/epsilon=0.0-seed=0" and len(run_dirs) == 18
    duel = json.loads(gymrun("show", "../kept/d", "--json")[1])
    assert duel["duel_dir"] == "../kept/d"
    assert duel["runs"][0]["run_dir"] == "../kept/d/a-seed=0"
    for run_dir in [*run_dirs, *(run["run_dir"] for run in duel["runs"])]:
        assert Path(run_dir, "config.yaml").is_file()


def test_compare_on_a_sweep_compares_its_points() -> None:
    assert gymrun("sweep", SWEEP, "--set", "episodes=10", "-o", "s")[0] == 0
    code, out, _ = gymrun("compare", "s", "--json")
    assert code == 0
    document = json.loads(out)
    assert [Path(run["run_dir"]).name for run in document["runs"]][:3] == [
        "epsilon=0.0-seed=0",
        "epsilon=0.0-seed=1",
        "epsilon=0.0-seed=2",
    ]
    [groups] = document["groups"]
    labels = {group["label"]: len(group["runs"]) for group in groups["groups"]}
    assert len(labels) == 6 and set(labels.values()) == {3}  # a group per point, 3 seeds each
    assert "cartpole-epsilon-sweep: wrappers.0.epsilon=0.25" in labels


def lines(out: str) -> list[str]:
    return [line.rstrip() for line in out.splitlines()]


def test_a_sweeps_table_and_a_comparison_of_its_points_say_what_their_intervals_are_over(
    tmp_path: Path,
) -> None:
    """The same heading, "mean [95% CI]", over two kinds of resample: a sweep's point pools
    its seeds' episodes, a group in a comparison has one score a run. Each table says which
    under it, as do the JSON and the board's pages."""
    assert gymrun("sweep", SWEEP, "--set", "episodes=4", "--set", "sweep.seeds=[0, 1]",
                  "-o", "s")[0] == 0  # fmt: skip
    over_episodes = "95% CI: bootstrap over the point's episodes (its seeds' pooled)"
    over_runs = "95% CI: bootstrap over the group's runs (one score a run)"
    code, shown, _ = gymrun("show", "s")
    assert code == 0
    assert over_episodes in lines(shown) and over_runs not in shown
    code, compared, _ = gymrun("compare", "s")
    assert code == 0
    assert over_runs in lines(compared) and over_episodes not in compared
    said = json.loads(gymrun("show", "s", "--json")[1])["interval"]
    assert said.startswith(
        "each point's ci95 (and its metrics' low, high): percentile "
        "bootstrap of the mean over the point's episodes (its seeds' pooled)"
    )
    [groups] = json.loads(gymrun("compare", "s", "--json")[1])["groups"]
    assert groups["statistics"]["interval"].startswith(
        "stratified percentile bootstrap over the group's runs (one score a run), "
    )
    build_board(Path("s"), tmp_path / "site")
    sweep_page = (tmp_path / "site" / "sweeps" / "s" / "index.html").read_text()  # named s
    assert ">mean reward [95% CI over episodes]</th>" in sweep_page
    assert ">IQM across seeds [95% CI over runs]</th>" in sweep_page
    compare_page = (tmp_path / "site" / "envs" / "CartPole-v1" / "compare.html").read_text()
    assert ">IQM [95% CI over runs]</th>" in compare_page
    assert ">mean [95% CI over runs]</th>" in compare_page


def test_a_sweep_stopped_before_its_sweep_json_says_so() -> None:
    assert gymrun("sweep", SWEEP, "--set", "episodes=5", "-o", "s")[0] == 0
    Path("s/sweep.json").rename("s/sweep.json.reserved")  # as a SIGKILL leaves it
    code, out, err = gymrun("show", "s")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "error: s: a sweep without sweep.json: still going, or stopped before it could "
        "write it (gymrun show DIR/RUN shows each run)"
    )
    assert gymrun("show", "s/epsilon=0.5-seed=1")[0] == 0
    assert len(json.loads(gymrun("compare", "s", "--json")[1])["runs"]) == 18
    shutil.rmtree("s/epsilon=0.5-seed=1")
    Path("s/sweep.json.reserved").write_text("{")
    assert gymrun("show", "s")[0] == 2


def test_a_sweeps_runs_are_compared_in_grid_order(write_config: Callable[..., Path]) -> None:
    config = write_config("env: CartPole-v1\nsweep:\n  episodes: [2, 10]\n  seeds: [0]\n")
    assert gymrun("sweep", str(config), "-o", "s")[0] == 0
    document = json.loads(gymrun("compare", "s", "--json")[1])
    # by name, episodes=10 would come before episodes=2
    assert [Path(run["run_dir"]).name for run in document["runs"]] == [
        "episodes=2-seed=0",
        "episodes=10-seed=0",
    ]


def compared_rows(out: str) -> dict[str, list[str]]:
    """The cells of each row of the table of runs compared, by run."""
    table = out.split("Groups on")[0]
    rows = [line.split("│")[1:-1] for line in table.splitlines() if line.startswith("│")]
    return {cells[0].strip(): [cell.strip() for cell in cells] for cells in rows}


def test_compare_marks_a_best_per_environment_and_shows_each_boundary() -> None:
    random = str(CONFIGS / "cartpole_random.yaml")  # reward_boundary: 195
    for args in (
        (random, "-n", "12", "-o", "a"),
        (str(CONFIGS / "cartpole_epsilon.yaml"), "-n", "12", "-o", "b"),
        ("CartPole-v1", "-n", "12", "--seed", "7", "-o", "c"),  # the spec's 475
        # seeded: a random agent now and then reaches Acrobot's goal within 500 steps
        ("Acrobot-v1", "-n", "2", "--seed", "0", "-o", "d"),
        ("Acrobot-v1", "-n", "2", "--seed", "0", "--set", "max_steps=50", "-o", "e"),
    ):
        assert gymrun("run", *args, "-q")[0] == 0
    code, out, err = gymrun("compare", "a", "d", "b", "e", "c")
    assert code == 0, err
    rows = compared_rows(out)
    header = next(line for line in out.splitlines() if line.startswith("┃"))
    columns = [cell.strip() for cell in header.split("┃")[1:-1]]
    assert columns[:3] == ["run", "env", "agent"] and "boundary" in columns
    mean, boundary = columns.index("mean ± std"), columns.index("boundary")
    means = {run: json.loads(Path(run, "summary.json").read_text())["mean_reward"] for run in rows}
    assert means["d"] == -500 and means["e"] == -50 and max(means.values()) == means["c"]
    # a star per environment, on its best run: Acrobot's -50 too, never across the two
    starred = {run for run, cells in rows.items() if cells[mean].endswith("★")}
    assert starred == {"c", "e"}
    # the runs of each environment stand together, each with the boundary it was judged by
    assert list(rows) == ["a", "b", "c", "d", "e"]
    assert {run: cells[boundary] for run, cells in rows.items()} == {
        "a": "195",
        "b": "195",
        "c": "475",
        "d": "-100",
        "e": "-100",
    }
    # of one boundary, no column says it again
    code, out, _ = gymrun("compare", "a", "b")
    assert code == 0 and "boundary" not in out.split("Groups on")[0]
    assert [r for r, cells in compared_rows(out).items() if "★" in cells[5]] == ["a"]


def test_compare_stars_a_completed_run_over_a_stopped_one_it_ties_and_never_a_failed_one() -> None:
    # every MountainCar episode of a random agent scores -200: the runs tie
    for seed in ("0", "1", "2"):
        assert (
            gymrun("run", "MountainCar-v0", "-n", "2", "--seed", seed, "-o", f"m{seed}", "-q")[0]
            == 0
        )

    def mark(run: str, status: str) -> None:
        summary = json.loads(Path(run, "summary.json").read_text())
        error = "stopped by hand" if status == "failed" else None
        Path(run, "summary.json").write_text(
            json.dumps(summary | {"status": status, "error": error})
        )

    def starred() -> list[str]:
        code, out, err = gymrun("compare", "m0", "m1", "m2")
        assert code == 0, err
        return [r for r, cells in compared_rows(out).items() if cells[5].endswith("★")]

    mark("m0", "interrupted")
    assert starred() == ["m1", "m2"]
    mark("m1", "failed")
    mark("m2", "failed")
    assert starred() == ["m0"]  # stopped, but not failed: the best of those that did not


def test_compare_across_tasks_normalizes_and_says_where_the_scores_came_from() -> None:
    for env in ("CartPole-v1", "Acrobot-v1"):
        for seed in ("1", "2"):
            assert gymrun("run", env, "-n", "5", "--seed", seed)[0] == 0
    runs = [str(p) for p in sorted(Path("recordings").glob("*/*"))]
    code, out, err = gymrun("compare", *runs, "--json", "--bootstrap", "500")
    assert (code, err) == (0, "")
    normalized = json.loads(out)["normalized"]
    assert normalized["interval"].startswith("stratified percentile bootstrap")
    assert "500 resamples" in normalized["interval"]
    [group] = normalized["groups"]
    assert group["label"] == "random"
    cartpole = next(t for t in group["tasks"] if t["env"] == "CartPole-v1")
    assert cartpole["random"] == {
        "score": 23.04,
        "source": "baselines table: random agent, 100 episodes, seed 0",
    }
    assert (
        cartpole["reference"]["source"] == "baselines table: heuristic agent, 100 episodes, seed 0"
    )
    expected = [(s - 23.04) / (500.0 - 23.04) for s in cartpole["run_scores"]]
    assert cartpole["normalized_scores"] == expected
    assert group["aggregate"]["tasks"] == 2 and group["aggregate"]["runs"] == 4
    code, out, _ = gymrun("compare", *runs)
    assert code == 0
    assert "random across 2 tasks: normalized scores (random agent 0, reference 1)" in out
    assert "10000 resamples" in out and "all tasks" in out  # the default
    assert gymrun("compare", *runs, "--bootstrap", "0")[0] == 2


def test_compare_refuses_bootstrap_where_nothing_is_aggregated_across_tasks() -> None:
    # Runs of one task: the groups' intervals draw their fixed resamples, and --bootstrap,
    # which only the normalized scores across tasks use, would change nothing printed.
    for seed in ("1", "2"):
        assert gymrun("run", "CartPole-v1", "-n", "5", "--seed", seed)[0] == 0
    runs = [str(p) for p in sorted(Path("recordings").glob("*/*"))]
    code, out, err = gymrun("compare", *runs, "--bootstrap", "50000")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "error: --bootstrap 50000 sets the resamples of the normalized scores across tasks, "
        "and these runs give none (no group has completed runs on two tasks or more, with "
        "reference scores for one): drop --bootstrap"
    )
    assert gymrun("compare", *runs)[0] == 0


GOAL_SWEEP = (
    "imports: [tests.support.goal_env]\nenv: gymrun-test/Goal-v0\nepisodes: 30\n"
    "agent: {name: constant, action: 0}\nsweep:\n  agent.action: [0, 1]\n  seeds: [1, 2]\n"
)


def test_compare_shows_each_metric_and_scores_groups_by_one(
    write_config: Callable[..., Path],
) -> None:
    assert gymrun("sweep", str(write_config(GOAL_SWEEP)), "-o", "s")[0] == 0
    code, out, err = gymrun("compare", "s", "--score", "success")
    assert code == 0, err
    header = next(line for line in out.splitlines() if "mean ± std" in line)
    assert "success" in [cell.strip() for cell in header.split("┃")]  # a column of the runs
    run = Path("s", "action=1-seed=2")
    stored = json.loads((run / "summary.json").read_text())["metrics"]["is_success"]
    rate = interval(stored["mean"], stored["low"], stored["high"])
    assert 0.5 < stored["mean"] < 1 and f" {rate} │" in out  # each run's rate and interval
    assert "Groups on gymrun-test/Goal-v0 (run score: success rate)" in out
    document = json.loads(gymrun("compare", "s", "--score", "success", "--json")[1])
    [comparison] = document["groups"]
    assert comparison["score"] == "is_success"
    scores = [s for group in comparison["groups"] for s in group["run_scores"]]
    rates = [r["summary"]["metrics"]["is_success"]["mean"] for r in document["runs"]]
    assert sorted(scores) == sorted(rates) and all(0 <= s <= 1 for s in scores)
    assert comparison["groups"][0]["iqm"]["value"] > 0.5  # always right: mostly succeeds
    by_reward = json.loads(gymrun("compare", "s", "--json")[1])["groups"][0]
    assert by_reward["score"] == "reward"
    code, _, err = gymrun("compare", "s", "--score", "sucess")
    assert code == 2
    assert err.startswith(
        "error: --score sucess: the runs recorded no metric 'sucess'; did you mean 'success'? "
        "(they have: reward, is_success (success))"
    )
    code, shown, _ = gymrun("show", str(run))
    assert code == 0 and f"success  │ {rate} over 30 episodes" in shown


def test_names_and_line_numbers_are_printed_as_they_are_never_as_emoji() -> None:
    # ":100:" is rich's code for an emoji: a run named so, and line 100 of a damaged file
    name = "run :100: [b]x[/b] :thumbs_up:"
    code, _, said = gymrun("run", f"{CONFIGS}/cartpole_random.yaml", "-n", "120", "-q", "-o", name)
    assert code == 0
    assert said.splitlines()[-1] == f"recorded in {name}"
    assert gymrun("show", name).stdout.startswith(f"run {name}\n")
    assert name in gymrun("compare", name).stdout
    lines = Path(name, "episodes.jsonl").read_text().splitlines(keepends=True)
    del lines[99]
    Path(name, "episodes.jsonl").write_text("".join(lines))
    code, _, err = gymrun("show", name)
    assert code == 2
    assert f"{name}/episodes.jsonl:100: episode 100 where episode 99 was due" in err
    assert "\N{HUNDRED POINTS SYMBOL}" not in err


def test_compare_compares_a_run_named_twice_once() -> None:
    assert gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-o", "base")[0] == 0
    code, out, err = gymrun("compare", "base", "./base/")
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("│ base")]
    assert len(rows) == 1 and "★" not in rows[0]  # one run: none best among others
    assert err == "note: base: named twice; compared once\n"


def test_an_empty_path_is_refused_not_read_as_this_folder() -> None:
    assert gymrun("run", str(CONFIGS / "cartpole_random.yaml"), "-n", "5", "-q")[0] == 0
    config = str(CONFIGS / "cartpole_random.yaml")
    for args, name in [
        (["show", ""], "'RUN_DIR'"),
        (["compare", "recordings/cartpole_random", ""], "'RUN_DIRS'"),
        (["board", ""], "'RECORDINGS_DIR'"),
        (["board", "recordings", "--out", ""], "'--out' / '-o'"),
        (["run", "--resume", ""], "'--resume'"),
        (["run", config, "-o", ""], "'--output' / '-o'"),
    ]:
        code, out, err = gymrun(*args)
        assert (code, out) == (2, ""), args
        assert err == (
            f"error: Invalid value for {name}: an empty path (see gymrun {args[0]} --help)\n"
        )


@pytest.mark.filterwarnings("ignore:.*The reward is a NaN value:UserWarning")
def test_completed_runs_without_a_finite_reward_are_not_called_unfinished(
    write_config: Callable[..., Path],
) -> None:
    # Every reward NaN: the runs complete, and have no mean to score a group or a pilot by.
    config = (
        "env: {id: gymrun-test/Fake-v0, kwargs: {length: 2, reward: REWARD}}\n"
        "agent: {name: constant, action: 0}\nepisodes: 3\n"
    )
    for reward, name in ((".nan", "nan"), ("1.0", "one")):
        path = write_config(config.replace("REWARD", reward), name=f"{name}.yaml")
        for seed in ("1", "2"):
            assert gymrun("run", str(path), "--seed", seed, "-q", "-o", f"{name}-{seed}")[0] == 0
    code, out, _ = gymrun("compare", "nan-1", "nan-2", "one-1", "one-2")
    assert code == 0
    [row] = [line for line in out.splitlines() if "0 of 2" in line]
    assert "2 completed runs, none with a score: no episode had a finite value" in row
    assert "no completed run" not in out
    code, out, err = gymrun("plan-seeds", "nan-1", "nan-2", "--difference", "1")
    assert (code, out) == (2, "")
    assert err.startswith(
        "error: nan: 2 completed runs, none with a score: no episode had a finite "
        "value; a pilot needs at least 2 runs (seeds)"
    )


@pytest.mark.filterwarnings("ignore:.*The reward is a NaN value:UserWarning")
def test_runs_scored_without_their_nan_episodes_are_named(
    write_config: Callable[..., Path],
) -> None:
    # Every other episode's reward NaN: a run scores the mean of the others, 2.0, as if it
    # had never diverged, and compare and plan-seeds say which runs that is.
    path = write_config(
        "env: {id: gymrun-test/Fake-v0, kwargs: {length: 2, rewards: [1.0, .nan]}}\n"
        "agent: {name: constant, action: 0}\nepisodes: 4\n"
    )
    for seed in ("1", "2", "3"):
        assert gymrun("run", str(path), "--seed", seed, "-q", "-o", f"r{seed}")[0] == 0
    said = (
        "note: 3 runs scored without their episodes of NaN or infinite reward: "
        "r1 (2 of 4 episodes), r2 (2 of 4 episodes), r3 (2 of 4 episodes)"
    )
    code, out, err = gymrun("compare", "r1", "r2", "r3")
    assert code == 0
    assert "2, 2, 2" in out  # the run scores
    assert said in err.splitlines()
    code, _, err = gymrun("plan-seeds", "r1", "r2", "r3", "--difference", "1")
    assert said in err.splitlines()


def test_a_group_whose_tasks_have_no_reference_scores_gets_no_empty_table(
    write_config: Callable[..., Path],
) -> None:
    # One agent on two tasks of its own: nothing to normalize, which the notes say, and no
    # table "across 0 tasks" of dashes.
    for task, env in (("fake", "gymrun-test/Fake-v0"), ("goal", "gymrun-test/Goal-v0")):
        path = write_config(
            f"imports: [tests.support.goal_env]\nenv: {env}\n"
            "agent: {name: constant, action: 0}\nepisodes: 3\n"
        )
        for seed in ("1", "2"):
            assert gymrun("run", str(path), "--seed", seed, "-q", "-o", f"{task}-{seed}")[0] == 0
    code, out, err = gymrun("compare", "fake-1", "fake-2", "goal-1", "goal-2")
    assert code == 0
    assert "normalized scores" not in out and "all tasks" not in out
    assert "gymrun-test/Goal-v0 has no reference scores" in err


def sweep_of_unreadable_runs(tmp_path: Path) -> str:
    """Sweep ``s`` of seeds 0 to 3, whose seed 1 is then gone, seed 2 a link to seed 0 and
    seed 3 without its config: only seed 0 is there to read. Returns what ``gymrun show s``
    printed while every run was there."""
    Path("s.yaml").write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 2\nsweep: {seeds: [0, 1, 2, 3]}\n"
    )
    assert gymrun("sweep", "s.yaml", "-o", "s").code == 0
    table = gymrun("show", "s").stdout
    shutil.rmtree("s/seed=1")  # lost
    shutil.rmtree("s/seed=2")
    Path("s/seed=2").symlink_to(tmp_path / "s" / "seed=0")  # a link: not followed
    Path("s/seed=3/config.yaml").unlink()
    return table


def test_compare_and_plan_seeds_say_which_runs_of_a_sweep_they_left_out(tmp_path: Path) -> None:
    sweep_of_unreadable_runs(tmp_path)

    said = (
        "note: s/seed=2: left out: a symbolic link to "
        f"{tmp_path}/s/seed=0, not followed: the sweep's runs are directories in it\n"
        "note: s/seed=3: left out: not a run (no config.yaml in it)\n"
        "note: s/seed=1: left out: sweep.json lists it, but it is gone\n"
    )
    compared = gymrun("compare", "s", "--json")
    assert (compared.code, compared.stderr) == (0, said)
    assert [run["run_dir"] for run in json.loads(compared.stdout)["runs"]] == ["s/seed=0"]
    planned = gymrun("plan-seeds", "s", "-d", "10")
    assert planned.code == 2
    assert planned.stderr.startswith(said + "error: ")

    Path("s/sweep.json").write_text("{")  # damaged: the runs are still compared, in name order
    compared = gymrun("compare", "s", "--json")
    assert compared.code == 0
    assert compared.stderr.startswith(
        "note: s/sweep.json: not JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)); its runs are taken from the directories in it, by name\n"
    )


def test_a_sweep_whose_runs_are_all_gone_says_so() -> None:
    assert gymrun("sweep", SWEEP, "--set", "episodes=2", "-o", "s").code == 0
    for run in Path("s").iterdir():
        if run.is_dir():
            shutil.rmtree(run)
    result = gymrun("compare", "s")
    assert (result.code, result.stderr) == (
        2,
        "error: s: a sweep with no run left: s/epsilon=0.0-seed=0: left out: sweep.json lists "
        "it, but it is gone (and 17 more left out)\n",
    )


def test_a_stopped_sweep_does_not_count_a_linked_run_as_its_own(tmp_path: Path) -> None:
    Path("s.yaml").write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 2\nsweep: {seeds: [0, 1, 2]}\n"
    )
    assert gymrun("sweep", "s.yaml", "-o", "s").code == 0
    document = json.loads(Path("s/sweep.json").read_text())
    # as a sweep killed outright leaves it: its points are summarised from its runs on disk
    Path("s/sweep.json").write_text(json.dumps(document | {"status": "running", "points": []}))
    shutil.rmtree("s/seed=1")
    Path("s/seed=1").symlink_to(tmp_path / "s" / "seed=0")  # seed 0's episodes again

    result = gymrun("show", "s", "--json")

    assert result.code == 0
    [point] = json.loads(result.stdout)["points"]
    assert point["episodes"] == 4  # seeds 0 and 2, not seed 0 twice
    assert (
        f"note: s/seed=1: left out: a symbolic link to {tmp_path}/s/seed=0, not followed: the "
        "sweep's runs are directories in it\n"
    ) in gymrun("show", "s").stderr


def test_show_names_the_runs_of_an_ended_sweep_it_could_not_read(tmp_path: Path) -> None:
    # The table is sweep.json's, as the sweep ended: each run not there to read is named,
    # and the note says its numbers are still the record's.
    table = sweep_of_unreadable_runs(tmp_path)

    said = (
        "note: s/seed=1: not read: sweep.json lists it, but it is gone; shown as sweep.json "
        "recorded it\n"
        f"note: s/seed=2: not read: a symbolic link to {tmp_path}/s/seed=0, not followed: the "
        "sweep's runs are directories in it; shown as sweep.json recorded it\n"
        "note: s/seed=3: not read: not a run (no config.yaml in it); shown as sweep.json "
        "recorded it\n"
    )
    shown = gymrun("show", "s")
    assert (shown.code, shown.stdout, shown.stderr) == (0, table, said)
    as_json = gymrun("show", "s", "--json")
    assert (as_json.code, as_json.stderr) == (0, said)
    assert json.loads(as_json.stdout) == json.loads(Path("s/sweep.json").read_text())


def test_show_puts_a_completed_point_before_a_failed_one_it_ties_with() -> None:
    """MountainCar-v0 scores -200 [-200, -200] whatever an agent does that never reaches
    the flag: the point whose run failed after 4 episodes ties with the completed one, and
    comes after it, unstarred, though it comes first in the grid."""
    Path("quitter.py").write_text(QUITTER)
    Path("mc.yaml").write_text(
        "name: mc\nenv: MountainCar-v0\nagent: {name: constant, action: 1}\nepisodes: 10\n"
        "sweep:\n  agent: ['quitter:Quitter', {name: constant, action: 1}]\n  seeds: [0]\n"
    )
    assert gymrun("sweep", "mc.yaml", "-o", "mc").code == 1  # a run of it failed
    code, shown, err = gymrun("show", "mc", "--wide")
    assert code == 0, err
    rows = [line for line in shown.splitlines() if "-200 [-200, -200]" in line]
    assert len(rows) == 2
    assert "constant" in rows[0] and "★" in rows[0]
    assert "quitter:Quitter" in rows[1] and "4 (failed)" in rows[1] and "★" not in rows[1]
