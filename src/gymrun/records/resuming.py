"""What a run directory already holds, for a run that takes up where it stopped.

A run is resumed only where nothing else could have produced its episodes: its recorded
config is the one given now, byte for byte, and so are the user's modules and the model files
it ran. Every episode kept must be the run's: the first ones, in order, each with the seed
the run gives its index, each on a whole line; a line cut off when the process died is
dropped and played again.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gymrun.components.seeding import EpisodeSeeds
from gymrun.config.wording import wording
from gymrun.config.yaml_source import dump_yaml, parse_yaml
from gymrun.core.episodes import EpisodeBatch
from gymrun.core.plan import RunPlan
from gymrun.errors import GymrunError, RecordError, ResumeRefused
from gymrun.numbers import counted
from gymrun.records import files, json_text
from gymrun.records.directory import set_aside
from gymrun.records.layout import CONFIG_FILE, DUEL_FILE, SWEEP_FILE
from gymrun.records.liveness import unstarted
from gymrun.records.reading import (
    EpisodeLines,
    config_edited,
    config_settled,
    read_config,
    read_meta,
    read_summary_fields,
)


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
    # the episodes its config asked for, when the run goes on to more (`recorded_part`)
    extended_from: int | None = None

    @property
    def complete(self) -> bool:
        return self.status == "completed"


def why_not_continued(plan: RunPlan) -> str | None:
    """Why a stopped run of `plan` cannot go on from its middle with the numbers it would
    have had (None when it can: each episode depends on its own seeds alone)."""
    if not plan.seeds_each_episode:
        return (
            f"{plan.config.env.id}'s own vector implementation is seeded once per run, so the "
            "run cannot go on from its middle with the same numbers (vector.mode sync or async "
            "seeds each episode, and can)"
        )
    if plan.learns:
        return (
            f"agent {plan.config.agent.name} learns from its steps, and what it learned was "
            "lost with its process"
        )
    return None


def recorded_seed(directory: Path, where: str) -> int:
    """The seed the run in `directory` ran with (a run's config always has one)."""
    return int(_recorded_config(directory, where)["seed"])


def recorded_part(
    plan: RunPlan, directory: Path, where: str, *, advice: bool = True, extend: bool = False
) -> Recorded:
    """What `directory` holds of the run `plan` describes, checked to be that run's: its
    config, code and model, and every episode kept (its index, in order, and the seed the
    run gives it). Without `advice`, a run recorded with other settings is not told to be
    resumed with them (its caller plays it again instead). With `extend`, `plan` may ask
    for more episodes than the run recorded (`Recorded.extended_from`), never fewer (refused
    as such, or, without `advice`, as a run with other settings)."""
    recorded = _recorded_config(directory, where)
    # the config as the recorder writes it, read back: the comparison sees what is on disk
    wanted = parse_yaml(dump_yaml(plan.config.to_json())).data
    extended_from = None
    if extend and (advice or _more_episodes(recorded, wanted)):  # fewer, unadvised: differs
        extended_from = extended_from_count(recorded, wanted, where)
    if extended_from is not None:
        recorded = recorded | {"episodes": wanted["episodes"]}
    if recorded != wanted:
        said = settings_said(recorded, wanted) or "its layout differs"
        then = "resume it with the config it ran" if advice else "it cannot be continued"
        raise ResumeRefused(
            f"{where}: the run recorded there was run with other settings ({said}); {then}"
        )
    try:
        meta = read_meta(directory)
        summary = read_summary_fields(directory)
        text = read_config(directory)[0]
        edited = config_edited(directory, text, meta)
        if edited is not None:
            raise RecordError(edited)
        meta = config_settled(meta, text)  # a replacement of config.yaml cut short: over
    except RecordError as exc:
        ended = _completed(directory)
        said = (
            "the run was complete already; nothing was played"
            if ended
            else "it cannot be continued"
        )
        raise ResumeRefused(f"{where}: {exc}; {said}") from None
    for name in sorted(set(_code(meta)) | set(_code(plan.provenance))):
        theirs, ours = _code(meta).get(name), _code(plan.provenance).get(name)
        if theirs != ours:
            raise ResumeRefused(
                f"{where}: module {name} is not the version the run ran ({theirs}, now {ours})"
            )
    agent = json.loads(json_text.dumps(plan.provenance.get("agent")))  # as meta.json has it
    if meta.get("agent") != agent:
        said = settings_said(meta.get("agent"), agent, "agent.") or "agent differs"
        raise ResumeRefused(
            f"{where}: the agent's model, or what plays it, is not what the run ran ({said})"
        )
    batches, count, size = _episodes(directory, plan, where)
    return Recorded(
        directory,
        batches,
        count,
        size,
        summary["status"],
        summary.get("started_at"),
        meta,
        extended_from,
    )


def extended_from_count(
    recorded: dict[str, Any],
    wanted: dict[str, Any],
    where: str,
    *,
    runs: str = "the run is one",
    asked: str | None = None,
) -> int | None:
    """The episodes the recorded config asks for, when the given one differs from it in
    asking for more alone; refused (`ResumeRefused`) when it asks for fewer: the episodes
    recorded past the count would be the run's no more. `runs` names what was recorded, and
    `asked` what asks for the count (its option, by default), for the refusal."""
    before, after = recorded.get("episodes"), wanted.get("episodes")
    if before == after or recorded | {"episodes": after} != wanted:
        return None  # the same count, or other settings differ too: told as such
    if not isinstance(before, int) or not isinstance(after, int):
        return None
    if after < before:
        asked = asked or wording().valued("episodes", after)
        raise ResumeRefused(
            f"{where}: {runs} of {before} episodes, and {asked} asks for fewer; a run "
            f"goes on to more episodes, never fewer (give {before} or more)"
        )
    return before


def _more_episodes(recorded: dict[str, Any], wanted: dict[str, Any]) -> bool:
    before, after = recorded.get("episodes"), wanted.get("episodes")
    return isinstance(before, int) and isinstance(after, int) and after > before


def resumable_parts(
    plans: Sequence[RunPlan], run_dirs: Sequence[Path | None]
) -> tuple[list[Recorded | None], list[str]]:
    """What each of a sweep's runs (`plans`, recording in `run_dirs`) holds that it can go
    on from (`kept_parts`), with its notes, and one for the runs that go on to more
    episodes than they recorded (`extended_note`)."""
    parts, notes = kept_parts(plans, run_dirs)
    return parts, notes + extended_note(plans, parts)


def kept_parts(
    plans: Sequence[RunPlan], run_dirs: Sequence[Path | None]
) -> tuple[list[Recorded | None], list[str]]:
    """What each of a sweep's or a duel's runs (`plans`, recording in `run_dirs`) holds that
    it can go on from (`resumable_part`), and a note for each record it cannot go on from
    (damaged, or stopped where it cannot go on): that record is moved aside (`set_aside`),
    never deleted, and its run played again from its start."""
    parts: list[Recorded | None] = []
    notes: list[str] = []
    for plan, run_dir in zip(plans, run_dirs, strict=True):
        part, why = resumable_part(plan, run_dir)
        if why is not None and run_dir is not None:
            kept = set_aside(run_dir)
            notes.append(f"{why}; it was kept in {kept}, and the run played again from its start")
        elif part is None and run_dir is not None and os.path.lexists(run_dir):
            shutil.rmtree(run_dir)  # its lock alone: it recorded nothing
        parts.append(part)
    return parts, notes


def extended_note(plans: Sequence[RunPlan], parts: Sequence[Recorded | None]) -> list[str]:
    """A note for each count of episodes that runs (`plans`, which went on from `parts`)
    were taken on from, to the count each asks for now; none when none was."""
    extended: Counter[tuple[int, int]] = Counter()  # (from, to) episodes: the runs taken on
    for plan, part in zip(plans, parts, strict=True):
        if part is not None and part.extended_from is not None:
            extended[part.extended_from, plan.episodes] += 1
    return [
        f"{counted(count, 'run')} of {counted(before, 'episode')} went on to {after}, the "
        "episodes recorded kept"
        for (before, after), count in sorted(extended.items())
    ]


def resumable_part(plan: RunPlan, run_dir: Path | None) -> tuple[Recorded | None, str | None]:
    """What `run_dir` holds of the run `plan`, when the run can go on from there (a sweep's
    or a duel's run, resumed with the others): its record complete, or stopped part way in a
    run that can go on from its middle. None: the run is played again from its start, and
    when a record of it was there (damaged, or stopped where it cannot go on from), what
    was found in it, as ``gymrun run --resume`` words what it refuses."""
    if run_dir is None or not run_dir.is_dir() or unstarted(run_dir) is not None:
        return None, None  # nothing recorded there: played from its start, as never begun
    try:
        part = recorded_part(plan, run_dir, str(run_dir), advice=False, extend=True)
    except GymrunError as exc:
        return None, str(exc)
    if part.complete and part.count == plan.episodes:
        return part, None
    why = why_not_continued(plan)
    if why is None:
        return part, None
    if part.extended_from is not None:
        ran = "ran" if part.complete else f"stopped after {part.count} of"
        return None, (
            f"{run_dir}: {ran} {part.extended_from} episodes, and {why}, so it cannot go on "
            f"to {plan.episodes} episodes"
        )
    return None, f"{run_dir}: stopped after {part.count} of {plan.episodes} episodes, and {why}"


def check_run_dirs(run_dirs: Iterable[Path], where: str) -> None:
    """Refused (`ResumeRefused`) when one of `run_dirs`, where a sweep's or duel's runs
    record, is there but is not a directory of its own: a symbolic link (to a run elsewhere,
    or to itself) or a file. Resuming keeps a run it can go on from and replaces one it
    cannot; through a link, either would write into another record, so a link is neither
    followed nor removed, and nothing is played."""
    for run_dir in run_dirs:
        if run_dir.is_symlink():
            what = f"a symbolic link to {os.readlink(run_dir)}"
        elif os.path.lexists(run_dir) and not run_dir.is_dir():
            what = "not a directory"
        else:
            continue
        raise ResumeRefused(
            f"{where}: {run_dir.name} is {what}, where its run records in a directory of "
            "its own; it was left as it is and nothing was played (put the run itself there, "
            f"or remove {run_dir.name} to play that run again)"
        )


def _episodes(directory: Path, plan: RunPlan, where: str) -> tuple[list[EpisodeBatch], int, int]:
    """The run's episodes on disk, the number of them and the bytes their lines take."""
    seeds = EpisodeSeeds(plan.seed) if plan.seeds_each_episode else None
    lines = EpisodeLines(directory, plan.reward_boundary, seeds)
    try:
        batches = list(lines)
    except FileNotFoundError:
        return [], 0, 0  # stopped before its first episode
    except RecordError as exc:
        raise ResumeRefused(f"{where}: {exc}; it cannot be continued") from None
    if lines.count > plan.episodes:
        raise ResumeRefused(
            f"{where}: {lines.path} holds more episodes than the run asks for ({lines.count} "
            f"of {plan.episodes}); it cannot be continued"
        )
    return batches, lines.count, lines.whole


def recorded_config_path(directory: Path, where: str) -> Path:
    """The ``config.yaml`` of the run recorded in `directory`, which resuming it without a
    config runs again; refused (`ResumeRefused`) when `directory` holds no run."""
    problem = files.no_directory(directory)
    if problem is not None:
        raise ResumeRefused(f"{where}: {problem}")
    if os.path.lexists(directory / SWEEP_FILE):
        raise ResumeRefused(
            f"{where}: a sweep's directory; resume it with gymrun sweep CONFIG --resume DIR"
        )
    if os.path.lexists(directory / DUEL_FILE):
        raise ResumeRefused(f"{where}: a duel's directory; resume it with gymrun duel --resume DIR")
    never = unstarted(directory)  # (its config.yaml, if there, not written yet)
    if never is not None or not os.path.lexists(directory / CONFIG_FILE):
        said = never or f"not a run's directory (no {CONFIG_FILE} in it)"
        raise ResumeRefused(f"{where}: {said}")
    return directory / CONFIG_FILE


def _completed(directory: Path) -> bool:
    """Whether the run's summary says it completed (a fault elsewhere in its record does
    not make it one to continue)."""
    try:
        return bool(read_summary_fields(directory)["status"] == "completed")
    except RecordError:
        return False


def _recorded_config(directory: Path, where: str) -> dict[str, Any]:
    recorded_config_path(directory, where)
    try:
        return read_config(directory)[1]
    except RecordError as exc:
        raise ResumeRefused(f"{where}: {exc}") from None


def _differences(recorded: Any, wanted: Any, prefix: str = "") -> list[str]:
    """The dotted keys whose values differ between two configs (into lists of one length
    by index: ``wrappers.0.epsilon``, not all of ``wrappers``)."""
    if isinstance(recorded, dict) and isinstance(wanted, dict):
        return [
            found
            for key in [*recorded, *(k for k in wanted if k not in recorded)]
            for found in _differences(recorded.get(key), wanted.get(key), f"{prefix}{key}.")
        ]
    if isinstance(recorded, list) and isinstance(wanted, list) and len(recorded) == len(wanted):
        return [
            found
            for index, (ours, theirs) in enumerate(zip(recorded, wanted, strict=True))
            for found in _differences(ours, theirs, f"{prefix}{index}.")
        ]
    return [] if recorded == wanted else [prefix.rstrip(".") or "the config"]


def settings_said(recorded: Any, given: Any, prefix: str = "", most: int = 3) -> str:
    """What differs between a recorded config (or settings) and the one given, as a user
    reads it: ``episodes: 3000 recorded, 20 given``; ``""`` when nothing does.

    >>> settings_said({"episodes": 3000, "env": {"id": "A"}}, {"episodes": 20, "env": {"id": "A"}})
    'episodes: 3000 recorded, 20 given'
    >>> settings_said({"wrappers": [{"epsilon": 0.5}]}, {"wrappers": [{"epsilon": 0.2}]})
    'wrappers.0.epsilon: 0.5 recorded, 0.2 given'
    """
    said = []
    for key in _differences(recorded, given, prefix)[:most]:
        path = key.removeprefix(prefix).split(".") if key != "the config" else []
        ours, theirs = _at(recorded, path), _at(given, path)
        said.append(f"{key}: {_shown(ours)} recorded, {_shown(theirs)} given")
    more = len(_differences(recorded, given, prefix)) - most
    return "; ".join(said) + (f"; and {more} more" if more > 0 else "")


def _at(data: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            data = data.get(part, _MISSING) if isinstance(data, dict) else _MISSING
    return data


_MISSING = object()


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "none"
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _code(data: dict[str, Any]) -> dict[str, str]:
    code = data.get("code")
    return code if isinstance(code, dict) else {}
