import numpy as np
import pytest

from gymrun import load_config, run_experiment
from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.summary import SummaryBuilder
from tests.support.paths import CONFIGS


def summarise(rewards: list[float], boundary: float | None = 10.0, window: int = 100):  # type: ignore[no-untyped-def]
    builder = SummaryBuilder(boundary, window=window)
    for i, reward in enumerate(rewards):
        reached = None if boundary is None else reward >= boundary
        builder.add(EpisodeResult(i, i, reward, i + 1, i % 2 == 0, i % 2 == 1, reached, 0.0))
    return builder.summary()


def test_statistics_match_numpy() -> None:
    rewards = list(np.random.default_rng(0).normal(20, 5, 500))
    summary = summarise(rewards, boundary=25.0)
    assert summary.count == 500
    assert summary.mean_reward == pytest.approx(np.mean(rewards))
    assert summary.std_reward == pytest.approx(np.std(rewards))
    assert (summary.min_reward, summary.max_reward) == (min(rewards), max(rewards))
    assert summary.mean_steps == pytest.approx(250.5)
    assert summary.reached == sum(r >= 25 for r in rewards)
    assert (summary.terminated, summary.truncated) == (250, 250)


def test_solved_uses_the_best_window_of_consecutive_episodes() -> None:
    rewards = [0.0] * 150 + [12.0] * 100 + [0.0] * 50
    summary = summarise(rewards)
    assert (summary.window, summary.best_window_mean, summary.solved) == (100, 12.0, True)
    assert summary.mean_reward == 4.0  # the overall mean alone would say "not solved"
    almost = summarise([0.0] * 150 + [12.0] * 80 + [0.0] * 50)
    assert almost.best_window_mean == pytest.approx(9.6)
    assert almost.solved is False


def test_short_runs_are_judged_on_every_episode() -> None:
    summary = summarise([8.0, 12.0, 13.0])
    assert (summary.window, summary.best_window_mean, summary.solved) == (3, 11.0, False)


def test_a_run_of_99_episodes_is_reached_on_average_never_solved() -> None:
    summary = summarise([20.0, 21.0] * 49 + [20.0])
    assert (summary.count, summary.solved) == (99, False)
    assert summary.verdict == "reached on average"
    assert summary.episodes_before_solve is None
    assert summary.to_json()["verdict"] == "reached on average"
    assert summarise([2.0, 3.0] * 49 + [2.0]).verdict == "not reached on average"


def test_episodes_before_solve_is_the_first_episode_of_the_window() -> None:
    solved_from_start = summarise([500.0] * 150, boundary=195.0)
    assert (solved_from_start.solved, solved_from_start.episodes_before_solve) == (True, 0)
    assert solved_from_start.verdict == "solved"
    # the window of episodes 15 to 114 is the first whose mean reaches 195
    late = summarise([0.0] * 50 + [300.0] * 100, boundary=195.0)
    assert (late.episodes_before_solve, late.best_window_mean) == (15, 300.0)


def test_an_interval_that_holds_the_boundary_is_within_noise() -> None:
    # FrozenLake's kind: 78 of 100 episodes reach the goal, against 0.7
    lake = summarise([1.0] * 78 + [0.0] * 22, boundary=0.7)
    low, high = lake.best_window_ci95
    assert low < 0.7 < high
    assert (lake.solved, lake.verdict, lake.episodes_before_solve) == (True, "within noise", 0)
    short = summarise([1.0] * 39 + [0.0] * 11, boundary=0.7)
    assert short.mean_ci95[0] < 0.7 < short.mean_ci95[1]
    assert (short.solved, short.verdict) == (False, "within noise")


def test_without_boundary_nothing_is_judged() -> None:
    summary = summarise([1.0, 2.0], boundary=None)
    assert (summary.reached, summary.solved, summary.reward_boundary) == (None, None, None)


def test_empty_summary() -> None:
    summary = summarise([])
    assert (summary.count, summary.mean_reward, summary.solved) == (0, None, None)


def test_the_summary_does_not_depend_on_how_episodes_arrive() -> None:

    rng = np.random.default_rng(3)
    episodes = [
        EpisodeResult(i, i, float(r), int(s), True, False, r >= 0.3, 0.0)
        for i, (r, s) in enumerate(zip(rng.random(2500), rng.integers(1, 50, 2500), strict=True))
    ]
    one_by_one = SummaryBuilder(0.3)
    for episode in episodes:
        one_by_one.add(episode)
    for size in (1, 7, 1024, 1500, 2500):
        batched = SummaryBuilder(0.3)
        for start in range(0, len(episodes), size):
            batched.add_all(EpisodeBatch.of(episodes[start : start + size], 0.3))
        assert batched.summary() == one_by_one.summary(), size
    assert one_by_one.summary().mean_reward == pytest.approx(np.mean([e.reward for e in episodes]))


def test_nan_and_infinite_rewards_are_counted_apart_not_averaged() -> None:
    summary = summarise([1.0, float("nan"), 3.0, float("inf"), float("-inf")])
    assert (summary.count, summary.nonfinite_rewards) == (5, 3)
    assert (summary.mean_reward, summary.min_reward, summary.max_reward) == (2.0, 1.0, 3.0)
    assert summary.mean_steps == 3.0  # every episode's steps still count


@pytest.mark.filterwarnings("error")  # numpy's overflow warnings fail the test
def test_rewards_too_large_to_square_keep_their_numbers() -> None:
    scaled = np.array([26.0, 11.0, 39.0, 30.0, 12.0])
    for scale in (1e200, 1e306):
        rewards = list(scaled * scale)
        summary = summarise(rewards, boundary=None)
        assert summary.nonfinite_rewards == 0
        assert summary.mean_reward == pytest.approx(np.mean(scaled) * scale)
        assert summary.std_reward == pytest.approx(np.std(scaled) * scale)
        assert summary.best_window_mean == pytest.approx(np.mean(scaled) * scale)
    # blocks of ordinary rewards, then huge ones: folded together
    builder = SummaryBuilder(None)
    builder.BLOCK = 2
    rewards = [1.0, 2.0, 3.0, 1e300, -1e300, 2e300]
    for i, reward in enumerate(rewards):
        builder.add(EpisodeResult(i, i, reward, 1, True, False, None, 0.0))
    summary = builder.summary()
    assert summary.mean_reward == pytest.approx(np.mean(np.array(rewards) / 1e300) * 1e300)
    assert summary.std_reward == pytest.approx(np.std(np.array(rewards) / 1e300) * 1e300)


@pytest.mark.filterwarnings("error")
def test_infinite_shaped_rewards_are_counted_and_left_out() -> None:
    builder = SummaryBuilder(None)
    shaped = [1e308, np.inf, 3e307, np.nan]
    for i, value in enumerate(shaped):
        builder.add(EpisodeResult(i, i, 10.0, 1, True, False, None, 0.0, value))
    summary = builder.summary().shaped_reward
    assert summary is not None
    assert (summary.nonfinite, summary.differing) == (2, 4)
    assert summary.mean == pytest.approx(6.5e307)
    assert summary.std == pytest.approx(3.5e307)


def test_a_batch_given_to_of_comes_back_as_views_with_the_new_boundary() -> None:
    episodes = [EpisodeResult(i, None, float(i), i + 1, True, False, None, 0.0) for i in range(4)]
    batch = EpisodeBatch.of(episodes, None)
    again = EpisodeBatch.of(batch, 2.0)
    assert [(e.episode, e.reward, e.steps, e.reached) for e in again] == [
        (i, float(i), i + 1, i >= 2) for i in range(4)
    ]
    assert np.shares_memory(again.reward, batch.reward)
    assert batch.reached is None and EpisodeBatch.of(again, None).reached is None


def test_metrics_are_summarised_the_same_however_episodes_arrive() -> None:
    rng = np.random.default_rng(5)
    reported = rng.random(3000) < 0.8  # the env reported it in these episodes
    episodes = [
        EpisodeResult(
            i, i, 1.0, 1, True, False, None, 0.0, None,
            {"is_success": bool(rng.random() < 0.3)} if reported[i] else {},
        )
        for i in range(3000)
    ]  # fmt: skip
    one_by_one = SummaryBuilder(None)
    for episode in episodes:
        one_by_one.add(episode)
    for size in (1, 999, 3000):
        batched = SummaryBuilder(None)
        batched.BLOCK = 1000
        for start in range(0, len(episodes), size):
            batched.add_all(EpisodeBatch.of(episodes[start : start + size], None))
        assert batched.summary() == one_by_one.summary(), size
    metric = one_by_one.summary().metrics["is_success"]
    given = [e.metrics["is_success"] for e in episodes if e.metrics]
    assert (metric.episodes, metric.missing) == (len(given), 3000 - len(given))
    assert metric.mean == pytest.approx(np.mean(given))
    assert metric.low < metric.mean < metric.high
    assert one_by_one.summary().to_json()["metrics"]["is_success"]["missing"] == metric.missing


def test_an_episode_that_terminates_as_its_time_runs_out_is_counted_once() -> None:
    # On the corridor (a 100-step limit), episode 24 of seed 42 reaches the far end on its
    # 100th step: Gymnasium says terminated and truncated both. The table calls it
    # terminated; the summary's counts add up to the episodes, as "ended" reads.
    config = load_config(CONFIGS / "corridor.yaml")
    result = run_experiment(config)
    both = [e.episode for e in result.episodes if e.terminated and e.truncated]
    assert both == [24]
    summary = result.summary
    assert (summary.terminated, summary.truncated) == (57, 43)
    assert summary.terminated + summary.truncated == summary.count == 100
