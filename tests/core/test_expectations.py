from xml.etree import ElementTree

import numpy as np
import pytest
from scipy import stats

from gymrun.core.episodes import EpisodeResult
from gymrun.core.expectations import Expectation, check_expectations
from gymrun.errors import UnknownNameError, UsageError


def episodes(rewards: list[float]) -> list[EpisodeResult]:
    return [
        EpisodeResult(i, i, r, 10 + i % 3, True, False, None, 0.0) for i, r in enumerate(rewards)
    ]


def test_a_gate_compares_the_lower_end_of_the_interval_not_the_mean() -> None:
    rewards = list(np.random.default_rng(0).normal(200.0, 30.0, 40))
    (verdict,) = check_expectations([Expectation.parse("mean >= 195")], episodes(rewards)).verdicts
    assert verdict.value == pytest.approx(np.mean(rewards))
    assert verdict.value >= 195 > verdict.low  # the mean passes, its noise does not
    assert not verdict.met
    assert verdict.message.startswith("not met: mean ")
    assert verdict.message.endswith("lower end < 195")


def test_upper_end_for_at_most_and_iqm_median_of_any_column() -> None:
    rewards = [1.0, 2.0, 3.0, 4.0, 5.0] * 19 + [1000.0] * 5
    checked = check_expectations(
        [Expectation.parse(t) for t in ("iqm <= 4", "median>=3", "steps.mean <= 11.5")],
        episodes(rewards),
    )
    iqm, median, steps = checked.verdicts
    assert iqm.value == pytest.approx(stats.trim_mean(rewards, 0.25))  # the 1000s trimmed
    assert iqm.high <= 4 and iqm.met
    assert (median.value, median.low, median.met) == (3.0, 3.0, True)
    assert steps.value == pytest.approx(np.mean([10 + i % 3 for i in range(100)]))
    assert checked.met


def test_junit_has_a_case_per_expectation_and_a_failure_with_the_interval() -> None:
    checked = check_expectations(
        [Expectation.parse("mean >= 2"), Expectation.parse("mean <= 2")], episodes([1.0, 3.0] * 50)
    )
    root = ElementTree.fromstring(checked.junit("cartpole"))
    suite = root.find("testsuite")
    assert suite is not None and (suite.get("name"), suite.get("failures")) == ("cartpole", "2")
    failures = [case.find("failure") for case in suite.iter("testcase")]
    assert all(f is not None and "mean 2.0" in f.get("message", "") for f in failures)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("mean = 3", UsageError), ("mean >= ", UsageError), ("reward.mode >= 1", UnknownNameError)],
)
def test_malformed_expectations_are_refused_naming_them(text: str, kind: type) -> None:
    """As parse's argument: ``--expect`` is gymrun run's, which a library call has not."""
    with pytest.raises(kind) as raised:
        Expectation.parse(text)
    assert str(raised.value).startswith(f"text='{text}': ")


def succeeding(flags: list[bool | None]) -> list[EpisodeResult]:
    return [
        EpisodeResult(i, i, 1.0, 5, True, False, None, 0.0, None, {"is_success": flag})
        for i, flag in enumerate(flags)
    ]


def test_success_is_the_mean_of_is_success_and_any_metric_is_a_column() -> None:
    flags: list[bool | None] = [True] * 45 + [False] * 5 + [None] * 10
    checked = check_expectations(
        [Expectation.parse(t) for t in ("success >= 0.8", "is_success.mean <= 0.95")],
        succeeding(flags),
    )
    success, upper = checked.verdicts
    assert success.value == pytest.approx(0.9)  # the episodes without a value left out
    assert success.low is not None and 0.8 <= success.low < 0.9 < success.high <= 1.0
    assert success.met and success.message == (
        "met: success 0.900 [0.800, 0.980], lower end >= 0.8 "
        "(10 of 60 episodes left out: no finite value)"
    )
    assert (upper.value, upper.met) == (success.value, upper.high <= 0.95)


def test_a_metric_the_episodes_do_not_have_is_bad_input_naming_what_they_have() -> None:
    with pytest.raises(UnknownNameError) as raised:
        check_expectations(
            [Expectation.parse("mean >= 0"), Expectation.parse("sucess >= 0.9")], succeeding([True])
        )
    assert str(raised.value) == (
        "expectations[1] 'sucess >= 0.9': no metric 'sucess'; did you mean 'success'? (a metric is "
        "mean, iqm, median of the reward, or COLUMN.STATISTIC or COLUMN, its mean, with "
        "COLUMN one of reward, steps, is_success (success))"
    )
    with pytest.raises(UnknownNameError, match=r"no metric 'success'.* one of reward, steps\)"):
        check_expectations([Expectation.parse("success >= 0.9")], episodes([1.0, 2.0]))
    never = check_expectations([Expectation.parse("success >= 0.9")], succeeding([None, None]))
    assert (
        never.verdicts[0].message
        == "not met: success has no value (no episode with a finite value)"
    )
