"""`gymrun plan-seeds` on real pilot runs of the shipped epsilon config: the runs per group
the library plans from their scores, the test named, a small pilot warned about, and bad
input refused in one line."""

import json
from pathlib import Path

import pytest

from gymrun.analysis.planning import Pilot, plan_seeds
from tests.support.cli import gymrun
from tests.support.paths import CONFIGS

CONFIG = str(CONFIGS / "cartpole_epsilon.yaml")


def pilot_runs(root: Path, seeds: range, *options: str) -> dict[str, float]:
    """`gymrun run configs/cartpole_epsilon.yaml -n 20 --seed K` for each seed, recorded under
    `root`: each run's directory and its score (mean episode reward) as the run reported it."""
    scores = {}
    for seed in seeds:
        run_dir = root / f"{len(list(root.iterdir()))}"
        code, out, err = gymrun(
            "run", CONFIG, "-n", "20", "--seed", str(seed), *options, "-o", str(run_dir), "--json"
        )
        assert code == 0, err
        document = json.loads(out)
        scores[document["run_dir"]] = document["summary"]["mean_reward"]
    return scores


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    """Six pilot runs of the shipped config (epsilon 0.5), three with epsilon 0.25."""
    root = tmp_path_factory.mktemp("pilot")
    return {
        "half": pilot_runs(root, range(1, 7)),
        "quarter": pilot_runs(root, range(1, 4), "--set", "wrappers.0.epsilon=0.25"),
    }


def test_a_pilot_of_one_config_plans_with_its_spread(pilot: dict[str, dict[str, float]]) -> None:
    scores = pilot["half"]
    assert len(set(scores.values())) > 1  # the seeds differ, and so do the runs' scores
    code, out, err = gymrun("plan-seeds", *scores, "--difference", "10%", "--json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    expected = plan_seeds(list(scores.values()), difference="10%")
    assert document["runs_per_group"] == expected.runs_per_group
    assert document["runs_per_group_if_sd_high"] == expected.runs_per_group_if_sd_high
    assert document["runs_per_group"] < document["runs_per_group_if_sd_high"]
    assert document["difference"] == pytest.approx(0.1 * sum(scores.values()) / 6)
    [group] = document["pilot"]["groups"]
    assert (group["label"], group["runs"]) == ("cartpole-epsilon", list(scores))
    assert document["warnings"] == []

    code, out, err = gymrun("plan-seeds", *scores, "--difference", "10%")
    assert (code, err) == (0, "")
    assert "Welch's t-test, two-sided, alpha 0.05, power 0.8" in out
    assert f"│ runs per group │ {expected.runs_per_group} (power " in out
    assert f"│ if sd is high  │ {expected.runs_per_group_if_sd_high} (with each sd" in out
    assert "│ cartpole-epsilon │    6 │" in out


def test_two_configs_are_planned_with_both_spreads_and_a_small_pilot_is_warned_about(
    pilot: dict[str, dict[str, float]],
) -> None:
    half = dict(list(pilot["half"].items())[:4])
    quarter = pilot["quarter"]
    code, out, err = gymrun(
        "plan-seeds", *half, *quarter, "-d", "2", "--power", "0.9", "--alpha", "0.01", "--json"
    )
    assert code == 0
    document = json.loads(out)
    expected = plan_seeds(
        Pilot(tuple(half.values())),
        Pilot(tuple(quarter.values())),
        difference=2,
        power=0.9,
        alpha=0.01,
    )
    assert document["runs_per_group"] == expected.runs_per_group
    assert (document["power"], document["alpha"], document["difference"]) == (0.9, 0.01, 2)
    labels = [group["label"] for group in document["pilot"]["groups"]]
    assert labels == [
        "cartpole-epsilon: wrappers.0.epsilon=0.5",
        "cartpole-epsilon: wrappers.0.epsilon=0.25",
    ]
    warning = "pilot runs; with fewer than 5 their standard deviation, and so this plan, is"
    assert [w.split(": ", 2)[-1] for w in document["warnings"]] == [
        f"4 {warning} unreliable",
        f"3 {warning} unreliable",
    ]
    assert err.count("warning: cartpole-epsilon: wrappers.0.epsilon=") == 2


def test_a_sweep_gives_its_runs(write_config) -> None:  # type: ignore[no-untyped-def]
    config = write_config(
        "env: CartPole-v1\nagent: {name: constant, action: 0}\nwrappers:\n"
        "  - {name: epsilon_random, epsilon: 0.5}\nepisodes: 10\nsweep:\n  seeds: [0, 1, 2, 3, 4]\n"
    )
    assert gymrun("sweep", str(config), "-o", "s")[0] == 0
    code, out, err = gymrun("plan-seeds", "s", "-d", "1", "--json")
    assert (code, err) == (0, "")
    [group] = json.loads(out)["pilot"]["groups"]
    assert [Path(run).name for run in group["runs"]] == [f"seed={k}" for k in range(5)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["empty", "-d", "1"], "error: empty: not a gymrun run, sweep or duel directory"),
        (["PILOT", "-d", "0"], "error: --difference 0: must be above 0"),
        (["PILOT", "-d", "-10%"], "error: --difference -10%: must be above 0"),
        (["PILOT", "-d", "inf"], "error: --difference inf: must be a finite number above 0"),
        (["PILOT", "-d", "1", "--power", "1.5"], "error: --power 1.5: must be between 0 and 1"),
        (["PILOT", "-d", "1", "--power", "0"], "error: --power 0: must be between 0 and 1"),
        (["PILOT", "-d", "1", "--power", "0.04"], "error: --power 0.04: must be above --alpha"),
        (["PILOT", "-d", "1e-9"], "error: --difference 1e-09: too small next to a standard"),
        (["PILOT", "-d", "ten"], "error: --difference ten: not a number of score units (10)"),
        (["ONE", "-d", "1"], "error: cartpole-epsilon: 1 completed run; a pilot needs at least 2"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    pilot: dict[str, dict[str, float]], arguments: list[str], message: str
) -> None:
    runs = list(pilot["half"])
    Path("empty").mkdir()
    replaced = {"PILOT": runs, "ONE": runs[:1]}
    command = [a for argument in arguments for a in replaced.get(argument, [argument])]
    code, out, err = gymrun("plan-seeds", *command)
    assert (code, out) == (2, "")
    assert err.startswith(message)
    assert err.count("\n") == 1


def test_runs_of_one_seed_are_told_to_be_one_seed(tmp_path: Path) -> None:
    # a config that fixes its seed, run twice: two runs, one seed, nothing to learn spread from
    runs = [*pilot_runs(tmp_path, range(3, 4)), *pilot_runs(tmp_path, range(3, 4))]
    code, out, err = gymrun("plan-seeds", *runs, "-d", "1")
    assert (code, out) == (2, "")
    assert err == (
        "error: cartpole-epsilon: 1 completed run (1 other run of the same seed, which repeats "
        "it); a pilot needs at least 2 runs (seeds) to measure how runs spread, 5 or more to "
        "trust it (run the config with other seeds: --seed N)\n"
    )


def test_pilot_runs_are_the_runs_compare_takes(tmp_path: Path) -> None:
    scores = pilot_runs(tmp_path, range(1, 4))
    (tmp_path / "never").mkdir()
    (tmp_path / "never" / ".gymrun.lock").touch()  # killed as it started: nothing recorded
    first = next(iter(scores))
    given = [*sorted(str(p) for p in tmp_path.iterdir()), first]  # a glob, and a run twice

    result = gymrun("plan-seeds", *given, "-d", "10", "--json")

    assert result.code == 0, result.stderr
    assert result.stderr.startswith(
        f"note: {tmp_path}/never: left out: a run, sweep or duel that never started"
    )
    assert f"note: {first}: named twice; compared once\n" in result.stderr
    [group] = json.loads(result.stdout)["pilot"]["groups"]
    assert group["runs"] == list(scores)  # each once, and nothing else
