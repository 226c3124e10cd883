"""Runs grouped by config (the same experiment with several seeds), and groups compared.

Two runs belong to one group when their resolved configs agree on everything but the seed,
what was recorded (``record``), the ``sweep`` section and how episodes were batched
(``vector``, when its backend resets each sub-environment with its episode's own seed: such
a run plays the single-env run's episodes, whatever its ``num_envs``), and their agents
reported the same provenance (a trained agent's weights, say). Runs of one config and seed
repeat each other exactly, so a group counts each seed once: its newest completed run. An
env's own vector implementation (``vector.mode: vector_entry_point``) is seeded once per run
and plays other episodes, other again for another ``num_envs``: its runs are a group of
their own. Only completed runs are scored; an unfinished run's mean is over
fewer episodes than its config asks for. A run's score is its mean episode reward, or the
mean of a metric it recorded (`score_name`: ``gymrun compare --score success``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from gymrun.components.catalog import registered_spec
from gymrun.components.vector_backends import BACKENDS, vector_backend
from gymrun.config.wording import wording
from gymrun.core import scores
from gymrun.core.metrics import SUCCESS, SUCCESS_ALIAS, metric_named
from gymrun.core.scores import Estimate, Profile
from gymrun.errors import UnknownNameError, did_you_mean
from gymrun.numbers import counted
from gymrun.records.reading import StoredRun

# Keys that do not change what an experiment measures (``vector`` but for what of it does:
# see `vector_episodes`).
UNGROUPED_KEYS = ("seed", "record", "vector", "sweep")
REWARD = "reward"  # the score of a run by default: its mean episode reward
# What a group's 95% intervals are over (a sweep's table has intervals over episodes under
# the same heading: see `gymrun.sweep.POINT_INTERVAL`).
GROUP_INTERVAL = "over the group's runs (one score a run)"
# Groups whose every pair gets P(X > Y) with a bootstrap interval: the best by IQM (the
# pairs grow as its square). Every other pair's value is a count over its runs' scores,
# which the board's page makes from compare.json.
MATRIX_GROUPS = 24


_CONFIG_SEED: Any = object()


@dataclass(frozen=True, slots=True)
class Member:
    """What grouping needs of a run (slots: a board groups thousands)."""

    run: str  # how the run is named (its id on the board, its directory in the terminal)
    config: dict[str, Any]
    status: str
    score: float | None  # mean episode reward (or of the metric compared)
    started_at: str | None = None
    provenance: Any = None  # meta.json's "agent"
    key: str | None = None  # its `group_key`, when known already (else made from the config)
    # its seed: its config's, unless given (members of a group may share one config, each
    # with its own seed: a board of thousands of runs holds one config per group)
    seed: Any = field(default=_CONFIG_SEED, compare=False)

    def __post_init__(self) -> None:
        if self.seed is _CONFIG_SEED:
            object.__setattr__(self, "seed", self.config.get("seed"))

    @property
    def env(self) -> str:
        return str(self.config["env"]["id"])


def reward_boundary(config: dict[str, Any]) -> float | None:
    """The reward boundary a run of `config` (resolved, as a run directory keeps it) was
    judged against, None without one.

    >>> reward_boundary({"reward_boundary": 195}), reward_boundary({})
    (195.0, None)
    """
    value = config.get("reward_boundary")
    return None if value is None else float(value)


def experiment(config: dict[str, Any], provenance: Any = None) -> dict[str, Any]:
    """The part of a config that says what a run measures.

    >>> experiment({"env": {"id": "CartPole-v1"}, "seed": 3, "record": {"video": True}})
    {'env': {'id': 'CartPole-v1'}}
    """
    kept = {k: v for k, v in config.items() if k not in UNGROUPED_KEYS}
    vector = vector_episodes(config)
    if vector is not None:
        kept["vector"] = vector
    return kept if provenance is None else kept | {"provenance": provenance}


def vector_episodes(config: dict[str, Any]) -> dict[str, Any] | None:
    """What of a run's ``vector`` section makes its episodes other than a single-env run's
    of the same seed: None when nothing does (no vector env, or a backend that resets each
    sub-environment with its episode's own seed); else the backend, seeded once per run, and
    its ``num_envs``, which changes the episodes too. A mode left to its default is the
    environment's (`vector_backend`); where its spec is not registered here, which it is
    cannot be told, and the run is kept apart.

    >>> cartpole = {"env": {"id": "CartPole-v1"}}
    >>> vector_episodes(cartpole | {"vector": {"num_envs": 4, "mode": "async"}}) is None
    True
    >>> vector_episodes(cartpole | {"vector": {"num_envs": 4, "mode": None}})
    {'mode': 'vector_entry_point', 'num_envs': 4}
    """
    vector = config.get("vector")
    if not isinstance(vector, dict):
        return None
    mode = vector.get("mode")
    if mode is None:
        env = config.get("env")
        spec = registered_spec(str(env.get("id"))) if isinstance(env, dict) else None
        mode = None if spec is None else vector_backend(None, spec).name
    backend = BACKENDS.get(mode) if isinstance(mode, str) else None
    if backend is not None and backend.seeds_each_episode:
        return None
    told = {"mode": mode, "num_envs": vector.get("num_envs")}
    return {k: v for k, v in told.items() if v is not None}


def group_key(config: dict[str, Any], provenance: Any = None) -> str:
    """A short name for the group of runs that share `config` but for their seeds.

    >>> a = {"env": {"id": "CartPole-v1"}, "episodes": 100, "seed": 1}
    >>> group_key(a) == group_key(a | {"seed": 2}), group_key(a) == group_key(a | {"episodes": 5})
    (True, False)
    """
    return digest(experiment(config, provenance))


def digest(settings: dict[str, Any]) -> str:
    """A short name for `settings` (an experiment, or part of one)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths (as ``--set`` and sweeps write them) to the leaves of `value` that set
    something; a list of plain values is a leaf (``agent.actions=[0, 1]`` and ``[0]``
    differ as lists, not in an item one of them lacks). What is unset has no path: a
    ``None`` (a resolved config's unset ``max_steps``, say) and an empty section
    (``env.kwargs: {}``, ``wrappers: []``).

    >>> flatten({"wrappers": [{"name": "epsilon_random", "epsilon": 0.5}], "actions": [0, 1]})
    {'wrappers.0.name': 'epsilon_random', 'wrappers.0.epsilon': 0.5, 'actions': [0, 1]}
    >>> flatten({"env": {"id": "CartPole-v1", "kwargs": {}}, "max_steps": None, "wrappers": []})
    {'env.id': 'CartPole-v1'}
    """
    if value is None or (isinstance(value, dict | list) and not value):
        return {}
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list) and any(isinstance(item, dict | list) for item in value):
        items = enumerate(value)
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, item in items:
        flat |= flatten(item, f"{prefix}.{key}" if prefix else str(key))
    return flat


def labels(experiments: Sequence[dict[str, Any]]) -> list[str]:
    """A label for each experiment: its name and, where several share that name, what each
    sets of the settings in which they differ (``cartpole-epsilon: wrappers.0.epsilon=0.25``;
    a setting one of them leaves unset is not named in its label).

    >>> labels([{"name": "a", "episodes": 10}, {"name": "a", "episodes": 20}, {"name": "b"}])
    ['a: episodes=10', 'a: episodes=20', 'b']
    >>> labels([{"name": "a", "env": {"kwargs": {"sutton_barto_reward": True}}},
    ...         {"name": "a", "env": {"kwargs": {}}, "max_steps": None}])
    ['a: env.kwargs.sutton_barto_reward=true', 'a']
    """
    names = [str(e.get("name") or "experiment") for e in experiments]
    flats = [flatten(e) for e in experiments]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for name, flat in zip(names, flats, strict=True):
        by_name.setdefault(name, []).append(flat)
    differs: dict[str, list[str]] = {}  # the keys in which each name's experiments differ
    for name, namesakes in by_name.items():
        keys = list(dict.fromkeys(k for f in namesakes for k in f))
        differs[name] = [k for k in keys if len({_text(f, k) for f in namesakes}) > 1]
    found = []
    for number, (name, flat) in enumerate(zip(names, flats, strict=True)):
        differing = [k for k in differs[name] if k in flat]
        shown = [f"{k}={_text(flat, k)}" for k in differing if not k.startswith("provenance")]
        if any(k.startswith("provenance") for k in differing):
            shown.append(f"agent {group_key(experiments[number])[:6]}")
        found.append(f"{name}: {', '.join(shown)}" if shown else name)
    return found


def _text(flat: dict[str, Any], key: str) -> str | None:
    """The value `flat` sets at `key` as a label shows it (None: it sets none)."""
    if key not in flat:
        return None
    value = flat[key]  # as a config writes it: true, not Python's True
    return json.dumps(value) if isinstance(value, dict | list | bool) else str(value)


@dataclass
class Group:
    """The runs of one experiment, and the statistics across its scored runs."""

    key: str
    label: str
    members: list[Member]
    scored: list[Member]  # completed, one per seed
    iqm: Estimate = field(default_factory=lambda: Estimate(None))
    mean: Estimate = field(default_factory=lambda: Estimate(None))

    @property
    def run_scores(self) -> np.ndarray:
        return np.array([m.score for m in self.scored], dtype=float)

    @property
    def no_score(self) -> str | None:
        """Why it has no run to score, in words (None when it has one): see `no_score`."""
        return None if self.scored else no_score(self.members)

    @property
    def reward_boundary(self) -> float | None:
        """The reward boundary its runs were judged against (part of the config they share)."""
        return reward_boundary(self.members[0].config)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "runs": [m.run for m in self.members],
            "scored_runs": [m.run for m in self.scored],
            "run_scores": self.run_scores.tolist(),
            "reward_boundary": self.reward_boundary,
            "iqm": self.iqm.to_json(),
            "mean": self.mean.to_json(),
        }


@dataclass
class Comparison:
    """The groups of one environment, best IQM first; P(row > column) with its interval
    for the first `MATRIX_GROUPS` of them, and the performance profiles of every group with
    several runs (a single run has no spread to profile; all groups when none has)."""

    env: str
    groups: list[Group]
    improvement: list[list[Estimate | None]]  # None on the diagonal
    profiled: list[Group]  # the scored groups with several runs (or all scored)
    profiles: list[Profile]
    score: str = REWARD  # what a run scores: the reward or a metric's name (its mean)

    @property
    def score_label(self) -> str:
        """What a run's score is, in words."""
        return run_score_label(self.score)

    @property
    def compared(self) -> list[Group]:
        return self.groups[: len(self.improvement)]

    @property
    def boundaries_differ(self) -> bool:
        """Whether its groups were judged against different reward boundaries (then a
        table of them shows each group's)."""
        return len({g.reward_boundary for g in self.groups}) > 1

    def to_json(self, curve: Callable[[Profile], Any] = Profile.to_json) -> dict[str, Any]:
        """As JSON, each profile's curve made by `curve` (`Profile.arrays` for orjson): its
        `head_json`, every group, and its `tail_json` (a board writes the groups one by one
        between the two: they list every run)."""
        groups = {"groups": [g.to_json() for g in self.groups]}
        return self.head_json() | groups | self.tail_json(curve)

    def head_json(self) -> dict[str, Any]:
        """What its JSON says before the groups: the environment, the score, the statistics."""
        return {
            "env": self.env,
            "score": self.score,
            "statistics": {
                "run_score": f"{self.score_label} of a completed run",
                "iqm": "scipy.stats.trim_mean(run scores, 0.25)",
                "interval": f"stratified percentile bootstrap {GROUP_INTERVAL}, "
                f"{scores.GROUP_RESAMPLES} resamples, seed {scores.SEED}, 95%",
                "improvement_and_profile_interval": "percentile bootstrap, "
                f"{scores.PAIR_RESAMPLES} resamples, seed {scores.SEED}, 95%",
                "improvement": "P(a run of the row's group scores higher than one of the "
                "column's), ties a half",
            },
        }

    def tail_json(self, curve: Callable[[Profile], Any] = Profile.to_json) -> dict[str, Any]:
        """What its JSON says after the groups: the improvement matrix and the profiles."""
        compared = self.compared
        return {
            "improvement": {
                "groups": [g.key for g in compared],
                "matrix": [
                    [None if e is None else e.to_json() for e in row] for row in self.improvement
                ],
            },
            "profiles": {
                "groups": [g.key for g in self.profiled],
                "curves": [curve(p) for p in self.profiles],
            },
        }


def run_score_label(score: str) -> str:
    """A run's score in words.

    >>> run_score_label("reward"), run_score_label("is_success"), run_score_label("distance")
    ('mean episode reward', 'success rate', 'mean distance per episode')
    """
    if score == REWARD:
        return "mean episode reward"
    return "success rate" if score == SUCCESS else f"mean {score} per episode"


def score_name(score: str, runs: Sequence[StoredRun]) -> str:
    """The score `score` names for `runs`: ``reward``, or a metric some run recorded
    (``success`` is ``is_success``); anything else is an `UnknownNameError` naming what
    the runs have."""
    if score == REWARD:
        return REWARD
    names = list(dict.fromkeys(name for run in runs for name in run.summary.metrics))
    found = metric_named(score, names)
    if found is not None:
        return found
    aliases = [SUCCESS_ALIAS] if SUCCESS in names else []
    have = ", ".join([REWARD, *(f"{n} ({SUCCESS_ALIAS})" if n == SUCCESS else n for n in names)])
    given = wording().valued("score", score)  # a library call's argument, or --score
    raise UnknownNameError(
        f"{given}: the runs recorded no metric {score!r}"
        f"{did_you_mean(score, [REWARD, *names, *aliases])} (they have: {have})"
    )


def scored_runs(members: Sequence[Member]) -> list[Member]:
    """The completed runs with a score, one per seed: the newest (runs of one config and
    seed repeat each other exactly, and would count twice)."""
    newest: dict[str, Member] = {}
    for member in sorted(members, key=lambda m: m.started_at or ""):
        if member.status == "completed" and member.score is not None:
            newest[repr(member.seed)] = member  # (a seed in a config may be a list)
    return sorted(newest.values(), key=lambda m: m.started_at or "")


def no_score(members: Sequence[Member]) -> str:
    """Why `members` give no score, in words: none completed, or those that did had no
    episode with a finite value to score (every reward NaN, say, or no episode with the
    metric compared), which is not the same as never finishing.

    >>> run = Member("r", {"env": {"id": "CartPole-v1"}}, "completed", None)
    >>> no_score([run, run])
    '2 completed runs, none with a score: no episode had a finite value'
    >>> no_score([])
    'no completed run'
    """
    return unscored(sum(m.status == "completed" for m in members))


def unscored(completed: int) -> str:
    """`no_score`'s words for `completed` runs that completed without a score."""
    if not completed:
        return "no completed run"
    runs = counted(completed, "completed run")
    return f"{runs}, none with a score: no episode had a finite value"


def partly_scored(runs: Sequence[tuple[str, int, int]], shown: int = 5) -> str | None:
    """A note naming the runs scored on some of their episodes: those of `runs` (each its
    name, its episodes and how many had a NaN or infinite reward) with episodes of both
    kinds, whose mean reward leaves the non-finite ones out (None when there are none). A
    run that diverged now and then scores as if it had not: the reader should know.

    >>> partly_scored([("a", 8, 2), ("b", 8, 0), ("c", 8, 8)])
    '1 run scored without its episodes of NaN or infinite reward: a (2 of 8 episodes)'
    """
    partly = [(name, count, bad) for name, count, bad in runs if 0 < bad < count]
    if not partly:
        return None
    named = ", ".join(
        f"{name} ({bad} of {counted(count, 'episode')})" for name, count, bad in partly[:shown]
    )
    more = f", and {len(partly) - shown} more" if len(partly) > shown else ""
    their = "its" if len(partly) == 1 else "their"
    return (
        f"{counted(len(partly), 'run')} scored without {their} episodes of NaN or infinite "
        f"reward: {named}{more}"
    )


def compare(
    members: Sequence[Member], cache: Statistics | None = None, score: str = REWARD
) -> list[Comparison]:
    """Group `members` by experiment and compare the groups of each environment, on the
    members' scores (`score` says what they are: the reward, or a metric's name).

    `cache` keeps each statistic by its inputs (a board keeps them between builds, so only
    the groups a new run joined are resampled): each one used is put there.

    >>> def run(eps, seed, score):
    ...     config = {"name": "x", "env": {"id": "CartPole-v1"}, "epsilon": eps, "seed": seed}
    ...     return Member(f"{eps}-{seed}", config, "completed", score)
    >>> [c] = compare([run(0.5, s, 13.0 + s) for s in range(3)] + [run(0.2, 0, 10.0)])
    >>> [(g.label, g.iqm.value) for g in c.groups]
    [('x: epsilon=0.5', 14.0), ('x: epsilon=0.2', 10.0)]
    >>> c.improvement[0][1].value, c.improvement[1][0].value
    (1.0, 0.0)
    """
    by_env: dict[str, dict[str, list[Member]]] = {}
    for member in members:
        key = member.key or group_key(member.config, member.provenance)
        by_env.setdefault(member.env, {}).setdefault(key, []).append(member)
    memo = _Memo({} if cache is None else cache)
    return [_comparison(env, groups, memo, score) for env, groups in sorted(by_env.items())]


class Statistics(Protocol):
    """Where statistics are kept by their inputs, in JSON form, between comparisons (a
    board keeps them in its record, so only the groups a new run joined are resampled)."""

    def get(self, key: str) -> Any: ...

    def __setitem__(self, key: str, value: Any) -> None: ...


class _Memo:
    """Statistics by their inputs, in JSON form: each one taken from `cache` if it holds
    it, and put there (again) when used."""

    def __init__(self, cache: Statistics) -> None:
        self.cache = cache

    def _get(self, key: str) -> Any:
        return self.cache.get(key)

    def estimate(self, kind: str, compute: Any, *samples: np.ndarray) -> Estimate:
        key = _key(kind, *samples)
        found = self._get(key)
        value = Estimate.from_json(found) if found is not None else compute(*samples)
        self.cache[key] = value.to_json()
        return value

    def estimates(
        self, kinds: tuple[str, ...], compute: Any, sample: np.ndarray
    ) -> tuple[Estimate, ...]:
        """Several statistics of one sample computed together (from the same resamples),
        each kept by its own key."""
        keys = [_key(kind, sample) for kind in kinds]
        found = [self._get(key) for key in keys]
        known = None not in found
        values = tuple(Estimate.from_json(f) for f in found) if known else compute(sample)
        for key, value in zip(keys, values, strict=True):
            self.cache[key] = value.to_json()
        return tuple(values)

    def profile(self, sample: np.ndarray, tau: np.ndarray, thresholds: str) -> Profile:
        """The profile of `sample` at `tau`, whose digest is `thresholds` (every profile of
        a comparison shares them: they are neither in each one's key nor kept with it)."""
        key = f"{_key('profile', sample)}:{thresholds}"
        found = self._get(key)
        if found is not None:
            value = Profile.from_json(found | {"tau": tau})
        else:
            value = scores.performance_profile(sample, tau)
        self.cache[key] = {k: v for k, v in value.to_json().items() if k != "tau"}
        return value


def _key(kind: str, *samples: np.ndarray) -> str:
    """A statistic's key: its kind and a digest of its inputs' numbers as text (repr: a
    board makes thousands of keys at each build, and JSON would be no more exact; a digest:
    the keys of a board's groups are kept, whatever the size of each group).

    >>> _key("iqm", np.array([1.0, 2.5]))
    'iqm:efe33d44366b9fb0a24324a6'
    """
    text = repr([sample.tolist() for sample in samples])
    return f"{kind}:{hashlib.sha1(text.encode()).hexdigest()[:24]}"


def _comparison(
    env: str, grouped: dict[str, list[Member]], memo: _Memo, score: str = REWARD
) -> Comparison:
    keys = list(grouped)
    names = labels([experiment(g[0].config, g[0].provenance) for g in grouped.values()])
    groups = []
    for key, label in zip(keys, names, strict=True):
        group = Group(key, label, grouped[key], scored_runs(grouped[key]))
        if group.scored:
            group.iqm, group.mean = memo.estimates(
                ("iqm", "mean"), scores.iqm_and_mean, group.run_scores
            )
        groups.append(group)
    groups.sort(key=_rank)
    with_scores = [g for g in groups if g.scored]
    compared = with_scores[:MATRIX_GROUPS]
    improvement: list[list[Estimate | None]] = [[None] * len(compared) for _ in compared]
    for i, a in enumerate(compared):
        for j in range(i + 1, len(compared)):
            estimate = memo.estimate(
                "improvement",
                scores.probability_of_improvement,
                a.run_scores,
                compared[j].run_scores,
            )
            improvement[i][j], improvement[j][i] = estimate, estimate.complement()
    profiled = [g for g in with_scores if len(g.scored) > 1] or with_scores
    tau = scores.profile_thresholds([g.run_scores for g in profiled])
    thresholds = hashlib.sha1(repr(tau.tolist()).encode()).hexdigest()
    profiles = [memo.profile(g.run_scores, tau, thresholds) for g in profiled]
    return Comparison(env, groups, improvement, profiled, profiles, score)


def _rank(group: Group) -> tuple[float, float, str]:
    iqm, mean = group.iqm.value, group.mean.value
    return (
        -(iqm if iqm is not None else -np.inf),
        -(mean if mean is not None else -np.inf),
        group.label,
    )


def stored_member(run: StoredRun, score: str = REWARD) -> Member:
    """A run read back from disk (see `gymrun.records.reading`) as a member of its group,
    scored by its mean reward or by the mean of metric `score` (None without one)."""
    provenance = None if run.meta is None else run.meta.get("agent")
    if score == REWARD:
        value = run.summary.mean_reward
    else:
        metric = run.summary.metrics.get(score)
        value = None if metric is None else metric.mean
    return Member(str(run.directory), run.config, run.status, value, run.started_at, provenance)
