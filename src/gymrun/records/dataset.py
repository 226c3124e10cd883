"""Minari datasets: a run's episodes written step by step as a Minari dataset (the one
writer), and any Minari dataset's episodes read back as returns and lengths (the one
reader, for ``gymrun show`` and ``compare``).

A dataset lives where Minari keeps them: ``$MINARI_DATASETS_PATH/ID``, by default
``~/.minari/datasets/ID``. It is written with Minari's own storage, in a hidden directory
beside it (which Minari does not list), and renamed into place when the run ends, however it
ends: a dataset Minari can open always holds whole episodes, the first ones of the run, in
order. A process killed outright leaves only the hidden directory, removed by the next run
of the same ID.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gymrun.components.extras import install_command
from gymrun.components.reference import shipped_references
from gymrun.config.wording import wording
from gymrun.core.episodes import EpisodeBatch, EpisodeResult
from gymrun.core.plan import RunPlan
from gymrun.core.transitions import Transitions
from gymrun.errors import NotInstalledError, RecordError, ResumeRefused, UsageError
from gymrun.numbers import counted
from gymrun.version import __version__

PREFIX = "minari:"  # names a dataset by its ID where a path is expected
DATA_DIR = "data"  # a dataset's directory holds its data here (Minari's layout)
METADATA_FILE = "metadata.json"
_PARTIAL = ".partial-"  # a dataset being written: ``.NAME-vN.partial-PID``


def minari_package() -> Any:
    """Minari, with the HDF5 storage gymrun writes; or a `NotInstalledError` saying how to
    install it."""
    try:
        import h5py  # noqa: F401  # Minari's HDF5 storage, imported when first used
        import minari
    except ImportError as exc:
        raise NotInstalledError(
            f"writing or reading a Minari dataset needs {exc.name or 'minari'}, which is not "
            f"installed: {install_command('gymrun[minari]')}"
        ) from None
    return minari


def datasets_root() -> Path:
    """Where Minari keeps datasets: ``$MINARI_DATASETS_PATH``, else ``~/.minari/datasets``."""
    given = os.environ.get("MINARI_DATASETS_PATH")
    return Path(given) if given else Path.home() / ".minari" / "datasets"


def dataset_path(dataset_id: str) -> Path:
    """The directory of the dataset `dataset_id` (it may not exist)."""
    return datasets_root() / dataset_id


@dataclass(frozen=True)
class DatasetTarget:
    """The dataset a run writes: its ID and directory; `kept` episodes already in it (a
    resumed run's); `replace`: an existing dataset of that ID is replaced at the end."""

    dataset_id: str
    path: Path
    kept: int = 0
    replace: bool = False


def claim_dataset(
    plan: RunPlan, *, replace: bool = False, kept: int = 0, started_for: int | None = None
) -> DatasetTarget:
    """The dataset the run of `plan` writes, checked before anything runs: Minari is
    installed, and no dataset of that ID exists (unless `replace`). A resumed run with
    `kept` episodes continues its own dataset, which must hold exactly those (written with
    `started_for` episodes in its config, for a run that goes on to more)."""
    dataset_id = plan.config.record.dataset
    assert dataset_id is not None
    minari_package()
    path = dataset_path(dataset_id)
    _remove_stale_partials(path)
    exists = os.path.lexists(path)
    if kept:
        where = f"dataset {dataset_id}"
        if not exists:
            raise ResumeRefused(
                f"{where} ({path}) is gone, so the run's first {kept} episodes are not in a "
                "dataset; run it again"
            )
        metadata = _metadata(path / DATA_DIR, where, ResumeRefused)
        config = metadata.get("gymrun", {}).get("config")
        wanted = plan.config.to_json()
        if started_for is not None:
            wanted["episodes"] = started_for
        if config != json.loads(json.dumps(wanted)):
            raise ResumeRefused(f"{where} at {path} was not written by this run; run it again")
        if metadata.get("total_episodes") != kept:
            raise ResumeRefused(
                f"{where} at {path} holds {metadata.get('total_episodes')} episodes, not the "
                f"{kept} the run recorded; run it again"
            )
        return DatasetTarget(dataset_id, path, kept, replace=True)
    if exists:
        if not replace:
            forcing = wording().setting("replace_dataset", True)  # run_experiment's
            exists_already = UsageError(
                f"dataset {dataset_id} exists already ({path}); give another name or "
                f"version, or {forcing} to replace it",
                key=("record", "dataset"),
            )
            raise plan.config.placed(exists_already)  # the file's line, or --dataset
        if not os.path.isfile(path / DATA_DIR / METADATA_FILE):
            not_one = UsageError(
                f"{path} is not a Minari dataset; it is not replaced", key=("record", "dataset")
            )
            raise plan.config.placed(not_one)
    return DatasetTarget(dataset_id, path, replace=exists)


class DatasetWriter:
    """Writes the run of `plan` into `target` with Minari's storage: `add` each batch of
    episodes (in index order, with their steps) as it finishes, `close` at the end, which
    puts the dataset in place (or leaves none, when no episode was written). Memory holds
    a batch at a time."""

    def __init__(self, plan: RunPlan, target: DatasetTarget) -> None:
        self.plan, self.target = plan, target
        self.count = target.kept  # episodes in the dataset
        self.steps = 0
        self._storage: Any = None
        self._partial: Path | None = None

    def add(self, batch: Sequence[EpisodeResult]) -> None:
        """Episodes that finished, in order; a resumed run's kept episodes (already in the
        dataset, without their steps) are passed over."""
        if not len(batch):
            return
        if not isinstance(batch, EpisodeBatch) or batch.transitions is None:
            first = batch[0].episode
            if first + len(batch) <= self.count:
                return
            raise RecordError(f"episodes from {first} came without their steps")
        transitions, first = batch.transitions, int(batch.episode[0])
        if first != self.count:
            raise RecordError(f"episode {first} came where {self.count} was awaited")
        from minari.data_collector.episode_buffer import EpisodeBuffer

        storage = self._open(transitions[0])
        seeds = [None] * len(batch) if batch.seed is None else batch.seed.tolist()
        buffers = [
            EpisodeBuffer(
                seed=seed,
                observations=steps.observations,
                actions=steps.actions,
                rewards=steps.rewards,
                terminations=steps.terminations,
                truncations=steps.truncations,
            )
            for seed, steps in zip(seeds, transitions, strict=True)
        ]
        storage.update_episodes(buffers)
        self.count += len(buffers)
        self.steps += sum(len(steps) for steps in transitions)

    def close(self, status: str) -> list[str]:
        """Put the dataset in place with the episodes written; notes for the user."""
        target = self.target
        if self._storage is None:
            if not target.kept:
                return [f"dataset {target.dataset_id}: no episode finished; none was written"]
            return []  # a resumed run that played nothing more: the dataset is as it was
        storage, partial = self._storage, self._partial
        assert partial is not None
        storage.update_metadata({"dataset_size": storage.get_size()})
        _namespace(target.dataset_id)
        _put_in_place(partial, target.path, replace=target.replace)
        self._storage = self._partial = None
        held = (
            counted(self.count, "episode")
            if status == "completed"
            else f"the {counted(self.count, 'episode')} that finished"
        )
        return [f"dataset {target.dataset_id} written: {held}, in {target.path}"]

    def discard(self) -> None:
        """Leave no trace of a dataset that could not be written whole."""
        if self._partial is not None:
            shutil.rmtree(self._partial, ignore_errors=True)
        self._storage = self._partial = None

    def _open(self, first: Transitions) -> Any:
        """The storage being written, made at the first episode, with its spaces (for a
        resumed run, a copy of its dataset)."""
        if self._storage is not None:
            return self._storage
        minari = minari_package()
        from minari.dataset.minari_storage import MinariStorage

        target = self.target
        target.path.parent.mkdir(parents=True, exist_ok=True)
        partial = target.path.parent / f".{target.path.name}{_PARTIAL}{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        self._partial = partial
        if target.kept:
            shutil.copytree(target.path, partial)
            self._storage = MinariStorage.read(partial / DATA_DIR)
            return self._storage
        partial.mkdir()
        storage = MinariStorage.new(
            partial / DATA_DIR,
            observation_space=first.observation_space,
            action_space=first.action_space,
            env_spec=env_spec(self.plan),
            data_format="hdf5",
            jpeg_encoding=False,  # what the agent saw, bit for bit
        )
        storage.update_metadata(dataset_metadata(self.plan, target.dataset_id, minari.__version__))
        self._storage = storage
        return storage


def env_spec(plan: RunPlan) -> Any:
    """The registered spec of the run's environment with the config's keywords and step
    limit: ``gymnasium.make(spec)`` makes it (the wrapper stack is in gymrun's config).
    None when its JSON cannot hold it (an entry point given as a class, say): the dataset
    then has its spaces alone, as Minari allows."""
    config = plan.config
    limit = config.env.max_episode_steps or plan.spec.max_episode_steps
    spec = dataclasses.replace(
        plan.spec, kwargs={**plan.spec.kwargs, **config.env.kwargs}, max_episode_steps=limit
    )
    try:
        spec.to_json()
    except (TypeError, ValueError):
        return None
    return spec


def dataset_metadata(plan: RunPlan, dataset_id: str, minari_version: str) -> dict[str, Any]:
    """What a dataset says of itself in Minari's metadata: its ID, the agent as its
    algorithm, a description, the task's reference scores where gymrun ships them, and
    under ``gymrun`` the version, the run's config (running it repeats the dataset) and the
    agent's provenance."""
    config = plan.config
    metadata: dict[str, Any] = {
        "dataset_id": dataset_id,
        "minari_version": minari_version,
        "algorithm_name": f"gymrun agent {config.agent.name}",
        "description": (
            f"{config.episodes} episodes of agent {config.agent.name} on {config.env.id}, "
            f"seed {plan.seed}, played by gymrun {__version__}; gymrun.config runs it again"
        ),
        "gymrun": {
            "version": __version__,
            "config": config.to_json(),
            "provenance": plan.provenance,
        },
    }
    reference = shipped_references().get(config.env.id)
    if reference is not None and not config.wrapper_stack:
        metadata["ref_min_score"] = reference.random.score
        metadata["ref_max_score"] = reference.reference.score
    return metadata


def _namespace(dataset_id: str) -> None:
    """Mark the dataset's namespace as Minari does when it writes one (a file of its own
    in the namespace's directory)."""
    namespace, _, _ = dataset_id.rpartition("/")
    if namespace:
        from minari.namespace import create_namespace, list_local_namespaces

        if namespace not in list_local_namespaces():
            create_namespace(namespace)


def _put_in_place(partial: Path, path: Path, *, replace: bool) -> None:
    """Rename the written dataset `partial` to `path`; with `replace`, the dataset there
    gives way (moved aside first, so that `path` holds one or the other, never neither
    half)."""
    if replace and os.path.lexists(path):
        aside = path.parent / f".{path.name}.replaced-{os.getpid()}"
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(path, aside)
        os.rename(partial, path)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.rename(partial, path)


def _remove_stale_partials(path: Path) -> None:
    """Remove what a run of this dataset killed outright left (its process is gone)."""
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            name = entry.name
            prefix = f".{path.name}{_PARTIAL}"
            if name.startswith(prefix) and not _alive(name.removeprefix(prefix)):
                shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: str) -> bool:
    if not pid.isdigit():
        return True  # not ours to remove
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


# -- reading --------------------------------------------------------------------------------


def dataset_dir(given: Path | str) -> Path | None:
    """The data directory of the Minari dataset `given` names: ``minari:ID``, a dataset's
    directory, or its data directory; None when it names none."""
    text = str(given)
    if text.startswith(PREFIX):
        dataset_id = text.removeprefix(PREFIX)
        path = dataset_path(dataset_id)
        if not os.path.isfile(path / DATA_DIR / METADATA_FILE):
            raise RecordError(f"{text}: no Minari dataset {dataset_id} in {datasets_root()}")
        return path / DATA_DIR
    path = Path(given)
    if os.path.isfile(path / DATA_DIR / METADATA_FILE):
        return path / DATA_DIR
    if path.name == DATA_DIR and os.path.isfile(path / METADATA_FILE):
        return path
    return None


@dataclass(frozen=True)
class StoredDataset:
    """A Minari dataset read back: its directory and metadata (JSON, as on disk), and the
    config of the run that wrote it (gymrun's), or one made from its metadata."""

    directory: Path
    metadata: dict[str, Any]
    config: dict[str, Any]
    gymrun: bool  # written by gymrun


def read_dataset(data_dir: Path) -> StoredDataset:
    """The dataset in `data_dir` (see `dataset_dir`)."""
    metadata = _metadata(data_dir, str(data_dir.parent), RecordError)
    written = metadata.get("gymrun")
    config = written.get("config") if isinstance(written, dict) else None
    if isinstance(config, dict):
        return StoredDataset(data_dir.parent, metadata, config, True)
    dataset_id = str(metadata.get("dataset_id", data_dir.parent.name))
    env_id = dataset_id
    with contextlib.suppress(TypeError, ValueError):
        env_id = json.loads(metadata["env_spec"])["id"]
    config = {
        "name": dataset_id,
        "env": {"id": env_id},
        "agent": {"name": str(metadata.get("algorithm_name") or "unknown")},
        "wrappers": [],
        "episodes": metadata.get("total_episodes"),
        "seed": None,
        "reward_boundary": None,
    }
    return StoredDataset(data_dir.parent, metadata, config, False)


def dataset_episodes(data_dir: Path, boundary: float | None) -> Iterator[EpisodeBatch]:
    """The dataset's episodes in order, in batches: each one's return (its rewards summed),
    length, how it ended and its seed; nothing else of its steps is kept."""
    minari = minari_package()
    try:
        dataset = minari.MinariDataset(data_dir)
        seeds = [
            episode.get("seed")
            for episode in dataset.storage.get_episode_metadata(dataset.episode_indices)
        ]
        rows: list[EpisodeResult] = []
        for number, (episode, seed) in enumerate(
            zip(dataset.iterate_episodes(), seeds, strict=True)
        ):
            rows.append(
                EpisodeResult(
                    number,
                    None if seed is None else int(seed),
                    float(np.sum(episode.rewards, dtype=np.float64)),
                    len(episode.rewards),
                    bool(len(episode.terminations) and episode.terminations[-1]),
                    bool(len(episode.truncations) and episode.truncations[-1]),
                    None,
                    float("nan"),
                )
            )
            if len(rows) == 1024:
                yield EpisodeBatch.of(rows, boundary)
                rows = []
        if rows:
            yield EpisodeBatch.of(rows, boundary)
    except (OSError, ValueError, KeyError, AssertionError) as exc:
        raise RecordError(f"{data_dir.parent}: cannot read the dataset ({exc})") from None


def _metadata(data_dir: Path, where: str, error: type[RecordError]) -> dict[str, Any]:
    try:
        with open(data_dir / METADATA_FILE, encoding="utf-8") as file:
            metadata = json.load(file)
    except (OSError, ValueError) as exc:
        raise error(f"{where}: cannot read its {METADATA_FILE} ({exc})") from None
    if not isinstance(metadata, dict):
        raise error(f"{where}: its {METADATA_FILE} is not a Minari dataset's")
    return metadata
