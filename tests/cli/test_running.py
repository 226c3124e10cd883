"""Every command as a user types it, through Typer's runner (bugs fail the test, not exit 1)."""

import json
import re
import signal
from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import gymnasium as gym
import numpy as np
import pytest

from gymrun.errors import ExitStatus
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS
from tests.support.processes import signalled, start_gymrun

CARTPOLE_RANDOM = str(CONFIGS / "cartpole_random.yaml")


def test_counts_of_one_read_in_the_singular(tmp_path: Path) -> None:
    one = gymrun("run", CARTPOLE_RANDOM, "--episodes", "1", "--no-record")
    assert one.code == 0, one.stderr
    assert re.search(r"195: reached in 0 of 1 episode +│", one.stdout)
    assert "< 195 over 1 episode (under 100)" in one.stdout
    config = tmp_path / "one.yaml"
    config.write_text(
        "env: CartPole-v1\nagent: random\nepisodes: 1\nsweep:\n  seeds: [3]\n"
        "  agent.name: [random]\n"
    )
    dry = gymrun("sweep", str(config), "--dry-run")
    assert dry.code == 0, dry.stderr
    assert "one: 1 point x 1 seed = 1 run" in dry.stdout
    assert gymrun("validate", str(config)).stdout.count("1 episode,") == 1


def test_a_video_of_a_vector_run_names_the_option_that_made_it_one(tmp_path: Path) -> None:
    config = tmp_path / "video.yaml"
    config.write_text("env: CartPole-v1\nagent: random\nrecord:\n  video: true\n")
    result = gymrun("run", str(config), "--num-envs", "2", "-o", str(tmp_path / "run"))
    assert result.code == 2
    assert result.stderr == (
        f"error: {config}:4 record.video: video is recorded in single-env runs; "
        "remove vector / --num-envs, or record.video\n"
    )
    assert not (tmp_path / "run").exists()


def test_a_wrapper_without_vector_form_says_which_vector_mode_takes_it() -> None:
    args = ["CartPole-v1", "-W", "TimeAwareObservation", "--num-envs", "2", "-n", "4"]
    refused = gymrun("run", *args, "--no-record")
    assert refused.code == 2
    assert refused.stderr == (
        "error: --wrapper TimeAwareObservation wrappers.0.name: wrapper 'TimeAwareObservation' "
        "has no vector form (gymnasium.wrappers.vector has none), which an environment's own "
        "vector implementation needs: remove it, run without vector / --num-envs, or give "
        "--set vector.mode=sync (each sub-environment wrapped as one env)\n"
    )
    taken = gymrun("run", *args, "--no-record", "--set", "vector.mode=sync")  # as it says
    assert taken.code == 0, taken.stderr
    assert "│ episodes │ 4 " in taken.stdout


def test_a_wrapper_keyword_missing_from_the_command_line_says_how_to_give_it() -> None:
    refused = gymrun("run", "CartPole-v1", "-W", "TimeLimit", "-n", "1", "--no-record")
    assert refused.code == 2
    assert refused.stderr == (
        "error: --wrapper TimeLimit wrappers.0: TimeLimit needs 'max_episode_steps' "
        "(add --set wrappers.0.max_episode_steps=VALUE)\n"
    )
    args = ["-W", "TimeLimit", "--set", "wrappers.0.max_episode_steps=3"]
    taken = gymrun("run", "CartPole-v1", *args, "-n", "1", "--no-record")  # as it says
    assert taken.code == 0, taken.stderr
    assert "│ steps    │ 3 on average" in taken.stdout


def test_run_prints_episode_table_and_summary() -> None:
    short = gymrun("run", CARTPOLE_RANDOM, "--episodes", "5", "--no-record")
    assert short.code == 0, short.stderr
    assert "│       4 │" in short.stdout and "2684470948" not in short.stdout  # seeds on request
    result = gymrun("run", CARTPOLE_RANDOM, "--episodes", "30", "-o", "run30")
    assert result.code == 0, result.stderr
    assert "│       0 │" not in result.stdout  # a long run prints its summary alone
    assert "cartpole_random: CartPole-v1, agent random" in result.stdout
    assert "boundary │ 195: reached in 0 of 30 episodes" in result.stdout
    assert "verdict  │ not reached on average: mean" in result.stdout
    assert "< 195 over 30 episodes (under 100)" in result.stdout
    shown = gymrun("show", "run30").stdout  # show lists it, seeds included
    lines = shown.splitlines()
    assert any(
        line.split("│")[1:3] == ["       0 ", " 2684470948 "] for line in lines if "│" in line
    )
    assert "10 more episodes" in shown  # 30 episodes: first 10, elision, last 10
    assert "│      29 │" in shown
    assert "│      15 │" not in shown


@pytest.mark.parametrize("command", ["run", "validate"])
def test_missing_argument_is_a_usage_error(command: str) -> None:
    assert gymrun(command).code == 2


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_help_names_every_executor_and_what_resume_takes(command: str) -> None:
    code, out, _ = gymrun(command, "--help", env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert code == 0
    assert "local|process|dask" in out and "process (a pool of --workers processes)" in out
    assert re.search(r"Usage: gymrun \w+ \[OPTIONS\] \[CONFIG(_OR_ENV)?\]", out)


def test_num_envs_and_workers_from_the_command_line() -> None:
    vector = json.loads(
        gymrun("run", CARTPOLE_RANDOM, "--num-envs", "8", "-n", "50", "--json").stdout
    )
    assert vector["config"]["vector"] == {"num_envs": 8, "mode": None}
    assert [e["episode"] for e in vector["episodes"]] == list(range(50))
    assert {e["seed"] for e in vector["episodes"]} == {None}
    serial = json.loads(gymrun("run", CARTPOLE_RANDOM, "-n", "60", "--json").stdout)
    parallel = json.loads(gymrun("run", CARTPOLE_RANDOM, "-n", "60", "--json", "-w", "2").stdout)
    assert parallel["episodes"] == serial["episodes"]
    assert parallel["summary"] == serial["summary"]
    result = gymrun("run", CARTPOLE_RANDOM, "--num-envs", "0")
    assert result.code == 2
    table = gymrun("run", CARTPOLE_RANDOM, "--num-envs", "4", "-n", "3", "--seeds").stdout
    assert re.search(r"│\s+0 │\s+— │", table)  # a vector env is seeded once, not per episode


@pytest.mark.filterwarnings("ignore:.*The reward is a NaN value:UserWarning")
def test_non_finite_rewards_are_reported_and_the_json_stays_json(
    write_config: Callable[..., Path],
) -> None:
    path = write_config(
        "env: {id: gymrun-test/Fake-v0, kwargs: {length: 2, reward: .nan}}\n"
        "agent: {name: constant, action: 0}\nepisodes: 3\nseed: 0\n"
    )
    result = gymrun("run", str(path), "-q")
    assert result.code == 0
    assert "non-finite │ 3 of 3 episodes had a NaN or infinite reward" in result.stdout

    def refuse(constant: str) -> None:
        raise AssertionError(f"not JSON: {constant}")

    data = json.loads(gymrun("run", str(path), "--json").stdout, parse_constant=refuse)
    assert [e["reward"] for e in data["episodes"]] == ["nan", "nan", "nan"]
    assert (data["summary"]["nonfinite_rewards"], data["summary"]["mean_reward"]) == (3, None)
    lines = Path(data["run_dir"], "episodes.jsonl").read_text().splitlines()
    assert json.loads(lines[0], parse_constant=refuse)["reward"] == "nan"
    assert "non-finite │ 3 of 3" in gymrun("show", data["run_dir"]).stdout


def test_unbounded_episodes_are_warned_about_before_running(
    write_config: Callable[..., Path],
) -> None:
    path = write_config("env: Blackjack-v1\nepisodes: 2\n")
    result = gymrun("run", str(path), "-q", "--no-record")
    assert result.code == 0
    assert result.stderr.splitlines()[0] == (
        "warning: Blackjack-v1 sets no limit on episode length and neither does the config: an "
        "episode that never ends would run forever (set max_steps to cap it)"
    )
    capped = gymrun("run", str(path), "-q", "--no-record", "--set", "max_steps=50")
    assert "warning" not in capped.stderr
    bounded = gymrun("run", CARTPOLE_RANDOM, "-q", "--no-record", "-n", "2")
    assert "warning" not in bounded.stderr


class _WrongShape(gym.Env):  # type: ignore[type-arg]
    """Observes four numbers while declaring two: Gymnasium's checker must catch it."""

    observation_space = gym.spaces.Box(-1, 1, (2,))
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):  # type: ignore[no-untyped-def]
        super().reset(seed=seed)
        return np.zeros(4, dtype=np.float32), {}

    def step(self, action):  # type: ignore[no-untyped-def]
        return np.zeros(4, dtype=np.float32), 0.0, True, False, {}


def test_check_runs_gymnasiums_checker_and_times_random_play() -> None:
    result = gymrun("check", "CartPole-v1", "--seconds", "0.1")
    assert result.code == 0
    assert "CartPole-v1 passes Gymnasium's environment checker" in result.stdout
    assert "A Box observation space minimum value is -infinity" in result.stdout
    assert re.search(r"random play: [\d,]+ steps/s", result.stdout)
    if "gymrun-test/WrongShape-v0" not in gym.registry:
        gym.register("gymrun-test/WrongShape-v0", entry_point=_WrongShape)
    broken = gymrun("check", "gymrun-test/WrongShape-v0", "--json")
    assert broken.code == 1
    report = json.loads(broken.stdout)
    assert report["passed"] is False
    assert "observation" in report["error"] and report["steps_per_second"] is None


def test_expect_passes_with_exit_0_and_shows_the_interval_against_the_bound(tmp_path: Path) -> None:
    report = tmp_path / "gate.xml"
    result = gymrun(
        "run", CARTPOLE_RANDOM, "-n", "200", "--seed", "0", "--no-record",
        "--expect", "mean >= 15", "--expect", "median<=30", "--junit", str(report),
    )  # fmt: skip
    assert result.code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("expect mean >= 15"))
    assert re.fullmatch(
        r"expect mean >= 15: met: mean [\d.]+ \[[\d.]+, [\d.]+\], lower end >= 15", line
    )
    assert "expect median <= 30: met: median" in result.stdout
    suite = ElementTree.parse(report).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("2", "0")
    assert [case.get("name") for case in suite.iter("testcase")] == ["mean >= 15", "median <= 30"]


def test_an_unmet_expectation_exits_3_with_a_junit_failure(tmp_path: Path) -> None:
    report = tmp_path / "gate.xml"
    result = gymrun(
        "run", CARTPOLE_RANDOM, "-n", "200", "--seed", "0", "--no-record",
        "--expect", "mean >= 195", "--expect", "iqm >= 10", "--junit", str(report),
    )  # fmt: skip
    assert result.code == ExitStatus.EXPECTATION_FAILED == 3
    assert "expect mean >= 195: not met: mean " in result.stdout
    assert "lower end < 195" in result.stdout
    assert "expect iqm >= 10: met" in result.stdout
    cases = ElementTree.parse(report).getroot().findall("testsuite/testcase")
    failure = cases[0].find("failure")
    assert failure is not None and failure.get("message", "").endswith("lower end < 195")
    assert re.search(r"\[[\d.]+, [\d.]+\]", failure.get("message", ""))
    assert cases[1].find("failure") is None


def test_a_run_that_fails_leaves_a_junit_report_that_says_so(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    report = tmp_path / "gate.xml"
    report.write_text("a report of an earlier run that passed")
    path = write_config(
        "env: {id: gymrun-test/Fake-v0, kwargs: {fail_at: 2, fail_episode: 1}}\nepisodes: 3\n"
    )
    result = gymrun(
        "run", str(path), "--no-record", "-q", "--expect", "mean >= 1", "--junit", str(report)
    )
    assert result.code == 1
    root = ElementTree.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "1")
    [error] = root.findall("testsuite/testcase/error")
    assert error.get("message", "").startswith("not checked: the run failed: episode 1, step 1")


def stopped_gate(tmp_path: Path, report: Path, signum: signal.Signals) -> tuple[int, str, Path]:
    """A long run with an expectation and ``--junit report``, sent `signum` once it has
    recorded an episode: its exit status, what it said, and its episodes file."""
    process = start_gymrun(
        "run", str(CONFIGS / "cartpole_balance.yaml"), "-n", "100000", "-o", "run",
        "--expect", "mean >= 100", "--junit", str(report), cwd=tmp_path,
    )  # fmt: skip
    episodes = tmp_path / "run" / "episodes.jsonl"
    code, _, err = signalled(
        process,
        lambda: episodes.exists() and episodes.stat().st_size > 0,
        signum,
        within=120,
        every=0.1,
    )
    return code, err, episodes


def test_a_stopped_run_leaves_a_junit_report_that_says_so(tmp_path: Path) -> None:
    report = tmp_path / "gate.xml"
    code, err, episodes = stopped_gate(tmp_path, report, signal.SIGTERM)
    assert code == 143, err
    [error] = ElementTree.parse(report).getroot().findall("testsuite/testcase/error")
    finished_episodes = len(episodes.read_text().splitlines())
    assert error.get("message") == (
        f"not checked: the run was interrupted after {finished_episodes} finished episodes"
    )


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_run_whose_junit_report_cannot_be_written_exits_as_stopped(
    tmp_path: Path, signum: signal.Signals, status: int
) -> None:
    # The report is said to be missing in one line; the signal still sets the exit status.
    report = tmp_path / "gone" / "gate.xml"
    code, err, _ = stopped_gate(tmp_path, report, signum)
    assert code == status, err
    said = f"error: --junit {report}: cannot write it (No such file or directory)"
    assert said in err.splitlines()
    assert err.count("cannot write it") == 1 and "Traceback" not in err


def test_a_failed_run_whose_junit_report_cannot_be_written_exits_1(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    report = tmp_path / "gone" / "gate.xml"
    path = write_config(
        "env: {id: gymrun-test/Fake-v0, kwargs: {fail_at: 2, fail_episode: 1}}\nepisodes: 3\n"
    )
    result = gymrun(
        "run", str(path), "--no-record", "-q", "--expect", "mean >= 1", "--junit", str(report)
    )
    assert result.code == 1
    lines = result.stderr.splitlines()
    assert f"error: --junit {report}: cannot write it (No such file or directory)" in lines
    assert any(line.startswith("error: ") and "episode 1, step 1" in line for line in lines)
    # a run that completed: the report it asked for is missing, the one fault (exit 2)
    result = gymrun(
        "run", CARTPOLE_RANDOM, "-n", "3", "--no-record", "-q", "--expect", "mean >= 1",
        "--junit", str(report),
    )  # fmt: skip
    assert (result.code, result.stderr) == (
        2,
        f"error: --junit {report}: cannot write it (No such file or directory)\n",
    )


@pytest.mark.filterwarnings("ignore:.*The reward is a NaN value:UserWarning")
def test_an_expectation_says_how_many_episodes_it_left_out(
    write_config: Callable[..., Path], tmp_path: Path
) -> None:
    # Every other episode diverges (NaN): the gate is met on the others, and says so.
    path = write_config(
        "env: {id: gymrun-test/Fake-v0, kwargs: {length: 2, rewards: [1.0, .nan]}}\n"
        "agent: {name: constant, action: 0}\nepisodes: 4\nseed: 0\n"
    )
    report = tmp_path / "gate.xml"
    args = ("run", str(path), "--no-record", "--expect", "mean >= 1", "--junit", str(report))
    result = gymrun(*args)
    assert result.code == 0, result.output
    said = "met: mean 2 [2, 2], lower end >= 1 (2 of 4 episodes left out: no finite value)"
    assert f"expect mean >= 1: {said}" in result.stdout.splitlines()
    [case] = ElementTree.parse(report).getroot().findall("testsuite/testcase")
    assert case.findtext("system-out") == said
    [verdict] = json.loads(gymrun(*args, "--json").stdout)["expectations"]
    assert (verdict["episodes"], verdict["left_out"]) == (4, 2)


def test_expect_in_json_says_each_verdict() -> None:
    result = gymrun(
        "run", CARTPOLE_RANDOM, "-n", "50", "--seed", "0", "--no-record", "--json",
        "--expect", "steps.mean <= 10",
    )  # fmt: skip
    assert result.code == 3
    (verdict,) = json.loads(result.stdout)["expectations"]
    assert (verdict["expectation"], verdict["met"]) == ("steps.mean <= 10", False)
    assert verdict["ci95"][0] <= verdict["value"] <= verdict["ci95"][1]


@pytest.mark.parametrize(
    ("expectation", "said"),
    [
        ("mean > 195", "--expect 'mean > 195': not METRIC >= NUMBER or METRIC <= NUMBER"),
        ("maen >= 195", "--expect 'maen >= 195': no metric 'maen'; did you mean 'mean'?"),
        ("mean >= lots", "--expect 'mean >= lots': the bound 'lots' is not a finite number"),
    ],
)
def test_a_malformed_expectation_exits_2_naming_it(expectation: str, said: str) -> None:
    result = gymrun("run", CARTPOLE_RANDOM, "-n", "5", "--no-record", "--expect", expectation)
    assert result.code == 2
    assert said in result.stderr
    assert "Traceback" not in result.output


GOAL = "imports: [tests.support.goal_env]\nenv: {id: gymrun-test/Goal-v0, kwargs: {report: %s}}\n"


def goal_config(write_config: Callable[..., Path], report: str = "every", extra: str = "") -> str:
    return str(write_config(GOAL % report + "episodes: 12\nseed: 1\n" + extra))


def test_run_shows_and_gates_on_the_success_rate(write_config: Callable[..., Path]) -> None:
    config = goal_config(write_config)
    met = gymrun("run", config, "--no-record", "--expect", "success <= 0.5")
    assert met.code == 0, met.stderr
    header = next(
        line for line in met.stdout.splitlines() if "episode" in line and "success" in line
    )
    assert header.split("┃")[-2].strip() == "success"  # a column of the episode table
    assert (met.stdout.count("✓"), met.stdout.count("✗")) == (2, 10)  # an episode's success
    assert "success  │ 0.17 [0.00, 0.42] over 12 episodes" in met.stdout
    assert "expect success <= 0.5: met: success 0.17 [0.00, 0.42], upper end <= 0.5" in met.stdout
    unmet = gymrun("run", config, "--no-record", "-q", "--expect", "success >= 0.9")
    assert unmet.code == ExitStatus.EXPECTATION_FAILED
    document = json.loads(gymrun("run", config, "--no-record", "--json").stdout)
    assert document["summary"]["metrics"]["is_success"] == {
        "mean": pytest.approx(2 / 12),
        "low": 0.0,
        "high": pytest.approx(5 / 12),
        "episodes": 12,
        "missing": 0,
    }
    assert [type(e["is_success"]) for e in document["episodes"]] == [bool] * 12


def test_an_expectation_of_a_metric_that_is_not_recorded_is_bad_input(
    write_config: Callable[..., Path],
) -> None:
    before = gymrun("run", goal_config(write_config), "--no-record", "--expect", "dist >= 1")
    assert before.code == 2 and before.stdout == ""  # refused before anything ran
    assert before.stderr.startswith(
        "error: --expect 'dist >= 1': no metric 'dist' (a metric is mean, iqm, median of the "
        "reward, or COLUMN.STATISTIC or COLUMN, its mean, with COLUMN one of reward, steps, "
        "is_success (success))"
    )
    # is_success is recorded where the env reports it: one that never does has none
    silent = gymrun("run", goal_config(write_config, "never"), "-q", "--expect", "success >= 0.5")
    assert silent.code == 2
    assert "episodes │ 12" in silent.stdout  # the run is shown, and recorded
    assert "no metric 'success'" in silent.stderr and "one of reward, steps)" in silent.stderr
    named = goal_config(write_config, extra="metrics: [{name: dist, key: distance}]\n")
    result = gymrun("run", named, "--no-record", "-q", "--expect", "dist.median <= 6")
    assert result.code == 0, result.stderr
    assert "dist     │ " in result.stdout and "success" not in result.stdout
