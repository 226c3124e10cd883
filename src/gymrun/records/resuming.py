"""What a run directory already holds, for a run that takes up where it stopped.

A run is resumed only where nothing else could have produced its episodes: its recorded
config is the one given now, byte for byte, and so are the user's modules and the model files
it ran. Its episodes must be the first ones of the run, each on a whole line; a line cut off
when the process died is dropped and played again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from gymrun.components.agents import resolve_agent
from gymrun.components.policy import Policy
from gymrun.core.episodes import EpisodeBatch
from gymrun.core.plan import RunPlan
from gymrun.errors import GymrunError
from gymrun.records import json_text
from gymrun.records.layout import (
    CONFIG_FILE,
    EPISODES_FILE,
    META_FILE,
    SUMMARY_FILE,
    SWEEP_FILE,
)
from gymrun.records.reading import DamagedRecord, read_episodes


@dataclass(frozen=True)
class Recorded:
    """The part of a run already on disk: its episodes (in batches), the length of
    ``episodes.jsonl`` they fill, how the run ended, when it started and its ``meta.json``."""

    directory: Path
    batches: list[EpisodeBatch]
    count: int
    size: int
    status: str
    started_at: str | None
    meta: dict[str, Any]

    @property
    def complete(self) -> bool:
        return self.status == "completed"


def why_not_continued(plan: RunPlan) -> str | None:
    """Why a stopped run of `plan` cannot go on from its middle with the numbers it would
    have had (None when it can: each episode depends on its own seeds alone)."""
    if plan.vector_mode == "vector_entry_point":
        return (
            f"{plan.config.env.id}'s own vector implementation is seeded once per run, so the "
            "run cannot go on from its middle with the same numbers (vector.mode sync or async "
            "seeds each episode, and can)"
        )
    if Policy.learning(resolve_agent(plan.config.agent.name)):
        return (
            f"agent {plan.config.agent.name} learns from its steps, and what it learned was "
            "lost with its process"
        )
    return None


def recorded_seed(directory: Path, where: str) -> int:
    """The seed the run in `directory` ran with (a run's config always has one)."""
    seed = _recorded_config(directory, where).get("seed")
    if not isinstance(seed, int):
        raise GymrunError(f"{where}: {directory / CONFIG_FILE} has no seed")
    return seed


def recorded_part(plan: RunPlan, directory: Path, where: str) -> Recorded:
    """What `directory` holds of the run `plan` describes, checked to be that run's."""
    recorded = _recorded_config(directory, where)
    # the config as the recorder writes it, read back: the comparison sees what is on disk
    wanted = yaml.safe_load(yaml.safe_dump(plan.config.to_json(), allow_unicode=True))
    if recorded != wanted:
        keys = ", ".join(_differences(recorded, wanted)[:4]) or "its layout"
        raise GymrunError(
            f"{where}: the run recorded there was run with other settings ({keys} differ); "
            "resume it with the config it ran"
        )
    meta = _read_json(directory / META_FILE, where)
    for name in sorted(set(_code(meta)) | set(_code(plan.provenance))):
        theirs, ours = _code(meta).get(name), _code(plan.provenance).get(name)
        if theirs != ours:
            raise GymrunError(
                f"{where}: module {name} is not the version the run ran ({theirs}, now {ours})"
            )
    agent = json.loads(json_text.dumps(plan.provenance.get("agent")))  # as meta.json has it
    if meta.get("agent") != agent:
        keys = ", ".join(_differences(meta.get("agent"), agent, "agent."))
        raise GymrunError(
            f"{where}: the agent's model, or what plays it, is not what the run ran "
            f"({keys or 'agent'} differ)"
        )
    summary = _read_json(directory / SUMMARY_FILE, where)
    batches, count, size = _episodes(directory / EPISODES_FILE, plan, where)
    status = summary.get("status")
    started = summary.get("started_at")
    return Recorded(
        directory,
        batches,
        count,
        size,
        status if isinstance(status, str) else "unknown",
        started if isinstance(started, str) else None,
        meta,
    )


def _episodes(path: Path, plan: RunPlan, where: str) -> tuple[list[EpisodeBatch], int, int]:
    """The run's episodes on disk, the number of them and the bytes their lines take."""
    if not path.exists():
        return [], 0, 0  # stopped before its first episode
    batches = []
    count = 0
    try:
        for batch in read_episodes(path, plan.reward_boundary):
            if batch.episode[0] != count or batch.episode[-1] != count + len(batch) - 1:
                raise GymrunError(
                    f"{where}: {path} does not hold the run's first episodes in order "
                    f"(episode {count} expected, found {int(batch.episode[0])})"
                )
            batches.append(batch)
            count += len(batch)
        size = _whole_lines(path)
    except DamagedRecord as exc:
        raise GymrunError(f"{where}: {exc}; it cannot be continued") from None
    except OSError as exc:
        raise GymrunError(f"{where}: cannot read {path}: {exc.strerror or exc}") from None
    if count > plan.episodes:
        raise GymrunError(f"{where}: {path} holds more episodes than the run asks for")
    return batches, count, size


def _whole_lines(path: Path) -> int:
    """The bytes of `path` up to its last newline: its whole lines (every one of which was
    read as an episode), without a line cut off when the process died."""
    with path.open("rb") as file:
        end = file.seek(0, 2)
        while end > 0:
            start = max(0, end - 65536)
            file.seek(start)
            block = file.read(end - start)
            if (newline := block.rfind(b"\n")) >= 0:
                return start + newline + 1
            end = start
    return 0


def _recorded_config(directory: Path, where: str) -> dict[str, Any]:
    if (directory / SWEEP_FILE).exists():
        raise GymrunError(
            f"{where}: a sweep's directory; resume it with gymrun sweep CONFIG --resume DIR"
        )
    path = directory / CONFIG_FILE
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GymrunError(f"{where}: not a run's directory (no {CONFIG_FILE} in it)") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).split("\n")[0]
        raise GymrunError(f"{where}: cannot read {path}: {reason}") from None
    if not isinstance(config, dict):
        raise GymrunError(f"{where}: {path} is not a run's config")
    return config


def _read_json(path: Path, where: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc).split("\n")[0]
        raise GymrunError(f"{where}: cannot read {path}: {reason}") from None
    if not isinstance(data, dict):
        raise GymrunError(f"{where}: {path} is not a mapping")
    return data


def _differences(recorded: Any, wanted: Any, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two configs."""
    if isinstance(recorded, dict) and isinstance(wanted, dict):
        return [
            found
            for key in [*recorded, *(k for k in wanted if k not in recorded)]
            for found in _differences(recorded.get(key), wanted.get(key), f"{prefix}{key}.")
        ]
    return [] if recorded == wanted else [prefix.rstrip(".") or "the config"]


def _code(data: dict[str, Any]) -> dict[str, str]:
    code = data.get("code")
    return code if isinstance(code, dict) else {}
