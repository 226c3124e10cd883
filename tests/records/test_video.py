"""Videos of chosen episodes: playable files, bad ``record`` sections and envs that cannot
render refused before anything runs, and a missing moviepy said before the run."""

import json
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.support.cli import gymrun
from tests.support.processes import pip_install, without


def test_missing_video_extra_is_an_error_before_the_run(tmp_path: Path) -> None:
    config = tmp_path / "video.yaml"
    config.write_text("env: CartPole-v1\nrecord: {video: true}\n")
    result = without(["moviepy"], "run", str(config), "-o", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: recording video needs moviepy, which is not installed: "
        + pip_install("gymrun[video]")
        + "\n"
    )
    assert not (tmp_path / "run").exists()


WriteConfig = Callable[..., Path]


def episodes_on_disk(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]


def test_video_of_chosen_episodes_is_playable(write_config: WriteConfig) -> None:
    path = write_config(
        "env: CartPole-v1\nagent: random\nepisodes: 3\nseed: 0\n"
        "record: {video: true, episodes: [0, 2]}\n"
    )
    code, _, err = gymrun("run", str(path), "-o", "run", "-q")
    assert code == 0, err
    videos = sorted(Path("run/videos").iterdir())
    assert [v.name for v in videos] == ["episode-000000.mp4", "episode-000002.mp4"]
    steps = {e["episode"]: e["steps"] for e in episodes_on_disk(Path("run"))}
    for video, episode in zip(videos, (0, 2), strict=True):
        frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(video))
        assert frames == steps[episode] + 1  # the frame after reset, then one per step
        assert seconds == pytest.approx(frames / 50)  # CartPole renders at 50 fps
        assert video.stat().st_size > 1000


def test_video_every_nth_episode(write_config: WriteConfig) -> None:
    path = write_config(
        "env: CartPole-v1\nepisodes: 5\nseed: 0\nrecord: {video: true, every: 2, fps: 10}\n"
    )
    assert gymrun("run", str(path), "-o", "run", "-q")[0] == 0
    assert sorted(v.name for v in Path("run/videos").iterdir()) == [
        "episode-000000.mp4",
        "episode-000002.mp4",
        "episode-000004.mp4",
    ]


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (
            "{video: true, every: 2, episodes: [1]}",
            ":2 record.episodes: give either every or episodes, not both",
        ),
        ("{every: 2}", ":2 record.video: choosing episodes to record needs video: true"),
        (
            "{video: true, episodes: [-1]}",
            ":2 record.episodes.0: Input should be greater than or equal to 0",
        ),
    ],
)
def test_bad_record_sections(write_config: WriteConfig, record: str, expected: str) -> None:
    path = write_config(f"env: CartPole-v1\nrecord: {record}\n")
    code, _, err = gymrun("run", str(path))
    assert (code, err.strip()) == (2, f"error: {path}{expected}")


def test_video_of_an_env_that_cannot_render_is_refused_before_running(
    write_config: WriteConfig,
) -> None:
    path = write_config("env: gymrun/RandomReward-v0\nmax_steps: 20\nrecord: {video: true}\n")
    code, _, err = gymrun("run", str(path), "-o", "run")
    assert (code, err.strip()) == (
        2,
        f"error: {path}:3 record.video: gymrun/RandomReward-v0 cannot render rgb_array frames "
        "(its render modes: none)",
    )
    assert not Path("run").exists()
