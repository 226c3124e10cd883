"""Duels: two configs played seed by seed, in rounds, until a sequential test decides which
scores higher, or that no difference shows within the most seeds allowed.

Each round plays `Duel.round` more seeds of each config, every run an ordinary run of the
one pipeline (on any executor, recorded as a sweep records its runs), and then looks at the
run scores with the test of `gymrun.analysis.sequential`. A and B play the same seeds
(common random numbers: on seed s both meet the same episodes' environment seeds), so the
scores come in pairs and the test compares each seed's difference. Two identical configs
then score alike on every seed and are never called different; two different ones are told
apart in fewer seeds than independent seeds would need, as the seed-to-seed luck they share
cancels.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.analysis.groups import partly_scored
from gymrun.analysis.sequential import (
    REFERENCE,
    RESAMPLES,
    SEED,
    TEST,
    Look,
    check_settings,
    fewest_seeds,
    round_sizes,
    sequential_looks,
)
from gymrun.analysis.verdicts import SIDES, seeds_of_each, verdict
from gymrun.components.agents import loading_note
from gymrun.config import ExperimentConfig, load_config, validate_document
from gymrun.config.grid import SEEDS
from gymrun.config.overrides import overridden_keys
from gymrun.config.schema import OnePoint
from gymrun.config.wording import wording
from gymrun.config.yaml_source import Document
from gymrun.core.experiment import trial_build
from gymrun.core.plan import RunPlan
from gymrun.core.signals import InterruptGuard
from gymrun.core.statistics import STATISTICS
from gymrun.core.summary import SummaryBuilder
from gymrun.errors import (
    ConfigError,
    FaultError,
    GymrunError,
    Problem,
    RecordError,
    ResumeRefused,
    UsageError,
)
from gymrun.numbers import counted, figure
from gymrun.pipeline.playing import Progress, play_sessions
from gymrun.pipeline.session import RunSession
from gymrun.records import files, json_text
from gymrun.records.directory import RecordDir, set_aside, utc_now
from gymrun.records.directory import claimed as claimed_dir
from gymrun.records.layout import DUEL_FILE, DUEL_SIDES, only_claimed
from gymrun.records.liveness import going, unstarted
from gymrun.records.reading import (
    as_found,
    is_own_run,
    left_out,
    read_duel_json,
    read_run,
    unread_runs,
)
from gymrun.records.resuming import (
    Recorded,
    check_run_dirs,
    extended_from_count,
    extended_note,
    kept_parts,
    settings_said,
)
from gymrun.records.writer import write_json
from gymrun.scale.executors import Executor, InProcess
from gymrun.sweep import refused_dataset

MAX_SEEDS = 20
ROUND = 4  # seeds of each side per round: a clear difference is decided at 8 of 20
ALPHA = 0.05
SCORE = "mean"
SPENDING = "linear"
# what a duel says of a config with a sweep section, as either side
ONE_SIDE = OnePoint(
    "a duel plays each config as it is, one run a seed, not a grid",
    ("give it a config of each point to compare",) * 2,
)


@dataclass(frozen=True)
class Duel:
    """Two configs to compare, and how: at most `max_seeds` seeds of each, `round` more
    per round (seeds ``first_seed``, ``first_seed + 1``, ...; each config's own seed is
    replaced), each run scored by the statistic `score` of its episode rewards (one of
    `gymrun.core.statistics.STATISTICS`), the test at level `alpha` with the alpha spending
    function `spending` (see `gymrun.analysis.sequential.SPENDING`)."""

    name: str
    a: ExperimentConfig
    b: ExperimentConfig
    max_seeds: int = MAX_SEEDS
    round: int = ROUND
    alpha: float = ALPHA
    score: str = SCORE
    spending: str = SPENDING
    first_seed: int = 0

    def __post_init__(self) -> None:
        given = wording().valued  # a library call's arguments, or gymrun duel's options
        if self.max_seeds < 1:
            raise UsageError(f"{given('max_seeds', self.max_seeds)}: a duel plays at least 1 seed")
        if self.round < 1:
            raise UsageError(f"{given('round', self.round)}: a round plays at least 1 seed of each")
        if self.score not in STATISTICS:
            raise UsageError(f"{given('score', self.score)}: use one of {', '.join(STATISTICS)}")
        if self.first_seed < 0:
            raise UsageError(f"{given('first_seed', self.first_seed)}: seeds are 0 or more")
        if self.first_seed + self.max_seeds > SEEDS:
            raise UsageError(
                f"{given('first_seed', self.first_seed)} {given('max_seeds', self.max_seeds)}: "
                "the duel's seeds would pass 2**64 - 1, the last seed a run takes"
            )
        check_settings(self.alpha, self.spending)

    @property
    def seeds(self) -> list[int]:
        """The seeds both sides play, in order."""
        return list(range(self.first_seed, self.first_seed + self.max_seeds))

    @property
    def sizes(self) -> list[int]:
        """The seeds of each side at the end of each round."""
        return round_sizes(self.max_seeds, self.round)

    def config(self, side: str, seed: int) -> ExperimentConfig:
        """The config of side ``A`` or ``B`` with its seed `seed`."""
        return (self.a if side == "A" else self.b).model_copy(update={"seed": seed})

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "a": _without_seed(self.a),
            "b": _without_seed(self.b),
            "max_seeds": self.max_seeds,
            "round": self.round,
            "alpha": self.alpha,
            "score": self.score,
            "spending": self.spending,
            "first_seed": self.first_seed,
        }

    @property
    def sha256(self) -> str:
        """The hash of both configs and every setting: what ``--resume`` must find again."""
        text = json.dumps(self.to_json(), sort_keys=True, default=str).encode()
        return f"sha256:{hashlib.sha256(text).hexdigest()}"


def _without_seed(config: ExperimentConfig) -> dict[str, Any]:
    """A side's config as ``duel.json`` keeps it: without a seed (the duel gives each run
    its own), so that a config's own seed changes nothing."""
    return {key: value for key, value in config.to_json().items() if key != "seed"}


def load_duel(
    path_a: str | Path,
    path_b: str | Path,
    overrides: Sequence[str] = (),
    **settings: Any,
) -> Duel:
    """Read two configs (`overrides` apply to both) and check that each can be built before
    anything runs; `settings` are `Duel`'s (``max_seeds``, ``round``, ``alpha``, ...).

    >>> duel = load_duel("configs/cartpole_random.yaml", "configs/cartpole_balance.yaml")
    >>> duel.name, duel.sizes, duel.seeds[:3]
    ('cartpole_random-vs-cartpole_balance', [4, 8, 12, 16, 20], [0, 1, 2])
    """
    configs: list[ExperimentConfig] = []
    problems = _seeds_overridden(overrides, settings.get("first_seed", 0))
    for path in (path_a, path_b):
        try:
            configs.append(load_config(path, overrides, one=ONE_SIDE))
        except ConfigError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    for config in configs:
        dataset = refused_dataset(config, "a duel's")
        if dataset is not None and dataset not in problems:
            problems.append(dataset)
    if problems:
        raise ConfigError(problems)
    for path, config in zip((path_a, path_b), configs, strict=True):
        try:
            trial_build(config)
        except GymrunError as exc:
            raise ConfigError([Problem(str(path), "", str(exc))]) from None
    a, b = configs
    name = f"{a.name or 'experiment'}-vs-{b.name or 'experiment'}"
    return Duel(name, a, b, **settings)


def _seeds_overridden(overrides: Sequence[str], first_seed: int) -> list[Problem]:
    """A problem for each of `overrides` that sets a seed, which a duel gives its runs."""
    first = wording().setting("first_seed", first_seed)
    seeded = f"a duel gives each run its own seed ({first} sets the first); drop it"
    return [
        Problem(origin, "", seeded)
        for origin, key in overridden_keys(overrides)
        if key[:1] == ("seed",)
    ]


@dataclass(frozen=True)
class DuelRun:
    """One run of a duel: its side, seed and score (None unless it completed)."""

    side: str
    seed: int
    score: float | None
    status: str
    run_dir: str | None = None
    error: str | None = None
    episodes: int = 0
    nonfinite_rewards: int = 0  # episodes with a NaN or infinite reward, left out of the score

    @property
    def label(self) -> str:
        return run_label(self.side, self.seed)

    def to_json(self) -> dict[str, Any]:
        return {
            "side": self.side,
            "seed": self.seed,
            "score": self.score,
            "status": self.status,
            "run_dir": self.run_dir,
            "error": self.error,
            "episodes": self.episodes,
            "nonfinite_rewards": self.nonfinite_rewards,
        }


def run_label(side: str, seed: int) -> str:
    """The directory of side `side`'s run with seed `seed`.

    >>> run_label("A", 3), run_label("B", 3)
    ('a-seed=3', 'b-seed=3')
    """
    return f"{DUEL_SIDES[SIDES.index(side)]}-seed={seed}"


@dataclass(frozen=True)
class DuelProgress:
    """How far a duel has come: the round playing (of at most `rounds`), the seeds of each
    side once it is in, its runs as the pipeline counts them, and the rounds decided."""

    round: int
    rounds: int
    seeds: int
    runs: Progress
    looks: Sequence[Look]


@dataclass
class DuelResult:
    """A duel's rounds and runs, and how it ended: ``completed`` (decided, or at the most
    seeds), ``interrupted`` (Ctrl-C, SIGTERM, SIGHUP or a lost cluster, said in `error`)
    or ``failed`` (a run failed or had no score, said in `error`)."""

    duel: Duel
    looks: list[Look]
    runs: list[DuelRun]
    status: str
    executor: str
    seconds: float
    duel_dir: Path | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)  # code hashes, workers' versions

    @property
    def decision(self) -> str | None:
        """``A`` or ``B`` (that side scores higher), ``none`` (no difference detectable
        within the most seeds), or None (the duel did not finish)."""
        if self.status != "completed" or not self.looks:
            return None
        return self.looks[-1].decision

    @property
    def seeds(self) -> int:
        """The seeds of each side the test has looked at."""
        return self.looks[-1].seeds if self.looks else 0

    def to_json(self) -> dict[str, Any]:
        duel = self.duel
        document = {
            "decision": self.decision,
            "seeds": self.seeds,
            "alpha": duel.alpha,
            "status": self.status,
            "test": {
                "name": TEST,
                "two_sided": True,
                "paired": "A and B play the same seeds; each seed's difference A - B",
                "score": f"run score: the {duel.score} of its episode rewards",
                "spending": duel.spending,
                "resamples": RESAMPLES,
                "seed": SEED,
                "reference": REFERENCE,
            },
            "rounds": [look.to_json() for look in self.looks],
            "runs": [run.to_json() for run in self.runs],
            "duel": duel.to_json(),
            "executor": self.executor,
            "seconds": self.seconds,
            "duel_dir": None if self.duel_dir is None else str(self.duel_dir),
            "error": self.error,
            "config_sha256": duel.sha256,
            **self.provenance,
        }
        return document | {"verdict": verdict(document)}


def recorded_duel(directory: Path, overrides: Sequence[str] = (), **given: Any) -> Duel:
    """The duel recorded in `directory` (its configs and settings, from ``duel.json``), to
    resume it: refused (`ResumeRefused`) when it holds no duel, or one whose configs do not
    validate here. `overrides` apply to both configs and `given` settings replace the
    recorded ones, as `load_duel` takes them: ``episodes=N``, more than it ran, takes each
    of its runs on to N (see `check_resumable`); what else they change is refused there."""
    where = wording().valued("directory", str(directory), "--resume")
    problem = files.no_directory(directory)
    if problem is not None:
        raise ResumeRefused(f"{where}: {problem}")
    try:
        document = read_duel_json(directory)
    except FileNotFoundError:
        said = unstarted(directory) or f"no {DUEL_FILE}: not a duel's directory"
        raise ResumeRefused(f"{where}: {said}") from None
    except GymrunError as exc:
        raise ResumeRefused(f"{where}: {exc}") from None
    settings = dict(document["duel"])
    documents = [
        Document(f"{directory / DUEL_FILE} duel.{side}", settings.pop(side)) for side in ("a", "b")
    ]
    for recorded in documents:
        try:
            validate_document(recorded, one=ONE_SIDE)
        except ConfigError as exc:
            raise ResumeRefused(f"{where}: {exc.problems[0]}") from None
    settings |= given
    configs = []
    problems = _seeds_overridden(overrides, settings.get("first_seed", 0))
    for recorded in documents:  # what the overrides make of it: told as they are named
        try:
            configs.append(validate_document(recorded, overrides, one=ONE_SIDE))
        except ConfigError as exc:
            problems.extend(p for p in exc.problems if p not in problems)
    if problems:
        raise ConfigError(problems)
    try:
        return Duel(settings.pop("name"), configs[0], configs[1], **settings)
    except (TypeError, UsageError) as exc:
        raise ResumeRefused(f"{where}: {DUEL_FILE}: not a duel's settings ({exc})") from None


def run_duel(
    duel: Duel,
    *,
    executor: Executor | None = None,
    duel_dir: Path | RecordDir | None = None,
    on_progress: Callable[[DuelProgress], None] | None = None,
    resume: bool = False,
) -> DuelResult:
    """Play `duel` round by round on `executor` (this process by default) until its test
    decides, recording each run under `duel_dir` (none: nothing is written) and
    ``duel.json`` after every round.

    Each run is a session of the one pipeline (see `gymrun.pipeline`). Ctrl-C keeps every
    finished episode and ends the duel as interrupted; a run that fails ends it as failed
    (a run without a score leaves the test nothing to compare). With `resume`, `duel_dir`
    holds this duel, stopped: its finished runs are kept, the rest are played, and the
    rounds come out as an uninterrupted duel's. `on_progress` is told how far it has come.

    >>> duel = load_duel("configs/cartpole_random.yaml", "configs/cartpole_balance.yaml",
    ...                  ["episodes=3"])
    >>> result = run_duel(duel)
    >>> result.decision, result.seeds, [look.decision for look in result.looks]
    ('B', 8, [None, 'B'])
    """
    executor = executor or InProcess()
    path = duel_dir.path if isinstance(duel_dir, RecordDir) else duel_dir
    if resume:
        if path is None:
            raise UsageError("resume=True needs duel_dir, the duel's directory")
        check_resumable(duel, path, ours=isinstance(duel_dir, RecordDir))
    # a cluster out of reach fails on entering the executor, before anything is written
    with executor, claimed_dir(duel_dir, resume=resume, keyword="duel_dir") as claimed:
        return _Playing(duel, executor, claimed, on_progress, resume).play()


def check_resumable(duel: Duel, directory: Path, *, ours: bool = False) -> None:
    """`directory` holds `duel`, with the same configs, settings and user code (`ours`:
    this process holds its lock)."""
    where = wording().valued("duel_dir", str(directory), "--resume")
    try:
        recorded = read_duel_json(directory)
    except FileNotFoundError:
        # starting in another process, or killed before it wrote duel.json
        said = unstarted(directory, ours=ours) or f"no {DUEL_FILE}: not a duel's directory"
        raise ResumeRefused(f"{where}: {said}") from None
    except GymrunError as exc:
        raise ResumeRefused(f"{where}: {exc}") from None
    if recorded["config_sha256"] != duel.sha256 and not _extended(duel, recorded, where):
        given = json.loads(json_text.dumps(duel.to_json()))
        said = settings_said(recorded.get("duel"), given) or (
            f"they hash to {recorded['config_sha256']}, these to {duel.sha256}"
        )
        raise ResumeRefused(
            f"{where}: the duel recorded there was run with other configs or settings ({said})"
        )
    code = {
        name: sha for config in (duel.a, duel.b) for name, sha in RunPlan.of(config).code.items()
    }
    for name in sorted(set(code) | set(recorded.get("code", {}))):
        theirs = recorded.get("code", {}).get(name)
        if theirs != code.get(name):
            raise ResumeRefused(
                f"{where}: module {name} is not the version the duel ran "
                f"({theirs}, now {code.get(name)})"
            )
    sides = [run_label(side, seed) for seed in duel.seeds for side in SIDES]
    check_run_dirs((directory / label for label in sides), where)


def _extended(duel: Duel, recorded: dict[str, Any], where: str) -> bool:
    """Whether `duel` is the one `recorded` (its ``duel.json``) asking for more episodes
    alone: its runs each go on to them, as ``gymrun run --resume -n N`` takes a run on, and
    the duel is looked at again from its first round; refused (`ResumeRefused`) when it
    asks for fewer. The counts recorded are its configs', if with them the duel hashes as
    ``duel.json`` says."""
    ran = {side: recorded["duel"][side.lower()].get("episodes") for side in SIDES}
    if not all(isinstance(count, int) for count in ran.values()):
        return False
    if _with_episodes(duel, ran).sha256 != recorded["config_sha256"]:
        return False
    same = len(set(ran.values())) == 1
    for side, config in zip(SIDES, (duel.a, duel.b), strict=True):
        runs = "the duel's runs are each" if same else f"the runs of {side} are each"
        given = f"episodes={config.episodes}"  # a config's, or --set's
        extended_from_count(
            {"episodes": ran[side]}, {"episodes": config.episodes}, where, runs=runs, asked=given
        )
    return True


def _with_episodes(duel: Duel, episodes: dict[str, int]) -> Duel:
    """`duel` with the runs of each side asking for `episodes` of it."""
    a = duel.a.model_copy(update={"episodes": episodes["A"]})
    return replace(duel, a=a, b=duel.b.model_copy(update={"episodes": episodes["B"]}))


class _Playing:
    """A duel being played into its claimed directory (None: not recorded)."""

    def __init__(
        self,
        duel: Duel,
        executor: Executor,
        claimed: RecordDir | None,
        on_progress: Callable[[DuelProgress], None] | None,
        resume: bool,
    ) -> None:
        self.duel, self.executor, self.claimed = duel, executor, claimed
        self.directory = None if claimed is None else claimed.path
        self.on_progress, self.resume = on_progress, resume
        self.started = utc_now()
        self.result = DuelResult(duel, [], [], "running", executor.name, 0.0, self.directory)
        self.code: dict[str, str] = {}
        self.loaded: list[str] = []
        self.kept: list[tuple[RunPlan, Recorded | None]] = []  # what each resumed run kept
        size = self.duel.max_seeds
        if size < fewest_seeds(duel.alpha):
            self.result.notes.append(
                f"with at most {seeds_of_each(size)}, no difference can be decided at alpha "
                f"{figure(duel.alpha)}: a sign-flip test needs {fewest_seeds(duel.alpha)}"
            )

    def play(self) -> DuelResult:
        if self.claimed is not None:
            if not self.resume:
                self.claimed.clear_previous()  # --force: both configs were checked by now
            try:
                self._write()
            except OSError as exc:
                raise FaultError(f"cannot write the duel's record: {exc.strerror or exc}") from exc
        guard = InterruptGuard()
        with guard:
            guard.hold()  # released as each round starts playing
            done = 0
            for number, size in enumerate(self.duel.sizes, 1):
                runs = self._round(guard, number, self.duel.seeds[done:size])
                self.result.runs += runs
                if self.result.status != "running" or self._look(number, runs):
                    break
                done = size
            if self.resume:
                plans, parts = [plan for plan, _ in self.kept], [part for _, part in self.kept]
                self.result.notes += extended_note(plans, parts)
                if self.result.status == "completed":
                    self.result.notes += self._set_aside_unneeded()
            self.result.notes += list(dict.fromkeys(self.loaded))
            partly = partly_scored(
                [(run.label, run.episodes, run.nonfinite_rewards) for run in self.result.runs]
            )
            if partly:
                self.result.notes.append(partly)
            self._record()
            guard.release(deliver=False)  # a Ctrl-C now comes after everything was recorded
        return self.result

    def _look(self, number: int, runs: list[DuelRun]) -> bool:
        """The test after round `number`, whose `runs` are in; True when the duel ends."""
        result = self.result
        missing = [run for run in runs if run.score is None]
        if missing:  # the test has nothing to compare on that seed
            result.status = "failed"
            result.error = "; ".join(
                f"{run.label}: {run.error or 'no finite reward to score'}" for run in missing
            )
            return True
        scores = {
            side: [run.score for run in result.runs if run.side == side and run.score is not None]
            for side in SIDES
        }
        result.looks = sequential_looks(
            scores["A"],
            scores["B"],
            self.duel.sizes[:number],
            max_seeds=self.duel.max_seeds,
            alpha=self.duel.alpha,
            spending=self.duel.spending,
        )
        decided = result.looks[-1].decision is not None
        if decided:
            result.status = "completed"
        self._record()
        if self.on_progress is not None:
            rounds, size = len(self.duel.sizes), self.duel.sizes[number - 1]
            done = Progress(len(runs), len(runs))
            self.on_progress(DuelProgress(number, rounds, size, done, result.looks))
        return decided

    def _round(self, guard: InterruptGuard, number: int, seeds: list[int]) -> list[DuelRun]:
        """Play one round's runs (each seed, A then B); how it ended goes in the result."""
        plans = [RunPlan.of(self.duel.config(side, seed)) for seed in seeds for side in SIDES]
        sides = [(side, seed) for seed in seeds for side in SIDES]
        run_dirs = [
            None if self.directory is None else self.directory / run_label(side, seed)
            for side, seed in sides
        ]
        parts: list[Recorded | None] = [None] * len(plans)
        if self.resume:  # what cannot go on is set aside and played again whole
            parts, again = kept_parts(plans, run_dirs)
            self.result.notes += again
            self.kept += zip(plans, parts, strict=True)
        sessions = [
            RunSession(
                plan,
                record_dir=run_dir,
                resumed=part,
                guard=guard,
                plot=False,  # a duel's many runs: the board draws each on its page
                provenance=self.executor.provenance,
            )
            for plan, run_dir, part in zip(plans, run_dirs, parts, strict=True)
        ]
        report = None
        if self.on_progress is not None:
            on_progress = self.on_progress
            looks, rounds, size = (
                self.result.looks,
                len(self.duel.sizes),
                self.duel.sizes[number - 1],
            )

            def report(progress: Progress) -> None:
                on_progress(DuelProgress(number, rounds, size, progress, looks))

        try:
            guard.release()  # a stop that came while the last round was written stops here
            status, lost = play_sessions(sessions, self.executor, on_progress=report)
        except KeyboardInterrupt:
            status, lost = "interrupted", None
        guard.hold()
        for session in sessions:
            session.close("interrupted" if status == "interrupted" else "completed")
        guard.hold()  # closing a session lets signals through: the round ends whole
        if status == "interrupted":
            self.result.status, self.result.error = "interrupted", lost
        self.code |= {name: sha for plan in plans for name, sha in plan.code.items()}
        self.loaded += [
            note for s in sessions if s.started and (note := loading_note(s.plan.agent))
        ]
        return [
            _run(side, seed, session, self.duel.score)
            for (side, seed), session in zip(sides, sessions, strict=True)
        ]

    def _set_aside_unneeded(self) -> list[str]:
        """Move aside, with a note, the runs recorded for seeds past those the duel decided
        on (one lengthened may decide sooner than it did): its directory then holds the runs
        of the duel it is, as a fresh one would."""
        if self.directory is None:
            return []
        unneeded = [
            self.directory / run_label(side, seed)
            for seed in self.duel.seeds[self.result.seeds :]
            for side in SIDES
            if os.path.lexists(self.directory / run_label(side, seed))
        ]
        if not unneeded:
            return []
        said = (
            f"{counted(len(unneeded), 'run')} recorded for rounds the duel no longer needs (it "
            f"was decided after {seeds_of_each(self.result.seeds)})"
        )
        try:
            kept = [set_aside(run_dir) for run_dir in unneeded]
        except RecordError:  # a full disk, a folder not ours: they stay where they are
            return [f"{said} could not all be moved aside, and some are left beside its runs"]
        names = ", ".join(run_dir.name for run_dir in unneeded)
        return [f"{said} were kept in {kept[0].parent}: {names}"]

    def _record(self) -> None:
        """``duel.json`` again, with the rounds so far; a failure to write it is a note."""
        if self.claimed is None:
            return
        try:
            self._write()
        except OSError as exc:
            note = f"{DUEL_FILE} could not be written: {exc.strerror or exc}"
            if note not in self.result.notes:
                self.result.notes.append(note)

    def _write(self) -> None:
        assert self.directory is not None
        self.result.seconds = (utc_now() - self.started).total_seconds()
        provenance = ({"code": self.code} if self.code else {}) | self.executor.provenance
        self.result.provenance = provenance
        write_json(self.directory / DUEL_FILE, self.result.to_json())


def _run(side: str, seed: int, session: RunSession, statistic: str) -> DuelRun:
    """A run of a duel, closed, with its score: `statistic` of its finite episode rewards."""
    result = session.result
    assert result is not None
    return DuelRun(
        side,
        seed,
        _score(session.summary.finite_rewards(), result.status, statistic),
        result.status,
        None if result.run_dir is None else str(result.run_dir),
        None if result.error is None else str(result.error),
        result.summary.count,
        result.summary.nonfinite_rewards,
    )


def _score(rewards: np.ndarray, status: str, statistic: str) -> float | None:
    """A run's score: `statistic` of its finite episode `rewards`; None unless it completed
    with a finite one."""
    if status != "completed" or not len(rewards):
        return None
    score = float(STATISTICS[statistic](rewards[None, :])[0])
    return score if np.isfinite(score) else None


def read_duel_document(directory: Path) -> tuple[dict[str, Any], list[str]]:
    """``duel.json`` in `directory` as the duel wrote it, with what became of it, and notes
    saying that in words. One that has not ended (still going, or killed before it could:
    see `liveness.going`) has that as its status, and among its runs those of the round it
    was playing, as they are recorded; a duel stopped in a round says how many of that
    round's runs are recorded (`resume`, ``--resume``, goes on from them)."""
    document = read_duel_json(directory)
    # its runs as it scored them: say which are not there (one never started has nothing)
    runs = document["runs"]
    started = [r["run_dir"] for r in runs if r["status"] != "interrupted" or r.get("episodes")]
    notes = unread_runs(directory, "duel", started)
    if document["status"] == "running":  # its runs are in duel.json once their round is
        status, said = going(directory, "duel")
        recorded, left = _recorded_runs(document, directory)
        document = document | {"status": status, "runs": [*document["runs"], *recorded]}
        notes += [said, *left]
    cut = _cut_round(document, directory)
    if cut is not None:
        notes.append(cut)
    partly = partly_scored(  # (a duel recorded before runs counted them has none)
        [
            (
                run_label(run["side"], run["seed"]),
                run.get("episodes", 0),
                run.get("nonfinite_rewards", 0),
            )
            for run in document["runs"]
        ]
    )
    if partly:
        notes.append(partly)
    return as_found(document, directory, "duel"), notes


def _round_of(document: dict[str, Any]) -> tuple[int, list[int]]:
    """The number and the seeds of the round after the last the duel `document` looked at."""
    settings = document["duel"]
    sizes = round_sizes(settings["max_seeds"], settings["round"])
    done = document["seeds"]
    size = next((size for size in sizes if size > done), done)
    first = settings["first_seed"]
    return len(document["rounds"]) + 1, list(range(first + done, first + size))


def _recorded_runs(
    document: dict[str, Any], directory: Path
) -> tuple[list[dict[str, Any]], list[str]]:
    """The runs recorded in `directory` of the round after the last the duel `document`
    looked at (one never started counts nothing), each as ``duel.json`` lists a run; and
    notes on what is in a run's place but is not its run (left out)."""
    found = []
    notes = []
    for seed in _round_of(document)[1]:
        for side in SIDES:
            run_dir = directory / run_label(side, seed)
            if not is_own_run(run_dir):
                if os.path.lexists(run_dir) and not only_claimed(run_dir):
                    notes.append(left_out(run_dir, "duel"))
                continue
            episodes = SummaryBuilder(None)
            run = read_run(run_dir, episodes.add_all)
            score = _score(episodes.finite_rewards(), run.became, document["duel"]["score"])
            summary = run.summary
            found.append(
                DuelRun(
                    side,
                    seed,
                    score,
                    run.became,
                    str(run_dir),
                    run.error,
                    summary.count,
                    summary.nonfinite_rewards,
                )
            )
    return [run.to_json() for run in found], notes


def _cut_round(document: dict[str, Any], directory: Path) -> str | None:
    """How far the round the duel (`document`) in `directory` was stopped in had come, in
    words; None for a duel that was not stopped, or none of whose runs of that round is
    recorded (a stopped duel lists the runs of its round that never started too)."""
    if document["status"] not in ("interrupted", "killed"):
        return None
    number, seeds = _round_of(document)
    runs = [
        run
        for run in document["runs"]
        if run["seed"] in seeds and is_own_run(directory / run_label(run["side"], run["seed"]))
    ]
    if not runs:
        return None
    statuses = [run["status"] for run in runs]
    counted = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
    return (
        f"round {number} was cut short with {len(runs)} of its {2 * len(seeds)} runs "
        f"recorded ({counted}); {wording().setting('resume', True)} goes on from them"
    )
