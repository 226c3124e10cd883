"""Recording chosen episodes as .mp4 files, headless, one frame at a time."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym

from gymrun.components.extras import install_command
from gymrun.core.plan import RunPlan
from gymrun.errors import EnvError, NotInstalledError, RecordError
from gymrun.records.layout import VIDEO_DIR


def video_writer_class() -> Any:
    """moviepy's streaming ffmpeg writer, or a `GymrunError` saying what to install."""
    try:
        from moviepy.video.io.ffmpeg_writer import (  # type: ignore[import-untyped]
            FFMPEG_VideoWriter,
        )
    except ImportError as exc:
        hint = install_command("gymrun[video]")
        raise NotInstalledError(
            f"recording video needs moviepy, which is not installed: {hint}"
        ) from exc
    return FFMPEG_VideoWriter


class EpisodeVideo(gym.Wrapper[Any, Any, Any, Any]):
    """Writes the episodes `trigger` picks to ``folder/episode-NNNNNN.mp4``.

    Frames go to ffmpeg as they are rendered, so memory stays flat however long an episode
    is. The environment must have been made with ``render_mode="rgb_array"``. Episodes are
    numbered from `first_episode`, one per `reset`.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        folder: Path,
        trigger: Callable[[int], bool],
        first_episode: int = 0,
        fps: int | None = None,
    ) -> None:
        super().__init__(env)
        if env.render_mode != "rgb_array":
            raise EnvError(
                f"video needs render_mode='rgb_array'; this environment has {env.render_mode!r}"
            )
        self.folder = folder
        self.trigger = trigger
        self.fps = fps or int(env.metadata.get("render_fps") or 30)
        self._writer_class = video_writer_class()
        self.next_episode = first_episode
        self._writer: Any = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        self._finish()
        result = super().reset(seed=seed, options=options)
        episode = self.next_episode
        self.next_episode += 1
        if self.trigger(episode):
            self._start(self.folder / f"episode-{episode:06d}.mp4")
        return result

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        result = super().step(action)
        if self._writer is not None:
            self._writer.write_frame(self.env.render())
            if result[2] or result[3]:
                self._finish()
        return result

    def close(self) -> None:
        self._finish()
        super().close()

    def _start(self, path: Path) -> None:
        frame: Any = self.env.render()
        if getattr(frame, "ndim", 0) != 3:
            raise EnvError("the environment's render() returned no RGB frame to record")
        if path.parent.is_symlink():  # videos go in the run's directory, not through a link
            raise RecordError(
                f"{path.parent} is a symbolic link; videos are not written through it"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        height, width = frame.shape[:2]
        # logfile=PIPE makes ffmpeg quiet but for errors, which moviepy reports if it fails
        self._writer = self._writer_class(
            str(path), (width, height), self.fps, preset="veryfast", logfile=subprocess.PIPE
        )
        self._writer.write_frame(frame)

    def _finish(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def video_recorder(
    plan: RunPlan, record_dir: Path | None, first_episode: int = 0
) -> Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]] | None:
    """What wraps a run's environment to record the episodes its config asks for, into
    ``record_dir/videos`` (numbered from `first_episode`); None when nothing is recorded."""
    record = plan.config.record
    if not record.video or record_dir is None:
        return None
    return functools.partial(
        EpisodeVideo,
        folder=record_dir / VIDEO_DIR,
        trigger=record.wants,
        first_episode=first_episode,
        fps=record.fps,
    )
